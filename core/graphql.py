"""GraphQL: core's Query/Mutation merged with plugin contributions, served by a strawberry
``SyncBaseHTTPView`` adapted to Pyramid at ``/graphql`` (POST, GET for queries, GraphiQL in dev).
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

import marshmallow
import strawberry
from graphql import GraphQLError
from cross_web import HTTPException as GraphQLHTTPException
from cross_web.request._base import SyncHTTPRequestAdapter
from pyramid.response import Response
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.http.sync_base_view import SyncBaseHTTPView
from strawberry.schema.name_converter import NameConverter
from strawberry.tools import merge_types

from core.errors import DomainError
from core.graphql_cost import CostEstimator, ResultCaps, ResultTooLarge
from core.graphql_policy import policy_extensions
from core.http.errors import STORE_ERRORS, error_response
from core.http.validation import InputError, loads_json
from core.plugins import PluginError, call_each


log = logging.getLogger(__name__)

MASKED = "internal server error"
# graphql-core's "Did you mean ...?" hints name schema fields and types; production drops them,
# since they would describe a schema whose introspection is off there.
_SUGGESTION = re.compile(r" Did you mean [^?]*\?$")


@dataclass(frozen=True)
class GraphQLContribution:
    """What a plugin adds to the schema: strawberry types whose fields join the root types."""

    query: tuple = ()
    mutation: tuple = ()


@dataclass
class GraphQLContext:
    """``info.context`` in resolvers: the Pyramid request, its identity, per-request caches."""

    request: Any
    response: Any
    loaders: dict = field(default_factory=dict)

    @property
    def identity(self):
        return self.request.identity


@strawberry.type
class Viewer:
    user_id: str
    role: str
    permissions: list[str]


@strawberry.type
class CoreQuery:
    @strawberry.field(description="The authenticated caller, or null.")
    def me(self, info: strawberry.Info) -> Optional[Viewer]:
        identity = info.context.identity
        if identity is None:
            return None
        return Viewer(user_id=identity.user_id, role=identity.role, permissions=sorted(identity.permissions))


def describe_error(error, *, production: bool = False, correlation_id: str = "", debug: bool = False) -> None:
    """Give an error the same shape on every plugin (the one mapping of domain errors to GraphQL):

    - a domain error (``core.errors``): its message, ``extensions.code`` and ``extensions.status``;
    - an input error: ``BAD_USER_INPUT``, 400;
    - an error in the request itself (syntax, validation, variable values, an unknown operation:
      no path, and graphql's own error or a location in the document): its message, which only
      describes the client's own document (production drops graphql-core's "Did you mean" hints);
    - anything else is internal: an exception from a resolver or an extension, graphql's own
      complaint about a value a resolver returned (``Int cannot represent ...``), a
      ``GraphQLError`` a resolver raised around a driver's text. It gets ``INTERNAL_SERVER_ERROR``,
      500 and ``extensions.correlationId``, and its text is logged, never sent in production: the
      message is "internal server error". Outside production a ``GraphQLError``'s own message is
      kept, and ``interviewminds.debug`` adds the exception's text as ``extensions.details``.
    """
    original = error.original_error
    if isinstance(original, DomainError):
        code, status = original.code, original.status
    elif isinstance(original, (InputError, marshmallow.ValidationError)):
        code, status = "BAD_USER_INPUT", 400
        if isinstance(original, marshmallow.ValidationError):
            error.message = f"invalid input: {original.messages}"
    elif error.path is None and (original is None or isinstance(original, GraphQLError) or error.locations):
        if production:
            error.message = _SUGGESTION.sub("", error.message)
        return
    else:
        cause = original if original is not None else error
        if isinstance(cause, GraphQLError):
            log.error("GraphQL error at %s (correlation id %s): %s", error.path, correlation_id or "-", cause.message)
        else:
            log.error("unexpected error in GraphQL at %s (correlation id %s)", error.path, correlation_id or "-",
                      exc_info=cause)
        code, status = "INTERNAL_SERVER_ERROR", 500
        if production or not isinstance(cause, GraphQLError):
            error.message = MASKED
        extensions = {"code": code, "status": status, "correlationId": correlation_id}
        if debug and not production:
            extensions["details"] = f"{type(cause).__name__}: {cause}"
        error.extensions = extensions  # nothing a resolver or driver attached goes out
        return
    error.extensions = {**(error.extensions or {}), "code": code, "status": status}


def _field_names(cls) -> list[str]:
    """The GraphQL names (camelCase, as clients see them) of a strawberry type's fields."""
    converter = NameConverter()
    return [converter.from_field(f) for f in cls.__strawberry_definition__.fields]


def build_schema(pm, settings) -> tuple[strawberry.Schema, dict[str, list[str]]]:
    """Merge core's and the plugins' root fields; a clash names both owners."""
    owners: dict[str, dict[str, str]] = {"Query": {}, "Mutation": {}}
    parts: dict[str, list] = {"Query": [CoreQuery], "Mutation": []}
    for name in _field_names(CoreQuery):
        owners["Query"][name] = "core"
    fields_by_plugin: dict[str, list[str]] = {}
    for plugin_id, contribution in call_each(pm, "interviewminds_graphql", settings=settings):
        for root, types in (("Query", contribution.query), ("Mutation", contribution.mutation)):
            for cls in types:
                for name in _field_names(cls):
                    if name in owners[root]:
                        raise PluginError(f"GraphQL field {root}.{name} is contributed by both "
                                          f"{owners[root][name]!r} and {plugin_id!r}")
                    owners[root][name] = plugin_id
                    fields_by_plugin.setdefault(plugin_id, []).append(f"{root}.{name}")
                parts[root].append(cls)
    query = merge_types("Query", tuple(parts["Query"]))
    mutation = merge_types("Mutation", tuple(parts["Mutation"])) if parts["Mutation"] else None
    depth, aliases, tokens, items = (settings[f"interviewminds.graphql.{k}"]
                                     for k in ("max_depth", "max_aliases", "max_tokens", "max_items"))
    extensions = [  # factories: strawberry builds fresh extensions per request
        lambda: QueryDepthLimiter(max_depth=depth),
        lambda: MaxAliasesLimiter(max_alias_count=aliases),
        lambda: MaxTokensLimiter(max_token_count=tokens),
        lambda: ResultCaps(max_items=items),  # interviewminds.graphql.max_items: 413 above
    ]
    schema = strawberry.Schema(query=query, mutation=mutation, extensions=extensions + policy_extensions(settings))
    return schema, fields_by_plugin


class PyramidRequestAdapter(SyncHTTPRequestAdapter):
    def __init__(self, request):
        self.request = request

    @property
    def query_params(self) -> Mapping[str, Any]:
        return dict(self.request.GET)

    @property
    def path_params(self) -> Mapping[str, Any]:
        return dict(self.request.matchdict or {})

    @property
    def body(self) -> str:
        return self.request.body.decode("utf-8", "replace")

    @property
    def method(self):
        return self.request.method.upper()

    @property
    def headers(self) -> Mapping[str, str]:
        return self.request.headers

    @property
    def post_data(self):
        return self.request.POST

    @property
    def files(self):
        return {}

    def get_form_data(self):
        raise GraphQLHTTPException(415, "multipart requests are not supported")

    @property
    def content_type(self) -> Optional[str]:
        return self.request.content_type

    @property
    def url(self) -> str:
        return self.request.url

    @property
    def cookies(self) -> Mapping[str, str]:
        return self.request.cookies

    @property
    def client_host(self) -> Optional[str]:
        return self.request.client_addr


class PyramidGraphQLView(SyncBaseHTTPView):
    request_adapter_class = PyramidRequestAdapter
    allow_queries_via_get = True  # mutations over GET are refused by strawberry (405)
    decode_json = staticmethod(loads_json)  # NaN, 1e999, >64-bit ints, deep nesting: 400

    def __init__(self, schema, graphiql: bool, settings: Optional[Mapping[str, Any]] = None):
        self.schema = schema
        self.graphql_ide = "graphiql" if graphiql else None
        self.multipart_uploads_enabled = False
        settings = settings or {}
        self.production = settings.get("interviewminds.env") == "production"
        self.debug = bool(settings.get("interviewminds.debug"))
        self.max_response_bytes = settings.get("interviewminds.graphql.max_response_bytes")

    def get_sub_response(self, request):
        return Response(status=200, content_type="application/json", charset="utf-8")

    def get_context(self, request, response):
        return GraphQLContext(request=request, response=response)

    def get_root_value(self, request):
        return None

    def create_response(self, response_data, sub_response):
        body = json.dumps(response_data, default=str).encode()
        if self.max_response_bytes and len(body) > self.max_response_bytes:
            raise ResultTooLarge(f"the response would be larger than {self.max_response_bytes} bytes: "
                                 "ask for fewer fields, aliases or items")
        sub_response.body = body
        return sub_response

    def process_result(self, request, result):
        for error in result.errors or ():
            original = error.original_error
            # A store outage inside a resolver is a 503 for the whole request, as on REST; a
            # response over interviewminds.graphql.max_items is a 413 (no partial data).
            if isinstance(original, (*STORE_ERRORS, ResultTooLarge)):
                raise original
        correlation_id = getattr(request, "correlation_id", None) or ""
        for error in result.errors or ():
            describe_error(error, production=self.production, correlation_id=correlation_id, debug=self.debug)
        return super().process_result(request, result)

    def render_graphql_ide(self, request):
        # Our own page over vendored assets: strawberry's loads them from a CDN (core.graphiql).
        from core.graphiql import graphiql_response

        return graphiql_response(request)

    def parse_http_body(self, request):
        # strawberry calls .get() on whatever the JSON body is: a number, string or null was a 500.
        if request.method != "GET" and "application/json" in (request.content_type or ""):
            if not isinstance(self.parse_json(request.body), (dict, list)):
                raise GraphQLHTTPException(400, "the GraphQL request body must be a JSON object")
        data = super().parse_http_body(request)
        # strawberry checks the types of query, variables and extensions, not operationName.
        for item in data if isinstance(data, list) else [data]:
            if not isinstance(item.operation_name, (str, type(None))):
                raise GraphQLHTTPException(400, "The GraphQL operation's `operationName` must be a string or "
                                                "null, if provided.")
        return data

    def __call__(self, request):
        try:
            return self.run(request)
        except ResultTooLarge as exc:
            return error_response(request, 413, str(exc))
        except GraphQLHTTPException as exc:
            if request.method == "GET" and "mutations are not allowed" in exc.reason:
                # Method, not payload, is what's wrong: say so with 405 and the method that works.
                return error_response(request, 405, "mutations must be sent with POST", headers={"Allow": "POST"})
            return error_response(request, exc.status_code, exc.reason)


class RequestCost:
    """The service ``core.graphql_cost``: what a request to ``/graphql`` costs the ``graphql``
    rate-limit tier, asked by the rate-limit tween before the view runs. The body is read as the
    view reads it; a request the view will refuse without executing anything costs 1."""

    def __init__(self, view: PyramidGraphQLView, estimator: CostEstimator) -> None:
        self.view = view
        self.estimator = estimator

    def __call__(self, request) -> int:
        try:
            data = self.view.parse_http_body(PyramidRequestAdapter(request))
        except Exception:  # noqa: BLE001 - the view parses the body again and answers this error itself
            return 1
        items = data if isinstance(data, list) else [data]
        return max(1, sum(self.estimator.units(item.query, item.variables, item.operation_name) for item in items))


def includeme(config):
    registry = config.registry
    from core.lookup import GRAPHQL, GRAPHQL_COST, find_service, provide

    schema = find_service(registry, GRAPHQL)
    view = PyramidGraphQLView(schema, registry.settings["interviewminds.graphql.graphiql"], registry.settings)
    provide(config, GRAPHQL_COST, RequestCost(view, CostEstimator(schema, registry.settings)))
    config.add_route("core.graphql", "/graphql")
    config.add_view(view, route_name="core.graphql", request_method=("GET", "POST"))
    if registry.settings["interviewminds.graphql.graphiql"]:
        config.include("core.graphiql")
