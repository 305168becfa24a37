"""What the sample plugin declares to core: settings, permissions, a rate-limit tier, an event."""
from __future__ import annotations

from core import EventType, Permission, RateLimits, Setting

NOTES = "sample.notes"  # the name of the service NotesService is provided under

SETTINGS = [
    Setting("greeting", str, "hello", "What GET /api/sample/echo says."),
    Setting("api_keys", list, [], "Keys accepted in the X-Sample-Key header, as KEY=USER words "
            "(the caller is USER, with USER's role).", secret=True),
]

PERMISSIONS = [
    Permission("sample:read", "List one's own sample notes.", ("candidate", "interviewer")),
    Permission("sample:write", "Create and delete one's own sample notes.", ("interviewer",)),
]

# A tier of its own on its own route; operators change the limit, not the path.
RATE_LIMITS = RateLimits(tiers={"sample_echo": "20/minute"}, paths={"sample_echo": ["/api/sample/echo"]})

HAPPENED = EventType(
    "sample.happened", 1,
    {
        "type": "object",
        "properties": {"message": {"type": "string", "maxLength": 200}},
        "required": ["message"],
        "additionalProperties": False,
    },
    "A message was echoed by POST /api/sample/echo.",
)
EVENTS = [HAPPENED]
