"""A request that matches no route says so, with its method and path (issue 17, finding 13):
``{"error": "no route for POST /api/resume/upload", "correlationId": ...}``, not the bare path."""
import pytest


@pytest.mark.parametrize("method,path", [
    ("POST", "/api/resume/upload"),
    ("GET", "/api/nowhere"),
    ("DELETE", "/api/interview/x/nothing-here"),
])
def test_an_unrouted_request_names_its_method_and_path(make_app, method, path):
    app = make_app(plugins=["interviews"])
    response = app.request(path, method=method, status=404, headers={"Accept": "application/json"})
    assert response.json == {"error": f"no route for {method} {path}",
                             "correlationId": response.headers["X-Correlation-ID"]}


def test_a_very_long_unrouted_path_is_not_echoed_in_full(make_app):
    path = "/api/" + "a" * 5000
    response = make_app().get(path, status=404)
    assert response.json["error"] == f"no route for GET {path[:200]}..."
