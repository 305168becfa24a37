"""A third-party plugin (tests/support/sample_plugin, installed through its entry point and
enabled by one ini line) adds a route, a GraphQL field, a job and a health check."""
import json

import pytest
import redis

from core.testing import run_cli, write_ini


@pytest.fixture
def ini_file(tmp_path, redis_url, mongo_uri):
    return write_ini(tmp_path / "sample.ini", {
        "interviewminds.env": "test",
        "interviewminds.plugins": "sample",
        "interviewminds.sample.greeting": "hej",
        "interviewminds.auth.dev": "true",
        "interviewminds.var_dir": tmp_path / "var",
        "interviewminds.mongo.uri": mongo_uri,
        "interviewminds.redis.url": redis_url,
        "interviewminds.jobs.retry_intervals": "1",
    })


def test_plugins_command_lists_everything_the_plugin_adds(ini_file):
    result = run_cli("plugins", ini_file)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "sample  (interviewminds-sample-plugin 1.2.3)" in out
    assert "GET,HEAD,POST /api/sample/echo" in out
    assert "Query.sampleGreeting" in out
    assert "sample.record" in out
    assert "ready" in out
    assert "interviewminds_services" in out and "interviewminds_jobs" in out
    listed = json.loads(run_cli("plugins", ini_file, "--json").stdout)
    assert listed[0]["id"] == "sample" and listed[0]["version"] == "1.2.3"
    assert "interviewminds.sample.greeting" in listed[0]["settings"]


def test_route_graphql_and_health_answer_over_http(ini_file):
    from pyramid.paster import get_app
    import webtest

    app = webtest.TestApp(get_app(str(ini_file), "main"))
    assert app.get("/api/sample/echo").json == {"greeting": "hej"}
    assert app.post_json("/graphql", {"query": "{ sampleGreeting }"}).json == {"data": {"sampleGreeting": "hej"}}
    health = app.get("/health").json
    assert health["checks"]["sample.ready"] == "ok"
    assert health["status"] == "ok"


def test_job_runs_in_a_real_worker(ini_file, redis_url):
    from pyramid.paster import get_app
    import webtest

    app = webtest.TestApp(get_app(str(ini_file), "main"))
    created = app.post_json("/api/sample/echo", {"message": "ping", "count": 3}, status=201).json
    assert created["echo"] == "pingpingping"
    store = redis.Redis.from_url(redis_url)
    assert store.get("sample:ping") is None  # nothing ran in the web process
    counts = json.loads(run_cli("jobs", ini_file, "--json").stdout)
    assert counts["interviewminds.sample"]["queued"] == 1
    worker = run_cli("worker", ini_file, "--burst", timeout=120)
    assert worker.returncode == 0, worker.stderr
    assert store.get("sample:ping") == b"3"
    counts = json.loads(run_cli("jobs", ini_file, "--json").stdout)
    assert counts["interviewminds.sample"]["queued"] == 0
    assert counts["interviewminds.sample"]["finished"] == 1


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
    from core.events import emit

    app = make_app(plugins=["sample", "tests.support.local_plugins.event_recorder"])
    app.post_json("/api/sample/echo", {"message": "evt"}, status=201)
    from tests.support.local_plugins import event_recorder

    assert ("sample.happened", {"message": "evt"}) in event_recorder.RECEIVED
    emit(app.registry, "sample.happened", {"boom": True})  # the failing subscriber is isolated
    assert ("sample.happened", {"boom": True}) in event_recorder.RECEIVED
