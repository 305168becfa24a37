"""Security review, finding 5 (issue 17): crafted input answered 500 or 503 instead of 400.

Each input below must be a 400 with the documented body ``{"error", "correlationId"}``, and
MongoDB-wire server (FerretDB) must keep serving other clients: a ``NaN`` that reached it tore
down the connection, so others got 503. Bodies are parsed by ``core.http.validation.loads_json``
(REST and GraphQL alike); times go through ``core.http.validation.utc_instant``.
"""
from __future__ import annotations

import json
import threading

import pytest

NO_LIMITS = {"ratelimit.enabled": "false"}
DOCUMENTED = {"error", "correlationId"}
JSON_TYPE = {"Content-Type": "application/json"}
DEEP = "[" * 1100 + "]" * 1100  # 1,100 levels
NOT_JSON_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"]
HUGE_INTEGERS = [str(2 ** 63), str(-(2 ** 63) - 1), "1" * 40]
EXTREME_TIMES = ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"]


@pytest.fixture
def app(make_app):
    return make_app(plugins=["interviews", "proctoring"], **NO_LIMITS)


def assert_documented_400(response) -> None:
    assert response.status_int == 400, response.text
    assert set(response.json) == DOCUMENTED, response.json
    assert response.json["correlationId"] == response.headers["X-Correlation-ID"]


def create_raw(app, metadata_json: str, user: str = "cand-x"):
    """POST /api/interview with ``metadata_json`` spliced into the body as raw JSON text."""
    body = '{"title": "Screen", "role": "Backend", "difficulty": "easy", "metadata": {"ats": %s}}' % metadata_json
    return app.post("/api/interview", body, headers={**app.auth(user), **JSON_TYPE}, expect_errors=True)


def graphql_raw(app, variables_json: str, headers=None):
    body = '{"query": "query($v: JSON) { __typename }", "variables": {"v": %s}}' % variables_json
    return app.post("/graphql", body, headers={**(headers or {}), **JSON_TYPE}, expect_errors=True)


# -- nesting -------------------------------------------------------------------------------------------
def test_deeply_nested_rest_body_is_400(app):
    response = create_raw(app, DEEP)
    assert_documented_400(response)
    assert "nested too deeply" in response.json["error"]


@pytest.mark.parametrize("who", ["anonymous", "candidate"])
def test_deeply_nested_graphql_variables_are_400(app, who):
    headers = app.auth("cand-g") if who == "candidate" else {}
    assert_documented_400(graphql_raw(app, DEEP, headers))


def test_deeply_nested_graphql_variables_over_get_are_400(app):
    response = app.get("/graphql", {"query": "query($v: JSON) { __typename }", "variables": '{"v": %s}' % DEEP},
                       expect_errors=True)
    assert_documented_400(response)


# -- numbers -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("number", HUGE_INTEGERS)
def test_integers_beyond_64_bits_in_metadata_are_400(app, number):
    assert_documented_400(create_raw(app, number))


@pytest.mark.parametrize("number", [str(2 ** 64), "9" * 5000])  # 5000 digits: past int()'s own limit
def test_integers_beyond_64_bits_in_graphql_variables_are_400(app, number):
    assert_documented_400(graphql_raw(app, number, app.auth("cand-g")))


def test_integers_beyond_64_bits_in_graphql_literals_are_bad_input(app):
    mutation = 'mutation { createInterview(input: {title: "t", role: "r", difficulty: "easy", ' \
               'metadata: {ats: %s}}) { id } }'
    for literal in (str(2 ** 64), "1e999"):
        body = app.post_json("/graphql", {"query": mutation % literal}, headers=app.auth("cand-g")).json
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["status"] == 400, body


@pytest.mark.parametrize("number", NOT_JSON_NUMBERS)
def test_non_finite_numbers_in_a_rest_body_are_400(app, number):
    response = create_raw(app, number)
    assert_documented_400(response)
    assert "finite" in response.json["error"]


@pytest.mark.parametrize("number", NOT_JSON_NUMBERS)
def test_non_finite_numbers_in_graphql_variables_are_400(app, number):
    assert_documented_400(graphql_raw(app, number))


def test_the_store_keeps_serving_other_clients_while_nan_is_sent(make_app):
    attacker_app = make_app(plugins=["interviews"], **NO_LIMITS)
    other_app = make_app(plugins=["interviews"], **NO_LIMITS)  # another process's client of the same store
    mine = other_app.post_json("/api/interview", {"title": "Mine", "role": "Backend", "difficulty": "easy"},
                               headers=other_app.auth("cand-other"), status=201).json
    headers = other_app.auth("cand-other")
    statuses: list[int] = []
    done = threading.Event()

    def read_loop():
        while not done.is_set():
            statuses.append(other_app.get(f"/api/interview/{mine['id']}", headers=headers,
                                          expect_errors=True).status_int)

    reader = threading.Thread(target=read_loop)
    reader.start()
    try:
        for _ in range(5):
            for number in ("NaN", "Infinity", "1e999", str(2 ** 70)):
                assert_documented_400(create_raw(attacker_app, number, user="cand-attacker"))
    finally:
        done.set()
        reader.join(30)
    assert statuses and set(statuses) == {200}
    # Right after: the store answers both clients, reads and writes.
    other_app.get(f"/api/interview/{mine['id']}", headers=headers, status=200)
    attacker_app.post_json("/api/interview", {"title": "Fine", "role": "Backend", "difficulty": "easy"},
                           headers=attacker_app.auth("cand-attacker"), status=201)


# -- times ---------------------------------------------------------------------------------------------
@pytest.fixture
def proctoring(make_app):
    return make_app(plugins=["proctoring"], **NO_LIMITS)  # bodies are checked before the interview id


@pytest.mark.parametrize("moment", EXTREME_TIMES)
@pytest.mark.parametrize("route", ["frame", "audio", "screen"])
def test_extreme_timestamps_in_proctoring_are_400(proctoring, route, moment):
    body = {"frame": {"frameData": "AAAA", "interviewId": "iv-t", "timestamp": moment},
            "audio": {"audioData": "AAAA", "sampleRate": 16000, "interviewId": "iv-t", "timestamp": moment},
            "screen": {"interviewId": "iv-t", "events": [{"type": "copy", "timestamp": moment}]}}[route]
    response = proctoring.post_json(f"/api/proctoring/{route}", body, headers=proctoring.auth("cand-t"),
                                    expect_errors=True)
    assert_documented_400(response)
    assert "out of range" in response.json["error"]


@pytest.mark.parametrize("moment", EXTREME_TIMES)
@pytest.mark.parametrize("param", ["from", "to"])
def test_extreme_times_in_export_are_400(app, param, moment):
    response = app.get("/api/export/interviews", {param: moment}, headers=app.auth("int-e", "interviewer"),
                       expect_errors=True)
    assert_documented_400(response)


@pytest.mark.parametrize("moment", EXTREME_TIMES)
@pytest.mark.parametrize("param", ["from", "to"])
def test_extreme_times_in_the_audit_log_are_400(app, param, moment):
    response = app.get("/api/admin/audit-logs", {param: moment}, headers=app.auth("root", "admin"),
                       expect_errors=True)
    assert_documented_400(response)


# -- content type in debug -------------------------------------------------------------------------------
def test_json_with_a_non_json_content_type_is_415_in_debug_too(make_app):
    body = json.dumps({"title": "Screen", "role": "Backend", "difficulty": "easy"})
    for debug in ("true", "false"):
        app = make_app(plugins=["interviews"], **NO_LIMITS, debug=debug)
        response = app.post("/api/interview", body, headers={**app.auth("cand-d"), "Content-Type": "text/plain"},
                            expect_errors=True)
        assert response.status_int == 415, (debug, response.text)
        allowed = DOCUMENTED | ({"details"} if debug == "true" else set())  # details: debug only
        assert DOCUMENTED <= set(response.json) <= allowed
        assert "application/json" in response.json["error"]
