"""The app factory: settings -> plugins -> Pyramid configuration -> WSGI app."""
from __future__ import annotations

import datetime as dt
import os
from typing import Any, Mapping

from bson import ObjectId
from pyramid.config import Configurator
from pyramid.renderers import JSON

from core.core_settings import CORE_SETTINGS
from core.audit import purge_audit
from core.clock import iso_utc
from core.events import collect_events
from core.graphql import build_schema
from core.jobs import collect_jobs
from core.metrics import AppMetrics
from core.plugins import PluginError, call_each, load_plugins
from core.settings import PREFIX, Setting, SettingsError, env_var_for, parse_value, resolve
from core.storage import connect_mongo, redis_client

CORE_ROUTES = {("/health", "GET"), ("/ping", "GET"), ("/metrics", "GET"), ("/api/csrf", "GET"),
               ("/graphql", "GET"), ("/graphql", "POST"), ("/api/admin/users", "GET"),
               ("/api/admin/roles", "POST"), ("/api/admin/audit-logs", "GET")}


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
    if settings["interviewminds.env"] == "production":
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


def _mount_services(config, pm, settings, infos) -> None:
    owners = {key: "core" for key in CORE_ROUTES}
    names: dict[str, str] = {}
    for plugin_id, services in call_each(pm, "interviewminds_services", settings=settings):
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
            infos[plugin_id].routes.append(f"{','.join(methods)} {service.path}")
            config.add_cornice_service(service)


def build_config(raw_settings: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Configurator:
    """Build (but do not commit) the Pyramid configuration of one app."""
    settings, pm, infos = load_settings(raw_settings, environ)
    settings["handle_exceptions"] = False  # cornice's own exception views; core shapes errors
    config = Configurator(settings=settings)
    registry = config.registry
    registry.im_plugins = pm
    registry.im_plugin_info = infos
    registry.im_metrics = AppMetrics()
    registry.im_redis = redis_client(settings["interviewminds.redis.url"], settings["interviewminds.redis.timeout"])
    registry.im_health_extras = {}
    connect_mongo(settings["interviewminds.mongo.uri"], settings["interviewminds.mongo.timeout_ms"])

    config.include("cornice")
    config.add_renderer("json", _json_renderer())
    config.include("core.http.errors")
    config.include("core.http.tweens")
    config.include("core.auth.setup")
    config.include("core.protection")
    config.include("core.system")
    config.include("core.audit")
    config.include("core.admin")

    _mount_services(config, pm, settings, infos)
    registry.im_graphql_schema, graphql_fields = build_schema(pm, settings)
    for plugin_id, fields in graphql_fields.items():
        infos[plugin_id].graphql_fields.extend(fields)
    config.include("core.graphql")

    registry.im_jobs, registry.im_periodic = collect_jobs(pm, settings)
    registry.im_jobs["core.audit_purge"] = ("core", purge_audit)
    registry.im_periodic["core.audit_purge"] = 3600
    for name, (plugin_id, _) in registry.im_jobs.items():
        if plugin_id in infos:
            infos[plugin_id].jobs.append(name)
    registry.im_health_checks = {}
    for plugin_id, checks in call_each(pm, "interviewminds_health_checks", settings=settings):
        for name, check in dict(checks).items():
            registry.im_health_checks[f"{plugin_id}.{name}"] = check
            infos[plugin_id].health_checks.append(name)
    registry.im_events = collect_events(pm, settings)
    for name, plugin_id in registry.im_events.items():
        if plugin_id in infos:
            infos[plugin_id].events.append(name)

    call_each(pm, "interviewminds_configure", config=config, settings=settings)
    return config


def make_wsgi_app(raw_settings: Mapping[str, Any], global_config=None, environ=None):
    return build_config(raw_settings, environ).make_wsgi_app()
