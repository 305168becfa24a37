"""/metrics: Prometheus text, per app; aggregated across processes in multiprocess mode."""
import httpx

from core.testing import ServedApp


def test_metrics_count_requests_by_route(make_app):
    app = make_app(plugins=["sample"])
    app.get("/ping")
    app.get("/api/sample/echo")
    app.get("/nowhere", status=404)
    text = app.get("/metrics").text
    assert 'interviewminds_http_requests_total{method="GET",route="core.ping",status="200"} 1.0' in text
    assert 'interviewminds_http_requests_total{method="GET",route="sample.echo",status="200"} 1.0' in text
    assert 'route="<unmatched>",status="404"' in text
    assert "interviewminds_breaker_state" in text


def test_multiprocess_mode_aggregates_every_process(test_settings, tmp_path):
    multiproc = tmp_path / "prom"
    multiproc.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(multiproc)}
    with ServedApp(test_settings, env=env) as a, ServedApp(test_settings, env=env) as b:
        for _ in range(3):
            httpx.get(f"{a.url}/ping")
        for _ in range(2):
            httpx.get(f"{b.url}/ping")
        text = httpx.get(f"{a.url}/metrics").text
    line = next(l for l in text.splitlines()
                if l.startswith('interviewminds_http_requests_total{') and 'route="core.ping"' in l)
    assert line.endswith(" 5.0")
