"""The documented error body, and exception views that produce it for every status.

Body: ``{"error": str, "correlationId": str}`` plus ``"details"`` only when
``interviewminds.debug`` is true.
"""
from __future__ import annotations

import json
import logging

import pymongo.errors
import redis.exceptions
from pyramid.httpexceptions import HTTPException, HTTPForbidden
from pyramid.response import Response

from core.errors import DomainError
from core.lookup import METRICS, find_service

log = logging.getLogger(__name__)

STORE_DOWN_RETRY_AFTER = 5

DEFAULT_MESSAGES = {
    400: "bad request",
    401: "authentication required",
    403: "permission denied",
    404: "not found",
    405: "method not allowed",
    409: "conflict",
    413: "request body too large",
    415: "unsupported media type: send application/json",
    429: "too many requests",
    500: "internal server error",
    503: "service unavailable",
}


STORE_ERRORS = (
    pymongo.errors.ConnectionFailure,  # includes ServerSelectionTimeoutError, AutoReconnect
    pymongo.errors.NetworkTimeout,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


def error_response(request, status: int, message: str | None = None, *, headers=None, details=None):
    """Build the documented error response for ``request``."""
    body = {
        "error": message or DEFAULT_MESSAGES.get(status, "error"),
        "correlationId": getattr(request, "correlation_id", None) or "",
    }
    settings = request.registry.settings if request.registry is not None else {}
    if details is not None and settings.get("interviewminds.debug"):
        body["details"] = details
    # default=str: ``details`` (debug only) may hold values JSON has no type for; an error
    # response must never fail to render.
    response = Response(body=json.dumps(body, separators=(",", ":"), default=str).encode(), status=status,
                        content_type="application/json", charset="utf-8")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def http_exception_view(exc, request):
    """Pyramid HTTP exceptions (404 from routing, 405 from cornice, 403 from policies...)."""
    status = exc.status_int
    if status < 400:
        return exc
    message = DEFAULT_MESSAGES.get(status) if exc.detail is None else str(exc.detail)
    if status == 404 and message == request.path_info:  # Pyramid's router puts the bare path here
        path = request.path_info if len(request.path_info) <= 200 else request.path_info[:200] + "..."
        message = f"no route for {request.method} {path}"
    keep = {k: v for k, v in exc.headers.items() if k.lower() in {"allow", "retry-after", "www-authenticate"}}
    if isinstance(exc, HTTPForbidden):
        status, message = _denial(request, message)
    if status == 401:
        keep.setdefault("WWW-Authenticate", "Bearer")
    return error_response(request, status, message, headers=keep)


def _denial(request, message: str) -> tuple[int, str]:
    """A denial for a caller without a valid identity is a 401 (authenticate first)."""
    environ = request.environ
    if environ.get("interviewminds.csrf_failed"):
        return 403, environ.get("interviewminds.auth_error") or "CSRF check failed"
    if getattr(request, "identity", None) is None:
        reason = environ.get("interviewminds.auth_error")
        return 401, (f"invalid token: {reason}" if reason
                     else "authentication required: send Authorization: Bearer <token>")
    identity = request.identity
    return 403, f"permission denied: role {identity.role!r} may not do this"


def domain_error_view(exc: DomainError, request):
    """Every domain error (core.errors) becomes the documented body with its status."""
    return error_response(request, exc.status, exc.message, headers=exc.headers, details=exc.details)


def store_error_view(exc, request):
    log.warning("store unavailable: %s: %s", type(exc).__name__, exc)
    metrics = find_service(request, METRICS, optional=True)
    if metrics is not None:
        metrics.store_errors.labels(type(exc).__module__.split(".")[0]).inc()
    return error_response(request, 503, "a data store is unavailable, retry shortly",
                          headers={"Retry-After": str(STORE_DOWN_RETRY_AFTER)},
                          details=f"{type(exc).__name__}: {exc}")


def unexpected_error_view(exc, request):
    log.exception("unhandled error (correlation id %s)", getattr(request, "correlation_id", "-"))
    return error_response(request, 500, "internal server error", details=f"{type(exc).__name__}: {exc}")


def includeme(config):
    config.add_view(http_exception_view, context=HTTPException)
    config.add_view(domain_error_view, context=DomainError)
    for store_error in STORE_ERRORS:
        config.add_view(store_error_view, context=store_error)
    config.add_view(unexpected_error_view, context=Exception)
