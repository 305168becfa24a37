"""Every weight, threshold and word list of the multimodal analysis, in one place.

``analysis.py`` measures features (filler rate, gaze offsets, ...) and turns them into scores with
the numbers below; docs/multimodal.md explains each formula. An operator or a test can pass a
modified :class:`Thresholds` (``dataclasses.replace(DEFAULTS, ...)``) to ``analyze``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType


def clamp01(value: float) -> float:
    return min(1.0, max(0.0, value))


def to_score(fraction: float) -> int:
    """A 0..1 fraction as an int 0..100."""
    return int(round(100 * clamp01(fraction)))


def _frozen(mapping: dict) -> MappingProxyType:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Thresholds:
    # --- voice (transcript heuristics) ---------------------------------------------------------
    filler_rate_full: float = 0.10        # fillers per word at which the filler term saturates
    hedge_rate_full: float = 0.08         # hedges per word at which the hedge term saturates
    assertive_rate_full: float = 0.03     # assertive markers per word at which that term saturates
    negativity_full: float = 0.30         # VADER "neg" share at which the negativity term saturates
    fast_wpm: float = 170.0               # speaking faster than this starts to read as nervous...
    fast_wpm_span: float = 80.0           # ...fully so at fast_wpm + fast_wpm_span
    pace_full_wpm: float = 300.0          # pace = wpm / pace_full_wpm (150 wpm -> 50)
    pace_unknown: int = 50                # pace when durationSeconds is missing
    sentiment_positive: float = 0.05      # VADER compound >= this -> positive (VADER's own cut-off)
    sentiment_negative: float = -0.05     # VADER compound <= this -> negative
    # nervousness = weighted sum of saturating terms
    nervous_w_filler: float = 0.45
    nervous_w_hedge: float = 0.30
    nervous_w_negative: float = 0.10
    nervous_w_fast: float = 0.15
    # confidence = base + assertive + positive sentiment - hedges - fillers
    confidence_base: float = 0.70
    confidence_w_assertive: float = 0.15
    confidence_w_positive: float = 0.15
    confidence_w_hedge: float = 0.45
    confidence_w_filler: float = 0.35
    # enthusiasm = base + positive sentiment + exclamations - negative sentiment
    enthusiasm_base: float = 0.30
    enthusiasm_w_positive: float = 0.45
    enthusiasm_w_exclaim: float = 0.25
    enthusiasm_w_negative: float = 0.30
    exclaim_rate_full: float = 0.5        # exclamations per sentence at which that term saturates
    # clarity = sentence-length fit + variety of sentence lengths + absence of fillers
    clarity_w_length: float = 0.40
    clarity_w_variety: float = 0.20
    clarity_w_fluency: float = 0.40
    sentence_words_ideal: tuple[float, float] = (8.0, 20.0)  # mean words per sentence scoring 1
    sentence_words_max: float = 40.0      # the length score falls to 0 here
    variety_cv_ideal: tuple[float, float] = (0.2, 0.8)       # CV of sentence lengths scoring 1
    variety_single_sentence: float = 0.5  # variety score when there is only one sentence
    # --- facial --------------------------------------------------------------------------------
    emotion_engagement: MappingProxyType = field(default_factory=lambda: _frozen({
        "happy": 0.9, "surprised": 0.8, "neutral": 0.6, "angry": 0.4,
        "sad": 0.3, "fearful": 0.3, "disgusted": 0.2,
    }))
    emotion_engagement_unknown: float = 0.5  # an emotion name not listed above
    # --- gestures ------------------------------------------------------------------------------
    gesture_min_samples: int = 3
    jerk_full: float = 1.2                # roughness (rms 2nd difference / 2 std) of white noise
    activity_cv_full: float = 0.5         # coefficient of variation at which activity saturates
    fidget_w_jerk: float = 0.6
    fidget_w_activity: float = 0.4
    body_positive_below: int = 35         # fidgeting < 35 -> positive body language
    body_negative_from: int = 65          # fidgeting >= 65 -> negative; between -> neutral
    # --- eye gaze ------------------------------------------------------------------------------
    gaze_on_screen_radius: float = 0.30   # |(x, y)| <= this counts as looking at the screen
    # --- posture -------------------------------------------------------------------------------
    default_shoulder_width: float = 0.40  # reference length when only a shoulder midpoint is given
    slouch_below: float = 0.45            # head height above shoulders / shoulder width below this -> slouching
    upright_full: float = 0.70            # head height ratio scoring full uprightness...
    upright_zero: float = 0.20            # ...and zero uprightness
    lean_offset_ratio: float = 0.35       # |head x - shoulder x| / shoulder width above this -> leaning
    lean_shoulder_tilt: float = 0.25      # |left y - right y| / shoulder width above this -> leaning
    lean_torso_degrees: float = 15.0      # shoulder-to-hip line this far from vertical -> leaning
    lean_penalty: float = 0.5             # share of engagement lost at full lean (twice a lean threshold)
    # --- overall -------------------------------------------------------------------------------
    modality_weights: MappingProxyType = field(default_factory=lambda: _frozen({
        "voice": 0.35, "facial": 0.15, "gestures": 0.10, "eyeGaze": 0.25, "posture": 0.15,
    }))
    voice_score_weights: MappingProxyType = field(default_factory=lambda: _frozen({
        "confidence": 0.30, "clarity": 0.25, "enthusiasm": 0.15, "calm": 0.20, "pace": 0.10,
    }))


DEFAULTS = Thresholds()

# --- word lists (lower case; phrases are matched on whole words) -------------------------------
FILLERS = (
    ("um",), ("umm",), ("uh",), ("uhh",), ("uhm",), ("er",), ("erm",), ("ah",), ("hmm",),
    ("like",), ("you", "know"), ("i", "mean"), ("basically",), ("literally",), ("actually",),
)
HEDGES = (
    ("maybe",), ("perhaps",), ("probably",), ("possibly",), ("might",), ("somewhat",),
    ("i", "think"), ("i", "guess"), ("i", "suppose"), ("i", "believe"), ("sort", "of"), ("kind", "of"),
    ("not", "sure"), ("i'm", "not", "sure"), ("i", "don't", "know"), ("hopefully",),
)
ASSERTIVE = (
    ("definitely",), ("certainly",), ("clearly",), ("absolutely",), ("confident",), ("i", "will"),
    ("i", "built"), ("i", "led"), ("i", "designed"), ("i", "decided"), ("i", "know"),
)


# --- combinations ------------------------------------------------------------------------------

def voice_modality_score(voice: dict, t: Thresholds = DEFAULTS) -> float:
    """0..100 for the overall score: weighted confidence, clarity, enthusiasm, calm (100 - nervousness)
    and pace quality (100 at pace 50, i.e. 150 wpm, falling 2 points per pace point away from it)."""
    w = t.voice_score_weights
    parts = {
        "confidence": voice["confidence"], "clarity": voice["clarity"], "enthusiasm": voice["enthusiasm"],
        "calm": 100 - voice["nervousness"], "pace": max(0, 100 - 2 * abs(voice["pace"] - 50)),
    }
    return sum(w[k] * parts[k] for k in w) / sum(w.values())


def modality_scores(result: dict, t: Thresholds = DEFAULTS) -> dict[str, float]:
    """The 0..100 score each present modality contributes to overallScore."""
    scores = {}
    if result.get("voice") is not None:
        scores["voice"] = voice_modality_score(result["voice"], t)
    if result.get("facial") is not None:
        scores["facial"] = result["facial"]["engagementScore"]
    if result.get("gestures") is not None:
        scores["gestures"] = 100 - result["gestures"]["fidgeting"]
    if result.get("eyeGaze") is not None:
        scores["eyeGaze"] = result["eyeGaze"]["lookingAtScreen"]
    if result.get("posture") is not None:
        scores["posture"] = result["posture"]["engagementLevel"]
    return scores


def overall_score(scores: dict[str, float], t: Thresholds = DEFAULTS) -> int:
    """Weighted mean over the modalities present (absent ones are left out, not counted as 0)."""
    weights = {k: t.modality_weights[k] for k in scores}
    total = sum(weights.values())
    return int(round(sum(weights[k] * scores[k] for k in scores) / total)) if total else 0
