"""Time helpers shared by core and plugins: aware UTC now, and the API's timestamp format."""
from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    """The current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.timezone.utc)


def iso_utc(value: dt.datetime | None) -> str | None:
    """``2026-05-01T00:00:00.000Z``: the API's timestamp format. Naive values are taken as UTC
    (what MongoDB drivers return without tz_aware)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
