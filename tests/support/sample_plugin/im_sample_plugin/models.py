"""The sample plugin's MongoDB document; its index is created by `interviewminds migrate`."""
from __future__ import annotations

import datetime as dt

import mongoengine as me


class SampleNote(me.Document):
    owner = me.StringField(required=True)
    text = me.StringField(required=True, max_length=200)
    created_at = me.DateTimeField(default=lambda: dt.datetime.now(dt.timezone.utc))
    meta = {"collection": "sample_notes", "indexes": [("owner", "-created_at")], "auto_create_index": False}
