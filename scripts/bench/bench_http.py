"""Full-stack overhead: GET /ping through every core tween against a bare Pyramid+waitress
JSON route, both served by waitress (4 threads) in their own processes, measured in one run.

The full stack is the real app (all first-party plugins enabled, correlation id, metrics,
audit, security headers, rate limiting against a real Redis); the bare app is Pyramid with
one JSON view. Clients use keep-alive connections from a thread pool; rounds alternate
between the two servers so machine load hits both alike. A second pair of numbers shows an
authenticated request (dev JWT verification + role lookup in FerretDB).

Run from the repository root: ``.venv/bin/python scripts/bench/bench_http.py [--requests 2000]``.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from core.services import ferretdb_process, free_port, redis_process, wait_for_port  # noqa: E402
from core.testing import ServedApp, base_settings, dev_token  # noqa: E402

BARE_APP = """
import logging
import waitress
from pyramid.config import Configurator

def ping(request):
    return {"status": "ok"}

with Configurator() as config:
    config.add_route("ping", "/ping")
    config.add_view(ping, route_name="ping", renderer="json")
    app = config.make_wsgi_app()
logging.getLogger("waitress.queue").setLevel(logging.ERROR)
waitress.serve(app, host="127.0.0.1", port=%d, threads=4, _quiet=True)
"""


def serve_bare() -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", BARE_APP % port])
    wait_for_port(port, proc)
    return proc, port


def run_round(port: int, path: str, headers: dict, requests: int, clients: int) -> tuple[float, list[float]]:
    """``requests`` GETs from ``clients`` keep-alive connections; returns (req/s, latencies in ms)."""
    per_client = requests // clients

    def client(_):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        latencies = []
        for _ in range(per_client):
            start = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{path} answered {response.status}")
            latencies.append((time.perf_counter() - start) * 1000)
        conn.close()
        return latencies

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(client, range(clients)))
    elapsed = time.perf_counter() - start
    latencies = [x for r in results for x in r]
    return len(latencies) / elapsed, latencies


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="im-bench-"))
    redis_service = redis_process(tmp / "redis").start()
    mongo = ferretdb_process(tmp / "ferret").start()
    settings = base_settings(redis_service.url, mongo.url + "bench", tmp / "var", **{
        "interviewminds.plugins": "interviews proctoring multimodal webhooks",
        # the bench measures overhead, not the limit: a tier far above what it sends
        "interviewminds.ratelimit.tiers_file": str(tmp / "tiers.toml"),
    })
    (tmp / "tiers.toml").write_text('[tiers]\ngeneral = "10000000/minute"\ngraphql = "10000000/minute"\n')
    bare_proc, bare_port = serve_bare()
    full = ServedApp(settings, threads=4)
    token = dev_token(settings, "bench-user", "candidate")
    auth = {"Authorization": f"Bearer {token}"}
    cases = {
        "bare pyramid+waitress GET /ping": (bare_port, "/ping", {}),
        "full stack GET /ping": (full.port, "/ping", {}),
        "full stack GET /api/csrf (rate-limited, anonymous)": (full.port, "/api/csrf", {}),
        "full stack GraphQL {me} with a dev JWT": (full.port, "/graphql?query=%7Bme%7BuserId%7D%7D", auth),
    }
    try:
        for port, path, headers in cases.values():  # warm up
            run_round(port, path, headers, 200, args.clients)
        results = {name: {"rps": [], "lat": []} for name in cases}
        for _ in range(args.rounds):
            for name, (port, path, headers) in cases.items():
                rps, latencies = run_round(port, path, headers, args.requests, args.clients)
                results[name]["rps"].append(rps)
                results[name]["lat"].extend(latencies)
    finally:
        full.stop()
        bare_proc.terminate()
        mongo.stop()
        redis_service.stop()

    base = statistics.median(results["bare pyramid+waitress GET /ping"]["rps"])
    base_p50 = statistics.median(results["bare pyramid+waitress GET /ping"]["lat"])
    print(f"{args.rounds} rounds x {args.requests} requests, {args.clients} keep-alive clients, waitress 4 threads")
    print(f"{'case':52} {'req/s (median)':>15} {'p50 ms':>8} {'p99 ms':>8} {'req/s ratio':>12} {'p50 ratio':>10}")
    for name, data in results.items():
        rps = statistics.median(data["rps"])
        p50 = statistics.median(data["lat"])
        print(f"{name:52} {rps:15.0f} {p50:8.2f} {pct(data['lat'], 99):8.2f} {rps / base:12.2f} {p50 / base_p50:10.2f}")


if __name__ == "__main__":
    main()
