"""Interview domain functions: create, read, update (optimistic concurrency), transitions,
messages and scores. Views and GraphQL resolvers call these; they raise
domain errors (``core.errors``) for 4xx answers and emit domain events after each write.

Concurrency: every write is one atomic ``findAndModify`` conditioned on the version that was
checked (``{_id, version}``) and incrementing it, so a concurrent writer makes the second write
fail instead of overwriting; a stale ``If-Match``/``version`` is a 409.
"""
from __future__ import annotations

from dataclasses import dataclass

import json
from typing import Any, Iterable, Mapping

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ReturnDocument

from core.errors import Conflict, Forbidden, NotFound, TooLarge
from core.events import emit
from core.clock import utcnow
from plugins.interviews.access import Viewer
from plugins.interviews.models import (
    SCORABLE,
    STATUS_EVENTS,
    TRANSITIONS,
    Competency,
    Interview,
    Message,
    Scores,
    can_move,
    day_of,
    encode_metadata,
    score_bucket,
)

SETTING = "interviewminds.interviews."
_RETRIES = 3  # writes without a client-supplied version retry this often on a concurrent change


def setting(registry, name: str):
    return registry.settings[SETTING + name]


def _collection():
    return Interview._get_collection()


def event_payload(doc: Interview) -> dict[str, Any]:
    """What every interview event carries (JSON-able)."""
    return {
        "interviewId": str(doc.id),
        "ownerId": doc.owner,
        "interviewers": list(doc.interviewers or []),
        "title": doc.title,
        "role": doc.role,
        "difficulty": doc.difficulty,
        "status": doc.status,
        "version": doc.version,
        "occurredAt": doc.updated_at.isoformat(),
    }


def score_payload(doc: Interview) -> dict[str, Any]:
    payload = event_payload(doc)
    payload["overall"] = doc.scores.overall
    payload["competencies"] = [
        {"subject": c.subject, "score": c.score, "fullMark": c.full_mark} for c in doc.scores.competencies
    ]
    return payload


def _check_metadata_size(registry, metadata: Mapping[str, Any]) -> None:
    limit = setting(registry, "metadata_max_bytes")
    size = len(json.dumps(metadata, default=str).encode())
    if size > limit:
        raise TooLarge(f"metadata is {size} bytes once merged; the limit is {limit} bytes")


# -- create and read -----------------------------------------------------------------------------------
def create(registry, viewer: Viewer, data: Mapping[str, Any]) -> Interview:
    """Create an interview in ``scheduled`` status and emit ``interview.created``.

    The caller owns it, unless ``candidateId`` names the candidate; that and ``interviewers``
    assign people, which needs ``interview:update_any`` (interviewers and admins). An
    interviewer who creates an interview for a candidate is assigned to it.
    """
    viewer.require("interview:create")
    owner = viewer.user_id
    interviewers = list(dict.fromkeys(data.get("interviewers") or []))
    if "candidateId" in data or interviewers:
        if not viewer.can("interview:update_any"):
            raise Forbidden("permission denied: only interviewers and admins may set candidateId or interviewers")
    if data.get("candidateId"):
        owner = data["candidateId"]
        if viewer.identity.role == "interviewer" and viewer.user_id not in interviewers and owner != viewer.user_id:
            interviewers.append(viewer.user_id)
    metadata = dict(data.get("metadata") or {})
    _check_metadata_size(registry, metadata)
    now = utcnow()
    doc = Interview(
        owner=owner,
        interviewers=interviewers,
        title=data["title"].strip(),
        role=data["role"].strip(),
        difficulty=data["difficulty"],
        status="scheduled",
        resume_id=data.get("resumeId"),
        metadata_json=encode_metadata(metadata),
        version=1,
        created_at=now,
        updated_at=now,
        created_day=day_of(now),
    ).save()
    emit(registry, "interview.created", event_payload(doc))
    return doc


def get_for(viewer: Viewer, interview_id: ObjectId | str) -> Interview:
    """The interview if the viewer may see it, else 404 (also for a malformed id: 400)."""
    oid = _oid(interview_id)
    doc = Interview.objects(id=oid).first()
    if doc is None or not viewer.can_read(doc):
        raise NotFound(f"interview {oid} not found")
    return doc


def list_for_user(viewer: Viewer, user_id: str, limit: int) -> list[Interview]:
    """Interviews of ``user_id`` (as candidate or interviewer) that the viewer may see,
    newest first, at most ``limit``. One query."""
    involved = {"$or": [{"owner": user_id}, {"interviewers": user_id}]}
    visible = viewer.visibility_filter()
    query = {"$and": [involved, visible]} if visible else involved
    return list(Interview.objects(__raw__=query).order_by("-created_at").limit(limit))


def _oid(value: ObjectId | str) -> ObjectId:
    if isinstance(value, ObjectId):
        return value
    from core.http.validation import object_id

    return object_id(value, "interviewId")


# -- updates ----------------------------------------------------------------------------------------------
def update(
    registry,
    viewer: Viewer,
    interview_id: ObjectId | str,
    changes: Mapping[str, Any],
    *,
    expected_version: int | None,
) -> Interview:
    """Apply ``changes`` (status, metadata, scores, feedback) atomically.

    ``expected_version`` None means "whatever is current" (retried on a concurrent change);
    a number that is not the current version is a 409. Disallowed status moves are 409 too.
    Emits the status event (``interview.started|completed|terminated``) and, when scores are
    set, ``score.generated``.
    """
    for attempt in range(_RETRIES):
        doc = get_for(viewer, interview_id)
        if not viewer.can_update(doc):
            raise Forbidden("permission denied: you may not change this interview")
        if ({"scores", "feedback"} & set(changes)) and not viewer.can_score(doc):
            raise Forbidden("permission denied: only interviewers and admins may set scores or feedback")
        if expected_version is not None and doc.version != expected_version:
            raise _stale(doc, expected_version)
        update_doc = _build_update(registry, doc, changes)
        after = _collection().find_one_and_update(
            {"_id": doc.id, "version": doc.version}, update_doc, return_document=ReturnDocument.AFTER
        )
        if after is not None:
            new = Interview._from_son(after)
            _emit_changes(registry, doc, new, changes)
            return new
        if expected_version is not None:
            current = Interview.objects(id=doc.id).only("version").first()
            raise _stale(current or doc, expected_version)
    raise Conflict("the interview kept changing while we tried to update it; retry")


def transition(registry, viewer: Viewer, interview_id, target: str, *, expected_version: int | None) -> Interview:
    """Move an interview to ``target`` status (see ``models.TRANSITIONS``)."""
    return update(registry, viewer, interview_id, {"status": target}, expected_version=expected_version)


def set_score(registry, viewer: Viewer, interview_id, scores: Mapping[str, Any], feedback: str | None = None,
              *, expected_version: int | None = None) -> Interview:
    """Set the overall and per-competency scores (and optional feedback); emits ``score.generated``."""
    changes: dict[str, Any] = {"scores": scores}
    if feedback is not None:
        changes["feedback"] = feedback
    return update(registry, viewer, interview_id, changes, expected_version=expected_version)


def _stale(doc: Interview, expected: int) -> Conflict:
    return Conflict(f"version conflict: you sent version {expected} but the interview is at version "
                    f"{doc.version}; reload it and retry", headers={"ETag": f'"{doc.version}"'})


def _build_update(registry, doc: Interview, changes: Mapping[str, Any]) -> dict:
    now = utcnow()
    sets: dict[str, Any] = {"updated_at": now}
    unsets: dict[str, Any] = {}
    target = changes.get("status")
    if target is not None:
        if not can_move(doc.status, target):
            allowed = ", ".join(sorted(TRANSITIONS[doc.status])) or "none (final status)"
            raise Conflict(f"status cannot change from {doc.status} to {target}; allowed: {allowed}")
        sets["status"] = target
        if target == "in_progress":
            sets["started_at"] = now
        else:  # completed or terminated: the interview ended now
            sets["completed_at"] = now
            sets["completed_day"] = day_of(now)
    if "metadata" in changes:
        # Merged here and stored whole as JSON text (models.Interview.metadata_json); the write
        # is conditioned on the version read, so a concurrent change is never lost.
        merged = dict(doc.metadata or {})
        for key, value in changes["metadata"].items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        _check_metadata_size(registry, merged)
        sets["metadata_json"] = encode_metadata(merged)
        unsets["metadata"] = ""  # the sub-document of earlier versions, if still there
    if "scores" in changes:
        status = target or doc.status
        if status not in SCORABLE:
            raise Conflict(f"scores can be set on in_progress or completed interviews, not {status}")
        scores = Scores(
            overall=float(changes["scores"]["overall"]),
            competencies=[
                Competency(subject=c["subject"].strip(), score=float(c["score"]), full_mark=float(c["fullMark"]))
                for c in changes["scores"].get("competencies", [])
            ],
        )
        sets["scores"] = scores.to_mongo().to_dict()
        sets["score_overall"] = scores.overall
        sets["score_bucket"] = score_bucket(scores.overall)
    if "feedback" in changes:
        sets["feedback"] = changes["feedback"]
    update_doc: dict[str, Any] = {"$set": sets, "$inc": {"version": 1}}
    if unsets:
        update_doc["$unset"] = unsets
    return update_doc


def _emit_changes(registry, before: Interview, after: Interview, changes: Mapping[str, Any]) -> None:
    if changes.get("status") and after.status != before.status:
        emit(registry, STATUS_EVENTS[after.status], event_payload(after))
    if "scores" in changes:
        emit(registry, "score.generated", score_payload(after))


# -- messages ---------------------------------------------------------------------------------------------
def start_if_scheduled(registry, doc: Interview) -> Interview:
    """Chat on a scheduled interview starts it (emits ``interview.started``); else unchanged."""
    if doc.status != "scheduled":
        return doc
    now = utcnow()
    after = _collection().find_one_and_update(
        {"_id": doc.id, "status": "scheduled"},
        {"$set": {"status": "in_progress", "started_at": now, "updated_at": now}, "$inc": {"version": 1}},
        return_document=ReturnDocument.AFTER,
    )
    if after is None:  # someone else moved it first: use what is there now
        return Interview.objects(id=doc.id).first()
    new = Interview._from_son(after)
    emit(registry, "interview.started", event_payload(new))
    return new


def add_message(doc: Interview, role: str, text: str, meta: Mapping[str, Any] | None = None,
                *, max_messages: int) -> Interview:
    """Append one message if the interview is still in progress and not full; 409 otherwise."""
    message = Message(role=role, text=text, time=utcnow(), details=dict(meta or {}))
    message.validate()
    now = message.time
    after = _collection().find_one_and_update(
        {"_id": doc.id, "status": "in_progress", f"messages.{max_messages - 1}": {"$exists": False}},
        {"$push": {"messages": message.to_mongo().to_dict()}, "$set": {"updated_at": now}, "$inc": {"version": 1}},
        return_document=ReturnDocument.AFTER,
    )
    if after is None:
        current = Interview.objects(id=doc.id).first()
        if current is not None and current.status == "in_progress":
            raise Conflict(f"this conversation is full ({max_messages} messages)")
        status = current.status if current is not None else "gone"
        raise Conflict(f"chat is only possible while the interview is in progress (it is {status})")
    return Interview._from_son(after)


def ensure_chat_allowed(viewer: Viewer, doc: Interview) -> None:
    """Only the interview's candidate chats, and only before it ends."""
    if doc.owner != viewer.user_id:
        raise Forbidden("only the candidate of this interview may chat in it")
    if doc.status not in ("scheduled", "in_progress"):
        raise Conflict(f"chat is only possible while the interview is in progress (it is {doc.status})")


def user_ids_of(docs: Iterable[Interview]) -> set[str]:
    """Every owner and interviewer id named by ``docs`` (for batch loading users)."""
    ids: set[str] = set()
    for doc in docs:
        ids.add(doc.owner)
        ids.update(doc.interviewers or [])
    return ids


# -- what other plugins may ask (service ``interviews.directory``) -----------------------------------
@dataclass(frozen=True)
class Participants:
    """Who takes part in one interview, and where it stands: its candidate (``owner``), its
    interviewers and its ``status`` (``scheduled | in_progress | completed | terminated``)."""

    owner: str
    interviewers: tuple[str, ...]
    status: str

    @property
    def in_progress(self) -> bool:
        return self.status == "in_progress"

    def is_interviewer(self, user_id: str) -> bool:
        return user_id in self.interviewers

    def involves(self, user_id: str) -> bool:
        return user_id == self.owner or user_id in self.interviewers


class InterviewDirectory:
    """Answers other plugins' questions about interviews without them importing our models.

    Registered as the service ``interviews.directory``; look it up with
    ``find_service(registry, "interviews.directory", optional=True)``. A plugin that stores
    data per interview uses it to let only the candidate write it while the interview is in
    progress, and only the interview's interviewers (and admins) read it (see proctoring).
    """

    def participants(self, interview_id: str) -> Participants | None:
        """The participants and status of ``interview_id``, or None when no interview has that id."""
        if not isinstance(interview_id, str) or len(interview_id) != 24:
            return None
        try:
            oid = ObjectId(interview_id)
        except (InvalidId, TypeError):
            return None
        doc = _collection().find_one({"_id": oid}, {"owner": 1, "interviewers": 1, "status": 1})
        if doc is None:
            return None
        return Participants(owner=doc["owner"], interviewers=tuple(doc.get("interviewers") or ()),
                            status=doc["status"])
