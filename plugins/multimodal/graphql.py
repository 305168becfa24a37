"""GraphQL: ``multimodalAnalyses(limit)``, the caller's recent score summaries (multimodal:analyze)."""
from __future__ import annotations

import datetime as dt
from typing import Optional

import strawberry

from core.errors import Forbidden, Invalid
from core.graphql_cost import list_cost
from plugins.multimodal import services

MAX_HISTORY = 50


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
    @strawberry.field(description="The caller's most recent multimodal analyses (scores only), newest first.",
                      metadata=list_cost(argument="limit", maximum=MAX_HISTORY))
    def multimodal_analyses(self, info: strawberry.Info, limit: int = 10) -> list[MultimodalAnalysisSummary]:
        identity = info.context.identity
        if identity is None or not identity.can("multimodal:analyze"):
            raise Forbidden("permission denied: multimodal:analyze is needed")
        if not 1 <= limit <= MAX_HISTORY:
            raise Invalid(f"invalid input: limit must be between 1 and {MAX_HISTORY}")
        return [MultimodalAnalysisSummary(
            created_at=doc.created_at.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds"),
            overall_score=doc.overall_score, voice_source=doc.voice_source,
            modalities=[MultimodalModalityScore(modality=k, score=v) for k, v in sorted(doc.modality_scores.items())],
            warnings=list(doc.warnings),
        ) for doc in services.recent_analyses(identity.user_id, limit)]
