"""A fake Groq server on 127.0.0.1 speaking the OpenAI-compatible chat-completions wire format.

The official ``groq`` SDK posts to ``{base_url}/openai/v1/chat/completions`` (see
``groq/resources/chat/completions.py``), so a client built with ``base_url=server.base_url``
talks to this server unchanged. The server checks the ``Authorization: Bearer <key>`` header
the way Groq does (401 with an ``invalid_api_key`` error body) and answers from a scripted
queue of behaviours; when the queue is empty it answers with ``server.default``.

Usage::

    with FakeGroqServer(api_key="test-key") as server:
        server.script(RateLimited(retry_after=1), Reply("Hello"))
        client = LLMClient(LLMConfig(api_key="test-key", base_url=server.base_url))
        client.chat([...])
        assert len(server.requests) == 2
        assert server.requests[-1].messages[0]["role"] == "system"

Behaviours (each answers exactly one request):

- ``Reply(content)`` / ``JSONReply(data)``: a normal ``chat.completion``;
- ``RateLimited(retry_after=...)``: 429 with ``retry-after`` (and Groq's error body);
- ``ServerError(status=500)``: a 5xx with an error body;
- ``Delay(seconds, then=...)``: waits before answering (use a delay longer than the client timeout);
- ``JSONValidateFailed()``: Groq's real JSON-mode failure, 400 ``json_validate_failed``;
- ``MalformedBody()``: 200 with a body that is not JSON.

An invalid JSON reply from the model in JSON mode is simply ``Reply("not json")``.
"""
from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Union

CHAT_PATH = "/openai/v1/chat/completions"


@dataclass(frozen=True)
class Reply:
    """A successful completion whose assistant message is ``content``.

    Token counts default to an estimate (characters / 4) of the prompt and the content.
    """

    content: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str = "stop"


def JSONReply(data: Any, **kwargs: Any) -> Reply:  # noqa: N802 - reads like the other behaviours
    """A successful completion whose content is ``data`` serialised as JSON."""
    return Reply(json.dumps(data), **kwargs)


@dataclass(frozen=True)
class RateLimited:
    """429 Too Many Requests with ``retry-after`` (seconds) and/or ``retry-after-ms``."""

    retry_after: float | None = 1
    retry_after_ms: float | None = None


@dataclass(frozen=True)
class ServerError:
    """A 5xx answer with an OpenAI-style error body."""

    status: int = 500
    message: str = "Internal Server Error"


@dataclass(frozen=True)
class Delay:
    """Wait ``seconds`` before answering with ``then`` (the client may time out first)."""

    seconds: float
    then: "Behaviour" = field(default_factory=lambda: Reply("late reply"))


@dataclass(frozen=True)
class JSONValidateFailed:
    """Groq's answer when the model's JSON-mode output is not valid JSON: 400 ``json_validate_failed``."""

    failed_generation: str = "{not json"


@dataclass(frozen=True)
class MalformedBody:
    """200 OK with a ``application/json`` content type but a body that is not JSON."""

    body: bytes = b'{"id": "chatcmpl-broken", "choices": ['


Behaviour = Union[Reply, RateLimited, ServerError, Delay, JSONValidateFailed, MalformedBody]


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received (recorded before it is answered)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any  # the parsed JSON body, or the raw text when it is not JSON
    received_at: float  # time.monotonic()

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The chat messages of the request ([] when absent)."""
        return list(self.body.get("messages", [])) if isinstance(self.body, dict) else []

    @property
    def json_mode(self) -> bool:
        """Whether the request asked for ``response_format={"type": "json_object"}``."""
        return isinstance(self.body, dict) and (self.body.get("response_format") or {}).get("type") == "json_object"


def _estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


class FakeGroqServer:
    """A threaded HTTP server on 127.0.0.1 (a free port) that plays scripted Groq behaviours.

    ``api_key``: the bearer key requests must carry; ``default``: the behaviour when the script
    is empty. Start with ``start()`` or a ``with`` block; ``stop()`` also cuts short pending delays.
    """

    def __init__(self, api_key: str = "test-key", default: Behaviour | None = None) -> None:
        self.api_key = api_key
        self.default: Behaviour = default or Reply("Thanks. Could you tell me more?")
        self._script: deque[Behaviour] = deque()
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> "FakeGroqServer":
        """Bind a free loopback port and serve in a daemon thread."""
        handler = _make_handler(self)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-groq", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> "FakeGroqServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting and inspection ------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """The URL to give the SDK as ``base_url`` (the SDK appends ``/openai/v1/...``)."""
        if self._httpd is None:
            raise RuntimeError("FakeGroqServer is not running; call start() first")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, *behaviours: Behaviour) -> None:
        """Queue behaviours; each answers one request, in order."""
        with self._lock:
            self._script.extend(behaviours)

    @property
    def pending(self) -> int:
        """How many scripted behaviours are still queued."""
        with self._lock:
            return len(self._script)

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the requests received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self._requests.clear()

    # -- internals used by the handler ---------------------------------------------------------
    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _next_behaviour(self) -> Behaviour:
        with self._lock:
            return self._script.popleft() if self._script else self.default


def _make_handler(server: FakeGroqServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server naming
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8", "replace")
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = raw
            server._record(
                RecordedRequest("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic())
            )
            if self.path != CHAT_PATH:
                return self._error(404, f"Unknown request URL: POST {self.path}", "invalid_request_error", "unknown_url")
            if self.headers.get("Authorization") != f"Bearer {server.api_key}":
                return self._error(401, "Invalid API Key", "invalid_request_error", "invalid_api_key")
            if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body.get("model"):
                return self._error(400, "'messages' and 'model' are required", "invalid_request_error", None)
            self._play(server._next_behaviour(), body)

        def _play(self, behaviour: Behaviour, body: dict) -> None:
            if isinstance(behaviour, Delay):
                # An Event wait rather than sleep, so stop() does not hang on a pending delay.
                server._stopping.wait(behaviour.seconds)
                return self._play(behaviour.then, body)
            if isinstance(behaviour, Reply):
                return self._json(200, self._completion(behaviour, body))
            if isinstance(behaviour, RateLimited):
                headers = {}
                if behaviour.retry_after is not None:
                    headers["retry-after"] = f"{behaviour.retry_after:g}"
                if behaviour.retry_after_ms is not None:
                    headers["retry-after-ms"] = f"{behaviour.retry_after_ms:g}"
                return self._error(
                    429, "Rate limit reached for model. Please try again later.", "tokens", "rate_limit_exceeded", headers
                )
            if isinstance(behaviour, ServerError):
                return self._error(behaviour.status, behaviour.message, "internal_server_error", None)
            if isinstance(behaviour, JSONValidateFailed):
                return self._json(
                    400,
                    {
                        "error": {
                            "message": "Failed to generate JSON. Please adjust your prompt. "
                            "See 'failed_generation' for more details.",
                            "type": "invalid_request_error",
                            "code": "json_validate_failed",
                            "failed_generation": behaviour.failed_generation,
                        }
                    },
                )
            if isinstance(behaviour, MalformedBody):
                return self._send(200, behaviour.body, {"Content-Type": "application/json"})
            raise TypeError(f"unknown fake Groq behaviour: {behaviour!r}")

        @staticmethod
        def _completion(reply: Reply, body: dict) -> dict:
            prompt_text = "".join(str(m.get("content", "")) for m in body["messages"] if isinstance(m, dict))
            prompt_tokens = reply.prompt_tokens if reply.prompt_tokens is not None else _estimate_tokens(prompt_text)
            completion_tokens = (
                reply.completion_tokens if reply.completion_tokens is not None else _estimate_tokens(reply.content)
            )
            return {
                "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply.content},
                        "logprobs": None,
                        "finish_reason": reply.finish_reason,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
                "system_fingerprint": "fp_fake",
                "x_groq": {"id": f"req_{uuid.uuid4().hex[:26]}"},
            }

        def _error(self, status: int, message: str, type_: str, code: str | None, headers: dict | None = None) -> None:
            self._json(status, {"error": {"message": message, "type": type_, "code": code}}, headers)

        def _json(self, status: int, payload: dict, headers: dict | None = None) -> None:
            self._send(status, json.dumps(payload).encode(), {"Content-Type": "application/json", **(headers or {})})

        def _send(self, status: int, data: bytes, headers: dict[str, str]) -> None:
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout); nothing to answer

    return Handler
