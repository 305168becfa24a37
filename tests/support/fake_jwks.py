"""A fake Clerk JWKS endpoint on 127.0.0.1 whose keys a test can rotate at runtime.

Serves ``GET /.well-known/jwks.json`` (Clerk's Frontend API path) as ``application/json``,
counts requests, and signs tokens with any of its keys::

    with FakeJWKSServer() as server:
        kid = server.add_key()
        token = server.sign(kid, {"sub": "user_1", "exp": ...})
        source = JWKSKeySource(server.url)
        server.rotate()          # new key in, old key out
        assert server.requests == 1

RSA keys are generated once per process and reused (generation costs ~50 ms each).
"""
from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

JWKS_PATH = "/.well-known/jwks.json"
_KEY_POOL: list[rsa.RSAPrivateKey] = []
_POOL_LOCK = threading.Lock()


def rsa_key(index: int) -> rsa.RSAPrivateKey:
    """The ``index``-th RSA-2048 test key of this process (generated on first use)."""
    with _POOL_LOCK:
        while len(_KEY_POOL) <= index:
            _KEY_POOL.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        return _KEY_POOL[index]


def public_jwk(private_key: rsa.RSAPrivateKey, kid: str) -> dict:
    """The public JWK of ``private_key`` as Clerk publishes it (kty, use, alg, kid, n, e)."""
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key(), as_dict=True)
    return {**jwk, "use": "sig", "alg": "RS256", "kid": kid}


class FakeJWKSServer:
    """Threaded JWKS server; ``url`` is the full JWKS URL, ``requests`` the number served."""

    def __init__(self) -> None:
        self._keys: dict[str, rsa.RSAPrivateKey] = {}
        self._retired: dict[str, rsa.RSAPrivateKey] = {}
        self._lock = threading.Lock()
        self._next_key = 0
        self.requests = 0
        self.status = 200  # set to 500 (etc.) to make the endpoint fail
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server API
                with server._lock:
                    server.requests += 1
                    body = json.dumps(server.jwks()).encode()
                    status = server.status
                if self.path.split("?")[0] != JWKS_PATH:
                    status, body = 404, b'{"error":"not found"}'
                elif status != 200:
                    body = b'{"error":"unavailable"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{JWKS_PATH}"

    def start(self) -> "FakeJWKSServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "FakeJWKSServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def jwks(self) -> dict:
        """The document currently served."""
        return {"keys": [public_jwk(key, kid) for kid, key in self._keys.items()]}

    def add_key(self, kid: str | None = None) -> str:
        """Publish a new signing key; returns its kid."""
        kid = kid or f"ins_{uuid.uuid4().hex[:12]}"
        with self._lock:
            self._keys[kid] = rsa_key(self._next_key)
            self._next_key += 1
        return kid

    def remove_key(self, kid: str) -> None:
        """Stop publishing ``kid`` (its private key can still sign, for negative tests)."""
        with self._lock:
            self._retired[kid] = self._keys.pop(kid)

    def rotate(self) -> str:
        """Add a new key and remove all others, like a Clerk key rotation; returns the new kid."""
        old = list(self._keys)
        kid = self.add_key()
        for previous in old:
            self.remove_key(previous)
        return kid

    def private_key(self, kid: str) -> rsa.RSAPrivateKey:
        """The private key behind ``kid`` (published or retired)."""
        return self._keys.get(kid) or self._retired[kid]

    def sign(self, kid: str, claims: dict, *, headers: dict | None = None) -> str:
        """An RS256 token for ``claims`` signed by ``kid``'s key, with ``kid`` in the header."""
        return jwt.encode(claims, self.private_key(kid), algorithm="RS256",
                          headers={"kid": kid, **(headers or {})})
