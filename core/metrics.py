"""Prometheus metrics: one CollectorRegistry per app, plus multiprocess mode.

Multiprocess mode (several waitress processes behind a balancer, or app + workers): set
``PROMETHEUS_MULTIPROC_DIR`` to an empty directory shared by all processes before they start;
``GET /metrics`` then aggregates every process's samples with ``MultiProcessCollector``.
"""
from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector


class AppMetrics:
    """The metrics core records. Plugins create theirs on ``find_service(registry, "core.metrics").registry``."""

    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.requests = Counter("interviewminds_http_requests_total", "HTTP requests by method, route and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("interviewminds_http_request_seconds", "HTTP request latency by route",
                                 ["route"], registry=self.registry)
        self.store_errors = Counter("interviewminds_store_unavailable_total",
                                    "Requests answered 503 because a store was down", ["store"],
                                    registry=self.registry)
        self.event_failures = Counter("interviewminds_event_subscriber_failures_total",
                                      "Event subscribers that raised", ["event"], registry=self.registry)
        self.event_payload_errors = Counter("interviewminds_event_payload_errors_total",
                                            "Events emitted undeclared or with a payload that breaks its schema",
                                            ["event"], registry=self.registry)
        self.audit_failures = Counter("interviewminds_audit_write_failures_total",
                                      "Audit entries that could not be written", registry=self.registry)
        self.jobs_enqueued = Counter("interviewminds_jobs_enqueued_total", "Jobs enqueued by name", ["job"],
                                     registry=self.registry)


def exposition(app_registry: CollectorRegistry) -> tuple[bytes, str]:
    """The text exposition for ``GET /metrics``."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(app_registry), CONTENT_TYPE_LATEST
