"""A loopback HTTP receiver for tests: records every request and answers from a script.

    with Receiver([500, 500, 200]) as receiver:
        ...  # POST to receiver.url("/hook") three times
        requests = receiver.wait_for(3)
        assert [r.path for r in requests] == ["/hook"] * 3

The script is consumed one entry per request; once it runs out, the last entry repeats
(an empty script answers 200). An entry is an int (status), a ``Reply`` (status, headers,
body, delay) or a callable ``(RecordedRequest) -> Reply | int`` for dynamic answers.
Helpers build common replies: ``Reply.redirect``, ``Reply.retry_after``, ``Reply.slow``.

It listens on 127.0.0.1 (or another loopback address) on a free port, one thread per
request, speaks plain HTTP/1.1 with ``Connection: close``, or HTTPS when given an
``ssl.SSLContext`` with a server certificate loaded.
"""
from __future__ import annotations

import http.server
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence, Union

__all__ = ["RecordedRequest", "Receiver", "Reply"]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the receiver saw it. Header names are lower case; repeats are joined by ", "."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float  # time.monotonic() when the request was fully read

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


@dataclass(frozen=True)
class Reply:
    """What the receiver answers. ``delay`` seconds pass before anything is sent back."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> "Reply":
        """A redirect to ``location`` (which a well-behaved sender must not follow)."""
        return cls(status, {"Location": location}, b"moved")

    @classmethod
    def retry_after(cls, value: Union[int, str], status: int = 429) -> "Reply":
        """A 429 (or 503) carrying ``Retry-After: value`` (seconds or an HTTP date)."""
        return cls(status, {"Retry-After": str(value)}, b"slow down")

    @classmethod
    def slow(cls, delay: float, status: int = 200) -> "Reply":
        """An answer sent only after ``delay`` seconds, to provoke client timeouts."""
        return cls(status, {}, b"late", delay)


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass  # clients that hang up or fail TLS are part of what tests provoke


ScriptEntry = Union[int, Reply, Callable[[RecordedRequest], Union[Reply, int]]]


class Receiver:
    """A threaded HTTP(S) server on a loopback address that records requests.

    ``script``: the answers, in order (see the module docstring).
    ``host``/``port``: where to listen (port 0 picks a free one).
    ``ssl_context``: a server-side context to speak HTTPS.
    Use as a context manager, or call ``start()`` and ``stop()``.
    """

    def __init__(
        self,
        script: Sequence[ScriptEntry] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
    ):
        self._lock = threading.Condition()
        self._script: list[ScriptEntry] = list(script)
        self._requests: list[RecordedRequest] = []
        self._stopping = threading.Event()
        self._server = _QuietServer((host, port), self._handler_class())
        if ssl_context is not None:
            # The handshake happens in the request's thread (Handler.setup), so a client
            # that never completes it cannot stall the accept loop.
            self._server.socket = ssl_context.wrap_socket(
                self._server.socket, server_side=True, do_handshake_on_connect=False
            )
        self.host, self.port = self._server.server_address[:2]
        self.scheme = "https" if ssl_context is not None else "http"
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> "Receiver":
        """Start serving in a background thread; returns self."""
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port; slow replies in progress are cut short."""
        self._stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()

    def __enter__(self) -> "Receiver":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # -- the test's view ---------------------------------------------------------------
    def url(self, path: str = "/", *, host: str | None = None) -> str:
        """A URL on this receiver; ``host`` replaces the address (e.g. a name a test resolver maps)."""
        return f"{self.scheme}://{host or self.host}:{self.port}{path}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until ``count`` requests have arrived; raise AssertionError after ``timeout``."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._requests) >= count, timeout):
                raise AssertionError(
                    f"receiver got {len(self._requests)} request(s), expected {count} "
                    f"within {timeout}s"
                )
            return list(self._requests)

    def set_script(self, script: Sequence[ScriptEntry]) -> None:
        """Replace the remaining answers."""
        with self._lock:
            self._script = list(script)

    # -- internals ---------------------------------------------------------------------
    def _record_and_choose(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self._requests.append(request)
            self._lock.notify_all()
            if not self._script:
                entry: ScriptEntry = 200
            elif len(self._script) == 1:
                entry = self._script[0]
            else:
                entry = self._script.pop(0)
        if callable(entry) and not isinstance(entry, (int, Reply)):
            entry = entry(request)
        return entry if isinstance(entry, Reply) else Reply(int(entry))

    def _handler_class(self) -> type[http.server.BaseHTTPRequestHandler]:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 30  # a client that stalls must not keep a thread forever

            def setup(self) -> None:
                super().setup()
                if isinstance(self.request, ssl.SSLSocket):
                    self.request.do_handshake()

            def handle_one_request(self) -> None:
                try:
                    super().handle_one_request()
                except (ConnectionError, TimeoutError, ssl.SSLError):
                    self.close_connection = True  # the client gave up (e.g. its timeout)

            def _serve(self) -> None:
                body = self._read_body()
                request = RecordedRequest(
                    method=self.command,
                    path=self.path,
                    headers=self._headers(),
                    body=body,
                    received_at=time.monotonic(),
                )
                reply = receiver._record_and_choose(request)
                if reply.delay and receiver._stopping.wait(reply.delay):
                    self.close_connection = True
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body)
                self.close_connection = True

            def _headers(self) -> dict[str, str]:
                # Repeated headers are joined with ", " so that a duplicate stays visible.
                joined: dict[str, str] = {}
                for name, value in self.headers.items():
                    name = name.lower()
                    joined[name] = f"{joined[name]}, {value}" if name in joined else value
                return joined

            def _read_body(self) -> bytes:
                if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass  # trailers
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

            def log_message(self, format: str, *args) -> None:  # keep test output quiet
                pass

        return Handler
