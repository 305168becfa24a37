"""The groq plugin's client against the fake Groq server on 127.0.0.1 (the real chat-completions wire format)."""
from __future__ import annotations

import socket
import time

import pybreaker
import pytest
from prometheus_client import CollectorRegistry

from core.breakers import BreakerRegistry
from core.llm import LLMUnavailable, marshmallow_validator
from plugins.groq.client import LLMClient, LLMConfig, LLMMetrics
from tests.support.fake_groq import (
    Delay,
    FakeGroqServer,
    JSONReply,
    JSONValidateFailed,
    MalformedBody,
    RateLimited,
    Reply,
    ServerError,
)

KEY = "test-key"
HELLO = [{"role": "system", "content": "You are an interviewer."}, {"role": "user", "content": "Hello"}]
JSON_ASK = [{"role": "user", "content": "Answer in JSON with a field score (0-10)."}]


@pytest.fixture
def server():
    with FakeGroqServer(api_key=KEY) as fake:
        yield fake


def make_client(server, *, breaker=None, metrics=None, **config) -> LLMClient:
    settings = {"timeout": 2.0, "max_retries": 2, "max_retry_wait": 0.2, **config}
    return LLMClient(LLMConfig(api_key=KEY, base_url=server.base_url, **settings), breaker=breaker, metrics=metrics)


def score_validator(data: dict) -> dict | None:
    score = data.get("score")
    if isinstance(score, int) and 0 <= score <= 10:
        return {"score": score}
    return None


def test_chat_returns_text_tokens_latency_and_sends_the_wire_format(server):
    server.script(Reply("Tell me about a project you are proud of.", prompt_tokens=31, completion_tokens=9))
    reply = make_client(server).chat(HELLO, temperature=0.2, max_tokens=100)

    assert reply.text == "Tell me about a project you are proud of."
    assert (reply.tokens_prompt, reply.tokens_completion) == (31, 9)
    assert reply.latency_ms > 0
    assert reply.source == "groq" and reply.model == "llama-3.3-70b-versatile"
    [request] = server.requests
    assert request.path == "/openai/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.body["model"] == "llama-3.3-70b-versatile"
    assert request.messages == HELLO
    assert request.body["temperature"] == 0.2 and request.body["max_tokens"] == 100
    assert not request.json_mode


def test_429_with_retry_after_is_honoured_then_succeeds(server):
    server.script(RateLimited(retry_after=1), Reply("ok"))
    started = time.monotonic()
    reply = make_client(server, max_retry_wait=3).chat(HELLO)
    elapsed = time.monotonic() - started

    assert reply.text == "ok"
    assert elapsed >= 1.0
    first, second = server.requests
    assert second.received_at - first.received_at >= 1.0


def test_retry_after_ms_is_preferred_over_seconds(server):
    server.script(RateLimited(retry_after=5, retry_after_ms=300), Reply("ok"))
    started = time.monotonic()
    assert make_client(server, max_retry_wait=1).chat(HELLO).text == "ok"
    assert 0.3 <= time.monotonic() - started < 2


def test_retry_after_beyond_the_cap_gives_up_without_waiting(server):
    server.script(RateLimited(retry_after=30), Reply("never sent"))
    started = time.monotonic()
    with pytest.raises(LLMUnavailable) as caught:
        make_client(server, max_retry_wait=2).chat(HELLO)
    assert caught.value.reason == "rate_limited"
    assert time.monotonic() - started < 2
    assert len(server.requests) == 1


def test_500_then_success_is_retried(server):
    server.script(ServerError(500), Reply("recovered"))
    assert make_client(server).chat(HELLO).text == "recovered"
    assert len(server.requests) == 2


def test_persistent_5xx_gives_server_error_after_max_retries(server):
    server.default = ServerError(503)
    with pytest.raises(LLMUnavailable) as caught:
        make_client(server, max_retries=2).chat(HELLO)
    assert caught.value.reason == "server_error"
    assert len(server.requests) == 3  # the first try and two retries


def test_malformed_body_is_a_server_error(server):
    server.default = MalformedBody()
    with pytest.raises(LLMUnavailable) as caught:
        make_client(server, max_retries=1).chat(HELLO)
    assert caught.value.reason == "server_error"
    assert len(server.requests) == 2


def test_timeout_is_reported_and_not_retried(server):
    server.script(Delay(3, then=Reply("too late")))
    started = time.monotonic()
    with pytest.raises(LLMUnavailable) as caught:
        make_client(server, timeout=0.4).chat(HELLO)
    assert caught.value.reason == "timeout"
    assert time.monotonic() - started < 1.5
    assert len(server.requests) == 1


def test_connection_refused_is_a_connection_failure():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = LLMClient(LLMConfig(api_key=KEY, base_url=f"http://127.0.0.1:{port}", max_retries=1, max_retry_wait=0.1))
    with pytest.raises(LLMUnavailable) as caught:
        client.chat(HELLO)
    assert caught.value.reason == "connection"


def test_wrong_key_is_rejected(server):
    client = LLMClient(LLMConfig(api_key="wrong-key", base_url=server.base_url))
    with pytest.raises(LLMUnavailable) as caught:
        client.chat(HELLO)
    assert caught.value.reason == "rejected"
    assert len(server.requests) == 1


def test_empty_reply_is_invalid_output(server):
    server.script(Reply("   "))
    with pytest.raises(LLMUnavailable) as caught:
        make_client(server).chat(HELLO)
    assert caught.value.reason == "invalid_output"


def test_chat_json_returns_validated_data_in_json_mode(server):
    server.script(JSONReply({"score": 7, "extra": "dropped by the validator"}))
    reply = make_client(server).chat_json(JSON_ASK, validate=score_validator)
    assert reply.data == {"score": 7}
    [request] = server.requests
    assert request.json_mode


def test_chat_json_invalid_twice_gives_invalid_output_after_exactly_two_requests(server):
    server.script(Reply("Sure! The score is 7."), Reply("{score: 7"))
    with pytest.raises(LLMUnavailable) as caught:
        make_client(server).chat_json(JSON_ASK, validate=score_validator)
    assert caught.value.reason == "invalid_output"
    assert len(server.requests) == 2
    assert all(r.json_mode for r in server.requests)


def test_chat_json_invalid_once_then_valid_succeeds_and_reasks_with_the_problem(server):
    server.script(Reply("not json at all", prompt_tokens=10, completion_tokens=4), JSONReply({"score": 9}, prompt_tokens=20, completion_tokens=5))
    reply = make_client(server).chat_json(JSON_ASK, validate=score_validator)
    assert reply.data == {"score": 9}
    assert (reply.tokens_prompt, reply.tokens_completion) == (30, 9)  # both calls were paid for
    first, second = server.requests
    assert first.messages == JSON_ASK
    assert second.messages[: len(JSON_ASK)] == JSON_ASK
    assert "not JSON" in second.messages[-1]["content"]


def test_chat_json_schema_mismatch_is_reasked(server):
    server.script(JSONReply({"score": 42}), JSONReply({"score": 4}))
    assert make_client(server).chat_json(JSON_ASK, validate=score_validator).data == {"score": 4}
    assert len(server.requests) == 2


def test_chat_json_accepts_groqs_json_validate_failed_once(server):
    server.script(JSONValidateFailed(), JSONReply({"score": 3}))
    assert make_client(server).chat_json(JSON_ASK, validate=score_validator).data == {"score": 3}
    assert len(server.requests) == 2


def test_chat_json_with_a_marshmallow_schema(server):
    from marshmallow import Schema, fields, validate

    class ScoreSchema(Schema):
        score = fields.Integer(required=True, validate=validate.Range(0, 10))

    server.script(JSONReply({"score": "high"}), JSONReply({"score": 6}))
    reply = make_client(server).chat_json(JSON_ASK, validate=marshmallow_validator(ScoreSchema()))
    assert reply.data == {"score": 6}
    assert "score" in server.requests[1].messages[-1]["content"]


@pytest.fixture
def groq_breaker(redis_url):
    """The app's real breaker: shared state in Redis (core.breakers)."""
    import redis

    registry = BreakerRegistry(redis.Redis.from_url(redis_url), metrics=CollectorRegistry())
    return registry.declare("groq", fail_max=2, reset_timeout=60, call_timeout=2)


def test_breaker_opens_after_threshold_and_no_request_reaches_the_server(server, groq_breaker):
    client = make_client(server, breaker=groq_breaker, max_retries=1)
    server.default = ServerError(500)

    for _ in range(2):
        with pytest.raises(LLMUnavailable) as caught:
            client.chat(HELLO)
        assert caught.value.reason == "server_error"  # the tripping call reports the real cause
    assert len(server.requests) == 4  # each failed call (after its retry) counted once
    assert groq_breaker.state()["state"] == "open"

    server.default = Reply("would succeed")
    for call in (lambda: client.chat(HELLO), lambda: client.chat_json(JSON_ASK, validate=score_validator)):
        with pytest.raises(LLMUnavailable) as caught:
            call()
        assert caught.value.reason == "breaker_open"
    assert len(server.requests) == 4


def test_breaker_state_is_shared_between_clients(server, groq_breaker):
    server.default = ServerError(502)
    first = make_client(server, breaker=groq_breaker, max_retries=0)
    for _ in range(2):
        with pytest.raises(LLMUnavailable):
            first.chat(HELLO)
    second = make_client(server, breaker=groq_breaker)
    with pytest.raises(LLMUnavailable) as caught:
        second.chat(HELLO)
    assert caught.value.reason == "breaker_open"
    assert len(server.requests) == 2


def test_a_plain_pybreaker_that_raises_on_trip_works_too(server):
    breaker = pybreaker.CircuitBreaker(fail_max=1, reset_timeout=60)  # throws CircuitBreakerError on trip
    client = make_client(server, breaker=breaker, max_retries=0)
    server.default = ServerError(500)
    with pytest.raises(LLMUnavailable) as caught:
        client.chat(HELLO)
    assert caught.value.reason == "server_error"
    with pytest.raises(LLMUnavailable) as caught:
        client.chat(HELLO)
    assert caught.value.reason == "breaker_open"
    assert len(server.requests) == 1


def test_invalid_output_does_not_count_toward_the_breaker(server, groq_breaker):
    client = make_client(server, breaker=groq_breaker)
    server.script(Reply("nope"), Reply("still nope"))
    with pytest.raises(LLMUnavailable) as caught:
        client.chat_json(JSON_ASK, validate=score_validator)
    assert caught.value.reason == "invalid_output"
    with pytest.raises(LLMUnavailable) as caught:
        client.chat_json(JSON_ASK, validate=score_validator)  # two more invalid replies (the default)
    assert groq_breaker.state()["state"] == "closed"
    server.script(Reply("fine"))
    assert client.chat(HELLO).text == "fine"


def test_without_api_key_nothing_is_sent(server):
    client = LLMClient(LLMConfig(api_key=None, base_url=server.base_url))
    assert not client.available
    with pytest.raises(LLMUnavailable) as caught:
        client.chat(HELLO)
    assert caught.value.reason == "not_configured"
    assert LLMClient(LLMConfig(api_key="", base_url=server.base_url)).available is False
    assert server.requests == []


def test_default_config_has_no_key_and_no_url():
    config = LLMConfig()
    assert config.api_key is None and not config.base_url
    assert not LLMClient(config).available


def test_metrics_count_calls_tokens_latency_and_failures(server):
    registry = CollectorRegistry()
    client = make_client(server, metrics=LLMMetrics(registry), max_retries=0)
    model = "llama-3.3-70b-versatile"

    def value(name, **labels):
        return registry.get_sample_value(name, {"model": model, **labels}) or 0

    server.script(Reply("hi", prompt_tokens=12, completion_tokens=3), ServerError(500))
    client.chat(HELLO)
    with pytest.raises(LLMUnavailable):
        client.chat(HELLO)
    LLMClient(LLMConfig(), metrics=None)  # no metrics object: nothing registered, nothing raised

    assert value("interviewminds_llm_calls_total", outcome="success") == 1
    assert value("interviewminds_llm_calls_total", outcome="failure") == 1
    assert value("interviewminds_llm_failures_total", reason="server_error") == 1
    assert value("interviewminds_llm_tokens_total", kind="prompt") == 12
    assert value("interviewminds_llm_tokens_total", kind="completion") == 3
    assert value("interviewminds_llm_latency_seconds_count") == 2
    assert value("interviewminds_llm_latency_seconds_sum") > 0


def test_metrics_record_not_configured_without_latency():
    registry = CollectorRegistry()
    client = LLMClient(LLMConfig(), metrics=LLMMetrics(registry))
    with pytest.raises(LLMUnavailable):
        client.chat(HELLO)
    labels = {"model": "llama-3.3-70b-versatile"}
    assert registry.get_sample_value("interviewminds_llm_failures_total", {**labels, "reason": "not_configured"}) == 1
    assert (registry.get_sample_value("interviewminds_llm_latency_seconds_count", labels) or 0) == 0


@pytest.mark.parametrize(
    "kwargs, message",
    [({"timeout": 0}, "timeout"), ({"max_retries": -1}, "max_retries"), ({"model": ""}, "model"),
     ({"max_retry_wait": -1}, "max_retry_wait")],
)
def test_bad_config_is_refused_with_a_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LLMConfig(**kwargs)


def test_bad_messages_are_refused_before_sending(server):
    client = make_client(server)
    with pytest.raises(ValueError, match="messages"):
        client.chat([])
    with pytest.raises(ValueError, match="role"):
        client.chat([{"role": "tool", "content": "x"}])
    assert server.requests == []


def test_config_from_settings():
    config = LLMConfig.from_settings(
        {"interviewminds.groq.api_key": "k", "interviewminds.groq.base_url": "http://127.0.0.1:1",
         "interviewminds.groq.model": "m", "interviewminds.groq.timeout": 5.0}
    )
    assert (config.api_key, config.base_url, config.model, config.timeout) == ("k", "http://127.0.0.1:1", "m", 5.0)
    assert LLMConfig.from_settings({}).api_key is None
