"""The Pyramid security policy: who is calling (token -> identity) and what they may do.

``request.identity`` is an :class:`Identity` or None. A present but invalid token leaves the
identity empty and records why in ``request.auth_error``; a protected view then answers 401
with that reason. Cookie-authenticated unsafe requests must pass the CSRF check.
"""
from __future__ import annotations

from dataclasses import dataclass

import jwt as pyjwt
from pyramid.security import Allowed, Denied
from pyramid.csrf import check_csrf_token

from core.auth.jwt import AuthenticationError, token_from_request_parts
from core.auth.users import DEFAULT_ROLE, role_of
from core.permissions import permits

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Identity:
    user_id: str
    role: str
    permissions: frozenset
    via: str  # "header" or "cookie"
    claims: dict

    def can(self, permission: str) -> bool:
        return permits(self.permissions, permission)


class Verifiers:
    """Routes a token to the dev verifier (by its key id) or to the Clerk verifier."""

    def __init__(self, clerk=None, dev=None, dev_kid: str | None = None):
        self.clerk = clerk
        self.dev = dev
        self.dev_kid = dev_kid

    def verify(self, token: str) -> dict:
        if self.dev is not None:
            try:
                kid = pyjwt.get_unverified_header(token).get("kid")
            except pyjwt.InvalidTokenError:
                raise AuthenticationError("malformed token") from None
            if kid == self.dev_kid:
                return self.dev.verify(token)
        if self.clerk is None:
            raise AuthenticationError("no token verifier is configured for this key")
        return self.clerk.verify(token)


class SecurityPolicy:
    def __init__(self, verifiers: Verifiers, roles):
        self.verifiers = verifiers
        self.roles = roles

    def identity(self, request):
        # Pyramid calls this lazily; cache the answer (and any failure) on the request.
        cached = request.environ.get("interviewminds.identity", _MISSING)
        if cached is not _MISSING:
            return cached
        identity = None
        try:
            identity = self._authenticate(request)
        except AuthenticationError as exc:
            request.environ["interviewminds.auth_error"] = exc.reason
        request.environ["interviewminds.identity"] = identity
        return identity

    def _authenticate(self, request):
        token, via = token_from_request_parts(
            request.headers.get("Authorization"), request.cookies, request.GET)
        if token is None:
            return None
        claims = self.verifiers.verify(token)
        if via == "cookie" and request.method in UNSAFE_METHODS:
            if not check_csrf_token(request, token="csrf_token", header="X-CSRF-Token", raises=False):
                request.environ["interviewminds.csrf_failed"] = True
                raise AuthenticationError("cookie-authenticated requests must send X-CSRF-Token "
                                          "(get one from GET /api/csrf)")
        user_id = claims["sub"]
        role = role_of(user_id) or DEFAULT_ROLE
        return Identity(user_id=user_id, role=role, permissions=self.roles.for_role(role), via=via,
                        claims=claims)

    def authenticated_userid(self, request):
        identity = self.identity(request)
        return identity.user_id if identity else None

    def permits(self, request, context, permission):
        identity = self.identity(request)
        if identity is None:
            return Denied("authentication required")
        if identity.can(permission):
            return Allowed(f"{identity.role} has {permission}")
        return Denied(f"role {identity.role!r} lacks {permission!r}")

    def remember(self, request, userid, **kw):
        return []

    def forget(self, request, **kw):
        return []


_MISSING = object()
