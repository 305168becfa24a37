"""The HTML pages core serves to browsers (``/docs``, GraphiQL): one skeleton, one CSP.

A page loads only this origin's stylesheets and deferred scripts (no inline script) under
``PAGE_CSP``, and is never cached, so a changed asset URL is picked up at once.
"""
from __future__ import annotations

from html import escape
from typing import Iterable

from pyramid.response import Response

from core.http.tweens import PAGE_CSP

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
{head}
</head>
<body>
<div id="{root_id}"{data}>{loading}&hellip;</div>
</body>
</html>
"""


def page_response(*, title: str, stylesheets: Iterable[str], scripts: Iterable[str], root_id: str,
                  data: dict[str, str], loading: str) -> Response:
    """A page whose root element ``root_id`` carries ``data-*`` attributes for its init script."""
    head = [f'<link rel="stylesheet" href="{escape(url)}">' for url in stylesheets]
    head += [f'<script src="{escape(url)}" defer></script>' for url in scripts]
    attributes = "".join(f' data-{name}="{escape(value)}"' for name, value in data.items())
    html = _PAGE.format(title=escape(title), head="\n".join(head), root_id=root_id, data=attributes,
                        loading=escape(loading))
    response = Response(html, content_type="text/html", charset="utf-8")
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.cache_control = "no-store"
    return response
