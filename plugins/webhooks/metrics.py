"""Prometheus metrics for deliveries, on the app's collector registry."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from plugins.webhooks.sender import AttemptResult


class WebhookMetrics:
    """``interviewminds_webhooks_attempts_total{outcome}`` and attempt latency."""

    def __init__(self, registry: CollectorRegistry):
        self.attempts = Counter("interviewminds_webhooks_attempts_total",
                                "Webhook delivery attempts by outcome", ["outcome"], registry=registry)
        self.latency = Histogram("interviewminds_webhooks_attempt_seconds",
                                 "Webhook delivery attempt latency", registry=registry,
                                 buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30))

    def observe(self, result: AttemptResult) -> None:
        self.attempts.labels(result.outcome.value).inc()
        self.latency.observe(result.latency_ms / 1000.0)
