"""Verify Clerk session JWTs, following Clerk's "Manual JWT verification" guide.

Clerk signs session tokens with RS256. The public key comes from a JWKS document
(``https://<frontend-api>/.well-known/jwks.json``), cached per ``kid``, or from a PEM
public key. The verifier checks the signature, ``exp`` and ``nbf`` (with clock skew),
``iss`` when an issuer is configured, ``azp`` against an allow-list when one is set
(Clerk: "if the azp claim exists, validate that it equals any of your known origins"),
and requires ``sub``.

Every failure raises :class:`AuthenticationError` whose ``reason`` is a fixed phrase that is
safe to show a client: it never echoes key material or attacker-controlled header values.
"""
from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import jwt
from jwt import exceptions as jwt_errors
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

log = logging.getLogger(__name__)

ALGORITHM = "RS256"
SESSION_COOKIE = "__session"
# Tokens longer than this are refused before any parsing, to bound work on hostile input.
MAX_TOKEN_LENGTH = 16 * 1024
# The largest JWKS document we read; Clerk's holds one or two keys.
MAX_JWKS_BYTES = 1024 * 1024
MIN_RSA_BITS = 2048

# Query parameters that commonly carry bearer tokens. A token in a URL ends up in access
# logs, browser history and Referer headers, so its mere presence is refused.
QUERY_TOKEN_PARAMS = frozenset({
    "token", "access_token", "id_token", "jwt", "session_token", "auth_token",
    "authorization", "bearer", SESSION_COOKIE,
})
_JWT_SHAPE = re.compile(r"^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$")


class AuthenticationError(Exception):
    """The request's credentials were rejected; ``reason`` is safe to return to the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SigningKeysUnavailable(AuthenticationError):
    """The signing keys could not be fetched (JWKS endpoint down); a server-side problem."""


class KeySource(Protocol):
    """Where the verifier gets the public key for a token."""

    requires_kid: bool

    def key_for(self, kid: str | None) -> Any:
        """Return the public key for ``kid``, or raise :class:`AuthenticationError`."""


def parse_jwks(document: Any) -> dict[str, Any]:
    """Return ``{kid: public key}`` for the RS256 signing keys of a JWKS document.

    Keys that are not RSA, not for signatures, declared for another algorithm, too short,
    or without a ``kid`` are skipped. A document without a ``keys`` list is a ValueError.
    """
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise ValueError("JWKS document has no 'keys' list")
    keys: dict[str, Any] = {}
    for entry in document["keys"]:
        if not isinstance(entry, Mapping) or entry.get("kty") != "RSA":
            continue
        if entry.get("use", "sig") != "sig" or entry.get("alg", ALGORITHM) != ALGORITHM:
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or not kid:
            continue
        try:
            key = jwt.PyJWK(dict(entry), algorithm=ALGORITHM).key
        except (jwt_errors.PyJWTError, ValueError, TypeError):
            log.warning("JWKS: skipping key %r that could not be parsed", kid)
            continue
        if key.key_size < MIN_RSA_BITS:
            log.warning("JWKS: skipping key %r shorter than %d bits", kid, MIN_RSA_BITS)
            continue
        keys[kid] = key
    return keys


def fetch_jwks(url: str, timeout: float) -> dict:
    """GET a JWKS document and return it parsed. The URL comes from operator settings."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - operator URL
        body = response.read(MAX_JWKS_BYTES + 1)
    if len(body) > MAX_JWKS_BYTES:
        raise ValueError(f"JWKS document at {url} is larger than {MAX_JWKS_BYTES} bytes")
    return json.loads(body)


class JWKSKeySource:
    """Public keys from a JWKS URL, cached for ``ttl_seconds``.

    A token with a ``kid`` missing from a fresh cache triggers one refetch (key rotation),
    but such refetches happen at most once per ``min_refetch_interval`` seconds, so a flood
    of tokens with made-up ``kid`` values cannot make us hammer the endpoint. When a fetch
    fails, keys already cached keep working and the endpoint is left alone for the interval.
    ``fetch(url, timeout) -> dict`` may be replaced, for example to route the call through a
    circuit breaker.
    """

    requires_kid = True

    def __init__(
        self,
        url: str,
        ttl_seconds: float = 300.0,
        timeout: float = 3.0,
        fetch: Callable[[str, float], Any] | None = None,
        *,
        min_refetch_interval: float = 10.0,
    ) -> None:
        if not url:
            raise ValueError("JWKS URL is empty")
        if ttl_seconds <= 0 or timeout <= 0 or min_refetch_interval < 0:
            raise ValueError("JWKS ttl_seconds and timeout must be > 0, min_refetch_interval >= 0")
        self.url = url
        self.ttl_seconds = float(ttl_seconds)
        self.timeout = float(timeout)
        self.min_refetch_interval = float(min_refetch_interval)
        self._fetch = fetch or fetch_jwks
        self._lock = threading.Lock()
        # (keys, monotonic fetch time), replaced as one tuple so readers never see a mix.
        self._cache: tuple[dict[str, Any] | None, float] = (None, 0.0)
        self._next_unknown_kid_fetch = 0.0
        self._next_fetch_after_failure = 0.0

    def key_for(self, kid: str | None) -> Any:
        """Return the key for ``kid``, refetching the JWKS when stale or when ``kid`` is new."""
        if not kid:
            raise AuthenticationError("token header has no key id (kid)")
        keys, fetched_at = self._cache
        if keys is not None and kid in keys and time.monotonic() - fetched_at < self.ttl_seconds:
            return keys[kid]
        return self._refresh_for(kid)

    def _refresh_for(self, kid: str) -> Any:
        # One thread fetches; the others wait and then use what it found.
        with self._lock:
            now = time.monotonic()
            cached, fetched_at = self._cache
            fresh = cached is not None and now - fetched_at < self.ttl_seconds
            if fresh and kid in cached:
                return cached[kid]
            # Fresh cache, unknown kid: at most one refetch per interval (hostile kids).
            # Stale or empty cache: refetch, unless the last attempt failed within the interval.
            allowed_at = self._next_unknown_kid_fetch if fresh else self._next_fetch_after_failure
            if now < allowed_at:
                return self._from_cache_only(cached, kid)
            if fresh:
                self._next_unknown_kid_fetch = now + self.min_refetch_interval
            try:
                keys = parse_jwks(self._fetch(self.url, self.timeout))
            except Exception as exc:  # network, HTTP, JSON or document-shape failure
                log.warning("JWKS fetch from %s failed: %s", self.url, exc.__class__.__name__)
                self._next_fetch_after_failure = now + self.min_refetch_interval
                return self._from_cache_only(cached, kid)
            self._cache = (keys, now)
            if kid in keys:
                return keys[kid]
            raise AuthenticationError("token signing key (kid) is not known")

    @staticmethod
    def _from_cache_only(cached: dict[str, Any] | None, kid: str) -> Any:
        if cached is None:
            raise SigningKeysUnavailable("signing keys are unavailable")
        if kid in cached:
            return cached[kid]  # stale, but the endpoint cannot be asked right now
        raise AuthenticationError("token signing key (kid) is not known")

    @property
    def known_kids(self) -> frozenset[str]:
        """The key ids currently cached (for health output and tests)."""
        return frozenset(self._cache[0] or ())


class StaticJWKSKeySource:
    """Public keys from a JWKS document held in memory (the dev-token key, tests)."""

    requires_kid = True

    def __init__(self, jwks: Mapping[str, Any]) -> None:
        self._keys = parse_jwks(jwks)
        if not self._keys:
            raise ValueError("JWKS document holds no usable RS256 signing key")

    def key_for(self, kid: str | None) -> Any:
        """Return the key for ``kid`` or raise AuthenticationError."""
        if not kid:
            raise AuthenticationError("token header has no key id (kid)")
        try:
            return self._keys[kid]
        except KeyError:
            raise AuthenticationError("token signing key (kid) is not known") from None


class PEMKeySource:
    """One RSA public key from a PEM string (Clerk's "PEM public key", CLERK_JWT_KEY)."""

    requires_kid = False

    def __init__(self, pem: str | bytes) -> None:
        if isinstance(pem, str):
            # Env vars often carry the PEM with literal "\n" sequences.
            pem = pem.replace("\\n", "\n").strip().encode()
        try:
            key = serialization.load_pem_public_key(pem)
        except (ValueError, TypeError) as exc:
            raise ValueError("JWT key is not a PEM-encoded public key") from exc
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("JWT key must be an RSA public key")
        if key.key_size < MIN_RSA_BITS:
            raise ValueError(f"JWT key must be at least {MIN_RSA_BITS} bits")
        self._key = key

    def key_for(self, kid: str | None) -> Any:
        """Return the one configured key; ``kid`` is not needed."""
        return self._key


class TokenVerifier:
    """Verify RS256 session tokens against a key source; ``verify`` returns the claims."""

    def __init__(
        self,
        key_source: KeySource,
        *,
        issuer: str | None,
        authorized_parties: Iterable[str] = (),
        leeway: float = 5.0,
        audience: str | list[str] | None = None,
    ) -> None:
        if leeway < 0:
            raise ValueError("JWT leeway must be >= 0 seconds")
        self.key_source = key_source
        self.issuer = issuer or None
        self.authorized_parties = frozenset(authorized_parties)
        self.leeway = float(leeway)
        self.audience = audience
        required = ["exp", "sub"] + (["iss"] if self.issuer else [])
        self._options = {"require": required, "verify_aud": audience is not None}

    def verify(self, token: str) -> dict:
        """Return the token's claims, or raise AuthenticationError saying what was wrong."""
        if not isinstance(token, str) or not token.strip():
            raise AuthenticationError("missing token")
        if len(token) > MAX_TOKEN_LENGTH:
            raise AuthenticationError("token is too large")
        header = _unverified_header(token)
        if header.get("alg") != ALGORITHM:
            raise AuthenticationError("token algorithm must be RS256")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise AuthenticationError("malformed token")
        if self.key_source.requires_kid and not kid:
            raise AuthenticationError("token header has no key id (kid)")
        key = self.key_source.key_for(kid)
        claims = self._decode(token, key)
        if not isinstance(claims.get("sub"), str) or not claims["sub"].strip():
            raise AuthenticationError("token subject (sub) is empty")
        azp = claims.get("azp")
        if azp is not None and self.authorized_parties and azp not in self.authorized_parties:
            raise AuthenticationError("token authorized party (azp) is not accepted")
        return claims

    def _decode(self, token: str, key: Any) -> dict:
        try:
            return jwt.decode(
                token, key, algorithms=[ALGORITHM], issuer=self.issuer,
                audience=self.audience, leeway=self.leeway, options=self._options,
            )
        except jwt_errors.ExpiredSignatureError:
            reason = "token has expired"
        except jwt_errors.ImmatureSignatureError:
            reason = "token is not valid yet (nbf/iat in the future)"
        except jwt_errors.InvalidIssuerError:
            reason = "token issuer (iss) is not accepted"
        except jwt_errors.MissingRequiredClaimError as exc:
            reason = f"token has no '{exc.claim}' claim"  # claim names come from our list
        except jwt_errors.InvalidSubjectError:
            reason = "token subject (sub) must be a string"
        except jwt_errors.InvalidAudienceError:
            reason = "token audience (aud) is not accepted"
        except jwt_errors.InvalidSignatureError:
            reason = "token signature is invalid"
        except jwt_errors.InvalidAlgorithmError:
            reason = "token algorithm must be RS256"
        except jwt_errors.DecodeError:
            reason = "malformed token"
        except jwt_errors.InvalidTokenError:
            reason = "invalid token"
        raise AuthenticationError(reason)


def _unverified_header(token: str) -> dict:
    """The JOSE header, read only to pick the key; ``jwt.decode`` re-checks everything.

    Cheaper than ``jwt.get_unverified_header``, which also decodes payload and signature.
    """
    if token.count(".") != 2:
        raise AuthenticationError("malformed token")
    segment = token.split(".", 1)[0]
    try:
        raw = base64.urlsafe_b64decode(segment.encode("ascii") + b"=" * (-len(segment) % 4))
        header = json.loads(raw)
    except (ValueError, binascii.Error):  # bad base64, non-ASCII, bad UTF-8 or JSON
        raise AuthenticationError("malformed token") from None
    if not isinstance(header, dict):
        raise AuthenticationError("malformed token")
    return header


def token_from_request_parts(
    authorization_header: str | None,
    cookies: Mapping[str, str] | None,
    query_params: Any,
) -> tuple[str | None, str | None]:
    """Find the session token: ``(token, "header" | "cookie")``, or ``(None, None)`` if absent.

    ``Authorization: Bearer`` wins over the ``__session`` cookie. A token in the query string
    (a known token parameter, or any value shaped like a JWT) is refused outright.
    ``query_params`` is a mapping or a WebOb MultiDict.
    """
    if query_params:
        pairs = query_params.items() if hasattr(query_params, "items") else query_params
        for name, value in pairs:
            if str(name).lower() in QUERY_TOKEN_PARAMS or (
                isinstance(value, str) and _JWT_SHAPE.match(value)
            ):
                raise AuthenticationError("tokens in the query string are not accepted")
    header = (authorization_header or "").strip()
    if header:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "bearer":
            raise AuthenticationError("authorization scheme must be Bearer")
        credentials = credentials.strip()
        if not credentials:
            raise AuthenticationError("empty bearer token")
        return credentials, "header"
    cookie = (cookies or {}).get(SESSION_COOKIE)
    if cookie:
        return cookie, "cookie"
    return None, None
