"""GraphQL fields ``webhooks`` and ``webhookDeliveries(webhookId)``.

Same rules as REST: the caller needs ``webhooks:manage``; managers (``webhooks:manage_any``)
see every endpoint, others their own; someone else's endpoint is "not found". Attempts for a
page of deliveries are fetched with one query (no per-message lookups).
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

import strawberry

from core.errors import Forbidden, Invalid, Unauthenticated
from core.graphql_cost import list_cost
from plugins.webhooks import services
from plugins.webhooks.models import Attempt, Endpoint, Message

MAX_PAGE = 100


def _caller(info: strawberry.Info) -> services.Caller:
    identity = info.context.identity
    if identity is None:
        raise Unauthenticated("authentication required")
    if not identity.can("webhooks:manage"):
        raise Forbidden("permission denied: webhooks:manage")
    return services.Caller.from_identity(identity)


@strawberry.type
class WebhookStats:
    messages: int
    delivered: int
    failed: int
    attempts: int
    failed_attempts: int
    mean_latency_ms: Optional[float]
    last_attempt_at: Optional[datetime]
    last_success_at: Optional[datetime]
    last_status_code: Optional[int]
    last_error: Optional[str]


@strawberry.type
class Webhook:
    id: strawberry.ID
    owner: str
    url: str
    description: str
    events: list[str]
    active: bool
    disabled_reason: Optional[str]
    failing_since: Optional[datetime]
    created_at: datetime
    stats: WebhookStats

    @classmethod
    def of(cls, endpoint: Endpoint) -> "Webhook":
        view = services.endpoint_view(endpoint)
        stats = view["stats"]
        return cls(
            id=strawberry.ID(view["id"]), owner=view["owner"], url=view["url"],
            description=view["description"], events=view["events"], active=view["active"],
            disabled_reason=view["disabledReason"], failing_since=view["failingSince"],
            created_at=view["createdAt"],
            stats=WebhookStats(
                messages=stats["messages"], delivered=stats["delivered"], failed=stats["failed"],
                attempts=stats["attempts"], failed_attempts=stats["failedAttempts"],
                mean_latency_ms=stats["meanLatencyMs"], last_attempt_at=stats["lastAttemptAt"],
                last_success_at=stats["lastSuccessAt"], last_status_code=stats["lastStatusCode"],
                last_error=stats["lastError"]),
        )


@strawberry.type
class WebhookAttempt:
    number: int
    attempted_at: datetime
    status_code: Optional[int]
    latency_ms: Optional[float]
    response_excerpt: str
    error: Optional[str]
    outcome: str

    @classmethod
    def of(cls, attempt: Attempt) -> "WebhookAttempt":
        return cls(number=attempt.number, attempted_at=attempt.attempted_at, status_code=attempt.status_code,
                   latency_ms=attempt.latency_ms, response_excerpt=attempt.response_excerpt or "",
                   error=attempt.error, outcome=attempt.outcome)


@strawberry.type
class WebhookDelivery:
    id: strawberry.ID
    msg_id: str
    event_type: str
    status: str
    attempt_count: int
    next_attempt_at: Optional[datetime]
    delivered_at: Optional[datetime]
    created_at: datetime
    attempts: list[WebhookAttempt]

    @classmethod
    def of(cls, message: Message, attempts: list[Attempt]) -> "WebhookDelivery":
        return cls(id=strawberry.ID(str(message.id)), msg_id=message.msg_id, event_type=message.event_type,
                   status=message.status, attempt_count=message.attempts,
                   next_attempt_at=message.next_attempt_at, delivered_at=message.delivered_at,
                   created_at=message.created_at, attempts=[WebhookAttempt.of(a) for a in attempts])


@strawberry.type
class WebhooksQuery:
    # Counted at a user's own bound; managers, who see every endpoint, are bounded by the
    # per-request item cap (interviewminds.graphql.max_items).
    @strawberry.field(description="Webhook endpoints: the caller's own, or all for managers.",
                      metadata=list_cost(maximum="interviewminds.webhooks.max_endpoints"))
    def webhooks(self, info: strawberry.Info) -> list[Webhook]:
        return [Webhook.of(e) for e in services.list_endpoints(_caller(info))]

    @strawberry.field(description="Recent deliveries of one webhook, newest first, with their attempts.",
                      metadata=list_cost(argument="limit", maximum=MAX_PAGE))
    def webhook_deliveries(self, info: strawberry.Info, webhook_id: strawberry.ID,
                           limit: int = 20) -> list[WebhookDelivery]:
        if not 1 <= limit <= MAX_PAGE:
            raise Invalid(f"invalid input: limit must be between 1 and {MAX_PAGE}")
        messages, attempts, _ = services.list_deliveries(_caller(info), str(webhook_id), limit=limit)
        return [WebhookDelivery.of(m, attempts[m.id]) for m in messages]
