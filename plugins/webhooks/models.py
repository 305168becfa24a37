"""Stored state: endpoints, messages (one per event per endpoint) and the attempt log.

Collections: ``webhooks_endpoints``, ``webhooks_messages``, ``webhooks_attempts``. Indexes are
created by ``interviewminds migrate``. Everything stays inside FerretDB 1.x: plain CRUD,
``findAndModify`` and atomic update operators.
"""
from __future__ import annotations

import os
import time

import mongoengine as me
from core.clock import utcnow

__all__ = ["Attempt", "Endpoint", "EndpointStats", "Message", "MessageStatus", "StoredSecret",
           "new_msg_id"]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_msg_id() -> str:
    """A stable message id ``msg_<ULID>``: 48 bits of milliseconds + 80 random bits, sortable."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_CROCKFORD[digit])
    return "msg_" + "".join(reversed(chars))


class StoredSecret(me.EmbeddedDocument):
    """One signing secret, encrypted. ``expires_at`` is None for the current secret and set
    on the previous one when the secret is rotated."""

    token = me.StringField(required=True)  # SecretBox ciphertext of "whsec_..."
    created_at = me.DateTimeField(required=True, default=utcnow)
    expires_at = me.DateTimeField()


class EndpointStats(me.EmbeddedDocument):
    """Counters kept at write time, so listing endpoints needs no aggregation."""

    messages = me.IntField(default=0)  # messages created for this endpoint
    delivered = me.IntField(default=0)  # messages that ended in a 2xx
    failed = me.IntField(default=0)  # messages that ran out of attempts or met a 410
    attempts = me.IntField(default=0)
    failed_attempts = me.IntField(default=0)
    latency_ms_total = me.FloatField(default=0.0)  # mean = total / attempts
    last_attempt_at = me.DateTimeField()
    last_success_at = me.DateTimeField()
    last_failure_at = me.DateTimeField()
    last_status_code = me.IntField()
    last_error = me.StringField()


class Endpoint(me.Document):
    """A receiver URL registered by ``owner`` for some event types."""

    owner = me.StringField(required=True)
    url = me.StringField(required=True)
    description = me.StringField(default="")
    events = me.ListField(me.StringField(), default=list)
    secrets = me.EmbeddedDocumentListField(StoredSecret, default=list)
    active = me.BooleanField(default=True)
    disabled_reason = me.StringField()
    disabled_at = me.DateTimeField()
    failing_since = me.DateTimeField()  # first failure since the last success
    stats = me.EmbeddedDocumentField(EndpointStats, default=EndpointStats)
    created_at = me.DateTimeField(required=True, default=utcnow)
    updated_at = me.DateTimeField(required=True, default=utcnow)

    meta = {
        "collection": "webhooks_endpoints",
        "indexes": [("owner", "-created_at"), ("events", "active")],
        "auto_create_index": False,
    }


class MessageStatus:
    PENDING = "pending"  # waiting for its next attempt (next_attempt_at)
    SENDING = "sending"  # claimed by a worker until lease_until
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # out of attempts, or the receiver answered 410; can be redelivered
    ABANDONED = "abandoned"  # its endpoint was disabled or deleted first; can be redelivered

    ALL = (PENDING, SENDING, SUCCEEDED, FAILED, ABANDONED)
    FINISHED = (SUCCEEDED, FAILED, ABANDONED)
    REDELIVERABLE = (FAILED, ABANDONED)


class Message(me.Document):
    """One event for one endpoint. ``msg_id`` and the body never change across attempts."""

    msg_id = me.StringField(required=True, unique=True)
    endpoint = me.ObjectIdField(required=True)
    owner = me.StringField(required=True)
    event_type = me.StringField(required=True)
    payload = me.DictField()
    event_at = me.DateTimeField(required=True)  # the body's timestamp
    status = me.StringField(required=True, choices=MessageStatus.ALL, default=MessageStatus.PENDING)
    attempts = me.IntField(default=0)  # attempts ever made (numbers the log)
    round_attempts = me.IntField(default=0)  # attempts since creation or the last redelivery
    next_attempt_at = me.DateTimeField()
    lease_until = me.DateTimeField()
    claim = me.StringField()  # token of the worker holding the lease
    claimed_at = me.DateTimeField()
    job_id = me.StringField()  # the RQ job expected to deliver it next
    last_status_code = me.IntField()
    last_error = me.StringField()
    delivered_at = me.DateTimeField()
    created_at = me.DateTimeField(required=True, default=utcnow)
    updated_at = me.DateTimeField(required=True, default=utcnow)

    meta = {
        "collection": "webhooks_messages",
        "indexes": [
            ("endpoint", "-created_at"),
            ("status", "next_attempt_at"),
            ("status", "lease_until"),
            ("status", "updated_at"),
        ],
        "auto_create_index": False,
    }


class Attempt(me.Document):
    """One delivery attempt as it happened."""

    message = me.ObjectIdField(required=True)
    msg_id = me.StringField(required=True)
    endpoint = me.ObjectIdField(required=True)
    number = me.IntField(required=True)
    attempted_at = me.DateTimeField(required=True)
    status_code = me.IntField()
    latency_ms = me.FloatField()
    response_excerpt = me.StringField(default="")
    error = me.StringField()
    # success | disable | retry | retry_after | lost (the worker died during the attempt)
    outcome = me.StringField(required=True)
    retry_after = me.FloatField()
    next_attempt_at = me.DateTimeField()

    meta = {
        "collection": "webhooks_attempts",
        "indexes": [("message", "number"), ("endpoint", "-attempted_at"), "attempted_at"],
        "auto_create_index": False,
    }
