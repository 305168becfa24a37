"""Circuit breakers shared through a real Redis: across registries, threads and processes."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime
from pathlib import Path

import pybreaker
import pytest
import redis
from prometheus_client import CollectorRegistry

from core.breakers import PROBE_RETRY_AFTER, BreakerRegistry, CircuitOpenError
from core.services import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]


class UpstreamDown(Exception):
    pass


def fail():
    raise UpstreamDown("boom")


def registry_on(url, **kwargs):
    """A BreakerRegistry on its own Redis connection and metrics: a stand-in for a process."""
    metrics = CollectorRegistry()
    registry = BreakerRegistry(redis.Redis.from_url(url), metrics=metrics, **kwargs)
    registry.metrics_registry = metrics  # for the assertions below
    return registry


def transitions(registry, name, old, new):
    value = registry.metrics_registry.get_sample_value(
        "interviewminds_breaker_transitions_total",
        {"breaker": name, "from_state": old, "to_state": new})
    return value or 0.0


def gauge(registry, name):
    return registry.metrics_registry.get_sample_value("interviewminds_breaker_state", {"breaker": name})


def trip(breaker, times):
    for _ in range(times):
        with pytest.raises(UpstreamDown):  # the real error reaches the caller, also on the trip
            breaker.call(fail)


def test_open_state_is_shared_between_registries(redis_url):
    one, two = registry_on(redis_url), registry_on(redis_url)
    a = one.declare("piston", fail_max=3, reset_timeout=30)
    b = two.declare("piston", fail_max=3, reset_timeout=30)
    trip(a, 3)

    calls = []
    with pytest.raises(CircuitOpenError) as info:
        b.call(calls.append, "x")
    assert calls == []
    assert info.value.name == "piston" and 29 < info.value.retry_after <= 30
    assert info.value.retry_after_header == "30"
    assert isinstance(info.value, pybreaker.CircuitBreakerError)

    state = two.states()["piston"]
    assert state["state"] == "open" and state["failures"] == 3 and not state["degraded"]
    assert datetime.fromisoformat(state["openedAt"]).tzinfo is not None
    assert 29 < state["retryAfter"] <= 30
    assert transitions(one, "piston", "closed", "open") == 1
    assert transitions(two, "piston", "closed", "open") == 0  # counted once, where it happened
    assert gauge(one, "piston") == 2 and gauge(two, "piston") == 2


def test_success_resets_the_failure_count(redis_url):
    breaker = registry_on(redis_url).declare("groq", fail_max=3)
    trip(breaker, 2)
    assert breaker.call(lambda: "ok") == "ok"
    trip(breaker, 2)
    assert breaker.state()["state"] == "closed"
    assert breaker.state()["failures"] == 2


def test_excluded_errors_do_not_trip(redis_url):
    breaker = registry_on(redis_url).declare("ats", fail_max=1, exclude=[ValueError])

    def bad_input():
        raise ValueError("caller's fault")

    for _ in range(3):
        with pytest.raises(ValueError):
            breaker.call(bad_input)
    assert breaker.state()["state"] == "closed"


def test_half_open_admits_exactly_one_probe(redis_url):
    registries = [registry_on(redis_url), registry_on(redis_url)]
    breakers = [r.declare("groq", fail_max=1, reset_timeout=0.3) for r in registries]
    trip(breakers[0], 1)
    time.sleep(0.35)

    probes, refused, results = [], [], []
    start = threading.Barrier(16)

    def slow_success():
        # The probe stays in flight until every other caller has been turned away.
        probes.append(threading.get_ident())
        deadline = time.monotonic() + 5
        while len(refused) < 15 and time.monotonic() < deadline:
            time.sleep(0.01)
        return "recovered"

    def caller(breaker):
        start.wait()
        try:
            results.append(breaker.call(slow_success))
        except CircuitOpenError as exc:
            refused.append(exc.retry_after)

    threads = [threading.Thread(target=caller, args=(breakers[i % 2],)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(probes) == 1 and results == ["recovered"]
    assert refused == [PROBE_RETRY_AFTER] * 15
    assert breakers[1].state()["state"] == "closed"
    assert breakers[1].call(lambda: "normal") == "normal"

    total = lambda old, new: sum(transitions(r, "groq", old, new) for r in registries)  # noqa: E731
    assert total("closed", "open") == 1
    assert total("open", "half-open") == 1
    assert total("half-open", "closed") == 1


def test_failed_probe_reopens(redis_url):
    registry = registry_on(redis_url)
    breaker = registry.declare("piston", fail_max=2, reset_timeout=0.3)
    trip(breaker, 2)
    first_open = breaker.state()["openedAt"]
    time.sleep(0.35)

    with pytest.raises(UpstreamDown):
        breaker.call(fail)  # the probe
    state = breaker.state()
    assert state["state"] == "open" and state["openedAt"] > first_open
    with pytest.raises(CircuitOpenError) as info:
        breaker.call(lambda: "not called")
    assert 0.05 < info.value.retry_after <= 0.3  # a fresh open period began at the probe
    assert transitions(registry, "piston", "open", "half-open") == 1
    assert transitions(registry, "piston", "half-open", "open") == 1
    assert gauge(registry, "piston") == 2


def test_gauge_and_callbacks_follow_transitions(redis_url):
    seen = []

    def broken_observer(name, old, new):
        raise RuntimeError("observer bug")

    registry = registry_on(redis_url, on_change=[lambda *change: seen.append(change), broken_observer])
    breaker = registry.declare("clerk", fail_max=1, reset_timeout=0.2)
    assert gauge(registry, "clerk") == 0
    trip(breaker, 1)
    assert gauge(registry, "clerk") == 2
    time.sleep(0.25)

    def probe_sees_half_open():
        return gauge(registry, "clerk")

    assert breaker.call(probe_sees_half_open) == 1
    assert gauge(registry, "clerk") == 0
    assert seen == [("clerk", "closed", "open"), ("clerk", "open", "half-open"),
                    ("clerk", "half-open", "closed")]


def test_closed_breaker_does_not_serialise_calls(redis_url):
    breaker = registry_on(redis_url).declare("groq")
    threads = [threading.Thread(target=breaker.call, args=(time.sleep, 0.3)) for _ in range(4)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - began < 0.9  # 4 x 0.3 s would be 1.2 s if serialised


def test_declare_is_idempotent_and_conflicts_are_errors(redis_url):
    registry = registry_on(redis_url)
    breaker = registry.declare("groq", fail_max=5, reset_timeout=30, call_timeout=10)
    assert registry.declare("groq", fail_max=5, reset_timeout=30, call_timeout=10) is breaker
    assert registry.get("groq") is breaker and breaker.call_timeout == 10
    with pytest.raises(ValueError, match="already declared"):
        registry.declare("groq", fail_max=3)
    with pytest.raises(KeyError, match="no circuit breaker named 'nope'"):
        registry.get("nope")
    with pytest.raises(ValueError, match="fail_max"):
        registry.declare("other", fail_max=0)
    with pytest.raises(ValueError, match="name"):
        registry.declare("bad name")
    with pytest.raises(TypeError, match="CollectorRegistry"):
        BreakerRegistry(redis.Redis.from_url(redis_url), metrics=None)


def test_redis_unreachable_fails_open_and_logs_once(caplog):
    client = redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)
    registry = BreakerRegistry(client, metrics=CollectorRegistry())
    breaker = registry.declare("groq", fail_max=1)
    with caplog.at_level(logging.WARNING, logger="core.breakers"):
        for _ in range(5):
            with pytest.raises(UpstreamDown):  # passes through: never CircuitOpenError
                breaker.call(fail)
        assert breaker.call(lambda: "through") == "through"
    assert registry.degraded
    assert registry.states()["groq"] == {"state": "closed", "failures": 0, "openedAt": None,
                                         "retryAfter": None, "degraded": True}
    outage_logs = [r for r in caplog.records if "Redis unreachable" in r.getMessage()]
    assert len(outage_logs) == 1


def test_breaker_opened_in_another_process_is_open_here(redis_url):
    script = textwrap.dedent(f"""
        import redis
        from prometheus_client import CollectorRegistry
        from core.breakers import BreakerRegistry

        registry = BreakerRegistry(redis.Redis.from_url({redis_url!r}), metrics=CollectorRegistry())
        breaker = registry.declare("piston", fail_max=2, reset_timeout=60)
        def fail():
            raise OSError("connection refused")
        for _ in range(2):
            try:
                breaker.call(fail)
            except OSError:
                pass
        print(registry.states()["piston"]["state"])
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "open"

    registry = registry_on(redis_url)
    breaker = registry.declare("piston", fail_max=2, reset_timeout=60)
    with pytest.raises(CircuitOpenError) as info:
        breaker.call(lambda: "not called")
    assert 55 < info.value.retry_after <= 60
    assert gauge(registry, "piston") == 2
