"""405 Method Not Allowed, with ``Allow``, on every route (core's, plugins', cornice's or not).

A request whose route matched but whose method no view serves is answered
``405 {"error", "correlationId"}`` with ``Allow`` listing the route's methods in a fixed order;
a route that serves GET also serves HEAD (Pyramid and cornice both add it), so ``Allow`` names it.

Two sources, one answer:
- plain Pyramid routes (``config.add_route`` + ``add_view(request_method=...)``): the router raises
  ``PredicateMismatch`` (a 404); the methods of the route's views come from the introspector;
- cornice services (``core.Service``): cornice's fallback view raises ``HTTPMethodNotAllowed``
  with the service's methods.

A route with a view that takes any method (a static view, say) never answers 405, and a
predicate mismatch on something else than the method (``accept``, ``content_type``...) stays
what it was.
"""
from __future__ import annotations

import threading

from pyramid.exceptions import PredicateMismatch
from pyramid.httpexceptions import HTTPMethodNotAllowed

from core.http.errors import error_response, http_exception_view

# The order methods are listed in, in ``Allow`` and in messages.
METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")


def ordered(methods) -> tuple[str, ...]:
    """Upper-cased, deduplicated, HEAD added where GET is, in ``METHOD_ORDER`` (others last, sorted)."""
    names = {str(m).upper() for m in methods}
    if "GET" in names:
        names.add("HEAD")
    rank = {name: index for index, name in enumerate(METHOD_ORDER)}
    return tuple(sorted(names, key=lambda name: (rank.get(name, len(rank)), name)))


def route_methods(registry, route_name: str) -> tuple[str, ...] | None:
    """The methods the views of ``route_name`` serve, or None when one of them takes any method."""
    introspector = registry.introspector
    route = introspector.get("routes", route_name)
    if route is None:
        return None
    methods: set[str] = set()
    found = False
    for related in introspector.related(route):
        if related.category_name != "views" or related.get("exception_only"):
            continue
        found = True
        request_methods = related.get("request_methods")
        if request_methods is None:
            return None
        methods.update((request_methods,) if isinstance(request_methods, str) else request_methods)
    return ordered(methods) if found else None


def method_not_allowed(request, allowed) -> object:
    """The documented 405 for ``request``, with ``Allow: <allowed>``."""
    allow = ", ".join(ordered(allowed))
    method = str(request.method)[:20]
    return error_response(request, 405, f"method {method} is not allowed here; allowed: {allow}",
                          headers={"Allow": allow})


class MethodViews:
    """The exception views; caches each route's methods (the configuration is committed by then)."""

    def __init__(self):
        self._methods: dict[str, tuple[str, ...] | None] = {}
        self._lock = threading.Lock()

    def methods_for(self, registry, route_name: str) -> tuple[str, ...] | None:
        try:
            return self._methods[route_name]
        except KeyError:
            pass
        with self._lock:
            methods = route_methods(registry, route_name)
            self._methods[route_name] = methods
            return methods

    def predicate_mismatch(self, exc, request):
        route = getattr(request, "matched_route", None)
        if route is not None:
            allowed = self.methods_for(request.registry, route.name)
            if allowed and request.method not in allowed:
                return method_not_allowed(request, allowed)
        return http_exception_view(exc, request)

    def cornice_method_not_allowed(self, exc, request):
        allowed = exc.allow or ()
        if not allowed:
            return http_exception_view(exc, request)
        return method_not_allowed(request, allowed)


def includeme(config):
    views = MethodViews()
    config.add_view(views.predicate_mismatch, context=PredicateMismatch)
    config.add_view(views.cornice_method_not_allowed, context=HTTPMethodNotAllowed)
