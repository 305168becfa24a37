"""/health status rules; checks run concurrently under a timeout and never raise."""
import time


def test_ok_when_everything_configured_is_up(make_app):
    body = make_app().get("/health").json
    assert body["status"] == "ok"
    assert body["services"] == {"mongo": "connected", "redis": "connected"}
    assert body["timestamp"].endswith("Z")


def test_degraded_when_redis_is_down(make_app):
    body = make_app(**{"redis.url": "redis://127.0.0.1:1/0", "redis.timeout": "0.2"}).get("/health").json
    assert body["status"] == "degraded" and body["services"]["redis"] == "disconnected"


def test_optional_services_are_checked_by_the_plugin_that_uses_them(make_app):
    # The groq provider plugin checks Groq only when a key is configured.
    body = make_app(plugins=["groq"]).get("/health").json
    assert body["status"] == "ok" and body["checks"] == {"groq.api": "not_configured"}
    body = make_app(plugins=["groq"], **{"groq.api_key": "k", "groq.base_url": "http://127.0.0.1:1/"}).get("/health").json
    assert body["status"] == "degraded" and body["checks"]["groq.api"] == "unreachable"


def test_unhealthy_503_when_mongo_is_down(make_app):
    response = make_app(**{"mongo.uri": "mongodb://127.0.0.1:1/x", "mongo.timeout_ms": "200"}).get("/health", status=503)
    assert response.json["status"] == "unhealthy" and response.json["services"]["mongo"] == "disconnected"
    assert response.headers["Retry-After"]


def test_failing_and_hanging_plugin_checks_are_reported_not_raised(make_app):
    app = make_app(plugins=["tests.support.local_plugins.flaky_health"], **{"health.timeout": "0.5"})
    start = time.monotonic()
    body = app.get("/health").json
    assert time.monotonic() - start < 3
    assert body["checks"] == {"flaky_health.raises": "error", "flaky_health.hangs": "timeout"}
    assert body["status"] == "degraded"


def test_ping(make_app):
    assert make_app().get("/ping").json == {"status": "ok"}
