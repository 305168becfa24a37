"""InterviewMinds core runtime.

The public API for plugin authors is re-exported here::

    from core import hookimpl, Setting, Service, GraphQLContribution
"""
from __future__ import annotations

from core.hookspecs import hookimpl

__all__ = ["hookimpl", "Setting", "Service", "GraphQLContribution", "main"]


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
    # Lazy re-exports keep `import core.x` cheap for workers and scripts.
    if name == "Setting":
        from core.settings import Setting

        return Setting
    if name == "Service":
        from core.http.service import Service

        return Service
    if name == "GraphQLContribution":
        from core.graphql import GraphQLContribution

        return GraphQLContribution
    raise AttributeError(name)
