"""Permission strings, wildcards and the shipped role map."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.permissions import (
    ROLES,
    PermissionConfigError,
    RolePermissions,
    is_valid_grant,
    permits,
)

ROLES_TOML = Path(__file__).resolve().parents[2] / "config" / "roles.toml"


@pytest.mark.parametrize("granted, needed, expected", [
    (["interview:read"], "interview:read", True),
    (["interview:read"], "interview:read_any", False),
    (["interview:read"], "interview:update", False),
    (["interview:*"], "interview:update_any", True),
    (["interview:*"], "chat:send", False),
    (["*:read"], "reports:read", True),
    (["*:read"], "reports:read_any", False),
    (["*"], "admin:roles", True),
    (["*:*"], "audit:read", True),
    ([], "chat:send", False),
    (["chat:sen"], "chat:send", False),
])
def test_permits_matches_exact_and_wildcard_grants(granted, needed, expected):
    assert permits(granted, needed) is expected


@pytest.mark.parametrize("needed", ["interview", "interview:*", "*", ":read", "a:b:c", "Interview:read", ""])
def test_permits_needs_a_concrete_permission(needed):
    with pytest.raises(ValueError, match="resource:action"):
        permits(["*"], needed)


@pytest.mark.parametrize("grant, valid", [
    ("*", True), ("a:b", True), ("a:*", True), ("*:b", True), ("*:*", True), ("resume:upload", True),
    ("a", False), ("a:", False), (":b", False), ("a:b:c", False), ("A:b", False), ("a :b", False),
    ("**", False), ("a*:b", False), (5, False),
])
def test_grant_syntax(grant, valid):
    assert is_valid_grant(grant) is valid


def test_shipped_roles_are_least_privilege():
    roles = RolePermissions.from_toml(ROLES_TOML)
    assert set(roles.roles) == set(ROLES)

    candidate = {
        "interview:create", "interview:read", "interview:update", "chat:send",
        "resume:upload", "resume:read", "compiler:execute", "proctoring:submit",
        "multimodal:analyze", "reports:read",
    }
    staff_only = {
        "interview:read_any", "interview:update_any", "proctoring:evaluate", "proctoring:read",
        "reports:read_any", "export:read", "analytics:read",
    }
    admin_only = {"admin:users", "admin:roles", "audit:read", "webhooks:manage_any"}

    for needed in candidate:
        assert all(roles.permits(role, needed) for role in ROLES), needed
    for needed in staff_only:
        assert not roles.permits("candidate", needed), needed
        assert roles.permits("interviewer", needed) and roles.permits("admin", needed), needed
    for needed in admin_only:
        assert not roles.permits("candidate", needed) and not roles.permits("interviewer", needed)
        assert roles.permits("admin", needed), needed
    # Candidates manage their own endpoints, which only receive events about them
    # (plugins.webhooks.services.may_receive).
    assert roles.permits("candidate", "webhooks:manage")
    assert roles.permits("interviewer", "webhooks:manage")
    assert roles.for_role("admin") == frozenset({"*"})


def test_unknown_role_gets_nothing():
    roles = RolePermissions.from_toml(ROLES_TOML)
    assert roles.for_role("superuser") == frozenset()
    assert not roles.permits("superuser", "chat:send")


def write(tmp_path, text):
    path = tmp_path / "roles.toml"
    path.write_text(text)
    return path


def test_malformed_entry_is_named(tmp_path):
    path = write(tmp_path, '[roles]\ncandidate = ["chat:send", "chat"]\ninterviewer = []\nadmin = ["*"]\n')
    with pytest.raises(PermissionConfigError, match=r"role 'candidate' entry 1 'chat'"):
        RolePermissions.from_toml(path)


def test_unknown_and_missing_roles_are_rejected(tmp_path):
    path = write(tmp_path, '[roles]\ncandidate = []\ninterviewer = []\nadmin = ["*"]\nadimn = ["*"]\n')
    with pytest.raises(PermissionConfigError, match="unknown role 'adimn'"):
        RolePermissions.from_toml(path)
    path = write(tmp_path, '[roles]\ncandidate = []\nadmin = ["*"]\n')
    with pytest.raises(PermissionConfigError, match="role 'interviewer' is not defined"):
        RolePermissions.from_toml(path)


def test_bad_files_are_rejected(tmp_path):
    with pytest.raises(PermissionConfigError, match="not valid TOML"):
        RolePermissions.from_toml(write(tmp_path, "[roles\n"))
    with pytest.raises(PermissionConfigError, match=r"no \[roles\] table"):
        RolePermissions.from_toml(write(tmp_path, "candidate = []\n"))
    with pytest.raises(PermissionConfigError, match="must be a list"):
        RolePermissions.from_toml(write(
            tmp_path, '[roles]\ncandidate = "chat:send"\ninterviewer = []\nadmin = []\n'))


def test_operator_map_replaces_the_default(tmp_path):
    path = write(tmp_path, '[roles]\ncandidate = ["*:read"]\ninterviewer = ["interview:*"]\nadmin = ["*"]\n')
    roles = RolePermissions.from_toml(path)
    assert roles.permits("candidate", "reports:read")
    assert not roles.permits("candidate", "chat:send")
    assert roles.permits("interviewer", "interview:update_any")
    assert roles.as_dict()["interviewer"] == ["interview:*"]
