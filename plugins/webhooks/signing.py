"""Standard Webhooks signing (https://www.standardwebhooks.com), via the ``standardwebhooks`` library.

A secret is ``whsec_`` followed by the standard base64 of 24 to 64 random bytes. A message
is signed as ``v1,<base64 HMAC-SHA256 of "{id}.{unix timestamp}.{body}">``; during secret
rotation the ``webhook-signature`` header carries one such signature per active secret,
separated by spaces, and receivers accept the message when any one of them verifies.
"""
from __future__ import annotations

import base64
import binascii
import json
import math
import re
import secrets as _random
from datetime import datetime, timezone
from typing import Any, Sequence

from standardwebhooks import Webhook

__all__ = [
    "MAX_SECRET_BYTES",
    "MIN_SECRET_BYTES",
    "SECRET_PREFIX",
    "build_headers",
    "generate_secret",
    "payload",
    "sign",
    "validate_secret",
]

SECRET_PREFIX = "whsec_"
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64
_STANDARD_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
# Header values must be printable ASCII without spaces (the id is echoed to receivers).
_MESSAGE_ID = re.compile(r"[\x21-\x7e]{1,256}")


def generate_secret(nbytes: int = 32) -> str:
    """A new random secret in Standard Webhooks form: ``whsec_`` + base64 of ``nbytes`` bytes."""
    if not MIN_SECRET_BYTES <= nbytes <= MAX_SECRET_BYTES:
        raise ValueError(f"secret size must be {MIN_SECRET_BYTES}..{MAX_SECRET_BYTES} bytes")
    return SECRET_PREFIX + base64.b64encode(_random.token_bytes(nbytes)).decode("ascii")


def validate_secret(secret: object) -> str:
    """Return ``secret`` if it is ``whsec_`` + standard base64 of 24..64 bytes, else raise ValueError.

    Strict on purpose: the library's decoder silently drops characters outside the base64
    alphabet (e.g. URL-safe ``-`` and ``_``), which would sign with a different key than the
    receiver holds. Missing ``=`` padding is accepted.
    """
    if not isinstance(secret, str):
        raise ValueError("secret must be a string")
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"secret must start with {SECRET_PREFIX!r}")
    encoded = secret[len(SECRET_PREFIX):]
    if not _STANDARD_BASE64.fullmatch(encoded):
        raise ValueError(f"secret after {SECRET_PREFIX!r} must be standard base64 (A-Z a-z 0-9 + /)")
    try:
        raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error as exc:
        raise ValueError(f"secret is not valid base64: {exc}") from None
    if not MIN_SECRET_BYTES <= len(raw) <= MAX_SECRET_BYTES:
        raise ValueError(
            f"secret must encode {MIN_SECRET_BYTES}..{MAX_SECRET_BYTES} bytes, not {len(raw)}"
        )
    return secret


def _as_utc(timestamp: datetime) -> datetime:
    if not isinstance(timestamp, datetime) or timestamp.tzinfo is None:
        raise ValueError("timestamp must be a timezone-aware datetime")
    return timestamp.astimezone(timezone.utc)


def _check_message_id(msg_id: str) -> None:
    if not isinstance(msg_id, str) or not _MESSAGE_ID.fullmatch(msg_id):
        raise ValueError("message id must be 1..256 printable ASCII characters without spaces")


def sign(msg_id: str, timestamp: datetime, body: str, secrets: Sequence[str]) -> str:
    """The ``webhook-signature`` header value: one ``v1,<sig>`` per secret, space separated."""
    _check_message_id(msg_id)
    if not secrets:
        raise ValueError("at least one secret is needed to sign")
    when = _as_utc(timestamp)
    # The library labels the datetime as UTC without converting it, so pass it in UTC.
    return " ".join(
        Webhook(validate_secret(secret)).sign(msg_id, when, body) for secret in secrets
    )


def build_headers(
    msg_id: str, timestamp: datetime, body: str, secrets: Sequence[str]
) -> dict[str, str]:
    """All Standard Webhooks request headers for ``body`` sent at ``timestamp``."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(math.floor(_as_utc(timestamp).timestamp())),
        "webhook-signature": sign(msg_id, timestamp, body, secrets),
        "content-type": "application/json",
    }


def payload(event_type: str, data: Any, timestamp: datetime) -> str:
    """The JSON body ``{"type", "timestamp" (ISO 8601, UTC, "Z"), "data"}`` of an event."""
    if not isinstance(event_type, str) or not event_type:
        raise ValueError("event type must be a non-empty string")
    when = _as_utc(timestamp).isoformat(timespec="microseconds").replace("+00:00", "Z")
    return json.dumps(
        {"type": event_type, "timestamp": when, "data": data}, separators=(",", ":")
    )
