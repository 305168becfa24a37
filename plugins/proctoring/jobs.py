"""Background jobs of the proctoring plugin (run by `interviewminds worker`)."""
from __future__ import annotations

import logging

from plugins.proctoring import services

log = logging.getLogger(__name__)


def evaluate(ctx, interview_id: str) -> dict:
    """Job ``proctoring.evaluate``: evaluate an interview's session (enqueued on interview.completed).

    Idempotent: re-running replaces the report with an identical one (plus a new evaluatedAt).
    Returns a small summary (RQ keeps it as the job result).
    """
    report = services.evaluate_interview(ctx.registry, interview_id, evaluated_by="job")
    if report is None:
        log.info("interview %s completed without proctoring data; nothing to evaluate", interview_id)
        return {"interviewId": interview_id, "evaluated": False}
    return {"interviewId": interview_id, "evaluated": True, "riskScore": report["riskScore"],
            "recommendation": report["recommendation"]}


def purge(ctx) -> dict:
    """Periodic job ``proctoring.purge``: delete findings and events older than the retention days."""
    removed = services.purge_expired(ctx.registry)
    log.info("proctoring retention purge removed %s", removed)
    return removed
