"""A third-party plugin (tests/support/sample_plugin, installed through its entry point and
enabled by one ini line) uses every hook: routes, GraphQL, jobs, health checks, typed events,
permissions, a rate-limit tier, an identity source, a CLI command, startup and shutdown hooks,
a service, and a hookspec of its own that another plugin implements."""
import json

import pytest
import redis

from core.testing import run_cli, write_ini

EXTENSION = "tests.support.local_plugins.sample_extension"


@pytest.fixture
def ini_file(tmp_path, redis_url, mongo_uri):
    return write_ini(tmp_path / "sample.ini", {
        "interviewminds.env": "test",
        "interviewminds.plugins": "sample",
        "interviewminds.sample.greeting": "hej",
        "interviewminds.sample.api_keys": "key-of-ann=ann",
        "interviewminds.auth.dev": "true",
        "interviewminds.var_dir": tmp_path / "var",
        "interviewminds.mongo.uri": mongo_uri,
        "interviewminds.redis.url": redis_url,
        "interviewminds.jobs.retry_intervals": "1",
    })


def served(ini_file):
    from pyramid.paster import get_app
    import webtest

    return webtest.TestApp(get_app(str(ini_file), "main"))


def test_plugins_command_lists_everything_the_plugin_adds(ini_file):
    result = run_cli("plugins", ini_file)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "sample  (interviewminds-sample-plugin 1.2.3)" in out
    assert "GET,HEAD,POST /api/sample/echo" in out and "DELETE /api/sample/notes/{id}" in out
    assert "Query.sampleGreeting" in out
    assert "sample.record" in out
    assert "ready" in out
    for hook in ("interviewminds_services", "interviewminds_jobs", "interviewminds_permissions",
                 "interviewminds_rate_limits", "interviewminds_identity_sources", "interviewminds_cli",
                 "interviewminds_startup", "interviewminds_shutdown", "interviewminds_addhooks"):
        assert hook in out, hook
    listed = json.loads(run_cli("plugins", ini_file, "--json").stdout)
    sample = listed[0]
    assert sample["id"] == "sample" and sample["version"] == "1.2.3"
    assert "interviewminds.sample.greeting" in sample["settings"]
    assert sample["permissions"] == ["sample:read", "sample:write"]
    assert sample["rate_limit_paths"] == ["/api/sample/echo"]
    assert sample["identity_sources"] == ["sample_api_key"]
    assert sample["events"] == ["sample.happened"]
    assert len(sample["hooks"]) == 15  # every hook core offers


def test_route_graphql_and_health_answer_over_http(ini_file):
    app = served(ini_file)
    assert app.get("/api/sample/echo").json == {"greeting": "hej"}
    assert app.post_json("/graphql", {"query": "{ sampleGreeting }"}).json == {"data": {"sampleGreeting": "hej"}}
    health = app.get("/health").json
    assert health["checks"]["sample.ready"] == "ok"
    assert health["status"] == "ok"


def test_job_runs_in_a_real_worker_with_startup_and_shutdown_hooks(ini_file, redis_url, tmp_path):
    app = served(ini_file)  # the web process runs the startup hooks
    store = redis.Redis.from_url(redis_url)
    assert store.get("sample:startups") == b"1"
    created = app.post_json("/api/sample/echo", {"message": "ping", "count": 3}, status=201).json
    assert created["echo"] == "pingpingping"
    assert store.get("sample:ping") is None  # nothing ran in the web process
    counts = json.loads(run_cli("jobs", ini_file, "--json").stdout)
    assert counts["interviewminds.sample"]["queued"] == 1
    shutdowns = tmp_path / "var" / "sample" / "shutdowns.log"
    assert not shutdowns.exists()
    worker = run_cli("worker", ini_file, "--burst", timeout=120)
    assert worker.returncode == 0, worker.stderr
    assert store.get("sample:ping") == b"3"
    assert store.get("sample:startups") == b"2"  # ... and so does the worker
    lines = shutdowns.read_text().splitlines()
    assert len(lines) == 1 and lines[0].endswith(" stopped")  # the worker ran the shutdown hooks once
    counts = json.loads(run_cli("jobs", ini_file, "--json").stdout)
    assert counts["interviewminds.sample"]["queued"] == 0
    assert counts["interviewminds.sample"]["finished"] == 1


def test_plugin_cli_command_uses_the_plugins_service(ini_file):
    app = served(ini_file)
    from core.auth.users import set_role

    set_role("ann", "interviewer", by="test")
    for text in ("one", "two"):  # through the plugin's API-key identity source
        app.post_json("/api/sample/notes", {"text": text}, headers={"X-Sample-Key": "key-of-ann"}, status=201)
    result = run_cli("sample", "count-notes", ini_file, "--owner", "ann")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "2\n"
    assert run_cli("sample", "count-notes", ini_file, "--owner", "nobody").stdout == "0\n"
    usage = run_cli("sample", "count-notes", ini_file)
    assert usage.returncode == 2 and "--owner" in usage.stderr


def test_operator_overrides_the_plugins_rate_limit_tier(make_app):
    app = make_app(plugins=["sample"], **{"ratelimit.limits": "sample_echo=2/minute"})
    alice = app.auth("alice")
    for remaining in (1, 0):
        response = app.get("/api/sample/echo", headers=alice)
        assert response.headers["RateLimit-Policy"] == "300;w=60, 2;w=60"
        assert response.headers["RateLimit"].startswith(f"limit=2, remaining={remaining},")
    denied = app.get("/api/sample/echo", headers=alice, status=429)
    assert denied.json["error"] == "rate limit exceeded for the sample_echo tier"
    assert denied.headers["RateLimit-Policy"] == "300;w=60, 2;w=60" and int(denied.headers["Retry-After"]) >= 1
    # The same caller's other routes only count against `general`.
    notes = app.get("/api/sample/notes", headers=alice, status=200)
    assert notes.headers["RateLimit-Policy"] == "300;w=60"
    assert app.post_json("/graphql", {"query": "{ sampleGreeting }"}, headers=alice).json["data"]
    app.get("/api/sample/echo", headers=app.auth("bob"), status=200)  # and other callers have their own budget


def test_failed_job_is_retried_with_backoff(make_app, redis_url):
    from core.jobs import enqueue

    app = make_app(plugins=["sample"], **{"jobs.retry_intervals": "1 2", "jobs.max_retries": "2"})
    job = enqueue(app.registry, "sample.record", key="k", value="v")
    assert job.retries_left == 2 and job.retry_intervals == [1, 2]


def test_unknown_job_name_is_refused(make_app):
    from core.jobs import enqueue

    app = make_app(plugins=["sample"])
    with pytest.raises(KeyError, match="unknown job 'sample.nope'"):
        enqueue(app.registry, "sample.nope")


def test_migrate_creates_plugin_indexes_idempotently(ini_file, mongo_uri):
    import pymongo

    first = run_cli("migrate", ini_file)
    assert first.returncode == 0, first.stderr
    assert "sample_notes" in first.stdout and "core_users" in first.stdout
    second = run_cli("migrate", ini_file)
    assert second.returncode == 0 and second.stdout == first.stdout
    db = pymongo.MongoClient(mongo_uri).get_default_database()
    keys = [list(ix["key"]) for ix in db.sample_notes.list_indexes()]
    assert ["owner", "created_at"] in keys


def test_events_reach_subscribers(make_app):
    from core.events import EventPayloadError, emit
    from tests.support.local_plugins import event_recorder

    app = make_app(plugins=["sample", "tests.support.local_plugins.event_recorder"])
    app.post_json("/api/sample/echo", {"message": "evt"}, status=201)
    assert ("sample.happened", {"message": "evt"}) in event_recorder.RECEIVED
    app.post_json("/api/sample/echo", {"message": "boom"}, status=201)  # the failing subscriber is isolated
    assert ("sample.happened", {"message": "boom"}) in event_recorder.RECEIVED
    with pytest.raises(EventPayloadError, match=r"event 'sample.happened'.*'boom' was unexpected"):
        emit(app.registry, "sample.happened", {"message": "x", "boom": True})  # breaks the declared schema
    assert ("sample.happened", {"message": "x", "boom": True}) not in event_recorder.RECEIVED


def test_extension_plugin_implements_the_sample_plugins_own_hook(make_app):
    app = make_app(plugins=["sample", EXTENSION], **{"sample.greeting": "hi"})
    assert app.get("/api/sample/echo").json == {"greeting": "hi, from the extension"}
    assert app.get("/graphql", {"query": "{ sampleGreeting }"}).json["data"] == {"sampleGreeting": "hi, from the extension"}


def test_extension_without_the_plugin_it_extends_stops_startup(make_app):
    from core.plugins import PluginError

    with pytest.raises(PluginError, match="plugin 'sample_extension' implements unknown hooks: sample_decorate_greeting"):
        make_app(plugins=[EXTENSION])
