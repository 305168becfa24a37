"""Webhooks plugin: signed, retried, tracked and SSRF-safe Standard Webhooks deliveries.

Modules:
- ``signing``: secrets in ``whsec_`` form, Standard Webhooks signatures, headers and payloads;
- ``secrets``: AES-256-GCM encryption of endpoint secrets at rest;
- ``retry``: the retry schedule with jitter, ``Retry-After`` parsing and outcome rules;
- ``sender``: one delivery attempt through ``core.outbound.safe_request``;
- ``config``: settings, parsed once per app into the service ``webhooks.config``;
- ``models``: endpoints, messages and the attempt log (MongoDB);
- ``services``: what routes, GraphQL and the event subscriber do; ``views``: the REST routes;
- ``jobs``: ``webhooks.deliver`` and the periodic ``webhooks.reaper``; ``graphql``: query fields.

See docs/webhooks.md.
"""
from __future__ import annotations

import logging

from core import GraphQLContribution, hookimpl

log = logging.getLogger(__name__)


@hookimpl
def interviewminds_settings():
    from plugins.webhooks.config import SETTINGS

    return SETTINGS


@hookimpl
def interviewminds_permissions(settings):
    from plugins.webhooks.config import PERMISSIONS

    return PERMISSIONS


@hookimpl
def interviewminds_configure(config, settings):
    """Parse the settings (a bad value or a missing production key stops startup) and add metrics."""
    from plugins.webhooks.config import WebhookConfig
    from plugins.webhooks.metrics import WebhookMetrics

    from core.lookup import METRICS, find_service, provide

    provide(config, "webhooks.config", WebhookConfig.from_settings(settings))
    provide(config, "webhooks.metrics", WebhookMetrics(find_service(config.registry, METRICS).registry))


@hookimpl
def interviewminds_services(settings):
    from plugins.webhooks.views import SERVICES

    return SERVICES


@hookimpl
def interviewminds_jobs(settings):
    from core.jobs import Periodic
    from plugins.webhooks.jobs import deliver, reaper

    return {
        "webhooks.deliver": deliver,
        "webhooks.reaper": Periodic(reaper, every=settings["interviewminds.webhooks.reaper_every"]),
    }


@hookimpl
def interviewminds_graphql(settings):
    from plugins.webhooks.graphql import WebhooksQuery

    return GraphQLContribution(query=(WebhooksQuery,))


@hookimpl
def interviewminds_health_checks(settings):
    from plugins.webhooks.health import delivery_backlog_check

    return {"deliveries": delivery_backlog_check(settings)}


@hookimpl
def interviewminds_on_event(name, payload, registry):
    """Store one message per subscribed active endpoint, then enqueue its delivery."""
    from plugins.webhooks.services import publish_event

    publish_event(registry, name, payload)
