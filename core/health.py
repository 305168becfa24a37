"""``GET /health``: every check runs concurrently under one timeout and never raises.

Status rules: ``unhealthy`` (HTTP 503) when MongoDB is down; ``degraded`` when Redis or any
plugin check is down; else ``ok``. Optional services (an LLM provider, a code runner) are
checked by the plugins that use them; unconfigured ones say ``not_configured`` and do not degrade.
"""
from __future__ import annotations

import concurrent.futures
import datetime as dt
import urllib.request
from dataclasses import dataclass, field
from typing import Callable

from core.lookup import HEALTH, REDIS, find_service

OK_VALUES = {"ok", "connected", "not_configured", "closed"}

_executor = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="health")


def mongo_check() -> str:
    from core.storage import mongo_db

    mongo_db().command("ping")
    return "connected"


def make_redis_check(client) -> Callable[[], str]:
    def redis_check() -> str:
        client.ping()
        return "connected"

    return redis_check


def make_http_check(url: str, timeout: float) -> Callable[[], str]:
    """Reachability of an operator-configured base URL (any HTTP answer counts as reachable)."""

    def http_check() -> str:
        if not url:
            return "not_configured"
        try:
            urllib.request.urlopen(url, timeout=timeout).close()  # noqa: S310 - operator URL
        except urllib.error.HTTPError:
            pass  # the server answered
        return "connected"

    return http_check


@dataclass
class HealthChecks:
    """The app's checks: ``checks`` (``<plugin>.<name>`` -> callable) and ``extras``, sections
    of the report (``circuitBreakers``, ``rateLimiter``) computed by core services."""

    checks: dict[str, Callable[[], object]] = field(default_factory=dict)
    extras: dict[str, Callable[[], object]] = field(default_factory=dict)


def _status_of(result) -> str:
    return result.get("status", "error") if isinstance(result, dict) else str(result)


def run_checks(checks: dict[str, Callable[[], object]], timeout: float,
               failure_value: dict[str, str]) -> dict[str, object]:
    """Run ``checks`` concurrently; a check that raises or times out reports its failure value."""
    futures = {name: _executor.submit(fn) for name, fn in checks.items()}
    done, _ = concurrent.futures.wait(futures.values(), timeout=timeout)
    results = {}
    for name, future in futures.items():
        if future not in done:
            results[name] = failure_value.get(name, "timeout")
            continue
        try:
            results[name] = future.result()
        except Exception:  # a check must never break /health
            results[name] = failure_value.get(name, "error")
    return results


def health_report(registry) -> tuple[int, dict]:
    settings = registry.settings
    timeout = settings["interviewminds.health.timeout"]
    health: HealthChecks = find_service(registry, HEALTH)
    core_checks = {"mongo": mongo_check, "redis": make_redis_check(find_service(registry, REDIS))}
    failures = {"mongo": "disconnected", "redis": "disconnected"}
    all_checks = dict(core_checks)
    all_checks.update({f"plugin:{name}": fn for name, fn in health.checks.items()})
    results = run_checks(all_checks, timeout, failures)
    services = {name: results[name] for name in core_checks}
    checks = {name.split(":", 1)[1]: results[name] for name in all_checks if name.startswith("plugin:")}
    if services["mongo"] != "connected":
        status = "unhealthy"
    elif any(_status_of(v) not in OK_VALUES for v in list(services.values()) + list(checks.values())):
        status = "degraded"
    else:
        status = "ok"
    extra = {}
    for name, provider in health.extras.items():
        try:
            extra[name] = provider()
        except Exception as exc:  # never raise from /health
            extra[name] = {"status": "error", "error": type(exc).__name__}
    body = {
        "status": status,
        "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "services": services,
        "checks": checks,
        "circuitBreakers": extra.pop("circuitBreakers", {}),
        **extra,
    }
    return (503 if status == "unhealthy" else 200), body
