"""Loading plugins: entry points in group ``interviewminds.plugins``, in the ini's order.

Nothing is loaded just because it is installed. An unknown name, an import error or a
duplicate stops startup with a :class:`PluginError` naming the plugin. Core's own hook
implementations (:mod:`core.builtin`) are registered first, under the id ``core``.
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import pluggy

from core import hookspecs

ENTRY_POINT_GROUP = "interviewminds.plugins"
PLUGIN_ID = re.compile(r"^[a-z][a-z0-9_]*$")
# Core's own setting sections: a plugin id may not shadow them.
RESERVED_IDS = frozenset({
    "plugins", "debug", "env", "mongo", "redis", "http", "cors", "graphql", "health",
    "jobs", "auth", "csrf", "ratelimit", "breakers", "audit", "security",
    "outbound", "metrics", "var_dir", "core", "admin", "users", "events", "llm",
})
CORE_ID = "core"


class PluginError(RuntimeError):
    """A plugin cannot be loaded or clashes with another; the message names it."""


@dataclass
class PluginInfo:
    """What ``interviewminds plugins`` shows about one enabled plugin."""

    id: str
    module: ModuleType
    distribution: str
    version: str
    hooks: list[str] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)
    graphql_fields: list[str] = field(default_factory=list)
    jobs: list[str] = field(default_factory=list)
    health_checks: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    settings: list[str] = field(default_factory=list)
    permissions: list[str] = field(default_factory=list)
    rate_limit_paths: list[str] = field(default_factory=list)
    identity_sources: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    optional_services: list[str] = field(default_factory=list)


@dataclass
class PluginSet:
    """The app's plugin manager, what each enabled plugin contributed, and who owns which route.

    Registered as the service ``core.plugins``.
    """

    pm: pluggy.PluginManager
    infos: dict[str, PluginInfo]
    routes: dict[str, list[str]] = field(default_factory=dict)  # owner id -> route paths

    def call(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        return call_each(self.pm, hook_name, **kwargs)


def _import_module(name: str, target: str) -> ModuleType:
    try:
        return importlib.import_module(target)
    except Exception as exc:  # any import-time failure names the plugin
        raise PluginError(f"plugin {name!r} failed to import ({target}): "
                          f"{type(exc).__name__}: {exc}") from exc


def load_plugins(names: list[str]) -> tuple[pluggy.PluginManager, dict[str, PluginInfo]]:
    """Build a plugin manager with core's hookspecs and the named plugins, in order."""
    from core import builtin

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(builtin, name=CORE_ID)
    available = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    infos: dict[str, PluginInfo] = {}
    for name in names:
        if "." in name:
            # Local development: a dotted module path, id = the module's PLUGIN_ID or last part.
            module = _import_module(name, name)
            plugin_id = getattr(module, "PLUGIN_ID", name.rsplit(".", 1)[-1])
            dist, version = "(local module)", "-"
        else:
            if name not in available:
                known = ", ".join(sorted(available)) or "none"
                raise PluginError(f"unknown plugin {name!r}: no entry point named so in group "
                                  f"{ENTRY_POINT_GROUP!r} (installed: {known})")
            ep = available[name]
            module_name = ep.value.split(":", 1)[0]
            module = _import_module(name, module_name)
            if ":" in ep.value:
                module = getattr(module, ep.value.split(":", 1)[1])
            plugin_id = name
            dist = ep.dist.name if ep.dist else "?"
            version = ep.dist.version if ep.dist else "?"
        if not PLUGIN_ID.match(plugin_id) or plugin_id in RESERVED_IDS:
            raise PluginError(f"plugin {name!r}: invalid or reserved plugin id {plugin_id!r}")
        if plugin_id in infos:
            raise PluginError(f"plugin {plugin_id!r} is enabled twice")
        try:
            pm.register(module, name=plugin_id)
        except ValueError as exc:
            raise PluginError(f"plugin {plugin_id!r} cannot be registered: {exc}") from exc
        infos[plugin_id] = PluginInfo(plugin_id, module, dist, version,
                                      optional_services=list(getattr(module, "OPTIONAL_SERVICES", ())))
    # Plugins publish their own hookspecs first, so hooks of one plugin that extend another
    # are checked against them below.
    for impl in pm.hook.interviewminds_addhooks.get_hookimpls():
        try:
            impl.function(pm=pm)
        except Exception as exc:
            raise PluginError(f"plugin {impl.plugin_name!r} failed in interviewminds_addhooks: "
                              f"{type(exc).__name__}: {exc}") from exc
    for plugin_id, info in infos.items():
        unknown_hooks = [h for h in pm.get_hookcallers(info.module) or [] if h.spec is None]
        if unknown_hooks:
            raise PluginError(f"plugin {plugin_id!r} implements unknown hooks: "
                              f"{', '.join(h.name for h in unknown_hooks)}")
        info.hooks = sorted(h.name for h in pm.get_hookcallers(info.module) or [])
    return pm, infos


def call_each(pm: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
    """Call one hook plugin by plugin, in load order, returning ``(plugin id, result)`` pairs.

    Unlike ``pm.hook.x()``, this keeps track of which plugin returned what, so clashes can
    name both plugins.
    """
    caller = getattr(pm.hook, hook_name)
    results = []
    for impl in caller.get_hookimpls():  # registration (= ini) order
        args = {arg: kwargs[arg] for arg in impl.argnames}
        try:
            result = impl.function(**args)
        except Exception as exc:
            raise PluginError(f"plugin {impl.plugin_name!r} failed in {hook_name}: "
                              f"{type(exc).__name__}: {exc}") from exc
        if result is not None:
            results.append((impl.plugin_name, result))
    return results
