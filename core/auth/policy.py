"""The Pyramid security policy: who is calling (token -> identity) and what they may do.

``request.identity`` is an :class:`Identity` or None. The identity sources
(``interviewminds_identity_sources``) are asked in order; the first :class:`Principal` wins. A present but invalid token leaves the
identity empty and records why in ``request.auth_error``; a protected view then answers 401
with that reason. Cookie-authenticated unsafe requests must pass the CSRF check.
"""
from __future__ import annotations

from dataclasses import dataclass

from pyramid.csrf import check_csrf_token
from pyramid.security import Allowed, Denied

from core.auth.jwt import AuthenticationError
from core.auth.sources import bearer_credentials
from core.auth.role_cache import RoleCache
from core.auth.users import DEFAULT_ROLE
from core.permissions import permits

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Identity:
    user_id: str
    role: str
    permissions: frozenset
    via: str  # "header", "cookie", or what the identity source says
    claims: dict
    source: str = ""  # the identity source that recognised the caller

    def can(self, permission: str) -> bool:
        return permits(self.permissions, permission)


class SecurityPolicy:
    def __init__(self, sources, roles, role_cache: RoleCache | None = None):
        self.sources = tuple(sources)
        self.roles = roles
        self.role_cache = role_cache or RoleCache()

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
        token, _ = bearer_credentials(request)  # refuses query-string tokens whoever handles them
        for source in self.sources:
            principal = source.authenticate(request)
            if principal is not None:
                break
        else:
            if token is not None:
                raise AuthenticationError("no token verifier is configured for this key")
            return None
        if principal.via == "cookie" and request.method in UNSAFE_METHODS:
            if not check_csrf_token(request, token="csrf_token", header="X-CSRF-Token", raises=False):
                request.environ["interviewminds.csrf_failed"] = True
                raise AuthenticationError("cookie-authenticated requests must send X-CSRF-Token "
                                          "(get one from GET /api/csrf)")
        role = self.role_cache.role_of(principal.user_id) or DEFAULT_ROLE
        return Identity(user_id=principal.user_id, role=role, permissions=self.roles.for_role(role),
                        via=principal.via, claims=principal.claims, source=source.name)

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
