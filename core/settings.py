"""Typed settings: declarations, parsing, env overrides and validation.

Core settings live under ``interviewminds.``; a plugin's under ``interviewminds.<plugin>.``.
Every declared key can be overridden by an env var: upper case, dots to underscores
(``interviewminds.mongo.uri`` <- ``INTERVIEWMINDS_MONGO_URI``).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

PREFIX = "interviewminds."


class SettingsError(ValueError):
    """A setting is unknown or has a bad value; the message is one line naming the key."""


@dataclass(frozen=True)
class Setting:
    """A declared setting.

    ``name`` is relative to the owner's prefix (``interviewminds.`` for core,
    ``interviewminds.<plugin>.`` for a plugin). ``type`` is one of ``str``, ``int``,
    ``float``, ``bool``, ``list`` (whitespace or comma separated). ``secret`` values are
    never printed and must come from the environment when ``interviewminds.env`` is
    ``production``. ``choices`` restricts the value; ``minimum`` bounds numbers.
    """

    name: str
    type: type
    default: Any
    help: str
    secret: bool = False
    choices: tuple | None = None
    minimum: float | None = None

    def env_var(self, prefix: str) -> str:
        return env_var_for(prefix + self.name)


def env_var_for(key: str) -> str:
    """``interviewminds.mongo.uri`` -> ``INTERVIEWMINDS_MONGO_URI``."""
    return re.sub(r"[^A-Za-z0-9]", "_", key).upper()


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def parse_value(key: str, setting: Setting, raw: Any) -> Any:
    """Convert ``raw`` (usually a string from an ini or env) to the declared type."""
    kind = setting.type
    shown = "<secret>" if setting.secret else repr(raw)
    try:
        if raw is None:
            value = None
        elif kind is bool:
            if isinstance(raw, bool):
                value = raw
            elif str(raw).strip().lower() in _TRUE:
                value = True
            elif str(raw).strip().lower() in _FALSE:
                value = False
            else:
                raise ValueError
        elif kind is int:
            if isinstance(raw, bool):
                raise ValueError
            value = int(str(raw).strip(), 10) if not isinstance(raw, int) else raw
        elif kind is float:
            if isinstance(raw, bool):
                raise ValueError
            value = float(raw)
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError
        elif kind is list:
            if isinstance(raw, (list, tuple)):
                value = [str(item) for item in raw]
            else:
                value = [item for item in re.split(r"[\s,]+", str(raw)) if item]
        elif kind is str:
            value = str(raw).strip() if not setting.secret else str(raw)
        else:  # pragma: no cover - declaration error
            raise SettingsError(f"{key}: unsupported setting type {kind!r}")
    except (TypeError, ValueError):
        expected = {bool: "a boolean (true/false)", int: "an integer", float: "a number",
                    list: "a list", str: "a string"}[kind]
        raise SettingsError(f"{key}: invalid value {shown} (expected {expected})") from None
    if setting.choices is not None and value is not None:
        values = value if isinstance(value, list) else [value]
        for item in values:
            if item not in setting.choices:
                raise SettingsError(
                    f"{key}: invalid value {shown} (expected one of {', '.join(map(str, setting.choices))})"
                )
    if setting.minimum is not None and value is not None and value < setting.minimum:
        raise SettingsError(f"{key}: invalid value {shown} (expected at least {setting.minimum})")
    return value


class Settings(dict):
    """The parsed settings of one app: full keys to typed values, plus Pyramid's own keys."""

    declared: dict[str, Setting]


def plugin_settings(settings: Mapping[str, Any], plugin_id: str) -> dict[str, Any]:
    """The settings of one plugin, keyed by their relative names."""
    prefix = f"{PREFIX}{plugin_id}."
    return {k[len(prefix):]: v for k, v in settings.items() if k.startswith(prefix)}


def resolve(
    raw: Mapping[str, Any],
    declarations: Iterable[tuple[str, Setting]],
    *,
    owned_prefixes: Iterable[str],
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Parse every declared setting from ``raw`` and the environment.

    ``declarations`` are ``(prefix, Setting)`` pairs. Keys in ``raw`` that start with one of
    ``owned_prefixes`` (core's sections and the enabled plugins' prefixes) but are not declared
    are an error, so that a typo never silently falls back to a default.
    """
    environ = os.environ if environ is None else environ
    settings = Settings((k, v) for k, v in raw.items() if not k.startswith(PREFIX))
    settings.declared = {}
    for prefix, setting in declarations:
        key = prefix + setting.name
        if key in settings.declared:
            raise SettingsError(f"{key}: declared twice")
        settings.declared[key] = setting
        env_name = setting.env_var(prefix)
        if env_name in environ:
            value = environ[env_name]
        elif key in raw:
            value = raw[key]
        else:
            settings[key] = setting.default
            continue
        settings[key] = parse_value(key, setting, value)
    owned = tuple(owned_prefixes)
    for key in raw:
        if key.startswith(PREFIX) and key not in settings.declared and key.startswith(owned):
            raise SettingsError(f"{key}: unknown setting")
    return settings
