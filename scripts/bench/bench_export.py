"""Streaming export of interviews: rows/s and memory of ``GET /api/export/interviews?format=csv``
through the WSGI app in process, against a baseline in the same run.

* Starts a private Redis and FerretDB (``core.services``) in a temp dir and bulk-inserts
  ``--n`` interviews (default 100 000; scored, completed, no conversation) with pymongo
  ``insert_many``.
* Baseline: a plain pymongo cursor over the same documents (same projection, hint and batch
  size) written with ``csv.writer`` to /dev/null: the floor any export over this store can reach.
* Export: the app (interviews plugin) called as WSGI, its ``app_iter`` consumed chunk by chunk
  and dropped, as a server would send it.
* Each runs in its own fresh Python process (so one's allocations do not hide the other's RSS),
  under ``tracemalloc``: the traced peak after the first tenth of the rows and after all of
  them (equal peaks = memory does not grow with the row count), RSS growth sampled every chunk
  (from just before the first row), wall time and the process's own CPU time (the rest of the
  wall time is FerretDB, which on 2 cores is the bottleneck).

Run from the repository root: ``.venv/bin/python scripts/bench/bench_export.py [--n 100000]``.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import pymongo  # noqa: E402
from bson import ObjectId  # noqa: E402

from plugins.interviews.export import PROJECTION  # noqa: E402

BATCH = 1000


def rss_bytes() -> int:
    """Resident set size now (Linux /proc)."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def make_docs(start: int, count: int, now: dt.datetime) -> list[dict]:
    docs = []
    for i in range(start, start + count):
        created = now - dt.timedelta(minutes=i)
        overall = float(i % 101)
        docs.append({
            "_id": ObjectId(), "owner": f"cand-{i % 5000}", "interviewers": [f"int-{i % 40}"],
            "title": f"Interview {i}" if i % 50 else f"=HYPERLINK(\"x\") {i}", "role": "Backend Engineer",
            "difficulty": ("easy", "medium", "hard")[i % 3], "status": "completed",
            # No conversation: the export's projection leaves it out, but FerretDB cannot push a
            # projection down and would read it anyway, doubling both runs' time (measured: 2
            # short messages per interview took 1.1-1.2k rows/s instead of about 2.5k).
            "messages": [],
            "scores": {"overall": overall, "competencies": [
                {"subject": s, "score": float(i % 11), "full_mark": 10.0} for s in ("SQL", "Python", "Design")]},
            "feedback": "Clear, structured answers, with examples." if i % 3 else None,
            "metadata": {}, "version": 4, "created_at": created, "updated_at": created, "started_at": created,
            "completed_at": created, "created_day": created.strftime("%Y-%m-%d"),
            "completed_day": created.strftime("%Y-%m-%d"), "score_bucket": min(int(overall) // 10 * 10, 90),
            "score_overall": overall,
        })
    return docs


def baseline_progress(uri: str):
    """Rows written so far, while a plain cursor's rows go to /dev/null as CSV (a generator)."""
    collection = pymongo.MongoClient(uri).get_default_database()["interviews_interviews"]

    def progress():
        with open(os.devnull, "w", newline="") as sink:
            writer = csv.writer(sink)
            rows = 0
            for raw in collection.find({}, PROJECTION, hint=[("_id", 1)], batch_size=BATCH):
                writer.writerow([raw.get(k) for k in PROJECTION])
                rows += 1
                if rows % 500 == 0:
                    yield rows
            yield rows

    return progress()


def export_progress(uri: str, redis_url: str, var_dir: str):
    """Rows sent so far, while the app's export body is consumed chunk by chunk (a generator).
    The app is built and the view called here; the rows are read as the body is consumed."""
    from webob import Request

    from core.testing import base_settings, make_test_app

    settings = base_settings(redis_url, uri, var_dir, **{"ratelimit.enabled": "false"})
    settings["interviewminds.plugins"] = "interviews"
    client = make_test_app(settings)
    request = Request.blank("/api/export/interviews?format=csv", headers=client.auth("bench-admin", "admin"))
    status, _headers, app_iter = request.call_application(client.app)
    assert status.startswith("200"), status

    def progress():
        lines = 0
        try:
            for chunk in app_iter:
                lines += chunk.count(b"\r\n")
                yield lines - 1  # the header line is not a row
        finally:
            app_iter.close()

    return progress()


def child(kind: str, uri: str, redis_url: str, var_dir: str, n: int, trace: bool = True) -> dict:
    """Measure one kind of run in this (fresh) process; returns the figures. Setup (imports,
    app, connections) happens before measuring. Without ``trace`` the peaks are 0."""
    progress = baseline_progress(uri) if kind == "baseline" else export_progress(uri, redis_url, var_dir)
    if trace:
        tracemalloc.start()
    rss_start = rss_peak = rss_bytes()
    wall, cpu = time.perf_counter(), time.process_time()
    rows, peak_tenth = 0, None
    for rows in progress:
        rss_peak = max(rss_peak, rss_bytes())
        if trace and peak_tenth is None and rows >= n // 10:
            peak_tenth = tracemalloc.get_traced_memory()[1]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    tracemalloc.stop()
    return {"rows": rows, "wall": wall, "cpu": cpu, "peak_tenth": peak_tenth or peak, "peak": peak,
            "rss_growth": rss_peak - rss_start, "rss_hwm": _vm_hwm()}


def _vm_hwm() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def measure(kind: str, uri: str, redis_url: str, var_dir: Path, n: int, trace: bool) -> dict:
    argv = [sys.executable, "-W", "ignore", __file__, "--child", kind, "--uri", uri, "--redis", redis_url,
            "--var", str(var_dir), "--n", str(n)] + ([] if trace else ["--no-trace"])
    out = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"{kind} run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="interviews to insert and export")
    parser.add_argument("--no-trace", dest="trace", action="store_false",
                        help="no tracemalloc: faster Python, so rows/s without its overhead, but no traced peaks")
    parser.add_argument("--child", choices=("baseline", "export"), help=argparse.SUPPRESS)
    parser.add_argument("--uri", help=argparse.SUPPRESS)
    parser.add_argument("--redis", help=argparse.SUPPRESS)
    parser.add_argument("--var", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.uri, args.redis, args.var, args.n, args.trace)))
        return

    from core.services import ferretdb_process, redis_process

    mib = 1024 * 1024
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        base = Path(tmp)
        redis_service = redis_process(base / "redis").start()
        mongo_service = ferretdb_process(base / "ferretdb").start()
        try:
            uri = mongo_service.url.rstrip("/") + "/bench_export"
            collection = pymongo.MongoClient(uri).get_default_database()["interviews_interviews"]
            now = dt.datetime.now(dt.timezone.utc)
            began = time.perf_counter()
            for start in range(0, args.n, 5000):
                collection.insert_many(make_docs(start, min(5000, args.n - start), now), ordered=False)
            insert_s = time.perf_counter() - began
            print(f"inserted {args.n:,} interviews in {insert_s:.1f} s ({args.n / insert_s:,.0f} docs/s; "
                  f"insert_many of 5000) into FerretDB 1.24 on SQLite")

            results = {kind: measure(kind, uri, redis_service.url, base / "var", args.n, args.trace)
                       for kind in ("baseline", "export")}
            for kind, result in results.items():
                assert result["rows"] == args.n, (kind, result)
            print(f"\n{'':26}{'rows/s':>8}{'wall s':>8}{'own CPU s':>10}{'traced peak':>13}{'(1st tenth)':>12}"
                  f"{'RSS growth':>12}{'RSS HWM':>10}")
            for kind, label in (("baseline", "baseline: pymongo -> csv"), ("export", "export: WSGI app, csv")):
                r = results[kind]
                print(f"{label:26}{r['rows'] / r['wall']:>8,.0f}{r['wall']:>8.1f}{r['cpu']:>10.1f}"
                      f"{r['peak'] / mib:>9.2f} MiB{r['peak_tenth'] / mib:>8.2f} MiB"
                      f"{r['rss_growth'] / mib:>8.1f} MiB{r['rss_hwm'] / mib:>6.0f} MiB")
            b, e = results["baseline"], results["export"]
            print(f"\nexport / baseline: rows/s {(e['rows'] / e['wall']) / (b['rows'] / b['wall']):.2f}, "
                  f"own CPU {e['cpu'] / b['cpu']:.2f}" + (f", traced peak {e['peak'] / b['peak']:.2f}" if args.trace else ""))
            if args.trace:
                print(f"export traced peak after {args.n // 10:,} rows {e['peak_tenth'] / mib:.2f} MiB, after {args.n:,} "
                      f"rows {e['peak'] / mib:.2f} MiB (ratio {e['peak'] / e['peak_tenth']:.2f}; flat memory = 1.0)")
        finally:
            mongo_service.stop()
            redis_service.stop()


if __name__ == "__main__":
    main()
