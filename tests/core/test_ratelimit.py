"""Rate limits in a real Redis: exact across limiter instances, per key, with draft-07 headers."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from core.ratelimit import (
    CostTooHigh,
    RateLimitConfigError,
    RateLimitConfig,
    RateLimiter,
    RateLimits,
    apply_limit_overrides,
    load_limit_overrides,
    merge_rate_limits,
    parse_limit_setting,
)
from core.services import free_port

CONFIG = Path(__file__).resolve().parents[2] / "config" / "rate-limits.toml"
ROUTES = {"core": ["/graphql", "/health"], "interviews": ["/api/chat", "/api/interview/{id}"],
          "code": ["/api/compiler/execute"], "resume": ["/api/resume/upload"]}
TIERS = {"general": "10/minute", "ai": "3/minute", "graphql": "20/minute"}
PATHS = {"ai": ["/api/chat", "/api/compiler"], "graphql": ["/graphql"]}


def limiter(url, **kwargs):
    kwargs.setdefault("paths", PATHS)
    return RateLimiter(url, kwargs.pop("tiers", TIERS), **kwargs)


def test_limit_is_exact_across_two_limiters(redis_url):
    one, two = limiter(redis_url), limiter(redis_url)  # two app processes' limiters
    allowed = []

    def burst(instance):
        for _ in range(10):
            allowed.append(instance.hit("general", "user_1").allowed)

    threads = [threading.Thread(target=burst, args=(inst,)) for inst in (one, two, one, two)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 10 and allowed.count(False) == 30


def test_one_keys_burst_does_not_touch_another(redis_url):
    rl = limiter(redis_url)
    decisions = [rl.hit("ai", "user_a") for _ in range(5)]
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0, 0]
    other = rl.hit("ai", "user_b")
    assert other.allowed and other.remaining == 2
    assert rl.hit("general", "user_a").remaining == 9  # tiers count separately


def test_headers_follow_draft_07(redis_url):
    rl = limiter(redis_url)
    first = rl.hit("ai", "user_h")
    assert first.headers() == {"RateLimit": "limit=3, remaining=2, reset=60",
                               "RateLimit-Policy": "3;w=60"}
    rl.hit("ai", "user_h")
    rl.hit("ai", "user_h")
    denied = rl.hit("ai", "user_h")
    headers = denied.headers()
    assert not denied.allowed and 1 <= denied.retry_after <= 60
    assert headers["Retry-After"] == str(denied.retry_after)
    assert headers["RateLimit"] == f"limit=3, remaining=0, reset={denied.reset_after}"


def test_tier_for_matches_whole_segments(redis_url):
    merged = merge_rate_limits([
        ("core", RateLimits({"general": "300/minute", "graphql": "120/minute"}, {"graphql": ["/graphql"]})),
        ("interviews", RateLimits({"ai": "30/minute"}, {"ai": ["/api/chat"]})),
        ("code", RateLimits({"ai": "30/minute"}, {"ai": ["/api/compiler"]})),
        ("resume", RateLimits({"upload": "10/minute"}, {"upload": ["/api/resume"]})),
    ], ROUTES)
    rl = RateLimiter.from_config(redis_url, merged)
    assert rl.tier_for("/api/chat") == ["general", "ai"]
    assert rl.tier_for("/api/chat/") == ["general", "ai"]
    assert rl.tier_for("/api/compiler/execute") == ["general", "ai"]
    assert rl.tier_for("/api/chatroom") == ["general"]
    assert rl.tier_for("/api/resume/upload") == ["general", "upload"]
    assert rl.tier_for("/graphql") == ["general", "graphql"]
    assert merged.owners == {"/graphql": "core", "/api/chat": "interviews", "/api/compiler": "code",
                             "/api/resume": "resume"}
    assert rl.tier_for("/api/interview/1") == ["general"]
    assert rl.policy("ai") == "30;w=60" and rl.policy("general") == "300;w=60"


def test_hit_path_governs_by_the_tightest_tier(redis_url):
    rl = limiter(redis_url)
    decision = rl.hit_path("/api/chat", "user_p")
    assert decision.tier == "ai" and decision.remaining == 2
    assert decision.headers()["RateLimit-Policy"] == "10;w=60, 3;w=60"
    for _ in range(2):
        rl.hit_path("/api/chat", "user_p")
    denied = rl.hit_path("/api/chat", "user_p")
    assert not denied.allowed and denied.tier == "ai"
    assert "Retry-After" in denied.headers()
    # general was spent once per allowed request plus once for the denied one
    assert rl.hit("general", "user_p").remaining == 10 - 5


def test_cost_counts_toward_the_path_tier(redis_url):
    rl = limiter(redis_url)
    decision = rl.hit_path("/graphql", "user_g", cost=15)
    assert decision.tier == "graphql" and decision.remaining == 5
    assert not rl.hit_path("/graphql", "user_g", cost=6).allowed
    assert rl.hit("general", "user_g").remaining == 10 - 3  # general costs 1 per request
    with pytest.raises(CostTooHigh, match="more than the graphql tier"):
        rl.hit("graphql", "user_g", cost=21)
    with pytest.raises(ValueError, match="positive integer"):
        rl.hit("graphql", "user_g", cost=0)


def test_fail_open_when_redis_is_unreachable(caplog):
    url = f"redis://127.0.0.1:{free_port()}/0"
    rl = limiter(url, fail_mode="open")
    decisions = [rl.hit("ai", "user_x") for _ in range(5)]
    assert all(d.allowed and d.degraded for d in decisions)
    assert decisions[0].headers() == {"RateLimit-Policy": "3;w=60"}
    assert rl.status() == "redis unreachable (fail_open)"
    assert len([r for r in caplog.records if "Redis unreachable" in r.getMessage()]) == 1


def test_fail_closed_when_redis_is_unreachable():
    rl = limiter(f"redis://127.0.0.1:{free_port()}/0", fail_mode="closed")
    decision = rl.hit("general", "user_x")
    assert not decision.allowed and decision.degraded
    assert decision.retry_after >= 1
    assert decision.headers()["Retry-After"] == str(decision.retry_after)
    assert rl.status() == "redis unreachable (fail_closed)"


def test_status_ok_with_redis(redis_url):
    rl = limiter(redis_url)
    assert rl.status() == "ok"
    assert not rl.hit("general", "k").degraded


@pytest.mark.parametrize("tiers, paths, message", [
    ({"ai": "3/minute"}, {}, "must include 'general'"),
    ({"general": "lots"}, {}, "'lots' is not a limit"),
    ({"general": "1/minute", "Bad Tier": "1/minute"}, {}, "not a lower-case word"),
    ({"general": "1/minute"}, {"ai": ["/api/chat"]}, "tier 'ai', which has no limit"),
    ({"general": "1/minute", "ai": "1/minute"}, {"ai": ["api/chat"]}, "must start with '/'"),
    ({"general": "1/minute", "ai": "1/minute"}, {"ai": "/api/chat"}, "must be a list"),
])
def test_bad_config_is_rejected(redis_url, tiers, paths, message):
    with pytest.raises(RateLimitConfigError, match=message):
        RateLimiter(redis_url, tiers, paths=paths)


def test_bad_fail_mode_is_rejected(redis_url):
    with pytest.raises(RateLimitConfigError, match="fail_mode"):
        RateLimiter(redis_url, TIERS, fail_mode="sometimes")


def test_shipped_overrides_file_names_no_tier():
    # The shipped file is only a commented example: tiers and paths come from plugins.
    assert load_limit_overrides(CONFIG) == {}


@pytest.mark.parametrize("contributions, message", [
    ([("interviews", RateLimits({"ai": "30/minute"}, {"ai": ["/api/compiler"]}))],
     "'interviews': rate-limit prefix '/api/compiler' covers none of its own routes"),
    ([("interviews", RateLimits({"ai": "30/minute"}, {"ai": ["/api"]}))],
     "prefix '/api' of 'interviews' covers routes of 'code'"),
    ([("interviews", RateLimits({"ai": "30/minute"}, {"ai": ["/api/chat"]})),
      ("code", RateLimits({"ai": "30/minute"}, {"ai": ["/api/chat"]}))],
     "prefix '/api/chat' is claimed by both 'interviews' and 'code'"),
    ([("interviews", RateLimits({"ai": "30/minute"})), ("code", RateLimits({"ai": "5/minute"}))],
     "tier 'ai' is declared as '30/minute' by 'interviews' and as '5/minute' by 'code'"),
])
def test_merging_refuses_foreign_prefixes_and_clashes_naming_both_plugins(contributions, message):
    with pytest.raises(RateLimitConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        merge_rate_limits(contributions, ROUTES)


def test_operator_overrides_replace_limits_and_refuse_unknown_tiers(tmp_path):
    base = RateLimitConfig({"general": "300/minute", "ai": "30/minute"}, {"ai": ["/api/chat"]})
    path = tmp_path / "limits.toml"
    path.write_text('[tiers]\nai = "5/minute"\n')
    merged = apply_limit_overrides(base, load_limit_overrides(path), str(path))
    assert merged.tiers == {"general": "300/minute", "ai": "5/minute"} and merged.paths == base.paths
    merged = apply_limit_overrides(merged, parse_limit_setting(["general=10/second"], "key"), "key")
    assert merged.tiers["general"] == "10/second"
    with pytest.raises(RateLimitConfigError, match="unknown rate-limit tier 'upload'"):
        apply_limit_overrides(base, {"upload": "1/minute"}, "ini")
    with pytest.raises(RateLimitConfigError, match="must look like 'tier=limit'"):
        parse_limit_setting(["ai"], "interviewminds.ratelimit.limits")
    path.write_text('[paths]\nai = ["/x"]\n')
    with pytest.raises(RateLimitConfigError, match=r"unknown table \[paths\]"):
        load_limit_overrides(path)
