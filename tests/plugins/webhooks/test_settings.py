"""Plugin settings: the encryption key (generated file in dev/test, required in production),
timing checks at startup, and the health check."""
from __future__ import annotations

import stat

import pytest

from standardwebhooks import Webhook
from core.clock import utcnow
from core.events import emit
from core.plugins import PluginError
from core.testing import make_test_app
from plugins.webhooks.config import key_file_path
from plugins.webhooks.models import Message
from plugins.webhooks.secrets import SecretBox
from tests.plugins.webhooks.helpers import messages_of, register, run_jobs
from tests.support.receiver import Receiver
from core.lookup import find_service


def test_empty_key_in_test_env_generates_one_key_file_shared_by_processes(wh_settings):
    settings = {**wh_settings, "interviewminds.webhooks.encryption_key": ""}
    first = make_test_app(settings)
    path = key_file_path(settings["interviewminds.var_dir"])
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    key = path.read_text().strip()
    SecretBox(key)  # a valid 32-byte key
    webhook_secret = None
    with Receiver() as receiver:
        webhook = register(first, first.auth("alice"), receiver.url("/"))
        webhook_secret = webhook["secret"]
        # Another app over the same var dir (a worker) reads the same key and can sign.
        second = make_test_app(settings)
        assert path.read_text().strip() == key
        emit(second.registry, "interview.completed", {"n": 1, "ownerId": "alice"})
        run_jobs(second)
        (request,) = receiver.wait_for(1)
    Webhook(webhook_secret).verify(request.body, request.headers)


def test_production_without_a_key_refuses_to_start(wh_settings):
    raw = {k: v for k, v in wh_settings.items()
           if k not in ("interviewminds.mongo.uri", "interviewminds.redis.url",
                        "interviewminds.webhooks.encryption_key",
                        "interviewminds.outbound.allow_cidrs")}  # production refuses an allow-list
    raw.update({"interviewminds.env": "production", "interviewminds.auth.dev": "false"})
    environ = {"INTERVIEWMINDS_MONGO_URI": wh_settings["interviewminds.mongo.uri"],
               "INTERVIEWMINDS_REDIS_URL": wh_settings["interviewminds.redis.url"]}
    with pytest.raises(PluginError, match="interviewminds.webhooks.encryption_key: required in production"):
        make_test_app(raw, environ)
    assert not key_file_path(wh_settings["interviewminds.var_dir"]).exists()  # nothing generated
    environ["INTERVIEWMINDS_WEBHOOKS_ENCRYPTION_KEY"] = SecretBox.generate_key()
    assert find_service(make_test_app(raw, environ).registry, "webhooks.config").box is not None


@pytest.mark.parametrize("overrides,reason", [
    ({"lease": "2", "timeout": "2"}, "interviewminds.webhooks.lease: invalid value 2 (expected more than"),
    ({"schedule": "5s,soon"}, "interviewminds.webhooks.schedule: retry schedule step 'soon'"),
    ({"jitter": "1"}, "interviewminds.webhooks.jitter: invalid value 1.0"),
    ({"encryption_key": "short"}, "interviewminds.webhooks.encryption_key must be the URL-safe base64"),
    ({"timeout": "fast"}, "interviewminds.webhooks.timeout: invalid value 'fast'"),
    ({"nonsense": "1"}, "interviewminds.webhooks.nonsense: unknown setting"),
])
def test_bad_settings_stop_startup_naming_the_key(wh_settings, overrides, reason):
    settings = {**wh_settings, **{f"interviewminds.webhooks.{k}": v for k, v in overrides.items()}}
    with pytest.raises(Exception, match=reason.replace("(", r"\(").replace(".", r"\.")):
        make_test_app(settings)


def test_health_check_reports_a_delivery_backlog(wh_app):
    app = wh_app()
    health = app.get("/health").json
    assert health["checks"]["webhooks.deliveries"] == {"status": "ok", "overdue": 0, "stuck": 0}
    webhook = register(app, app.auth("alice"), "http://127.0.0.1:9/")
    emit(app.registry, "interview.completed", {"n": 1, "ownerId": "alice"})  # no worker runs
    (message,) = messages_of(webhook)
    Message.objects(id=message.id).update_one(set__next_attempt_at=utcnow().replace(year=2020))
    health = app.get("/health").json
    assert health["checks"]["webhooks.deliveries"] == {"status": "backlog", "overdue": 1, "stuck": 0}
    assert health["status"] == "degraded"


def test_metrics_count_attempts_by_outcome(wh_app):
    app = wh_app(**{"webhooks.schedule": "0s"})
    with Receiver([500, 200]) as receiver:
        register(app, app.auth("alice"), receiver.url("/"))
        emit(app.registry, "interview.completed", {"n": 1, "ownerId": "alice"})
        run_jobs(app)
    text = app.get("/metrics").text
    assert 'interviewminds_webhooks_attempts_total{outcome="retry"} 1.0' in text
    assert 'interviewminds_webhooks_attempts_total{outcome="success"} 1.0' in text
