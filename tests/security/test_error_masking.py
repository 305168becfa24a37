"""Finding 6 of the security review: GraphQL error text in production.

Raw exception text reached clients (FerretDB ``errmsg``, bson's ``OverflowError``). With
``interviewminds.env = production`` every error that is neither a domain error, an input error
nor an error in the request document itself answers "internal server error" with
``extensions.code``, ``extensions.status`` and ``extensions.correlationId`` (the response's
``X-Correlation-ID``); its text goes to the log under that id. Development shows more.
"""
from __future__ import annotations

import logging
import time

import jwt
import pymongo.errors
import pytest
from cryptography.hazmat.primitives import serialization

from core.testing import make_test_app
from tests.support.fake_jwks import rsa_key
from tests.support.local_plugins.graphql_error_probes import DRIVER_TEXT, OVERFLOW_TEXT

PROBES = "tests.support.local_plugins.graphql_error_probes"
ISSUER = "https://clerk.example.test"
PARTY = "https://app.example.test"
LEAKS = ("E11000", "errmsg", "secret_1", "8-byte", "cannot represent", "1099511627776", "OverflowError",
         "OperationFailure")
INTERNAL = ("probeDriverError", "probeWrappedError", "probeHugeInt", "probeOverflow")


@pytest.fixture
def production(test_settings):
    """A production-mode app (Clerk tokens from a PEM key, secrets from the environment)."""
    raw = {k: v for k, v in test_settings.items()
           if k not in ("interviewminds.mongo.uri", "interviewminds.redis.url", "interviewminds.auth.dev",
                        "interviewminds.outbound.allow_cidrs")}
    raw.update({"interviewminds.env": "production", "interviewminds.plugins": f"interviews {PROBES}",
                "interviewminds.auth.issuer": ISSUER, "interviewminds.auth.authorized_parties": PARTY})
    pem = rsa_key(0).public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    environ = {"INTERVIEWMINDS_MONGO_URI": test_settings["interviewminds.mongo.uri"],
               "INTERVIEWMINDS_REDIS_URL": test_settings["interviewminds.redis.url"],
               "INTERVIEWMINDS_AUTH_PUBLIC_KEY_PEM": pem}
    return make_test_app(raw, environ)


def clerk(user_id: str) -> dict:
    now = int(time.time())
    token = jwt.encode({"sub": user_id, "iss": ISSUER, "azp": PARTY, "iat": now, "nbf": now, "exp": now + 600},
                       rsa_key(0), algorithm="RS256")
    return {"Authorization": f"Bearer {token}"}


def post(app, query: str, variables=None, headers=None):
    return app.post_json("/graphql", {"query": query, "variables": variables or {}}, headers=headers or {})


def assert_masked(response, path: str) -> None:
    (error,) = response.json["errors"]
    assert error["message"] == "internal server error"
    assert error["path"] == [path]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "status": 500,
                                   "correlationId": response.headers["X-Correlation-ID"]}
    for leak in LEAKS:
        assert leak.lower() not in response.text.lower(), f"{leak!r} reached the client"


@pytest.mark.parametrize("field", INTERNAL)
def test_production_masks_every_internal_error_and_keeps_the_correlation_id(production, field, caplog):
    caplog.set_level(logging.ERROR, logger="core.graphql")
    response = post(production, "{ %s }" % field)
    assert response.status_int == 200 and response.json["data"] == {field: None}
    assert_masked(response, field)
    # The operator finds the real text in the log under the same correlation id.
    logged = "\n".join(r.getMessage() + (str(r.exc_info[1]) if r.exc_info else "") for r in caplog.records)
    assert response.headers["X-Correlation-ID"] in logged


def test_production_masks_driver_errors_from_a_real_plugin(production, monkeypatch):
    from plugins.interviews import services

    def overflow(*args, **kwargs):
        raise OverflowError(OVERFLOW_TEXT)

    def errmsg(*args, **kwargs):
        raise pymongo.errors.OperationFailure(DRIVER_TEXT, code=2, details={"errmsg": DRIVER_TEXT, "code": 2})

    monkeypatch.setattr(services, "create", overflow)
    monkeypatch.setattr(services, "list_for_user", errmsg)
    alice = clerk("user_alice")
    made = post(production, 'mutation { createInterview(input: {title: "t", role: "r", difficulty: "easy", '
                            'metadata: {n: 1}}) { id } }', headers=alice)
    assert made.json["data"] is None
    assert_masked(made, "createInterview")
    listed = post(production, 'query($u: String!) { interviews(userId: $u) { id } }', {"u": "user_alice"},
                  headers=alice)
    assert_masked(listed, "interviews")


def test_production_keeps_domain_input_and_request_errors(production):
    found = post(production, "{ probeNotFound }").json["errors"][0]
    assert found["message"] == "probe not found"
    assert found["extensions"] == {"code": "NOT_FOUND", "status": 404}
    bad = post(production, '{ interviews(userId: "bad id!") { id } }', headers=clerk("user_bob")).json["errors"][0]
    assert bad["message"].startswith("invalid input: userId") and bad["extensions"]["code"] == "BAD_USER_INPUT"
    # A validation error describes the client's own document, without naming fields it did not ask for
    # (introspection is off in production, so "Did you mean" would describe the schema).
    typo = post(production, "{ probeDriverErro }").json["errors"][0]
    assert typo["message"] == "Cannot query field 'probeDriverErro' on type 'Query'."
    coerced = post(production, "query($n: Int!) { probeEcho(n: $n) }", {"n": 2 ** 40}).json["errors"][0]
    assert coerced["message"].startswith("Variable '$n' has invalid value")  # the client's own value


def test_development_shows_more(make_app):
    app = make_app(plugins=[PROBES], debug="true")
    huge = post(app, "{ probeHugeInt }")
    (error,) = huge.json["errors"]
    assert error["message"] == "Int cannot represent non 32-bit signed integer value: 1099511627776"
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["extensions"]["correlationId"] == huge.headers["X-Correlation-ID"]
    overflow = post(app, "{ probeOverflow }").json["errors"][0]
    assert overflow["message"] == "internal server error"  # an exception's text only as debug details
    assert overflow["extensions"]["details"] == f"OverflowError: {OVERFLOW_TEXT}"
    typo = post(app, "{ probeDriverErro }").json["errors"][0]
    assert "Did you mean 'probeDriverError'" in typo["message"]
