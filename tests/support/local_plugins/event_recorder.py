"""Records every domain event it receives; raises on a payload whose ``message`` is "boom" (a valid
``sample.happened`` payload) to prove that a failing subscriber is isolated from the emitter."""
from core import hookimpl

RECEIVED: list = []


@hookimpl
def interviewminds_on_event(name, payload, registry):
    RECEIVED.append((name, payload))
    if payload.get("message") == "boom":
        raise RuntimeError("subscriber failure must not reach the emitter")
