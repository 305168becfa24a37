"""Properties every route of the full app must have, whatever plugin serves it.

- Anonymous callers get 401 on everything but the documented public routes.
- Hostile input (malformed JSON, wrong types, operators, deep nesting, huge strings, wrong
  content types, bogus ids) never produces a 500, for any role.
"""
import json
import re

import pytest

FIRST_PARTY = ["interviews", "proctoring", "multimodal", "webhooks"]
PUBLIC = {
    ("GET", "/health"), ("GET", "/ping"), ("GET", "/metrics"), ("GET", "/api/csrf"),
}
BOGUS_ID = "64b7f0c2a1b2c3d4e5f60718"
HOSTILE_BODIES = [
    ("application/json", b"{not json"),
    ("application/json", b"[1, 2, 3]"),
    ("application/json", b'"just a string"'),
    ("application/json", b"null"),
    ("application/json", json.dumps({"$where": "sleep(1000)"}).encode()),
    ("application/json", json.dumps({"id": {"$gt": ""}, "interviewId": {"$ne": None}, "url": {"$regex": "."}}).encode()),
    ("application/json", json.dumps({"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}).encode()),
    ("application/json", json.dumps({k: "x" * 100_000 for k in ("title", "message", "frameData", "url",
                                                                 "audioData", "audioText", "interviewId")}).encode()),
    ("application/json", json.dumps({k: 12345 for k in ("title", "message", "frameData", "url", "events",
                                                         "interviewId", "role", "status")}).encode()),
    ("application/json", json.dumps({k: None for k in ("title", "message", "frameData", "url", "interviewId")}).encode()),
    ("application/json", b"\xff\xfe\x00garbage"),
    ("text/plain", b"hello"),
    ("application/x-www-form-urlencoded", b"a=1&b=2"),
]


@pytest.fixture(scope="module")
def full_app(tmp_path_factory, redis_service, mongo_service):
    from core.testing import base_settings, make_test_app

    settings = base_settings(redis_service[0], mongo_service[0].rstrip("/") + "/all_routes",
                             tmp_path_factory.mktemp("var"), **{
                                 "interviewminds.plugins": " ".join(FIRST_PARTY),
                                 "interviewminds.ratelimit.enabled": "false",
                             })
    return make_test_app(settings)


def routes(app):
    found = []
    for service in app.registry.cornice_services.values():
        path = re.sub(r"\{[^}]+\}", BOGUS_ID, service.path)
        for method in sorted({m for m, _, _ in service.definitions} - {"HEAD"}):
            found.append((method, path, service.path))
    assert found, "no routes found"
    return found


def send(app, method, path, content_type=None, body=b"", headers=None):
    headers = dict(headers or {})
    if content_type:
        headers["Content-Type"] = content_type
    return app.request(path, method=method, body=body, headers=headers, expect_errors=True)


def test_anonymous_callers_get_401_except_on_public_routes(full_app):
    for method, path, pattern in routes(full_app):
        if (method, pattern) in PUBLIC:
            continue
        response = send(full_app, method, path, "application/json", b"{}")
        assert response.status_int == 401, f"{method} {pattern} answered {response.status_int} to an anonymous caller"
        assert response.json["correlationId"] == response.headers["X-Correlation-ID"]


@pytest.mark.parametrize("role", ["candidate", "admin"])
def test_hostile_input_never_gets_a_500(full_app, role):
    headers = full_app.auth(f"fuzz-{role}", role)
    failures = []
    for method, path, pattern in routes(full_app):
        bodies = HOSTILE_BODIES if method in ("POST", "PUT", "PATCH") else [(None, b"")]
        for content_type, body in bodies:
            response = send(full_app, method, path, content_type, body, headers)
            if response.status_int >= 500:
                failures.append((method, pattern, content_type, body[:60], response.status_int, response.text[:200]))
            elif response.status_int >= 400:
                assert set(response.json) >= {"error", "correlationId"}, (method, pattern)
        for query in ("?page=-1&pageSize=abc", "?status[$ne]=x", "?from=not-a-date&limit=999999999"):
            if method == "GET":
                response = send(full_app, method, path + query, headers=headers)
                if response.status_int >= 500:
                    failures.append((method, pattern, query, b"", response.status_int, response.text[:200]))
    assert not failures, "\n".join(map(str, failures))


def test_graphql_hostile_documents_never_500(full_app):
    headers = full_app.auth("fuzz-admin", "admin")
    for document in ["{", "{ nope }", "query { " + "a: __typename " * 500 + "}", "{ interview(id: \"$gt\") { id } }",
                     "{ interviews(userId: {a: 1}) { id } }", "x" * 20000]:
        response = full_app.post_json("/graphql", {"query": document}, headers=headers, expect_errors=True)
        assert response.status_int < 500, (document[:50], response.text[:200])
