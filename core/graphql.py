"""GraphQL: core's Query/Mutation merged with plugin contributions, served by a strawberry
``SyncBaseHTTPView`` adapted to Pyramid at ``/graphql`` (POST, GET for queries, GraphiQL in dev).
"""
from __future__ import annotations

import json
import logging
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
from core.http.errors import STORE_ERRORS, error_response
from core.http.validation import InputError
from core.plugins import PluginError, call_each


log = logging.getLogger(__name__)


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


def describe_error(error) -> None:
    """Give a resolver's error the same code and status on every plugin (the one mapping of
    domain errors to GraphQL; input errors are BAD_USER_INPUT, anything unexpected is hidden)."""
    original = error.original_error
    if isinstance(original, DomainError):
        code, status = original.code, original.status
    elif isinstance(original, (InputError, marshmallow.ValidationError)):
        code, status = "BAD_USER_INPUT", 400
        if isinstance(original, marshmallow.ValidationError):
            error.message = f"invalid input: {original.messages}"
    elif original is None or isinstance(original, GraphQLError):
        return  # a GraphQL validation or syntax error, or one a resolver shaped itself
    else:
        log.error("unexpected error in a GraphQL resolver", exc_info=original)
        code, status = "INTERNAL_SERVER_ERROR", 500
        error.message = "internal server error"
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
    depth, aliases, tokens = (settings[f"interviewminds.graphql.{k}"] for k in ("max_depth", "max_aliases", "max_tokens"))
    extensions = [  # factories: strawberry builds fresh extensions per request
        lambda: QueryDepthLimiter(max_depth=depth),
        lambda: MaxAliasesLimiter(max_alias_count=aliases),
        lambda: MaxTokensLimiter(max_token_count=tokens),
    ]
    schema = strawberry.Schema(query=query, mutation=mutation, extensions=extensions)
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

    def __init__(self, schema, graphiql: bool):
        self.schema = schema
        self.graphql_ide = "graphiql" if graphiql else None
        self.multipart_uploads_enabled = False

    def get_sub_response(self, request):
        return Response(status=200, content_type="application/json", charset="utf-8")

    def get_context(self, request, response):
        return GraphQLContext(request=request, response=response)

    def get_root_value(self, request):
        return None

    def create_response(self, response_data, sub_response):
        sub_response.body = json.dumps(response_data, default=str).encode()
        return sub_response

    def process_result(self, request, result):
        for error in result.errors or ():
            original = error.original_error
            # A store outage inside a resolver is a 503 for the whole request, as on REST.
            if isinstance(original, STORE_ERRORS):
                raise original
            describe_error(error)
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
        except GraphQLHTTPException as exc:
            if request.method == "GET" and "mutations are not allowed" in exc.reason:
                # Method, not payload, is what's wrong: say so with 405 and the method that works.
                return error_response(request, 405, "mutations must be sent with POST", headers={"Allow": "POST"})
            return error_response(request, exc.status_code, exc.reason)


def includeme(config):
    registry = config.registry
    from core.lookup import GRAPHQL, find_service

    view = PyramidGraphQLView(find_service(registry, GRAPHQL), registry.settings["interviewminds.graphql.graphiql"])
    config.add_route("core.graphql", "/graphql")
    config.add_view(view, route_name="core.graphql", request_method=("GET", "POST"))
    if registry.settings["interviewminds.graphql.graphiql"]:
        config.include("core.graphiql")
