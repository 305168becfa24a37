"""Admin routes (role matrix), role assignment rules, and the audit log."""
import datetime as dt

import pytest

ADMIN_ROUTES = [
    ("get", "/api/admin/users", None),
    ("post_json", "/api/admin/roles", {"userId": "someone", "role": "interviewer"}),
    ("get", "/api/admin/audit-logs", None),
]


@pytest.fixture
def app(make_app):
    return make_app(plugins=["sample"], **{"ratelimit.enabled": "false"})


def call(app, method, path, body, headers, status):
    if body is None:
        return getattr(app, method)(path, headers=headers, status=status)
    return getattr(app, method)(path, body, headers=headers, status=status)


@pytest.mark.parametrize("method,path,body", ADMIN_ROUTES)
@pytest.mark.parametrize("role,status", [(None, 401), ("candidate", 403), ("interviewer", 403), ("admin", 200)])
def test_admin_route_matrix(app, method, path, body, role, status):
    headers = app.auth(f"user-{role}", role) if role else {}
    response = call(app, method, path, body, headers, status)
    if status != 200:
        assert response.json["correlationId"] == response.headers["X-Correlation-ID"]


def test_users_are_paged_and_filtered_by_role(app):
    admin = app.auth("root", "admin")
    for i in range(5):
        app.token(f"cand-{i}", "candidate")
    app.token("int-1", "interviewer")
    page = app.get("/api/admin/users", {"role": "candidate", "pageSize": 2, "page": 2}, headers=admin).json
    assert page["total"] == 5 and page["page"] == 2 and [u["userId"] for u in page["items"]] == ["cand-2", "cand-3"]
    assert app.get("/api/admin/users", {"role": "boss"}, headers=admin, status=400).json["error"].startswith(
        "invalid input: role")


def test_user_without_record_is_a_candidate_and_admin_assigns_roles(app):
    from core.auth.users import User

    token = app.token("newbie", "candidate")
    User.objects(user_id="newbie").delete()  # no record at all
    me = app.post_json("/graphql", {"query": "{ me { role } }"}, headers={"Authorization": f"Bearer {token}"}).json
    assert me["data"]["me"]["role"] == "candidate"
    admin = app.auth("root", "admin")
    assigned = app.post_json("/api/admin/roles", {"userId": "newbie", "role": "interviewer"}, headers=admin).json
    assert assigned["role"] == "interviewer" and assigned["roleUpdatedBy"] == "root"
    me = app.post_json("/graphql", {"query": "{ me { role } }"}, headers={"Authorization": f"Bearer {token}"}).json
    assert me["data"]["me"]["role"] == "interviewer"


def test_nobody_changes_their_own_role(app):
    admin = app.auth("root", "admin")
    response = app.post_json("/api/admin/roles", {"userId": "root", "role": "candidate"}, headers=admin, status=403)
    assert "your own role" in response.json["error"]


@pytest.mark.parametrize("body", [
    {"userId": "x", "role": "superuser"},
    {"userId": {"$ne": ""}, "role": "admin"},
    {"userId": "x"},
    {"userId": "x", "role": "admin", "extra": True},
])
def test_role_assignment_bad_input(app, body):
    admin = app.auth("root", "admin")
    app.post_json("/api/admin/roles", body, headers=admin, status=400)


def test_every_mutation_and_denial_is_audited(app):
    admin = app.auth("root", "admin")
    candidate = app.auth("cand", "candidate")
    app.post_json("/api/sample/echo", {"message": "hi"}, headers=candidate, status=201)
    app.post_json("/api/sample/notes", {"text": "nope"}, headers=candidate, status=403)
    app.get("/api/admin/users", status=401)
    app.post_json("/api/admin/roles", {"userId": "cand", "role": "interviewer"}, headers=admin)
    app.get("/api/sample/echo", headers=candidate)  # a safe, allowed request is not audited
    logs = app.get("/api/admin/audit-logs", headers=admin).json
    actions = [(e["action"], e["status"], e["statusCode"], e["userId"]) for e in logs["items"]]
    assert actions == [
        ("POST /api/admin/roles", "success", 200, "root"),
        ("GET /api/admin/users", "denied", 401, None),
        ("POST /api/sample/notes", "denied", 403, "cand"),
        ("POST /api/sample/echo", "success", 201, "cand"),
    ]
    role_change = logs["items"][0]
    assert role_change["resource"] == "user:cand" and role_change["role"] == "admin"
    assert role_change["correlationId"] and role_change["ip"] and role_change["time"].endswith("Z")


def test_audit_log_filters(app):
    admin = app.auth("root", "admin")
    candidate = app.auth("cand", "candidate")
    app.post_json("/api/sample/echo", {"message": "a"}, headers=candidate, status=201)
    app.post_json("/api/sample/notes", {"text": "b"}, headers=candidate, status=403)
    by_status = app.get("/api/admin/audit-logs", {"status": "denied"}, headers=admin).json["items"]
    assert [e["action"] for e in by_status] == ["POST /api/sample/notes"]
    by_user = app.get("/api/admin/audit-logs", {"userId": "cand", "action": "POST /api/sample/echo"},
                      headers=admin).json["items"]
    assert len(by_user) == 1
    future = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)).isoformat()
    assert app.get("/api/admin/audit-logs", {"from": future}, headers=admin).json["total"] == 0
    app.get("/api/admin/audit-logs", {"from": "yesterday"}, headers=admin, status=400)
    app.get("/api/admin/audit-logs", {"userId[$ne]": "x"}, headers=admin, status=400)


def test_request_succeeds_when_the_audit_store_fails(make_app, tmp_path):
    from core.services import ferretdb_process

    mongo = ferretdb_process(tmp_path / "ferret").start()
    try:
        app = make_app(plugins=["sample"], **{"mongo.uri": mongo.url + "audit", "mongo.timeout_ms": "300"})
        mongo.stop()
        app.post_json("/api/sample/echo", {"message": "still works"}, status=201)  # anonymous: no role lookup
        metrics = app.get("/metrics").text
        assert "interviewminds_audit_write_failures_total 1.0" in metrics
    finally:
        mongo.stop()


def test_audit_purge_job_keeps_recent_entries(app):
    from core.audit import AuditEntry, purge_audit
    from core.jobs import JobContext

    old = AuditEntry(action="POST /x", status="success", status_code=200,
                     time=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=400)).save()
    app.post_json("/api/sample/echo", {"message": "fresh"}, status=201)
    assert purge_audit(JobContext(app.registry)) == 1
    assert AuditEntry.objects(id=old.id).count() == 0 and AuditEntry.objects.count() == 1
