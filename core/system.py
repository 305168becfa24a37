"""System routes: /health, /ping, /metrics, /api/csrf."""
from __future__ import annotations

import ipaddress

from pyramid.csrf import get_csrf_token
from pyramid.response import Response

from core.health import health_report
from core.http.errors import error_response
from core.http.ratelimiting import client_ip
from core.lookup import METRICS
from core.metrics import exposition
from core.settings import SettingsError

# Who may read /metrics in production when interviewminds.metrics.allow_cidrs is empty.
PRODUCTION_METRICS_DEFAULT = ("127.0.0.0/8", "::1/128")


def health_view(request):
    status, body = health_report(request.registry)
    request.response.status_int = status
    if status == 503:
        request.response.headers["Retry-After"] = "5"
    return body


def ping_view(request):
    return {"status": "ok"}


def _networks(settings, key: str, values) -> list:
    try:
        return [ipaddress.ip_network(value, strict=False) for value in values]
    except ValueError as exc:
        raise SettingsError(f"{key}: invalid value {' '.join(values)!r} ({exc})") from None


def metrics_access(settings):
    """``(allowed networks or None for anyone, trusted proxies)`` for /metrics.

    ``interviewminds.metrics.allow_cidrs`` empty: anyone outside production, loopback only in
    production. The client address is the rate limiter's (X-Forwarded-For only from
    ``interviewminds.http.trusted_proxies``).
    """
    configured = settings["interviewminds.metrics.allow_cidrs"]
    if not configured and settings["interviewminds.env"] == "production":
        configured = list(PRODUCTION_METRICS_DEFAULT)
    allowed = _networks(settings, "interviewminds.metrics.allow_cidrs", configured) if configured else None
    trusted = _networks(settings, "interviewminds.http.trusted_proxies", settings["interviewminds.http.trusted_proxies"])
    return allowed, trusted


def _allowed(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in net for net in networks)


def make_metrics_view(settings):
    allowed, trusted = metrics_access(settings)

    def metrics_view(request):
        if allowed is not None and not _allowed(client_ip(request, trusted), allowed):
            return error_response(request, 403, "permission denied: /metrics is served only to the networks "
                                                 "in interviewminds.metrics.allow_cidrs")
        body, content_type = exposition(request.find_service(name=METRICS).registry)
        response = Response(body=body)
        response.headers["Content-Type"] = content_type
        return response

    return metrics_view


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
        ("core.metrics", "/metrics", make_metrics_view(config.registry.settings)),
        ("core.csrf", "/api/csrf", csrf_view),
    ):
        config.add_route(name, path)
        config.add_view(view, route_name=name, request_method="GET", renderer="json")
