"""Core's own contributions, made through the same hooks as any plugin (registered as ``core``).

Permissions of the admin routes, the ``general`` and ``graphql`` rate-limit tiers, the
dev-token and Clerk identity sources, and the audit-log purge job.
"""
from __future__ import annotations

from core.audit import purge_audit
from core.auth.setup import builtin_identity_sources
from core.hookspecs import hookimpl
from core.jobs import Periodic
from core.permissions import Permission
from core.ratelimit import RateLimits


@hookimpl
def interviewminds_permissions(settings):
    return [
        Permission("admin:users", "List users and their roles."),
        Permission("admin:roles", "Assign or change users' roles (never one's own)."),
        Permission("audit:read", "Read the audit log."),
    ]


@hookimpl
def interviewminds_rate_limits(settings):
    return RateLimits(
        tiers={
            "general": "300/minute",  # every route
            "graphql": "120/minute",  # units per request: what the query may return (core.graphql_cost)
        },
        paths={"graphql": ["/graphql"]},
    )


@hookimpl
def interviewminds_identity_sources(settings):
    return builtin_identity_sources(settings)


@hookimpl
def interviewminds_jobs(settings):
    return {"core.audit_purge": Periodic(purge_audit, every=3600)}
