"""Clerk session-token verification against a fake JWKS endpoint on 127.0.0.1."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from core.auth.devkeys import DEV_ISSUER, dev_jwks, issue_dev_token, load_or_create_dev_key
from core.auth.jwt import (
    AuthenticationError,
    JWKSKeySource,
    PEMKeySource,
    SigningKeysUnavailable,
    StaticJWKSKeySource,
    TokenVerifier,
    token_from_request_parts,
)
from tests.support.fake_jwks import FakeJWKSServer, rsa_key

ISSUER = "https://clerk.interviewminds.test"
APP = "https://app.interviewminds.test"


def claims(**overrides):
    now = int(time.time())
    base = {"sub": "user_123", "iss": ISSUER, "azp": APP, "sid": "sess_1",
            "iat": now - 1, "nbf": now - 1, "exp": now + 60}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture
def server():
    with FakeJWKSServer() as fake:
        yield fake


@pytest.fixture
def kid(server):
    return server.add_key()


def make_verifier(source, **kwargs):
    kwargs.setdefault("issuer", ISSUER)
    kwargs.setdefault("authorized_parties", [APP])
    return TokenVerifier(source, **kwargs)


@pytest.fixture
def verifier(server, kid):
    return make_verifier(JWKSKeySource(server.url, min_refetch_interval=0.0))


def rejected(verifier, token) -> str:
    with pytest.raises(AuthenticationError) as info:
        verifier.verify(token)
    return info.value.reason


def test_valid_token_is_verified_and_keys_are_cached(server, kid, verifier):
    token = server.sign(kid, claims())
    assert verifier.verify(token)["sub"] == "user_123"
    assert verifier.verify(server.sign(kid, claims(sub="user_456")))["sub"] == "user_456"
    assert server.requests == 1  # the second token used the cached key


def test_key_rotation_is_picked_up_without_restart(server, kid):
    verifier = make_verifier(JWKSKeySource(server.url, ttl_seconds=0.5))
    old_token = server.sign(kid, claims())
    assert verifier.verify(old_token)["sub"] == "user_123"

    new_kid = server.rotate()
    assert verifier.verify(server.sign(new_kid, claims(sub="rotated")))["sub"] == "rotated"
    assert server.requests == 2  # exactly one refetch for the new kid

    time.sleep(0.6)  # once the cache expires, the retired key is gone too
    assert rejected(verifier, old_token) == "token signing key (kid) is not known"


def test_unknown_kid_refetches_once_and_rate_limits_refetches(server, kid):
    verifier = make_verifier(JWKSKeySource(server.url, min_refetch_interval=30.0))
    verifier.verify(server.sign(kid, claims()))
    assert server.requests == 1

    stranger = server.add_key("ins_stranger")
    server.remove_key(stranger)  # signs, but is not published
    token = server.sign(stranger, claims())
    assert rejected(verifier, token) == "token signing key (kid) is not known"
    assert server.requests == 2  # refetched once

    for _ in range(5):  # a flood of made-up kids does not reach the JWKS endpoint
        assert rejected(verifier, token) == "token signing key (kid) is not known"
    assert server.requests == 2
    assert verifier.verify(server.sign(kid, claims()))["sub"] == "user_123"


def test_alg_none_is_rejected(server, kid, verifier):
    header = b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    payload = b64(json.dumps(claims()).encode())
    assert rejected(verifier, f"{header}.{payload}.") == "token algorithm must be RS256"


def test_hs256_signed_with_the_public_key_is_rejected(server, kid, verifier):
    public_pem = rsa_key(0).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = b64(json.dumps(claims()).encode())
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    reason = rejected(verifier, f"{header}.{payload}.{b64(signature)}")
    assert reason == "token algorithm must be RS256"
    modulus = server.jwks()["keys"][0]["n"]
    assert modulus[:20] not in reason and "BEGIN" not in reason


def test_rs256_header_with_hmac_signature_is_rejected(server, kid, verifier):
    # Same attack with the header claiming RS256: the signature check must fail.
    public_pem = rsa_key(0).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = b64(json.dumps({"alg": "RS256", "typ": "JWT", "kid": kid}).encode())
    payload = b64(json.dumps(claims()).encode())
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert rejected(verifier, f"{header}.{payload}.{b64(signature)}") == "token signature is invalid"


def test_expired_token_is_rejected_and_leeway_is_respected(server, kid):
    source = JWKSKeySource(server.url)
    just_expired = server.sign(kid, claims(exp=int(time.time()) - 2))
    assert make_verifier(source, leeway=5).verify(just_expired)["sub"] == "user_123"
    assert rejected(make_verifier(source, leeway=0), just_expired) == "token has expired"
    long_expired = server.sign(kid, claims(exp=int(time.time()) - 60))
    assert rejected(make_verifier(source), long_expired) == "token has expired"


def test_future_nbf_is_rejected_and_leeway_is_respected(server, kid):
    source = JWKSKeySource(server.url)
    now = int(time.time())
    soon = server.sign(kid, claims(nbf=now + 2, iat=now))
    assert make_verifier(source, leeway=5).verify(soon)["sub"] == "user_123"
    assert rejected(make_verifier(source, leeway=0), soon).startswith("token is not valid yet")
    later = server.sign(kid, claims(nbf=now + 60, iat=now))
    assert rejected(make_verifier(source), later).startswith("token is not valid yet")


def test_wrong_or_missing_issuer_is_rejected(server, kid, verifier):
    assert rejected(verifier, server.sign(kid, claims(iss="https://evil.test"))) == \
        "token issuer (iss) is not accepted"
    assert rejected(verifier, server.sign(kid, claims(iss=None))) == "token has no 'iss' claim"


def test_wrong_azp_is_rejected_absent_azp_follows_clerk(server, kid, verifier):
    assert rejected(verifier, server.sign(kid, claims(azp="https://evil.test"))) == \
        "token authorized party (azp) is not accepted"
    # Clerk: "if the azp claim exists, validate it" - tokens without azp pass.
    assert verifier.verify(server.sign(kid, claims(azp=None)))["sub"] == "user_123"
    # Without an allow-list any azp passes.
    open_verifier = make_verifier(JWKSKeySource(server.url), authorized_parties=[])
    assert open_verifier.verify(server.sign(kid, claims(azp="https://other.test")))["sub"]


def test_missing_or_empty_sub_is_rejected(server, kid, verifier):
    assert rejected(verifier, server.sign(kid, claims(sub=None))) == "token has no 'sub' claim"
    assert rejected(verifier, server.sign(kid, claims(sub=" "))) == "token subject (sub) is empty"
    assert rejected(verifier, server.sign(kid, claims(sub=42))) == \
        "token subject (sub) must be a string"


def test_missing_exp_is_rejected(server, kid, verifier):
    assert rejected(verifier, server.sign(kid, claims(exp=None))) == "token has no 'exp' claim"


def test_missing_kid_is_rejected_for_jwks(server, kid, verifier):
    token = jwt.encode(claims(), server.private_key(kid), algorithm="RS256")
    assert rejected(verifier, token) == "token header has no key id (kid)"


def test_truncated_and_tampered_tokens_are_rejected(server, kid, verifier):
    token = server.sign(kid, claims())
    # A shortened signature fails either base64 decoding or the RSA check, by its last bits.
    assert rejected(verifier, token[:-4]) in {"token signature is invalid", "malformed token"}
    assert rejected(verifier, token[: token.index(".") + 10]) == "malformed token"
    assert rejected(verifier, token.rsplit(".", 1)[0]) == "malformed token"
    header, payload, signature = token.split(".")
    forged = b64(json.dumps(claims(sub="admin_user")).encode())
    assert rejected(verifier, f"{header}.{forged}.{signature}") == "token signature is invalid"


@pytest.mark.parametrize("garbage", [
    "garbage", "a.b.c", "eyJ.eyJ.eyJ", "...", "Bearer", "\u00e9\u00e9.\u00e9.\u00e9",
    b64(os.urandom(48)) + "." + b64(os.urandom(48)) + "." + b64(os.urandom(48)),
])
def test_garbage_tokens_are_rejected(verifier, garbage):
    assert rejected(verifier, garbage) == "malformed token"


def test_empty_and_oversized_tokens_are_rejected(verifier):
    assert rejected(verifier, "") == "missing token"
    assert rejected(verifier, "x" * 20000) == "token is too large"


def test_token_in_query_string_is_refused(server, kid):
    token = server.sign(kid, claims())
    for query in ({"token": token}, {"access_token": "x"}, {"__session": token}, {"q": token}):
        with pytest.raises(AuthenticationError) as info:
            token_from_request_parts(f"Bearer {token}", {}, query)
        assert info.value.reason == "tokens in the query string are not accepted"
    assert token_from_request_parts(None, {}, {"page": "2"}) == (None, None)


def test_token_sources_header_wins_over_cookie():
    assert token_from_request_parts("Bearer abc", {"__session": "def"}, {}) == ("abc", "header")
    assert token_from_request_parts("bearer  abc ", {}, {}) == ("abc", "header")
    assert token_from_request_parts(None, {"__session": "def"}, {}) == ("def", "cookie")
    assert token_from_request_parts("", {}, {}) == (None, None)
    with pytest.raises(AuthenticationError, match="Bearer"):
        token_from_request_parts("Basic dXNlcjpwYXNz", {}, {})
    with pytest.raises(AuthenticationError, match="empty bearer token"):
        token_from_request_parts("Bearer ", {}, {})


def test_pem_key_source(server, kid):
    pem = server.private_key(kid).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    verifier = make_verifier(PEMKeySource(pem.replace("\n", "\\n")))  # as an env var holds it
    no_kid = jwt.encode(claims(), server.private_key(kid), algorithm="RS256")
    assert verifier.verify(no_kid)["sub"] == "user_123"
    other = jwt.encode(claims(), rsa_key(7), algorithm="RS256")
    assert rejected(verifier, other) == "token signature is invalid"
    with pytest.raises(ValueError, match="public key"):
        PEMKeySource("not a pem")
    private_pem = server.private_key(kid).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    with pytest.raises(ValueError):
        PEMKeySource(private_pem)


def test_jwks_unreachable_then_stale_keys_keep_working(server, kid):
    server.status = 503
    verifier = make_verifier(JWKSKeySource(server.url, ttl_seconds=0.3, min_refetch_interval=0.0))
    token = server.sign(kid, claims())
    with pytest.raises(SigningKeysUnavailable) as info:
        verifier.verify(token)
    assert info.value.reason == "signing keys are unavailable"

    server.status = 200
    assert verifier.verify(token)["sub"] == "user_123"
    server.status = 503
    time.sleep(0.35)  # cache expired, refetch fails: the cached key is still used
    assert verifier.verify(token)["sub"] == "user_123"
    assert server.requests == 3


def test_jwks_on_closed_port_is_unavailable():
    from core.services import free_port

    source = JWKSKeySource(f"http://127.0.0.1:{free_port()}/.well-known/jwks.json", timeout=1.0)
    with pytest.raises(SigningKeysUnavailable):
        source.key_for("any")


def test_dev_tokens_round_trip_through_the_same_verifier(tmp_path):
    path = tmp_path / "keys" / "dev-jwt.pem"
    key = load_or_create_dev_key(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = load_or_create_dev_key(path)
    assert again.private_numbers() == key.private_numbers()

    jwks = dev_jwks(key)
    assert jwks == dev_jwks(again)  # stable kid (RFC 7638 thumbprint)
    verifier = TokenVerifier(StaticJWKSKeySource(jwks), issuer=DEV_ISSUER)
    token = issue_dev_token(key, user_id="dev_user", role="interviewer", ttl=60)
    verified = verifier.verify(token)
    assert verified["sub"] == "dev_user" and verified["role"] == "interviewer"
    assert verified["exp"] - verified["iat"] == 60
    assert jwt.get_unverified_header(token)["kid"] == jwks["keys"][0]["kid"]

    # A production verifier (Clerk issuer, no dev key) refuses the dev token.
    other = TokenVerifier(StaticJWKSKeySource(dev_jwks(rsa_key(3))), issuer=ISSUER)
    assert rejected(other, token) == "token signing key (kid) is not known"

    with pytest.raises(ValueError, match="role"):
        issue_dev_token(key, user_id="u", role="superuser")
    with pytest.raises(ValueError, match="user_id"):
        issue_dev_token(key, user_id="", role="admin")
