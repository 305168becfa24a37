"""The permission matrix of every route of the interviews plugin: anonymous, the candidate who
owns the interview, another candidate, an assigned interviewer, an unassigned interviewer
(with ``interviewer_reads_any`` on and off) and an admin."""
from __future__ import annotations

import pytest

from tests.plugins.interviews.helpers import NO_RATE_LIMIT, PLUGINS, create, gql

OWNER, OTHER, ASSIGNED, UNASSIGNED, ADMIN = "cand-own", "cand-other", "int-assigned", "int-free", "adm-1"
ACTORS = {  # name -> (user id, role) or None for anonymous
    "anonymous": None,
    "owner": (OWNER, "candidate"),
    "other_candidate": (OTHER, "candidate"),
    "assigned_interviewer": (ASSIGNED, "interviewer"),
    "unassigned_interviewer": (UNASSIGNED, "interviewer"),
    "admin": (ADMIN, "admin"),
}


def expected(reads_any: bool) -> dict[str, dict[str, int]]:
    free = 200 if reads_any else 404
    return {
        "POST /api/interview": dict(anonymous=401, owner=201, other_candidate=201, assigned_interviewer=201,
                                    unassigned_interviewer=201, admin=201),
        "GET /api/interview/{id}": dict(anonymous=401, owner=200, other_candidate=404, assigned_interviewer=200,
                                        unassigned_interviewer=free, admin=200),
        "PUT /api/interview/{id}": dict(anonymous=401, owner=200, other_candidate=404, assigned_interviewer=200,
                                        unassigned_interviewer=free, admin=200),
        "POST /api/chat": dict(anonymous=401, owner=200, other_candidate=404, assigned_interviewer=403,
                               unassigned_interviewer=403 if reads_any else 404, admin=403),
        "GET /api/export/interviews": dict(anonymous=401, owner=403, other_candidate=403, assigned_interviewer=200,
                                           unassigned_interviewer=200, admin=200),
        "GET /api/reports/dashboard": dict(anonymous=401, owner=403, other_candidate=403, assigned_interviewer=200,
                                           unassigned_interviewer=200, admin=200),
        "GET /api/reports/candidate/{owner}": dict(anonymous=401, owner=200, other_candidate=403,
                                                   assigned_interviewer=200, unassigned_interviewer=200 if reads_any
                                                   else 404, admin=200),
        # GraphQL answers 200; the outcome is in the body: ok, null, [] or an error code.
        "graphql interview(id)": dict(anonymous="UNAUTHENTICATED", owner="ok", other_candidate="null",
                                      assigned_interviewer="ok", unassigned_interviewer="ok" if reads_any else "null",
                                      admin="ok"),
        "graphql interviews(userId)": dict(anonymous="UNAUTHENTICATED", owner="ok", other_candidate="empty",
                                           assigned_interviewer="ok",
                                           unassigned_interviewer="ok" if reads_any else "empty", admin="ok"),
        "graphql analytics": dict(anonymous="UNAUTHENTICATED", owner="FORBIDDEN", other_candidate="FORBIDDEN",
                                  assigned_interviewer="ok", unassigned_interviewer="ok", admin="ok"),
        "graphql createInterview": dict(anonymous="UNAUTHENTICATED", owner="ok", other_candidate="ok",
                                        assigned_interviewer="ok", unassigned_interviewer="ok", admin="ok"),
        "graphql updateScore": dict(anonymous="UNAUTHENTICATED", owner="FORBIDDEN", other_candidate="NOT_FOUND",
                                    assigned_interviewer="ok",
                                    unassigned_interviewer="ok" if reads_any else "NOT_FOUND", admin="ok"),
    }


def _all_headers(app) -> dict[str, dict]:
    """Auth headers per actor (storing each role once)."""
    return {actor: (app.auth(*who) if who else {}) for actor, who in ACTORS.items()}


def _graphql_outcome(body: dict, field: str) -> str:
    if body.get("errors"):
        return body["errors"][0]["extensions"]["code"]
    value = body["data"][field]
    if value is None:
        return "null"
    if value == []:
        return "empty"
    return "ok"


def _call(app, route: str, actor: str, interview_id: str, auth: dict[str, dict]) -> int | str:
    headers = auth[actor]
    admin = auth["admin"]
    if route == "POST /api/interview":
        return app.post_json("/api/interview", {"title": "t", "role": "r", "difficulty": "easy"}, headers=headers,
                             expect_errors=True).status_int
    if route == "GET /api/interview/{id}":
        return app.get(f"/api/interview/{interview_id}", headers=headers, expect_errors=True).status_int
    if route == "PUT /api/interview/{id}":
        version = app.get(f"/api/interview/{interview_id}", headers=admin).json["version"]
        return app.put_json(f"/api/interview/{interview_id}", {"metadata": {"seen": actor}, "version": version},
                            headers=headers, expect_errors=True).status_int
    if route == "POST /api/chat":
        return app.post_json("/api/chat", {"interviewId": interview_id, "message": "Hello"}, headers=headers,
                             expect_errors=True).status_int
    if route.startswith("GET "):
        path = route[4:].replace("{owner}", OWNER)
        return app.get(path, headers=headers, expect_errors=True).status_int
    field_queries = {
        "graphql interview(id)": ("interview", "query($id: ID!) { interview(id: $id) { id } }", {"id": interview_id}),
        "graphql interviews(userId)": ("interviews", "query($u: String!) { interviews(userId: $u) { id } }",
                                       {"u": OWNER}),
        "graphql analytics": ("analytics", "{ analytics(timeRange: ALL_TIME) { totalInterviews } }", {}),
        "graphql createInterview": ("createInterview", 'mutation { createInterview(input: {title: "t", role: "r", '
                                                       'difficulty: "easy"}) { id } }', {}),
        "graphql updateScore": ("updateScore", "mutation($id: ID!) { updateScore(interviewId: $id, "
                                               "score: {overall: 70}) { id } }", {"id": interview_id}),
    }
    field, query, variables = field_queries[route]
    body = app.post_json("/graphql", {"query": query, "variables": variables}, headers=headers).json
    return _graphql_outcome(body, field)


@pytest.mark.parametrize("reads_any", [True, False], ids=["interviewer_reads_any", "assigned_only"])
def test_permission_matrix(make_app, events, reads_any):
    app = make_app(plugins=PLUGINS, **NO_RATE_LIMIT, **{"auth.interviewer_reads_any": str(reads_any).lower()})
    auth = _all_headers(app)
    interview = create(app, ASSIGNED, "interviewer", candidateId=OWNER)
    app.put_json(f"/api/interview/{interview['id']}", {"status": "in_progress", "version": 1},
                 headers=auth["owner"])
    mismatches = []
    for route, by_actor in expected(reads_any).items():
        for actor, want in by_actor.items():
            got = _call(app, route, actor, interview["id"], auth)
            if got != want:
                mismatches.append(f"{route} as {actor}: expected {want}, got {got}")
    assert not mismatches, "\n".join(mismatches)


def test_assigned_only_interviewer_exports_only_assigned_rows(make_app, events):
    app = make_app(plugins=PLUGINS, **NO_RATE_LIMIT, **{"auth.interviewer_reads_any": "false"})
    mine = create(app, ASSIGNED, "interviewer", candidateId=OWNER)
    create(app, OTHER)
    rows = app.get("/api/export/interviews", {"format": "json"}, headers=app.auth(ASSIGNED, "interviewer")).json
    assert [r["id"] for r in rows] == [mine["id"]]
    dashboard = app.get("/api/reports/dashboard", headers=app.auth(ASSIGNED, "interviewer")).json
    assert dashboard["total"] == 1
    everything = app.get("/api/export/interviews", {"format": "json"}, headers=app.auth(ADMIN, "admin")).json
    assert len(everything) == 2


def test_only_staff_assign_people_when_creating(app):
    body = create(app, OWNER, expect=403, candidateId=OTHER)
    assert "candidateId" in body["error"]
    create(app, OWNER, expect=403, interviewers=[ASSIGNED])
    made = create(app, ADMIN, "admin", candidateId=OWNER, interviewers=[ASSIGNED])
    assert made["ownerId"] == OWNER and made["interviewers"] == [ASSIGNED]
    assert gql(app, "{ interviews(userId: \"%s\") { id } }" % OWNER, user=OWNER)["data"]["interviews"] == [
        {"id": made["id"]}]
