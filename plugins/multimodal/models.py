"""What the multimodal plugin stores: a score summary of each analysis (never the transcript)."""
from __future__ import annotations

import datetime as dt

import mongoengine as me


class MultimodalAnalysis(me.Document):
    """One analysis by one user: the overall and per-modality scores, kept for retention_days."""

    owner = me.StringField(required=True)
    created_at = me.DateTimeField(default=lambda: dt.datetime.now(dt.timezone.utc))
    overall_score = me.IntField(required=True)
    modality_scores = me.DictField()  # modality -> 0..100 contribution to overallScore
    voice_source = me.StringField()  # "groq" | "heuristic" | None (no voice)
    warnings = me.ListField(me.StringField())
    meta = {"collection": "multimodal_analyses", "auto_create_index": False,
            "indexes": [("owner", "-created_at"), "created_at"]}
