"""Domain errors: what services raise when a request cannot be served.

Services never raise HTTP errors. Core maps these once to HTTP (the documented error body,
:mod:`core.http.errors`) and once to GraphQL (an error with ``extensions.code`` and
``extensions.status``, :mod:`core.graphql`), so every plugin's errors look alike on both.
"""
from __future__ import annotations


class DomainError(Exception):
    """Base class. ``message`` is safe to show to the client; ``details`` only show in debug."""

    status = 500
    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, *, details=None, headers: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = dict(headers or {})


class Invalid(DomainError):
    """The input is wrong (400). Name the field in the message."""

    status, code = 400, "BAD_USER_INPUT"


class GradedInputError(Invalid):
    """Bad input that is either malformed (400) or too large (413), for pure modules (decoders)
    that decide which while parsing: ``GradedInputError(message, 413)``."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        if status == TooLarge.status:
            self.status, self.code = TooLarge.status, TooLarge.code


class Unauthenticated(DomainError):
    """The caller must authenticate first (401)."""

    status, code = 401, "UNAUTHENTICATED"


class Forbidden(DomainError):
    """The caller may not do this (403)."""

    status, code = 403, "FORBIDDEN"


class NotFound(DomainError):
    """The thing does not exist, or the caller may not know that it does (404)."""

    status, code = 404, "NOT_FOUND"


class Conflict(DomainError):
    """The request conflicts with the current state, e.g. a stale version (409)."""

    status, code = 409, "CONFLICT"


class PreconditionRequired(DomainError):
    """A conditional request is required, e.g. If-Match for an update (428)."""

    status, code = 428, "PRECONDITION_REQUIRED"


class TooLarge(DomainError):
    """The input is larger than allowed (413)."""

    status, code = 413, "PAYLOAD_TOO_LARGE"


class Unavailable(DomainError):
    """A dependency is down or overloaded (503); ``retry_after`` seconds become Retry-After."""

    status, code = 503, "SERVICE_UNAVAILABLE"

    def __init__(self, message: str, *, retry_after: float | int = 5, details=None):
        super().__init__(message, details=details,
                         headers={"Retry-After": str(max(1, int(round(retry_after))))})
        self.retry_after = retry_after
