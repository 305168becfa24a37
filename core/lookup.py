"""Shared objects as services (``pyramid_services``), looked up by name.

Core and plugins register what others need during configuration::

    provide(config, "interviews.ownership", OwnershipLookup())

and look it up from a request, a registry or a job context::

    request.find_service(name="interviews.ownership")        # pyramid_services, in views
    find_service(request_or_registry_or_ctx, "interviews.ownership")
    find_service(ctx, "interviews.ownership", optional=True)  # None when that plugin is off

Names are ``<plugin id>.<what>`` (``core.<what>`` for core). A plugin that uses another
plugin's service lists it in ``OPTIONAL_SERVICES`` on its module (shown by
``interviewminds plugins``) and must work, or say it is unavailable, when the lookup gives None.
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from pyramid_services import IServiceRegistry, ProxyFactory, SingletonServiceWrapper, find_service_factory
from zope.interface import Interface

# Core's own services. Plugins may look these up; they must not register under ``core.``.
REDIS = "core.redis"
METRICS = "core.metrics"
PLUGINS = "core.plugins"          # the app's PluginSet (plugin manager + infos)
BREAKERS = "core.breakers"
OUTBOUND = "core.outbound"
RATELIMITER = "core.ratelimiter"
PERMISSIONS = "core.permissions"  # the merged PermissionCatalog and role grants
IDENTITY = "core.identity"        # the ordered identity sources
JOBS = "core.jobs"                # the JobCatalog
EVENTS = "core.events"            # the EventCatalog
HEALTH = "core.health"            # the HealthChecks
GRAPHQL = "core.graphql"          # the strawberry schema
GRAPHQL_COST = "core.graphql_cost"  # request -> units of the graphql rate-limit tier (core.graphql_cost)
LLM = "llm"                       # the LLM, registered by a provider plugin


class ServiceMissing(LookupError):
    """No service is registered under the name (its plugin is disabled, or a typo)."""


def provide(config, name: str, obj: Any) -> None:
    """Register ``obj`` as the app-wide singleton service ``name``, usable at once.

    pyramid_services' ``config.register_service`` defers registration to the commit; core and
    plugins need each other's services while configuring (a breaker registry, the metrics
    registry), so this registers in the service registry right away. A name registered twice
    stops startup.
    """
    registry = config.registry
    names = registry.__dict__.setdefault("_interviewminds_service_names", set())
    if name in names:
        from core.plugins import PluginError

        raise PluginError(f"service {name!r} is registered twice")
    names.add(name)
    container = registry.getUtility(IServiceRegistry)
    container.register_factory(ProxyFactory(SingletonServiceWrapper(obj)), Interface, context=None, name=name)


def service_names(registry) -> list[str]:
    """Every service name registered on the app, sorted."""
    return sorted(registry.__dict__.get("_interviewminds_service_names", ()))


def registry_of(target):
    """The Pyramid registry of a request, config, job context or registry."""
    # Requests, configs and job contexts carry the registry; a registry is its own answer.
    # (Pyramid's Registry is a dict, often empty and so falsy: compare with None.)
    registry = getattr(target, "registry", None)
    return target if registry is None else registry


def find_service(target, name: str, *, optional: bool = False):
    """The service ``name`` from a request, a registry or a :class:`core.jobs.JobContext`.

    Raises :class:`ServiceMissing` when nothing is registered, or returns None with ``optional``.
    """
    registry = registry_of(target)
    cache = registry.__dict__.setdefault("_interviewminds_services", {})
    if name in cache:
        return cache[name]
    try:
        factory = find_service_factory(SimpleNamespace(registry=registry), name=name)
    except LookupError:
        if optional:
            return None
        raise ServiceMissing(f"no service named {name!r} is registered "
                             "(is the plugin that provides it enabled?)") from None
    service = factory(None, None)
    cache[name] = service
    return service
