"""Webhook delivery throughput: 1 and 2 worker processes against a plain loop of HTTP POSTs.

Everything runs on this machine: a private Redis and FerretDB in a temp dir, a loopback
receiver answering 200, and real ``interviewminds worker`` processes. One run stores N
messages, enqueues their deliveries and times until every one is ``succeeded`` in MongoDB
(claim, signed POST, attempt record and status update each). The baseline is a loop of N
``http.client`` POSTs of the same signed body to the same receiver, in this process.

Run from the repository root: ``.venv/bin/python scripts/bench/bench_webhooks.py [--n 300] [--runs 3]``.
"""
from __future__ import annotations

import argparse
import http.client
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from rq import Worker  # noqa: E402

from core.app import build_config  # noqa: E402
from core.services import ferretdb_process, redis_process  # noqa: E402
from core.storage import migrate  # noqa: E402
from core.testing import write_ini  # noqa: E402
from plugins.webhooks.models import Endpoint, Message, StoredSecret  # noqa: E402
from plugins.webhooks.secrets import SecretBox  # noqa: E402
from plugins.webhooks.services import create_message, enqueue_delivery  # noqa: E402
from plugins.webhooks.signing import build_headers, generate_secret, payload  # noqa: E402
from tests.support.receiver import Receiver  # noqa: E402
from core.lookup import find_service

DATA = {"interviewId": "iv-bench", "score": 91, "summary": "x" * 200}


def app_settings(var: Path, mongo_url: str, redis_url: str) -> dict:
    return {
        "interviewminds.env": "test",
        "interviewminds.plugins": "webhooks",
        "interviewminds.var_dir": str(var),
        "interviewminds.mongo.uri": mongo_url.rstrip("/") + "/bench_webhooks",
        "interviewminds.redis.url": redis_url,
        "interviewminds.outbound.allow_cidrs": "127.0.0.0/8",
        "interviewminds.ratelimit.enabled": "false",
        "interviewminds.webhooks.encryption_key": SecretBox.generate_key(),
        "interviewminds.webhooks.reaper_every": "3600",  # keep the reaper out of the timings
    }


def baseline(url_host: str, port: int, n: int, secret: str) -> float:
    """Deliveries per second of a bare loop: one http.client POST per message, no queue, no store."""
    body = payload("interview.completed", DATA, datetime.now(timezone.utc))
    headers = build_headers("msg_bench", datetime.now(timezone.utc), body, [secret])
    encoded = body.encode()
    started = time.perf_counter()
    for _ in range(n):
        conn = http.client.HTTPConnection(url_host, port, timeout=10)
        conn.request("POST", "/hook", body=encoded, headers=headers)
        response = conn.getresponse()
        response.read()
        assert response.status == 200
        conn.close()
    return n / (time.perf_counter() - started)


def start_workers(count: int, ini: Path, connection: redis.Redis, log: Path) -> list[subprocess.Popen]:
    before = len(Worker.all(connection=connection))
    procs = [subprocess.Popen([sys.executable, "-m", "core.cli", "worker", str(ini)], cwd=ROOT,
                              stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True)
             for _ in range(count)]
    deadline = time.monotonic() + 60
    while len(Worker.all(connection=connection)) < before + count:
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            raise SystemExit(f"workers did not start; see {log}")
        time.sleep(0.1)
    time.sleep(0.5)  # let their schedulers settle
    return procs


def stop_workers(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def delivery_run(registry, endpoint: Endpoint, receiver: Receiver, n: int) -> float:
    """Deliveries per second through the workers already running, for ``n`` new messages."""
    Message.objects.delete()
    already = len(receiver.requests)
    messages = [create_message(registry, endpoint, "interview.completed", DATA, enqueue=False)
                for _ in range(n)]
    started = time.perf_counter()
    for message in messages:
        enqueue_delivery(registry, message.id)
    deadline = time.monotonic() + 300
    while len(receiver.requests) < already + n:  # in-process: polling costs the store nothing
        if time.monotonic() > deadline:
            raise SystemExit(f"only {len(receiver.requests) - already} of {n} deliveries arrived")
        time.sleep(0.01)
    while Message.objects(status="succeeded").count() < n:  # the last status updates land
        if time.monotonic() > deadline:
            raise SystemExit("deliveries arrived but were not all recorded as succeeded")
        time.sleep(0.05)
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="messages per run")
    parser.add_argument("--runs", type=int, default=3, help="runs per configuration (median reported)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as tmp:
        base = Path(tmp)
        redis_service = redis_process(base / "redis").start()
        mongo_service = ferretdb_process(base / "ferretdb").start()
        try:
            settings = app_settings(base / "var", mongo_service.url, redis_service.url)
            ini = write_ini(base / "bench.ini", settings)
            config = build_config(settings)
            config.commit()
            registry = config.registry
            migrate(("plugins.webhooks",))  # the indexes production has
            connection = redis.Redis.from_url(redis_service.url)
            secret = generate_secret()
            results: dict[str, list[float]] = {"loop": [], "1 worker": [], "2 workers": []}
            with Receiver() as receiver:
                endpoint = Endpoint(owner="bench", url=receiver.url("/hook"), events=["interview.completed"],
                                    secrets=[StoredSecret(token=find_service(registry, "webhooks.config").box.encrypt(secret))])
                endpoint.save()
                for _ in range(args.runs):
                    results["loop"].append(baseline(receiver.host, receiver.port, args.n, secret))
                for count, name in ((1, "1 worker"), (2, "2 workers")):
                    workers = start_workers(count, ini, connection, base / "workers.log")
                    try:
                        for _ in range(args.runs):
                            results[name].append(delivery_run(registry, endpoint, receiver, args.n))
                    finally:
                        stop_workers(workers)
        finally:
            mongo_service.stop()
            redis_service.stop()

    loop = statistics.median(results["loop"])
    print(f"webhook deliveries to a loopback receiver, N={args.n} per run, median of {args.runs} runs "
          f"({os.cpu_count()} CPUs)")
    print(f"{'configuration':28} {'deliveries/s':>13} {'vs loop':>9}")
    for name, label in (("loop", "plain http.client POST loop"), ("1 worker", "1 worker process"),
                        ("2 workers", "2 worker processes")):
        rate = statistics.median(results[name])
        runs = ", ".join(f"{r:.0f}" for r in results[name])
        print(f"{label:28} {rate:13.1f} {rate / loop:9.3f}   (runs: {runs})")
    one, two = statistics.median(results["1 worker"]), statistics.median(results["2 workers"])
    print(f"2 workers / 1 worker: {two / one:.2f}x")


if __name__ == "__main__":
    main()
