"""Time the proctoring frame path in process on a 640x480 JPEG.

    .venv/bin/python scripts/bench/bench_frame.py [--frame FILE] [--iterations N] [--threads N]

Measures, in one run and on the same frame:
  floor    base64 decode + cv2.imdecode + grayscale conversion (the least any analysis costs)
  decode   plugins.proctoring.frames.decode_frame (validation + decode)
  analyze  FrameAnalyzer.analyze on the decoded image
  full     decode_frame + analyze, as the HTTP route will run them
and prints p50/p99 in ms, frames per second per core (1000 / p50 with one OpenCV
thread) and each median's ratio to the floor.
"""
from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from plugins.proctoring.frames import decode_frame  # noqa: E402
from plugins.proctoring.vision import FrameAnalyzer  # noqa: E402

DEFAULT_FRAME = os.path.join(ROOT, "tests", "data", "proctoring", "clean_astronaut_02.jpg")


def _timings(func, iterations: int) -> list[float]:
    for _ in range(10):  # warm caches and OpenCV's lazy initialisation
        func()
    samples = []
    for _ in range(iterations):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frame", default=DEFAULT_FRAME, help="a 640x480 JPEG (default: a set frame with one face)")
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1, help="cv2.setNumThreads value (default 1)")
    args = parser.parse_args(argv)

    cv2.setNumThreads(args.threads)
    with open(args.frame, "rb") as handle:
        jpeg = handle.read()
    payload = base64.b64encode(jpeg).decode("ascii")
    image = decode_frame(payload)
    analyzer = FrameAnalyzer()

    def floor():
        raw = base64.b64decode(payload, validate=True)
        decoded = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)
        cv2.cvtColor(decoded, cv2.COLOR_BGR2GRAY)

    cases = {
        "floor": floor,
        "decode": lambda: decode_frame(payload),
        "analyze": lambda: analyzer.analyze(image),
        "full": lambda: analyzer.analyze(decode_frame(payload)),
    }
    results = {name: _timings(func, args.iterations) for name, func in cases.items()}
    floor_median = statistics.median(results["floor"])

    h, w = image.shape[:2]
    print(f"frame {os.path.relpath(args.frame, ROOT)} {w}x{h}, {len(jpeg)} bytes JPEG, "
          f"{args.iterations} iterations, cv2 threads {cv2.getNumThreads()}, OpenCV {cv2.__version__}")
    print(f"{'case':8s} {'p50 ms':>8s} {'p99 ms':>8s} {'median':>8s} {'frames/s':>9s} {'x floor':>8s}")
    for name, samples in results.items():
        median = statistics.median(samples)
        print(f"{name:8s} {_p(samples, 0.5):8.2f} {_p(samples, 0.99):8.2f} {median:8.2f} "
              f"{1000 / median:9.1f} {median / floor_median:8.1f}")
    result = analyzer.analyze(image)
    print(f"analysis of the frame: faces {result['faceCount']}, violations {result['violations']}")


if __name__ == "__main__":
    main()
