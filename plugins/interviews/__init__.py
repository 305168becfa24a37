"""Interviews plugin: interview documents, the chat with the LLM interviewer, export, reports and
their GraphQL fields. This module only wires hooks to the modules that work:

- ``config``: settings, permissions, the ``ai`` rate-limit tier, the typed events;
- ``models``: the Interview document, status machine (``TRANSITIONS``) and JSON shape;
- ``access``: who may see and change which interview (``Viewer``);
- ``schemas``: marshmallow input schemas shared by REST and GraphQL;
- ``services``: create, get, update, transitions, messages, scores, events;
- ``chat``: one chat turn, the LLM (service ``llm``) or the heuristic interviewer, and the
  services it needs (``interviews.interviewer``, ``interviews.chat_replies``);
- ``interviewer``: the heuristic interviewer, a deterministic question flow over the bank in
  ``config/questions.toml`` (used when the LLM is not configured or unavailable);
- ``prompting``: the LLM system prompt, the context token budget, candidate-text delimiting
  against prompt injection, and the check applied to model output before it is stored;
- ``export``: streamed CSV/JSON export; ``reports``: analytics, dashboard and candidate reports;
- ``views``: the REST routes; ``graphql``: the GraphQL query and mutation fields.

No jobs, so no ``jobs`` module. See docs/interviews.md.
"""
from __future__ import annotations

from core import GraphQLContribution, hookimpl


@hookimpl
def interviewminds_settings():
    from plugins.interviews.config import SETTINGS

    return SETTINGS


@hookimpl
def interviewminds_services(settings):
    from plugins.interviews.views import SERVICES

    return list(SERVICES)


@hookimpl
def interviewminds_graphql(settings):
    from plugins.interviews.graphql import InterviewsMutation, InterviewsQuery

    return GraphQLContribution(query=(InterviewsQuery,), mutation=(InterviewsMutation,))


@hookimpl
def interviewminds_events(settings):
    from plugins.interviews.config import EVENTS

    return EVENTS


@hookimpl
def interviewminds_permissions(settings):
    from plugins.interviews.config import PERMISSIONS

    return PERMISSIONS


@hookimpl
def interviewminds_rate_limits(settings):
    from plugins.interviews.config import RATE_LIMITS

    return RATE_LIMITS


@hookimpl
def interviewminds_configure(config, settings):
    from core.lookup import provide
    from plugins.interviews.chat import register_chat_services
    from plugins.interviews.services import InterviewDirectory

    register_chat_services(config, settings)
    provide(config, "interviews.directory", InterviewDirectory())
