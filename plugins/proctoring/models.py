"""What the proctoring plugin stores (MongoDB through mongoengine).

Findings only, never images or audio: per-frame violations and a few measurements, per-clip
audio measurements, screen events, and one report per interview. ``received_at`` drives the
retention purge (a periodic job; no TTL indexes, which FerretDB lacks).
"""
from __future__ import annotations

import mongoengine as me
from core.clock import utcnow


class ProctoringSession(me.Document):
    """Who owns an interview's proctoring session: the first user who submitted data for it.

    The primary key is the interview id, so two concurrent first submissions cannot both
    claim it (an upsert on ``_id``).
    """

    interview_id = me.StringField(primary_key=True)
    owner = me.StringField(required=True)
    created_at = me.DateTimeField(default=utcnow)
    meta = {"collection": "proctoring_sessions", "auto_create_index": False}


class ProctoringFrame(me.Document):
    interview_id = me.StringField(required=True)
    at = me.DateTimeField(required=True)
    received_at = me.DateTimeField(default=utcnow)
    violations = me.ListField(me.StringField())
    confirmed = me.ListField(me.StringField())
    face_count = me.IntField()
    on_camera = me.BooleanField()
    gaze = me.StringField()
    head_turn = me.StringField()
    brightness = me.FloatField()
    blurry = me.BooleanField()
    meta = {"collection": "proctoring_frames", "auto_create_index": False,
            "indexes": [("interview_id", "at"), "received_at"]}


class ProctoringAudioClip(me.Document):
    interview_id = me.StringField(required=True)
    at = me.DateTimeField(required=True)
    received_at = me.DateTimeField(default=utcnow)
    duration_seconds = me.FloatField()
    loudness_dbfs = me.FloatField()
    speech_ratio = me.FloatField()
    clipped = me.BooleanField()
    multiple_speakers = me.BooleanField()
    meta = {"collection": "proctoring_audio", "auto_create_index": False,
            "indexes": [("interview_id", "at"), "received_at"]}


class ProctoringScreenEvent(me.Document):
    interview_id = me.StringField(required=True)
    type = me.StringField(required=True)
    at = me.DateTimeField(required=True)
    detail = me.StringField()
    received_at = me.DateTimeField(default=utcnow)
    meta = {"collection": "proctoring_screen_events", "auto_create_index": False,
            "indexes": [("interview_id", "at"), "received_at"]}


class ProctoringReport(me.Document):
    """The latest evaluation of an interview (re-evaluating replaces it)."""

    interview_id = me.StringField(primary_key=True)
    report = me.DictField(required=True)
    risk_score = me.IntField(required=True)
    recommendation = me.StringField(required=True)
    evaluated_at = me.DateTimeField(default=utcnow)
    evaluated_by = me.StringField()  # a user id, or "job"
    meta = {"collection": "proctoring_reports", "auto_create_index": False,
            "indexes": [("recommendation", "-evaluated_at")]}
