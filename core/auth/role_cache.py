"""Roles cached in each process, with a version that makes a change visible everywhere at once.

Reading a user's role from MongoDB on every authenticated request was the largest cost of the
request path (about 10 ms on FerretDB/SQLite). Each process keeps the roles it has read; every
role change (:func:`core.auth.users.set_role`, whoever calls it: the admin route, the CLI, tests)
increments one shared version document in the same store. A process re-reads that version at
most every ``check_interval`` seconds and drops its whole cache when it moved, so a grant or a
revocation takes effect on every process within ``check_interval`` plus one request, and never
waits for a TTL. A store outage while checking raises (503), as an uncached read would.

Why a version document rather than Redis pub/sub: the version lives next to the roles, so it
is bumped by the same code that writes them, with no second store whose outage would silently
leave caches stale.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

from core.auth.users import current_roles_version, local_role_changes, role_of

DEFAULT_CHECK_INTERVAL = 0.25  # seconds; a role change is seen within this (plus one request)


class RoleCache:
    """``role_of(user_id)`` with per-process caching invalidated by the shared roles version."""

    def __init__(self, check_interval: float = DEFAULT_CHECK_INTERVAL,
                 clock: Callable[[], float] = time.monotonic):
        self.check_interval = check_interval
        self._clock = clock
        self._roles: dict[str, str | None] = {}
        self._version: int | None = None
        self._checked_at = float("-inf")
        self._local_changes = local_role_changes()
        self._lock = threading.Lock()

    def _due(self, now: float) -> bool:
        return now - self._checked_at >= self.check_interval or local_role_changes() != self._local_changes

    def _sync(self) -> None:
        now = self._clock()
        if not self._due(now):
            return
        with self._lock:
            if not self._due(now):
                return  # another thread checked meanwhile
            self._local_changes = local_role_changes()
            version = current_roles_version()
            if version != self._version:
                self._roles = {}
                self._version = version
            self._checked_at = now

    def role_of(self, user_id: str) -> str | None:
        """The stored role (None when the user has no record), cached until the version moves."""
        self._sync()
        roles = self._roles
        if user_id in roles:
            return roles[user_id]
        role = role_of(user_id)
        roles[user_id] = role
        return role
