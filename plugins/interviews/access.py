"""Who may see and change which interviews.

- A candidate sees the interviews they own.
- An interviewer sees the ones they are assigned to, or every interview when the core setting
  ``interviewminds.auth.interviewer_reads_any`` is true (the default).
- An admin (any role holding ``interview:read_any`` other than interviewer) sees all.
- Changing an interview needs ``interview:update`` on a visible one that one owns or is assigned
  to, or ``interview:update_any`` on any visible one. Scores and feedback need
  ``interview:score``. Only the owner (the candidate) chats.

Someone who may not see an interview gets 404, never 403, so ids of others' interviews leak
nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import Forbidden, Unauthenticated


READS_ANY_SETTING = "interviewminds.auth.interviewer_reads_any"


@dataclass(frozen=True)
class Viewer:
    """The caller as the interview rules see it."""

    identity: Any  # core.auth.policy.Identity
    interviewer_reads_any: bool

    @classmethod
    def of(cls, request) -> "Viewer":
        """The viewer of a request; 401 when nobody is authenticated."""
        identity = request.identity
        if identity is None:
            raise Unauthenticated("authentication required: send Authorization: Bearer <token>",
                           headers={"WWW-Authenticate": "Bearer"})
        return cls(identity, bool(request.registry.settings.get(READS_ANY_SETTING, True)))

    @property
    def user_id(self) -> str:
        return self.identity.user_id

    def can(self, permission: str) -> bool:
        return self.identity.can(permission)

    def require(self, permission: str) -> None:
        """403 unless the caller holds ``permission``."""
        if not self.can(permission):
            raise Forbidden(f"permission denied: role {self.identity.role!r} may not do this ({permission})")

    @property
    def reads_all(self) -> bool:
        """Whether every interview is visible to this caller."""
        if not self.can("interview:read_any"):
            return False
        return self.identity.role != "interviewer" or self.interviewer_reads_any

    def visibility_filter(self) -> dict:
        """A Mongo filter of the interviews this caller may see ({} for all)."""
        if self.reads_all:
            return {}
        if not self.can("interview:read"):
            return {"_id": None}  # matches nothing
        return {"$or": [{"owner": self.user_id}, {"interviewers": self.user_id}]}

    def involved(self, doc) -> bool:
        return doc.owner == self.user_id or self.user_id in (doc.interviewers or [])

    def can_read(self, doc) -> bool:
        return (self.involved(doc) and self.can("interview:read")) or self.reads_all

    def can_update(self, doc) -> bool:
        if not self.can_read(doc):
            return False
        return (self.involved(doc) and self.can("interview:update")) or self.can("interview:update_any")

    def can_score(self, doc) -> bool:
        return self.can_read(doc) and self.can("interview:score")
