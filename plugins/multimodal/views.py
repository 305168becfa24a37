"""``POST /api/multimodal-ai/analyze``: validate the body, call ``services.analyze_and_store``,
return the analysis."""
from __future__ import annotations

from core import Service
from plugins.multimodal import services
from plugins.multimodal.schemas import MultimodalRequestSchema

analyze_service = Service(name="multimodal.analyze", path="/api/multimodal-ai/analyze",
                          description="Multimodal analysis: voice, facial expressions, gestures, eye gaze, posture")


@analyze_service.post(schema=MultimodalRequestSchema, permission="multimodal:analyze")
def analyze_view(request):
    return services.analyze_and_store(request.registry, request.identity.user_id, request.validated)
