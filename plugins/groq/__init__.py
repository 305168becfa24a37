"""Groq provider plugin: the app's LLM (service ``llm``) through the Groq chat completions API.

Without it, or without ``interviewminds.groq.api_key``, every LLM feature answers from its
heuristic path. This module only wires hooks: ``config`` holds the settings, ``client`` the
client (timeout, retries, breaker, JSON mode, metrics), ``services`` builds it as the ``llm``
service and the ``api`` health check. No documents, routes, jobs or GraphQL fields, so no
``models``, ``views``, ``jobs`` or ``graphql`` modules. See docs/groq.md.
"""
from __future__ import annotations

from core import hookimpl


@hookimpl
def interviewminds_settings():
    from plugins.groq.config import SETTINGS

    return SETTINGS


@hookimpl
def interviewminds_configure(config, settings):
    from plugins.groq.services import register_client

    register_client(config, settings)


@hookimpl
def interviewminds_health_checks(settings):
    from plugins.groq.services import reachability_check

    return {"api": reachability_check(settings)}
