"""What the multimodal plugin declares: settings, its permission and its rate-limit tier; and the
scoring thresholds the settings give (service ``multimodal.thresholds``)."""
from __future__ import annotations

import dataclasses

from core import Permission, RateLimits, Setting
from plugins.multimodal.scoring import DEFAULTS, Thresholds

SETTINGS = [
    Setting("gaze_tolerance", float, 0.30, "Radius around the screen centre (eyePositions units, -1..1) "
            "within which a gaze point counts as looking at the screen.", minimum=0.0),
    Setting("voice_llm", bool, True, "Analyse voice with the LLM provider when one is configured "
            "(otherwise, or on failure, the deterministic heuristic answers)."),
    Setting("retention_days", int, 90, "Days analysis score summaries are kept.", minimum=1),
    Setting("purge_every_seconds", int, 3600, "How often the retention purge runs.", minimum=60),
]

PERMISSIONS = [
    Permission("multimodal:analyze", "Run multimodal (voice, face, gesture, gaze, posture) analysis.",
               ("candidate", "interviewer")),
]

# Analysis may call the LLM: the same tier as the other LLM routes.
RATE_LIMITS = RateLimits(tiers={"ai": "30/minute"}, paths={"ai": ["/api/multimodal-ai"]})


def thresholds_of(settings) -> Thresholds:
    """The default scoring thresholds with the configured gaze tolerance."""
    return dataclasses.replace(DEFAULTS, gaze_on_screen_radius=settings["interviewminds.multimodal.gaze_tolerance"])
