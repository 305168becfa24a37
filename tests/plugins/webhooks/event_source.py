"""A test plugin that declares the domain events webhooks tests subscribe to.

Loaded by dotted path (``tests.plugins.webhooks.event_source``); events are emitted with
``core.events.emit`` as a real emitting plugin would.
"""
from core import hookimpl

EVENTS = ["interview.completed", "interview.started", "score.generated"]


@hookimpl
def interviewminds_events(settings):
    return EVENTS
