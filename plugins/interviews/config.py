"""What the interviews plugin declares: its settings, permissions, rate-limit tier and events."""
from __future__ import annotations

from core import EventType, Permission, RateLimits, Setting

SETTINGS = [
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

PERMISSIONS = [
    Permission("interview:create", "Create an interview session.", ("candidate", "interviewer")),
    Permission("interview:read", "Read one's own interviews.", ("candidate", "interviewer")),
    Permission("interview:update", "Update status and metadata of one's own interviews.", ("candidate", "interviewer")),
    Permission("interview:read_any", "Read any user's interview.", ("interviewer",)),
    Permission("interview:update_any", "Update any user's interview (status, scores).", ("interviewer",)),
    Permission("interview:score", "Set scores and feedback on interviews one may see.", ("interviewer",)),
    Permission("chat:send", "Send messages in an interview chat.", ("candidate", "interviewer")),
    Permission("reports:read", "Read one's own candidate report.", ("candidate", "interviewer")),
    Permission("reports:read_any", "Read any candidate report and the dashboard.", ("interviewer",)),
    Permission("export:read", "Export interview data (CSV/JSON).", ("interviewer",)),
    Permission("analytics:read", "Read aggregate analytics (GraphQL analytics, dashboard).", ("interviewer",)),
]

# The chat calls the LLM: an expensive upstream call per request.
RATE_LIMITS = RateLimits(tiers={"ai": "30/minute"}, paths={"ai": ["/api/chat"]})

_INTERVIEW = {
    "interviewId": {"type": "string", "description": "The interview's id."},
    "ownerId": {"type": "string", "description": "The candidate who owns it."},
    "interviewers": {"type": "array", "items": {"type": "string"}},
    "title": {"type": "string"},
    "role": {"type": "string"},
    "difficulty": {"type": "string"},
    "status": {"type": "string", "enum": ["scheduled", "in_progress", "completed", "terminated"]},
    "version": {"type": "integer", "minimum": 0},
    "occurredAt": {"type": "string", "format": "date-time"},
}
INTERVIEW_PAYLOAD = {
    "type": "object", "properties": _INTERVIEW, "required": sorted(_INTERVIEW), "additionalProperties": False,
}
SCORE_PAYLOAD = {
    "type": "object",
    "properties": {
        **_INTERVIEW,
        "overall": {"type": ["number", "null"]},
        "competencies": {"type": "array", "items": {
            "type": "object", "required": ["subject", "score", "fullMark"], "additionalProperties": False,
            "properties": {"subject": {"type": "string"}, "score": {"type": "number"},
                           "fullMark": {"type": "number"}}}},
    },
    "required": sorted(_INTERVIEW) + ["overall", "competencies"],
    "additionalProperties": False,
}

EVENTS = [
    EventType("interview.created", 1, INTERVIEW_PAYLOAD, "An interview was scheduled."),
    EventType("interview.started", 1, INTERVIEW_PAYLOAD, "An interview moved to in_progress."),
    EventType("interview.completed", 1, INTERVIEW_PAYLOAD, "An interview was completed."),
    EventType("interview.terminated", 1, INTERVIEW_PAYLOAD, "An interview was terminated."),
    EventType("score.generated", 1, SCORE_PAYLOAD, "Scores were set or changed on an interview."),
]
