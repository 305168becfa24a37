"""A test plugin that records every domain event it receives (loaded by dotted path,
``tests.plugins.interviews.event_log``), so tests can check what the interviews plugin emits."""
from core import hookimpl

PLUGIN_ID = "interviews_event_log"
RECEIVED: list[tuple[str, dict]] = []


def names() -> list[str]:
    return [name for name, _ in RECEIVED]


def clear() -> None:
    RECEIVED.clear()


@hookimpl
def interviewminds_on_event(name, payload, registry):
    RECEIVED.append((name, dict(payload)))
