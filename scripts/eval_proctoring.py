"""Evaluate the proctoring frame analyser on the labelled set in tests/data/proctoring/.

    .venv/bin/python scripts/eval_proctoring.py [--dir tests/data/proctoring] [--verbose]

Prints precision and recall per violation type over the whole set, the false-alarm rate
of each type on the clean frames (those labelled with no violation), the blur detector's
figures, and every frame whose predicted violations differ from its labels. Exits with
status 1 when the quality gate fails: multiple_faces and no_face must both reach a
precision of at least 0.9, and each may be raised on at most 10% of the clean frames.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import cv2

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from plugins.proctoring.vision import VIOLATIONS, FrameAnalyzer  # noqa: E402

DEFAULT_DIR = os.path.join(ROOT, "tests", "data", "proctoring")
GATED = ("multiple_faces", "no_face")
MIN_PRECISION = 0.9
MAX_CLEAN_FALSE_ALARMS = 0.1


def evaluate_set(directory: str = DEFAULT_DIR, analyzer: FrameAnalyzer | None = None) -> dict:
    """Run the analyser over every labelled frame and return the figures as a dict."""
    analyzer = analyzer or FrameAnalyzer()
    with open(os.path.join(directory, "labels.json")) as handle:
        labels = json.load(handle)
    rows = []
    for name in sorted(labels):
        image = cv2.imread(os.path.join(directory, name), cv2.IMREAD_COLOR)
        if image is None:
            raise FileNotFoundError(f"cannot read frame {name}")
        result = analyzer.analyze(image)
        rows.append({
            "file": name,
            "expected": set(labels[name]["violations"]),
            "predicted": set(result["violations"]),
            "clean": bool(labels[name]["clean"]),
            "blurry": bool(labels[name].get("blurry", False)),
            "result": result,
        })

    per_type = {}
    for violation in VIOLATIONS:
        tp = sum(violation in r["expected"] and violation in r["predicted"] for r in rows)
        fp = sum(violation not in r["expected"] and violation in r["predicted"] for r in rows)
        fn = sum(violation in r["expected"] and violation not in r["predicted"] for r in rows)
        clean_flagged = sum(r["clean"] and violation in r["predicted"] for r in rows)
        per_type[violation] = {
            "tp": tp, "fp": fp, "fn": fn,
            "support": tp + fn,
            "precision": tp / (tp + fp) if tp + fp else None,
            "recall": tp / (tp + fn) if tp + fn else None,
            "clean_flagged": clean_flagged,
        }
    clean_rows = [r for r in rows if r["clean"]]
    blur_tp = sum(r["blurry"] and r["result"]["blur"]["blurry"] for r in rows)
    blur_fp = sum(not r["blurry"] and r["result"]["blur"]["blurry"] for r in rows)
    blur_fn = sum(r["blurry"] and not r["result"]["blur"]["blurry"] for r in rows)
    return {
        "frames": len(rows),
        "clean_frames": len(clean_rows),
        "clean_passed": sum(not r["predicted"] for r in clean_rows),
        "exact_matches": sum(r["expected"] == r["predicted"] for r in rows),
        "per_type": per_type,
        "blur": {"tp": blur_tp, "fp": blur_fp, "fn": blur_fn},
        "mismatches": [
            {"file": r["file"], "expected": sorted(r["expected"]), "predicted": sorted(r["predicted"]),
             "faceCount": r["result"]["faceCount"], "gaze": r["result"]["gaze"], "headTurn": r["result"]["headTurn"]}
            for r in rows if r["expected"] != r["predicted"]
        ],
        "processing_ms": sorted(r["result"]["processingMs"] for r in rows),
    }


def gate_failures(report: dict) -> list[str]:
    """Reasons the report fails the quality gate (empty when it passes)."""
    failures = []
    clean = max(1, report["clean_frames"])
    for violation in GATED:
        figures = report["per_type"][violation]
        if figures["precision"] is None or figures["precision"] < MIN_PRECISION:
            failures.append(f"{violation} precision {figures['precision']} < {MIN_PRECISION}")
        if figures["clean_flagged"] / clean > MAX_CLEAN_FALSE_ALARMS:
            failures.append(f"{violation} raised on {figures['clean_flagged']} of {clean} clean frames")
    return failures


def format_report(report: dict) -> str:
    """The report as a Markdown table plus summaries."""
    def pct(value):
        return "n/a" if value is None else f"{value:.2f}"

    clean = report["clean_frames"]
    lines = [
        f"frames: {report['frames']}, clean: {clean}, clean frames with no violation: "
        f"{report['clean_passed']}/{clean}, exact label matches: {report['exact_matches']}/{report['frames']}",
        "",
        "| violation | support | TP | FP | FN | precision | recall | raised on clean frames |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for violation, f in report["per_type"].items():
        lines.append(
            f"| {violation} | {f['support']} | {f['tp']} | {f['fp']} | {f['fn']} | {pct(f['precision'])} "
            f"| {pct(f['recall'])} | {f['clean_flagged']}/{clean} |"
        )
    b = report["blur"]
    lines += ["", f"blur detector: TP {b['tp']}, FP {b['fp']}, FN {b['fn']}"]
    times = report["processing_ms"]
    if times:
        lines.append(f"analyze time per frame (ms): median {times[len(times) // 2]:.1f}, max {times[-1]:.1f}")
    lines += ["", "confusion (frames whose violations differ from the labels):"]
    for m in report["mismatches"] or [{"file": "none"}]:
        if "expected" not in m:
            lines.append("  none")
            break
        lines.append(
            f"  {m['file']}: expected {m['expected']} got {m['predicted']} "
            f"(faces {m['faceCount']}, gaze {m['gaze']}, head {m['headTurn']})"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", default=DEFAULT_DIR, help="folder with the frames and labels.json")
    args = parser.parse_args(argv)
    report = evaluate_set(args.dir)
    print(format_report(report))
    failures = gate_failures(report)
    print("\ngate:", "PASS" if not failures else "FAIL: " + "; ".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
