"""Background jobs, run by `interviewminds worker CONFIG`."""
from __future__ import annotations


def record(ctx, key: str, value: str) -> None:
    """Job ``sample.record``: store ``value`` under ``sample:<key>`` in Redis (idempotent)."""
    ctx.redis.set(f"sample:{key}", value)
