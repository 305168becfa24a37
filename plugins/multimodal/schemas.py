"""Request schema of ``POST /api/multimodal-ai/analyze`` (marshmallow).

Strict on purpose: unknown fields are rejected, numbers must be JSON numbers (no "12" strings,
no booleans), and only finite values pass (no NaN or Infinity). Every modality is optional and
``null`` means "not provided", but at least one modality must be present.

Coordinate conventions (also in docs/multimodal.md):
* ``eyePositions``: gaze relative to the screen centre, x and y in [-1, 1]; (0, 0) is the centre,
  x grows to the candidate's right and y grows downward (image convention).
* ``postureKeypoints``: normalised image coordinates, (0, 0) top-left, (1, 1) bottom-right; values
  down to -0.5 and up to 1.5 are accepted because pose estimators extrapolate keypoints slightly
  off-frame.
"""
from __future__ import annotations

import math

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

MAX_TRANSCRIPT_CHARS = 20_000
MAX_SERIES = 10_000
MAX_EMOTIONS = 32
MAX_KEYPOINTS = 64
MAX_NAME_CHARS = 64
MAX_DURATION_SECONDS = 24 * 3600
MODALITIES = ("audioText", "facialData", "gestureData", "eyePositions", "postureKeypoints")


class StrictNumber(fields.Float):
    """A finite JSON number: rejects strings, booleans, NaN and infinities."""

    default_error_messages = {"invalid": "Not a valid number.", "special": "Must be a finite number."}

    def __init__(self, **kwargs):
        super().__init__(allow_nan=False, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid")
        if isinstance(value, int):
            try:
                value = float(value)
            except OverflowError:
                raise self.make_error("special") from None
        if not math.isfinite(value):
            raise self.make_error("special")
        return super()._deserialize(value, attr, data, **kwargs)


class GazePointSchema(Schema):
    class Meta:
        unknown = RAISE

    x = StrictNumber(required=True, validate=validate.Range(-1.0, 1.0))
    y = StrictNumber(required=True, validate=validate.Range(-1.0, 1.0))


class KeypointSchema(Schema):
    class Meta:
        unknown = RAISE

    x = StrictNumber(required=True, validate=validate.Range(-0.5, 1.5))
    y = StrictNumber(required=True, validate=validate.Range(-0.5, 1.5))


_name = fields.String(validate=validate.Length(1, MAX_NAME_CHARS))


class MultimodalRequestSchema(Schema):
    """Body of ``POST /api/multimodal-ai/analyze``."""

    class Meta:
        unknown = RAISE

    audioText = fields.String(allow_none=True, validate=validate.Length(max=MAX_TRANSCRIPT_CHARS))
    durationSeconds = StrictNumber(
        allow_none=True, validate=validate.Range(0, MAX_DURATION_SECONDS, min_inclusive=False))
    facialData = fields.Dict(
        keys=_name, values=StrictNumber(validate=validate.Range(0, 100)),
        allow_none=True, validate=validate.Length(max=MAX_EMOTIONS))
    gestureData = fields.List(StrictNumber(), allow_none=True, validate=validate.Length(max=MAX_SERIES))
    eyePositions = fields.List(fields.Nested(GazePointSchema), allow_none=True,
                               validate=validate.Length(max=MAX_SERIES))
    postureKeypoints = fields.Dict(keys=_name, values=fields.Nested(KeypointSchema), allow_none=True,
                                   validate=validate.Length(max=MAX_KEYPOINTS))

    @validates_schema
    def _one_modality(self, data, **kwargs):
        if all(data.get(name) is None for name in MODALITIES):
            raise ValidationError(f"at least one of {', '.join(MODALITIES)} is required")
