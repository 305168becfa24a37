"""Sample plugin: implements every hook. This module only wires hooks to the modules that work:

- ``declarations``: settings, permissions, the ``sample_echo`` rate-limit tier, the typed event;
- ``hookspecs``: ``sample_decorate_greeting``, the hook other plugins implement to extend it;
- ``models`` / ``services``: the notes (service ``sample.notes``), the greeting, the subscriber;
- ``views``: REST routes and the GraphQL field; ``jobs``: ``sample.record``;
- ``identity``: the ``X-Sample-Key`` identity source; ``cli``: ``interviewminds sample count-notes``;
- ``lifecycle``: what runs when an app or a worker starts and stops.
"""
from __future__ import annotations

from core import GraphQLContribution, hookimpl, provide
from im_sample_plugin import cli, declarations, hookspecs, identity, jobs, lifecycle, services, views


@hookimpl
def interviewminds_addhooks(pm):
    pm.add_hookspecs(hookspecs)


@hookimpl
def interviewminds_settings():
    return declarations.SETTINGS


@hookimpl
def interviewminds_permissions(settings):
    return declarations.PERMISSIONS


@hookimpl
def interviewminds_rate_limits(settings):
    return declarations.RATE_LIMITS


@hookimpl
def interviewminds_events(settings):
    return declarations.EVENTS


@hookimpl
def interviewminds_identity_sources(settings):
    return identity.sources(settings)


@hookimpl
def interviewminds_services(settings):
    return views.SERVICES


@hookimpl
def interviewminds_graphql(settings):
    return GraphQLContribution(query=(views.SampleQuery,))


@hookimpl
def interviewminds_configure(config, settings):
    provide(config, declarations.NOTES, services.NotesService())


@hookimpl
def interviewminds_jobs(settings):
    return {"sample.record": jobs.record}


@hookimpl
def interviewminds_health_checks(settings):
    return {"ready": lambda: "ok"}


@hookimpl
def interviewminds_on_event(name, payload, registry):
    services.count_event(registry, name)


@hookimpl
def interviewminds_cli(subparsers):
    cli.add_commands(subparsers)


@hookimpl
def interviewminds_startup(registry):
    lifecycle.on_startup(registry)


@hookimpl
def interviewminds_shutdown(registry):
    lifecycle.on_shutdown(registry)
