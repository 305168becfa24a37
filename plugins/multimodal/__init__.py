"""Multimodal interview analysis plugin: voice, facial expressions, gestures, eye gaze and posture.

Route ``POST /api/multimodal-ai/analyze`` (multimodal:analyze); GraphQL
``multimodalAnalyses(limit)`` (the caller's recent score summaries); periodic job
``multimodal.purge`` (retention of those summaries); health check ``vader`` (the sentiment
lexicon is loaded). See docs/multimodal.md.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Optional

import strawberry

from core import GraphQLContribution, Setting, hookimpl
from core.jobs import Periodic

MAX_HISTORY = 50


@hookimpl
def interviewminds_settings():
    return [
        Setting("gaze_tolerance", float, 0.30, "Radius around the screen centre (eyePositions units, -1..1) "
                "within which a gaze point counts as looking at the screen.", minimum=0.0),
        Setting("voice_llm", bool, True, "Analyse voice with Groq when a Groq key is configured "
                "(otherwise, or on failure, the deterministic heuristic answers)."),
        Setting("retention_days", int, 90, "Days analysis score summaries are kept.", minimum=1),
        Setting("purge_every_seconds", int, 3600, "How often the retention purge runs.", minimum=60),
    ]


@hookimpl
def interviewminds_services(settings):
    from plugins.multimodal.views import analyze_service

    return [analyze_service]


@hookimpl
def interviewminds_configure(config, settings):
    from plugins.multimodal.scoring import DEFAULTS

    config.registry.im_multimodal_thresholds = dataclasses.replace(
        DEFAULTS, gaze_on_screen_radius=settings["interviewminds.multimodal.gaze_tolerance"])


@strawberry.type
class MultimodalModalityScore:
    modality: str
    score: float


@strawberry.type
class MultimodalAnalysisSummary:
    created_at: str
    overall_score: int
    voice_source: Optional[str] = strawberry.field(description="groq | heuristic, or null without voice")
    modalities: list[MultimodalModalityScore]
    warnings: list[str]


@strawberry.type
class MultimodalQuery:
    @strawberry.field(description="The caller's most recent multimodal analyses (scores only), newest first.")
    def multimodal_analyses(self, info: strawberry.Info, limit: int = 10) -> list[MultimodalAnalysisSummary]:
        from plugins.multimodal.models import MultimodalAnalysis

        identity = info.context.identity
        if identity is None or not identity.can("multimodal:analyze"):
            raise PermissionError("permission denied: multimodal:analyze is needed")
        if not 1 <= limit <= MAX_HISTORY:
            raise ValueError(f"limit must be between 1 and {MAX_HISTORY}")
        docs = MultimodalAnalysis.objects(owner=identity.user_id).order_by("-created_at").limit(limit)
        return [MultimodalAnalysisSummary(
            created_at=doc.created_at.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds"),
            overall_score=doc.overall_score, voice_source=doc.voice_source,
            modalities=[MultimodalModalityScore(modality=k, score=v) for k, v in sorted(doc.modality_scores.items())],
            warnings=list(doc.warnings),
        ) for doc in docs]


@hookimpl
def interviewminds_graphql(settings):
    return GraphQLContribution(query=(MultimodalQuery,))


def purge(ctx) -> int:
    """Periodic job ``multimodal.purge``: delete summaries older than retention_days; returns how many."""
    from plugins.multimodal.models import MultimodalAnalysis

    days = ctx.settings["interviewminds.multimodal.retention_days"]
    cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)
    return MultimodalAnalysis.objects(created_at__lt=cutoff).delete()


@hookimpl
def interviewminds_jobs(settings):
    return {"multimodal.purge": Periodic(purge, every=settings["interviewminds.multimodal.purge_every_seconds"])}


def vader_check() -> dict:
    """The VADER lexicon loads and scores a sentence."""
    from plugins.multimodal.analysis import _vader

    analyzer = _vader()
    if analyzer.polarity_scores("good")["compound"] <= 0:
        return {"status": "error", "reason": "VADER lexicon scored 'good' as not positive"}
    return {"status": "ok", "lexiconWords": len(analyzer.lexicon)}


@hookimpl
def interviewminds_health_checks(settings):
    return {"vader": vader_check}
