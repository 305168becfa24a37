"""Typed domain events.

A plugin declares each event it emits once (``interviewminds_events`` -> :class:`EventType`:
name, version, JSON Schema of the payload). ``emit(request_or_registry, name, payload)`` checks
the payload against the schema and hands it to every plugin's ``interviewminds_on_event``.
Emitters and subscribers never import each other.

An undeclared event or a payload that does not match its schema is a bug in the emitter: outside
production (``interviewminds.env`` other than ``production``) :class:`EventPayloadError` is
raised, so tests catch it; in production it is logged, counted in
``interviewminds_event_payload_errors_total`` and the event is still delivered.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import jsonschema

from core.lookup import EVENTS, METRICS, PLUGINS, find_service, registry_of

log = logging.getLogger(__name__)

_EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


class EventPayloadError(ValueError):
    """An event was emitted that is undeclared or whose payload breaks its schema."""


@dataclass(frozen=True)
class EventType:
    """One declared event: ``payload_schema`` is a JSON Schema (draft 2020-12) object schema."""

    name: str
    version: int
    payload_schema: Mapping[str, Any]
    description: str = ""

    def as_json(self, plugin: str) -> dict:
        return {"name": self.name, "version": self.version, "description": self.description,
                "plugin": plugin, "payloadSchema": dict(self.payload_schema)}


@dataclass
class EventCatalog:
    """Declared events by name, with the plugin that declares each, and compiled validators."""

    types: dict[str, EventType] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    strict: bool = True
    _validators: dict = field(default_factory=dict, repr=False)

    @classmethod
    def collect(cls, declared: Iterable[tuple[str, Iterable]], *, strict: bool) -> "EventCatalog":
        from core.plugins import PluginError

        catalog = cls(strict=strict)
        for plugin_id, events in declared:
            for event in events:
                if not isinstance(event, EventType):
                    raise PluginError(f"plugin {plugin_id!r}: interviewminds_events must return "
                                      f"core.EventType objects, got {event!r}")
                if not _EVENT_NAME.match(event.name):
                    raise PluginError(f"plugin {plugin_id!r}: event name {event.name!r} must look like "
                                      "'resource.happened'")
                if event.name in catalog.types:
                    raise PluginError(f"event {event.name!r} is declared by both "
                                      f"{catalog.owners[event.name]!r} and {plugin_id!r}")
                try:
                    jsonschema.Draft202012Validator.check_schema(event.payload_schema)
                except jsonschema.SchemaError as exc:
                    raise PluginError(f"plugin {plugin_id!r}: event {event.name!r} has an invalid payload "
                                      f"schema: {exc.message}") from None
                catalog.types[event.name] = event
                catalog.owners[event.name] = plugin_id
                catalog._validators[event.name] = jsonschema.Draft202012Validator(event.payload_schema)
        return catalog

    def names(self) -> list[str]:
        return sorted(self.types)

    def problem(self, name: str, payload: Any) -> str | None:
        """Why ``payload`` is not a valid ``name`` event, or None."""
        validator = self._validators.get(name)
        if validator is None:
            return f"event {name!r} is not declared by any enabled plugin"
        error = jsonschema.exceptions.best_match(validator.iter_errors(payload))
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path) or "payload"
        return f"event {name!r}: {where}: {error.message}"

    def describe(self) -> list[dict]:
        return [self.types[n].as_json(self.owners[n]) for n in self.names()]


def emit(request_or_registry, name: str, payload: dict[str, Any]) -> None:
    """Check ``payload`` against event ``name``'s schema, then deliver it to every subscriber.

    A failing subscriber is logged and counted, never raised to the emitter.
    """
    registry = registry_of(request_or_registry)
    catalog: EventCatalog = find_service(registry, EVENTS)
    metrics = find_service(registry, METRICS)
    problem = catalog.problem(name, payload)
    if problem is not None:
        if catalog.strict:
            raise EventPayloadError(problem)
        log.error("emitting a malformed event: %s", problem)
        metrics.event_payload_errors.labels(name).inc()
    pm = find_service(registry, PLUGINS).pm
    for impl in pm.hook.interviewminds_on_event.get_hookimpls():
        try:
            impl.function(**{arg: {"name": name, "payload": payload, "registry": registry}[arg]
                             for arg in impl.argnames})
        except Exception:
            log.exception("subscriber %s failed on event %s", impl.plugin_name, name)
            metrics.event_failures.labels(name).inc()


def declared_events(registry) -> dict[str, str]:
    """Event name -> the plugin that declares it."""
    return dict(find_service(registry, EVENTS).owners)
