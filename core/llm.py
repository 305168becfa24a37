"""The LLM interface. Providers are plugins; features use it through the service
``llm`` and fall back to their heuristic path when it is absent or fails.

A provider registers an object with ``available``, ``chat(messages, ...)`` and
``chat_json(messages, validate=...)`` (see :class:`LLM`) under the service name ``llm``.
Every failure is an ``LLMUnavailable(reason)``; the caller then takes its heuristic path and
says so (``source: "heuristic"``, ``fallbackReason``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol, Sequence

from core.lookup import LLM as LLM_SERVICE
from core.lookup import find_service

REASONS = frozenset(
    {
        "not_configured",  # no API key: nothing is sent
        "breaker_open",  # the provider's breaker is open: nothing is sent
        "rate_limited",  # 429 after retries, or retry-after beyond max_retry_wait
        "server_error",  # 5xx or a malformed body after retries
        "timeout",  # no answer within the timeout
        "invalid_output",  # the model's reply is empty, not JSON, or fails validation
        "connection",  # connection refused / reset, after retries
        "rejected",  # another 4xx (bad key, bad request): a configuration or request problem
    }
)
class LLMUnavailable(Exception):
    """The LLM could not answer; ``reason`` is one of ``REASONS``. Callers fall back to heuristics."""

    def __init__(self, reason: str, detail: str = "") -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown LLMUnavailable reason {reason!r}")
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class LLMReply:
    """One answer. ``tokens_*`` and ``latency_ms`` cover the whole logical call (retries and a
    JSON re-ask included); ``data`` is the validated object for ``chat_json``."""

    text: str
    tokens_prompt: int
    tokens_completion: int
    latency_ms: float
    model: str
    source: str = "llm"  # the provider plugin's name; features report it as `source`
    data: dict | None = field(default=None)


Validator = Callable[[dict], "dict | None"]


def marshmallow_validator(schema: Any) -> Validator:
    """Adapt a marshmallow ``Schema`` instance to ``chat_json``'s ``validate`` contract."""
    from marshmallow import ValidationError

    def validate(data: dict) -> dict:
        try:
            return schema.load(data)
        except ValidationError as err:
            raise ValueError(f"schema validation failed: {err.messages}") from err

    return validate


class LLM(Protocol):
    """What a provider registers as the service ``llm``."""

    @property
    def available(self) -> bool:
        """Whether calls can be made at all (configured); a breaker may still refuse them."""

    def chat(self, messages: Sequence[Mapping[str, str]], *, temperature: float = 0.3,
             max_tokens: int = 512) -> LLMReply:
        """The assistant's text for ``messages``; raises LLMUnavailable."""

    def chat_json(self, messages: Sequence[Mapping[str, str]], *, validate: Validator,
                  temperature: float = 0.0, max_tokens: int = 512) -> LLMReply:
        """One JSON object checked by ``validate`` (``reply.data``); raises LLMUnavailable."""


def find_llm(target) -> LLM | None:
    """The configured LLM provider of the app (from a request, registry or job context), or
    None when no provider plugin is enabled or it has no credentials."""
    llm = find_service(target, LLM_SERVICE, optional=True)
    return llm if llm is not None and llm.available else None
