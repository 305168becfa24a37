"""The interview document, its status machine, and its JSON shape.

Stored in ``interviews_interviews``. Besides what the API shows, each document carries fields
written at write time for reports (FerretDB has no expression operators in pipelines, so
reports group by stored values): ``created_day`` / ``completed_day`` (``YYYY-MM-DD``, UTC),
``score_bucket`` (0, 10, ..., 90; a 100 falls in 90) and ``score_overall`` (the overall score
at the top level, so ``$sum`` can add it).
"""
from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import mongoengine as me
from core.clock import iso_utc

STATUSES = ("scheduled", "in_progress", "completed", "terminated")
DIFFICULTIES = ("easy", "medium", "hard")
MESSAGE_ROLES = ("candidate", "interviewer")

# The status machine, in one place: status -> the statuses it may move to.
# scheduled -> terminated is a cancellation; completed and terminated are final.
TRANSITIONS: dict[str, frozenset[str]] = {
    "scheduled": frozenset({"in_progress", "terminated"}),
    "in_progress": frozenset({"completed", "terminated"}),
    "completed": frozenset(),
    "terminated": frozenset(),
}
# The event emitted when an interview enters a status.
STATUS_EVENTS = {
    "in_progress": "interview.started",
    "completed": "interview.completed",
    "terminated": "interview.terminated",
}
# Statuses on which scores may be set.
SCORABLE = frozenset({"in_progress", "completed"})
BUCKET_WIDTH = 10


def day_of(moment: dt.datetime) -> str:
    """The UTC day of a moment, as stored for reports."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%d")


def score_bucket(overall: float) -> int:
    """The histogram bucket of an overall score 0-100: 0, 10, ..., 90 (100 falls in 90)."""
    return min(int(overall) // BUCKET_WIDTH * BUCKET_WIDTH, 100 - BUCKET_WIDTH)


def can_move(current: str, target: str) -> bool:
    """Whether the status machine allows ``current -> target``."""
    return target in TRANSITIONS.get(current, frozenset())


class Message(me.EmbeddedDocument):
    """One turn of the conversation. ``meta`` holds what the interviewer needs later
    (question id, kind, competency) and how the reply was made (source, tokens, latency)."""

    role = me.StringField(required=True, choices=MESSAGE_ROLES)
    text = me.StringField(required=True)
    time = me.DateTimeField(required=True)
    # ``meta`` is reserved by mongoengine for class options: stored as "meta", named details here.
    details = me.DictField(db_field="meta")


class Competency(me.EmbeddedDocument):
    subject = me.StringField(required=True, max_length=80)
    score = me.FloatField(required=True, min_value=0)
    full_mark = me.FloatField(required=True, min_value=0)


class Scores(me.EmbeddedDocument):
    overall = me.FloatField(required=True, min_value=0, max_value=100)
    competencies = me.EmbeddedDocumentListField(Competency)


class Interview(me.Document):
    """A candidate's interview (see the module docstring for the report fields)."""

    owner = me.StringField(required=True, max_length=200)
    interviewers = me.ListField(me.StringField(max_length=200))
    title = me.StringField(required=True, max_length=200)
    role = me.StringField(required=True, max_length=120)
    difficulty = me.StringField(required=True, choices=DIFFICULTIES)
    status = me.StringField(required=True, choices=STATUSES, default="scheduled")
    messages = me.EmbeddedDocumentListField(Message)
    scores = me.EmbeddedDocumentField(Scores, null=True)
    feedback = me.StringField(null=True)
    resume_id = me.StringField(null=True, max_length=200)
    # Free metadata is stored opaquely, as JSON text: no key of it is ever read by mongoengine
    # (a DictField instantiates the class a nested ``_cls`` names), pymongo or the server.
    # ``metadata`` (a property below) is the dict; ``interviewminds migrate`` converts the
    # sub-documents of earlier versions (``legacy_metadata``, never interpreted either).
    metadata_json = me.StringField()
    legacy_metadata = me.fields.BaseField(db_field="metadata")
    version = me.IntField(required=True, default=1, min_value=1)
    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField(required=True)
    started_at = me.DateTimeField(null=True)
    completed_at = me.DateTimeField(null=True)
    # Stored at write time for reports.
    created_day = me.StringField(required=True)
    completed_day = me.StringField(null=True)
    score_bucket = me.IntField(null=True)
    score_overall = me.FloatField(null=True)

    meta = {
        "collection": "interviews_interviews",
        "indexes": [
            ("owner", "-created_at"),
            ("status", "created_day"),
            "interviewers",
            "-created_at",
            ("completed_day", "status"),
        ],
        "auto_create_index": False,
    }

    @property
    def metadata(self) -> dict[str, Any]:
        """The free metadata (a new dict each time; change it through services.update)."""
        if self.metadata_json is not None:
            return json.loads(self.metadata_json)
        legacy = self.legacy_metadata
        return legacy_metadata_value(legacy) if isinstance(legacy, dict) else {}

    @classmethod
    def migrate_documents(cls) -> str | None:
        """``interviewminds migrate``: store metadata kept as a sub-document (earlier versions)
        as JSON text, so that no key of it (``_cls``...) is interpreted again. Idempotent: only
        documents that still have the sub-document are touched, each with one atomic update."""
        collection = cls._get_collection()
        converted = 0
        for raw in collection.find({"metadata": {"$exists": True}}, {"metadata": 1, "metadata_json": 1}):
            update: dict[str, Any] = {"$unset": {"metadata": ""}}
            if not isinstance(raw.get("metadata_json"), str):  # else the JSON text is the newer one
                legacy = raw.get("metadata")
                text = encode_metadata(legacy_metadata_value(legacy) if isinstance(legacy, dict) else {})
                update["$set"] = {"metadata_json": text}
            result = collection.update_one({"_id": raw["_id"], "metadata": {"$exists": True}}, update)
            converted += result.modified_count
        return f"{collection.name}: metadata of {converted} interviews stored as JSON text" if converted else None


def encode_metadata(metadata: dict[str, Any]) -> str:
    """Metadata as stored: compact JSON text (values were checked JSON-safe on input)."""
    return json.dumps(metadata, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def legacy_metadata_value(value: Any) -> Any:
    """A sub-document as pymongo returned it, made JSON-safe: non-finite floats become null and
    BSON types without a JSON form (dates, ids) their string."""
    if isinstance(value, dict):
        return {str(k): legacy_metadata_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [legacy_metadata_value(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


def message_json(message: Message) -> dict[str, Any]:
    return {"role": message.role, "text": message.text, "time": iso_utc(message.time), "meta": dict(message.details or {})}


def scores_json(scores: Scores | None) -> dict[str, Any] | None:
    if scores is None:
        return None
    return {
        "overall": scores.overall,
        "competencies": [
            {"subject": c.subject, "score": c.score, "fullMark": c.full_mark} for c in scores.competencies
        ],
    }


def interview_json(doc: Interview, *, with_messages: bool = True) -> dict[str, Any]:
    """The API shape of an interview: camelCase, string ``id``, ISO times in UTC."""
    body = {
        "id": str(doc.id),
        "ownerId": doc.owner,
        "interviewers": list(doc.interviewers or []),
        "title": doc.title,
        "role": doc.role,
        "difficulty": doc.difficulty,
        "status": doc.status,
        "allowedTransitions": sorted(TRANSITIONS[doc.status]),
        "scores": scores_json(doc.scores),
        "feedback": doc.feedback,
        "resumeId": doc.resume_id,
        "metadata": dict(doc.metadata or {}),
        "version": doc.version,
        "createdAt": iso_utc(doc.created_at),
        "updatedAt": iso_utc(doc.updated_at),
        "startedAt": iso_utc(doc.started_at),
        "completedAt": iso_utc(doc.completed_at),
        "messageCount": len(doc.messages or []),
    }
    if with_messages:
        body["messages"] = [message_json(m) for m in doc.messages or []]
    return body
