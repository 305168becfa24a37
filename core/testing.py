"""Helpers for testing the app and plugins against real services (a pytest plugin).

Plugin authors enable it in their ``conftest.py``::

    pytest_plugins = ["core.testing"]

and get fixtures ``redis_url`` and ``mongo_uri`` (private Redis/FerretDB processes started
per test session, or the servers in ``INTERVIEWMINDS_REDIS_URL`` / ``INTERVIEWMINDS_MONGO_URI``),
``test_settings`` and ``make_app``::

    def test_my_route(make_app):
        app = make_app(plugins=["myplugin"])
        token = app.token("user-1", "candidate")
        app.get("/api/my", headers={"Authorization": f"Bearer {token}"}, status=200)
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import webtest

from core.services import ferretdb_process, redis_process


def base_settings(redis_url: str, mongo_uri: str, var_dir: str | Path, **overrides) -> dict:
    """Settings for a test app: dev auth, loopback outbound allowed, private var dir."""
    settings = {
        "interviewminds.env": "test",
        "interviewminds.auth.dev": "true",
        "interviewminds.var_dir": str(var_dir),
        "interviewminds.mongo.uri": mongo_uri,
        "interviewminds.redis.url": redis_url,
        "interviewminds.outbound.allow_cidrs": "127.0.0.0/8",
        "interviewminds.health.timeout": "2",
    }
    settings.update({k if k.startswith("interviewminds.") or "." in k else f"interviewminds.{k}": v
                     for k, v in overrides.items()})
    return settings


class AppClient(webtest.TestApp):
    """A webtest client with a ``token(user_id, role)`` helper for dev tokens."""

    def token(self, user_id: str, role: str = "candidate", ttl: int = 3600) -> str:
        from core.auth.devkeys import issue_dev_token, load_or_create_dev_key
        from core.auth.setup import dev_key_path
        from core.auth.users import set_role

        set_role(user_id, role, by="test")
        key = load_or_create_dev_key(dev_key_path(self.app.registry.settings))
        return issue_dev_token(key, user_id=user_id, role=role, ttl=ttl)

    def auth(self, user_id: str, role: str = "candidate") -> dict:
        """Headers for a request as ``user_id`` with ``role``."""
        return {"Authorization": f"Bearer {self.token(user_id, role)}"}

    @property
    def registry(self):
        return self.app.registry


def make_test_app(settings: dict, environ: dict | None = None) -> AppClient:
    from core.app import make_wsgi_app

    return AppClient(make_wsgi_app(settings, environ=environ or {}), extra_environ={"REMOTE_ADDR": "127.0.0.1"})


@pytest.fixture
def test_settings(redis_url, mongo_uri, tmp_path):
    return base_settings(redis_url, mongo_uri, tmp_path / "var")


@pytest.fixture
def make_app(test_settings):
    """Factory: ``make_app(plugins=[...], **settings)`` -> :class:`AppClient`."""

    def factory(plugins=(), environ=None, **overrides):
        settings = dict(test_settings)
        settings["interviewminds.plugins"] = " ".join(plugins)
        settings.update({(k if k.startswith("interviewminds.") else f"interviewminds.{k}"): v
                         for k, v in overrides.items()})
        return make_test_app(settings, environ)

    return factory


def _start(make, base: Path):
    return make(base).start()


@pytest.fixture(scope="session")
def services_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("services")


@pytest.fixture(scope="session")
def redis_service(services_dir):
    """A running Redis: ``(url, ServiceProcess or None when it comes from the environment)``."""
    if os.environ.get("INTERVIEWMINDS_REDIS_URL"):
        yield os.environ["INTERVIEWMINDS_REDIS_URL"], None
        return
    service = _start(redis_process, services_dir / "redis")
    yield service.url, service
    service.stop()


@pytest.fixture(scope="session")
def mongo_service(services_dir):
    """A running MongoDB-wire server: ``(uri, ServiceProcess or None)``."""
    if os.environ.get("INTERVIEWMINDS_MONGO_URI"):
        yield os.environ["INTERVIEWMINDS_MONGO_URI"], None
        return
    service = _start(ferretdb_process, services_dir / "ferretdb")
    yield service.url, service
    service.stop()


@pytest.fixture
def redis_url(redis_service):
    """URL of the session Redis; the database is flushed after each test."""
    import redis

    url = redis_service[0]
    yield url
    redis.Redis.from_url(url).flushdb()


@pytest.fixture
def mongo_uri(mongo_service):
    """URI of a fresh database on the session server, dropped after the test."""
    import pymongo

    base = mongo_service[0].split("?")[0].rstrip("/")
    if base.count("/") > 2:  # a database in the env URI: keep the server part only
        base = base.rsplit("/", 1)[0]
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield f"{base}/{name}"
    client = pymongo.MongoClient(base, serverSelectionTimeoutMS=3000)
    try:
        client.drop_database(name)
    finally:
        client.close()


# Seconds a served app may take to answer its first request. Building one takes about a
# second on an idle machine, but a fresh clone's `make test` on a loaded 2-core machine (a Go
# build beside the suite) once took over 30 s: a slow start is not a failure, a dead one is
# (and is reported at once). Override with INTERVIEWMINDS_TEST_READY_TIMEOUT.
READY_TIMEOUT = float(os.environ.get("INTERVIEWMINDS_TEST_READY_TIMEOUT", "120"))


def wait_until_serving(port: int, proc, timeout: float = READY_TIMEOUT, *, interval: float = 0.1,
                       clock=None, sleep=None) -> float:
    """Poll until something accepts connections on 127.0.0.1:``port``; returns the seconds it took.

    A served app's process builds the app before waitress opens its socket, so accepting
    connections means ready (a probe request would also show up in the app's own metrics).
    Raises RuntimeError at once if ``proc`` exits, or after ``timeout`` seconds.
    """
    import socket
    import time

    clock = clock or time.monotonic
    sleep = sleep or time.sleep
    start = clock()
    while True:
        code = proc.poll()
        if code is not None:
            raise RuntimeError(f"the app process exited with {code} before listening on port {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return clock() - start
        except OSError:
            pass  # still importing and building the app
        if clock() - start >= timeout:
            raise RuntimeError(f"the app did not listen on 127.0.0.1:{port} within {timeout:g} s")
        sleep(interval)


class ServedApp:
    """An app served by waitress in its own process (for multi-process tests and benches).

    The constructor returns once the app listens (see :data:`READY_TIMEOUT`);
    ``ready_seconds`` says how long that took.
    """

    def __init__(self, settings: dict, threads: int = 4, env: dict | None = None,
                 ready_timeout: float | None = None):
        import json
        import subprocess
        import sys

        from core.services import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        code = ("import json, logging, os, waitress; from core.app import make_wsgi_app; "
                "logging.getLogger('waitress.queue').setLevel(logging.ERROR); "
                "app = make_wsgi_app(json.loads(os.environ['IM_TEST_SETTINGS'])); "
                f"waitress.serve(app, host='127.0.0.1', port={self.port}, threads={threads}, _quiet=True)")
        environ = dict(os.environ, IM_TEST_SETTINGS=json.dumps(settings), **(env or {}))
        self.proc = subprocess.Popen([sys.executable, "-c", code], env=environ,
                                     cwd=str(Path(__file__).resolve().parents[1]))
        try:
            self.ready_seconds = wait_until_serving(
                self.port, self.proc, READY_TIMEOUT if ready_timeout is None else ready_timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except Exception:
                self.proc.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def dev_token(settings: dict, user_id: str, role: str) -> str:
    """A dev token for ``user_id`` with ``role`` recorded in the settings' MongoDB."""
    from core.auth.devkeys import issue_dev_token, load_or_create_dev_key
    from core.auth.setup import dev_key_path
    from core.auth.users import set_role
    from core.storage import connect_mongo

    connect_mongo(settings["interviewminds.mongo.uri"], 2000)
    set_role(user_id, role, by="test")
    key = load_or_create_dev_key(dev_key_path(settings))
    return issue_dev_token(key, user_id=user_id, role=role)


_INI_LOGGING = """
[loggers]
keys = root
[handlers]
keys = console
[formatters]
keys = generic
[logger_root]
level = WARNING
handlers = console
[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic
[formatter_generic]
format = %(levelname)s %(name)s %(message)s
"""


def write_ini(path: str | Path, settings: dict) -> Path:
    """A PasteDeploy ini holding ``settings`` (full keys) and quiet logging, for CLI and
    worker processes started by tests and benchmarks."""
    path = Path(path)
    lines = ["[app:main]", "use = egg:interviewminds"] + [f"{k} = {v}" for k, v in settings.items()]
    path.write_text("\n".join(lines) + "\n" + _INI_LOGGING)
    return path


def run_cli(*args, timeout: float = 120):
    """Run ``interviewminds ARGS`` in a subprocess from the repository root; returns the result."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "core.cli", *map(str, args)],
                          cwd=str(Path(__file__).resolve().parents[1]), capture_output=True, text=True,
                          timeout=timeout)
