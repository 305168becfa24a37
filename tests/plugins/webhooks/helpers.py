"""Helpers for webhooks tests (imported as ``tests.plugins.webhooks.helpers``)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from rq import SimpleWorker

from core.jobs import bind_worker, queues
from plugins.webhooks.models import Endpoint, Message
from core.lookup import REDIS, find_service

ROOT = Path(__file__).resolve().parents[3]
PLUGINS = "tests.support.local_plugins.event_source webhooks"
# Short timings so that retries, leases and the reaper act within seconds.
FAST = {
    "interviewminds.webhooks.schedule": "1s,1s,1s",
    "interviewminds.webhooks.jitter": "0",
    "interviewminds.webhooks.timeout": "2",
    "interviewminds.webhooks.lease": "3",
    "interviewminds.webhooks.reaper_every": "1",
    "interviewminds.ratelimit.enabled": "false",
    "interviewminds.jobs.retry_intervals": "1",
}


def full_key(key: str) -> str:
    return key if key.startswith("interviewminds.") else f"interviewminds.{key}"


def run_jobs(app) -> None:
    """Run every queued job in this process until the queues are empty (no scheduler:
    only retries with a zero delay run)."""
    registry = app.registry
    bind_worker(registry)
    SimpleWorker(queues(registry), connection=find_service(registry, REDIS)).work(burst=True)


class WorkerProcess:
    """``interviewminds worker CONFIG`` in its own process group (RQ forks a child per job)."""

    def __init__(self, ini: Path, log: Path, burst: bool = False):
        self.log = log
        argv = [sys.executable, "-m", "core.cli", "worker", str(ini)] + (["--burst"] if burst else [])
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def kill(self) -> None:
        """SIGKILL the worker and every process it forked, as when its machine dies.

        RQ runs each job in a forked "work horse" that moves to its own process group, so
        the whole tree is collected from /proc and killed, not just the worker's group.
        """
        for pid in [self.proc.pid] + descendants(self.proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.05, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def finished(msg_id: str, status: str = "succeeded"):
    """A predicate: the message ``msg_id`` has ``status``."""
    return lambda: Message.objects(msg_id=msg_id, status=status).first()


def register(app, headers, url, events=("interview.completed",), **extra) -> dict:
    """Register an endpoint over HTTP; returns the 201 body."""
    body = {"url": url, "events": list(events), **extra}
    return app.post_json("/api/webhooks/register", body, headers=headers, status=201).json


def stored_endpoint(webhook: dict) -> Endpoint:
    return Endpoint.objects(id=webhook["id"]).first()


def messages_of(webhook: dict) -> list[Message]:
    return list(Message.objects(endpoint=webhook["id"]).order_by("created_at"))
