"""``GET /docs``: Swagger UI over ``/openapi.json``, served entirely from local files.

The Swagger UI bundle comes from the ``swagger-ui-py`` package (its ``swagger_ui/static``
folder holds the swagger-ui dist files; only those files are used, not its framework glue);
the init script is ``core/static/docs/docs.js``. The page has its own CSP (``DOCS_CSP``):
scripts, styles and requests from this origin only, no inline script, nothing from a CDN.
"""
from __future__ import annotations

import functools
import importlib.util
from html import escape
from pathlib import Path

from pyramid.response import Response

from core.http.tweens import DOCS_CSP

SWAGGER_UI_URL = "static/swagger-ui"
DOCS_STATIC_SPEC = "core:static/docs/"
DOCS_STATIC_URL = "static/docs"
OPENAPI_PATH = "/openapi.json"

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>InterviewMinds API</title>
<link rel="stylesheet" href="{css}">
<script src="{bundle}" defer></script>
<script src="{init}" defer></script>
</head>
<body>
<div id="swagger-ui" data-spec-url="{spec}">Loading the API description&hellip;</div>
</body>
</html>
"""


@functools.cache
def swagger_ui_dir() -> Path:
    """The swagger-ui dist folder inside the installed ``swagger-ui-py`` package (found
    without importing it: only its files are used)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is not installed (it ships the /docs assets)")
    folder = Path(next(iter(spec.submodule_search_locations))) / "static"
    if not (folder / "swagger-ui-bundle.js").is_file():
        raise RuntimeError(f"swagger-ui-bundle.js is missing from {folder}")
    return folder


def docs_view(request) -> Response:
    html = _PAGE.format(
        css=escape(request.static_path(str(swagger_ui_dir() / "swagger-ui.css"))),
        bundle=escape(request.static_path(str(swagger_ui_dir() / "swagger-ui-bundle.js"))),
        init=escape(request.static_path(DOCS_STATIC_SPEC + "docs.js")),
        spec=escape(request.script_name + OPENAPI_PATH),
    )
    response = Response(html, content_type="text/html", charset="utf-8")
    response.headers["Content-Security-Policy"] = DOCS_CSP
    response.cache_control = "no-store"
    return response


def includeme(config):
    config.add_static_view(SWAGGER_UI_URL, str(swagger_ui_dir()), cache_max_age=3600)
    config.add_static_view(DOCS_STATIC_URL, DOCS_STATIC_SPEC, cache_max_age=3600)
    config.add_route("core.docs", "/docs")
    config.add_view(docs_view, route_name="core.docs", request_method=("GET", "HEAD"))
