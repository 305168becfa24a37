"""Delayed jobs resume within seconds after Redis is killed and restarted (issue 17, finding 11).

RQ's scheduler runs in a process the worker forks; a Redis outage kills it (its heartbeat
raises), and RQ itself starts it again only at its 10-minute maintenance interval, so a
webhook retry waiting in ``rq:scheduled:*`` stalled for up to ten minutes. The worker's own
ticker (core.jobs) now restarts it within a second or two.

The test uses a private redis-server with an append-only file (fsync always), so the
scheduled retry survives the SIGKILL exactly as it would on a production Redis with
persistence; without persistence RQ's state is gone and the webhooks reaper re-enqueues the
message instead (tests/plugins/webhooks/test_at_least_once.py).
"""
from __future__ import annotations

import os
import signal
import time

import pytest
import redis

from core.events import emit
from core.services import find_binary, free_port, ServiceProcess
from core.testing import make_test_app, write_ini
from plugins.webhooks.secrets import SecretBox
from tests.plugins.webhooks.helpers import PLUGINS, WorkerProcess, messages_of, register, wait_until
from tests.support.receiver import Receiver

RETRY_DELAY = 3  # seconds: webhooks.schedule; the job is due 1 s later (whole-second rounding)
OUTAGE = 4.0  # seconds Redis stays down: longer than redis-py's own reconnect retries
QUEUE = "interviewminds.webhooks"


def persistent_redis(workdir, port) -> ServiceProcess:
    workdir.mkdir(parents=True, exist_ok=True)
    argv = [find_binary("redis-server"), "--bind", "127.0.0.1", "--port", str(port), "--save", "",
            "--appendonly", "yes", "--appendfsync", "always", "--dir", str(workdir),
            "--protected-mode", "yes"]
    return ServiceProcess("redis", port, workdir, argv)


@pytest.fixture
def private_redis(tmp_path):
    service = persistent_redis(tmp_path / "redis", free_port()).start()
    yield service
    service.stop()


def test_a_scheduled_webhook_retry_is_delivered_within_its_delay_plus_10s_after_a_redis_restart(
        private_redis, test_settings, tmp_path):
    settings = dict(test_settings)
    settings.update({
        "interviewminds.plugins": PLUGINS,
        "interviewminds.redis.url": private_redis.url,
        "interviewminds.webhooks.encryption_key": SecretBox.generate_key(),
        "interviewminds.webhooks.schedule": f"{RETRY_DELAY}s",
        "interviewminds.webhooks.jitter": "0",
        "interviewminds.webhooks.timeout": "2",
        "interviewminds.webhooks.lease": "3",
        # The reaper would not touch a message whose job is scheduled anyway; keep it out of
        # the way so that only RQ's scheduler can deliver the retry.
        "interviewminds.webhooks.reaper_every": "3600",
        "interviewminds.ratelimit.enabled": "false",
    })
    app = make_test_app(dict(settings))
    owner = app.auth("alice", "candidate")
    client = redis.Redis.from_url(private_redis.url)
    worker = WorkerProcess(write_ini(tmp_path / "worker.ini", settings), tmp_path / "worker.log")
    try:
        with Receiver([500, 200]) as receiver:
            webhook = register(app, owner, receiver.url("/hook"))
            # The worker must hold RQ's scheduler lock before the outage, as in production.
            wait_until(lambda: client.exists(f"rq:scheduler-lock:{QUEUE}"), timeout=60,
                       what="the worker's scheduler to start")
            emit(app.registry, "interview.completed", {"n": 1, "ownerId": "alice"})
            receiver.wait_for(1, timeout=60)  # the first attempt fails with 500
            wait_until(lambda: client.zcard(f"rq:scheduled:{QUEUE}"), timeout=20,
                       what="the retry to be scheduled")
            scheduled_at = time.monotonic()

            os.kill(private_redis.proc.pid, signal.SIGKILL)
            private_redis.proc.wait(10)
            time.sleep(OUTAGE)
            private_redis.start()  # same port, same append-only file
            assert client.zcard(f"rq:scheduled:{QUEUE}") == 1, "the scheduled retry did not survive"

            deadline = scheduled_at + RETRY_DELAY + 1 + 10
            try:
                receiver.wait_for(2, timeout=max(0.0, deadline - time.monotonic()))
                print(f"retry delivered {time.monotonic() - scheduled_at:.1f} s after it was scheduled")
            except AssertionError:
                pytest.fail(f"the retry was not delivered within {RETRY_DELAY} s + 10 s after the restart "
                            f"(still scheduled: {client.zcard(f'rq:scheduled:{QUEUE}')}, scheduler lock: "
                            f"{client.exists(f'rq:scheduler-lock:{QUEUE}')})\n{worker.output()[-3000:]}")
        wait_until(lambda: messages_of(webhook)[0].status == "succeeded", timeout=20,
                   what="the message to be recorded as delivered")
    finally:
        worker.stop()


def test_the_worker_starts_again_when_a_redis_error_ends_rqs_loop(make_app, monkeypatch):
    # RQ's loop reconnects only while it waits for a job: a Redis error anywhere else (its
    # heartbeat right after a job, as when Redis dies just then) ends `work()`, and its teardown
    # may raise too. run_worker waits for Redis and starts a new worker; a stop signal ends it.
    from core import jobs

    registry = make_app().registry
    calls, cleaned = [], []

    def work(self, burst=False, with_scheduler=True):
        calls.append(self)
        if len(calls) == 1:
            raise redis.exceptions.ConnectionError("Connection refused")  # from RQ's teardown
        if len(calls) == 2:
            return True  # RQ logged "found an unhandled exception, quitting..."
        self.shutdown_requested = True  # SIGTERM
        return False

    monkeypatch.setattr(jobs.SchedulingWorker, "work", work)
    monkeypatch.setattr(jobs.SchedulingWorker, "clean_up_after_outage", lambda self: cleaned.append(self))
    assert jobs.run_worker(registry, tick=0.05) is False
    assert len(calls) == 3 and len(set(map(id, calls))) == 3  # a new worker each time
    assert cleaned == calls[:2]
