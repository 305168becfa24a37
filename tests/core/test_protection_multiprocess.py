"""Rate limits and circuit breakers are shared by every app process through Redis."""
import concurrent.futures
import time

import httpx
import pytest

from core.testing import ServedApp, dev_token

PLUGINS = "sample tests.support.local_plugins.flaky_upstream"


@pytest.fixture
def two_processes(request, test_settings, tmp_path):
    tiers = tmp_path / "tiers.toml"
    tiers.write_text('[tiers]\ngeneral = "10/minute"\ngraphql = "50/minute"\n')
    settings = dict(test_settings, **{
        "interviewminds.plugins": PLUGINS,
        "interviewminds.ratelimit.tiers_file": str(tiers),
        "interviewminds.breakers.fail_max": "3",
        "interviewminds.breakers.reset_timeout": "2",
        "interviewminds.ratelimit.enabled": getattr(request, "param", "true"),
    })
    with ServedApp(settings) as a, ServedApp(settings) as b:
        yield settings, a, b


def test_rate_limit_is_exact_across_two_processes(two_processes):
    settings, a, b = two_processes
    alice = {"Authorization": f"Bearer {dev_token(settings, 'alice', 'candidate')}"}
    bob = {"Authorization": f"Bearer {dev_token(settings, 'bob', 'candidate')}"}
    statuses = []
    with httpx.Client() as client:
        for i in range(16):
            server = a if i % 2 == 0 else b
            response = client.get(f"{server.url}/api/sample/echo", headers=alice)
            statuses.append(response.status_code)
            if response.status_code == 429:
                assert int(response.headers["Retry-After"]) >= 1
                assert response.json()["correlationId"] == response.headers["X-Correlation-ID"]
            else:
                assert response.headers["RateLimit-Policy"] == "10;w=60, 20;w=60"  # general, then the sample plugin's own tier
                assert "remaining=" in response.headers["RateLimit"]
        assert statuses.count(200) == 10 and statuses.count(429) == 6
        assert statuses[:10] == [200] * 10
        # Alice's burst did not touch Bob's counter.
        other = client.get(f"{b.url}/api/sample/echo", headers=bob)
        assert other.status_code == 200 and "remaining=9" in other.headers["RateLimit"]


@pytest.mark.parametrize("two_processes", ["false"], indirect=True)  # many anonymous calls
def test_breaker_opened_in_one_process_answers_503_in_the_other(two_processes, redis_url):
    import redis

    settings, a, b = two_processes
    store = redis.Redis.from_url(redis_url)
    with httpx.Client(timeout=10) as client:
        for _ in range(3):
            assert client.get(f"{a.url}/api/flaky/fail").status_code == 502
        assert int(store.get("flaky:calls")) == 3
        refused = client.get(f"{b.url}/api/flaky/ok")
        assert refused.status_code == 503
        assert 1 <= int(refused.headers["Retry-After"]) <= 2
        assert refused.json()["correlationId"] == refused.headers["X-Correlation-ID"]
        assert int(store.get("flaky:calls")) == 3  # the upstream was not called
        health = client.get(f"{b.url}/health").json()
        assert health["circuitBreakers"]["flaky"]["state"] == "open"

        time.sleep(2.2)  # past reset_timeout: the next caller probes, everyone else waits
        urls = [f"{(a, b)[i % 2].url}/api/flaky/slow" for i in range(6)]
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            codes = sorted(pool.map(lambda u: httpx.get(u, timeout=10).status_code, urls))
        assert codes == [200, 503, 503, 503, 503, 503]
        assert int(store.get("flaky:calls")) == 4
        assert client.get(f"{a.url}/api/flaky/ok").status_code == 200
        assert client.get(f"{b.url}/health").json()["circuitBreakers"]["flaky"]["state"] == "closed"
