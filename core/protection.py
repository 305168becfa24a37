"""Protection wired into every app: circuit breakers, the LLM client, the outbound policy and
the rate-limit tween.

- ``registry.im_breakers``: the app's :class:`core.breakers.BreakerRegistry` (state in Redis).
  ``declare_breaker(registry, name)`` declares one with the ``interviewminds.breakers.*``
  defaults; an open breaker raised out of a view answers 503 with ``Retry-After``.
- ``registry.im_llm``: the :class:`core.llm.LLMClient` behind the ``groq`` breaker.
- ``registry.im_outbound``: the :class:`core.outbound.OutboundPolicy` every user-supplied URL
  goes through (``interviewminds.outbound.*``).
- ``registry.im_ratelimiter``: tiers from ``config/rate-limits.toml``; the tween keys them by
  user id when authenticated, else by client ip.
"""
from __future__ import annotations

import ipaddress
from pathlib import Path

from pyramid.tweens import EXCVIEW

from core.breakers import BreakerRegistry, CircuitOpenError
from core.http.errors import error_response
from core.llm import LLMClient, LLMConfig, LLMMetrics
from core.outbound import OutboundPolicy
from core.ratelimit import CostTooHigh, RateLimiter, load_rate_limit_config

CONFIG_DIR = Path(__file__).resolve().parents[1] / "config"
GRAPHQL_COST_BYTES = 1024  # one extra unit of the graphql tier per KiB of query document


def declare_breaker(registry, name: str, **overrides):
    """Declare (or get) breaker ``name`` with the app's default thresholds, unless overridden."""
    settings = registry.settings
    options = {
        "fail_max": settings["interviewminds.breakers.fail_max"],
        "reset_timeout": settings["interviewminds.breakers.reset_timeout"],
        "call_timeout": settings["interviewminds.breakers.call_timeout"],
    }
    options.update(overrides)
    return registry.im_breakers.declare(name, **options)


def circuit_open_view(exc: CircuitOpenError, request):
    return error_response(request, 503, f"{exc.name} is temporarily unavailable, retry later",
                          headers={"Retry-After": exc.retry_after_header})


def client_ip(request, trusted: list) -> str:
    """The client address; X-Forwarded-For is believed only from a trusted proxy peer."""
    peer = request.remote_addr or "unknown"
    forwarded = request.headers.get("X-Forwarded-For")
    if not forwarded or not trusted or not _in_networks(peer, trusted):
        return peer
    # Walk from the right: the first address not itself a trusted proxy is the client.
    for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
        if not _in_networks(hop, trusted):
            return hop
    return peer


def _in_networks(address: str, networks: list) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def rate_limit_tween_factory(handler, registry):
    limiter: RateLimiter = registry.im_ratelimiter
    settings = registry.settings
    enabled = settings["interviewminds.ratelimit.enabled"]
    trusted = [ipaddress.ip_network(c, strict=False) for c in settings["interviewminds.http.trusted_proxies"]]

    def rate_limit_tween(request):
        if not enabled or request.method == "OPTIONS" or request.path in ("/health", "/ping", "/metrics"):
            return handler(request)
        identity = request.identity
        key = f"user:{identity.user_id}" if identity else f"ip:{client_ip(request, trusted)}"
        cost = 1
        if request.path.rstrip("/") == "/graphql":
            cost = 1 + len(request.body or b"") // GRAPHQL_COST_BYTES
        try:
            decision = limiter.hit_path(request.path, key, cost)
        except CostTooHigh as exc:
            return error_response(request, 413, str(exc))
        if not decision.allowed:
            message = ("rate limiter unavailable, retry shortly" if decision.degraded
                       else f"rate limit exceeded for the {decision.tier} tier")
            return error_response(request, 503 if decision.degraded else 429, message, headers=decision.headers())
        response = handler(request)
        response.headers.update(decision.headers())
        return response

    return rate_limit_tween


def includeme(config):
    registry = config.registry
    settings = registry.settings
    registry.im_breakers = BreakerRegistry(registry.im_redis, metrics=registry.im_metrics.registry)
    registry.im_health_extras["circuitBreakers"] = registry.im_breakers.states

    groq = declare_breaker(registry, "groq")
    llm_config = LLMConfig.from_settings(settings)
    registry.im_llm = LLMClient(llm_config, breaker=groq, metrics=LLMMetrics(registry.im_metrics.registry))

    registry.im_outbound = OutboundPolicy(
        allow_cidrs=settings["interviewminds.outbound.allow_cidrs"],
        allowed_ports=[int(p) for p in settings["interviewminds.outbound.allowed_ports"]],
    )

    tiers = load_rate_limit_config(settings["interviewminds.ratelimit.tiers_file"] or CONFIG_DIR / "rate-limits.toml")
    registry.im_ratelimiter = RateLimiter.from_config(
        settings["interviewminds.redis.url"], tiers, fail_mode=settings["interviewminds.ratelimit.fail_mode"])
    registry.im_health_extras["rateLimiter"] = lambda: {
        "status": registry.im_ratelimiter.status(), "failMode": settings["interviewminds.ratelimit.fail_mode"]}

    config.add_view(circuit_open_view, context=CircuitOpenError)
    config.add_tween("core.protection.rate_limit_tween_factory", under=EXCVIEW)
