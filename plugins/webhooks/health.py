"""Health check: are deliveries keeping up?

``overdue`` counts pending messages due for longer than a grace period, ``stuck`` messages
whose lease expired that long ago. Either means no worker (or no reaper) is running, so the
check reports ``backlog`` and ``/health`` turns ``degraded``.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Callable

from core.clock import utcnow
from plugins.webhooks.models import Message, MessageStatus


def delivery_backlog_check(settings) -> Callable[[], dict]:
    """A health check bound to this app's reaper period."""
    grace = timedelta(seconds=max(60, 3 * settings["interviewminds.webhooks.reaper_every"]))

    def check() -> dict:
        cutoff = utcnow() - grace
        overdue = Message.objects(status=MessageStatus.PENDING, next_attempt_at__lt=cutoff).count()
        stuck = Message.objects(status=MessageStatus.SENDING, lease_until__lt=cutoff).count()
        return {"status": "backlog" if overdue or stuck else "ok", "overdue": overdue, "stuck": stuck}

    return check
