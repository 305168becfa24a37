"""Multimodal interview analysis plugin: voice, facial expressions, gestures, eye gaze and posture.

Route ``POST /api/multimodal-ai/analyze`` (multimodal:analyze); GraphQL
``multimodalAnalyses(limit)`` (the caller's recent score summaries); periodic job
``multimodal.purge`` (retention of those summaries); health check ``vader`` (the sentiment
lexicon is loaded). This module only wires hooks to the modules that work:

- ``config``: settings, the permission, the ``ai`` rate-limit tier, the scoring thresholds;
- ``analysis`` / ``scoring``: the analysis itself (pure) and every number it uses;
- ``schemas``: the request schema; ``models``: the stored score summaries;
- ``services``: analysis with the LLM for voice and the stored summary, history, purge, health;
- ``views``: the REST route; ``graphql``: the query field; ``jobs``: ``multimodal.purge``.

See docs/multimodal.md.
"""
from __future__ import annotations

from core import GraphQLContribution, hookimpl


@hookimpl
def interviewminds_settings():
    from plugins.multimodal.config import SETTINGS

    return SETTINGS


@hookimpl
def interviewminds_permissions(settings):
    from plugins.multimodal.config import PERMISSIONS

    return PERMISSIONS


@hookimpl
def interviewminds_rate_limits(settings):
    from plugins.multimodal.config import RATE_LIMITS

    return RATE_LIMITS


@hookimpl
def interviewminds_services(settings):
    from plugins.multimodal.views import analyze_service

    return [analyze_service]


@hookimpl
def interviewminds_configure(config, settings):
    from plugins.multimodal.config import thresholds_of

    from core.lookup import provide

    provide(config, "multimodal.thresholds", thresholds_of(settings))


@hookimpl
def interviewminds_graphql(settings):
    from plugins.multimodal.graphql import MultimodalQuery

    return GraphQLContribution(query=(MultimodalQuery,))


@hookimpl
def interviewminds_jobs(settings):
    from core.jobs import Periodic
    from plugins.multimodal import jobs

    return {"multimodal.purge": Periodic(jobs.purge, every=settings["interviewminds.multimodal.purge_every_seconds"])}


@hookimpl
def interviewminds_health_checks(settings):
    from plugins.multimodal.services import vader_check

    return {"vader": vader_check}
