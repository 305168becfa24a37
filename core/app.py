"""The app factory: settings -> plugins -> services -> Pyramid configuration -> WSGI app."""
from __future__ import annotations

import atexit
import datetime as dt
import logging
import os
import weakref
from typing import Any, Mapping

from bson import ObjectId
from pyramid.config import Configurator
from pyramid.renderers import JSON

from core import lookup
from core.auth.setup import role_overrides
from core.clock import iso_utc
from core.core_settings import CORE_SETTINGS
from core.events import EventCatalog
from core.graphql import build_schema
from core.health import HealthChecks
from core.jobs import collect_jobs
from core.metrics import AppMetrics
from core.permissions import PermissionCatalog, PermissionConfigError
from core.plugins import CORE_ID, PluginError, PluginSet, call_each, load_plugins
from core.settings import PREFIX, Setting, SettingsError, env_var_for, parse_value, resolve
from core.storage import connect_mongo, redis_client

log = logging.getLogger(__name__)

INTROSPECTION = "interviewminds.graphql.introspection"

CORE_ROUTES = {("/health", "GET"), ("/ping", "GET"), ("/metrics", "GET"), ("/api/csrf", "GET"),
               ("/graphql", "GET"), ("/graphql", "POST"), ("/api/admin/users", "GET"),
               ("/api/admin/roles", "POST"), ("/api/admin/audit-logs", "GET"),
               ("/openapi.json", "GET")}


def _json_renderer() -> JSON:
    renderer = JSON()
    renderer.add_adapter(ObjectId, lambda obj, request: str(obj))
    renderer.add_adapter(dt.datetime, lambda obj, request: iso_utc(obj))
    renderer.add_adapter(dt.date, lambda obj, request: obj.isoformat())
    return renderer


def plugin_names(raw: Mapping[str, Any], environ: Mapping[str, str]) -> list[str]:
    setting = next(s for s in CORE_SETTINGS if s.name == "plugins")
    value = environ.get(setting.env_var(PREFIX), raw.get(PREFIX + "plugins", ""))
    return parse_value(PREFIX + "plugins", setting, value)


def load_settings(raw: Mapping[str, Any], environ: Mapping[str, str] | None = None):
    """Load plugins and parse every setting. Returns ``(settings, plugin manager, plugin infos)``."""
    environ = os.environ if environ is None else environ
    pm, infos = load_plugins(plugin_names(raw, environ))
    declarations: list[tuple[str, Setting]] = [(PREFIX, s) for s in CORE_SETTINGS]
    for plugin_id, declared in call_each(pm, "interviewminds_settings"):
        for setting in declared:
            declarations.append((f"{PREFIX}{plugin_id}.", setting))
            infos[plugin_id].settings.append(f"{PREFIX}{plugin_id}.{setting.name}")
    settings = resolve(raw, declarations, owned_prefixes=(PREFIX,), environ=environ)
    production = settings["interviewminds.env"] == "production"
    if settings[INTROSPECTION] is None:  # unset: on, except in production
        settings[INTROSPECTION] = not production
    if production:
        _check_production(raw, settings)
    return settings, pm, infos


def _check_production(raw, settings) -> None:
    if settings["interviewminds.auth.dev"]:
        raise SettingsError("interviewminds.auth.dev: invalid value True (dev tokens are refused in production)")
    if settings["interviewminds.debug"]:
        raise SettingsError("interviewminds.debug: invalid value True (never in production)")
    for key, setting in settings.declared.items():
        if setting.secret and raw.get(key):
            raise SettingsError(f"{key}: secrets must come from the environment "
                                f"({env_var_for(key)}), not the ini file")
    allowed = settings["interviewminds.outbound.allow_cidrs"]
    if allowed:
        raise SettingsError(f"interviewminds.outbound.allow_cidrs: must be empty in production, not "
                            f"{' '.join(allowed)!r} (user-supplied URLs could reach those private networks)")
    if settings["interviewminds.graphql.graphiql"]:
        raise SettingsError("interviewminds.graphql.graphiql: invalid value True (GraphiQL is refused in production)")
    wildcard = [origin for origin in settings["interviewminds.cors.origins"] if "*" in origin]
    if wildcard:
        raise SettingsError(f"interviewminds.cors.origins: {wildcard[0]!r} is refused in production "
                            "(list each allowed origin)")
    if settings["interviewminds.auth.jwks_url"] or settings["interviewminds.auth.public_key_pem"]:
        for key, what in (("interviewminds.auth.issuer", "the Clerk Frontend API URL tokens must carry as `iss`"),
                          ("interviewminds.auth.authorized_parties", "the origins of your frontends (`azp`)")):
            if not settings[key]:
                raise SettingsError(f"{key}: required in production when Clerk is configured "
                                    f"(interviewminds.auth.jwks_url or public_key_pem): set it to {what}")


def _mount_services(config, plugins: PluginSet, settings, permissions: PermissionCatalog) -> None:
    owners = {key: CORE_ID for key in CORE_ROUTES}
    plugins.routes = {CORE_ID: sorted({path for path, _ in CORE_ROUTES})}
    names: dict[str, str] = {}
    for plugin_id, services in plugins.call("interviewminds_services", settings=settings):
        for service in services:
            if service.name in names:
                raise PluginError(f"service name {service.name!r} is used by both {names[service.name]!r} "
                                  f"and {plugin_id!r}")
            names[service.name] = plugin_id
            methods = sorted({m for m, _, _ in service.definitions})
            for method in methods:
                key = (service.path, method)
                if key in owners:
                    raise PluginError(f"route {method} {service.path} is defined by both {owners[key]!r} "
                                      f"and {plugin_id!r}")
                owners[key] = plugin_id
            for method, _, args in service.definitions:
                needed = args.get("permission")
                if isinstance(needed, str) and needed not in permissions:
                    raise PluginError(f"plugin {plugin_id!r}: {method} {service.path} requires permission "
                                      f"{needed!r}, which no enabled plugin declares")
            plugins.routes.setdefault(plugin_id, []).append(service.path)
            plugins.infos[plugin_id].routes.append(f"{','.join(methods)} {service.path}")
            config.add_cornice_service(service)


def _permissions(plugins: PluginSet, settings) -> PermissionCatalog:
    try:
        catalog = PermissionCatalog((plugin_id, permission) for plugin_id, declared
                                    in plugins.call("interviewminds_permissions", settings=settings)
                                    for permission in declared)
        overrides, source = role_overrides(settings)
        catalog.grants = catalog.resolve(overrides, source=source)
    except PermissionConfigError as exc:
        raise PluginError(str(exc)) from None
    for name, owner in catalog.owners.items():
        if owner in plugins.infos:
            plugins.infos[owner].permissions.append(name)
    return catalog


def _identity_sources(plugins: PluginSet, settings) -> list:
    from core.auth.sources import IdentitySource

    sources = []
    for plugin_id, declared in plugins.call("interviewminds_identity_sources", settings=settings):
        for source in declared:
            if not isinstance(source, IdentitySource):
                raise PluginError(f"plugin {plugin_id!r}: identity source {source!r} needs a `name` and "
                                  "an `authenticate(request)` method")
            sources.append(source)
            if plugin_id in plugins.infos:
                plugins.infos[plugin_id].identity_sources.append(source.name)
    return sources


def _health_checks(plugins: PluginSet, settings) -> HealthChecks:
    health = HealthChecks()
    for plugin_id, checks in plugins.call("interviewminds_health_checks", settings=settings):
        for name, check in dict(checks).items():
            health.checks[f"{plugin_id}.{name}"] = check
            if plugin_id in plugins.infos:
                plugins.infos[plugin_id].health_checks.append(name)
    return health


def _record_contributions(plugins: PluginSet, jobs, events) -> None:
    infos = plugins.infos
    for name, (plugin_id, _) in jobs.jobs.items():
        if plugin_id in infos:
            infos[plugin_id].jobs.append(name)
    for name, plugin_id in events.owners.items():
        if plugin_id in infos:
            infos[plugin_id].events.append(name)


def build_config(raw_settings: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Configurator:
    """Build (but do not commit) the Pyramid configuration of one app."""
    settings, pm, infos = load_settings(raw_settings, environ)
    settings["handle_exceptions"] = False  # cornice's own exception views; core shapes errors
    config = Configurator(settings=settings)
    config.include("pyramid_services")
    config.commit()  # the service registry must exist before anything below provides a service
    plugins = PluginSet(pm, infos)
    provide = lambda name, obj: lookup.provide(config, name, obj)  # noqa: E731 - local shorthand
    provide(lookup.PLUGINS, plugins)
    provide(lookup.METRICS, AppMetrics())
    provide(lookup.REDIS, redis_client(settings["interviewminds.redis.url"], settings["interviewminds.redis.timeout"]))
    provide(lookup.HEALTH, _health_checks(plugins, settings))
    connect_mongo(settings["interviewminds.mongo.uri"], settings["interviewminds.mongo.timeout_ms"])

    permissions = _permissions(plugins, settings)
    provide(lookup.PERMISSIONS, permissions)
    provide(lookup.IDENTITY, _identity_sources(plugins, settings))
    events = EventCatalog.collect(plugins.call("interviewminds_events", settings=settings),
                                  strict=settings["interviewminds.env"] != "production")
    provide(lookup.EVENTS, events)
    jobs = collect_jobs(pm, settings)
    provide(lookup.JOBS, jobs)

    config.include("cornice")
    config.add_renderer("json", _json_renderer())
    config.include("core.http.errors")
    config.include("core.http.methods")  # 405 + Allow for a wrong method on any route
    config.include("core.http.tweens")
    config.include("core.auth.setup")
    config.include("core.breakers")
    config.include("core.outbound")
    config.include("core.system")
    config.include("core.audit")
    config.include("core.admin")

    _mount_services(config, plugins, settings, permissions)
    config.include("core.http.ratelimiting")  # needs every plugin's routes to check its prefixes
    schema, graphql_fields = build_schema(pm, settings)
    provide(lookup.GRAPHQL, schema)
    for plugin_id, fields in graphql_fields.items():
        infos[plugin_id].graphql_fields.extend(fields)
    config.include("core.graphql")
    config.include("core.apidocs")  # GET /docs: Swagger UI over /openapi.json, local assets
    config.include("core.openapi")  # GET /openapi.json, built on first request from all routes
    _record_contributions(plugins, jobs, events)

    call_each(pm, "interviewminds_configure", config=config, settings=settings)
    for name in lookup.service_names(config.registry):
        owner = name.split(".", 1)[0]
        if owner in infos:
            infos[owner].services.append(name)
    return config


def start(registry) -> None:
    """Run every plugin's ``interviewminds_startup``; register their shutdown for process exit."""
    pm = lookup.find_service(registry, lookup.PLUGINS).pm
    call_each(pm, "interviewminds_startup", registry=registry)
    if pm.hook.interviewminds_shutdown.get_hookimpls():
        # A weak reference: test suites build many apps and must not keep them all alive.
        atexit.register(_shutdown_if_alive, weakref.ref(registry))


def _shutdown_if_alive(registry_ref) -> None:
    registry = registry_ref()
    if registry is not None:
        shutdown(registry)


def shutdown(registry) -> None:
    """Run every plugin's ``interviewminds_shutdown`` once per app (a worker calls this on exit
    and the atexit handler of :func:`start` would again); a failure is logged, never raised."""
    if registry.__dict__.get("_interviewminds_shut_down"):
        return
    registry.__dict__["_interviewminds_shut_down"] = True
    pm = lookup.find_service(registry, lookup.PLUGINS).pm
    for impl in pm.hook.interviewminds_shutdown.get_hookimpls():
        try:
            impl.function(registry=registry)
        except Exception:
            log.exception("plugin %s failed in interviewminds_shutdown", impl.plugin_name)


def make_wsgi_app(raw_settings: Mapping[str, Any], global_config=None, environ=None):
    config = build_config(raw_settings, environ)
    app = config.make_wsgi_app()
    start(app.registry)
    return app
