"""System routes: /health, /ping, /metrics, /api/csrf."""
from __future__ import annotations

from pyramid.csrf import get_csrf_token
from pyramid.response import Response

from core.health import health_report
from core.lookup import METRICS
from core.metrics import exposition


def health_view(request):
    status, body = health_report(request.registry)
    request.response.status_int = status
    if status == 503:
        request.response.headers["Retry-After"] = "5"
    return body


def ping_view(request):
    return {"status": "ok"}


def metrics_view(request):
    body, content_type = exposition(request.find_service(name=METRICS).registry)
    response = Response(body=body)
    response.headers["Content-Type"] = content_type
    return response


def csrf_view(request):
    """A CSRF token bound to this client (a cookie), for cookie-authenticated unsafe requests.

    Send it back as ``X-CSRF-Token``; Pyramid's CookieCSRFStoragePolicy compares the two in
    constant time.
    """
    return {"csrfToken": get_csrf_token(request), "header": "X-CSRF-Token"}


def includeme(config):
    for name, path, view in (
        ("core.health", "/health", health_view),
        ("core.ping", "/ping", ping_view),
        ("core.metrics", "/metrics", metrics_view),
        ("core.csrf", "/api/csrf", csrf_view),
    ):
        config.add_route(name, path)
        config.add_view(view, route_name=name, request_method="GET", renderer="json")
