"""Production refuses unsafe settings with one line naming the key; GraphQL introspection is off
in production unless explicitly allowed; /metrics serves only an allow-list of networks;
production.ini listens on loopback behind a proxy and survives a flood of idle connections
(issue 17, finding 10)."""
from __future__ import annotations

import configparser
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import core
from core.app import load_settings
from core.services import free_port, wait_for_port
from core.settings import SettingsError

ROOT = Path(__file__).resolve().parents[2]
INTROSPECTION_QUERY = {"query": "{ __schema { queryType { name } } }"}
CLERK = {"auth.jwks_url": "https://clerk.example.com/.well-known/jwks.json",
         "auth.issuer": "https://clerk.example.com", "auth.authorized_parties": "https://app.example.com"}


def full(key: str) -> str:
    return key if key.startswith("interviewminds.") else f"interviewminds.{key}"


@pytest.fixture
def production(test_settings, monkeypatch):
    """Factory: ``production(**overrides)`` -> the raw settings of a production app that would
    start (secrets in the environment, no dev auth, no outbound allow-list) plus overrides."""
    monkeypatch.setenv("INTERVIEWMINDS_MONGO_URI", test_settings["interviewminds.mongo.uri"])
    monkeypatch.setenv("INTERVIEWMINDS_REDIS_URL", test_settings["interviewminds.redis.url"])

    def factory(**overrides) -> dict:
        raw = {k: v for k, v in test_settings.items()
               if k not in ("interviewminds.mongo.uri", "interviewminds.redis.url", "interviewminds.outbound.allow_cidrs")}
        raw.update({"interviewminds.env": "production", "interviewminds.auth.dev": "false"})
        raw.update({full(k): v for k, v in overrides.items()})
        return raw

    return factory


def refusal(raw: dict) -> str:
    """What an operator sees when pserve cannot start the app (core.main's one line)."""
    with pytest.raises(SystemExit) as info:
        core.main({}, **raw)
    message = str(info.value)
    assert "\n" not in message
    return message


# -- startup refusals ---------------------------------------------------------------------------

@pytest.mark.parametrize("overrides,key,reason", [
    ({"outbound.allow_cidrs": "127.0.0.0/8"}, "interviewminds.outbound.allow_cidrs",
     "must be empty in production"),
    ({"outbound.allow_cidrs": "10.0.0.0/8 192.168.0.0/16"}, "interviewminds.outbound.allow_cidrs",
     "must be empty in production"),
    ({"graphql.graphiql": "true"}, "interviewminds.graphql.graphiql", "GraphiQL is refused in production"),
    ({"cors.origins": "*"}, "interviewminds.cors.origins", "'*' is refused in production"),
    ({"cors.origins": "https://app.example.com *"}, "interviewminds.cors.origins", "'*' is refused in production"),
    ({**CLERK, "auth.issuer": ""}, "interviewminds.auth.issuer", "required in production when Clerk is configured"),
    ({**CLERK, "auth.authorized_parties": ""}, "interviewminds.auth.authorized_parties",
     "required in production when Clerk is configured"),
], ids=["allow-loopback", "allow-private", "graphiql", "cors-star", "cors-star-among-others",
        "clerk-no-issuer", "clerk-no-azp"])
def test_production_refuses_an_unsafe_setting_with_one_line_naming_it(production, overrides, key, reason):
    message = refusal(production(**overrides))
    assert message.startswith(f"interviewminds: cannot start: {key}: "), message
    assert reason in message


def test_production_refuses_a_clerk_pem_key_without_issuer(production, monkeypatch):
    monkeypatch.setenv("INTERVIEWMINDS_AUTH_PUBLIC_KEY_PEM", "-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----")
    message = refusal(production(**{"auth.authorized_parties": "https://app.example.com"}))
    assert message.startswith("interviewminds: cannot start: interviewminds.auth.issuer: required in production")


def test_the_same_settings_start_outside_production(test_settings):
    unsafe = {"interviewminds.graphql.graphiql": "true", "interviewminds.cors.origins": "*",
              "interviewminds.auth.jwks_url": CLERK["auth.jwks_url"]}
    settings, _, _ = load_settings({**test_settings, **unsafe}, environ={})
    assert settings["interviewminds.outbound.allow_cidrs"] == ["127.0.0.0/8"]


# -- introspection ------------------------------------------------------------------------------

def test_a_safe_production_app_starts_and_refuses_introspection(production):
    app = core.main({}, **production(**CLERK))
    from webtest import TestApp

    client = TestApp(app, extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    body = client.post_json("/graphql", INTROSPECTION_QUERY).json
    assert body["data"] is None
    assert "introspection has been disabled" in body["errors"][0]["message"]
    assert client.post_json("/graphql", {"query": "{ __typename }"}).json == {"data": {"__typename": "Query"}}


def test_introspection_is_served_in_production_only_when_explicitly_allowed(production):
    from webtest import TestApp

    client = TestApp(core.main({}, **production(**{"graphql.introspection": "true"})))
    assert client.post_json("/graphql", INTROSPECTION_QUERY).json == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


def test_introspection_is_on_by_default_outside_production_and_can_be_turned_off(make_app):
    assert make_app().post_json("/graphql", INTROSPECTION_QUERY).json["data"]["__schema"]
    body = make_app(**{"graphql.introspection": "false"}).post_json("/graphql", INTROSPECTION_QUERY).json
    assert body["data"] is None and "introspection has been disabled" in body["errors"][0]["message"]


# -- /metrics allow-list ------------------------------------------------------------------------

def metrics_status(app, remote: str, forwarded: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    response = app.get("/metrics", headers=headers, extra_environ={"REMOTE_ADDR": remote}, expect_errors=True)
    if response.status_int == 403:
        assert response.json["error"].startswith("permission denied: /metrics is served only to")
    return response.status_int


def test_metrics_are_served_only_to_the_allowed_networks(make_app):
    app = make_app(**{"metrics.allow_cidrs": "10.1.0.0/16 2001:db8::/32"})
    assert metrics_status(app, "10.1.2.3") == 200
    assert metrics_status(app, "2001:db8::5") == 200
    assert metrics_status(app, "::ffff:10.1.2.3") == 200  # an IPv4 client of a dual-stack socket
    assert metrics_status(app, "127.0.0.1") == 403
    assert metrics_status(app, "10.2.0.1") == 403
    assert metrics_status(app, "::ffff:10.2.0.1") == 403


def test_metrics_use_the_rate_limiters_client_address(make_app):
    app = make_app(**{"metrics.allow_cidrs": "10.1.0.0/16", "http.trusted_proxies": "127.0.0.1"})
    assert metrics_status(app, "127.0.0.1", forwarded="10.1.2.3") == 200  # through the trusted proxy
    assert metrics_status(app, "127.0.0.1", forwarded="203.0.113.9") == 403
    # A client cannot claim an allowed address: X-Forwarded-For counts only from a trusted proxy.
    assert metrics_status(app, "203.0.113.9", forwarded="10.1.2.3") == 403


def test_metrics_are_open_by_default_in_development_and_loopback_only_in_production(make_app, production):
    assert metrics_status(make_app(), "203.0.113.9") == 200
    from webtest import TestApp

    app = TestApp(core.main({}, **production()))
    assert metrics_status(app, "127.0.0.1") == 200
    assert metrics_status(app, "::1") == 200
    assert metrics_status(app, "203.0.113.9") == 403
    assert metrics_status(app, "10.0.0.8") == 403


def test_a_bad_metrics_network_stops_startup_naming_the_key(make_app):
    with pytest.raises(SettingsError, match=r"^interviewminds.metrics.allow_cidrs: invalid value '10.0.0.0/33'"):
        make_app(**{"metrics.allow_cidrs": "10.0.0.0/33"})


# -- production.ini -----------------------------------------------------------------------------

def production_ini() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "production.ini")
    return parser


def test_production_ini_listens_on_loopback_for_a_reverse_proxy():
    ini = production_ini()
    assert ini["DEFAULT"]["http_host"] == "127.0.0.1"
    server = ini["server:main"]
    assert server["trusted_proxy"] == "127.0.0.1"
    assert int(server["connection_limit"]) >= 500 and server["asyncore_use_poll"] == "true"
    assert int(server["channel_timeout"]) <= 30 and int(server["cleanup_interval"]) <= 10
    assert ini["app:main"]["interviewminds.metrics.allow_cidrs"].split() == ["127.0.0.0/8", "::1"]


SERVE = """
import sys
from paste.deploy import loadserver
server = loadserver("config:" + sys.argv[1], global_conf={"http_host": "127.0.0.1", "http_port": sys.argv[2]})
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
server(app)
"""


def test_waitress_as_production_ini_configures_it_keeps_answering_past_110_idle_connections(tmp_path):
    # 110 half-open sockets (a request line and nothing more) stopped waitress's defaults
    # (connection_limit 100) from accepting anything else: /ping timed out.
    port = free_port()
    log = open(tmp_path / "waitress.log", "wb")
    proc = subprocess.Popen([sys.executable, "-c", SERVE, str(ROOT / "production.ini"), str(port)], cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT)
    idle: list[socket.socket] = []
    try:
        wait_for_port(port, proc, timeout=60)
        for _ in range(110):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"GET /slow HTTP/1.1\r\n")
            idle.append(sock)
        time.sleep(0.5)  # let waitress accept them all
        start = time.monotonic()
        response = httpx.get(f"http://127.0.0.1:{port}/ping", timeout=5)
        assert response.status_code == 200 and time.monotonic() - start < 5
    finally:
        for sock in idle:
            sock.close()
        proc.terminate()
        proc.wait(10)
        log.close()
