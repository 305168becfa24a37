"""InterviewMinds core runtime.

The public API for plugin authors is re-exported here::

    from core import hookimpl, Setting, Service, GraphQLContribution, Permission, RateLimits
    from core import EventType, IdentitySource, Principal, AuthenticationRefused
    from core import find_service, provide, NotFound, Forbidden, Conflict, Invalid, Unavailable, TooLarge
"""
from __future__ import annotations

from core.hookspecs import hookimpl

# name -> module that defines it; imported on first use so `import core.x` stays cheap
# for workers and scripts.
_EXPORTS = {
    "Setting": "core.settings",
    "Service": "core.http.service",
    "GraphQLContribution": "core.graphql",
    "Permission": "core.permissions",
    "RateLimits": "core.ratelimit",
    "EventType": "core.events",
    "emit": "core.events",
    "IdentitySource": "core.auth.sources",
    "Principal": "core.auth.sources",
    "AuthenticationRefused": "core.auth.sources",
    "find_service": "core.lookup",
    "provide": "core.lookup",
    "DomainError": "core.errors",
    "Invalid": "core.errors",
    "Unauthenticated": "core.errors",
    "Forbidden": "core.errors",
    "NotFound": "core.errors",
    "Conflict": "core.errors",
    "PreconditionRequired": "core.errors",
    "TooLarge": "core.errors",
    "Unavailable": "core.errors",
}

__all__ = ["hookimpl", "main", *_EXPORTS]


def main(global_config, **settings):
    """PasteDeploy app factory (``paste.app_factory: main = core:main``)."""
    from core.app import make_wsgi_app
    from core.plugins import PluginError
    from core.settings import SettingsError

    try:
        return make_wsgi_app(settings, global_config=global_config)
    except (PluginError, SettingsError) as exc:
        # One clear line for the operator instead of a traceback.
        raise SystemExit(f"interviewminds: cannot start: {exc}") from None


def __getattr__(name):
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(name)
