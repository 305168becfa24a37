"""Proctoring plugin: webcam frames (OpenCV), audio clips and screen events -> a risk report.

Routes: ``POST /api/proctoring/frame | audio | screen | evaluate``; GraphQL
``proctoringReport(interviewId)``; jobs ``proctoring.evaluate`` (on ``interview.completed``)
and ``proctoring.purge`` (periodic retention); health check ``cascades``; event
``proctoring.flagged``. See docs/proctoring.md.
"""
from __future__ import annotations

import logging

from prometheus_client import Counter, Histogram

from core import GraphQLContribution, hookimpl
from core.jobs import Periodic, enqueue

log = logging.getLogger(__name__)

COMPLETED_EVENT = "interview.completed"


class ProctoringMetrics:
    def __init__(self, registry):
        self.frame_seconds = Histogram(
            "interviewminds_proctoring_frame_analysis_seconds", "Time to analyse one frame.",
            buckets=(0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25), registry=registry)
        self.alerts = Counter("interviewminds_proctoring_confirmed_alerts_total",
                              "Frames that carried a confirmed alert, by violation.", ["violation"],
                              registry=registry)


@hookimpl
def interviewminds_settings():
    from plugins.proctoring.config import SETTINGS

    return SETTINGS


@hookimpl
def interviewminds_services(settings):
    from plugins.proctoring.config import config_of
    from plugins.proctoring.views import build_services

    config = config_of(settings)
    return build_services(config.frame_max_bytes, config.audio_max_bytes, config.screen_max_events)


@hookimpl
def interviewminds_configure(config, settings):
    from plugins.proctoring.config import config_of

    config.registry.im_proctoring = config_of(settings)
    config.registry.im_proctoring_metrics = ProctoringMetrics(config.registry.im_metrics.registry)


@hookimpl
def interviewminds_graphql(settings):
    from plugins.proctoring.graphql import ProctoringQuery

    return GraphQLContribution(query=(ProctoringQuery,))


@hookimpl
def interviewminds_jobs(settings):
    from plugins.proctoring import jobs

    every = settings["interviewminds.proctoring.purge_every_seconds"]
    return {"proctoring.evaluate": jobs.evaluate, "proctoring.purge": Periodic(jobs.purge, every=every)}


@hookimpl
def interviewminds_health_checks(settings):
    from plugins.proctoring.config import config_of
    from plugins.proctoring.services import analyzer_for

    thresholds = config_of(settings).vision

    def cascades():
        return {"status": "ok", "cascades": analyzer_for(thresholds).loaded_cascades()}

    return {"cascades": cascades}


@hookimpl
def interviewminds_events(settings):
    from plugins.proctoring.services import FLAGGED_EVENT

    return [FLAGGED_EVENT]


@hookimpl
def interviewminds_on_event(name, payload, registry):
    """On ``interview.completed``, enqueue ``proctoring.evaluate`` for that interview."""
    if name != COMPLETED_EVENT:
        return
    interview_id = payload.get("interviewId") or payload.get("interview_id") or payload.get("id")
    if not isinstance(interview_id, str) or not interview_id:
        log.warning("interview.completed without an interview id: %r", payload)
        return
    enqueue(registry, "proctoring.evaluate", interview_id=interview_id)
