"""Interviews plugin: interview documents, the chat with the LLM interviewer, and its GraphQL fields.

The conversation logic lives in plain modules that need no HTTP or database:

- ``interviewer``: the heuristic interviewer, a deterministic question flow over the bank in
  ``config/questions.toml`` (used when the LLM is not configured or unavailable);
- ``prompting``: the LLM system prompt, the context token budget, candidate-text delimiting
  against prompt injection, and the check applied to model output before it is stored.

The LLM client itself is ``core.llm``.
"""
from __future__ import annotations

from core import GraphQLContribution, Setting, hookimpl

# Modules of the plugin (each with one job):
#   models       the Interview document, status machine (TRANSITIONS) and JSON shape
#   access       who may see/change which interview (Viewer)
#   schemas      marshmallow input schemas shared by REST and GraphQL
#   services     create/get/update/transition/messages/scores, events
#   chat         one chat turn: LLM (core.llm) or heuristic interviewer
#   export       streamed CSV/JSON export
#   reports      analytics, dashboard and candidate report aggregates
#   views        REST routes; graphql_api: GraphQL fields

EVENTS = ("interview.created", "interview.started", "interview.completed", "interview.terminated",
          "score.generated")


@hookimpl
def interviewminds_settings():
    return [
        Setting("chat_max_message_chars", int, 4000,
                "Longest candidate chat message in characters (413 above).", minimum=1),
        Setting("chat_max_messages", int, 400,
                "Most candidate messages one interview may hold (409 when full).", minimum=2),
        Setting("chat_token_budget", int, 6000,
                "Estimated tokens the LLM prompt may use (system prompt, summary, newest turns).", minimum=800),
        Setting("questions_file", str, "",
                "Question bank TOML for the heuristic interviewer (empty: config/questions.toml)."),
        Setting("metadata_max_bytes", int, 16384, "Largest interview metadata (JSON bytes, 413 above).",
                minimum=256),
        Setting("export_batch_size", int, 1000, "Rows fetched per database batch while exporting.", minimum=10),
        Setting("export_max_rows", int, 1_000_000, "Most rows one export response may hold.", minimum=1),
        Setting("graphql_max_interviews", int, 500, "Most interviews the GraphQL `interviews` field returns.",
                minimum=1),
    ]


@hookimpl
def interviewminds_services(settings):
    from plugins.interviews.views import SERVICES

    return list(SERVICES)


@hookimpl
def interviewminds_graphql(settings):
    from plugins.interviews.graphql_api import InterviewsMutation, InterviewsQuery

    return GraphQLContribution(query=(InterviewsQuery,), mutation=(InterviewsMutation,))


@hookimpl
def interviewminds_events(settings):
    return list(EVENTS)


@hookimpl
def interviewminds_configure(config, settings):
    from plugins.interviews.interviewer import HeuristicInterviewer, load_bank

    from prometheus_client import Counter

    path = settings["interviewminds.interviews.questions_file"] or None
    config.registry.interviews_interviewer = HeuristicInterviewer(load_bank(path))
    config.registry.interviews_chat_replies = Counter(
        "interviewminds_interviews_chat_replies_total", "Chat replies by source and fallback reason.",
        ["source", "reason"], registry=config.registry.im_metrics.registry)
