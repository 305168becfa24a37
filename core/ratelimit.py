"""Rate limiting with the ``limits`` library on Redis, exact across app processes.

The moving-window strategy stores one timestamp per hit in a Redis list and admits a hit
with a Lua script, so N processes sharing one Redis enforce one exact limit.

Tiers come from plugins (``interviewminds_rate_limits``; core declares ``general`` and
``graphql``), with the operator's limit overrides from ``interviewminds.ratelimit.limits`` and
``config/rate-limits.toml``. ``general`` applies to every route; other tiers apply
to paths under their prefixes (matched on whole path segments: ``/api/chat`` covers
``/api/chat/x`` but not ``/api/chatroom``).

Response headers follow draft-ietf-httpapi-ratelimit-headers-07 (June 2023), section 3-4:
``RateLimit: limit=100, remaining=42, reset=30`` (the policy closest to exhaustion) and
``RateLimit-Policy: 300;w=60, 30;w=60`` (every policy that applied), plus ``Retry-After`` on 429.

When Redis is unreachable the limiter follows ``fail_mode``: "open" admits the request and
marks the decision ``degraded``; "closed" refuses it. After a failure Redis is not asked
again for ``recheck_interval`` seconds, so an outage does not add a connect attempt per request.
"""
from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import limits
import limits.errors
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

from core.config_files import read_override_table

log = logging.getLogger(__name__)

GENERAL = "general"
FAIL_MODES = ("open", "closed")
_TIER_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


class RateLimitConfigError(ValueError):
    """The tiers or the path map are malformed; the message names the offending entry."""


class CostTooHigh(ValueError):
    """A single request costs more than a tier's whole window allows (e.g. a huge GraphQL query)."""


@dataclass(frozen=True)
class RateLimitConfig:
    """Tiers (name -> limits expression such as "100/minute") and tier -> path prefixes."""

    tiers: dict[str, str]
    paths: dict[str, list[str]] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)  # prefix -> the plugin that claimed it


@dataclass(frozen=True)
class RateLimits:
    """A plugin's contribution (``interviewminds_rate_limits``): tiers and its own path prefixes."""

    tiers: Mapping[str, str] = field(default_factory=dict)
    paths: Mapping[str, Iterable[str]] = field(default_factory=dict)


def _covers(prefix: str, path: str) -> bool:
    """Whole-segment prefix match: ``/api/chat`` covers ``/api/chat/{id}``, not ``/api/chatroom``."""
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


def merge_rate_limits(contributions: Iterable[tuple[str, RateLimits]],
                      routes: Mapping[str, Iterable[str]]) -> RateLimitConfig:
    """Merge every plugin's tiers and prefixes; ``routes`` maps plugin id -> its route paths.

    A prefix must cover at least one of its plugin's routes and none of another's; a prefix
    claimed twice, or a tier declared twice with different limits, is an error naming both.
    """
    tiers: dict[str, str] = {}
    tier_owner: dict[str, str] = {}
    paths: dict[str, list[str]] = {}
    prefix_owner: dict[str, str] = {}
    route_owner = {path: owner for owner, owned in routes.items() for path in owned}
    for plugin_id, contribution in contributions:
        if not isinstance(contribution, RateLimits):
            raise RateLimitConfigError(f"plugin {plugin_id!r}: interviewminds_rate_limits must return "
                                       f"core.RateLimits, got {contribution!r}")
        for tier, expression in dict(contribution.tiers).items():
            if tier in tiers and tiers[tier] != expression:
                raise RateLimitConfigError(
                    f"rate-limit tier {tier!r} is declared as {tiers[tier]!r} by {tier_owner[tier]!r} "
                    f"and as {expression!r} by {plugin_id!r}")
            tiers.setdefault(tier, expression)
            tier_owner.setdefault(tier, plugin_id)
        for tier, prefixes in dict(contribution.paths).items():
            if isinstance(prefixes, str):
                raise RateLimitConfigError(f"plugin {plugin_id!r}: paths for tier {tier!r} must be a list")
            for prefix in prefixes:
                if prefix in prefix_owner:
                    raise RateLimitConfigError(f"rate-limit prefix {prefix!r} is claimed by both "
                                               f"{prefix_owner[prefix]!r} and {plugin_id!r}")
                covered = {route_owner[path] for path in route_owner if _covers(prefix, path)}
                if plugin_id not in covered:
                    raise RateLimitConfigError(f"plugin {plugin_id!r}: rate-limit prefix {prefix!r} "
                                               "covers none of its own routes")
                others = sorted(covered - {plugin_id})
                if others:
                    raise RateLimitConfigError(f"rate-limit prefix {prefix!r} of {plugin_id!r} covers "
                                               f"routes of {others[0]!r}")
                prefix_owner[prefix] = plugin_id
                paths.setdefault(tier, []).append(prefix)
    return RateLimitConfig(tiers, paths, prefix_owner)


def apply_limit_overrides(config: RateLimitConfig, overrides: Mapping[str, str], source: str) -> RateLimitConfig:
    """Replace tier limits with the operator's; an override of an undeclared tier is an error."""
    tiers = dict(config.tiers)
    for tier, expression in overrides.items():
        if tier not in tiers:
            raise RateLimitConfigError(f"{source}: unknown rate-limit tier {tier!r} "
                                       f"(declared: {', '.join(sorted(tiers))})")
        tiers[tier] = expression
    return RateLimitConfig(tiers, config.paths, config.owners)


def load_limit_overrides(path: str | Path) -> dict[str, str]:
    """The ``[tiers]`` table of an operator's TOML file, e.g. ``config/rate-limits.toml``."""
    tiers = read_override_table(path, "tiers", RateLimitConfigError,
                                "only [tiers] limit overrides; plugins declare their own paths")
    if not isinstance(tiers, dict) or not all(isinstance(v, str) for v in tiers.values()):
        raise RateLimitConfigError(f"{path}: [tiers] must map tier names to limit strings")
    return tiers


def parse_limit_setting(entries: Iterable[str], key: str) -> dict[str, str]:
    """``["ai=10/minute", ...]`` from the ini -> ``{"ai": "10/minute"}``."""
    out = {}
    for entry in entries:
        tier, sep, expression = entry.partition("=")
        if not sep or not tier.strip() or not expression.strip():
            raise RateLimitConfigError(f"{key}: {entry!r} must look like 'tier=limit' (e.g. ai=10/minute)")
        out[tier.strip()] = expression.strip()
    return out


@dataclass(frozen=True)
class Decision:
    """The outcome of one hit. Times are whole seconds (rounded up)."""

    tier: str
    allowed: bool
    limit: int
    remaining: int
    reset_after: int
    retry_after: int | None
    window: int
    degraded: bool = False
    policies: tuple[str, ...] = ()

    @property
    def policy(self) -> str:
        """This tier's ``RateLimit-Policy`` item, e.g. ``100;w=60``."""
        return f"{self.limit};w={self.window}"

    def headers(self) -> dict[str, str]:
        """``RateLimit``, ``RateLimit-Policy`` and, when denied, ``Retry-After``.

        A degraded (fail-open) decision knows no counts, so it only states the policy.
        """
        headers = {"RateLimit-Policy": ", ".join(self.policies or (self.policy,))}
        if not self.degraded or not self.allowed:
            headers["RateLimit"] = (
                f"limit={self.limit}, remaining={self.remaining}, reset={self.reset_after}")
        if not self.allowed:
            headers["Retry-After"] = str(max(1, self.retry_after or 1))
        return headers


def _ceil(seconds: float) -> int:
    return max(0, math.ceil(seconds))


class RateLimiter:
    """Moving-window limits per (tier, key) in Redis."""

    def __init__(
        self,
        storage_uri: str,
        tiers: Mapping[str, str],
        *,
        paths: Mapping[str, Iterable[str]] | None = None,
        fail_mode: str = "open",
        key_prefix: str = "interviewminds",
        socket_timeout: float = 0.5,
        recheck_interval: float = 1.0,
    ) -> None:
        if fail_mode not in FAIL_MODES:
            raise RateLimitConfigError(f"fail_mode must be 'open' or 'closed', got {fail_mode!r}")
        self.items = self._parse_tiers(tiers)
        self.paths = self._parse_paths(paths or {})
        self.fail_mode = fail_mode
        self.recheck_interval = float(recheck_interval)
        self.storage = RedisStorage(
            storage_uri, key_prefix=f"{key_prefix}:ratelimit",
            socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout,
        )
        self._errors = (limits.errors.StorageError, self.storage.base_exceptions)
        self._strategy = MovingWindowRateLimiter(self.storage)
        self._down_until = 0.0  # monotonic time before which Redis is not asked again
        self._outage = False  # so an outage is logged once, and its end once
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, storage_uri: str, config: RateLimitConfig, **kwargs) -> "RateLimiter":
        """A limiter for a loaded :class:`RateLimitConfig`."""
        return cls(storage_uri, config.tiers, paths=config.paths, **kwargs)

    @staticmethod
    def _parse_tiers(tiers: Mapping[str, str]) -> dict[str, limits.RateLimitItem]:
        if GENERAL not in tiers:
            raise RateLimitConfigError(f"rate-limit tiers must include {GENERAL!r}")
        items = {}
        for name, expression in tiers.items():
            if not _TIER_NAME.match(str(name)):
                raise RateLimitConfigError(f"rate-limit tier name {name!r} is not a lower-case word")
            try:
                items[name] = limits.parse(expression)
            except (ValueError, TypeError):
                raise RateLimitConfigError(
                    f"rate-limit tier {name!r}: {expression!r} is not a limit like '100/minute'"
                ) from None
        return items

    def _parse_paths(self, paths: Mapping[str, Iterable[str]]) -> list[tuple[str, str]]:
        prefixes = []
        for tier, entries in paths.items():
            if tier not in self.items:
                raise RateLimitConfigError(f"rate-limit paths name tier {tier!r}, which has no limit")
            if tier == GENERAL:
                raise RateLimitConfigError("the general tier applies to every path; do not map paths to it")
            if isinstance(entries, str):
                raise RateLimitConfigError(f"rate-limit paths for {tier!r} must be a list")
            for prefix in entries:
                if not isinstance(prefix, str) or not prefix.startswith("/"):
                    raise RateLimitConfigError(
                        f"rate-limit path {prefix!r} for tier {tier!r} must start with '/'")
                prefixes.append((prefix.rstrip("/") or "/", tier))
        return prefixes

    def tier_for(self, path: str) -> list[str]:
        """Tiers that apply to ``path``: always ``general`` first, then any path tiers."""
        path = path.rstrip("/") or "/"
        tiers = [GENERAL]
        for prefix, tier in self.paths:
            if (path == prefix or path.startswith(prefix + "/") or prefix == "/") and tier not in tiers:
                tiers.append(tier)
        return tiers

    def policy(self, tier: str) -> str:
        """A tier's ``RateLimit-Policy`` item, e.g. ``300;w=60``."""
        item = self._item(tier)
        return f"{item.amount};w={item.get_expiry()}"

    def _item(self, tier: str) -> limits.RateLimitItem:
        try:
            return self.items[tier]
        except KeyError:
            raise KeyError(f"no rate-limit tier named {tier!r}") from None

    def hit(self, tier: str, key: str, cost: int = 1) -> Decision:
        """Spend ``cost`` from ``key``'s budget in ``tier`` if it fits; say what happened."""
        item = self._item(tier)
        if not isinstance(cost, int) or cost < 1:
            raise ValueError(f"rate-limit cost must be a positive integer, got {cost!r}")
        if cost > item.amount:
            raise CostTooHigh(f"this request costs {cost}, more than the {tier} tier's "
                              f"{item.amount} per {item.get_expiry()}s")
        if not key:
            raise ValueError("rate-limit key is empty")
        window = item.get_expiry()
        if time.monotonic() < self._down_until:
            return self._unavailable(tier, item)
        try:
            allowed = self._strategy.hit(item, tier, key, cost=cost)
            reset_at, remaining = self._strategy.get_window_stats(item, tier, key)
        except self._errors as exc:
            self._mark_down(exc)
            return self._unavailable(tier, item)
        if self._outage:
            self._mark_up()
        now = time.time()
        return Decision(
            tier=tier, allowed=allowed, limit=item.amount, remaining=max(0, remaining),
            reset_after=_ceil(reset_at - now), window=window,
            retry_after=None if allowed else max(1, _ceil(reset_at - now)),
        )

    def hit_path(self, path: str, key: str, cost: int = 1) -> Decision:
        """Hit every tier of ``path`` (general costs 1, path tiers cost ``cost``).

        Returns the decision that governs the response: the first denial, else the tier with
        the fewest remaining; its ``policies`` list every tier's policy for the header.
        Tiers after a denial are not spent.
        """
        decisions = []
        for tier in self.tier_for(path):
            decision = self.hit(tier, key, 1 if tier == GENERAL else cost)
            decisions.append(decision)
            if not decision.allowed:
                break
        policies = tuple(self.policy(tier) for tier in self.tier_for(path))
        denied = [d for d in decisions if not d.allowed]
        governing = denied[0] if denied else min(decisions, key=lambda d: (d.remaining, -d.reset_after))
        return replace(governing, policies=policies)

    def _unavailable(self, tier: str, item: limits.RateLimitItem) -> Decision:
        window = item.get_expiry()
        if self.fail_mode == "open":
            return Decision(tier, True, item.amount, item.amount, window, None, window, degraded=True)
        retry = max(1, _ceil(self.recheck_interval))
        return Decision(tier, False, item.amount, 0, retry, retry, window, degraded=True)

    def _mark_down(self, exc: Exception | None) -> None:
        with self._lock:
            self._down_until = time.monotonic() + self.recheck_interval
            first, self._outage = not self._outage, True
        if first:
            log.warning("rate limiter: Redis unreachable (%s); failing %s",
                        exc.__class__.__name__ if exc else "ping failed", self.fail_mode)

    def _mark_up(self) -> None:
        with self._lock:
            was_down, self._outage, self._down_until = self._outage, False, 0.0
        if was_down:
            log.warning("rate limiter: Redis reachable again")

    def status(self) -> str:
        """For /health: "ok" or "redis unreachable (fail_open)" / "(fail_closed)"; pings Redis."""
        if self.storage.check():
            self._mark_up()
            return "ok"
        self._mark_down(None)
        return f"redis unreachable (fail_{self.fail_mode})"

    @property
    def degraded(self) -> bool:
        """True while Redis is considered unreachable."""
        return self._outage

    def clear(self, tier: str, key: str) -> None:
        """Forget ``key``'s hits in ``tier`` (operator action, tests)."""
        self._strategy.clear(self._item(tier), tier, key)
