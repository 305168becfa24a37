"""Fixtures for webhooks tests: an app with the plugin and real worker processes.

Everything runs against the session's private Redis and FerretDB (core.testing).
"""
from __future__ import annotations

import pytest

from core.testing import make_test_app
from plugins.webhooks.secrets import SecretBox
from core.testing import write_ini
from tests.plugins.webhooks.helpers import FAST, PLUGINS, WorkerProcess, full_key


@pytest.fixture
def wh_settings(test_settings):
    """Test settings with the webhooks plugin, a fixed encryption key and fast timings."""
    settings = dict(test_settings)
    settings["interviewminds.plugins"] = PLUGINS
    settings["interviewminds.webhooks.encryption_key"] = SecretBox.generate_key()
    settings.update(FAST)
    return settings


@pytest.fixture
def wh_app(wh_settings):
    """Factory: ``wh_app(**overrides)`` -> AppClient. Overrides update ``wh_settings`` in
    place, so workers started afterwards run with the same settings."""

    def factory(**overrides):
        wh_settings.update({full_key(k): str(v) for k, v in overrides.items()})
        return make_test_app(dict(wh_settings))

    return factory


@pytest.fixture
def worker(wh_settings, tmp_path):
    """Factory: ``worker(burst=False)`` starts ``interviewminds worker`` over ``wh_settings``."""
    started: list[WorkerProcess] = []

    def factory(burst: bool = False) -> WorkerProcess:
        n = len(started)
        ini = write_ini(tmp_path / f"worker{n}.ini", wh_settings)
        process = WorkerProcess(ini, tmp_path / f"worker{n}.log", burst=burst)
        started.append(process)
        return process

    yield factory
    for process in started:
        process.stop()
