"""The hooks a plugin may implement.

Every hook collects the results of all plugins (none is ``firstresult``, none is historic).
Implement them with ``@core.hookimpl`` in the module named by your entry point.
"""
from __future__ import annotations

import pluggy

PROJECT = "interviewminds"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def interviewminds_settings():
    """Declare this plugin's settings.

    Return an iterable of :class:`core.Setting`. Names are relative to
    ``interviewminds.<plugin id>.``; values are parsed and type-checked at startup, can be
    overridden from the environment, and undeclared keys under the prefix stop startup.
    """


@hookspec
def interviewminds_services(settings):
    """Return an iterable of :class:`core.Service` (cornice services) to mount.

    ``settings`` is the app's parsed :class:`core.settings.Settings`. A path and method that
    another plugin already serves stops startup, naming both plugins.
    """


@hookspec
def interviewminds_configure(config, settings):
    """Escape hatch: adjust the Pyramid ``config`` (tweens, subscribers, request methods).

    Called after services are mounted and before the configuration is committed.
    """


@hookspec
def interviewminds_graphql(settings):
    """Return a :class:`core.GraphQLContribution` of strawberry types whose fields are merged
    into the root ``Query`` and ``Mutation``. A field name another plugin already contributes
    stops startup, naming both plugins."""


@hookspec
def interviewminds_jobs(settings):
    """Return a mapping of job name -> function (or ``"module:function"`` path).

    Job names must start with ``<plugin id>.``. The function is called in a worker as
    ``function(ctx, **kwargs)`` with a :class:`core.jobs.JobContext`; kwargs are the small
    JSON-able values passed to :func:`core.jobs.enqueue`. Jobs must be idempotent.
    """


@hookspec
def interviewminds_health_checks(settings):
    """Return a mapping of check name -> callable taking no arguments.

    The callable returns ``"ok"``, a short status string, or a dict with a ``"status"`` key.
    It runs concurrently with other checks under ``interviewminds.health.timeout``;
    an exception or a timeout is reported as ``"error"``, never raised.
    """


@hookspec
def interviewminds_events(settings):
    """Return the names of the domain events this plugin emits (e.g. ``"interview.completed"``).

    Subscribers such as webhooks validate subscriptions against the union of these names.
    """


@hookspec
def interviewminds_on_event(name, payload, registry):
    """Receive a domain event emitted through :func:`core.events.emit`.

    ``payload`` is a JSON-able dict; ``registry`` is the app's Pyramid registry. Keep this
    fast: persist and enqueue a job for slow work. Exceptions are logged and counted,
    never propagated to the emitter.
    """
