"""A wrong method is 405 with ``Allow`` and the documented body, on every route of the app."""
import configparser
import re
import tempfile
from pathlib import Path

import pytest
from pyramid.interfaces import IRoutesMapper

ROOT = Path(__file__).resolve().parents[2]
BOGUS_ID = "64b7f0c2a1b2c3d4e5f60718"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def development_plugins() -> list[str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "development.ini")
    return parser["app:main"]["interviewminds.plugins"].split()


def all_plugins_settings(redis_url, mongo_uri, var_dir) -> dict:
    from core.testing import base_settings

    return base_settings(redis_url, mongo_uri, var_dir, **{
        "interviewminds.plugins": " ".join(development_plugins()),
        "interviewminds.ratelimit.enabled": "false",
    })


def route_table():
    """(route name, pattern, expected Allow) for every route, read at collection time from a
    configuration built (not served: no store is contacted) with every development plugin.
    Expected methods come from /openapi.json's operations, HEAD added where GET is."""
    from core.app import build_config
    from core.openapi import build_openapi, openapi_path

    with tempfile.TemporaryDirectory() as var_dir:
        config = build_config(all_plugins_settings("redis://127.0.0.1:9/0", "mongodb://127.0.0.1:9/x", var_dir),
                              environ={})
        config.commit()
        registry = config.registry
        spec = build_openapi(registry)
        table = []
        for route in registry.getUtility(IRoutesMapper).get_routes():
            converted = openapi_path(route.pattern)
            if converted is None:  # static assets (``*subpath``) take any method
                continue
            methods = {m.upper() for m in spec["paths"].get(converted[0], {})}
            assert methods, f"route {route.name} ({route.pattern}) is not in /openapi.json"
            if "GET" in methods:
                methods.add("HEAD")
            table.append(pytest.param(route.pattern, ", ".join(m for m in METHODS if m in methods),
                                      id=f"{route.name}"))
        return table


ROUTES = route_table()


@pytest.fixture(scope="module")
def app(tmp_path_factory, redis_service, mongo_service):
    from core.testing import make_test_app

    return make_test_app(all_plugins_settings(redis_service[0], mongo_service[0].rstrip("/") + "/methods",
                                              tmp_path_factory.mktemp("var")))


def test_delete_ping_is_405_with_allow_and_the_error_body(app):
    response = app.delete("/ping", status=405)
    assert response.headers["Allow"] == "GET, HEAD"
    assert response.content_type == "application/json"
    assert set(response.json) == {"error", "correlationId"}
    assert response.json["correlationId"] == response.headers["X-Correlation-ID"]
    assert "DELETE" in response.json["error"] and "GET, HEAD" in response.json["error"]


def test_the_routes_that_served_before_still_serve(app):
    app.get("/ping", status=200)
    app.head("/ping", status=200)
    assert app.get("/openapi.json", status=200).json["openapi"] == "3.1.0"


def test_a_mismatch_on_something_else_than_the_method_is_not_a_405(app):
    # /api/chat answers POST with JSON only: a text body is 415, not 405.
    headers = app.auth("m-candidate", "candidate")
    response = app.post("/api/chat", "hi", headers={**headers, "Content-Type": "text/plain"}, expect_errors=True)
    assert response.status_int == 415


def test_every_route_is_covered():
    patterns = {param.values[0] for param in ROUTES}
    assert {"/ping", "/health", "/graphql", "/openapi.json", "/api/interview/{id}", "/api/webhooks/{id}"} <= patterns
    assert len(ROUTES) >= 25


@pytest.mark.parametrize(("pattern", "allow"), ROUTES)
def test_a_wrong_method_is_405_with_allow(app, pattern, allow):
    path = re.sub(r"\{[^}]+\}", BOGUS_ID, pattern)
    allowed = allow.split(", ")
    wrong = [m for m in METHODS if m not in allowed]
    assert wrong, f"{pattern} serves every method"
    for method in wrong:
        response = app.request(path, method=method, expect_errors=True)
        assert response.status_int == 405, f"{method} {pattern}: {response.status}"
        assert response.headers["Allow"] == allow, f"{method} {pattern}"
        assert response.headers["X-Correlation-ID"]
        if method != "HEAD":
            assert set(response.json) == {"error", "correlationId"}
            assert response.json["correlationId"] == response.headers["X-Correlation-ID"]
