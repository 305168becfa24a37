"""Domain events: ``emit(request_or_registry, name, payload)`` -> every plugin's
``interviewminds_on_event``. Emitters and subscribers never import each other."""
from __future__ import annotations

import logging
from typing import Any

from core.plugins import call_each

log = logging.getLogger(__name__)


def _registry(request_or_registry):
    return getattr(request_or_registry, "registry", request_or_registry)


def emit(request_or_registry, name: str, payload: dict[str, Any]) -> None:
    """Deliver event ``name`` to every subscriber. A failing subscriber is logged and counted."""
    registry = _registry(request_or_registry)
    pm = registry.im_plugins
    for impl in pm.hook.interviewminds_on_event.get_hookimpls():
        try:
            impl.function(**{arg: {"name": name, "payload": payload, "registry": registry}[arg]
                             for arg in impl.argnames})
        except Exception:
            log.exception("subscriber %s failed on event %s", impl.plugin_name, name)
            metrics = getattr(registry, "im_metrics", None)
            if metrics is not None:
                metrics.event_failures.labels(name).inc()


def declared_events(registry) -> dict[str, str]:
    """Event name -> the plugin that declares it."""
    return dict(registry.im_events)


def collect_events(pm, settings) -> dict[str, str]:
    events: dict[str, str] = {}
    for plugin_id, names in call_each(pm, "interviewminds_events", settings=settings):
        for name in names:
            events.setdefault(name, plugin_id)
    return events
