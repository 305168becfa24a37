"""Users and their roles. The role lives in MongoDB; a user with no record is a candidate."""
from __future__ import annotations

import mongoengine as me
from core.clock import utcnow
from core.permissions import DEFAULT_ROLE, ROLES


class User(me.Document):
    """A known user: the Clerk/dev subject, its role, and who set the role when."""

    user_id = me.StringField(required=True, unique=True, max_length=200)
    role = me.StringField(required=True, choices=ROLES, default=DEFAULT_ROLE)
    email = me.StringField(max_length=320)
    role_updated_by = me.StringField(max_length=200)
    created_at = me.DateTimeField(default=utcnow)
    updated_at = me.DateTimeField(default=utcnow)

    meta = {"collection": "core_users", "indexes": ["role", "-created_at"], "auto_create_index": False}

    def to_json(self) -> dict:
        return {
            "userId": self.user_id,
            "role": self.role,
            "email": self.email,
            "roleUpdatedBy": self.role_updated_by,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }


def role_of(user_id: str) -> str | None:
    """The stored role, or None when the user has no record."""
    doc = User.objects(user_id=user_id).only("role").first()
    return doc.role if doc else None


# One document whose counter moves on every role change; each process's RoleCache watches it.
ROLES_VERSION_COLLECTION = "core_roles_version"
_VERSION_ID = "roles"


def _versions():
    return User._get_db()[ROLES_VERSION_COLLECTION]


# Role changes made by this process: its caches check the shared version at once after one,
# instead of at their next interval (other processes see it within that interval).
_local_changes = 0


def local_role_changes() -> int:
    return _local_changes


def current_roles_version() -> int:
    """The shared roles version (0 before any change)."""
    doc = _versions().find_one({"_id": _VERSION_ID}, {"version": 1})
    return int(doc["version"]) if doc else 0


def set_role(user_id: str, role: str, *, by: str) -> User:
    """Create or update the user's role (an upsert; atomic on the unique user_id), then move the
    shared roles version so that every process's role cache drops what it holds."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (expected one of {', '.join(ROLES)})")
    now = utcnow()
    User.objects(user_id=user_id).update_one(
        upsert=True,
        set__role=role,
        set__role_updated_by=by,
        set__updated_at=now,
        set_on_insert__created_at=now,
    )
    _versions().update_one({"_id": _VERSION_ID}, {"$inc": {"version": 1}}, upsert=True)
    global _local_changes
    _local_changes += 1
    return User.objects.get(user_id=user_id)
