"""A test plugin that declares the domain events webhooks tests subscribe to.

Loaded by dotted path (``tests.support.local_plugins.event_source``); events are emitted with
``core.events.emit`` as a real emitting plugin would. Payloads are any JSON object here:
the tests using it are about delivery, not about one emitter's payload shape.
"""
from core import EventType, hookimpl

ANY_OBJECT = {"type": "object"}
EVENTS = [EventType(name, 1, ANY_OBJECT, "test event")
          for name in ("interview.completed", "interview.started", "score.generated")]


@hookimpl
def interviewminds_events(settings):
    return EVENTS
