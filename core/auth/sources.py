"""Identity sources: the ways a request can prove who is calling, tried in order.

Core registers two through ``interviewminds_identity_sources`` like any plugin would
(:mod:`core.builtin`): dev tokens (only with ``interviewminds.auth.dev``) and Clerk session JWTs
(when a JWKS URL or PEM key is configured). A plugin adds its own (an SSO session cookie, an
API key) by returning more :class:`IdentitySource` objects from the same hook.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import jwt as pyjwt

from core.auth.jwt import AuthenticationError, TokenVerifier, token_from_request_parts

# What a source raises to refuse a request; the reason is safe to show to the client.
AuthenticationRefused = AuthenticationError

_CREDENTIALS = "interviewminds.credentials"


@dataclass(frozen=True)
class Principal:
    """Who a source says is calling. The role is looked up by core, never taken from here."""

    user_id: str
    via: str  # "header" (bearer), "cookie" (a cookie the browser sends: CSRF-checked), ...
    claims: dict = field(default_factory=dict)


@runtime_checkable
class IdentitySource(Protocol):
    """``authenticate(request)`` -> Principal, None ("not mine"), or raises AuthenticationRefused."""

    name: str

    def authenticate(self, request) -> Principal | None: ...


def bearer_credentials(request) -> tuple[str | None, str | None]:
    """The request's session token and where it came from (``header``/``cookie``), parsed once.

    Raises AuthenticationRefused for tokens in the query string or a non-Bearer scheme.
    """
    cached = request.environ.get(_CREDENTIALS)
    if cached is None:
        cached = token_from_request_parts(request.headers.get("Authorization"), request.cookies, request.GET)
        request.environ[_CREDENTIALS] = cached
    return cached


def _principal(claims: dict, via: str) -> Principal:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise AuthenticationRefused("token has no subject")
    return Principal(user_id=subject, via=via, claims=claims)


class DevTokenSource:
    """Tokens minted by ``interviewminds token``: recognised by the local key's id."""

    name = "dev"

    def __init__(self, verifier: TokenVerifier, kid: str):
        self.verifier = verifier
        self.kid = kid

    def authenticate(self, request) -> Principal | None:
        token, via = bearer_credentials(request)
        if token is None:
            return None
        try:
            kid = pyjwt.get_unverified_header(token).get("kid")
        except pyjwt.InvalidTokenError:
            raise AuthenticationRefused("malformed token") from None
        if kid != self.kid:
            return None
        return _principal(self.verifier.verify(token), via)


class ClerkTokenSource:
    """Clerk session JWTs (RS256 against the JWKS or a PEM key): claims every bearer token."""

    name = "clerk"

    def __init__(self, verifier: TokenVerifier):
        self.verifier = verifier

    def authenticate(self, request) -> Principal | None:
        token, via = bearer_credentials(request)
        if token is None:
            return None
        return _principal(self.verifier.verify(token), via)
