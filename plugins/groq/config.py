"""Settings of the groq provider plugin (``interviewminds.groq.*``)."""
from __future__ import annotations

from core import Setting

SETTINGS = [
    Setting("api_key", str, "", "Groq API key. Empty: no LLM calls are made and features use heuristics.",
            secret=True),
    Setting("base_url", str, "", "Groq API base URL (empty: the SDK default, used only with a key). "
            "Tests point it at a loopback fake."),
    Setting("model", str, "llama-3.3-70b-versatile", "Chat model."),
    Setting("timeout", float, 20.0, "Seconds per LLM request.", minimum=0.1),
    Setting("max_retries", int, 2, "Retries of a failed call (429, 5xx, connection errors; never timeouts).",
            minimum=0),
    Setting("max_retry_wait", float, 10.0, "Longest wait before a retry, in seconds; a Retry-After above it "
            "fails at once.", minimum=0),
]
