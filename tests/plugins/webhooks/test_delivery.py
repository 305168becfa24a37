"""End-to-end deliveries: event -> stored message -> RQ job -> signed POST to a loopback receiver.

Receivers are real HTTP servers on 127.0.0.1; signatures are checked with the reference
``standardwebhooks`` verifier; retries that need the RQ scheduler run in real worker processes.
"""
from __future__ import annotations

import json
import time

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

import pytest

from core.events import emit
from plugins.webhooks.models import Attempt, Message
from plugins.webhooks.signing import generate_secret
from tests.plugins.webhooks.helpers import (
    finished,
    messages_of,
    register,
    run_jobs,
    stored_endpoint,
    wait_until,
)
from tests.support.receiver import Receiver, Reply
from core.lookup import OUTBOUND, find_service

EVENT = {"interviewId": "iv-42", "ownerId": "alice", "score": 87}


def verify(secret: str, request) -> dict:
    return Webhook(secret).verify(request.body, request.headers)


def test_signed_delivery_verifies_with_standardwebhooks(wh_app, worker):
    app = wh_app()
    owner = app.auth("alice", "candidate")
    with Receiver([Reply(200, {}, b"thanks")]) as receiver:
        webhook = register(app, owner, receiver.url("/hooks"))
        secret = webhook["secret"]
        emit(app.registry, "interview.completed", EVENT)
        (message,) = messages_of(webhook)
        assert message.status == "pending" and message.job_id  # stored, then enqueued
        process = worker(burst=True)
        assert process.wait(60) == 0, process.output()
        (request,) = receiver.wait_for(1)
    assert (request.method, request.path) == ("POST", "/hooks")
    assert request.headers["webhook-id"] == message.msg_id and message.msg_id.startswith("msg_")
    body = verify(secret, request)
    assert body["type"] == "interview.completed" and body["data"] == EVENT
    assert body["timestamp"].endswith("Z")
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(request.body, request.headers)
    message.reload()
    assert message.status == "succeeded" and message.delivered_at is not None
    log = app.get(f"/api/webhooks/{webhook['id']}/deliveries", headers=owner).json["deliveries"]
    assert log[0]["status"] == "succeeded"
    assert [(a["number"], a["statusCode"], a["outcome"], a["responseExcerpt"]) for a in log[0]["log"]] == [
        (1, 200, "success", "thanks")]
    assert log[0]["log"][0]["latencyMs"] > 0
    stats = app.get(f"/api/webhooks/{webhook['id']}", headers=owner).json["stats"]
    assert (stats["messages"], stats["delivered"], stats["attempts"], stats["lastStatusCode"]) == (1, 1, 1, 200)


def test_event_fans_out_to_subscribed_active_endpoints_only(wh_app):
    app = wh_app()
    owner = app.auth("alice", "candidate")
    with Receiver() as receiver:
        a = register(app, owner, receiver.url("/a"), ["interview.completed"])
        b = register(app, owner, receiver.url("/b"), ["interview.completed", "score.generated"])
        other = register(app, owner, receiver.url("/other"), ["score.generated"])
        off = register(app, owner, receiver.url("/off"), ["interview.completed"])
        app.patch_json(f"/api/webhooks/{off['id']}", {"active": False}, headers=owner, status=200)
        emit(app.registry, "interview.completed", EVENT)
        run_jobs(app)
        paths = sorted(r.path for r in receiver.wait_for(2))
    assert paths == ["/a", "/b"]
    assert [len(messages_of(w)) for w in (a, b, other, off)] == [1, 1, 0, 0]


def test_receiver_fails_twice_then_accepts_three_attempts_in_the_log(wh_app, worker):
    app = wh_app()
    owner = app.auth("alice", "candidate")
    with Receiver([Reply(500, {}, b"boom"), Reply(502, {}, b"bad gateway"), 200]) as receiver:
        webhook = register(app, owner, receiver.url("/"))
        emit(app.registry, "interview.completed", EVENT)
        (message,) = messages_of(webhook)
        worker()
        wait_until(finished(message.msg_id), what="the third attempt to succeed")
        requests = receiver.requests
    assert len(requests) == 3
    assert {r.headers["webhook-id"] for r in requests} == {message.msg_id}  # stable across retries
    assert len({r.body for r in requests}) == 1  # same body every time
    for request in requests:  # each attempt is signed (at its own send time) and verifies
        verify(webhook["secret"], request)
    assert requests[1].received_at - requests[0].received_at >= 0.9  # the 1 s schedule step
    attempts = list(Attempt.objects(message=message.id).order_by("number"))
    assert [(a.number, a.status_code, a.outcome) for a in attempts] == [
        (1, 500, "retry"), (2, 502, "retry"), (3, 200, "success")]
    assert [a.response_excerpt for a in attempts] == ["boom", "bad gateway", "ok"]
    log = app.get(f"/api/webhooks/{webhook['id']}/deliveries", headers=owner).json["deliveries"]
    assert len(log) == 1 and len(log[0]["log"]) == 3 and log[0]["attempts"] == 3
    stats = app.get(f"/api/webhooks/{webhook['id']}", headers=owner).json
    assert stats["failingSince"] is None  # cleared by the success
    assert (stats["stats"]["attempts"], stats["stats"]["failedAttempts"], stats["stats"]["delivered"]) == (3, 2, 1)


def test_gone_disables_the_endpoint(wh_app):
    app = wh_app()
    owner = app.auth("alice", "candidate")
    with Receiver([Reply(410, {}, b"gone")]) as receiver:
        webhook = register(app, owner, receiver.url("/"))
        emit(app.registry, "interview.completed", EVENT)
        run_jobs(app)
        receiver.wait_for(1)
        shown = app.get(f"/api/webhooks/{webhook['id']}", headers=owner).json
        assert shown["active"] is False
        assert "410 Gone" in shown["disabledReason"] and shown["disabledAt"]
        (message,) = messages_of(webhook)
        assert (message.status, message.last_status_code) == ("failed", 410)
        assert [a.outcome for a in Attempt.objects(message=message.id)] == ["disable"]
        # A disabled endpoint gets no new messages and nothing more is sent.
        emit(app.registry, "interview.completed", EVENT)
        run_jobs(app)
        assert len(messages_of(webhook)) == 1 and len(receiver.requests) == 1
        # Re-enabling clears the reason; the failed message can then be redelivered.
        receiver.set_script([200])
        again = app.patch_json(f"/api/webhooks/{webhook['id']}", {"active": True}, headers=owner).json
        assert again["active"] is True and again["disabledReason"] is None
        app.post(f"/api/webhooks/messages/{message.id}/redeliver", headers=owner, status=202)
        run_jobs(app)
        assert receiver.wait_for(2)[1].headers["webhook-id"] == message.msg_id
    assert Message.objects(id=message.id).first().status == "succeeded"


def test_retry_after_is_honoured(wh_app, worker):
    # Schedule 1 s, Retry-After 3 s: the second attempt must wait the longer Retry-After.
    app = wh_app()
    owner = app.auth("alice", "candidate")
    with Receiver([Reply.retry_after(3), 200]) as receiver:
        webhook = register(app, owner, receiver.url("/"))
        emit(app.registry, "interview.completed", EVENT)
        (message,) = messages_of(webhook)
        worker()
        wait_until(finished(message.msg_id), what="the delivery after Retry-After")
        first, second = receiver.requests
    waited = second.received_at - first.received_at
    assert 3.0 <= waited < 6.0, waited
    attempts = list(Attempt.objects(message=message.id).order_by("number"))
    assert [(a.status_code, a.outcome, a.retry_after) for a in attempts] == [
        (429, "retry_after", 3.0), (200, "success", None)]
    planned = (attempts[0].next_attempt_at - attempts[0].attempted_at).total_seconds()
    assert 2.9 <= planned <= 3.5


def test_rotation_signs_with_both_secrets_until_the_overlap_ends(wh_app):
    app = wh_app(**{"webhooks.rotation_overlap": 2})
    owner = app.auth("alice", "candidate")
    old = generate_secret()
    with Receiver() as receiver:
        webhook = register(app, owner, receiver.url("/"), secret=old)
        assert "secret" not in webhook  # a caller-chosen secret is never echoed
        rotated = app.post(f"/api/webhooks/{webhook['id']}/rotate-secret", headers=owner).json
        new = rotated["secret"]
        assert new.startswith("whsec_") and new != old and rotated["previousSecretExpiresAt"]
        emit(app.registry, "interview.completed", EVENT)
        run_jobs(app)
        (during,) = receiver.wait_for(1)
        signatures = during.headers["webhook-signature"].split(" ")
        assert len(signatures) == 2
        # Each secret verifies on its own signature: the receiver may hold either.
        for secret, signature in zip((new, old), signatures):
            Webhook(secret).verify(during.body, {**during.headers, "webhook-signature": signature})
        time.sleep(2.1)  # the overlap ends: only the new secret signs
        emit(app.registry, "interview.completed", EVENT)
        run_jobs(app)
        after = receiver.wait_for(2)[1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    verify(new, after)
    with pytest.raises(WebhookVerificationError):
        verify(old, after)


def test_rotation_with_a_caller_secret_and_no_overlap(wh_app):
    app = wh_app(**{"webhooks.rotation_overlap": 0})
    owner = app.auth("alice", "candidate")
    mine = generate_secret()
    with Receiver() as receiver:
        webhook = register(app, owner, receiver.url("/"))
        rotated = app.post_json(f"/api/webhooks/{webhook['id']}/rotate-secret", {"secret": mine},
                                headers=owner).json
        assert "secret" not in rotated and rotated["previousSecretExpiresAt"] is None
        emit(app.registry, "interview.completed", EVENT)
        run_jobs(app)
        (request,) = receiver.wait_for(1)
    verify(mine, request)
    with pytest.raises(WebhookVerificationError):
        verify(webhook["secret"], request)


def test_exhausted_message_fails_and_can_be_redelivered_with_the_same_id(wh_app):
    # A zero-delay schedule lets retries run without the RQ scheduler: 3 attempts in all.
    app = wh_app(**{"webhooks.schedule": "0s,0s"})
    owner = app.auth("alice", "candidate")
    with Receiver([503]) as receiver:
        webhook = register(app, owner, receiver.url("/"))
        emit(app.registry, "interview.completed", EVENT)
        run_jobs(app)
        assert len(receiver.wait_for(3)) == 3
        (message,) = messages_of(webhook)
        assert message.status == "failed" and "gave up after 3 attempts" in message.last_error
        assert app.get(f"/api/webhooks/{webhook['id']}", headers=owner).json["stats"]["failed"] == 1
        receiver.set_script([200])
        shown = app.post(f"/api/webhooks/messages/{message.id}/redeliver", headers=owner, status=202).json
        assert (shown["status"], shown["msgId"]) == ("pending", message.msg_id)
        run_jobs(app)
        requests = receiver.wait_for(4)
    assert {r.headers["webhook-id"] for r in requests} == {message.msg_id}
    message.reload()
    assert (message.status, message.attempts) == ("succeeded", 4)
    again = app.post(f"/api/webhooks/messages/{message.id}/redeliver", headers=owner, status=409).json
    assert "only failed or abandoned" in again["error"]


def test_continuous_failure_disables_the_endpoint_with_a_reason(wh_app, worker):
    app = wh_app(**{"webhooks.disable_after": 1, "webhooks.schedule": "1s,1s,1s,1s,1s"})
    owner = app.auth("alice", "candidate")
    with Receiver([500]) as receiver:
        webhook = register(app, owner, receiver.url("/"))
        emit(app.registry, "interview.completed", EVENT)
        (message,) = messages_of(webhook)
        worker()
        wait_until(finished(message.msg_id, "abandoned"), what="the endpoint to be disabled")
        shown = app.get(f"/api/webhooks/{webhook['id']}", headers=owner).json
    assert shown["active"] is False
    assert "failed continuously since" in shown["disabledReason"]
    assert "longer than 1 second" in shown["disabledReason"] and "HTTP 500" in shown["disabledReason"]
    assert 2 <= len(receiver.requests) <= 3  # stopped long before the schedule ran out


def test_test_event_is_delivered(wh_app):
    app = wh_app()
    owner = app.auth("alice", "candidate")
    with Receiver() as receiver:
        webhook = register(app, owner, receiver.url("/"), ["score.generated"])
        queued = app.post(f"/api/webhooks/{webhook['id']}/test", headers=owner, status=202).json
        assert queued["eventType"] == "webhook.test" and queued["status"] == "pending"
        run_jobs(app)
        (request,) = receiver.wait_for(1)
    body = verify(webhook["secret"], request)
    assert body["type"] == "webhook.test" and body["data"]["webhookId"] == webhook["id"]
    assert request.headers["webhook-id"] == queued["msgId"]


def test_blocked_destination_at_send_time_is_a_failed_attempt(wh_app):
    # Registered while allowed; the policy is checked again when sending.
    app = wh_app()
    owner = app.auth("alice", "candidate")
    with Receiver() as receiver:
        webhook = register(app, owner, receiver.url("/"))
        find_service(app.registry, OUTBOUND).allow_cidrs = ()
        emit(app.registry, "interview.completed", EVENT)
        run_jobs(app)
        assert receiver.requests == []
    (attempt,) = Attempt.objects(endpoint=stored_endpoint(webhook).id)
    assert attempt.status_code is None and "blocked range: loopback" in attempt.error


def test_secrets_are_stored_encrypted(wh_app):
    app = wh_app()
    owner = app.auth("alice", "candidate")
    webhook = register(app, owner, "http://127.0.0.1:9/")
    raw = stored_endpoint(webhook)._get_collection().find_one({})
    dumped = json.dumps(raw, default=str)
    assert webhook["secret"] not in dumped and webhook["secret"][6:] not in dumped
    assert raw["secrets"][0]["token"].startswith("v1.")
