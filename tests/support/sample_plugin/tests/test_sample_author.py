"""How a plugin author tests a plugin: core.testing's fixtures, a real Redis and FerretDB."""
from rq import SimpleWorker

from core.jobs import bind_worker, queues


def test_echo_route(make_app):
    app = make_app(plugins=["sample"], **{"sample.greeting": "hi"})
    assert app.get("/api/sample/echo").json == {"greeting": "hi"}


def test_notes_need_the_permission(make_app):
    app = make_app(plugins=["sample"])
    app.get("/api/sample/notes", status=401)
    app.get("/api/sample/notes", headers=app.auth("carol", "candidate"), status=403)
    admin = app.auth("root", "admin")
    app.post_json("/api/sample/notes", {"text": "hello"}, headers=admin, status=201)
    assert [n["text"] for n in app.get("/api/sample/notes", headers=admin).json["notes"]] == ["hello"]


def test_job_runs(make_app):
    app = make_app(plugins=["sample"])
    app.post_json("/api/sample/echo", {"message": "m", "count": 2}, status=201)
    bind_worker(app.registry)
    SimpleWorker(queues(app.registry), connection=app.registry.im_redis).work(burst=True)
    assert app.registry.im_redis.get("sample:m") == b"2"
