"""GET /api/webhooks/event-types: the typed event catalogue of every enabled plugin."""
from __future__ import annotations

import jsonschema
import pytest

from core.events import EventPayloadError, emit


@pytest.fixture
def app(make_app):
    return make_app(plugins=["interviews", "proctoring", "webhooks"], **{"ratelimit.enabled": "false"})


def test_catalogue_lists_each_event_with_its_version_plugin_and_payload_schema(app):
    types = app.get("/api/webhooks/event-types", headers=app.auth("cand-1", "candidate")).json["eventTypes"]
    by_name = {t["name"]: t for t in types}
    assert set(by_name) == {"interview.created", "interview.started", "interview.completed",
                            "interview.terminated", "score.generated", "proctoring.flagged"}
    completed = by_name["interview.completed"]
    assert completed["version"] == 1 and completed["plugin"] == "interviews"
    assert by_name["proctoring.flagged"]["plugin"] == "proctoring"
    for event in types:
        jsonschema.Draft202012Validator.check_schema(event["payloadSchema"])
    # The schema describes what the emitter really sends: a real interview's event validates.
    created = app.post_json("/api/interview", {"title": "Screen", "role": "backend", "difficulty": "easy"},
                            headers=app.auth("cand-1", "candidate")).json
    from plugins.interviews.models import Interview
    from plugins.interviews.services import event_payload

    payload = event_payload(Interview.objects.get(id=created["id"]))
    jsonschema.validate(payload, by_name["interview.created"]["payloadSchema"])


def test_catalogue_needs_authentication(app):
    app.get("/api/webhooks/event-types", status=401)


def test_a_payload_that_breaks_its_schema_is_refused_in_tests(app):
    with pytest.raises(EventPayloadError, match=r"event 'proctoring.flagged': riskScore: .* is not of type 'number'"):
        emit(app.registry, "proctoring.flagged", {"interviewId": "x", "riskScore": "high",
                                                  "recommendation": "review", "violations": []})
    with pytest.raises(EventPayloadError, match="'interview.exploded' is not declared"):
        emit(app.registry, "interview.exploded", {})


def test_in_production_a_bad_payload_is_counted_and_still_delivered(make_app, redis_url, mongo_uri, tmp_path):
    from core.lookup import EVENTS, find_service

    app = make_app(plugins=["interviews", "webhooks", "tests.support.local_plugins.event_recorder"])
    find_service(app.registry, EVENTS).strict = False  # what interviewminds.env = production sets
    from tests.support.local_plugins import event_recorder

    emit(app.registry, "interview.completed", {"interviewId": 5})
    assert ("interview.completed", {"interviewId": 5}) in event_recorder.RECEIVED
    metrics = app.get("/metrics").text
    assert 'interviewminds_event_payload_errors_total{event="interview.completed"} 1.0' in metrics
