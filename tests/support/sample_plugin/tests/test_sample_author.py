"""How a plugin author tests a plugin: core.testing's fixtures, a real Redis and FerretDB."""
import pytest
from rq import SimpleWorker

from core import find_service
from core.auth.users import set_role
from core.events import EventPayloadError, emit
from core.jobs import bind_worker, queues

EXTENSION = "tests.support.local_plugins.sample_extension"


def test_echo_route_and_its_rate_limit_tier(make_app):
    app = make_app(plugins=["sample"], **{"sample.greeting": "hi"})
    response = app.get("/api/sample/echo")
    assert response.json == {"greeting": "hi"}
    assert response.headers["RateLimit-Policy"] == "300;w=60, 20;w=60"  # general, then sample_echo


def test_permission_defaults(make_app):
    app = make_app(plugins=["sample"])
    app.get("/api/sample/notes", status=401)
    candidate, interviewer = app.auth("carol", "candidate"), app.auth("ivan", "interviewer")
    assert app.get("/api/sample/notes", headers=candidate).json == {"notes": []}  # sample:read
    app.post_json("/api/sample/notes", {"text": "hi"}, headers=candidate, status=403)  # no sample:write
    created = app.post_json("/api/sample/notes", {"text": "hello"}, headers=interviewer, status=201).json
    assert app.get("/api/sample/notes", headers=interviewer).json["notes"] == [created]


def test_a_missing_or_foreign_note_is_not_found(make_app):
    app = make_app(plugins=["sample"])
    ivan, ines = app.auth("ivan", "interviewer"), app.auth("ines", "interviewer")
    note_id = app.post_json("/api/sample/notes", {"text": "mine"}, headers=ivan, status=201).json["id"]
    for who, target in ((ines, note_id), (ivan, "0" * 24), (ivan, "not-an-id")):
        response = app.delete(f"/api/sample/notes/{target}", headers=who, status=404)
        assert response.json == {"error": "note not found", "correlationId": response.headers["X-Correlation-ID"]}
    app.delete(f"/api/sample/notes/{note_id}", headers=ivan, status=204)
    assert app.get("/api/sample/notes", headers=ivan).json == {"notes": []}


def test_job_runs(make_app):
    app = make_app(plugins=["sample"])
    app.post_json("/api/sample/echo", {"message": "m", "count": 2}, status=201)
    redis = find_service(app.registry, "core.redis")
    bind_worker(app.registry)
    SimpleWorker(queues(app.registry), connection=redis).work(burst=True)
    assert redis.get("sample:m") == b"2"
    assert redis.hget("sample:events", "sample.happened") == b"1"  # the plugin's own subscriber


def test_api_key_identity_source(make_app):
    app = make_app(plugins=["sample"], **{"sample.api_keys": "key-of-ann=ann key-of-bob=bob"})
    set_role("ann", "interviewer", by="test")  # the role always comes from the user store
    ann = {"X-Sample-Key": "key-of-ann"}
    app.post_json("/api/sample/notes", {"text": "by key"}, headers=ann, status=201)
    assert [n["text"] for n in app.get("/api/sample/notes", headers=ann).json["notes"]] == ["by key"]
    assert app.get("/api/sample/notes", headers={"X-Sample-Key": "key-of-bob"}).json == {"notes": []}
    refused = app.get("/api/sample/notes", headers={"X-Sample-Key": "key-of-eve"}, status=401)
    assert refused.json["error"] == "invalid token: X-Sample-Key is not a known key"


def test_event_payloads_are_checked(make_app):
    app = make_app(plugins=["sample"])
    emit(app.registry, "sample.happened", {"message": "fine"})
    with pytest.raises(EventPayloadError, match="sample.happened"):
        emit(app.registry, "sample.happened", {"message": 42})


def test_startup_hook_runs_for_each_app(make_app):
    first = make_app(plugins=["sample"])
    make_app(plugins=["sample"])
    assert find_service(first.registry, "core.redis").get("sample:startups") == b"2"


def test_another_plugin_extends_the_greeting(make_app):
    app = make_app(plugins=["sample", EXTENSION])
    assert app.get("/api/sample/echo").json == {"greeting": "hello, from the extension"}
    body = app.post_json("/graphql", {"query": "{ sampleGreeting }"}).json
    assert body == {"data": {"sampleGreeting": "hello, from the extension"}}
