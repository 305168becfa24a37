"""A route guarded by a circuit breaker around a fake upstream, for cross-process breaker tests.

GET /api/flaky/{mode}: mode "fail" makes the upstream raise, "ok" succeed, "slow" sleep 0.5 s
then succeed. Every real upstream call increments the Redis counter `flaky:calls`.
"""
import time

from core import Service, hookimpl
from core.breakers import declare_breaker
from core.lookup import REDIS, find_service

flaky = Service(name="flaky_upstream.call", path="/api/flaky/{mode}")


class UpstreamDown(Exception):
    pass


@flaky.get()
def call(request):
    registry = request.registry
    breaker = declare_breaker(registry, "flaky")
    mode = request.matchdict["mode"]

    def upstream():
        find_service(registry, REDIS).incr("flaky:calls")
        if mode == "slow":
            time.sleep(0.5)
        if mode == "fail":
            raise UpstreamDown("upstream failed")
        return {"ok": True}

    try:
        return breaker.call(upstream)
    except UpstreamDown:
        request.response.status_int = 502
        return {"error": "upstream failed", "correlationId": request.correlation_id}


@hookimpl
def interviewminds_services(settings):
    return [flaky]
