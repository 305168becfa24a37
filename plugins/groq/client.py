"""The Groq client behind core's LLM interface (:mod:`core.llm`): timeout, retries, circuit breaker, JSON mode and metrics in one place.

Callers build one ``LLMClient`` per app and call ``chat`` or ``chat_json``. Every failure is an
``LLMUnavailable(reason)``; the caller then takes its heuristic path and says so
(``source: "heuristic"``). Without an API key no client is built and nothing is ever sent.

The SDK is built with ``max_retries=0`` and ``_send_with_retries`` retries itself (429 after
``retry-after`` plus jitter, or at once ``rate_limited`` when it asks for more than
``max_retry_wait``; 5xx, malformed bodies and connection errors with full-jitter backoff;
timeouts never). The retry loop runs inside ``breaker.call``, and only availability failures
count toward the breaker. The reasons for this policy, the JSON-mode re-ask and the
``interviewminds_llm_*`` metrics are described in docs/groq.md.
"""
from __future__ import annotations

import email.utils
import json
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import groq
import httpx
import pybreaker
from prometheus_client import CollectorRegistry, Counter, Histogram

from core.llm import LLMReply, LLMUnavailable, Validator

DEFAULT_MODEL = "llama-3.3-70b-versatile"

# Failures that say Groq is unavailable and so count toward the breaker.
SOURCE = "groq"  # what answers from this provider say in `source`
_BREAKER_REASONS = frozenset({"rate_limited", "server_error", "timeout", "connection"})
_BACKOFF_BASE = 0.5  # seconds; first backoff is at most this, then doubles


class _CallFailed(Exception):
    """Raised inside the breaker for failures that count toward it."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class _Rejected:
    """Returned (not raised) from inside the breaker: a failure that must not count toward it."""

    reason: str
    detail: str


@dataclass(frozen=True)
class LLMConfig:
    """Client settings. ``api_key`` None or empty disables the client; ``base_url`` None means
    the SDK's default (Groq's API), used only when a key is set."""

    api_key: str | None = None
    base_url: str | None = None
    model: str = DEFAULT_MODEL
    timeout: float = 20.0
    max_retries: int = 2
    max_retry_wait: float = 10.0

    def __post_init__(self) -> None:
        if not self.model:
            raise ValueError("LLMConfig.model must be a non-empty model name")
        if not self.timeout > 0:
            raise ValueError(f"LLMConfig.timeout must be > 0 seconds, got {self.timeout!r}")
        if not isinstance(self.max_retries, int) or self.max_retries < 0:
            raise ValueError(f"LLMConfig.max_retries must be an int >= 0, got {self.max_retries!r}")
        if not self.max_retry_wait >= 0:
            raise ValueError(f"LLMConfig.max_retry_wait must be >= 0 seconds, got {self.max_retry_wait!r}")

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], prefix: str = "interviewminds.groq.") -> "LLMConfig":
        """Build from parsed app settings (``interviewminds.groq.api_key``, ``.base_url``,
        ``.model``, ``.timeout``, ``.max_retries``, ``.max_retry_wait``); absent keys keep defaults."""
        values: dict[str, Any] = {}
        for name in ("api_key", "base_url", "model", "timeout", "max_retries", "max_retry_wait"):
            value = settings.get(prefix + name)
            if value is not None and value != "":
                values[name] = value
        return cls(**values)


class LLMMetrics:
    """Prometheus metrics of the LLM client, registered on ``registry`` (pass the app's own)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        if registry is None:
            raise ValueError("LLMMetrics needs a CollectorRegistry; pass metrics=None to LLMClient for no metrics")
        self.calls = Counter(
            "interviewminds_llm_calls_total", "LLM calls by outcome.", ["model", "outcome"], registry=registry
        )
        self.failures = Counter(
            "interviewminds_llm_failures_total", "Failed LLM calls by reason.", ["model", "reason"], registry=registry
        )
        self.tokens = Counter(
            "interviewminds_llm_tokens_total", "LLM tokens by kind (prompt, completion).", ["model", "kind"],
            registry=registry,
        )
        self.latency = Histogram(
            "interviewminds_llm_latency_seconds", "Duration of LLM calls that reached the network.", ["model"],
            buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60), registry=registry,
        )


class LLMClient:
    """Chat completions against Groq with timeout, retries, breaker and metrics (see module doc)."""

    def __init__(self, config: LLMConfig, breaker: Any = None, metrics: LLMMetrics | None = None) -> None:
        self.config = config
        self.breaker = breaker
        self.metrics = metrics
        self._random = random.Random()
        self._client: groq.Groq | None = None
        if config.api_key:
            self._client = groq.Groq(
                api_key=config.api_key,
                base_url=config.base_url or None,
                timeout=httpx.Timeout(config.timeout, connect=min(5.0, config.timeout)),
                max_retries=0,  # we retry ourselves, see the module docstring
            )

    @property
    def available(self) -> bool:
        """Whether a key is configured (the breaker may still refuse calls)."""
        return self._client is not None

    # -- public calls -------------------------------------------------------------------------
    def chat(self, messages: Sequence[Mapping[str, str]], *, temperature: float = 0.3, max_tokens: int = 512) -> LLMReply:
        """Send ``messages`` ([{role, content}]) and return the assistant's text.

        Raises ``LLMUnavailable`` (any reason in ``REASONS``); an empty reply is ``invalid_output``.
        """
        msgs = _check_messages(messages)
        return self._accounted(lambda usage: self._chat_once(msgs, temperature, max_tokens, usage))

    def chat_json(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        validate: Validator,
        temperature: float = 0.0,
        max_tokens: int = 512,
    ) -> LLMReply:
        """JSON mode: ask for one JSON object, parse it and pass it to ``validate``.

        ``validate(data)`` returns the (possibly cleaned) dict when valid, and returns None or
        raises ``ValueError`` when not. An invalid reply (not JSON, not an object, rejected by
        ``validate``, or Groq's own ``json_validate_failed``) is re-asked ONCE with a short note of
        what was wrong; a second invalid reply raises ``LLMUnavailable("invalid_output")``.
        The prompt must mention JSON (Groq and OpenAI require it in JSON mode).
        """
        msgs = _check_messages(messages)
        return self._accounted(lambda usage: self._chat_json(msgs, validate, temperature, max_tokens, usage))

    # -- internals --------------------------------------------------------------------------------
    def _accounted(self, call: Callable[[dict], LLMReply]) -> LLMReply:
        """Run a logical call, recording outcome, failure reason and latency."""
        model = self.config.model
        usage = {"prompt": 0, "completion": 0, "requests": 0}
        started = time.perf_counter()
        try:
            if self._client is None:
                raise LLMUnavailable("not_configured", "no Groq API key configured")
            reply = call(usage)
        except LLMUnavailable as err:
            if self.metrics:
                self.metrics.calls.labels(model, "failure").inc()
                self.metrics.failures.labels(model, err.reason).inc()
                if usage["requests"]:
                    self.metrics.latency.labels(model).observe(time.perf_counter() - started)
            raise
        elapsed = time.perf_counter() - started
        if self.metrics:
            self.metrics.calls.labels(model, "success").inc()
            self.metrics.latency.labels(model).observe(elapsed)
        return LLMReply(
            text=reply.text,
            tokens_prompt=usage["prompt"],
            tokens_completion=usage["completion"],
            latency_ms=round(elapsed * 1000, 1),
            model=reply.model,
            source=SOURCE,
            data=reply.data,
        )

    def _chat_once(self, msgs: list[dict], temperature: float, max_tokens: int, usage: dict) -> LLMReply:
        completion = self._complete(msgs, temperature, max_tokens, json_mode=False, usage=usage)
        if isinstance(completion, _Rejected):
            raise LLMUnavailable(completion.reason, completion.detail)
        text = _content_of(completion)
        if not text.strip():
            raise LLMUnavailable("invalid_output", "empty reply")
        return LLMReply(text, 0, 0, 0.0, completion.model or self.config.model)

    def _chat_json(
        self, msgs: list[dict], validate: Validator, temperature: float, max_tokens: int, usage: dict
    ) -> LLMReply:
        problem = ""
        for attempt in range(2):
            ask = msgs if attempt == 0 else msgs + [_correction(problem)]
            completion = self._complete(ask, temperature, max_tokens, json_mode=True, usage=usage)
            if isinstance(completion, _Rejected):
                if completion.reason != "invalid_output":
                    raise LLMUnavailable(completion.reason, completion.detail)
                problem = completion.detail
                continue
            text = _content_of(completion)
            data, problem = _parse_and_validate(text, validate)
            if data is not None:
                return LLMReply(text, 0, 0, 0.0, completion.model or self.config.model, data=data)
        raise LLMUnavailable("invalid_output", f"invalid JSON twice; last problem: {problem}")

    def _complete(
        self, msgs: list[dict], temperature: float, max_tokens: int, *, json_mode: bool, usage: dict
    ) -> Any:
        """One completion through the breaker; returns the SDK's ChatCompletion or a ``_Rejected``."""
        kwargs: dict[str, Any] = {
            "model": self.config.model,
            "messages": msgs,
            "temperature": temperature,
            "max_tokens": max_tokens,
        }
        if json_mode:
            kwargs["response_format"] = {"type": "json_object"}
        try:
            if self.breaker is None:
                completion = self._send_with_retries(kwargs, usage)
            else:
                completion = self.breaker.call(self._send_with_retries, kwargs, usage)
        except _CallFailed as err:
            raise LLMUnavailable(err.reason, err.detail) from err
        except pybreaker.CircuitBreakerError as err:
            # pybreaker raises CircuitBreakerError on the very call that trips it, chained to
            # the real failure: report that reason, the request did reach Groq.
            cause = _find_cause(err)
            if cause is not None:
                raise LLMUnavailable(cause.reason, cause.detail) from err
            raise LLMUnavailable("breaker_open", str(err) or "groq circuit breaker is open") from err
        if not isinstance(completion, _Rejected):
            self._count_tokens(completion, usage)
        return completion

    def _count_tokens(self, completion: Any, usage: dict) -> None:
        prompt = getattr(completion.usage, "prompt_tokens", 0) or 0
        done = getattr(completion.usage, "completion_tokens", 0) or 0
        usage["prompt"] += prompt
        usage["completion"] += done
        if self.metrics:
            self.metrics.tokens.labels(self.config.model, "prompt").inc(prompt)
            self.metrics.tokens.labels(self.config.model, "completion").inc(done)

    def _send_with_retries(self, kwargs: dict, usage: dict) -> Any:
        """The HTTP call with our retry loop; raises ``_CallFailed`` (counts toward the breaker)
        or returns ``_Rejected`` (does not)."""
        assert self._client is not None
        attempt = 0
        while True:
            wait: float | None
            usage["requests"] += 1
            try:
                return self._client.chat.completions.create(**kwargs)
            except groq.APITimeoutError as err:
                raise _CallFailed("timeout", f"no answer within {self.config.timeout:g}s") from err
            except groq.APIConnectionError as err:
                reason, detail, wait = "connection", str(err), self._backoff(attempt)
            except groq.RateLimitError as err:
                reason, detail = "rate_limited", "429 Too Many Requests"
                asked = _retry_after_seconds(err.response.headers)
                if asked is not None and asked > self.config.max_retry_wait:
                    raise _CallFailed(
                        reason, f"retry-after {asked:g}s exceeds max_retry_wait {self.config.max_retry_wait:g}s"
                    ) from err
                wait = self._backoff(attempt) if asked is None else asked * (1 + 0.1 * self._random.random())
            except groq.APIStatusError as err:
                if err.status_code >= 500:
                    reason, detail, wait = "server_error", f"HTTP {err.status_code}", self._backoff(attempt)
                elif _error_code(err.body) == "json_validate_failed":
                    return _Rejected("invalid_output", "Groq json_validate_failed: the model's output was not JSON")
                else:
                    return _Rejected("rejected", f"HTTP {err.status_code}: {_error_message(err.body)}")
            except (groq.APIResponseValidationError, json.JSONDecodeError) as err:
                reason, detail, wait = "server_error", f"malformed response body: {err}", self._backoff(attempt)
            if attempt >= self.config.max_retries:
                raise _CallFailed(reason, f"{detail} (after {attempt + 1} attempts)")
            attempt += 1
            time.sleep(min(wait, self.config.max_retry_wait))

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter (AWS architecture blog's 'full jitter')."""
        return self._random.uniform(0, min(self.config.max_retry_wait, _BACKOFF_BASE * 2**attempt))


# -- helpers ----------------------------------------------------------------------------------------
def _check_messages(messages: Sequence[Mapping[str, str]]) -> list[dict]:
    if not messages:
        raise ValueError("messages must be a non-empty list of {role, content}")
    out = []
    for i, message in enumerate(messages):
        role, content = message.get("role"), message.get("content")
        if role not in ("system", "user", "assistant") or not isinstance(content, str):
            raise ValueError(f"messages[{i}] must have role system|user|assistant and string content")
        out.append({"role": role, "content": content})
    return out


def _content_of(completion: Any) -> str:
    if not completion.choices:
        return ""
    return completion.choices[0].message.content or ""


def _parse_and_validate(text: str, validate: Validator) -> tuple[dict | None, str]:
    """Return (data, "") when valid, else (None, what was wrong)."""
    try:
        parsed = json.loads(text)
    except ValueError as err:
        return None, f"reply is not JSON ({err.msg})"
    if not isinstance(parsed, dict):
        return None, "reply is JSON but not an object"
    try:
        data = validate(parsed)
    except ValueError as err:
        return None, str(err) or "validation failed"
    if data is None:
        return None, "reply does not match the expected fields"
    if not isinstance(data, dict):
        raise TypeError("chat_json validate() must return a dict or None")
    return data, ""


def _correction(problem: str) -> dict:
    return {
        "role": "user",
        "content": f"Your previous reply was invalid: {problem[:200]}. Reply with one JSON object only, "
        "with exactly the fields asked for.",
    }


def _retry_after_seconds(headers: httpx.Headers) -> float | None:
    """Seconds asked by ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        parsed = email.utils.parsedate_tz(raw)
        if parsed is None:
            return None
        return max(0.0, email.utils.mktime_tz(parsed) - time.time())


def _error_code(body: object) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"].get("code")
    return None


def _error_message(body: object) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message", ""))[:200]
    return str(body)[:200]


def _find_cause(err: BaseException) -> _CallFailed | None:
    seen = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        if isinstance(current, _CallFailed):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
