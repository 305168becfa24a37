"""``GET /docs``: Swagger UI over ``/openapi.json``, served entirely from local files.

The Swagger UI bundle comes from the ``swagger-ui-py`` package (its ``swagger_ui/static``
folder holds the swagger-ui dist files; only those files are used, not its framework glue);
the init script is ``core/static/docs/docs.js``. The page has its own CSP (``PAGE_CSP``, core.http.pages):
scripts, styles and requests from this origin only, no inline script, nothing from a CDN.
"""
from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

from pyramid.response import Response

from core.http.pages import page_response

SWAGGER_UI_URL = "static/swagger-ui"
DOCS_STATIC_SPEC = "core:static/docs/"
DOCS_STATIC_URL = "static/docs"
OPENAPI_PATH = "/openapi.json"

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
    return page_response(
        title="InterviewMinds API",
        stylesheets=[request.static_path(str(swagger_ui_dir() / "swagger-ui.css"))],
        scripts=[request.static_path(str(swagger_ui_dir() / "swagger-ui-bundle.js")),
                 request.static_path(DOCS_STATIC_SPEC + "docs.js")],
        root_id="swagger-ui", data={"spec-url": request.script_name + OPENAPI_PATH},
        loading="Loading the API description",
    )


def includeme(config):
    config.add_static_view(SWAGGER_UI_URL, str(swagger_ui_dir()), cache_max_age=3600)
    config.add_static_view(DOCS_STATIC_URL, DOCS_STATIC_SPEC, cache_max_age=3600)
    config.add_route("core.docs", "/docs")
    config.add_view(docs_view, route_name="core.docs", request_method=("GET", "HEAD"))
