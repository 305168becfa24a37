"""Every error has the documented body, with the same correlation id as the header."""
import uuid

import pytest

from core.services import ferretdb_process


def assert_error(response, status):
    assert response.status_int == status
    assert response.content_type == "application/json"
    body = response.json
    assert set(body) == {"error", "correlationId"}
    assert body["error"]
    assert body["correlationId"] == response.headers["X-Correlation-ID"]
    uuid.UUID(body["correlationId"])
    return body


@pytest.fixture
def app(make_app):
    return make_app(plugins=["sample"])


def test_400_malformed_json(app):
    body = assert_error(app.post("/api/sample/echo", "{not json", content_type="application/json", status=400), 400)
    assert "malformed JSON" in body["error"]


def test_400_names_the_field(app):
    body = assert_error(app.post_json("/api/sample/echo", {"message": 5}, status=400), 400)
    assert "message" in body["error"] and "Not a valid string" in body["error"]
    body = assert_error(app.post_json("/api/sample/echo", {"message": "x", "count": "3"}, status=400), 400)
    assert "count" in body["error"]
    body = assert_error(app.post_json("/api/sample/echo", {"message": "x", "extra": 1}, status=400), 400)
    assert "extra: Unknown field" in body["error"]


@pytest.mark.parametrize("payload", [
    {"message": {"$gt": ""}},
    {"message": "x", "count": {"$ne": 1}},
    {"$where": "1"},
    {"message": "x", "nested.path": 1},
])
def test_400_nosql_operators_anywhere(app, payload):
    body = assert_error(app.post_json("/api/sample/echo", payload, status=400), 400)
    assert "not allowed" in body["error"]


def test_400_body_must_be_object(app):
    assert_error(app.post_json("/api/sample/echo", [1, 2], status=400), 400)


def test_404(app):
    assert_error(app.get("/api/does-not-exist", status=404), 404)


def test_405(app):
    assert_error(app.delete("/api/sample/echo", status=405), 405)


def test_413_declared_length(app):
    body = "x" * (1024 * 1024 + 1)
    assert_error(app.post("/api/sample/echo", body, content_type="application/json", status=413), 413)


def test_413_over_the_hard_cap_is_refused_before_reading(app):
    body = b"x" * (10 * 1024 * 1024 + 1)
    assert_error(app.post("/api/sample/echo", body, content_type="application/json", status=413), 413)


def test_415(app):
    body = assert_error(app.post("/api/sample/echo", "message=x", content_type="application/x-www-form-urlencoded",
                                 status=415), 415)
    assert "application/json" in body["error"]


def test_correlation_id_kept_when_valid_and_replaced_when_not(app):
    incoming = str(uuid.uuid4())
    response = app.get("/api/nope", headers={"X-Correlation-ID": incoming}, status=404)
    assert response.headers["X-Correlation-ID"] == incoming == response.json["correlationId"]
    response = app.get("/api/nope", headers={"X-Correlation-ID": "<script>alert(1)</script>"}, status=404)
    assert response.headers["X-Correlation-ID"] != "<script>alert(1)</script>"
    uuid.UUID(response.headers["X-Correlation-ID"])


def test_debug_adds_details_only_when_enabled(make_app):
    app = make_app(plugins=["sample"], debug="true")
    body = app.post_json("/api/sample/echo", {"message": 5}, status=400).json
    assert "details" in body
    plain = make_app(plugins=["sample"])
    assert "details" not in plain.post_json("/api/sample/echo", {"message": 5}, status=400).json


def test_security_headers_on_every_response(app):
    for response in (app.get("/ping"), app.get("/nope", status=404)):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        assert "Strict-Transport-Security" not in response.headers


def test_hsts_when_enabled(make_app):
    app = make_app(**{"security.hsts": "true"})
    assert app.get("/ping").headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_cors_from_settings(make_app):
    app = make_app(plugins=["sample"], **{"cors.origins": "https://app.example"})
    preflight = app.options("/api/sample/echo", headers={"Origin": "https://app.example",
                                                         "Access-Control-Request-Method": "POST"}, status=204)
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example"
    other = app.get("/api/sample/echo", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_503_when_mongo_is_down_and_recovery_without_restart(make_app, tmp_path):
    mongo = ferretdb_process(tmp_path / "ferret").start()
    try:
        app = make_app(plugins=["sample"], **{"mongo.uri": mongo.url + "outage", "mongo.timeout_ms": "300"})
        headers = app.auth("admin-1", "admin")
        app.post_json("/api/sample/notes", {"text": "before"}, headers=headers, status=201)
        mongo.stop()
        response = app.get("/api/sample/notes", headers=headers, status=503)
        assert_error(response, 503)
        assert int(response.headers["Retry-After"]) >= 1
        health = app.get("/health", status=503)
        assert health.json["status"] == "unhealthy" and health.json["services"]["mongo"] == "disconnected"
        mongo.start()
        notes = app.get("/api/sample/notes", headers=headers, status=200).json["notes"]
        assert [n["text"] for n in notes] == ["before"]
    finally:
        mongo.stop()


def test_503_when_redis_is_down(make_app):
    app = make_app(plugins=["sample"], **{"redis.url": "redis://127.0.0.1:1/0", "redis.timeout": "0.2"})
    response = app.post_json("/api/sample/echo", {"message": "x"}, status=503)
    assert_error(response, 503)
    assert response.headers["Retry-After"]
