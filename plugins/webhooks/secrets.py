"""Encryption at rest for endpoint signing secrets: AES-256-GCM with a key from the environment.

The key is the URL-safe base64 of 32 random bytes, set as
``interviewminds.webhooks.encryption_key`` (env ``INTERVIEWMINDS_WEBHOOKS_ENCRYPTION_KEY``);
``SecretBox.generate_key()`` makes one. Tokens look like ``v1.<urlsafe base64(nonce|ciphertext|tag)>``;
the version prefix leaves room for key rotation later.
"""
from __future__ import annotations

import base64
import binascii
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["ENCRYPTION_KEY_SETTING", "SecretBox"]

ENCRYPTION_KEY_SETTING = "interviewminds.webhooks.encryption_key"
_TOKEN_PREFIX = "v1."
_NONCE_BYTES = 12  # the GCM standard nonce size; random per message
_URLSAFE_BASE64 = re.compile(r"[A-Za-z0-9_-]+={0,2}")


def _b64decode(text: str) -> bytes:
    if not _URLSAFE_BASE64.fullmatch(text):
        raise binascii.Error("not URL-safe base64")
    return base64.urlsafe_b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))


class SecretBox:
    """Encrypts and decrypts short strings (webhook secrets) with one AES-256-GCM key."""

    def __init__(self, key: str):
        try:
            raw = _b64decode(key.strip()) if isinstance(key, str) else b""
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            # Never echo the key itself: it is a secret even when malformed.
            raise ValueError(
                f"{ENCRYPTION_KEY_SETTING} must be the URL-safe base64 of 32 bytes "
                f"(generate one with SecretBox.generate_key())"
            )
        self._aead = AESGCM(raw)

    @staticmethod
    def generate_key() -> str:
        """A new random key, in the form the setting expects."""
        return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")

    def encrypt(self, plaintext: str) -> str:
        """Encrypt ``plaintext`` with a fresh random nonce; the token is ASCII."""
        if not isinstance(plaintext, str):
            raise ValueError("only strings can be encrypted")
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), None)
        return _TOKEN_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")

    def decrypt(self, token: str) -> str:
        """Decrypt a token from ``encrypt``; ValueError if it is malformed, tampered or for another key."""
        if not isinstance(token, str) or not token.startswith(_TOKEN_PREFIX):
            raise ValueError("encrypted secret is not a v1 token")
        try:
            blob = _b64decode(token[len(_TOKEN_PREFIX):])
        except (binascii.Error, ValueError):
            raise ValueError("encrypted secret is not valid base64") from None
        if len(blob) < _NONCE_BYTES + 16:
            raise ValueError("encrypted secret is truncated")
        try:
            plain = self._aead.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], None)
        except InvalidTag:
            raise ValueError(
                f"encrypted secret failed authentication: it was altered or "
                f"{ENCRYPTION_KEY_SETTING} is not the key it was encrypted with"
            ) from None
        return plain.decode("utf-8")
