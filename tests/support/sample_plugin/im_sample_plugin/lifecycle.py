"""What runs when an app or a worker starts and stops (each leaves a trace tests can see)."""
from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

import redis

from core import find_service

log = logging.getLogger(__name__)

STARTUPS = "sample:startups"  # Redis counter of started processes


def on_startup(registry) -> None:
    try:
        find_service(registry, "core.redis").incr(STARTUPS)
    except redis.RedisError as exc:  # an outage must not stop the app: log it
        log.warning("sample: could not count this start: %s", exc)


def shutdown_log(settings) -> Path:
    return Path(settings["interviewminds.var_dir"]) / "sample" / "shutdowns.log"


def on_shutdown(registry) -> None:
    path = shutdown_log(registry.settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as log_file:
        log_file.write(f"{dt.datetime.now(dt.timezone.utc).isoformat()} pid={os.getpid()} stopped\n")

