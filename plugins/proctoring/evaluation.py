"""The proctoring risk formula: a session's frames, audio and screen events -> a report.

Every severity, unit and threshold of the evaluation is here (weights and thresholds come
from settings through :class:`Rules`); docs/proctoring.md explains the formula.

    S         = sum over violation types v of  weight[severity(v)] * units(v)
    riskScore = round(100 * (1 - exp(-S / scale)))

``units(v)`` is

* frame violations: ``10 * share``, ``share`` = the fraction of the session's frames that show
  ``v`` inside a confirmed window (N of the last M frames showed it; re-computed over the stored
  frames in time order), so unconfirmed blips count 0 and the score does not depend on how often
  the client samples;
* ``multiple_speakers`` (audio): the number of clips where several speakers were suspected;
* screen events: the number of events of that type (``focus_regained`` is not a violation; it
  closes the range a ``focus_lost`` opened).

S never decreases when evidence is added to a session (a frame that shows one more
violation, another screen event, another flagged clip) or when a weight grows, and riskScore is
a non-decreasing function of S, so the score is monotonic in the evidence and in the weights.
(Adding a *clean* frame lowers the frame shares: more time watched without a violation.)
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Sequence

from plugins.proctoring.temporal import confirm_series
from core.clock import iso_utc

FRAME_VIOLATIONS = ("no_face", "multiple_faces", "looking_away", "camera_blocked", "low_light",
                    "excessive_movement")
AUDIO_VIOLATIONS = ("multiple_speakers",)
SCREEN_EVENTS = ("tab_switch", "focus_lost", "focus_regained", "fullscreen_exit", "second_monitor",
                 "copy", "paste", "devtools_opened")
SCREEN_VIOLATIONS = tuple(e for e in SCREEN_EVENTS if e != "focus_regained")

SEVERITY = {
    "no_face": "high", "multiple_faces": "high", "camera_blocked": "high", "looking_away": "medium",
    "low_light": "low", "excessive_movement": "low",
    "multiple_speakers": "high",
    "second_monitor": "high", "devtools_opened": "high", "tab_switch": "medium", "focus_lost": "medium",
    "paste": "medium", "fullscreen_exit": "low", "copy": "low",
}
FRAME_SHARE_UNITS = 10.0  # a violation confirmed on every frame counts as 10 events
RECOMMENDATIONS = ("pass", "review", "flag", "terminate")


@dataclass(frozen=True)
class Rules:
    """Settings of the evaluation (interviewminds.proctoring.*)."""

    required: int = 3
    window: int = 5
    weights: dict = field(default_factory=lambda: {"low": 1.0, "medium": 3.0, "high": 6.0})
    scale: float = 30.0
    review_at: int = 25
    flag_at: int = 50
    terminate_at: int = 80


def risk_score(units: dict[str, float], rules: Rules) -> tuple[int, float]:
    """(riskScore 0..100, S) for violation units by type."""
    s = sum(rules.weights[SEVERITY[name]] * amount for name, amount in units.items())
    return int(round(100 * (1 - math.exp(-s / rules.scale)))), s


def recommendation(score: int, rules: Rules) -> str:
    """pass | review | flag | terminate from the thresholds."""
    if score >= rules.terminate_at:
        return "terminate"
    if score >= rules.flag_at:
        return "flag"
    if score >= rules.review_at:
        return "review"
    return "pass"


def evaluate(frames: Sequence[dict], audio: Sequence[dict], screen: Sequence[dict], rules: Rules) -> dict:
    """The report of one session.

    ``frames``: ``{"at": datetime, "violations": [..], "onCamera": bool}``;
    ``audio``: ``{"at": datetime, "durationSeconds": float, "multipleSpeakersSuspected": bool}``;
    ``screen``: ``{"at": datetime, "type": str}``. Any order; each is sorted by time here.
    """
    frames = sorted(frames, key=lambda f: f["at"])
    audio = sorted(audio, key=lambda a: a["at"])
    screen = sorted(screen, key=lambda e: e["at"])
    times = [f["at"] for f in frames] + [a["at"] for a in audio] + [e["at"] for e in screen]
    end = max(times) if times else None

    violations: list[dict] = []
    units: dict[str, float] = {}

    raw = [set(f["violations"]) for f in frames]
    confirmations = confirm_series(raw, rules.required, rules.window)
    for name in FRAME_VIOLATIONS:
        shown = _confirmed_frames(name, raw, confirmations, rules.window)
        if not shown:
            continue
        share = len(shown) / len(frames)
        units[name] = FRAME_SHARE_UNITS * share
        ranges = _episodes(frames, shown, rules.window)
        violations.append(_entry(name, "frame", len(shown), units[name], ranges, share=share))

    flagged = [a for a in audio if a["multipleSpeakersSuspected"]]
    if flagged:
        units["multiple_speakers"] = float(len(flagged))
        ranges = [(a["at"], a["at"] + dt.timedelta(seconds=a.get("durationSeconds") or 0)) for a in flagged]
        violations.append(_entry("multiple_speakers", "audio", len(flagged), units["multiple_speakers"], ranges))

    for name in SCREEN_VIOLATIONS:
        events = [e for e in screen if e["type"] == name]
        if not events:
            continue
        units[name] = float(len(events))
        ranges = _focus_ranges(screen, end) if name == "focus_lost" else [(e["at"], e["at"]) for e in events]
        violations.append(_entry(name, "screen", len(events), units[name], ranges))

    score, s = risk_score(units, rules)
    on_camera = sum(1 for f in frames if f["onCamera"])
    span = (frames[-1]["at"] - frames[0]["at"]).total_seconds() if frames else 0.0
    camera_share = on_camera / len(frames) if frames else 0.0
    violations.sort(key=lambda v: (-v["units"] * rules.weights[v["severity"]], v["type"]))
    return {
        "riskScore": score,
        "recommendation": recommendation(score, rules),
        "riskUnits": round(s, 3),
        "violations": violations,
        "timeOnCamera": {"seconds": round(camera_share * span, 1), "share": round(camera_share, 3),
                         "frames": on_camera},
        "counts": {"frames": len(frames), "audioClips": len(audio), "screenEvents": len(screen)},
        "period": {"start": iso_utc(min(times)) if times else None, "end": iso_utc(end) if end else None},
    }


def _entry(name: str, source: str, count: int, units: float, ranges, share: float | None = None) -> dict:
    entry = {"type": name, "source": source, "severity": SEVERITY[name], "count": count,
             "units": round(units, 3), "ranges": [{"start": iso_utc(a), "end": iso_utc(b)} for a, b in ranges]}
    if share is not None:
        entry["share"] = round(share, 3)
    return entry


def _confirmed_frames(name: str, raw: Sequence[set], confirmations: Sequence[set], window: int) -> list[int]:
    """Indexes of the frames that show ``name`` inside a window where it was confirmed.

    These are the frames that made an alert, not the later clean frames during which the alert
    stays up (it lasts while N of the last M frames show it), nor unconfirmed blips.
    """
    confirmed_at = [i for i, c in enumerate(confirmations) if name in c]
    out, pointer = [], 0
    for i, shown in enumerate(raw):
        while pointer < len(confirmed_at) and confirmed_at[pointer] < i:
            pointer += 1
        # A later frame j (i <= j < i + window) confirmed it, so frame i was in its window.
        if name in shown and pointer < len(confirmed_at) and confirmed_at[pointer] < i + window:
            out.append(i)
    return out


def _episodes(frames: Sequence[dict], indexes: Sequence[int], window: int) -> list[tuple]:
    """(start, end) times of the episodes: confirmed frames closer than ``window`` frames join one."""
    ranges: list[tuple] = []
    first = last = None
    for i in indexes:
        if last is not None and i - last >= window:
            ranges.append((frames[first]["at"], frames[last]["at"]))
            first = None
        first = i if first is None else first
        last = i
    if first is not None:
        ranges.append((frames[first]["at"], frames[last]["at"]))
    return ranges


def _focus_ranges(screen: Sequence[dict], end) -> list[tuple]:
    """Each focus_lost until the next focus_regained (or the end of the session)."""
    ranges, lost = [], None
    for event in screen:
        if event["type"] == "focus_lost":
            if lost is not None:
                ranges.append((lost, event["at"]))
            lost = event["at"]
        elif event["type"] == "focus_regained" and lost is not None:
            ranges.append((lost, event["at"]))
            lost = None
    if lost is not None:
        ranges.append((lost, end))
    return ranges

