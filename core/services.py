"""Start private Redis and FerretDB processes for tests, `make services` and benchmarks.

Both bind to 127.0.0.1 only. FerretDB always runs with ``--telemetry=disable`` so that
nothing leaves the machine.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

FERRETDB_VERSION = "v1.24.2"

INSTALL_HINT = {
    "redis-server": "install it with `apt-get install redis-server` (or run `make services`)",
    "ferretdb": (
        "build it with `scripts/services/install-ferretdb.sh` (FerretDB "
        f"{FERRETDB_VERSION}; `make services` runs it), or set INTERVIEWMINDS_MONGO_URI"
    ),
}


class ServiceBinaryMissing(RuntimeError):
    """A service binary is not installed; the message says how to get it."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def find_binary(name: str) -> str:
    """Locate ``name`` on PATH or in the Go bin directory, or raise with an install hint."""
    found = shutil.which(name)
    candidates = [found] if found else []
    gopath = os.environ.get("GOPATH", str(Path.home() / "go"))
    candidates += [os.path.join(gopath, "bin", name), f"/usr/sbin/{name}", f"/usr/bin/{name}"]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise ServiceBinaryMissing(f"{name} not found: {INSTALL_HINT.get(name, 'install it')}")


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{proc.args[0]} did not listen on 127.0.0.1:{port} within {timeout}s")


@dataclass
class ServiceProcess:
    """One running service process and how to reach it."""

    name: str
    port: int
    workdir: Path
    argv: list[str]
    proc: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        if self.name == "redis":
            return f"redis://127.0.0.1:{self.port}/0"
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self) -> "ServiceProcess":
        log = open(self.workdir / f"{self.name}.log", "ab")
        self.proc = subprocess.Popen(
            self.argv, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for_port(self.port, self.proc)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def redis_process(workdir: Path, port: int | None = None) -> ServiceProcess:
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    argv = [
        find_binary("redis-server"), "--bind", "127.0.0.1", "--port", str(port),
        "--save", "", "--appendonly", "no", "--dir", str(workdir), "--protected-mode", "yes",
    ]
    return ServiceProcess("redis", port, workdir, argv)


def ferretdb_process(workdir: Path, port: int | None = None) -> ServiceProcess:
    port = port or free_port()
    data = workdir / "sqlite"
    data.mkdir(parents=True, exist_ok=True)
    argv = [
        find_binary("ferretdb"), "--handler=sqlite", f"--sqlite-url=file:{data}/",
        f"--state-dir={workdir}", f"--listen-addr=127.0.0.1:{port}", "--debug-addr=-",
        "--telemetry=disable", "--log-level=warn",
    ]
    return ServiceProcess("ferretdb", port, workdir, argv)


def main() -> None:  # pragma: no cover - used by `make services`
    """Run Redis and FerretDB on their standard ports under ``var/`` until interrupted."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--var", default="var")
    parser.add_argument("--redis-port", type=int, default=6379)
    parser.add_argument("--mongo-port", type=int, default=27017)
    args = parser.parse_args()
    var = Path(args.var).resolve()
    started = []
    for make, port in ((redis_process, args.redis_port), (ferretdb_process, args.mongo_port)):
        service = make(var / ("redis" if make is redis_process else "ferretdb"), port)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                print(f"{service.name}: something already listens on 127.0.0.1:{port}, reusing it")
                continue
        except OSError:
            pass
        started.append(service.start())
        print(f"{service.name}: {service.url} (logs in {service.workdir})")
    if not started:
        return

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)  # so `kill` stops the children too
    try:
        signal.pause()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        for service in started:
            service.stop()


if __name__ == "__main__":  # pragma: no cover
    main()
