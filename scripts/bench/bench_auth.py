"""Per-request cost of authentication and rate limiting, measured in-process.

* Token verification through ``TokenVerifier`` with a warm JWKS cache, against a baseline of
  a bare ``jwt.decode`` with the key already loaded (the ratio is our overhead).
* One ``RateLimiter.hit`` and one ``hit_path`` (general + ai tiers) against a real Redis
  started in a temp dir, against a baseline of one Redis PING round trip.

Run from the repository root: ``.venv/bin/python scripts/bench/bench_auth.py [--n 3000]``.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import jwt  # noqa: E402
import redis  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

from core.auth.jwt import JWKSKeySource, TokenVerifier  # noqa: E402
from core.ratelimit import RateLimiter  # noqa: E402
from core.services import redis_process  # noqa: E402

ISSUER = "https://clerk.bench.test"


def medians_us(fns: dict, n: int, chunk: int = 100, warmup: int = 200) -> dict:
    """{name: (median, p95)} in microseconds over ``n`` timed calls of each function.

    The functions run interleaved in chunks, so a load spike on the machine hits every
    measurement alike and the ratios stay fair.
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples: dict = {name: [] for name in fns}
    for _ in range(max(1, n // chunk)):
        for name, fn in fns.items():
            for _ in range(chunk):
                began = time.perf_counter_ns()
                fn()
                samples[name].append((time.perf_counter_ns() - began) / 1000)
    result = {}
    for name, values in samples.items():
        values.sort()
        result[name] = (statistics.median(values), values[int(len(values) * 0.95) - 1])
    return result


def bench_tokens(n: int) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = {**jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True),
           "kid": "bench", "use": "sig", "alg": "RS256"}
    now = int(time.time())
    token = jwt.encode({"sub": "user_1", "iss": ISSUER, "azp": "https://app.bench.test",
                        "iat": now, "nbf": now, "exp": now + 3600},
                       key, algorithm="RS256", headers={"kid": "bench"})
    fetches = []
    source = JWKSKeySource("http://127.0.0.1/jwks.json",
                           fetch=lambda url, timeout: fetches.append(url) or {"keys": [jwk]})
    verifier = TokenVerifier(source, issuer=ISSUER, authorized_parties=["https://app.bench.test"])
    verifier.verify(token)  # warms the cache
    public_key = key.public_key()

    measured = medians_us({
        "ours": lambda: verifier.verify(token),
        "base": lambda: jwt.decode(token, public_key, algorithms=["RS256"], issuer=ISSUER, leeway=5),
    }, n)
    (ours, ours_p95), (base, base_p95) = measured["ours"], measured["base"]
    assert len(fetches) == 1, "the JWKS cache was not warm"
    print(f"token verify (warm JWKS cache) median {ours:8.1f} us  p95 {ours_p95:8.1f} us")
    print(f"baseline jwt.decode, key loaded  median {base:8.1f} us  p95 {base_p95:8.1f} us")
    print(f"  ratio verify/baseline: {ours / base:.2f}x  (overhead {ours - base:+.1f} us)")


def bench_limiter(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        service = redis_process(Path(tmp) / "redis").start()
        try:
            client = redis.Redis.from_url(service.url)
            limiter = RateLimiter(service.url, {"general": "300/minute", "ai": "30/minute"},
                                  paths={"ai": ["/api/chat"]})
            counter = iter(range(10**9))

            def one_hit():
                limiter.hit("general", f"user_{next(counter) % 1000}")

            def path_hit():
                limiter.hit_path("/api/chat", f"user_{next(counter) % 1000}")

            measured = medians_us({"hit": one_hit, "path": path_hit, "ping": client.ping}, n)
            (hit, hit_p95), (both, both_p95) = measured["hit"], measured["path"]
            ping, ping_p95 = measured["ping"]
        finally:
            service.stop()
    print(f"limiter hit (1 tier)             median {hit:8.1f} us  p95 {hit_p95:8.1f} us")
    print(f"limiter hit_path (general + ai)  median {both:8.1f} us  p95 {both_p95:8.1f} us")
    print(f"baseline Redis PING round trip   median {ping:8.1f} us  p95 {ping_p95:8.1f} us")
    print(f"  ratio hit/PING: {hit / ping:.2f}x   hit_path/PING: {both / ping:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="timed calls per measurement")
    args = parser.parse_args()
    bench_tokens(args.n)
    bench_limiter(args.n)


if __name__ == "__main__":
    main()
