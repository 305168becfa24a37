"""Background jobs: ``webhooks.deliver`` (one attempt of one message) and ``webhooks.reaper``.

At-least-once delivery rests on three rules:

1. a message is stored (``pending``) before its job is enqueued;
2. a worker *claims* it with one atomic ``findAndModify`` (``pending`` and due, or ``sending``
   with an expired lease -> ``sending`` with a new lease and a claim token) before sending,
   so two jobs for the same message never both send while a lease holds;
3. the reaper re-enqueues messages whose lease expired (the worker died mid-send) and
   pending messages that are due but have no live job (Redis lost it, enqueueing failed).

A worker that died leaves no attempt record; the next claim records it as ``lost``. The
``webhook-id`` (``msg_id``) and the body never change, so receivers can deduplicate; each
attempt is signed at its send time.
"""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from rq.exceptions import NoSuchJobError
from rq import get_current_job
from rq.job import Job, JobStatus

from core.lookup import OUTBOUND, find_service
from core.clock import utcnow
from plugins.webhooks.config import WebhookConfig
from plugins.webhooks.models import Attempt, Endpoint, Message, MessageStatus
from plugins.webhooks.retry import Outcome, retry_delay
from plugins.webhooks.sender import AttemptResult, deliver_once
from plugins.webhooks.services import active_secrets, disable_endpoint, enqueue_delivery

log = logging.getLogger(__name__)

__all__ = ["claim", "deliver", "reaper"]

LOST_ATTEMPT = ("no result recorded: the worker stopped during this attempt; its lease expired and "
                "the message went to another worker")


def claim(message_id: ObjectId, now: datetime, lease_until: datetime, token: str) -> dict | None:
    """Atomically take a message that is due (or whose lease expired); returns it as it was before."""
    return Message._get_collection().find_one_and_update(
        {"_id": message_id, "$or": [
            {"status": MessageStatus.PENDING, "next_attempt_at": {"$lte": now}},
            {"status": MessageStatus.SENDING, "lease_until": {"$lt": now}},
        ]},
        {"$set": {"status": MessageStatus.SENDING, "lease_until": lease_until, "claim": token,
                  "claimed_at": now, "updated_at": now},
         "$inc": {"attempts": 1, "round_attempts": 1}},
        return_document=ReturnDocument.BEFORE,
    )


def _not_claimed(registry, oid: ObjectId, now: datetime) -> str:
    """A job that found its message not due yet (it started early: clock skew between hosts)
    schedules itself again for the remaining time, if it is still the message's job."""
    message = Message.objects(id=oid).only("status", "next_attempt_at", "job_id").first()
    job = get_current_job()
    if (message is not None and job is not None and message.job_id == job.id
            and message.status == MessageStatus.PENDING and message.next_attempt_at is not None
            and _aware(message.next_attempt_at) > now):
        enqueue_delivery(registry, oid, delay=(_aware(message.next_attempt_at) - now).total_seconds())
        return "not due yet: rescheduled"
    return "skipped: already delivered, held by another worker, or gone"


def _settle_message(message_id: ObjectId, token: str, changes: dict[str, Any], **operators) -> bool:
    """Update a message we still hold; False when our lease was lost to another worker."""
    update = {"$set": {"claim": None, "lease_until": None, "updated_at": utcnow(), **changes}, **operators}
    return Message._get_collection().update_one({"_id": message_id, "claim": token}, update).modified_count == 1


def deliver(ctx, message_id: str) -> str:
    """Make one attempt at a stored message; returns what happened (for the job result)."""
    registry = ctx.registry
    config: WebhookConfig = find_service(registry, "webhooks.config")
    oid = ObjectId(message_id)
    now = utcnow()
    token = uuid.uuid4().hex
    before = claim(oid, now, config.lease_until(now), token)
    if before is None:
        return _not_claimed(registry, oid, now)
    number = before.get("attempts", 0) + 1
    round_number = before.get("round_attempts", 0) + 1
    if before["status"] == MessageStatus.SENDING:
        Attempt(message=oid, msg_id=before["msg_id"], endpoint=before["endpoint"], number=number - 1,
                attempted_at=before.get("claimed_at") or now, error=LOST_ATTEMPT, outcome="lost").save()

    endpoint = Endpoint.objects(id=before["endpoint"]).first()
    if endpoint is None or not endpoint.active:
        reason = "endpoint deleted" if endpoint is None else f"endpoint disabled: {endpoint.disabled_reason}"
        _settle_message(oid, token, {"status": MessageStatus.ABANDONED, "last_error": reason,
                                     "next_attempt_at": None},
                        **{"$inc": {"attempts": -1, "round_attempts": -1}})  # nothing was sent
        return "abandoned"

    sent_at = utcnow()
    try:
        secrets = active_secrets(config, endpoint, sent_at)
    except ValueError as exc:  # wrong encryption key: an operator problem, retried on schedule
        result = AttemptResult(None, 0.0, "", f"cannot decrypt the endpoint secret: {exc}", Outcome.RETRY, None)
    else:
        result = deliver_once(
            find_service(registry, OUTBOUND), endpoint.url, msg_id=before["msg_id"], event_type=before["event_type"],
            data=before.get("payload") or {}, timestamp=before["event_at"], secrets=secrets,
            timeout=config.timeout, attempted_at=sent_at, excerpt_chars=config.excerpt_chars)
    metrics = find_service(registry, "webhooks.metrics")
    if metrics is not None:
        metrics.observe(result)
    return _record(registry, config, before, endpoint, token, number, round_number, sent_at, result)


def _record(registry, config: WebhookConfig, before: dict, endpoint: Endpoint, token: str, number: int,
            round_number: int, sent_at: datetime, result: AttemptResult) -> str:
    oid, endpoint_id = before["_id"], endpoint.id
    now = utcnow()
    attempt = Attempt(message=oid, msg_id=before["msg_id"], endpoint=endpoint_id, number=number,
                      attempted_at=sent_at, status_code=result.status, latency_ms=result.latency_ms,
                      response_excerpt=result.response_excerpt, error=result.error,
                      outcome=result.outcome.value, retry_after=result.retry_after)
    error = result.error or (f"HTTP {result.status}" if not result.succeeded else None)
    stats: dict[str, Any] = {"$inc": {"stats.attempts": 1, "stats.latency_ms_total": result.latency_ms},
                             "$set": {"stats.last_attempt_at": sent_at, "stats.last_status_code": result.status}}
    endpoints = Endpoint._get_collection()

    if result.succeeded:
        attempt.save()
        stats["$set"].update({"stats.last_success_at": sent_at, "stats.last_error": None})
        if endpoint.failing_since is not None:
            stats["$set"]["failing_since"] = None
        if _settle_message(oid, token, {"status": MessageStatus.SUCCEEDED, "delivered_at": now,
                                        "next_attempt_at": None, "last_status_code": result.status,
                                        "last_error": None}):
            stats["$inc"]["stats.delivered"] = 1
        endpoints.update_one({"_id": endpoint_id}, stats)
        return "succeeded"

    stats["$inc"]["stats.failed_attempts"] = 1
    stats["$set"].update({"stats.last_failure_at": sent_at, "stats.last_error": error})
    # The first failure after a success starts the failing period. Two workers failing at
    # once may both set it, a few milliseconds apart: harmless for a period counted in days.
    failing_since = endpoint.failing_since
    if failing_since is None:
        failing_since = stats["$set"]["failing_since"] = sent_at
    endpoints.update_one({"_id": endpoint_id}, stats)
    failed = {"last_status_code": result.status, "last_error": error, "next_attempt_at": None}

    if result.outcome is Outcome.DISABLE:
        attempt.save()
        if _settle_message(oid, token, {**failed, "status": MessageStatus.FAILED}):
            endpoints.update_one({"_id": endpoint_id}, {"$inc": {"stats.failed": 1}})
        disable_endpoint(endpoint_id, f"the receiver answered 410 Gone at {_iso(sent_at)}; fix the "
                                      f"receiver, then re-enable the webhook")
        return "disabled"

    if (now - _aware(failing_since)).total_seconds() >= config.disable_after:
        attempt.save()
        reason = (f"deliveries failed continuously since {_iso(failing_since)} (longer than "
                  f"{_duration(config.disable_after)}); last error: {error}")
        if _settle_message(oid, token, {**failed, "status": MessageStatus.ABANDONED}):
            endpoints.update_one({"_id": endpoint_id}, {"$inc": {"stats.failed": 1}})
        disable_endpoint(endpoint_id, reason)
        return "disabled"

    delay = retry_delay(result.outcome, round_number, result.retry_after,
                        schedule=config.schedule, jitter=config.jitter)
    if delay is None:
        attempt.save()
        if _settle_message(oid, token, {**failed, "status": MessageStatus.FAILED,
                                        "last_error": f"gave up after {round_number} attempts; last: {error}"}):
            endpoints.update_one({"_id": endpoint_id}, {"$inc": {"stats.failed": 1}})
        return "failed"

    attempt.next_attempt_at = now + timedelta(seconds=delay)
    attempt.save()
    if _settle_message(oid, token, {**failed, "status": MessageStatus.PENDING,
                                    "next_attempt_at": attempt.next_attempt_at}):
        enqueue_delivery(registry, oid, delay=delay)
    return f"retry in {delay:.1f}s"


def _job_alive(redis, job_id: str | None, *, holding_lease: bool) -> bool:
    """Whether ``job_id`` will still run. A started job of a message whose lease expired is dead."""
    if not job_id:
        return False
    try:
        status = Job.fetch(job_id, connection=redis).get_status()
    except NoSuchJobError:
        return False
    waiting = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
    return status in waiting or (status == JobStatus.STARTED and not holding_lease)


def reaper(ctx) -> dict[str, int]:
    """Re-enqueue stuck and overdue messages; purge finished ones past retention (periodic job)."""
    registry = ctx.registry
    config: WebhookConfig = find_service(registry, "webhooks.config")
    now = utcnow()
    candidates = list(Message.objects(status=MessageStatus.SENDING, lease_until__lt=now)
                      .only("id", "status", "job_id").limit(config.reaper_batch))
    candidates += list(Message.objects(status=MessageStatus.PENDING, next_attempt_at__lte=now)
                       .only("id", "status", "job_id").limit(config.reaper_batch))
    requeued = 0
    for message in candidates:
        if _job_alive(ctx.redis, message.job_id, holding_lease=message.status == MessageStatus.SENDING):
            continue
        if enqueue_delivery(registry, message.id):
            requeued += 1
    cutoff = now - timedelta(days=config.retention_days)
    purged = Message.objects(status__in=MessageStatus.FINISHED, updated_at__lt=cutoff).delete()
    Attempt.objects(attempted_at__lt=cutoff).delete()
    if requeued:
        log.info("webhooks reaper re-enqueued %d message(s)", requeued)
    return {"requeued": requeued, "purged": purged}


def _aware(value: datetime) -> datetime:
    from datetime import timezone

    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _iso(value: datetime) -> str:
    return _aware(value).isoformat(timespec="seconds").replace("+00:00", "Z")


def _duration(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
