"""Background jobs of the multimodal plugin (run by `interviewminds worker`)."""
from __future__ import annotations

from plugins.multimodal import services


def purge(ctx) -> int:
    """Periodic job ``multimodal.purge``: delete summaries older than retention_days; returns how many."""
    return services.purge_expired(ctx.settings)
