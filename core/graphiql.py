"""GraphiQL on ``GET /graphql`` (only when ``interviewminds.graphql.graphiql`` is true).

Strawberry's own GraphiQL page loads React and GraphiQL from a CDN, which our CSP blocks and
which is unreachable offline. This page loads them from ``core/static/graphiql/`` (vendored
npm builds, see the README there), so it works with ``script-src 'self'`` and no network.
"""
from __future__ import annotations

from pyramid.response import Response

from core.http.pages import page_response

STATIC_SPEC = "core:static/graphiql/"
STATIC_URL = "static/graphiql"

def graphiql_response(request) -> Response:
    """The GraphiQL page for ``request`` (assets under the app's own URL prefix)."""

    def asset(name: str) -> str:
        return request.static_path(STATIC_SPEC + name)

    return page_response(
        title="InterviewMinds GraphiQL",
        stylesheets=[asset("graphiql.min.css"), asset("graphiql-page.css")],
        scripts=[asset(name) for name in ("react.production.min.js", "react-dom.production.min.js",
                                          "graphiql.min.js", "graphiql-init.js")],
        root_id="graphiql", data={"endpoint": request.path}, loading="Loading GraphiQL",
    )


def includeme(config):
    """Serve the assets; ``core.graphql`` includes this only when GraphiQL is enabled."""
    config.add_static_view(STATIC_URL, STATIC_SPEC, cache_max_age=3600)
