"""Rate-limit behaviour over HTTP: headers, tiers by path, and the Redis-down fail modes."""
import pytest


@pytest.fixture
def tiers(tmp_path):
    path = tmp_path / "tiers.toml"
    # Operator overrides of the tiers core and the sample plugin declare (it puts its echo route
    # in its own `sample_echo` tier).
    path.write_text('[tiers]\ngeneral = "100/minute"\nsample_echo = "2/minute"\ngraphql = "3/minute"\n')
    return str(path)


def test_path_tier_is_stricter_and_keyed_per_user(make_app, tiers):
    app = make_app(plugins=["sample"], **{"ratelimit.tiers_file": tiers})
    alice, bob = app.auth("alice"), app.auth("bob")
    first = app.get("/api/sample/echo", headers=alice)
    assert first.headers["RateLimit-Policy"] == "100;w=60, 2;w=60"
    assert first.headers["RateLimit"] == "limit=2, remaining=1, reset=60"
    app.get("/api/sample/echo", headers=alice)
    denied = app.get("/api/sample/echo", headers=alice, status=429)
    assert denied.json["error"] == "rate limit exceeded for the sample_echo tier"
    assert int(denied.headers["Retry-After"]) >= 1
    app.get("/api/sample/echo", headers=bob, status=200)
    app.get("/api/csrf", headers=alice, status=200)  # other routes only count against `general`


def test_graphql_cost_counts_the_query_not_its_bytes(make_app, tiers):
    # The graphql tier is charged what the operation may return, at least 1 per root field
    # (core.graphql_cost; the cost model's own tests are tests/security/test_graphql_cost.py).
    app = make_app(plugins=["sample"], **{"ratelimit.tiers_file": tiers})
    small = app.post_json("/graphql", {"query": "{ sampleGreeting }"})
    assert "remaining=2" in small.headers["RateLimit"]
    padded = app.post_json("/graphql", {"query": "{ sampleGreeting }" + " " * 5000})  # bytes cost nothing
    assert "remaining=1" in padded.headers["RateLimit"]
    huge = app.post_json("/graphql", {"query": "{ a: sampleGreeting b: sampleGreeting c: sampleGreeting "
                                               "d: sampleGreeting }"}, status=413)
    assert huge.json["error"] == "this request costs 4, more than the graphql tier's 3 per 60s"


def test_fail_open_lets_requests_through_when_redis_is_down(make_app, tiers):
    app = make_app(plugins=["sample"], **{"ratelimit.tiers_file": tiers, "redis.url": "redis://127.0.0.1:1/0",
                                          "redis.timeout": "0.2", "ratelimit.fail_mode": "open"})
    response = app.get("/api/sample/echo")
    assert "RateLimit" not in response.headers and response.headers["RateLimit-Policy"]
    limiter = app.get("/health").json["rateLimiter"]
    assert limiter == {"status": "redis unreachable (fail_open)", "failMode": "open"}


def test_fail_closed_answers_503_when_redis_is_down(make_app, tiers):
    app = make_app(plugins=["sample"], **{"ratelimit.tiers_file": tiers, "redis.url": "redis://127.0.0.1:1/0",
                                          "redis.timeout": "0.2", "ratelimit.fail_mode": "closed"})
    response = app.get("/api/sample/echo", status=503)
    assert response.headers["Retry-After"] and response.json["error"].startswith("rate limiter unavailable")
