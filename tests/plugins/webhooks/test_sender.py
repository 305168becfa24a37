"""plugins.webhooks.sender: one signed, SSRF-checked delivery attempt to a loopback receiver."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from standardwebhooks import Webhook

from core.outbound import OutboundPolicy
from plugins.webhooks.retry import Outcome
from plugins.webhooks.sender import deliver_once
from plugins.webhooks.signing import generate_secret
from tests.support.receiver import Receiver, Reply

POLICY = OutboundPolicy(allow_cidrs=["127.0.0.0/8"])
EVENT_TIME = datetime(2026, 5, 1, 9, 30, tzinfo=timezone.utc)


def deliver(url, secrets, *, policy=POLICY, **overrides):
    """deliver_once with a fixed message; keyword arguments override its parts."""
    arguments = dict(
        msg_id="msg_01",
        event_type="interview.completed",
        data={"interviewId": "i-7", "score": 91},
        timestamp=EVENT_TIME,
        secrets=secrets,
        timeout=5,
    )
    arguments.update(overrides)
    return deliver_once(policy, url, **arguments)


def test_delivery_is_signed_and_verifies():
    secret = generate_secret()
    with Receiver([Reply(200, {}, b"thanks")]) as receiver:
        result = deliver(receiver.url("/hooks"), [secret])
        (request,) = receiver.requests
    assert result.outcome is Outcome.SUCCESS and result.succeeded
    assert (result.status, result.response_excerpt, result.error) == (200, "thanks", None)
    assert result.latency_ms > 0
    assert (request.method, request.path) == ("POST", "/hooks")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == "msg_01"
    assert request.headers["user-agent"] == "InterviewMinds-Webhooks/1.0"
    body = Webhook(secret).verify(request.body, request.headers)
    assert body == {
        "type": "interview.completed",
        "timestamp": "2026-05-01T09:30:00.000000Z",
        "data": {"interviewId": "i-7", "score": 91},
    }


def test_rotation_signatures_verify_under_both_secrets():
    old, new = generate_secret(), generate_secret()
    with Receiver() as receiver:
        deliver(receiver.url("/"), [new, old])
        (request,) = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert Webhook(secret).verify(request.body, request.headers)["type"] == "interview.completed"


def test_retries_keep_the_id_and_body_but_sign_at_send_time():
    secret = generate_secret()
    first_try = datetime.now(timezone.utc) - timedelta(hours=2)
    with Receiver([500, 200]) as receiver:
        deliver(receiver.url("/"), [secret], attempted_at=first_try)
        deliver(receiver.url("/"), [secret])
        first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == "msg_01"
    assert first.body == second.body
    assert first.headers["webhook-timestamp"] == str(int(first_try.timestamp()))
    assert int(second.headers["webhook-timestamp"]) > int(first_try.timestamp())
    Webhook(secret).verify(second.body, second.headers)


@pytest.mark.parametrize(
    "reply,outcome,retry_after",
    [
        (Reply(500, {}, b"boom"), Outcome.RETRY, None),
        (Reply(410, {}, b"gone"), Outcome.DISABLE, None),
        (Reply.retry_after(7), Outcome.RETRY_AFTER, 7.0),
        (Reply.retry_after(2, status=503), Outcome.RETRY_AFTER, 2.0),
        (Reply(503, {}, b"down"), Outcome.RETRY, None),
        (Reply(404, {}, b"no"), Outcome.RETRY, None),
    ],
)
def test_status_codes_map_to_outcomes(reply, outcome, retry_after):
    with Receiver([reply]) as receiver:
        result = deliver(receiver.url("/"), [generate_secret()])
    assert (result.status, result.outcome, result.retry_after) == (reply.status, outcome, retry_after)
    assert result.response_excerpt == reply.body.decode()
    assert result.error is None


def test_redirect_is_not_followed():
    with Receiver([Reply.redirect("/other"), 200]) as receiver:
        result = deliver(receiver.url("/hooks"), [generate_secret()])
        paths = [r.path for r in receiver.requests]
    assert (result.status, result.outcome) == (302, Outcome.RETRY)
    assert paths == ["/hooks"]


def test_timeout_is_recorded_as_an_error():
    with Receiver([Reply.slow(5)]) as receiver:
        result = deliver(receiver.url("/"), [generate_secret()], timeout=0.2)
    assert result.status is None
    assert result.error == "timed out after 0.2s"
    assert result.outcome is Outcome.RETRY
    assert 150 < result.latency_ms < 2000


def test_blocked_destination_is_refused_at_send_time():
    with Receiver() as receiver:
        result = deliver(receiver.url("/"), [generate_secret()], policy=OutboundPolicy())
        assert receiver.requests == []
    assert result.status is None
    assert "blocked range: loopback" in result.error
    assert result.outcome is Outcome.RETRY


def test_response_excerpt_is_capped():
    with Receiver([Reply(500, {}, "é".encode() * 5000)]) as receiver:
        result = deliver(receiver.url("/"), [generate_secret()], excerpt_chars=100)
    assert result.response_excerpt == "é" * 100


def test_undecodable_response_is_kept_readable():
    with Receiver([Reply(500, {}, b"\xff\xfe bad")]) as receiver:
        result = deliver(receiver.url("/"), [generate_secret()])
    assert result.response_excerpt.endswith(" bad")
    json.dumps(result.response_excerpt)  # storable
