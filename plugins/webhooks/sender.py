"""One delivery attempt of a webhook message, SSRF-checked at send time.

The message keeps its id and body across retries (receivers deduplicate on ``webhook-id``);
each attempt is signed with the time it is sent (``webhook-timestamp``), because receivers
reject signatures older than a few minutes and retries can be hours apart.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Sequence

from core.outbound import OutboundError, OutboundPolicy, safe_request
from plugins.webhooks.retry import Outcome, classify, parse_retry_after
from plugins.webhooks.signing import build_headers, payload

__all__ = ["AttemptResult", "DEFAULT_EXCERPT_CHARS", "USER_AGENT", "deliver_once"]

DEFAULT_EXCERPT_CHARS = 1024
USER_AGENT = "InterviewMinds-Webhooks/1.0"


@dataclass(frozen=True)
class AttemptResult:
    """What one attempt produced, ready to be recorded in the delivery log."""

    status: int | None  # HTTP status, None when no response arrived
    latency_ms: float
    response_excerpt: str  # the start of the response body, at most the excerpt cap
    error: str | None  # why no response arrived (timeout, refused, blocked destination)
    outcome: Outcome
    retry_after: float | None  # parsed Retry-After seconds on 429/503, else None

    @property
    def succeeded(self) -> bool:
        return self.outcome is Outcome.SUCCESS


def deliver_once(
    policy: OutboundPolicy,
    url: str,
    *,
    msg_id: str,
    event_type: str,
    data: Any,
    timestamp: datetime,
    secrets: Sequence[str],
    timeout: float,
    attempted_at: datetime | None = None,
    excerpt_chars: int = DEFAULT_EXCERPT_CHARS,
) -> AttemptResult:
    """POST the message to ``url`` once and report what happened; never raises for network trouble.

    ``timestamp`` is the event's time (in the body); ``attempted_at`` (default: now) is the
    signing time sent as ``webhook-timestamp``. ``secrets`` are all active secrets (one
    signature each). The URL is checked against ``policy`` again here, so an endpoint whose
    name now resolves to a blocked address is refused without a connection.
    """
    sent_at = attempted_at or datetime.now(timezone.utc)
    body = payload(event_type, data, timestamp)
    headers = build_headers(msg_id, sent_at, body, secrets)
    headers["user-agent"] = USER_AGENT
    started = time.perf_counter()
    try:
        # Read a little more than the excerpt: a multi-byte character may straddle the cap.
        response = safe_request(
            policy,
            "POST",
            url,
            body=body.encode("utf-8"),
            headers=headers,
            timeout=timeout,
            max_response_bytes=excerpt_chars * 4,
        )
    except OutboundError as exc:
        elapsed = (time.perf_counter() - started) * 1000.0
        return AttemptResult(None, elapsed, "", exc.reason, classify(None, exc.reason), None)
    retry_after = None
    if response.status in (429, 503):
        retry_after = parse_retry_after(
            response.headers.get("retry-after"), datetime.now(timezone.utc)
        )
    excerpt = response.body_excerpt.decode("utf-8", errors="replace")[:excerpt_chars]
    return AttemptResult(
        status=response.status,
        latency_ms=response.latency_ms,
        response_excerpt=excerpt,
        error=None,
        outcome=classify(response.status, None, retry_after),
        retry_after=retry_after,
    )
