"""/health tells the truth about upstreams without calling them on every probe (issue 17,
findings 10 and 14): an open breaker, or a failing upstream check, makes the service
``unreachable`` and the status ``degraded``; the upstream check's answer is cached."""
from __future__ import annotations

import pytest

from core.llm import LLMUnavailable
from core.lookup import LLM, find_service
from tests.support.receiver import Receiver, RecordedRequest

UNREACHABLE = "unreachable"


def fake_groq(chat_status: int = 500, root_status: int = 404):
    """A loopback "Groq": chat completions answer ``chat_status``; the API root (what the health
    check requests) answers ``root_status``, like the real one (404 without a path)."""
    def answer(request: RecordedRequest) -> int:
        return chat_status if request.method == "POST" else root_status

    return Receiver([answer])


def probes(receiver: Receiver) -> int:
    return sum(1 for r in receiver.requests if r.method == "GET")


def groq_app(make_app, receiver: Receiver, **overrides):
    settings = {"groq.api_key": "test-key", "groq.base_url": receiver.url(""), "groq.max_retries": "0",
                "breakers.fail_max": "2", "breakers.reset_timeout": "60"}
    settings.update(overrides)
    return make_app(plugins=["groq"], **settings)


def test_an_open_groq_breaker_makes_health_degraded_without_calling_groq(make_app):
    with fake_groq(chat_status=500) as receiver:
        app = groq_app(make_app, receiver)
        body = app.get("/health").json
        assert (body["status"], body["checks"]["groq.api"]) == ("ok", "connected")

        llm = find_service(app.registry, LLM)
        for _ in range(2):  # fail_max failures open the breaker
            with pytest.raises(LLMUnavailable):
                llm.chat([{"role": "user", "content": "hello"}])
        with pytest.raises(LLMUnavailable) as refused:
            llm.chat([{"role": "user", "content": "hello"}])
        assert refused.value.reason == "breaker_open"

        before = probes(receiver)
        body = app.get("/health").json
        assert body["circuitBreakers"]["groq"]["state"] == "open"
        assert body["checks"]["groq.api"] == UNREACHABLE
        assert body["status"] == "degraded"
        assert probes(receiver) == before  # the breaker already knows: Groq was not asked


def test_an_upstream_answering_5xx_is_unreachable(make_app):
    with fake_groq(root_status=503) as receiver:
        body = groq_app(make_app, receiver).get("/health").json
    assert body["checks"]["groq.api"] == UNREACHABLE and body["status"] == "degraded"


def test_health_probes_reuse_the_upstream_check_for_cache_seconds(make_app):
    with fake_groq() as receiver:
        app = groq_app(make_app, receiver, **{"health.cache_seconds": "30"})
        for _ in range(5):
            assert app.get("/health").json["checks"]["groq.api"] == "connected"
        assert probes(receiver) == 1
        uncached = groq_app(make_app, receiver, **{"health.cache_seconds": "0"})
        for _ in range(3):
            uncached.get("/health")
        assert probes(receiver) == 4


def test_cached_check_expires_and_caches_failures_too():
    from core.health import UpstreamCheck

    now = [100.0]
    calls = []

    def check():
        calls.append(now[0])
        if len(calls) == 2:
            raise ConnectionError("down")
        return "connected"

    cached = UpstreamCheck(check, cache_seconds=30, clock=lambda: now[0])
    assert cached() == "connected" and cached() == "connected" and len(calls) == 1
    now[0] += 30
    with pytest.raises(ConnectionError):
        cached()
    now[0] += 29
    with pytest.raises(ConnectionError):  # the failure is reused: a down upstream is not hammered
        cached()
    assert len(calls) == 2
    now[0] += 1
    assert cached() == "connected" and len(calls) == 3
