"""``GET /health``: every check runs concurrently under one timeout and never raises.

Status rules: ``unhealthy`` (HTTP 503) when MongoDB is down; ``degraded`` when Redis or any
plugin check is down; else ``ok``. Optional services (an LLM provider, a code runner) are
checked by the plugins that use them; unconfigured ones say ``not_configured`` and do not degrade.

A plugin checks an upstream with :func:`upstream_check`: the URL check's result is reused for
``interviewminds.health.cache_seconds`` (probes every few seconds must not become calls to a
paid API), and while the plugin's circuit breaker is open (or half-open) the check says
``unreachable`` without calling the upstream: the breaker already knows it is failing.
"""
from __future__ import annotations

import concurrent.futures
import datetime as dt
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Callable

from core.lookup import BREAKERS, HEALTH, REDIS, find_service

OK_VALUES = {"ok", "connected", "not_configured", "closed"}
UNREACHABLE = "unreachable"

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
    """Reachability of an operator-configured base URL: ``connected`` for any answer below 500
    (a 401 or 404 from an API root still proves it is up), ``unreachable`` for a 5xx, a refused
    or failed connection, or no answer within ``timeout``; ``not_configured`` without a URL."""

    def http_check() -> str:
        if not url:
            return "not_configured"
        try:
            urllib.request.urlopen(url, timeout=timeout).close()  # noqa: S310 - operator URL
        except urllib.error.HTTPError as exc:
            return UNREACHABLE if exc.code >= 500 else "connected"
        except (OSError, ValueError):  # URLError, timeouts, resets, a malformed URL
            return UNREACHABLE
        return "connected"

    return http_check


class UpstreamCheck:
    """A check of an upstream service, as a plugin returns it from ``interviewminds_health_checks``.

    ``check`` is called at most once per ``cache_seconds`` per process (0: on every probe; one
    call at a time, concurrent probes wait for it); what it returned, or raised, is reused
    meanwhile. ``breaker`` names the plugin's circuit breaker: while it is open or half-open,
    /health reports ``unreachable`` without calling ``check`` (``health_report`` reads it).
    """

    def __init__(self, check: Callable[[], object], *, breaker: str | None = None,
                 cache_seconds: float = 0.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.check = check
        self.breaker = breaker
        self.cache_seconds = float(cache_seconds)
        self._clock = clock
        self._lock = threading.Lock()
        self._result: tuple[float, bool, object] | None = None  # (when, raised, value)

    def _fresh(self):
        result = self._result
        if result is not None and self._clock() - result[0] < self.cache_seconds:
            return result
        return None

    def __call__(self) -> object:
        if self.cache_seconds <= 0:
            return self.check()
        result = self._fresh()
        if result is None:
            with self._lock:
                result = self._fresh()  # another probe may have refreshed it meanwhile
                if result is None:
                    try:
                        result = (self._clock(), False, self.check())
                    except Exception as exc:  # cached too: a failing upstream is not hammered
                        result = (self._clock(), True, exc)
                    self._result = result
        _, raised, value = result
        if raised:
            raise value  # type: ignore[misc]
        return value


def upstream_check(url: str, timeout: float, *, breaker: str | None = None,
                   cache_seconds: float = 0.0) -> Callable[[], object]:
    """The usual plugin check of an upstream at ``url`` (see :class:`UpstreamCheck`);
    ``not_configured`` when ``url`` is empty (no key, no calls)."""
    check = make_http_check(url, timeout)
    if not url:
        return check
    return UpstreamCheck(check, breaker=breaker, cache_seconds=cache_seconds)


def _breaker_gated(check: Callable[[], object], registry) -> Callable[[], object]:
    """``check``, or ``unreachable`` while the breaker it names is not closed."""
    name = getattr(check, "breaker", None)
    breakers = find_service(registry, BREAKERS, optional=True) if name else None
    if breakers is None:
        return check

    def gated() -> object:
        try:
            state = breakers.get(name).state()
        except KeyError:  # named but never declared: nothing to consult
            return check()
        if state["state"] != "closed":
            return UNREACHABLE
        return check()

    return gated


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
    all_checks.update({f"plugin:{name}": _breaker_gated(fn, registry) for name, fn in health.checks.items()})
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
