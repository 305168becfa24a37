"""Build the Groq client as the app's ``llm`` service, and its health check."""
from __future__ import annotations

from core.breakers import declare_breaker
from core.health import upstream_check
from core.lookup import LLM, METRICS, find_service, provide
from plugins.groq.client import LLMClient, LLMConfig, LLMMetrics

BREAKER = "groq"
DEFAULT_BASE_URL = "https://api.groq.com"


def register_client(config, settings) -> LLMClient:
    """One client per app, behind the ``groq`` breaker, with metrics on the app's registry."""
    registry = config.registry
    client = LLMClient(LLMConfig.from_settings(settings), breaker=declare_breaker(registry, BREAKER),
                       metrics=LLMMetrics(find_service(registry, METRICS).registry))
    provide(config, LLM, client)
    return client


def reachability_check(settings):
    """Groq is only contacted when the operator configured a key; else ``not_configured``.

    The answer is reused for ``interviewminds.health.cache_seconds`` (probes must not call Groq
    each time), and while the ``groq`` breaker is open /health says ``unreachable`` at once.
    """
    url = (settings["interviewminds.groq.base_url"] or DEFAULT_BASE_URL) if settings["interviewminds.groq.api_key"] else ""
    return upstream_check(url, settings["interviewminds.health.timeout"] / 2, breaker=BREAKER,
                          cache_seconds=settings["interviewminds.health.cache_seconds"])
