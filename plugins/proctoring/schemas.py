"""Request bodies of the proctoring routes (marshmallow; unknown fields are refused).

Shared field rules:

* ``interviewId``: 1-64 characters of ``A-Z a-z 0-9 _ -`` (an ObjectId's hex form fits); it
  names the proctoring session and is used in Redis keys, so nothing else is allowed.
* ``timestamp``: when the client captured the frame/clip/event, as an ISO 8601 string with a
  time zone (``2025-01-31T10:00:00Z``) or a number of epoch milliseconds (``Date.now()``).
  Times before 2000 or more than 5 minutes in the future are refused. Missing: the server's
  receive time is used.
* Numbers must be JSON numbers: ``"0.5"`` and booleans are refused.
"""
from __future__ import annotations

import datetime as dt
import math

from marshmallow import ValidationError, fields, validate

from core.http.validation import StrictSchema, utc_instant
from plugins.proctoring.evaluation import SCREEN_EVENTS

INTERVIEW_ID = validate.Regexp(r"^[A-Za-z0-9_-]{1,64}$",
                               error="must be 1-64 characters of letters, digits, '_' or '-'")
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
MAX_CLOCK_SKEW = dt.timedelta(minutes=5)
MAX_POSITIONS = 100


class StrictNumber(fields.Float):
    """A finite JSON number (no strings, booleans, NaN or infinities)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValidationError("Not a valid number.")
        try:
            value = float(value)
        except OverflowError:
            raise ValidationError("Must be a finite number.") from None
        if not math.isfinite(value):
            raise ValidationError("Must be a finite number.")
        return value


class Timestamp(fields.Field):
    """ISO 8601 with a time zone, or epoch milliseconds -> an aware UTC datetime."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ValidationError("must be an ISO 8601 time or epoch milliseconds")
        if isinstance(value, (int, float)):
            try:
                moment = dt.datetime.fromtimestamp(value / 1000, tz=dt.timezone.utc)
            except (ValueError, OverflowError, OSError):  # NaN, infinities, years out of range
                raise ValidationError("epoch milliseconds out of range") from None
        elif isinstance(value, str) and len(value) <= 40:
            try:
                moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise ValidationError("not an ISO 8601 time") from None
            if moment.tzinfo is None:
                raise ValidationError("ISO 8601 time needs a time zone (e.g. Z)")
            moment = utc_instant(moment)  # 400, not an OverflowError, for 9999-12-31T23:59:59-23:59
        else:
            raise ValidationError("must be an ISO 8601 time or epoch milliseconds")
        if moment < EARLIEST or moment > dt.datetime.now(dt.timezone.utc) + MAX_CLOCK_SKEW:
            raise ValidationError("time is before 2000 or in the future")
        return moment


class PositionSchema(StrictSchema):
    x = StrictNumber(required=True, validate=validate.Range(0.0, 1.0))
    y = StrictNumber(required=True, validate=validate.Range(0.0, 1.0))


class FrameSchema(StrictSchema):
    """``POST /api/proctoring/frame``."""

    frameData = fields.String(required=True)
    previousPositions = fields.List(fields.Nested(PositionSchema), load_default=None, allow_none=True,
                                    validate=validate.Length(max=MAX_POSITIONS))
    interviewId = fields.String(load_default=None, allow_none=True, validate=INTERVIEW_ID)
    timestamp = Timestamp(load_default=None, allow_none=True)


class AudioSchema(StrictSchema):
    """``POST /api/proctoring/audio``; sampleRate/channels are checked by audio.decode_audio."""

    audioData = fields.String(required=True)
    sampleRate = fields.Raw(load_default=None, allow_none=True)
    channels = fields.Raw(load_default=None, allow_none=True)
    interviewId = fields.String(load_default=None, allow_none=True, validate=INTERVIEW_ID)
    timestamp = Timestamp(load_default=None, allow_none=True)


class ScreenEventSchema(StrictSchema):
    type = fields.String(required=True, validate=validate.OneOf(SCREEN_EVENTS))
    timestamp = Timestamp(required=True)
    detail = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


def screen_schema(max_events: int):
    """``POST /api/proctoring/screen`` with at most ``max_events`` events."""

    class ScreenSchema(StrictSchema):
        interviewId = fields.String(required=True, validate=INTERVIEW_ID)
        events = fields.List(fields.Nested(ScreenEventSchema), required=True,
                             validate=validate.Length(min=1, max=max_events))

    return ScreenSchema


class EvaluateSchema(StrictSchema):
    """``POST /api/proctoring/evaluate``."""

    interviewId = fields.String(required=True, validate=INTERVIEW_ID)
