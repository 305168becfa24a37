"""GET /openapi.json: valid OpenAPI 3.1, listing every route of core and the enabled plugins."""
import configparser
import re
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from core.http.validation import querystring_validator
from core.openapi import openapi_path, schema_name

ROOT = Path(__file__).resolve().parents[2]
CORE_OPERATIONS = {
    ("/health", "get"), ("/ping", "get"), ("/metrics", "get"), ("/api/csrf", "get"),
    ("/graphql", "get"), ("/graphql", "post"), ("/openapi.json", "get"),
    ("/api/admin/users", "get"), ("/api/admin/roles", "post"), ("/api/admin/audit-logs", "get"),
}
ROUTE_PLUGINS = {"interviews", "proctoring", "multimodal", "webhooks"}
PUBLIC = {("/health", "get"), ("/ping", "get"), ("/metrics", "get"), ("/api/csrf", "get"), ("/openapi.json", "get")}


def development_plugins() -> list[str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "development.ini")
    return parser["app:main"]["interviewminds.plugins"].split()


@pytest.fixture(scope="module")
def app(tmp_path_factory, redis_service, mongo_service):
    from core.testing import base_settings, make_test_app

    settings = base_settings(redis_service[0], mongo_service[0].rstrip("/") + "/openapi_doc",
                             tmp_path_factory.mktemp("var"), **{
                                 "interviewminds.plugins": " ".join(development_plugins()),
                             })
    return make_test_app(settings)


@pytest.fixture(scope="module")
def spec(app):
    response = app.get("/openapi.json", status=200)
    assert response.content_type == "application/json"
    assert response.headers["X-Correlation-ID"]
    return response.json


def resolve(spec, node):
    while isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        kind = node["$ref"].split("/")[2]
        node = spec["components"][kind][name]
    return node


def cornice_operations(app):
    """(service, method, args) for every cornice view the app mounted, HEAD aside."""
    for service in app.registry.cornice_services.values():
        seen = set()
        for method, _view, args in service.definitions:
            if method in ("HEAD", "OPTIONS") or method in seen:
                continue
            seen.add(method)
            yield service, method, args


def schema_fields(schema):
    instance = schema() if isinstance(schema, type) else schema
    return {f.data_key or name for name, f in instance.fields.items() if not f.dump_only}


def test_document_is_valid_openapi_3_1(spec):
    assert spec["openapi"] == "3.1.0"
    validate(spec)  # openapi-spec-validator picks the 3.1 validator from the version field


def test_document_is_stable_and_built_once(app, spec, monkeypatch):
    import core.openapi

    monkeypatch.setattr(core.openapi, "build_openapi", lambda registry: pytest.fail("rebuilt"))
    assert app.get("/openapi.json").json == spec


def test_every_enabled_plugin_route_is_listed_with_its_request_schema(app, spec):
    plugins = set(development_plugins())
    owners = set()
    for service, method, args in cornice_operations(app):
        owner = service.name.split(".", 1)[0]
        owners.add(owner)
        path, path_params = openapi_path(service.path)
        operation = spec["paths"].get(path, {}).get(method.lower())
        assert operation is not None, f"{method} {service.path} ({service.name}) is missing from /openapi.json"
        assert operation["operationId"] == f"{service.name}.{method.lower()}"
        params = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
        assert {("path", p["name"]) for p in path_params} <= params
        schema = args.get("schema")
        if schema is None:
            continue
        if querystring_validator in (args.get("validators") or ()):
            assert {("query", name) for name in schema_fields(schema)} <= params, (method, service.path)
        else:
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            assert body == {"$ref": f"#/components/schemas/{schema_name(schema)}"}
            component = resolve(spec, body)
            assert set(component["properties"]) == schema_fields(schema), (method, service.path)
            assert component["additionalProperties"] is False  # core loads with unknown=RAISE
    # Every development plugin that serves routes (the groq provider serves none) was checked.
    assert plugins & ROUTE_PLUGINS == ROUTE_PLUGINS, plugins
    assert ROUTE_PLUGINS <= owners, f"plugins whose routes were not found: {ROUTE_PLUGINS - owners}"


def test_core_routes_are_listed(spec):
    listed = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert CORE_OPERATIONS <= listed
    assert "query" in {p["name"] for p in spec["paths"]["/graphql"]["get"]["parameters"]}
    assert spec["paths"]["/graphql"]["post"]["requestBody"]["required"] is True


def test_operation_ids_are_unique(spec):
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))


def test_permissions_are_bearer_security_requirements(app, spec):
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert scheme == {**scheme, "type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    for service, method, args in cornice_operations(app):
        operation = spec["paths"][openapi_path(service.path)[0]][method.lower()]
        permission = args.get("permission")
        if permission:
            assert operation["security"] == [{"bearerAuth": [permission]}], service.name
            assert operation["x-permission"] == permission
            assert {"401", "403"} <= set(operation["responses"])
        else:
            assert operation["security"] == []
    for path, method in PUBLIC:
        assert spec["paths"][path][method]["security"] == []
        assert "401" not in spec["paths"][path][method]["responses"]
    assert {} in spec["paths"]["/graphql"]["post"]["security"]  # anonymous or bearer


def test_errors_and_headers_are_documented(spec):
    error = spec["components"]["schemas"]["Error"]
    assert error["required"] == ["error", "correlationId"]
    assert set(error["properties"]) == {"error", "correlationId", "details"}
    assert set(spec["components"]["headers"]) >= {"X-Correlation-ID", "RateLimit", "RateLimit-Policy", "Retry-After"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            for status, response in responses.items():
                headers = response["headers"]
                assert headers["X-Correlation-ID"] == {"$ref": "#/components/headers/X-Correlation-ID"}
                if re.fullmatch(r"[45](\d\d|XX)", status) and not (path == "/health" and status == "503"):
                    assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
                if status in ("429", "503"):
                    assert "Retry-After" in headers, (path, method, status)
            assert {"4XX", "500", "503"} <= set(responses), (path, method)
            if path.startswith("/api/"):
                assert "429" in responses
                assert "RateLimit" in responses["429"]["headers"]
                assert "RateLimit-Policy" in next(r for s, r in responses.items() if s.startswith("2"))["headers"]


def test_documented_success_statuses_and_media(spec):
    paths = spec["paths"]
    assert set(paths["/api/interview"]["post"]["responses"]) >= {"201"}
    assert "200" not in paths["/api/interview"]["post"]["responses"]
    assert "content" not in paths["/api/webhooks/{id}"]["delete"]["responses"]["204"]
    assert set(paths["/api/export/interviews"]["get"]["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    assert set(paths["/metrics"]["get"]["responses"]["200"]["content"]) == {"text/plain"}


def test_a_third_party_plugin_is_covered(make_app):
    """The sample plugin (a separate pip package) shows up like a first-party one."""
    app = make_app(plugins=["sample"])
    spec = app.get("/openapi.json").json
    validate(spec)
    services = [s for s in app.registry.cornice_services.values() if s.name.startswith("sample.")]
    assert services
    for service in services:
        for method in {m for m, _, _ in service.definitions} - {"HEAD"}:
            assert spec["paths"][openapi_path(service.path)[0]][method.lower()]["tags"] == ["sample"]


def test_links_point_at_operations_and_ids_are_object_ids(spec):
    ids = {op["operationId"] for ops in spec["paths"].values() for op in ops.values()}
    links = [link for ops in spec["paths"].values() for op in ops.values()
             for response in op["responses"].values() for link in response.get("links", {}).values()]
    assert len(links) >= 8
    for link in links:
        assert link["operationId"] in ids
        assert link["parameters"] == {"id": "$response.body#/id"}
    for path in ("/api/interview/{id}", "/api/webhooks/{id}", "/api/webhooks/messages/{id}/redeliver"):
        for operation in spec["paths"][path].values():
            (param,) = [p for p in operation["parameters"] if p["in"] == "path"]
            assert param["schema"]["pattern"] == "^[0-9a-fA-F]{24}$"
    if_match = [p for p in spec["paths"]["/api/interview/{id}"]["put"]["parameters"] if p["in"] == "header"]
    assert [p["name"] for p in if_match] == ["If-Match"]
