"""Roles and ``resource:action`` permissions.

A permission is ``resource:action`` (lower-case letters, digits, ``_`` and ``-``). Grants may
use wildcards: ``*`` (everything), ``resource:*`` (every action on a resource) and
``*:action`` (an action on every resource). What a view *needs* is always concrete.

The role -> permissions map ships in ``config/roles.toml``; operators may point a setting at
their own file, which must define exactly the known roles.
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

ROLES = ("candidate", "interviewer", "admin")
DEFAULT_ROLE = "candidate"  # a user with no stored record

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

    @classmethod
    def from_toml(cls, path: str | Path) -> "RolePermissions":
        """Load ``[roles]`` from a TOML file such as ``config/roles.toml``."""
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise PermissionConfigError(f"{path}: not valid TOML: {exc}") from None
        if "roles" not in data:
            raise PermissionConfigError(f"{path}: no [roles] table")
        return cls(data["roles"], source=str(path))

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
