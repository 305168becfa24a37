"""Local signing key for development tokens (``interviewminds token``).

Dev tokens go through the same :class:`core.auth.jwt.TokenVerifier` as Clerk tokens: the
app publishes the dev public key as a JWKS document and verifies with a
``StaticJWKSKeySource``. Production never loads this key, so it refuses dev tokens.

The ``role`` claim in a dev token is only a hint for seeding a local user record. Roles
are read from MongoDB on every request; no code path authorizes from a token's claims.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from core.auth.jwt import ALGORITHM
from core.files import read_or_create_private
from core.permissions import ROLES

DEV_ISSUER = "interviewminds-dev"
KEY_BITS = 2048


def load_or_create_dev_key(path: str | os.PathLike) -> rsa.RSAPrivateKey:
    """Load the dev RSA private key from ``path``, creating it (mode 0600) on first use.

    Creation is atomic: the PEM is written to a temp file and hard-linked into place, so two
    processes starting at once both end up with the same complete key.
    """
    def new_pem() -> bytes:
        key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    pem = read_or_create_private(path, new_pem)
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} does not hold an RSA private key")
    return key


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def key_id(public_key: rsa.RSAPublicKey) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url) of an RSA public key: a stable ``kid``."""
    numbers = public_key.public_numbers()
    canonical = json.dumps(
        {"e": _b64url_uint(numbers.e), "kty": "RSA", "n": _b64url_uint(numbers.n)},
        separators=(",", ":"), sort_keys=True,
    )
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def dev_jwks(private_key: rsa.RSAPrivateKey) -> dict:
    """The public half of the dev key as a JWKS document with a thumbprint ``kid``."""
    public_key = private_key.public_key()
    numbers = public_key.public_numbers()
    return {"keys": [{
        "kty": "RSA", "use": "sig", "alg": ALGORITHM, "kid": key_id(public_key),
        "n": _b64url_uint(numbers.n), "e": _b64url_uint(numbers.e),
    }]}


def issue_dev_token(
    private_key: rsa.RSAPrivateKey,
    *,
    user_id: str,
    role: str,
    ttl: int = 3600,
    issuer: str = DEV_ISSUER,
) -> str:
    """Sign an RS256 dev session token for ``user_id``.

    ``role`` is carried as a hint for seeding the local user record only; authorization
    always uses the role stored in MongoDB.
    """
    if not isinstance(user_id, str) or not user_id.strip():
        raise ValueError("user_id must be a non-empty string")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if ttl <= 0:
        raise ValueError(f"ttl must be > 0 seconds, got {ttl}")
    now = int(time.time())
    claims = {
        "sub": user_id, "iss": issuer, "iat": now, "nbf": now, "exp": now + int(ttl),
        "jti": uuid.uuid4().hex, "role": role,
    }
    kid = key_id(private_key.public_key())
    return jwt.encode(claims, private_key, algorithm=ALGORITHM, headers={"kid": kid})
