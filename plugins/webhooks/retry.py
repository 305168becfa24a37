"""When to try a delivery again: the schedule, jitter, ``Retry-After`` and what a response means.

Rules:
- attempt 1 is sent at once; after failed attempt ``n`` the next waits ``schedule[n-1]``
  (± ``jitter``), so a schedule of 7 delays allows 8 attempts in all;
- only a 2xx is success; 410 Gone disables the endpoint; anything else (3xx, 4xx, 5xx,
  timeouts, refused connections, SSRF refusals) is retried;
- on 429 and 503 a ``Retry-After`` is honoured as a floor: the wait is
  ``max(jittered schedule delay, Retry-After)``. The receiver's request is never undercut,
  yet ``Retry-After: 0`` cannot make us burn through every attempt in a second, and the
  schedule still bounds the number of attempts. ``Retry-After`` is capped (default 1 day)
  so a hostile value cannot park a message forever.
"""
from __future__ import annotations

import enum
import random
import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Protocol, Sequence

__all__ = [
    "DEFAULT_SCHEDULE",
    "MAX_RETRY_AFTER",
    "Outcome",
    "classify",
    "next_delay",
    "parse_retry_after",
    "parse_schedule",
    "retry_delay",
]

DEFAULT_SCHEDULE: tuple[int, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
MAX_RETRY_AFTER = 86400.0
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_STEP = re.compile(r"(\d+)\s*([smhd]?)")


class _Uniform(Protocol):
    def uniform(self, a: float, b: float) -> float: ...


class Outcome(str, enum.Enum):
    """What an attempt's result means for the message and the endpoint."""

    SUCCESS = "success"  # 2xx: delivered
    DISABLE = "disable"  # 410 Gone: the receiver asks us to stop; disable the endpoint
    RETRY_AFTER = "retry_after"  # 429/503 with a usable Retry-After
    RETRY = "retry"  # anything else: try again on the schedule


def parse_schedule(text: str) -> tuple[int, ...]:
    """Parse ``"5s,5m,30m,2h,5h,10h,10h"`` into seconds; a bare number means seconds."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("retry schedule must list at least one delay, e.g. '5s,5m,30m'")
    delays = []
    for step in text.split(","):
        match = _STEP.fullmatch(step.strip().lower())
        if not match:
            raise ValueError(
                f"retry schedule step {step.strip()!r} is not a whole number with an "
                f"optional unit s, m, h or d"
            )
        delays.append(int(match.group(1)) * _UNITS[match.group(2) or "s"])
    return tuple(delays)


def next_delay(
    attempt_number: int,
    *,
    schedule: Sequence[float] = DEFAULT_SCHEDULE,
    jitter: float = 0.2,
    rng: _Uniform = random,  # type: ignore[assignment]
) -> float | None:
    """Seconds to wait after failed attempt ``attempt_number`` (1-based), or None when exhausted.

    The delay is ``schedule[attempt_number - 1]`` scaled by a random factor in
    ``[1 - jitter, 1 + jitter]`` so that endpoints failing together do not retry together.
    """
    if attempt_number < 1:
        raise ValueError("attempt_number starts at 1")
    if not 0 <= jitter < 1:
        raise ValueError("jitter must be in [0, 1)")
    if attempt_number > len(schedule):
        return None
    base = float(schedule[attempt_number - 1])
    return base * rng.uniform(1 - jitter, 1 + jitter) if jitter else base


def parse_retry_after(
    value: str | None, now: datetime, *, cap: float = MAX_RETRY_AFTER
) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or HTTP-date), or None if unusable.

    A date in the past means 0. The result is at most ``cap``.
    """
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), cap)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # "-0000" dates: RFC 9110 dates are always GMT
        when = when.replace(tzinfo=timezone.utc)
    if now.tzinfo is None:
        raise ValueError("now must be a timezone-aware datetime")
    return min(max((when - now).total_seconds(), 0.0), cap)


def classify(
    status: int | None, error: str | None, retry_after: float | None = None
) -> Outcome:
    """The outcome of an attempt that got ``status`` (None if no response) or failed with ``error``.

    ``retry_after`` is the parsed ``Retry-After`` (see ``parse_retry_after``); it only
    matters for 429 and 503.
    """
    if status is None:
        if error is None:
            raise ValueError("an attempt has either a status or an error")
        return Outcome.RETRY
    if 200 <= status < 300:
        return Outcome.SUCCESS
    if status == 410:
        return Outcome.DISABLE
    if status in (429, 503) and retry_after is not None:
        return Outcome.RETRY_AFTER
    return Outcome.RETRY


def retry_delay(
    outcome: Outcome,
    attempt_number: int,
    retry_after: float | None = None,
    *,
    schedule: Sequence[float] = DEFAULT_SCHEDULE,
    jitter: float = 0.2,
    rng: _Uniform = random,  # type: ignore[assignment]
) -> float | None:
    """Seconds until the next attempt after attempt ``attempt_number``, or None for no retry.

    None for SUCCESS and DISABLE and when the schedule is exhausted; otherwise the jittered
    schedule delay, raised to ``retry_after`` for RETRY_AFTER (see the module docstring).
    """
    if outcome in (Outcome.SUCCESS, Outcome.DISABLE):
        return None
    delay = next_delay(attempt_number, schedule=schedule, jitter=jitter, rng=rng)
    if delay is None:
        return None
    if outcome is Outcome.RETRY_AFTER and retry_after is not None:
        return max(delay, retry_after)
    return delay
