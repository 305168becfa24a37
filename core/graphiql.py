"""GraphiQL on ``GET /graphql`` (only when ``interviewminds.graphql.graphiql`` is true).

Strawberry's own GraphiQL page loads React and GraphiQL from a CDN, which our CSP blocks and
which is unreachable offline. This page loads them from ``core/static/graphiql/`` (vendored
npm builds, see the README there), so it works with ``script-src 'self'`` and no network.
"""
from __future__ import annotations

from html import escape

from pyramid.response import Response

from core.http.tweens import GRAPHIQL_CSP

STATIC_SPEC = "core:static/graphiql/"
STATIC_URL = "static/graphiql"

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>InterviewMinds GraphiQL</title>
<link rel="stylesheet" href="{graphiql_css}">
<link rel="stylesheet" href="{page_css}">
<script src="{react}" defer></script>
<script src="{react_dom}" defer></script>
<script src="{graphiql}" defer></script>
<script src="{init}" defer></script>
</head>
<body>
<div id="graphiql" data-endpoint="{endpoint}">Loading GraphiQL&hellip;</div>
</body>
</html>
"""


def graphiql_response(request) -> Response:
    """The GraphiQL page for ``request`` (assets under the app's own URL prefix)."""

    def asset(name: str) -> str:
        return escape(request.static_path(STATIC_SPEC + name))

    html = _PAGE.format(
        graphiql_css=asset("graphiql.min.css"), page_css=asset("graphiql-page.css"),
        react=asset("react.production.min.js"), react_dom=asset("react-dom.production.min.js"),
        graphiql=asset("graphiql.min.js"), init=asset("graphiql-init.js"),
        endpoint=escape(request.path),
    )
    response = Response(html, content_type="text/html", charset="utf-8")
    response.headers["Content-Security-Policy"] = GRAPHIQL_CSP
    response.cache_control = "no-store"
    return response


def includeme(config):
    """Serve the assets; ``core.graphql`` includes this only when GraphiQL is enabled."""
    config.add_static_view(STATIC_URL, STATIC_SPEC, cache_max_age=3600)
