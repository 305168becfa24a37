"""Clerk session tokens over HTTP: rotation without restart, every bad token -> 401, roles."""
import base64
import json
import time

import pytest
from cryptography.hazmat.primitives import serialization

from tests.support.fake_jwks import FakeJWKSServer

ISSUER = "https://clerk.example.test"
AZP = "https://app.example.test"


@pytest.fixture
def jwks():
    with FakeJWKSServer() as server:
        server.add_key()
        yield server


@pytest.fixture
def app(make_app, jwks):
    return make_app(plugins=["sample"], **{
        "auth.dev": "false", "auth.jwks_url": jwks.url, "auth.issuer": ISSUER,
        "auth.authorized_parties": AZP, "auth.jwks_ttl": "300", "ratelimit.enabled": "false",
    })


def claims(**overrides):
    now = int(time.time())
    base = {"sub": "user_1", "iss": ISSUER, "azp": AZP, "iat": now, "nbf": now, "exp": now + 300}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def current_kid(server):
    return server.jwks()["keys"][0]["kid"]


def assert_401(response, fragment):
    assert response.status_int == 401
    body = response.json
    assert set(body) == {"error", "correlationId"} and body["correlationId"] == response.headers["X-Correlation-ID"]
    assert fragment in body["error"]
    assert "BEGIN" not in body["error"] and "-----" not in body["error"]


def test_valid_token_and_rotation_without_restart(app, jwks):
    kid = current_kid(jwks)
    assert app.get("/api/admin/users", headers=bearer(jwks.sign(kid, claims())), status=403)  # candidate
    new_kid = jwks.rotate()
    token = jwks.sign(new_kid, claims())
    response = app.post_json("/graphql", {"query": "{ me { userId role } }"}, headers=bearer(token))
    assert response.json == {"data": {"me": {"userId": "user_1", "role": "candidate"}}}
    # the retired key still works from the cache until its TTL; an unpublished, never-seen key does not
    stranger = FakeJWKSServer()
    stranger_kid = stranger.add_key()
    forged = stranger.sign(stranger_kid, claims())
    assert_401(app.get("/api/sample/notes", headers=bearer(forged), status=401), "signing key (kid) is not known")


def _public_pem(server):
    key = server.private_key(current_kid(server)).public_key()
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


BAD_TOKENS = {
    "alg_none": (lambda s: f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': current_kid(s)})}.{_b64(claims())}.",
                 "RS256"),
    "hs256_with_public_key": (lambda s: _hs256(s), "RS256"),
    "expired": (lambda s: s.sign(current_kid(s), claims(exp=int(time.time()) - 60)), "expired"),
    "future_nbf": (lambda s: s.sign(current_kid(s), claims(nbf=int(time.time()) + 120)), "not valid yet"),
    "wrong_iss": (lambda s: s.sign(current_kid(s), claims(iss="https://evil.example")), "issuer"),
    "wrong_azp": (lambda s: s.sign(current_kid(s), claims(azp="https://evil.example")), "authorized party"),
    "missing_sub": (lambda s: s.sign(current_kid(s), claims(sub=None)), "sub"),
    "unknown_kid": (lambda s: _unknown_kid(s), "signing key (kid) is not known"),
    "truncated": (lambda s: _truncated(s.sign(current_kid(s), claims())), "malformed"),
    "garbage": (lambda s: "not-a-token-at-all", "malformed"),
}


def _truncated(token: str) -> str:
    # Cut the signature to a length no base64 text can have (1 more than a multiple of 4), so the
    # token is malformed whatever its random bytes; a cut that still decodes would instead be
    # (rightly) an invalid signature.
    head, signature = token.rsplit(".", 1)
    keep = len(signature) - 20
    keep -= (keep - 1) % 4
    return f"{head}.{signature[:keep]}"


def _hs256(server):
    # The classic confusion attack: HMAC-sign with the RSA public key as the secret.
    header = {"alg": "HS256", "typ": "JWT", "kid": current_kid(server)}
    import hashlib
    import hmac

    signing_input = f"{_b64(header)}.{_b64(claims())}"
    signature = hmac.new(_public_pem(server), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def _unknown_kid(server):
    kid = server.add_key()
    server.remove_key(kid)  # signed by a key that is not (any longer) in the JWKS
    return server.sign(kid, claims())


@pytest.mark.parametrize("name", sorted(BAD_TOKENS))
def test_bad_token_is_401(app, jwks, name):
    make, fragment = BAD_TOKENS[name]
    token = make(jwks)
    assert_401(app.get("/api/sample/notes", headers=bearer(token), status=401), fragment)


def test_unknown_kid_refetches_once(app, jwks):
    good = jwks.sign(current_kid(jwks), claims())
    app.get("/api/admin/users", headers=bearer(good), status=403)  # fills the cache
    before = jwks.requests
    token = _unknown_kid(jwks)
    for _ in range(5):
        assert_401(app.get("/api/sample/notes", headers=bearer(token), status=401), "signing key (kid) is not known")
    assert jwks.requests - before == 1  # one refetch for the unknown kid, then no hammering


def test_token_in_query_string_is_401(app, jwks):
    token = jwks.sign(current_kid(jwks), claims())
    assert_401(app.get("/api/sample/notes", {"token": token}, status=401), "query string")
    assert_401(app.get("/api/sample/notes", {"q": token}, status=401), "query string")


def test_dev_tokens_are_refused_when_dev_auth_is_off(app, make_app):
    dev_app = make_app()
    dev_token = dev_app.token("mallory", "admin")
    assert_401(app.get("/api/admin/users", headers=bearer(dev_token), status=401), "")


def test_missing_token_is_401_on_protected_routes(app):
    response = app.get("/api/sample/notes", status=401)
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "authentication required" in response.json["error"]


def test_cookie_auth_needs_csrf_for_unsafe_methods(app, jwks):
    from core.auth.users import set_role

    set_role("user_1", "admin", by="test")
    token = jwks.sign(current_kid(jwks), claims())
    app.set_cookie("__session", token)
    assert app.get("/api/sample/notes", status=200)  # safe method: the cookie alone is enough
    refused = app.post_json("/api/sample/notes", {"text": "x"}, status=403)
    assert "X-CSRF-Token" in refused.json["error"]
    csrf = app.get("/api/csrf").json["csrfToken"]
    app.post_json("/api/sample/notes", {"text": "x"}, headers={"X-CSRF-Token": csrf}, status=201)
    app.post_json("/api/sample/notes", {"text": "x"}, headers={"X-CSRF-Token": csrf + "x"}, status=403)
