"""plugins.webhooks.signing: Standard Webhooks secrets, signatures, headers and bodies.

Signatures are checked with the reference ``standardwebhooks`` verifier, as receivers do.
"""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from plugins.webhooks.signing import (
    build_headers,
    generate_secret,
    payload,
    sign,
    validate_secret,
)


def raw_bytes(secret: str) -> bytes:
    return base64.b64decode(secret[len("whsec_"):])


def test_generated_secret_has_standard_webhooks_form():
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert len(raw_bytes(secret)) == 32
    assert validate_secret(secret) == secret
    assert generate_secret() != secret


@pytest.mark.parametrize("nbytes", [24, 64])
def test_generated_secret_sizes_at_the_limits(nbytes):
    assert len(raw_bytes(generate_secret(nbytes))) == nbytes


@pytest.mark.parametrize("nbytes", [23, 65, 0])
def test_generated_secret_size_outside_limits_is_refused(nbytes):
    with pytest.raises(ValueError, match="24..64"):
        generate_secret(nbytes)


def test_unpadded_secret_is_accepted():
    encoded = base64.b64encode(b"k" * 25).decode().rstrip("=")
    assert validate_secret("whsec_" + encoded)


@pytest.mark.parametrize(
    "secret,reason",
    [
        (None, "must be a string"),
        ("", "must start with 'whsec_'"),
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "must start with 'whsec_'"),
        ("whsec_", "standard base64"),
        ("whsec_" + base64.urlsafe_b64encode(b"\xfb\xff" * 16).decode(), "standard base64"),
        ("whsec_abc$def", "standard base64"),
        ("whsec_" + base64.b64encode(b"k" * 16).decode(), "24..64 bytes, not 16"),
        ("whsec_" + base64.b64encode(b"k" * 65).decode(), "24..64 bytes, not 65"),
        ("whsec_A", "not valid base64"),
    ],
)
def test_bad_secrets_are_refused_with_a_reason(secret, reason):
    with pytest.raises(ValueError, match=reason.replace(".", r"\.").replace("$", r"\$")):
        validate_secret(secret)


def test_signed_message_verifies_with_the_library():
    secret = generate_secret()
    now = datetime.now(timezone.utc)
    body = payload("interview.completed", {"interviewId": "i-1", "score": 87}, now)
    headers = build_headers("msg_2Kf3", now, body, [secret])
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature", "content-type"}
    assert headers["webhook-id"] == "msg_2Kf3"
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert headers["content-type"] == "application/json"
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(body, headers)["data"] == {"interviewId": "i-1", "score": 87}


def test_rotation_signs_with_every_secret():
    old, new, stranger = generate_secret(), generate_secret(), generate_secret()
    now = datetime.now(timezone.utc)
    body = payload("score.generated", {"score": 3}, now)
    headers = build_headers("msg_rot", now, body, [new, old])
    signatures = headers["webhook-signature"].split(" ")
    assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures)
    for secret, signature in zip([new, old], signatures):
        # Each secret verifies on its own, i.e. each signature belongs to one secret.
        Webhook(secret).verify(body, {**headers, "webhook-signature": signature})
        Webhook(secret).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(stranger).verify(body, headers)


def test_tampered_body_does_not_verify():
    secret = generate_secret()
    now = datetime.now(timezone.utc)
    body = payload("interview.completed", {"score": 50}, now)
    headers = build_headers("msg_1", now, body, [secret])
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("50", "99"), headers)


def test_non_utc_timestamps_sign_the_same_instant():
    secret = generate_secret()
    utc_now = datetime.now(timezone.utc).replace(microsecond=0)
    elsewhere = utc_now.astimezone(timezone(timedelta(hours=5, minutes=30)))
    assert sign("m", elsewhere, "{}", [secret]) == sign("m", utc_now, "{}", [secret])
    headers = build_headers("m", elsewhere, "{}", [secret])
    assert headers["webhook-timestamp"] == str(int(utc_now.timestamp()))
    Webhook(secret).verify("{}", headers)


def test_naive_timestamp_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        sign("m", datetime.now(), "{}", [generate_secret()])


@pytest.mark.parametrize("msg_id", ["", "has space", "new\nline", "x" * 257])
def test_bad_message_id_is_refused(msg_id):
    with pytest.raises(ValueError, match="message id"):
        sign(msg_id, datetime.now(timezone.utc), "{}", [generate_secret()])


def test_signing_needs_a_valid_secret():
    with pytest.raises(ValueError, match="at least one secret"):
        sign("m", datetime.now(timezone.utc), "{}", [])
    with pytest.raises(ValueError, match="whsec_"):
        sign("m", datetime.now(timezone.utc), "{}", ["plain-password"])


def test_payload_shape():
    when = datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=timezone(timedelta(hours=2)))
    body = json.loads(payload("interview.completed", {"a": [1, "é"]}, when))
    assert body == {
        "type": "interview.completed",
        "timestamp": "2026-03-04T03:06:07.890000Z",
        "data": {"a": [1, "é"]},
    }


def test_payload_requires_an_event_type():
    with pytest.raises(ValueError, match="event type"):
        payload("", {}, datetime.now(timezone.utc))
