"""Deployment policy for the GraphQL schema: which strawberry extensions the settings call for.

Kept apart from ``core/graphql.py`` (the view and schema assembly) so that policy decisions
read settings in one place. Today: introspection.

``interviewminds.graphql.introspection`` unset means on outside production and off in
production (``core.app.load_settings`` resolves it to a bool); only an explicit ``true``
turns it on in production. Off, strawberry's ``DisableIntrospection`` adds graphql-core's
``NoSchemaIntrospectionCustomRule``: a document selecting ``__schema`` or ``__type`` fails
validation (``__typename`` stays allowed, clients need it).
"""
from __future__ import annotations

from typing import Any, Mapping

from strawberry.extensions import DisableIntrospection

INTROSPECTION = "interviewminds.graphql.introspection"


def introspection_allowed(settings: Mapping[str, Any]) -> bool:
    value = settings.get(INTROSPECTION)
    if value is None:  # settings not resolved by core.app (a bare dict in a test)
        return settings.get("interviewminds.env") != "production"
    return bool(value)


def policy_extensions(settings: Mapping[str, Any]) -> list:
    """Extension classes (strawberry builds one per request) the settings call for."""
    return [] if introspection_allowed(settings) else [DisableIntrospection]
