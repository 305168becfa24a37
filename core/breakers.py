"""Circuit breakers whose state lives in Redis, so every app process sees the same breaker.

Built on pybreaker's ``CircuitBreaker`` and ``CircuitRedisStorage`` with three changes:

* Half-open admits exactly one probe across all processes: the caller that moves the
  breaker out of "open" (or finds it half-open) must first win a Redis lock
  (``SET NX PX``, via redis-py's ``Lock``); everyone else gets :class:`CircuitOpenError`.
* Calls in the closed state run concurrently. (pybreaker holds a process-wide lock for the
  whole guarded call, which would serialise every request to an upstream.)
* State changes are compare-and-swapped in Redis (``SET ... GET``), so each transition is
  counted once, by the process that made it, in
  ``interviewminds_breaker_transitions_total{breaker,from_state,to_state}``; the gauge
  ``interviewminds_breaker_state{breaker}`` (0 closed, 1 half-open, 2 open) follows what this
  process last saw.

When Redis is unreachable, breakers fail open: guarded calls go straight through, and the
outage is logged once (and once more when Redis is back).

``call_timeout`` is carried for the guarded client to use as its own I/O timeout (a breaker
cannot interrupt a running call); it also bounds how long a probe holds the probe lock.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar

import pybreaker
import redis
from prometheus_client import CollectorRegistry, Counter, Gauge

log = logging.getLogger(__name__)

T = TypeVar("T")

CLOSED, HALF_OPEN, OPEN = pybreaker.STATE_CLOSED, pybreaker.STATE_HALF_OPEN, pybreaker.STATE_OPEN
STATE_VALUES = {CLOSED: 0, HALF_OPEN: 1, OPEN: 2}
# What callers turned away while another caller probes are told to wait, in seconds.
PROBE_RETRY_AFTER = 1.0


class CircuitOpenError(pybreaker.CircuitBreakerError):
    """The breaker is open (or another caller is probing); retry after ``retry_after`` seconds."""

    def __init__(self, name: str, retry_after: float) -> None:
        self.name = name
        self.retry_after = max(0.0, float(retry_after))
        super().__init__(f"circuit breaker {name!r} is open; retry after {self.retry_after:.1f}s")

    @property
    def retry_after_header(self) -> str:
        """``Retry-After`` value: whole seconds, at least 1."""
        return str(max(1, math.ceil(self.retry_after)))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


class _RedisStorage(pybreaker.CircuitRedisStorage):
    """pybreaker's Redis storage with sub-second ``opened_at``, an atomic state swap and
    strict reads (errors propagate, so the breaker can fail open and say so)."""

    logger = logging.getLogger(__name__ + ".storage")

    def _initialize_redis_state(self, state: str) -> None:
        try:
            super()._initialize_redis_state(state)
        except redis.RedisError:
            pass  # Redis down at declare time: reads fail open until it is back

    @property
    def state(self) -> str:
        try:
            value = _text(self._redis.get(self._namespace("state")))
        except redis.RedisError:
            return self._fallback_circuit_state
        return value or CLOSED

    @state.setter
    def state(self, state: str) -> None:
        self.swap_state(state)

    def swap_state(self, state: str) -> str:
        """Set the state and return the previous one, atomically (``SET key value GET``)."""
        return _text(self._redis.set(self._namespace("state"), state, get=True)) or CLOSED

    @property
    def opened_at(self) -> datetime | None:
        value = self.opened_at_epoch()
        return datetime.fromtimestamp(value, timezone.utc) if value else None

    @opened_at.setter
    def opened_at(self, now: datetime) -> None:
        self._redis.set(self._namespace("opened_at"), repr(now.timestamp()))

    def opened_at_epoch(self) -> float | None:
        value = _text(self._redis.get(self._namespace("opened_at")))
        return float(value) if value else None

    def snapshot(self) -> tuple[str, int, float | None]:
        """(state, failures, opened_at epoch) in one round trip; raises RedisError."""
        state, failures, opened = self._redis.mget(
            self._namespace("state"), self._namespace("fail_counter"), self._namespace("opened_at"))
        opened_text = _text(opened)
        return (_text(state) or CLOSED, int(_text(failures) or 0),
                float(opened_text) if opened_text else None)

    def key(self, name: str) -> str:
        return self._namespace(name)


class _GatedOpenState(pybreaker.CircuitOpenState):
    """Open: refuse. Leaving "open" happens only in Breaker.call, under the probe lock."""

    def before_call(self, func: Callable, *args: Any, **kwargs: Any) -> Any:
        raise CircuitOpenError(self._breaker.name, self._breaker.owner.retry_after())


class _GatedHalfOpenState(pybreaker.CircuitHalfOpenState):
    """Half-open: only the thread holding the probe lock may call through."""

    def before_call(self, func: Callable, *args: Any, **kwargs: Any) -> None:
        if not self._breaker.owner.is_probing():
            raise CircuitOpenError(self._breaker.name, PROBE_RETRY_AFTER)


class _SharedCircuitBreaker(pybreaker.CircuitBreaker):
    """pybreaker's state machine over shared storage, with counted transitions."""

    owner: "Breaker"

    def _create_new_state(self, new_state, prev_state=None, notify=False):
        # Side effects of entering a state (counter resets) happen in _transition, once, in
        # the process that made the change: pybreaker would also run them in every process
        # that merely notices the change, wiping counters other processes are building.
        classes = {CLOSED: pybreaker.CircuitClosedState, OPEN: _GatedOpenState,
                   HALF_OPEN: _GatedHalfOpenState}
        if new_state not in classes:
            raise ValueError(f"unknown circuit breaker state {new_state!r}")
        return classes[new_state](self, prev_state=prev_state, notify=False)

    def call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        # No process-wide lock around the call: closed-state calls run concurrently.
        return self.state.call(func, *args, **kwargs)

    def _transition(self, new: str) -> None:
        storage = self._state_storage
        try:
            if new == OPEN:
                storage.opened_at = datetime.now(timezone.utc)
            if new == CLOSED:
                storage.reset_counter()
            else:
                storage.reset_success_counter()
            old = storage.swap_state(new)
        except redis.RedisError as exc:
            self.owner.registry.redis_unreachable(exc)
            return
        with self._lock:
            self._state = self._create_new_state(new, prev_state=self._state)
        self.owner.observed(new)
        if old != new:
            self.owner.transitioned(old, new)

    def open(self) -> bool:
        self._transition(OPEN)
        return self._throw_new_error_on_trip

    def half_open(self) -> None:
        self._transition(HALF_OPEN)

    def close(self) -> None:
        self._transition(CLOSED)


@dataclass(frozen=True)
class BreakerSpec:
    """A breaker's settings; declaring a name twice must repeat them exactly."""

    fail_max: int
    reset_timeout: float
    call_timeout: float
    exclude: tuple[type[BaseException], ...] = ()


class Breaker:
    """One named breaker. ``call(fn, *args, **kwargs)`` runs ``fn`` under its protection."""

    def __init__(self, registry: "BreakerRegistry", name: str, spec: BreakerSpec) -> None:
        self.registry = registry
        self.name = name
        self.spec = spec
        self._probe = threading.local()
        self._storage = _RedisStorage(
            CLOSED, registry.redis, namespace=f"{registry.namespace}:breaker:{name}")
        self._cb = _SharedCircuitBreaker(
            fail_max=spec.fail_max, reset_timeout=spec.reset_timeout,
            exclude=list(spec.exclude), state_storage=self._storage, name=name,
            throw_new_error_on_trip=False,  # the caller sees the real error that tripped it
        )
        self._cb.owner = self
        # A crashed prober must not block probing forever: the lock expires.
        self._probe_lock_ttl = spec.call_timeout + 5.0

    @property
    def fail_max(self) -> int:
        return self.spec.fail_max

    @property
    def reset_timeout(self) -> float:
        return self.spec.reset_timeout

    @property
    def call_timeout(self) -> float:
        """The I/O timeout the guarded client should use, in seconds."""
        return self.spec.call_timeout

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn``; raise CircuitOpenError without calling it while the breaker is open."""
        try:
            state, _, opened_at = self._storage.snapshot()
        except redis.RedisError as exc:
            self.registry.redis_unreachable(exc)
            return fn(*args, **kwargs)  # fail open
        self.registry.redis_reachable()
        self.observed(state)
        if state == CLOSED:
            return self._cb.call(fn, *args, **kwargs)
        if state == OPEN and opened_at is not None:
            remaining = opened_at + self.spec.reset_timeout - time.time()
            if remaining > 0:
                raise CircuitOpenError(self.name, remaining)
        return self._probe_call(fn, *args, **kwargs)

    def _probe_call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        lock = self.registry.redis.lock(
            self._storage.key("probe"), timeout=self._probe_lock_ttl, blocking=False)
        try:
            acquired = lock.acquire()
        except redis.RedisError as exc:
            self.registry.redis_unreachable(exc)
            return fn(*args, **kwargs)
        if not acquired:
            raise CircuitOpenError(self.name, PROBE_RETRY_AFTER)
        self._probe.active = True
        try:
            state = self._storage.state  # it may have changed while we took the lock
            if state == OPEN:
                if self.retry_after() > 0:
                    raise CircuitOpenError(self.name, self.retry_after())
                self._cb.half_open()
            return self._cb.call(fn, *args, **kwargs)
        finally:
            self._probe.active = False
            try:
                lock.release()
            except (redis.RedisError, redis.exceptions.LockError):
                pass  # expired or Redis gone: the TTL cleans up

    def is_probing(self) -> bool:
        """True in the thread that holds this breaker's probe lock."""
        return getattr(self._probe, "active", False)

    def retry_after(self) -> float:
        """Seconds until an open breaker may be probed (0 when it may be probed now)."""
        try:
            opened_at = self._storage.opened_at_epoch()
        except redis.RedisError:
            return 0.0
        if opened_at is None:
            return 0.0
        return max(0.0, opened_at + self.spec.reset_timeout - time.time())

    def state(self) -> dict:
        """This breaker's shared state, as shown on /health."""
        try:
            state, failures, opened_at = self._storage.snapshot()
        except redis.RedisError as exc:
            self.registry.redis_unreachable(exc)
            return {"state": CLOSED, "failures": 0, "openedAt": None, "retryAfter": None,
                    "degraded": True}
        self.registry.redis_reachable()
        self.observed(state)
        retry_after = None
        if state == OPEN and opened_at is not None:
            retry_after = round(max(0.0, opened_at + self.spec.reset_timeout - time.time()), 3)
        opened_iso = (datetime.fromtimestamp(opened_at, timezone.utc).isoformat()
                      if opened_at is not None and state != CLOSED else None)
        return {"state": state, "failures": failures, "openedAt": opened_iso,
                "retryAfter": retry_after, "degraded": False}

    def observed(self, state: str) -> None:
        """Record the state this process saw (the gauge)."""
        self.registry._gauge.labels(breaker=self.name).set(STATE_VALUES.get(state, 0))

    def transitioned(self, old: str, new: str) -> None:
        """Called once per real transition, in the process that made it."""
        self.registry._on_transition(self.name, old, new)

    def reset(self) -> None:
        """Force the breaker closed (operator action, tests)."""
        self._cb.close()


class BreakerRegistry:
    """All breakers of one app. State is shared through ``redis_client``.

    ``metrics`` is the app's own CollectorRegistry (one BreakerRegistry per CollectorRegistry).
    ``on_change`` callbacks get ``(name, old_state, new_state)`` for every transition this
    process makes; an exception in one is logged and does not affect the call.
    """

    def __init__(
        self,
        redis_client: redis.Redis,
        *,
        metrics: CollectorRegistry,
        namespace: str = "interviewminds",
        on_change: Iterable[Callable[[str, str, str], None]] = (),
    ) -> None:
        if not isinstance(metrics, CollectorRegistry):
            raise TypeError("metrics must be the app's prometheus_client.CollectorRegistry")
        self.redis = redis_client
        self.namespace = namespace
        self.on_change: list[Callable[[str, str, str], None]] = list(on_change)
        self._breakers: dict[str, Breaker] = {}
        self._lock = threading.Lock()
        self._redis_down = False
        self._transitions = Counter(
            "interviewminds_breaker_transitions_total", "Circuit breaker state transitions",
            ["breaker", "from_state", "to_state"], registry=metrics)
        self._gauge = Gauge(
            "interviewminds_breaker_state", "Circuit breaker state (0 closed, 1 half-open, 2 open)",
            ["breaker"], registry=metrics)

    def declare(
        self,
        name: str,
        *,
        fail_max: int = 5,
        reset_timeout: float = 30.0,
        call_timeout: float = 10.0,
        exclude: Iterable[type[BaseException]] = (),
    ) -> Breaker:
        """Create (or return the already declared) breaker ``name``.

        ``exclude`` lists exception types that are the caller's fault (they never trip it).
        Declaring a name again with different settings is a ValueError.
        """
        if not name or not isinstance(name, str) or any(c.isspace() or c == ":" for c in name):
            raise ValueError(f"breaker name must be a non-empty word without ':', got {name!r}")
        if int(fail_max) < 1 or reset_timeout <= 0 or call_timeout <= 0:
            raise ValueError(
                f"breaker {name!r}: fail_max must be >= 1, reset_timeout and call_timeout > 0")
        spec = BreakerSpec(int(fail_max), float(reset_timeout), float(call_timeout), tuple(exclude))
        with self._lock:
            existing = self._breakers.get(name)
            if existing is not None:
                if existing.spec != spec:
                    raise ValueError(
                        f"breaker {name!r} is already declared with {existing.spec}, not {spec}")
                return existing
            breaker = self._breakers[name] = Breaker(self, name, spec)
        breaker.observed(CLOSED)
        return breaker

    def get(self, name: str) -> Breaker:
        """The declared breaker ``name``; KeyError naming it otherwise."""
        try:
            return self._breakers[name]
        except KeyError:
            raise KeyError(f"no circuit breaker named {name!r} is declared") from None

    def names(self) -> list[str]:
        return sorted(self._breakers)

    def states(self) -> dict[str, dict]:
        """``{name: {"state", "failures", "openedAt", "retryAfter", "degraded"}}`` for /health."""
        return {name: self._breakers[name].state() for name in self.names()}

    def _on_transition(self, name: str, old: str, new: str) -> None:
        self._transitions.labels(breaker=name, from_state=old, to_state=new).inc()
        log.info("circuit breaker %s: %s -> %s", name, old, new)
        for callback in list(self.on_change):
            try:
                callback(name, old, new)
            except Exception:  # a broken observer must not break the guarded call
                log.exception("breaker on_change callback failed for %s", name)

    def redis_unreachable(self, exc: Exception) -> None:
        """Log the first failure of an outage; breakers fail open meanwhile."""
        if not self._redis_down:
            self._redis_down = True
            log.warning("circuit breakers: Redis unreachable (%s); failing open",
                        exc.__class__.__name__)

    def redis_reachable(self) -> None:
        if self._redis_down:
            self._redis_down = False
            log.warning("circuit breakers: Redis reachable again")

    @property
    def degraded(self) -> bool:
        """True while the last Redis access failed (breakers are failing open)."""
        return self._redis_down


def declare_breaker(target, name: str, **overrides) -> Breaker:
    """Declare (or get) breaker ``name`` on the app's :class:`BreakerRegistry` (found from a
    config, request, registry or job context) with the ``interviewminds.breakers.*`` defaults."""
    from core.lookup import BREAKERS, find_service, registry_of

    registry = registry_of(target)
    settings = registry.settings
    options = {
        "fail_max": settings["interviewminds.breakers.fail_max"],
        "reset_timeout": settings["interviewminds.breakers.reset_timeout"],
        "call_timeout": settings["interviewminds.breakers.call_timeout"],
    }
    options.update(overrides)
    return find_service(registry, BREAKERS).declare(name, **options)


def circuit_open_view(exc: CircuitOpenError, request):
    from core.http.errors import error_response

    return error_response(request, 503, f"{exc.name} is temporarily unavailable, retry later",
                          headers={"Retry-After": exc.retry_after_header})


def includeme(config):
    """Register the app's BreakerRegistry (``core.breakers``), its /health section and 503 view."""
    from core.lookup import BREAKERS, HEALTH, METRICS, REDIS, find_service, provide

    registry = config.registry
    breakers = BreakerRegistry(find_service(registry, REDIS), metrics=find_service(registry, METRICS).registry)
    provide(config, BREAKERS, breakers)
    find_service(registry, HEALTH).extras["circuitBreakers"] = breakers.states
    config.add_view(circuit_open_view, context=CircuitOpenError)
