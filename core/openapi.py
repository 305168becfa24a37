"""``GET /openapi.json``: the OpenAPI 3.1 description of every route the app serves.

Built with apispec's ``MarshmallowPlugin`` once per app, on the first request, so that it sees the
committed configuration: core's routes and every service the enabled plugins mounted.

What becomes what:
- a cornice service (``core.Service``): one operation per method (HEAD, added by cornice for GET,
  is implied), ``operationId`` = service name + method (``webhooks.item.patch``), tagged with the
  owner (the service name's first part). ``schema=`` is the JSON request body, or the query
  parameters when the view validates with ``querystring_validator``; ``{name}`` parts of the path
  are path parameters; ``permission=`` is a ``bearerAuth`` security requirement naming the
  permission (OpenAPI 3.1 lets non-OAuth requirements list roles), no permission is
  ``security: []``. ``status=``/``produces=``/``openapi=`` on the view document its success answer
  (see ``core.http.service.Service``);
- any other route with method-restricted views (``/health``, ``/graphql``, ...): described by
  ``ROUTE_DOCS`` when core owns it, else generically;
- every answer carries ``X-Correlation-ID``; rate-limited operations document ``RateLimit`` and
  ``RateLimit-Policy``; 429 and 503 ``Retry-After``; every 4xx/5xx has the ``Error`` body.
"""
from __future__ import annotations

import copy
import json
import re
import threading
from importlib import metadata

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from pyramid.interfaces import IRoutesMapper
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED

from core.http.methods import route_methods
from core.http.ratelimiting import UNLIMITED_PATHS
from core.http.validation import querystring_validator

OPENAPI_VERSION = "3.1.0"
BODY_METHODS = ("POST", "PUT", "PATCH")
DOCUMENTED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ROUTE_NAME = "core.openapi"

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every 4xx/5xx answer. `details` only when `interviewminds.debug = true`.",
    "properties": {
        "error": {"type": "string", "description": "What went wrong, naming the field for bad input"},
        "correlationId": {"type": "string", "description": "The request's X-Correlation-ID"},
        "details": {"description": "Debug only: validation details or the exception"},
    },
    "required": ["error", "correlationId"],
    "additionalProperties": False,
}
HEADERS = {
    "X-Correlation-ID": {
        "description": "The request's correlation id: a valid incoming one is kept, else a new UUID4.",
        "required": True, "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": "The policy closest to exhaustion, e.g. `limit=100, remaining=42, reset=30` "
                       "(draft-ietf-httpapi-ratelimit-headers-07).",
        "schema": {"type": "string"},
    },
    "RateLimit-Policy": {
        "description": "Every policy that applied, e.g. `300;w=60, 30;w=60`.",
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "required": True, "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
}
ERROR_DESCRIPTIONS = {
    400: "Invalid input; the message names the field",
    401: "No valid identity (missing, expired or invalid token)",
    403: "The caller's role lacks the permission, or a cookie-authenticated unsafe request failed CSRF",
    404: "No such resource (or not the caller's)",
    413: "Request body too large",
    415: "Unsupported media type: send application/json",
    429: "Too many requests (rate limited)",
    500: "Internal server error (a bug: never for bad input)",
    503: "A data store or upstream service is unavailable, or a circuit breaker is open",
}

ANY_JSON = {"description": "JSON"}
OBJECT_ID = {"type": "string", "pattern": "^[0-9a-fA-F]{24}$"}
HEALTH_SCHEMA = {
    "type": "object",
    "required": ["status", "timestamp", "services", "checks", "circuitBreakers"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "degraded", "unhealthy"]},
        "timestamp": {"type": "string"},
        "services": {"type": "object"},
        "checks": {"type": "object"},
        "circuitBreakers": {"type": "object"},
    },
}
GRAPHQL_REQUEST = {
    "type": "object",
    "required": ["query"],
    "properties": {
        "query": {"type": "string"},
        "operationName": {"type": ["string", "null"]},
        "variables": {"type": ["object", "null"]},
    },
}
GRAPHQL_RESULT = {
    "type": "object",
    "description": "A GraphQL result: `data` and/or `errors`",
    "properties": {"data": {"type": ["object", "null"]}, "errors": {"type": "array"},
                   "extensions": {"type": "object"}},
}


def _json(schema=None) -> dict:
    return {"application/json": {"schema": schema if schema is not None else ANY_JSON}}


# Core routes that are not cornice services. Keys: route name -> method -> operation fields;
# ``responses`` maps success statuses to content (None: no body).
ROUTE_DOCS: dict[str, dict[str, dict]] = {
    "core.health": {"GET": {
        "summary": "Health of the app, its stores and the plugins' checks",
        "responses": {200: _json(HEALTH_SCHEMA), 503: _json(HEALTH_SCHEMA)},
        "descriptions": {503: "Unhealthy: MongoDB is down (the same report)"},
    }},
    "core.ping": {"GET": {
        "summary": "Liveness probe",
        "responses": {200: _json({"type": "object", "required": ["status"],
                                  "properties": {"status": {"const": "ok"}}})},
    }},
    "core.metrics": {"GET": {
        "summary": "Prometheus metrics (text exposition format)",
        "responses": {200: {"text/plain": {"schema": {"type": "string"}}}},
    }},
    "core.csrf": {"GET": {
        "summary": "A CSRF token for cookie-authenticated unsafe requests (send it as X-CSRF-Token)",
        "responses": {200: _json({"type": "object", "required": ["csrfToken", "header"],
                                  "properties": {"csrfToken": {"type": "string"},
                                                 "header": {"type": "string"}}})},
    }},
    "core.graphql": {
        "GET": {
            "summary": "GraphQL query over GET (mutations need POST); without `query`, GraphiQL "
                       "where enabled",
            "parameters": [
                {"in": "query", "name": "query", "schema": {"type": "string"}},
                {"in": "query", "name": "operationName", "schema": {"type": "string"}},
                {"in": "query", "name": "variables", "description": "JSON-encoded variables",
                 "schema": {"type": "string"}},
            ],
            "responses": {200: {**_json(GRAPHQL_RESULT), "text/html": {"schema": {"type": "string"}}}},
            "auth": "optional",
        },
        "POST": {
            "summary": "GraphQL query or mutation",
            "requestBody": {"required": True, "content": _json(GRAPHQL_REQUEST)},
            "responses": {200: _json(GRAPHQL_RESULT)},
            "auth": "optional",
        },
    },
    "core.docs": {"GET": {
        "summary": "API documentation (Swagger UI over this document)",
        "responses": {200: {"text/html": {"schema": {"type": "string"}}}},
    }},
    ROUTE_NAME: {"GET": {
        "summary": "This document (OpenAPI 3.1)",
        "responses": {200: _json({"type": "object", "required": ["openapi", "paths"]})},
    }},
}

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::(.*?))?\}")


def openapi_path(pattern: str) -> tuple[str, list[dict]] | None:
    """A Pyramid route pattern as an OpenAPI path and its path parameters; None for ``*rest`` routes."""
    if "*" in pattern:
        return None
    path = pattern if pattern.startswith("/") else "/" + pattern
    parameters = []
    for match in _PARAM.finditer(path):
        regex = match.group(2)
        parameters.append({"in": "path", "name": match.group(1), "required": True,
                           "schema": {"type": "string", "minLength": 1,
                                      "pattern": f"^(?:{regex})$" if regex else "^[^/]+$"}})
    return _PARAM.sub(lambda m: "{" + m.group(1) + "}", path), parameters


def schema_name(schema) -> str:
    """Component name of a marshmallow schema: ``<owner>.<Class without 'Schema'>``."""
    cls = resolve_schema_cls(schema)
    if isinstance(cls, list):
        cls = cls[0]
    module = cls.__module__.split(".")
    owner = module[1] if module[0] == "plugins" and len(module) > 1 else module[0]
    name = cls.__name__
    if name.endswith("Schema") and len(name) > len("Schema"):
        name = name[: -len("Schema")]
    return f"{owner}.{name}"


def _success(status: int, content: dict | None, rate_limited: bool, description: str | None = None) -> dict:
    response = {"description": description or ("No content" if status == 204 else "Success"),
                "headers": _headers(rate_limited, *(("Retry-After",) if status in (429, 503) else ()))}
    if content and status != 204:
        response["content"] = content
    return response


def _headers(rate_limited: bool, *extra: str) -> dict:
    names = ["X-Correlation-ID"] + (["RateLimit", "RateLimit-Policy"] if rate_limited else []) + list(extra)
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def _error(status: int | str, description: str, rate_limited: bool) -> dict:
    extra = ("Retry-After",) if status in (429, 503) else ()
    response = {"description": description, "headers": _headers(rate_limited, *extra),
                "content": _json({"$ref": "#/components/schemas/Error"})}
    if status == 401:
        response["headers"]["WWW-Authenticate"] = {"schema": {"type": "string"},
                                                   "description": "`Bearer`"}
    return response


def _responses(success: dict, *, secured: bool, has_input: bool, path_params: bool, json_body: bool,
               rate_limited: bool) -> dict:
    responses = {str(status): _success(status, content, rate_limited) for status, content in success.items()}
    statuses = []
    if has_input:
        statuses.append(400)
    if secured:
        statuses += [401, 403]
    if path_params:
        statuses.append(404)
    statuses.append(413)
    if json_body:
        statuses.append(415)
    if rate_limited:
        statuses.append(429)
    statuses += [500, 503]
    for status in statuses:
        responses.setdefault(str(status), _error(status, ERROR_DESCRIPTIONS[status], rate_limited))
    responses["4XX"] = _error("4XX", "Any other client error (e.g. 409 conflict, 428 precondition "
                                     "required); the message says what to change", rate_limited)
    return responses


def _security(permission, auth: str | None = None) -> list[dict]:
    if auth == "optional":
        return [{}, {"bearerAuth": []}]
    if permission in (None, NO_PERMISSION_REQUIRED):
        return []
    return [{"bearerAuth": [str(permission)]}]


class SpecBuilder:
    """Walks the committed configuration of one app and returns the OpenAPI document (a dict)."""

    def __init__(self, registry):
        self.registry = registry
        try:
            version = metadata.version("interviewminds")
        except metadata.PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
            version = "0.0.0"
        self.spec = APISpec(
            title="InterviewMinds API", version=version, openapi_version=OPENAPI_VERSION,
            plugins=[MarshmallowPlugin(schema_name_resolver=schema_name)],
            info={"description": "REST and GraphQL API of the InterviewMinds backend: core and the "
                                 "enabled plugins. Errors are `{error, correlationId}`."},
        )
        components = self.spec.components
        components.security_scheme("bearerAuth", {
            "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
            "description": "A Clerk session JWT, or a dev token from `interviewminds token` where dev "
                           "auth is on. Requirements list the permission the operation needs; the "
                           "caller's role (stored server-side) must grant it. Browsers may send "
                           "Clerk's `__session` cookie instead (unsafe methods then need X-CSRF-Token).",
        })
        components.schema("Error", ERROR_SCHEMA)
        for name, header in HEADERS.items():
            components.header(name, copy.deepcopy(header))
        self.tags: dict[str, None] = {}

    def build(self) -> dict:
        services = {}
        for service in self.registry.cornice_services.values():
            services[getattr(service, "pyramid_route", None) or service.name] = service
        mapper = self.registry.queryUtility(IRoutesMapper)
        for route in (mapper.get_routes() if mapper is not None else ()):
            converted = openapi_path(route.pattern)
            if converted is None:
                continue
            path, path_params = converted
            service = services.get(route.name)
            if service is not None:
                operations = self._service_operations(service, path_params)
            else:
                operations = self._route_operations(route.name, path, path_params)
            if operations:
                self.spec.path(path=path, operations=operations)
        document = self.spec.to_dict()
        document["tags"] = [{"name": tag} for tag in sorted(self.tags)]
        return document

    def _tag(self, name: str) -> list[str]:
        tag = name.split(".", 1)[0]
        self.tags[tag] = None
        return [tag]

    def _service_operations(self, service, path_params: list[dict]) -> dict:
        operations: dict[str, dict] = {}
        docs = getattr(service, "openapi_views", {}) or {}
        defaults = getattr(service, "openapi_defaults", {}) or {}
        for method, _view, args in service.definitions:
            method = method.upper()
            if method not in DOCUMENTED_METHODS or method.lower() in operations:
                continue
            doc = docs.get(method, {})
            schema = args.get("schema")
            validators = list(args.get("validators") or ())
            parameters = [dict(p) for p in path_params]
            operation: dict = {
                "operationId": f"{service.name}.{method.lower()}",
                "summary": service.description or service.name,
                "tags": self._tag(service.name),
            }
            in_query = querystring_validator in validators
            if schema is not None and in_query:
                parameters.append({"in": "query", "schema": schema})
            json_body = False
            if method in BODY_METHODS and not in_query:
                media = list(args.get("content_type") or ()) or (
                    ["application/octet-stream"] if getattr(service, "upload", False) else ["application/json"])
                body_schema = schema if schema is not None else {"type": "object"}
                if getattr(service, "upload", False) and schema is None:
                    body_schema = {"type": "string", "format": "binary"}
                operation["requestBody"] = {
                    "required": bool(args.get("content_type")),
                    "content": {m: {"schema": body_schema} for m in media if isinstance(m, str)},
                }
                json_body = not getattr(service, "upload", False) and bool(args.get("content_type"))
            if parameters:
                operation["parameters"] = parameters
            permission = args.get("permission")
            operation["security"] = _security(permission)
            if permission not in (None, NO_PERMISSION_REQUIRED):
                operation["x-permission"] = str(permission)
            status = int(doc.get("status", 200))
            produces = doc.get("produces") or ("application/json",)
            content = {media: {"schema": ANY_JSON if "json" in media else {"type": "string"}}
                       for media in produces}
            operation["responses"] = _responses(
                {status: content}, secured=bool(operation["security"]),
                has_input=bool(parameters) or "requestBody" in operation, path_params=bool(path_params),
                json_body=json_body, rate_limited=service.path not in UNLIMITED_PATHS)
            _merge(operation, copy.deepcopy(defaults))
            _merge(operation, copy.deepcopy(doc.get("openapi") or {}))
            operations[method.lower()] = operation
        return operations

    def _route_operations(self, route_name: str, path: str, path_params: list[dict]) -> dict:
        methods = route_methods(self.registry, route_name)
        if not methods:
            return {}
        known = ROUTE_DOCS.get(route_name, {})
        operations = {}
        for method in methods:
            if method not in DOCUMENTED_METHODS:
                continue
            doc = copy.deepcopy(known.get(method, {}))
            permission = self._permission(route_name, method)
            success = doc.pop("responses", None) or {200: None}
            descriptions = doc.pop("descriptions", {})
            auth = doc.pop("auth", None)
            operation = {
                "operationId": f"{route_name}.{method.lower()}",
                "summary": doc.pop("summary", route_name),
                "tags": self._tag(route_name),
                "security": _security(permission, auth),
            }
            parameters = [dict(p) for p in path_params] + doc.pop("parameters", [])
            if parameters:
                operation["parameters"] = parameters
            if permission not in (None, NO_PERMISSION_REQUIRED):
                operation["x-permission"] = str(permission)
            rate_limited = path not in UNLIMITED_PATHS
            responses = {str(s): _success(s, c, rate_limited, descriptions.get(s)) for s, c in success.items()}
            has_input = bool(parameters) or "requestBody" in doc
            for status, response in _responses({}, secured=bool(permission) and permission != NO_PERMISSION_REQUIRED,
                                               has_input=has_input, path_params=bool(path_params),
                                               json_body="requestBody" in doc,
                                               rate_limited=rate_limited).items():
                responses.setdefault(status, response)
            operation["responses"] = responses
            _merge(operation, doc)
            operations[method.lower()] = operation
        return operations

    def _permission(self, route_name: str, method: str):
        introspector = self.registry.introspector
        route = introspector.get("routes", route_name)
        for view in introspector.related(route) if route is not None else ():
            if view.category_name != "views" or view.get("exception_only"):
                continue
            methods = view.get("request_methods") or ()
            methods = (methods,) if isinstance(methods, str) else methods
            if method not in methods:
                continue
            for related in introspector.related(view):
                if related.category_name == "permissions":
                    return related.discriminator
        return None


def _merge(target: dict, extra: dict) -> None:
    """Deep-merge ``extra`` into an operation; a parameter replaces the one with its ``in`` and ``name``."""
    for key, value in extra.items():
        if key == "parameters" and isinstance(target.get(key), list):
            names = {(p.get("in"), p.get("name")) for p in value}
            target[key] = [p for p in target[key] if (p.get("in"), p.get("name")) not in names] + list(value)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        elif isinstance(value, list) and isinstance(target.get(key), list):
            target[key] = target[key] + value
        else:
            target[key] = value


def object_id_parameter(name: str = "id", description: str = "A MongoDB ObjectId (24 hex digits)") -> dict:
    """A path parameter that is an ObjectId, for ``Service(..., openapi={"parameters": [...]})``."""
    return {"in": "path", "name": name, "required": True, "description": description, "schema": dict(OBJECT_ID)}


def build_openapi(registry) -> dict:
    """The OpenAPI document of the app whose (committed) registry this is."""
    return SpecBuilder(registry).build()


class OpenAPIView:
    """Serves the document, built on the first request and kept for the app's lifetime."""

    def __init__(self):
        self._body: bytes | None = None
        self._lock = threading.Lock()

    def body(self, registry) -> bytes:
        if self._body is None:
            with self._lock:
                if self._body is None:
                    self._body = json.dumps(build_openapi(registry), sort_keys=False).encode()
        return self._body

    def __call__(self, request):
        response = Response(body=self.body(request.registry), content_type="application/json", charset="utf-8")
        response.cache_control = "no-cache"
        return response


def includeme(config):
    config.add_route(ROUTE_NAME, "/openapi.json")
    config.add_view(OpenAPIView(), route_name=ROUTE_NAME, request_method="GET")
