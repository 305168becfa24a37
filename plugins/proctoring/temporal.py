"""Temporal confirmation: a violation becomes an alert only after N of the last M frames show it.

Two forms of the same rule:

* :class:`FrameWindow` keeps each interview's last M frame findings in Redis (a list per
  interview), so every app process sees the same window. Pushing a frame, trimming the list
  to M and reading it back run in one MULTI/EXEC transaction: two processes posting frames of
  the same interview at once each see a window that contains their own frame and never a
  half-updated list.
* :func:`confirm_series` applies the rule to a stored, time-ordered series of frames (what
  ``evaluate`` does, so that the report does not depend on arrival order).
"""
from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence

KEY_PREFIX = "proctoring:window:"


def confirmed(window: Iterable[Iterable[str]], required: int) -> list[dict]:
    """Violations shown by at least ``required`` frames of ``window``, with their frame counts."""
    counts: Counter = Counter()
    for violations in window:
        counts.update(set(violations))
    return [{"type": name, "frames": count} for name, count in sorted(counts.items()) if count >= required]


class FrameWindow:
    """The last ``size`` frame findings of each interview, in Redis."""

    def __init__(self, redis, *, required: int, size: int, ttl: int):
        if not 1 <= required <= size:
            raise ValueError(f"need 1 <= required <= size, got required={required}, size={size}")
        self.redis = redis
        self.required = required
        self.size = size
        self.ttl = ttl

    def push(self, interview_id: str, violations: Sequence[str]) -> dict:
        """Add one frame's violations; return ``{"confirmedAlerts": [...], "window": {...}}``.

        Each alert is ``{"type", "frames", "window"}``: ``frames`` of the last ``window`` frames
        showed it (at least N of them).
        """
        key = KEY_PREFIX + interview_id
        pipe = self.redis.pipeline(transaction=True)
        pipe.lpush(key, ",".join(sorted(set(violations))))
        pipe.ltrim(key, 0, self.size - 1)
        pipe.lrange(key, 0, self.size - 1)
        pipe.expire(key, self.ttl)
        _, _, entries, _ = pipe.execute()
        window = [_split(entry) for entry in entries]
        alerts = [dict(alert, window=len(window)) for alert in confirmed(window, self.required)]
        return {
            "confirmedAlerts": alerts,
            "window": {"frames": len(window), "size": self.size, "required": self.required},
        }

    def clear(self, interview_id: str) -> None:
        self.redis.delete(KEY_PREFIX + interview_id)


def _split(entry) -> list[str]:
    text = entry.decode() if isinstance(entry, bytes) else str(entry)
    return [name for name in text.split(",") if name]


def confirm_series(series: Sequence[Iterable[str]], required: int, size: int) -> list[set[str]]:
    """For each frame of a time-ordered series, the violations confirmed at that frame.

    Frame ``i`` confirms a violation when at least ``required`` of frames ``i-size+1 .. i``
    show it. Adding a violation to any frame never removes a confirmation (monotonic).
    """
    sets = [set(v) for v in series]
    out: list[set[str]] = []
    counts: Counter = Counter()
    for index, current in enumerate(sets):
        counts.update(current)
        if index >= size:
            counts.subtract(sets[index - size])
        out.append({name for name, count in counts.items() if count >= required})
    return out
