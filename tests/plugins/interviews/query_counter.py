"""Counts the queries a request sends to the database, with pymongo's command monitoring.

pymongo copies the globally registered listeners into each MongoClient when it is created, and
core creates the app's client (through mongoengine) in ``make_app``; so ``install()`` must run
before the app is made. A listener cannot be unregistered: there is one per process, counting
only inside ``counting(database)`` and only commands on that database.
"""
from __future__ import annotations

import contextlib
import threading

from pymongo import monitoring

QUERY_COMMANDS = frozenset({"find", "aggregate", "count", "distinct", "findAndModify", "getMore"})
# The per-process role cache's periodic version check (core.auth.role_cache) is not the
# request's own work: it happens at most every few hundred ms, whatever the request.
IGNORED_COLLECTIONS = frozenset({"core_roles_version"})


class _Counter(monitoring.CommandListener):
    def __init__(self) -> None:
        self.database: str | None = None
        self.commands: list[str] = []
        self.lock = threading.Lock()

    def started(self, event) -> None:
        with self.lock:
            if self.database is not None and event.database_name == self.database \
                    and event.command.get(event.command_name) not in IGNORED_COLLECTIONS:
                self.commands.append(event.command_name)

    def succeeded(self, event) -> None:
        pass

    def failed(self, event) -> None:
        pass


_COUNTER: _Counter | None = None


def install() -> _Counter:
    """Register the process-wide listener once; call before creating the app's MongoClient."""
    global _COUNTER
    if _COUNTER is None:
        _COUNTER = _Counter()
        monitoring.register(_COUNTER)
    return _COUNTER


@contextlib.contextmanager
def counting(database: str):
    """Collect the names of commands sent to ``database`` inside the block (a list)."""
    counter = install()
    seen: list[str] = []
    with counter.lock:
        counter.database, counter.commands = database, seen
    try:
        yield seen
    finally:
        with counter.lock:
            counter.database, counter.commands = None, []


def queries(commands: list[str]) -> list[str]:
    """The read/query commands among ``commands``."""
    return [c for c in commands if c in QUERY_COMMANDS]
