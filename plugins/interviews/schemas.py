"""Input schemas (marshmallow) shared by the REST views and the GraphQL resolvers.

Every schema refuses unknown fields (``StrictSchema``) and wrong types: numbers must be JSON
numbers, not strings or booleans. NoSQL operators are refused before any schema runs
(``core.http.validation.reject_operators``), and GraphQL inputs go through the same check.
"""
from __future__ import annotations

import datetime as dt
import re

from marshmallow import ValidationError, fields, validate, validates_schema

from core.http.validation import StrictSchema, utc_instant
from plugins.interviews.models import DIFFICULTIES, STATUSES

USER_ID = re.compile(r"^[A-Za-z0-9_|:@.+-]{1,200}$")
METADATA_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
TIME_RANGES = ("LAST_24_HOURS", "LAST_7_DAYS", "LAST_30_DAYS", "LAST_90_DAYS", "ALL_TIME")
MAX_INTERVIEWERS = 10
MAX_COMPETENCIES = 30
MAX_FEEDBACK_CHARS = 5000
EXPORT_FORMATS = ("csv", "json")


def check_user_id(value: str) -> str:
    """A user id (a Clerk or dev subject): 1-200 of ``A-Z a-z 0-9 _ | : @ . + -``."""
    if not isinstance(value, str) or not USER_ID.match(value):
        raise ValidationError("must be a user id (1-200 letters, digits or _|:@.+-)")
    return value


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("must not be blank")


class StrictNumber(fields.Float):
    """A JSON number (int or float); strings, booleans and NaN/infinity are refused."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValidationError("must be a number")
        return super()._deserialize(value, attr, data, **kwargs)


class Metadata(fields.Dict):
    """Free metadata: top-level keys are names (plugins use their id); values any JSON."""

    def __init__(self, **kwargs):
        super().__init__(keys=fields.String(validate=validate.Regexp(METADATA_KEY, error=(
            "metadata keys must start with a letter and use letters, digits, _ or - (max 64)"))),
            values=fields.Raw(allow_none=True), **kwargs)


class CompetencySchema(StrictSchema):
    subject = fields.String(required=True, validate=[validate.Length(min=1, max=80), _not_blank])
    score = StrictNumber(required=True, validate=validate.Range(min=0))
    fullMark = StrictNumber(load_default=100.0, validate=validate.Range(min=0, min_inclusive=False))

    @validates_schema
    def _score_within_full_mark(self, data, **kwargs):
        if data.get("score", 0) > data.get("fullMark", 100.0):
            raise ValidationError("score must not exceed fullMark", "score")


class ScoreSchema(StrictSchema):
    overall = StrictNumber(required=True, validate=validate.Range(min=0, max=100))
    competencies = fields.List(fields.Nested(CompetencySchema), load_default=list,
                               validate=validate.Length(max=MAX_COMPETENCIES))

    @validates_schema
    def _distinct_subjects(self, data, **kwargs):
        subjects = [c["subject"].strip().lower() for c in data.get("competencies", [])]
        if len(subjects) != len(set(subjects)):
            raise ValidationError("each competency subject may appear once", "competencies")


class CreateInterviewSchema(StrictSchema):
    title = fields.String(required=True, validate=[validate.Length(min=1, max=200), _not_blank])
    role = fields.String(required=True, validate=[validate.Length(min=1, max=120), _not_blank])
    difficulty = fields.String(required=True, validate=validate.OneOf(DIFFICULTIES))
    candidateId = fields.String(validate=check_user_id)
    interviewers = fields.List(fields.String(validate=check_user_id), validate=validate.Length(max=MAX_INTERVIEWERS))
    resumeId = fields.String(validate=validate.Length(min=1, max=200))
    metadata = Metadata()


class UpdateInterviewSchema(StrictSchema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    metadata = Metadata()
    scores = fields.Nested(ScoreSchema)
    feedback = fields.String(allow_none=True, validate=validate.Length(max=MAX_FEEDBACK_CHARS))
    version = fields.Integer(strict=True, validate=validate.Range(min=1))

    @validates_schema
    def _something_to_change(self, data, **kwargs):
        if not {"status", "metadata", "scores", "feedback"} & set(data):
            raise ValidationError("send at least one of status, metadata, scores, feedback", "body")


class ChatSchema(StrictSchema):
    interviewId = fields.String(required=True)
    message = fields.String(required=True, validate=_not_blank)


class DayOrTime(fields.Field):
    """An ISO date (``2026-05-01``) or date-time (``2026-05-01T10:00:00Z``), as an aware UTC
    datetime. A bare date means its first instant; ``end_of_day`` marks a date-only value."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError("must be an ISO date or date-time")
        text = value.strip()
        try:
            if len(text) == 10:
                day = dt.date.fromisoformat(text)
                return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc), True
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError("must be an ISO date (YYYY-MM-DD) or date-time") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.timezone.utc)
        return utc_instant(moment), False  # 400 for offsets that push it outside years 1-9999


class ExportQuerySchema(StrictSchema):
    format = fields.String(load_default="csv", validate=validate.OneOf(EXPORT_FORMATS))
    status = fields.String(validate=validate.OneOf(STATUSES))
    userId = fields.String(validate=check_user_id)
    limit = fields.Integer(validate=validate.Range(min=1))
    cursor = fields.String()
    # ``from`` is a Python keyword: the field is named by data_key.
    from_ = DayOrTime(data_key="from")
    to = DayOrTime()


class DashboardQuerySchema(StrictSchema):
    timeRange = fields.String(load_default="LAST_30_DAYS", validate=validate.OneOf(TIME_RANGES))
