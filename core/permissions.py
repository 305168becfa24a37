"""Roles and ``resource:action`` permissions.

A permission is ``resource:action`` (lower-case letters, digits, ``_`` and ``-``). Grants may
use wildcards: ``*`` (everything), ``resource:*`` (every action on a resource) and
``*:action`` (an action on every resource). What a view *needs* is always concrete.

Plugins declare the permissions they check, with the roles that get them by default
(``interviewminds_permissions`` -> :class:`Permission`); core merges those catalogues into a
:class:`PermissionCatalog`. ``config/roles.toml`` (or ``interviewminds.auth.roles_file``) only
holds the operator's overrides::

    [roles.interviewer]
    grant = ["webhooks:manage_any"]   # added to the defaults
    revoke = ["export:read"]          # taken away (wildcards allowed: "export:*")

An override that names a permission no enabled plugin declares stops startup, naming it.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from core.config_files import read_override_table

# The one definition of the roles; everything else imports these.
ROLES = ("candidate", "interviewer", "admin")
DEFAULT_ROLE = "candidate"  # a user with no stored record
ALL_ACCESS_ROLE = "admin"   # gets every declared permission by default

_NAME = r"[a-z][a-z0-9_-]*"
_CONCRETE = re.compile(rf"^{_NAME}:{_NAME}$")
_GRANT = re.compile(rf"^(?:\*|(?:{_NAME}|\*):(?:{_NAME}|\*))$")


class PermissionConfigError(ValueError):
    """The role -> permissions map is malformed; the message names the role and entry."""


def is_valid_grant(permission: str) -> bool:
    """True for ``*``, ``resource:action`` and the wildcard forms ``resource:*``/``*:action``."""
    return isinstance(permission, str) and bool(_GRANT.match(permission))


def permits(granted: Iterable[str], needed: str) -> bool:
    """True if any permission in ``granted`` covers the concrete permission ``needed``."""
    if not isinstance(needed, str) or not _CONCRETE.match(needed):
        raise ValueError(f"needed permission must look like 'resource:action', got {needed!r}")
    resource, action = needed.split(":")
    accepted = {"*", "*:*", needed, f"{resource}:*", f"*:{action}"}
    return any(grant in accepted for grant in granted)


@dataclass(frozen=True)
class Permission:
    """One permission a plugin checks: ``name`` is ``resource:action``; ``roles`` get it by default.

    ``admin`` gets every declared permission whether listed or not.
    """

    name: str
    description: str
    roles: tuple[str, ...] = ()

    def __post_init__(self):
        if not isinstance(self.name, str) or not _CONCRETE.match(self.name):
            raise PermissionConfigError(f"permission {self.name!r} must look like 'resource:action'")
        unknown = [r for r in self.roles if r not in ROLES]
        if unknown:
            raise PermissionConfigError(f"permission {self.name!r}: unknown role {unknown[0]!r}; "
                                        f"roles are {', '.join(ROLES)}")


class PermissionCatalog:
    """Every declared permission, who declared it, and the role -> grants map after overrides."""

    def __init__(self, declared: Iterable[tuple[str, Permission]]):
        self.permissions: dict[str, Permission] = {}
        self.owners: dict[str, str] = {}
        self.grants: RolePermissions | None = None  # set by the app once overrides are applied
        for owner, permission in declared:
            if not isinstance(permission, Permission):
                raise PermissionConfigError(f"plugin {owner!r}: interviewminds_permissions must return "
                                            f"core.Permission objects, got {permission!r}")
            if permission.name in self.permissions:
                raise PermissionConfigError(f"permission {permission.name!r} is declared by both "
                                            f"{self.owners[permission.name]!r} and {owner!r}")
            self.permissions[permission.name] = permission
            self.owners[permission.name] = owner

    def __contains__(self, name: str) -> bool:
        return name in self.permissions

    def matching(self, grant: str) -> set[str]:
        """The declared permissions a grant (possibly a wildcard) covers."""
        return {name for name in self.permissions if permits((grant,), name)}

    def defaults(self) -> dict[str, set[str]]:
        grants = {role: set() for role in ROLES}
        for permission in self.permissions.values():
            for role in set(permission.roles) | {ALL_ACCESS_ROLE}:
                grants[role].add(permission.name)
        return grants

    def resolve(self, overrides: Mapping, *, source: str = "overrides") -> "RolePermissions":
        """Apply ``{role: {"grant": [...], "revoke": [...]}}`` to the defaults."""
        if not isinstance(overrides, Mapping):
            raise PermissionConfigError(f"{source}: [roles] must be a table of role tables")
        grants = self.defaults()
        for role, change in overrides.items():
            if role not in ROLES:
                raise PermissionConfigError(f"{source}: unknown role {role!r}; roles are {', '.join(ROLES)}")
            if not isinstance(change, Mapping) or set(change) - {"grant", "revoke"}:
                raise PermissionConfigError(f"{source}: [roles.{role}] may only have 'grant' and 'revoke' lists")
            for verb in ("grant", "revoke"):
                entries = change.get(verb, [])
                if isinstance(entries, str) or not isinstance(entries, list):
                    raise PermissionConfigError(f"{source}: roles.{role}.{verb} must be a list of permissions")
                for entry in entries:
                    if not is_valid_grant(entry):
                        raise PermissionConfigError(
                            f"{source}: roles.{role}.{verb}: {entry!r} is not a permission "
                            "('resource:action', 'resource:*', '*:action' or '*')")
                    covered = self.matching(entry)
                    if not covered:
                        raise PermissionConfigError(
                            f"{source}: roles.{role}.{verb}: unknown permission {entry!r} "
                            "(no enabled plugin declares it)")
                    if verb == "grant":
                        grants[role] |= covered
                    else:
                        grants[role] -= covered
        return RolePermissions(grants, source=source)

    def describe(self) -> list[dict]:
        """The catalogue for docs and admin output."""
        return [{"name": p.name, "description": p.description, "plugin": self.owners[p.name],
                 "defaultRoles": sorted(set(p.roles) | {ALL_ACCESS_ROLE})}
                for p in sorted(self.permissions.values(), key=lambda p: p.name)]


def load_overrides(path: str | Path) -> dict:
    """The ``[roles]`` table of an overrides file (empty when the file has none)."""
    return read_override_table(path, "roles", PermissionConfigError, "only [roles.<role>] overrides")


class RolePermissions:
    """Validated map of role -> frozenset of granted permissions."""

    def __init__(self, mapping: Mapping[str, Iterable[str]], *, source: str = "role map") -> None:
        if not isinstance(mapping, Mapping):
            raise PermissionConfigError(f"{source}: expected a table of role = [permissions]")
        unknown = sorted(set(mapping) - set(ROLES))
        if unknown:
            raise PermissionConfigError(
                f"{source}: unknown role {unknown[0]!r}; roles are {', '.join(ROLES)}")
        missing = [role for role in ROLES if role not in mapping]
        if missing:
            raise PermissionConfigError(f"{source}: role {missing[0]!r} is not defined")
        grants: dict[str, frozenset[str]] = {}
        for role in ROLES:
            entries = mapping[role]
            if isinstance(entries, str) or not isinstance(entries, Iterable):
                raise PermissionConfigError(
                    f"{source}: role {role!r} must be a list of permission strings")
            for index, entry in enumerate(entries):
                if not is_valid_grant(entry):
                    raise PermissionConfigError(
                        f"{source}: role {role!r} entry {index} {entry!r} is not a permission "
                        "('resource:action', 'resource:*', '*:action' or '*')")
            grants[role] = frozenset(entries)
        self._grants = grants

    @property
    def roles(self) -> tuple[str, ...]:
        """The roles this map defines (always all of ROLES)."""
        return ROLES

    def for_role(self, role: str) -> frozenset[str]:
        """Permissions granted to ``role``; an unknown role gets none (deny by default)."""
        return self._grants.get(role, frozenset())

    def permits(self, role: str, needed: str) -> bool:
        """True if ``role`` is granted the concrete permission ``needed``."""
        return permits(self.for_role(role), needed)

    def as_dict(self) -> dict[str, list[str]]:
        """The map as sorted lists, for admin output."""
        return {role: sorted(grants) for role, grants in self._grants.items()}
