"""/docs and GraphiQL in a real browser: headless Chromium (Debian's ``chromium``, installed by
``make system-deps``) drives the app served by waitress on a loopback port.

Each page must render (not stay at its "Loading" text), run with no CSP violation, and request
nothing but URLs of the app itself: the browser is also started with every other host made
unreachable (tests/support/chromium.py), so a CDN reference fails here as it would offline.
"""
import json
import uuid
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest

from core.testing import ServedApp, base_settings, dev_token
from tests.support.chromium import Browser

FIRST_PARTY = ["interviews", "proctoring", "multimodal", "webhooks"]
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
RENDER_TIMEOUT = 120  # seconds: a busy 2-core machine may take long to parse the bundles


@pytest.fixture(scope="module")
def server(tmp_path_factory, redis_service, mongo_service):
    import pymongo

    base = mongo_service[0].split("?")[0].rstrip("/")
    if base.count("/") > 2:
        base = base.rsplit("/", 1)[0]
    database = f"t_browser_{uuid.uuid4().hex[:12]}"
    settings = base_settings(redis_service[0], f"{base}/{database}", tmp_path_factory.mktemp("var"), **{
        "interviewminds.plugins": " ".join(FIRST_PARTY),
        "interviewminds.graphql.graphiql": "true",
    })
    with ServedApp(settings) as app:
        app.settings = settings
        yield app
    client = pymongo.MongoClient(base, serverSelectionTimeoutMS=3000)
    try:
        client.drop_database(database)
    finally:
        client.close()


@pytest.fixture(scope="module")
def browser():
    with Browser(timeout=90) as chromium:
        yield chromium


def get(url, accept="*/*"):
    with urlopen(Request(url, headers={"Accept": accept}), timeout=60) as response:
        return response.status, response.headers, response.read()


def assert_stayed_local(page, server):
    urls = page.requested_urls()
    assert urls, "the page requested nothing"
    outside = [u for u in urls if not (u.startswith(server.url + "/") or u.startswith(("data:", "blob:", "about:")))]
    assert not outside, f"requests that left the app: {outside}"
    assert page.csp_violations() == []


def assert_strict_page_csp(headers):
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "connect-src 'self'" in csp


def test_docs_page_shows_every_route_of_openapi_json(server, browser):
    status, headers, body = get(server.url + "/openapi.json", accept="application/json")
    assert status == 200
    spec = json.loads(body)
    expected = sorted((method.upper(), path) for path, item in spec["paths"].items()
                      for method in item if method in HTTP_METHODS)
    assert expected, "/openapi.json lists no operations"
    status, headers, html = get(server.url + "/docs", accept="text/html")
    assert status == 200 and headers.get_content_type() == "text/html"
    assert_strict_page_csp(headers)
    assert b"//" not in html.replace(b"<!DOCTYPE", b"")  # no absolute or protocol-relative URL

    page = browser.new_page()
    page.navigate(server.url + "/docs")
    shown = page.wait_for(f"""(() => {{
        const ops = [...document.querySelectorAll('#swagger-ui .opblock')].map(op => [
            op.querySelector('.opblock-summary-method').textContent.trim().toUpperCase(),
            op.querySelector('.opblock-summary-path').getAttribute('data-path')]);
        return ops.length >= {len(expected)} ? ops : null;
    }})()""", timeout=RENDER_TIMEOUT, what=f"Swagger UI to list {len(expected)} operations")
    assert sorted(map(tuple, shown)) == expected
    title = page.evaluate("document.querySelector('#swagger-ui .info .title').textContent")
    assert spec["info"]["title"] in title
    assert_stayed_local(page, server)


def test_graphiql_renders_and_runs_a_query_with_a_bearer_token(server, browser):
    status, headers, html = get(server.url + "/graphql", accept="text/html")
    assert status == 200 and headers.get_content_type() == "text/html"
    assert_strict_page_csp(headers)
    assert b"unpkg" not in html and b"//" not in html.replace(b"<!DOCTYPE", b"")

    user_id = f"browser-{uuid.uuid4().hex[:8]}"
    token = dev_token(server.settings, user_id, "candidate")
    page = browser.new_page()
    page.navigate(server.url + "/graphql#" + urlencode({"token": token, "query": "{ me { userId } }"}))
    page.wait_for("""(() => {
        const editor = document.querySelector('.graphiql-query-editor .CodeMirror');
        return editor && editor.CodeMirror.getValue().includes('userId');
    })()""", timeout=RENDER_TIMEOUT, what="the GraphiQL query editor holding the query")
    assert page.evaluate("window.location.hash") == ""  # the token left the address bar
    editors = page.evaluate("[...document.querySelectorAll('.CodeMirror')].map(e => e.CodeMirror.getValue())")
    assert any(f'"Authorization": "Bearer {token}"' in text for text in editors)  # the headers editor

    page.evaluate("document.querySelector('.graphiql-execute-button').click()")
    result = page.wait_for(f"""(() => {{
        const pane = document.querySelector('.result-window .CodeMirror');
        const text = pane ? pane.CodeMirror.getValue() : '';
        return text.includes('{user_id}') || text.includes('errors') ? text : null;
    }})()""", timeout=RENDER_TIMEOUT, what="the result pane to show the user id")
    assert json.loads(result) == {"data": {"me": {"userId": user_id}}}
    posted = [u for u in page.requested_urls() if u == server.url + "/graphql"]
    assert posted, "the query was not sent to /graphql"
    assert_stayed_local(page, server)


def test_graphiql_is_not_served_unless_enabled(make_app):
    app = make_app()
    response = app.get("/graphql", headers={"Accept": "text/html"}, expect_errors=True)
    assert "text/html" not in response.content_type
    app.get("/static/graphiql/graphiql.min.js", status=404)
