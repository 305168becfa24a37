"""The webhooks plugin's settings, parsed once per app into a ``WebhookConfig``.

The encryption key for secrets at rest comes from ``interviewminds.webhooks.encryption_key``
(env ``INTERVIEWMINDS_WEBHOOKS_ENCRYPTION_KEY``). When it is empty:

- in ``production`` the app refuses to start (secrets would otherwise be unreadable after a
  restart on another machine, or stored under a key nobody manages);
- in ``development`` and ``test`` a random key is generated once into
  ``<var_dir>/webhooks/encryption.key`` (mode 0600) and reused by every process that shares
  the var dir (web app and workers). Nothing is derived from a constant.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from core import Permission
from core.files import read_or_create_private
from core.settings import Setting, SettingsError
from plugins.webhooks.retry import parse_schedule
from plugins.webhooks.secrets import ENCRYPTION_KEY_SETTING, SecretBox

__all__ = ["SETTINGS", "WebhookConfig", "key_file_path", "load_or_create_key_file"]

_P = "interviewminds.webhooks."

SETTINGS = (
    Setting("encryption_key", str, "",
            "URL-safe base64 of 32 bytes (AES-256-GCM key for endpoint secrets at rest). Required in "
            "production (env INTERVIEWMINDS_WEBHOOKS_ENCRYPTION_KEY); empty in development/test: a key "
            "file is generated under var_dir/webhooks/.", secret=True),
    Setting("timeout", float, 15.0, "Seconds one delivery attempt may take in all.", minimum=0.1),
    Setting("schedule", str, "5s,5m,30m,2h,5h,10h,10h",
            "Delays before each retry (s, m, h, d units); its length bounds the attempts (+1)."),
    Setting("jitter", float, 0.2, "Each retry delay is scaled by a random factor in [1-jitter, 1+jitter].",
            minimum=0.0),
    Setting("rotation_overlap", int, 86400,
            "Seconds a rotated-out secret keeps signing beside the new one.", minimum=0),
    Setting("disable_after", int, 5 * 86400,
            "Seconds of continuous failure after which an endpoint is disabled.", minimum=1),
    Setting("lease", int, 60,
            "Seconds a worker holds a message while sending it; after that the reaper hands it to "
            "another worker. Must exceed `timeout`.", minimum=1),
    Setting("reaper_every", int, 30, "Seconds between reaper runs (stuck and overdue messages).", minimum=1),
    Setting("max_events", int, 20, "Most event types one endpoint may subscribe to.", minimum=1),
    Setting("max_url_length", int, 2048, "Longest endpoint URL accepted.", minimum=16),
    Setting("excerpt_chars", int, 1024, "Characters of each response body kept in the delivery log.",
            minimum=0),
    Setting("max_endpoints", int, 20, "Most endpoints one user may register.", minimum=1),
    Setting("retention_days", int, 30,
            "Days finished messages and their attempts are kept (purged by the reaper).", minimum=1),
    Setting("reaper_batch", int, 500, "Most messages one reaper run re-enqueues.", minimum=1),
)


def key_file_path(var_dir: str | os.PathLike) -> Path:
    """Where development and test apps keep their generated encryption key."""
    return Path(var_dir) / "webhooks" / "encryption.key"


def load_or_create_key_file(path: Path) -> str:
    """Read the key in ``path``, creating it with a fresh random key first if it is missing.

    Creation is atomic (write a private temp file, then hard-link it into place), so a web
    app and a worker starting together end up with the same key.
    """
    return read_or_create_private(path, lambda: (SecretBox.generate_key() + "\n").encode()).decode().strip()


@dataclass(frozen=True)
class WebhookConfig:
    """Parsed settings plus the secret box; registered as the service ``webhooks.config``."""

    box: SecretBox
    timeout: float
    schedule: tuple[int, ...]
    jitter: float
    rotation_overlap: int
    disable_after: int
    lease: int
    reaper_every: int
    max_events: int
    max_url_length: int
    excerpt_chars: int
    max_endpoints: int
    retention_days: int
    reaper_batch: int

    @classmethod
    def from_settings(cls, settings) -> "WebhookConfig":
        """Validate what types alone cannot; raises SettingsError naming the key."""
        try:
            schedule = parse_schedule(settings[_P + "schedule"])
        except ValueError as exc:
            raise SettingsError(f"{_P}schedule: {exc}") from None
        jitter = settings[_P + "jitter"]
        if not 0 <= jitter < 1:
            raise SettingsError(f"{_P}jitter: invalid value {jitter!r} (expected 0 <= jitter < 1)")
        timeout, lease = settings[_P + "timeout"], settings[_P + "lease"]
        if lease <= timeout:
            # A lease shorter than an attempt would hand a message to a second worker while
            # the first is still sending it.
            raise SettingsError(f"{_P}lease: invalid value {lease!r} (expected more than "
                                f"{_P}timeout = {timeout:g} seconds)")
        try:
            box = SecretBox(_encryption_key(settings))
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
        return cls(
            box=box, timeout=timeout, schedule=schedule, jitter=jitter,
            **{name: settings[_P + name] for name in (
                "rotation_overlap", "disable_after", "lease", "reaper_every", "max_events",
                "max_url_length", "excerpt_chars", "max_endpoints", "retention_days", "reaper_batch")},
        )

    def lease_until(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.lease)


def _encryption_key(settings) -> str:
    key = settings[ENCRYPTION_KEY_SETTING]
    if key:
        return key
    if settings["interviewminds.env"] == "production":
        raise SettingsError(
            f"{ENCRYPTION_KEY_SETTING}: required in production; set INTERVIEWMINDS_WEBHOOKS_ENCRYPTION_KEY "
            f"to the output of `python -c 'from plugins.webhooks.secrets import SecretBox; "
            f"print(SecretBox.generate_key())'`")
    return load_or_create_key_file(key_file_path(settings["interviewminds.var_dir"]))



# -- what the plugin declares to core --------------------------------------------------------------
PERMISSIONS = [
    Permission("webhooks:manage", "Register, list, update, delete, test and read deliveries of one's own "
               "webhooks (an endpoint is only ever its owner's).", ("candidate", "interviewer")),
    Permission("webhooks:manage_any", "Manage every user's webhooks and receive every event."),
]
