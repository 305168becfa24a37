"""The hooks a plugin may implement.

Every hook collects the results of all plugins (none is ``firstresult``, none is historic).
Core's own contributions (its permissions, tiers, identity sources and jobs) come from
:mod:`core.builtin`, registered first under the id ``core`` like any other plugin.
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
    """Return the domain events this plugin emits: an iterable of :class:`core.EventType`.

    Each has a name (``"interview.completed"``), a version and a JSON Schema of its payload.
    An event declared twice stops startup naming both plugins. :func:`core.events.emit` checks
    every payload against its schema (a mismatch raises in development and tests, and is
    logged and counted in production). Webhooks lists the catalogue at
    ``GET /api/webhooks/event-types``.
    """


@hookspec
def interviewminds_on_event(name, payload, registry):
    """Receive a domain event emitted through :func:`core.events.emit`.

    ``payload`` is a JSON-able dict; ``registry`` is the app's Pyramid registry. Keep this
    fast: persist and enqueue a job for slow work. Exceptions are logged and counted,
    never propagated to the emitter.
    """


@hookspec
def interviewminds_permissions(settings):
    """Return this plugin's permission catalogue: an iterable of :class:`core.Permission`.

    Each names a concrete ``resource:action``, describes it, and lists the roles that get it by
    default (``admin`` gets every declared permission). Core merges the catalogues of all
    enabled plugins; a permission declared twice stops startup naming both plugins.
    Operators change grants in ``config/roles.toml`` (or ``interviewminds.auth.roles_file``);
    an override naming a permission nobody declares stops startup, naming it. Views may only
    require declared permissions.
    """


@hookspec
def interviewminds_rate_limits(settings):
    """Return this plugin's rate-limit tiers as a :class:`core.RateLimits`.

    ``tiers`` maps a tier name to its default limit (``"30/minute"``, the ``limits`` notation);
    ``paths`` maps a tier name to path prefixes of this plugin's own routes. A prefix that
    covers none of the plugin's routes, covers another plugin's route, or is claimed twice
    stops startup naming both plugins; so does one tier name declared with two different limits.
    Operators override limits in ``interviewminds.ratelimit.limits`` or the tiers file.
    """


@hookspec
def interviewminds_identity_sources(settings):
    """Return authentication sources (:class:`core.IdentitySource`), tried in order.

    For each request core asks every source of every plugin, in ini order (core's built-in
    dev-token and Clerk JWT sources first): ``authenticate(request)`` returns a
    :class:`core.Principal`, returns None ("not mine", the next source is asked), or raises
    :class:`core.AuthenticationRefused` with a reason (the request is unauthenticated and a
    protected route answers 401 with that reason). The role always comes from MongoDB.
    """


@hookspec
def interviewminds_cli(subparsers):
    """Add commands for ``interviewminds <plugin id> <command> CONFIG [...]``.

    ``subparsers`` is this plugin's own argparse sub-parser collection. Call
    ``subparsers.add_parser(name, help=...)``, add arguments, and ``set_defaults(func=...)``;
    ``func(args, registry)`` runs with the app built from CONFIG and returns an exit code.
    """


@hookspec
def interviewminds_startup(registry):
    """Run once the app is configured, in the web process and in every worker.

    Use it to warm caches or check external preconditions; an exception stops startup,
    naming the plugin.
    """


@hookspec
def interviewminds_shutdown(registry):
    """Run when the web process or a worker exits normally. Exceptions are logged, not raised."""


@hookspec
def interviewminds_addhooks(pm):
    """Publish hookspecs of this plugin's own, so that other plugins can extend it.

    Call ``pm.add_hookspecs(module_or_class)`` with functions marked by a
    ``pluggy.HookspecMarker("interviewminds")``. Called once, after every enabled plugin is
    registered and before any other hook; call them as ``pm.hook.<name>(...)`` or with
    :func:`core.plugins.call_each`.
    """
