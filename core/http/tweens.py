"""Tweens, outermost first: correlation id (+ security headers) -> metrics -> body limits/CORS.

Pyramid's exception-view tween sits under these and shapes every error; rate limiting is
under that (see core.ratelimit_tween) so a 429 is shaped too.
"""
from __future__ import annotations

import logging
import time
import uuid

from pyramid.tweens import EXCVIEW, INGRESS

from core.http.errors import error_response

log = logging.getLogger(__name__)

CORRELATION_HEADER = "X-Correlation-ID"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# A strict policy for a JSON API: nothing may be loaded or framed from our responses.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The browser pages (GraphiQL, /docs) load scripts, styles and data from this origin only:
# every asset is a local file, and there is no inline script or eval.
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'")


def valid_correlation_id(value: str | None) -> str | None:
    """Return the incoming id if it is a UUID (in canonical form), else None."""
    if not value or len(value) > 36:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def correlation_tween_factory(handler, registry):
    settings = registry.settings
    hsts = settings.get("interviewminds.security.hsts")
    hsts_value = f"max-age={settings.get('interviewminds.security.hsts_max_age', 31536000)}; includeSubDomains"

    def correlation_tween(request):
        request.correlation_id = valid_correlation_id(request.headers.get(CORRELATION_HEADER)) or str(uuid.uuid4())
        try:
            response = handler(request)
        except Exception:  # the excview tween shapes errors; this is the last line of defence
            log.exception("error escaped the exception views (correlation id %s)", request.correlation_id)
            response = error_response(request, 500)
        headers = response.headers
        headers[CORRELATION_HEADER] = request.correlation_id
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Content-Security-Policy", API_CSP)
        headers.setdefault("X-Frame-Options", "DENY")
        if hsts:  # the operator enables it when TLS terminates in front of us
            headers.setdefault("Strict-Transport-Security", hsts_value)
        return response

    return correlation_tween


def metrics_tween_factory(handler, registry):
    from core.lookup import METRICS, find_service

    metrics = find_service(registry, METRICS)

    def metrics_tween(request):
        start = time.perf_counter()
        response = None
        try:
            response = handler(request)
            return response
        finally:
            route = request.matched_route.name if request.matched_route is not None else "<unmatched>"
            status = str(response.status_int) if response is not None else "500"
            metrics.requests.labels(request.method, route, status).inc()
            metrics.latency.labels(route).observe(time.perf_counter() - start)

    return metrics_tween


def _cors_headers(request, origins, max_age):
    origin = request.headers.get("Origin")
    if not origin or not origins or ("*" not in origins and origin not in origins):
        return {}
    return {
        "Access-Control-Allow-Origin": origin if "*" not in origins else "*",
        "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
        "Access-Control-Allow-Headers": "Authorization, Content-Type, X-Correlation-ID, X-CSRF-Token, If-Match",
        "Access-Control-Expose-Headers": "X-Correlation-ID, RateLimit, RateLimit-Policy, Retry-After, ETag",
        "Access-Control-Max-Age": str(max_age),
        "Vary": "Origin",
    }


def body_and_cors_tween_factory(handler, registry):
    """Refuse oversized bodies before anything reads them, and answer CORS."""
    settings = registry.settings
    origins = settings.get("interviewminds.cors.origins") or []
    max_age = settings.get("interviewminds.cors.max_age", 600)
    # The hard cap is the largest limit any route has; JSON routes check the smaller
    # one again in their validator (core.http.validation) once the route is known.
    hard_cap = max(settings["interviewminds.http.max_body_bytes"], settings["interviewminds.http.max_upload_bytes"])

    def body_and_cors_tween(request):
        cors = _cors_headers(request, origins, max_age)
        if request.method == "OPTIONS" and cors and request.headers.get("Access-Control-Request-Method"):
            response = request.response
            response.status_int = 204
            response.headers.pop("Content-Type", None)  # a 204 carries no body
            response.headers.update(cors)
            return response
        if request.method in UNSAFE_METHODS:
            length = request.content_length
            if length is not None and length > hard_cap:
                return error_response(request, 413, f"request body too large (limit {hard_cap} bytes)",
                                      headers=cors)
            if length is None and request.headers.get("Transfer-Encoding", "").lower() == "chunked":
                data = request.body_file_raw.read(hard_cap + 1)
                if len(data) > hard_cap:
                    return error_response(request, 413, f"request body too large (limit {hard_cap} bytes)",
                                          headers=cors)
                request.body = data
        response = handler(request)
        if cors:
            response.headers.update(cors)
        return response

    return body_and_cors_tween


def includeme(config):
    config.add_tween("core.http.tweens.correlation_tween_factory", under=INGRESS)
    config.add_tween("core.http.tweens.metrics_tween_factory", under="core.http.tweens.correlation_tween_factory")
    config.add_tween("core.http.tweens.body_and_cors_tween_factory", under="core.http.tweens.metrics_tween_factory",
                     over=EXCVIEW)
