"""Proctoring plugin: webcam frames (OpenCV), audio clips and screen events -> a risk report.

Routes: ``POST /api/proctoring/frame | audio | screen | evaluate``; GraphQL
``proctoringReport(interviewId)``; jobs ``proctoring.evaluate`` (on ``interview.completed``)
and ``proctoring.purge`` (periodic retention); health check ``cascades``; event
``proctoring.flagged``. See docs/proctoring.md.
"""
from __future__ import annotations

import logging

from core import GraphQLContribution, hookimpl
from core.jobs import Periodic, enqueue

log = logging.getLogger(__name__)

# Services of other plugins this one uses when they are enabled (see services.authorize_submission).
OPTIONAL_SERVICES = ("interviews.directory",)

COMPLETED_EVENT = "interview.completed"


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

    from core.lookup import METRICS, find_service, provide

    provide(config, "proctoring.config", config_of(settings))
    from plugins.proctoring.services import ProctoringMetrics

    provide(config, "proctoring.metrics", ProctoringMetrics(find_service(config.registry, METRICS).registry))


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
    from plugins.proctoring.config import EVENTS

    return EVENTS


@hookimpl
def interviewminds_permissions(settings):
    from plugins.proctoring.config import PERMISSIONS

    return PERMISSIONS


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
