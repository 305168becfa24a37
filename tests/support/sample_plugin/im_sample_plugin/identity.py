"""An identity source: per-user API keys in the ``X-Sample-Key`` header."""
from __future__ import annotations

import hmac

from core import AuthenticationRefused, Principal

HEADER = "X-Sample-Key"


class ApiKeySource:
    """``X-Sample-Key: KEY`` authenticates as the user KEY belongs to (setting ``api_keys``)."""

    name = "sample_api_key"

    def __init__(self, keys: dict[str, str]):
        self._keys = [(key.encode(), user) for key, user in keys.items()]

    def authenticate(self, request) -> Principal | None:
        given = request.headers.get(HEADER)
        if given is None:
            return None  # not ours: the next source is asked
        given_bytes = given.encode()
        user = None
        for key, owner in self._keys:  # compare with every key, in constant time
            if hmac.compare_digest(given_bytes, key):
                user = owner
        if user is None:
            raise AuthenticationRefused(f"{HEADER} is not a known key")
        return Principal(user_id=user, via="header")  # not a cookie: no CSRF token needed


def sources(settings) -> list[ApiKeySource]:
    """The source when keys are configured; a malformed entry stops startup (without echoing it)."""
    keys = {}
    for number, entry in enumerate(settings["interviewminds.sample.api_keys"], start=1):
        key, _, user = entry.partition("=")
        if not key or not user:
            raise ValueError(f"interviewminds.sample.api_keys: entry {number} must look like KEY=USER")
        keys[key] = user
    return [ApiKeySource(keys)] if keys else []
