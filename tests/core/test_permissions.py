"""Permission strings, wildcards, the plugins' catalogues and the operator's overrides."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.permissions import (
    ROLES,
    Permission,
    PermissionCatalog,
    PermissionConfigError,
    is_valid_grant,
    load_overrides,
    permits,
)
from core.plugins import PluginError

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


def first_party_catalog(*extra):
    from core import builtin
    from plugins.interviews.config import PERMISSIONS as INTERVIEWS
    from plugins.multimodal.config import PERMISSIONS as MULTIMODAL
    from plugins.proctoring.config import PERMISSIONS as PROCTORING
    from plugins.webhooks.config import PERMISSIONS as WEBHOOKS

    declared = [("core", p) for p in builtin.interviewminds_permissions({})]
    for owner, permissions in (("interviews", INTERVIEWS), ("multimodal", MULTIMODAL),
                               ("proctoring", PROCTORING), ("webhooks", WEBHOOKS), *extra):
        declared += [(owner, p) for p in permissions]
    return PermissionCatalog(declared)


def test_default_grants_are_least_privilege():
    roles = first_party_catalog().resolve({})
    assert set(roles.roles) == set(ROLES)

    candidate = {
        "interview:create", "interview:read", "interview:update", "chat:send", "proctoring:submit",
        "multimodal:analyze", "reports:read", "webhooks:manage",
    }
    staff_only = {
        "interview:read_any", "interview:update_any", "interview:score", "proctoring:evaluate",
        "proctoring:read", "reports:read_any", "export:read", "analytics:read",
    }
    admin_only = {"admin:users", "admin:roles", "audit:read", "webhooks:manage_any", "proctoring:submit_any",
                  "proctoring:read_any"}

    assert roles.for_role("candidate") == candidate
    assert roles.for_role("interviewer") == candidate | staff_only
    # admin gets every declared permission, and nothing undeclared (no blanket "*").
    assert roles.for_role("admin") == candidate | staff_only | admin_only
    assert not roles.permits("admin", "compiler:execute")


def test_unknown_role_gets_nothing():
    roles = first_party_catalog().resolve({})
    assert roles.for_role("superuser") == frozenset()
    assert not roles.permits("superuser", "chat:send")


def test_a_permission_declared_twice_names_both_plugins():
    with pytest.raises(PermissionConfigError, match="'chat:send' is declared by both 'interviews' and 'copycat'"):
        first_party_catalog(("copycat", [Permission("chat:send", "mine too")]))


@pytest.mark.parametrize("name, roles, message", [
    ("chat", (), "must look like 'resource:action'"),
    ("chat:*", (), "must look like 'resource:action'"),
    ("chat:send", ("superuser",), "unknown role 'superuser'"),
])
def test_malformed_declarations_are_refused(name, roles, message):
    with pytest.raises(PermissionConfigError, match=re.escape(message)):
        Permission(name, "x", roles)


def write(tmp_path, text):
    path = tmp_path / "roles.toml"
    path.write_text(text)
    return path


def test_overrides_grant_and_revoke_with_wildcards(tmp_path):
    path = write(tmp_path, '[roles.interviewer]\ngrant = ["webhooks:manage_any"]\nrevoke = ["export:*"]\n'
                           '[roles.candidate]\nrevoke = ["*:analyze"]\n')
    roles = first_party_catalog().resolve(load_overrides(path), source=str(path))
    assert roles.permits("interviewer", "webhooks:manage_any")
    assert not roles.permits("interviewer", "export:read")
    assert not roles.permits("candidate", "multimodal:analyze") and roles.permits("candidate", "chat:send")
    assert roles.permits("admin", "export:read")


@pytest.mark.parametrize("text, message", [
    ('[roles.candidate]\ngrant = ["compiler:execute"]\n',
     "roles.candidate.grant: unknown permission 'compiler:execute' (no enabled plugin declares it)"),
    ('[roles.interviewer]\nrevoke = ["resume:*"]\n', "unknown permission 'resume:*'"),
    ('[roles.adimn]\ngrant = []\n', "unknown role 'adimn'"),
    ('[roles.candidate]\ngrant = ["chat"]\n', "'chat' is not a permission"),
    ('[roles.candidate]\ngrant = "chat:send"\n', "must be a list"),
    ('[roles.candidate]\nadd = ["chat:send"]\n', "may only have 'grant' and 'revoke'"),
])
def test_bad_overrides_are_refused_naming_the_entry(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(PermissionConfigError, match=re.escape(message)):
        first_party_catalog().resolve(load_overrides(path), source=str(path))


def test_bad_files_are_rejected(tmp_path):
    with pytest.raises(PermissionConfigError, match="not valid TOML"):
        load_overrides(write(tmp_path, "[roles\n"))
    with pytest.raises(PermissionConfigError, match=r"unknown table \[grants\]"):
        load_overrides(write(tmp_path, "[grants]\n"))
    with pytest.raises(PermissionConfigError, match="cannot be read"):
        load_overrides(tmp_path / "missing.toml")


def test_shipped_overrides_file_changes_nothing():
    assert load_overrides(ROLES_TOML) == {}


def test_an_unknown_permission_in_the_operators_file_stops_startup(make_app, tmp_path):
    path = write(tmp_path, '[roles.candidate]\ngrant = ["compiler:execute"]\n')
    with pytest.raises(PluginError, match="unknown permission 'compiler:execute'"):
        make_app(plugins=["interviews"], **{"auth.roles_file": str(path)})


def test_the_operators_grant_takes_effect_over_http(make_app, tmp_path):
    path = write(tmp_path, '[roles.candidate]\ngrant = ["export:read"]\n')
    app = make_app(plugins=["interviews"], **{"auth.roles_file": str(path), "ratelimit.enabled": "false"})
    app.get("/api/export/interviews", headers=app.auth("cand-x", "candidate"), status=200)
    plain = make_app(plugins=["interviews"], **{"ratelimit.enabled": "false"})
    plain.get("/api/export/interviews", headers=plain.auth("cand-x", "candidate"), status=403)
