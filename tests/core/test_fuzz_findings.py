"""Regressions for the 500s that schemathesis found (tests/test_fuzz_openapi.py): each is a 4xx now."""
import pytest

GRAPHQL_BODIES = [
    b"2.2250738585072014e-308",  # found by the fuzzer: strawberry called .get() on a float
    b"1", b'"query"', b"null", b"true",
    b"\x80{}",
]


@pytest.mark.parametrize("body", GRAPHQL_BODIES)
def test_graphql_post_with_a_json_body_that_is_not_an_object_is_400(make_app, body):
    app = make_app()
    response = app.post("/graphql", body, headers={"Content-Type": "application/json"}, expect_errors=True)
    assert response.status_int == 400, response.text
    assert set(response.json) == {"error", "correlationId"}


def test_graphql_batches_stay_refused(make_app):
    app = make_app()
    response = app.post("/graphql", b"[1]", headers={"Content-Type": "application/json"}, expect_errors=True)
    assert response.status_int == 400


@pytest.mark.parametrize("name", [0, {"a": 1}, ["x"], True])
def test_graphql_operation_name_must_be_a_string(make_app, name):
    """Found by negative fuzzing: a non-string operationName was accepted (200) against the document."""
    app = make_app()
    response = app.post_json("/graphql", {"query": "{ __typename }", "operationName": name}, expect_errors=True)
    assert response.status_int == 400, response.text
    assert "operationName" in response.json["error"]


def test_graphql_operation_name_still_selects_an_operation(make_app):
    app = make_app()
    response = app.post_json("/graphql", {"query": "query A { __typename } query B { __typename }",
                                          "operationName": "B"})
    assert response.json == {"data": {"__typename": "Query"}}
