"""What the webhooks routes, GraphQL fields and event subscriber do, as plain functions.

Callers pass a ``Caller`` (who asks, and whether they may see every user's endpoints); an
endpoint that belongs to someone else is reported as not found, never as forbidden, so that
ids of other users' endpoints cannot be probed.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, Sequence

import redis.exceptions
from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ReturnDocument

from core.errors import Conflict, Invalid, NotFound
from core.lookup import EVENTS, OUTBOUND, PERMISSIONS, find_service
from core.outbound import OutboundURLError
from core.clock import utcnow
from plugins.webhooks.config import WebhookConfig
from plugins.webhooks.models import Attempt, Endpoint, Message, MessageStatus, StoredSecret, new_msg_id
from plugins.webhooks.signing import generate_secret, validate_secret

log = logging.getLogger(__name__)

__all__ = [
    "Caller", "TEST_EVENT", "WebhookConflict", "WebhookInputError", "WebhookNotFound",
    "active_secrets", "attempt_view", "create_message", "delete_endpoint", "disable_endpoint",
    "endpoint_view", "enqueue_delivery", "get_endpoint", "list_deliveries", "list_endpoints",
    "message_view", "publish_event", "redeliver", "register_endpoint", "rotate_secret",
    "send_test", "update_endpoint",
]

TEST_EVENT = "webhook.test"  # sent by POST /api/webhooks/{id}/test whatever the subscription
DELIVER_JOB = "webhooks.deliver"
MAX_DESCRIPTION = 500


class WebhookInputError(Invalid):
    """Input the caller must fix; the message names the field."""

    def __init__(self, message: str):
        super().__init__(f"invalid input: {message}")


class WebhookNotFound(NotFound):
    """No such endpoint or message, or it belongs to someone else."""


class WebhookConflict(Conflict):
    """The request is valid but the current state forbids it."""


@dataclass(frozen=True)
class Caller:
    """Who is asking: their user id, and whether they manage every user's endpoints."""

    user_id: str
    sees_all: bool = False

    @classmethod
    def from_identity(cls, identity) -> "Caller":
        return cls(identity.user_id, identity.can("webhooks:manage_any"))


# -- validation ------------------------------------------------------------------------------

def check_url(registry, url: str) -> str:
    """The URL if it is an allowed destination; WebhookInputError naming the reason otherwise."""
    config: WebhookConfig = find_service(registry, "webhooks.config")
    if len(url) > config.max_url_length:
        raise WebhookInputError(f"url: longer than {config.max_url_length} characters")
    try:
        find_service(registry, OUTBOUND).check_url(url)
    except OutboundURLError as exc:
        raise WebhookInputError(f"url: {exc.reason}") from None
    return url


def event_types(registry) -> list[dict]:
    """The declared events (every enabled plugin's), each with its version and payload schema."""
    return find_service(registry, EVENTS).describe()


def check_events(registry, events: Sequence[str]) -> list[str]:
    """Deduplicated event names, each declared by an enabled plugin (``interviewminds_events``)."""
    config: WebhookConfig = find_service(registry, "webhooks.config")
    unique = list(dict.fromkeys(events))
    if not unique:
        raise WebhookInputError("events: subscribe to at least one event")
    if len(unique) > config.max_events:
        raise WebhookInputError(f"events: at most {config.max_events} events per endpoint, not {len(unique)}")
    known = set(find_service(registry, EVENTS).types)
    unknown = [name for name in unique if name not in known]
    if unknown:
        listed = ", ".join(sorted(known)) or "none"
        raise WebhookInputError(f"events: unknown event {unknown[0]!r} (known: {listed})")
    return unique


def check_secret(secret: str) -> str:
    try:
        return validate_secret(secret)
    except ValueError as exc:
        raise WebhookInputError(f"secret: {exc}") from None


def check_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION:
        raise WebhookInputError(f"description: at most {MAX_DESCRIPTION} characters")
    return description


def _object_id(value: str, what: str) -> ObjectId:
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        raise WebhookInputError(f"{what}: {str(value)[:40]!r} is not a valid id (24 hex characters)") from None


# -- endpoints -------------------------------------------------------------------------------

def register_endpoint(registry, caller: Caller, *, url: str, events: Sequence[str],
                      secret: str | None = None, description: str = "") -> tuple[Endpoint, str | None]:
    """Create an endpoint; returns it and the generated secret (None when the caller gave one)."""
    config: WebhookConfig = find_service(registry, "webhooks.config")
    url = check_url(registry, url)
    events = check_events(registry, events)
    description = check_description(description)
    generated = None
    if secret is None:
        secret = generated = generate_secret()
    else:
        secret = check_secret(secret)
    if Endpoint.objects(owner=caller.user_id).count() >= config.max_endpoints:
        raise WebhookConflict(f"you already have {config.max_endpoints} endpoints, the most allowed")
    endpoint = Endpoint(owner=caller.user_id, url=url, events=events, description=description,
                        secrets=[StoredSecret(token=config.box.encrypt(secret))])
    endpoint.save()
    return endpoint, generated


def list_endpoints(caller: Caller, owner: str | None = None) -> list[Endpoint]:
    """The caller's endpoints, or everyone's (optionally one owner's) for a manager."""
    query = Endpoint.objects
    if not caller.sees_all:
        query = query(owner=caller.user_id)
    elif owner:
        query = query(owner=owner)
    return list(query.order_by("-created_at"))


def get_endpoint(caller: Caller, endpoint_id: str | ObjectId) -> Endpoint:
    oid = endpoint_id if isinstance(endpoint_id, ObjectId) else _object_id(endpoint_id, "id")
    endpoint = Endpoint.objects(id=oid).first()
    if endpoint is None or not (caller.sees_all or endpoint.owner == caller.user_id):
        raise WebhookNotFound("webhook not found")
    return endpoint


def update_endpoint(registry, caller: Caller, endpoint_id: str, changes: dict[str, Any]) -> Endpoint:
    """Change url, events, description and/or active. Re-enabling clears the disabled reason."""
    endpoint = get_endpoint(caller, endpoint_id)
    now = utcnow()
    if "url" in changes:
        endpoint.url = check_url(registry, changes["url"])
    if "events" in changes:
        endpoint.events = check_events(registry, changes["events"])
    if "description" in changes:
        endpoint.description = check_description(changes["description"])
    deactivate = changes.get("active") is False and endpoint.active
    if changes.get("active") is True and not endpoint.active:
        endpoint.active = True
        endpoint.disabled_reason = None
        endpoint.disabled_at = None
        endpoint.failing_since = None
    endpoint.updated_at = now
    endpoint.save()
    if deactivate:
        disable_endpoint(endpoint.id, f"disabled by {caller.user_id}")
        endpoint.reload()
    return endpoint


def delete_endpoint(caller: Caller, endpoint_id: str) -> None:
    """Delete an endpoint with its messages and delivery log."""
    endpoint = get_endpoint(caller, endpoint_id)
    endpoint.delete()
    Message.objects(endpoint=endpoint.id).delete()
    Attempt.objects(endpoint=endpoint.id).delete()


def rotate_secret(registry, caller: Caller, endpoint_id: str,
                  secret: str | None = None) -> tuple[Endpoint, str | None, datetime | None]:
    """Make a new current secret; the old one keeps signing for ``rotation_overlap`` seconds.

    Returns the endpoint, the generated secret (None when the caller gave one) and when the
    previous secret stops signing (None when the overlap is 0).
    """
    config: WebhookConfig = find_service(registry, "webhooks.config")
    endpoint = get_endpoint(caller, endpoint_id)
    generated = None
    if secret is None:
        secret = generated = generate_secret()
    else:
        secret = check_secret(secret)
    now = utcnow()
    expires = now + timedelta(seconds=config.rotation_overlap)
    kept = []
    for stored in endpoint.secrets:
        if stored.expires_at is None:
            stored.expires_at = expires
        if stored.expires_at > now:
            kept.append(stored)
    endpoint.secrets = [StoredSecret(token=config.box.encrypt(secret), created_at=now)] + kept
    endpoint.updated_at = now
    endpoint.save()
    return endpoint, generated, (expires if config.rotation_overlap else None)


def active_secrets(config: WebhookConfig, endpoint: Endpoint, now: datetime) -> list[str]:
    """The decrypted secrets that sign now: the current one first, then those still in overlap."""
    return [config.box.decrypt(s.token) for s in endpoint.secrets
            if s.expires_at is None or s.expires_at > now]


def disable_endpoint(endpoint_id: ObjectId, reason: str) -> bool:
    """Disable an active endpoint with a reason its owner sees; its pending messages are
    abandoned (they can be redelivered later). Returns False if it was not active."""
    now = utcnow()
    result = Endpoint._get_collection().update_one(
        {"_id": endpoint_id, "active": True},
        {"$set": {"active": False, "disabled_reason": reason, "disabled_at": now, "updated_at": now}})
    Message._get_collection().update_many(
        {"endpoint": endpoint_id, "status": MessageStatus.PENDING},
        {"$set": {"status": MessageStatus.ABANDONED, "last_error": f"endpoint disabled: {reason}",
                  "next_attempt_at": None, "updated_at": now}})
    return result.modified_count == 1


# -- messages --------------------------------------------------------------------------------

def enqueue_delivery(registry, message_id: ObjectId, delay: float | None = None) -> str | None:
    """Enqueue the deliver job for a stored message and remember its job id.

    A Redis failure is logged, not raised: the message is already stored, and the reaper
    enqueues it once it is overdue.
    """
    from core.jobs import enqueue

    if delay:
        # RQ keeps scheduled times in whole seconds (rounded down), so a job could start up
        # to a second before the message is due, and the claim would refuse it. One extra
        # second keeps it from ever being early.
        delay = math.ceil(delay) + 1
    try:
        job = enqueue(registry, DELIVER_JOB, delay=delay, message_id=str(message_id))
    except redis.exceptions.RedisError:
        log.warning("could not enqueue webhook message %s; the reaper will retry", message_id, exc_info=True)
        return None
    Message._get_collection().update_one({"_id": message_id}, {"$set": {"job_id": job.id}})
    return job.id


def create_message(registry, endpoint: Endpoint, event_type: str, data: Any, *,
                   event_at: datetime | None = None, enqueue: bool = True) -> Message:
    """Store one message for ``endpoint`` first, then enqueue its delivery."""
    now = utcnow()
    message = Message(msg_id=new_msg_id(), endpoint=endpoint.id, owner=endpoint.owner,
                      event_type=event_type, payload=data, event_at=event_at or now,
                      status=MessageStatus.PENDING, next_attempt_at=now, created_at=now, updated_at=now)
    message.save()
    Endpoint._get_collection().update_one({"_id": endpoint.id}, {"$inc": {"stats.messages": 1}})
    if enqueue:
        enqueue_delivery(registry, message.id)
    return message


def event_audience(payload: dict[str, Any]) -> set[str]:
    """The users an event is about: ``ownerId``, ``userId`` and ``interviewers`` in its payload.

    Emitting plugins name the affected users with these keys; an event naming nobody is
    delivered only to endpoints whose owner may see everything.
    """
    names = [payload.get("ownerId"), payload.get("userId")]
    interviewers = payload.get("interviewers")
    if isinstance(interviewers, list):
        names.extend(interviewers)
    return {name for name in names if isinstance(name, str)}


def may_receive(registry, owner_role: str, owner: str, audience: set[str]) -> bool:
    """Least privilege: a webhook carries what its owner could read, no more. Owners with
    ``webhooks:manage_any`` (admins) get every event; others only events about themselves."""
    return find_service(registry, PERMISSIONS).grants.permits(owner_role, "webhooks:manage_any") or owner in audience


def publish_event(registry, name: str, payload: dict[str, Any], *, enqueue: bool = True) -> list[Message]:
    """One message per active endpoint subscribed to ``name`` whose owner may receive it."""
    from core.auth.users import DEFAULT_ROLE, User

    event_at = utcnow()
    endpoints = list(Endpoint.objects(active=True, events=name))
    owners = {endpoint.owner for endpoint in endpoints}
    roles = {u["user_id"]: u["role"] for u in User.objects(user_id__in=list(owners)).only("user_id", "role")
             .as_pymongo()} if owners else {}
    audience = event_audience(payload)
    return [create_message(registry, endpoint, name, payload, event_at=event_at, enqueue=enqueue)
            for endpoint in endpoints
            if may_receive(registry, roles.get(endpoint.owner, DEFAULT_ROLE), endpoint.owner, audience)]


def send_test(registry, caller: Caller, endpoint_id: str) -> Message:
    """Queue a ``webhook.test`` message to one endpoint through the normal delivery path."""
    endpoint = get_endpoint(caller, endpoint_id)
    if not endpoint.active:
        raise WebhookConflict(f"webhook is disabled ({endpoint.disabled_reason}); re-enable it first")
    data = {"webhookId": str(endpoint.id), "message": "Test event from InterviewMinds"}
    return create_message(registry, endpoint, TEST_EVENT, data)


def redeliver(registry, caller: Caller, message_id: str) -> Message:
    """Send a failed or abandoned message again, with the same ``webhook-id`` and a fresh schedule."""
    oid = _object_id(message_id, "id")
    message = Message.objects(id=oid).first()
    if message is None or not (caller.sees_all or message.owner == caller.user_id):
        raise WebhookNotFound("message not found")
    endpoint = Endpoint.objects(id=message.endpoint).first()
    if endpoint is None:
        raise WebhookNotFound("message not found")
    if not endpoint.active:
        raise WebhookConflict(f"webhook is disabled ({endpoint.disabled_reason}); re-enable it first")
    now = utcnow()
    updated = Message._get_collection().find_one_and_update(
        {"_id": oid, "status": {"$in": list(MessageStatus.REDELIVERABLE)}},
        {"$set": {"status": MessageStatus.PENDING, "round_attempts": 0, "next_attempt_at": now,
                  "updated_at": now, "claim": None, "lease_until": None}},
        return_document=ReturnDocument.AFTER)
    if updated is None:
        raise WebhookConflict(f"only failed or abandoned messages can be redelivered; this one is "
                              f"{message.status}")
    enqueue_delivery(registry, oid)
    return Message.objects(id=oid).first()


def list_deliveries(caller: Caller, endpoint_id: str, *, limit: int = 20, cursor: str | None = None,
                    status: str | None = None) -> tuple[list[Message], dict[ObjectId, list[Attempt]], str | None]:
    """One page of an endpoint's messages, newest first, with their attempts.

    Returns (messages, attempts by message id, cursor of the next page or None).
    """
    endpoint = get_endpoint(caller, endpoint_id)
    query: dict[str, Any] = {"endpoint": endpoint.id}
    if cursor:
        query["id__lt"] = _object_id(cursor, "cursor")
    if status:
        query["status"] = status
    page = list(Message.objects(**query).order_by("-id").limit(limit + 1))
    more = len(page) > limit
    page = page[:limit]
    return page, attempts_for(page), (str(page[-1].id) if more else None)


def attempts_for(messages: Iterable[Message]) -> dict[ObjectId, list[Attempt]]:
    """Attempts of several messages with one query, each list in attempt order."""
    ids = [m.id for m in messages]
    grouped: dict[ObjectId, list[Attempt]] = {i: [] for i in ids}
    if ids:
        for attempt in Attempt.objects(message__in=ids).order_by("number"):
            grouped[attempt.message].append(attempt)
    return grouped


# -- views (JSON shapes) ---------------------------------------------------------------------

def endpoint_view(endpoint: Endpoint) -> dict[str, Any]:
    """The JSON shape of an endpoint; never includes a secret."""
    stats = endpoint.stats
    previous = [s.expires_at for s in endpoint.secrets if s.expires_at is not None]
    return {
        "id": str(endpoint.id),
        "owner": endpoint.owner,
        "url": endpoint.url,
        "description": endpoint.description,
        "events": list(endpoint.events),
        "active": endpoint.active,
        "disabledReason": endpoint.disabled_reason,
        "disabledAt": endpoint.disabled_at,
        "failingSince": endpoint.failing_since,
        "previousSecretExpiresAt": max(previous) if previous else None,
        "createdAt": endpoint.created_at,
        "updatedAt": endpoint.updated_at,
        "stats": {
            "messages": stats.messages,
            "delivered": stats.delivered,
            "failed": stats.failed,
            "attempts": stats.attempts,
            "failedAttempts": stats.failed_attempts,
            "meanLatencyMs": round(stats.latency_ms_total / stats.attempts, 1) if stats.attempts else None,
            "lastAttemptAt": stats.last_attempt_at,
            "lastSuccessAt": stats.last_success_at,
            "lastFailureAt": stats.last_failure_at,
            "lastStatusCode": stats.last_status_code,
            "lastError": stats.last_error,
        },
    }


def attempt_view(attempt: Attempt) -> dict[str, Any]:
    return {
        "number": attempt.number,
        "attemptedAt": attempt.attempted_at,
        "statusCode": attempt.status_code,
        "latencyMs": round(attempt.latency_ms, 1) if attempt.latency_ms is not None else None,
        "responseExcerpt": attempt.response_excerpt,
        "error": attempt.error,
        "outcome": attempt.outcome,
        "retryAfter": attempt.retry_after,
        "nextAttemptAt": attempt.next_attempt_at,
    }


def message_view(message: Message, attempts: Sequence[Attempt] = ()) -> dict[str, Any]:
    return {
        "id": str(message.id),
        "msgId": message.msg_id,
        "webhookId": str(message.endpoint),
        "eventType": message.event_type,
        "status": message.status,
        "attempts": message.attempts,
        "nextAttemptAt": message.next_attempt_at,
        "deliveredAt": message.delivered_at,
        "lastStatusCode": message.last_status_code,
        "lastError": message.last_error,
        "createdAt": message.created_at,
        "log": [attempt_view(a) for a in attempts],
    }
