"""Records every domain event it receives; raises on a payload with "boom" to prove isolation."""
from core import hookimpl

RECEIVED: list = []


@hookimpl
def interviewminds_on_event(name, payload, registry):
    RECEIVED.append((name, payload))
    if payload.get("boom"):
        raise RuntimeError("subscriber failure must not reach the emitter")
