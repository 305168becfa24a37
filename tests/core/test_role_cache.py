"""Roles are cached per process, and a role change reaches every process within a second."""
from __future__ import annotations

import time

import httpx
import pytest

from core.auth import role_cache as role_cache_module
from core.auth.role_cache import RoleCache
from core.auth import users
from core.auth.users import User, current_roles_version, set_role
from core.testing import ServedApp, dev_token


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_roles_are_read_once_until_the_version_moves(make_app, monkeypatch):
    make_app()  # connects the store
    reads = []
    real_role_of = role_cache_module.role_of
    monkeypatch.setattr(role_cache_module, "role_of", lambda uid: reads.append(uid) or real_role_of(uid))
    clock = Clock()
    cache = RoleCache(check_interval=0.25, clock=clock)
    set_role("rc-ann", "interviewer", by="test")
    assert cache.role_of("rc-ann") == "interviewer"
    clock.now += 10
    assert cache.role_of("rc-ann") == "interviewer"
    assert reads == ["rc-ann"]  # the second answer came from the cache
    before = current_roles_version()
    set_role("rc-ann", "candidate", by="test")  # a demotion in this process: seen at once
    assert current_roles_version() == before + 1
    assert cache.role_of("rc-ann") == "candidate" and reads == ["rc-ann", "rc-ann"]
    # Another process's change only moves the shared version: seen at the next check.
    User.objects(user_id="rc-ann").update_one(set__role="interviewer")
    users._versions().update_one({"_id": "roles"}, {"$inc": {"version": 1}})
    assert cache.role_of("rc-ann") == "candidate"  # within the check interval: still cached
    clock.now += 0.3
    assert cache.role_of("rc-ann") == "interviewer" and len(reads) == 3
    assert cache.role_of("rc-nobody") is None  # no record: cached as such, the caller defaults


@pytest.fixture
def two_processes(test_settings):
    settings = dict(test_settings, **{"interviewminds.ratelimit.enabled": "false"})
    with ServedApp(settings) as a, ServedApp(settings) as b:
        yield settings, a, b


def _status(url, token):
    return httpx.get(f"{url}/api/admin/users", headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code


def _seen_within(url, token, expected, seconds):
    deadline = time.monotonic() + seconds
    while True:
        status = _status(url, token)
        if status == expected or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


def test_a_grant_and_a_revocation_reach_another_process_within_one_second(two_processes):
    settings, a, b = two_processes
    user = dev_token(settings, "rc-carol", "candidate")
    root = dev_token(settings, "rc-root", "admin")
    assert _status(a.url, user) == 403 and _status(b.url, user) == 403  # both processes cache "candidate"

    grant = httpx.post(f"{a.url}/api/admin/roles", json={"userId": "rc-carol", "role": "admin"},
                       headers={"Authorization": f"Bearer {root}"}, timeout=10)
    assert grant.status_code == 200, grant.text
    started = time.monotonic()
    assert _seen_within(b.url, user, 200, 1.0) == 200
    granted_after = time.monotonic() - started

    revoke = httpx.post(f"{a.url}/api/admin/roles", json={"userId": "rc-carol", "role": "candidate"},
                        headers={"Authorization": f"Bearer {root}"}, timeout=10)
    assert revoke.status_code == 200, revoke.text
    started = time.monotonic()
    assert _seen_within(b.url, user, 403, 1.0) == 403
    assert granted_after <= 1.0 and time.monotonic() - started <= 1.0
