"""The service processes the fixtures and `make services` start stay on loopback, telemetry off."""
from core.services import ferretdb_process, redis_process


def test_ferretdb_runs_on_loopback_with_telemetry_disabled(tmp_path):
    argv = ferretdb_process(tmp_path, port=27999).argv
    assert "--telemetry=disable" in argv
    assert "--listen-addr=127.0.0.1:27999" in argv
    assert "--debug-addr=-" in argv  # no extra HTTP listener
    assert any(a.startswith("--sqlite-url=file:") for a in argv)


def test_redis_binds_loopback_only(tmp_path):
    argv = redis_process(tmp_path, port=6999).argv
    assert argv[argv.index("--bind") + 1] == "127.0.0.1"
    assert argv[argv.index("--protected-mode") + 1] == "yes"
