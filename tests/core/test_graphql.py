"""GraphQL endpoint: merged schema, limits from settings, mutations refused over GET."""
import pytest


@pytest.fixture
def app(make_app):
    return make_app(plugins=["sample", "tests.support.local_plugins.sample_mutation"],
                    **{"graphql.max_depth": "3", "graphql.max_aliases": "2"})


def test_query_over_get_and_post(app):
    assert app.get("/graphql", {"query": "{ sampleGreeting }"}).json == {"data": {"sampleGreeting": "hello"}}
    assert app.post_json("/graphql", {"query": "{ sampleGreeting }"}).json["data"]["sampleGreeting"] == "hello"


def test_mutation_refused_over_get(app):
    response = app.get("/graphql", {"query": "mutation { bump }"}, status=405)
    assert response.headers["Allow"] == "POST"
    assert response.json["correlationId"] == response.headers["X-Correlation-ID"]
    assert app.post_json("/graphql", {"query": "mutation { bump }"}).json == {"data": {"bump": 1}}


def test_alias_limit(app):
    body = app.post_json("/graphql", {"query": "{ a: sampleGreeting b: sampleGreeting c: sampleGreeting }"}).json
    assert body.get("data") is None and "aliases" in body["errors"][0]["message"]


def test_depth_limit(app):
    ok = app.post_json("/graphql", {"query": "{ tree { child { child { name } } } }"}).json
    assert ok == {"data": {"tree": {"child": {"child": {"name": "root++"}}}}}
    body = app.post_json("/graphql", {"query": "{ tree { child { child { child { name } } } } }"}).json
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]


def test_me_resolves_the_identity(app):
    body = app.post_json("/graphql", {"query": "{ me { userId role } }"}, headers=app.auth("u-1", "interviewer")).json
    assert body == {"data": {"me": {"userId": "u-1", "role": "interviewer"}}}


def test_malformed_graphql_request(app):
    response = app.post("/graphql", "{nope", content_type="application/json", status=400)
    assert response.json["correlationId"]


def test_graphiql_only_when_enabled(make_app):
    dev = make_app(**{"graphql.graphiql": "true"})
    page = dev.get("/graphql", headers={"Accept": "text/html"})
    assert "graphiql" in page.text.lower()
    prod = make_app()
    prod.get("/graphql", headers={"Accept": "text/html"}, status=404)
