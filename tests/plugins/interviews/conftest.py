"""Fixtures for the interviews plugin tests (real Redis and FerretDB from core.testing)."""
from __future__ import annotations

import pytest

from tests.plugins.interviews import event_log
from tests.plugins.interviews.helpers import NO_RATE_LIMIT, PLUGINS
from tests.support.fake_groq import FakeGroqServer


@pytest.fixture
def events():
    """The event recorder's list, emptied for this test."""
    event_log.clear()
    yield event_log
    event_log.clear()


@pytest.fixture
def app(make_app, events):
    """The app with the interviews plugin and the event recorder; no LLM key (heuristic path)."""
    return make_app(plugins=PLUGINS, **NO_RATE_LIMIT)


@pytest.fixture
def groq():
    with FakeGroqServer(api_key="test-key") as server:
        yield server


@pytest.fixture
def groq_app(make_app, events, groq):
    """The app talking to the fake Groq server; the breaker opens after 2 failures, 0.5 s timeout."""
    return make_app(plugins=[*PLUGINS, "groq"], **NO_RATE_LIMIT, **{
        "groq.api_key": "test-key", "groq.base_url": groq.base_url, "groq.timeout": "0.5",
        "breakers.fail_max": "2", "breakers.reset_timeout": "60",
    })
