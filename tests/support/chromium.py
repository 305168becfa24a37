"""Headless Chromium driven over the DevTools protocol on a pipe (no port, no extra package).

Chromium started with ``--remote-debugging-pipe`` reads protocol messages from fd 3 and writes
them to fd 4, each JSON message ended by a NUL byte. ``Browser`` starts it with every
non-loopback destination made unreachable (host names do not resolve; any other address goes
to a closed loopback proxy port), and ``Page`` records every URL the page requests and every
CSP violation it reports, so tests can check that nothing left the machine.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


class BrowserError(RuntimeError):
    pass


# Recorded in every document before its own scripts run.
_RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


class Browser:
    """One headless Chromium process; ``new_page()`` opens tabs driven over the pipe."""

    def __init__(self, binary: str | None = None, timeout: float = 60.0):
        from core.services import free_port

        binary = binary or chromium_binary()
        if not binary:
            raise BrowserError("chromium is not installed (make system-deps installs it)")
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="im-chromium-")
        self._log = open(Path(self._profile) / "chromium.log", "wb")
        dead_proxy = free_port()  # nothing listens there
        args = [
            binary, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
            f"--user-data-dir={self._profile}", "--no-first-run", "--no-default-browser-check",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--disable-extensions", "--disable-domain-reliability",
            "--disable-client-side-phishing-detection", "--metrics-recording-only", "--no-pings",
            "--disable-breakpad", "--disable-dev-shm-usage", "--mute-audio",
            "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
            # Nothing may leave the machine: names other than loopback do not resolve, and any
            # other address is sent to a closed loopback port (loopback itself goes direct).
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
            f"--proxy-server=http://127.0.0.1:{dead_proxy}",
            "about:blank",
        ]
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # Move the child's ends above the low numbers so the dup2 onto 3 and 4 cannot clobber them.
        high_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD_CLOEXEC, 10)
        high_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_child_r)
        os.close(from_child_w)
        devnull = os.open(os.devnull, os.O_RDONLY)
        try:
            self.pid = os.posix_spawn(binary, args, dict(os.environ), file_actions=[
                (os.POSIX_SPAWN_DUP2, devnull, 0),
                (os.POSIX_SPAWN_DUP2, self._log.fileno(), 1),
                (os.POSIX_SPAWN_DUP2, self._log.fileno(), 2),
                (os.POSIX_SPAWN_DUP2, high_r, 3),
                (os.POSIX_SPAWN_DUP2, high_w, 4),
            ], setsid=True)
        finally:
            os.close(high_r)
            os.close(high_w)
            os.close(devnull)
        self._next_id = 0
        self._lock = threading.Lock()
        self._cond = threading.Condition()
        self._results: dict[int, dict] = {}
        self.events: list[dict] = []
        self._closed = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        try:
            self.send("Browser.getVersion")  # waits until the browser answers
        except BrowserError:
            self.close()
            raise

    # -- protocol ------------------------------------------------------------------------------
    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_child, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                break
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                with self._cond:
                    if "id" in message:
                        self._results[message["id"]] = message
                    else:
                        self.events.append(message)
                    self._cond.notify_all()
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def send(self, method: str, params: dict | None = None, session_id: str | None = None,
             timeout: float | None = None) -> dict:
        with self._lock:
            self._next_id += 1
            message_id = self._next_id
            message = {"id": message_id, "method": method, "params": params or {}}
            if session_id:
                message["sessionId"] = session_id
            try:
                os.write(self._to_child, json.dumps(message).encode() + b"\0")
            except OSError as exc:
                raise BrowserError(f"chromium is gone ({exc}): {self.log_tail()}") from exc
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._cond:
            while message_id not in self._results:
                if self._closed:
                    raise BrowserError(f"chromium exited during {method}: {self.log_tail()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BrowserError(f"no answer to {method} within {timeout or self.timeout}s")
                self._cond.wait(left)
            reply = self._results.pop(message_id)
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return (Path(self._profile) / "chromium.log").read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def new_page(self) -> "Page":
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        return Page(self, target, session)

    def _wait_exit(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while True:
            try:
                if os.waitpid(self.pid, os.WNOHANG)[0]:
                    return True
            except ChildProcessError:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except BrowserError:
            pass
        if not self._wait_exit(15):
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:  # the browser leads its own session and process group: its helpers too
                    os.killpg(self.pid, sig)
                except ProcessLookupError:
                    break
                if self._wait_exit(10):
                    break
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        self._log.close()
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Page:
    """A tab: navigate, evaluate JavaScript, wait for a condition, list the requested URLs."""

    def __init__(self, browser: Browser, target_id: str, session_id: str):
        self.browser = browser
        self.target_id = target_id
        self.session_id = session_id
        for domain in ("Page", "Runtime", "Network"):
            self.send(f"{domain}.enable")
        self.send("Page.addScriptToEvaluateOnNewDocument", {"source": _RECORD_CSP_VIOLATIONS})

    def send(self, method: str, params: dict | None = None, timeout: float | None = None) -> dict:
        return self.browser.send(method, params, self.session_id, timeout)

    def _events(self, method: str) -> list[dict]:
        with self.browser._cond:
            return [e["params"] for e in self.browser.events
                    if e.get("sessionId") == self.session_id and e.get("method") == method]

    def requested_urls(self) -> list[str]:
        """Every URL this page asked the network stack for (documents, scripts, XHR, fetch, ...)."""
        return [e["request"]["url"] for e in self._events("Network.requestWillBeSent")]

    def failed_requests(self) -> list[str]:
        failed = {e["requestId"]: e.get("blockedReason") or e.get("errorText", "")
                  for e in self._events("Network.loadingFailed")}
        urls = {e["requestId"]: e["request"]["url"] for e in self._events("Network.requestWillBeSent")}
        return [f"{urls.get(rid, rid)}: {text}" for rid, text in failed.items()]

    def console_errors(self) -> list[str]:
        errors = [json.dumps(e["exceptionDetails"].get("exception", {}).get("description")
                             or e["exceptionDetails"].get("text"))
                  for e in self._events("Runtime.exceptionThrown")]
        errors += [" ".join(str(a.get("value", a.get("description", ""))) for a in e.get("args", []))
                   for e in self._events("Runtime.consoleAPICalled") if e.get("type") == "error"]
        return errors

    def navigate(self, url: str) -> None:
        result = self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise BrowserError(f"navigating to {url}: {result['errorText']}")

    def evaluate(self, expression: str, timeout: float | None = None):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True}, timeout)
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression!r} raised {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 90.0, what: str = ""):
        """Poll ``expression`` until it is truthy; its value is returned. On timeout the error
        shows what the page had rendered, its failed requests and its script errors."""
        deadline = time.monotonic() + timeout
        last_error = None
        while True:
            try:  # while a document loads, its context may not exist yet or the DOM be partial
                value = self.evaluate(expression)
            except BrowserError as exc:
                value, last_error = None, exc
            if value:
                return value
            if time.monotonic() > deadline:
                body = self.evaluate("document.body ? document.body.innerText.slice(0, 500) : ''")
                raise BrowserError(
                    f"timed out after {timeout}s waiting for {what or expression}; page text: {body!r}; "
                    f"failed requests: {self.failed_requests()}; errors: {self.console_errors()}; "
                    f"CSP violations: {self.csp_violations()}; last evaluation error: {last_error}")
            time.sleep(0.25)

    def csp_violations(self) -> list[str]:
        return self.evaluate("window.__cspViolations || []") or []
