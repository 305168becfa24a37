"""The rate-limit tween and its wiring.

Tiers and path prefixes come from ``interviewminds_rate_limits`` (checked against the routes
each plugin mounted); the operator's limit overrides come from ``config/rate-limits.toml`` (or
``interviewminds.ratelimit.tiers_file``) and then ``interviewminds.ratelimit.limits``. The tween
keys a caller by user id when authenticated, else by client ip.

A request costs 1 unit of every tier of its path, except ``/graphql``: there the ``graphql`` tier
is charged what the parsed operation may return (``core.graphql_cost``: objects per unit, at least
1 per root field and per mutation), in the same single hit, before the view executes anything.
"""
from __future__ import annotations

import ipaddress

from pyramid.tweens import EXCVIEW

from core.config_files import config_path
from core.http.errors import error_response
from core.lookup import GRAPHQL_COST, HEALTH, PLUGINS, RATELIMITER, find_service, provide
from core.ratelimit import (CostTooHigh, RateLimitConfigError, RateLimiter, apply_limit_overrides,
                            load_limit_overrides, merge_rate_limits, parse_limit_setting)

UNLIMITED_PATHS = ("/health", "/ping", "/metrics")


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
    limiter: RateLimiter = find_service(registry, RATELIMITER)
    settings = registry.settings
    enabled = settings["interviewminds.ratelimit.enabled"]
    trusted = [ipaddress.ip_network(c, strict=False) for c in settings["interviewminds.http.trusted_proxies"]]
    graphql_cost = find_service(registry, GRAPHQL_COST, optional=True)  # core.graphql's RequestCost

    def rate_limit_tween(request):
        if not enabled or request.method == "OPTIONS" or request.path in UNLIMITED_PATHS:
            return handler(request)
        identity = request.identity
        key = f"user:{identity.user_id}" if identity else f"ip:{client_ip(request, trusted)}"
        cost = 1
        if graphql_cost is not None and request.path.rstrip("/") == "/graphql":
            cost = graphql_cost(request)
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


def build_limiter(settings, plugins) -> RateLimiter:
    """Merge the plugins' tiers, apply the operator's overrides, and build the limiter."""
    from core.plugins import PluginError

    try:
        merged = merge_rate_limits(plugins.call("interviewminds_rate_limits", settings=settings), plugins.routes)
        for prefix, owner in merged.owners.items():
            if owner in plugins.infos:
                plugins.infos[owner].rate_limit_paths.append(prefix)
        tiers_file = config_path(settings["interviewminds.ratelimit.tiers_file"], "rate-limits.toml")
        merged = apply_limit_overrides(merged, load_limit_overrides(tiers_file), str(tiers_file))
        merged = apply_limit_overrides(
            merged, parse_limit_setting(settings["interviewminds.ratelimit.limits"], "interviewminds.ratelimit.limits"),
            "interviewminds.ratelimit.limits")
        return RateLimiter.from_config(settings["interviewminds.redis.url"], merged,
                                       fail_mode=settings["interviewminds.ratelimit.fail_mode"])
    except RateLimitConfigError as exc:
        raise PluginError(str(exc)) from None


def includeme(config):
    registry = config.registry
    settings = registry.settings
    limiter = build_limiter(settings, find_service(registry, PLUGINS))
    provide(config, RATELIMITER, limiter)
    find_service(registry, HEALTH).extras["rateLimiter"] = lambda: {
        "status": limiter.status(), "failMode": settings["interviewminds.ratelimit.fail_mode"]}
    config.add_tween("core.http.ratelimiting.rate_limit_tween_factory", under=EXCVIEW)
