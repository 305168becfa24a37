"""Multimodal interview analysis: voice (transcript), facial expressions, gestures, eye gaze and posture.

:func:`analyze` takes the body of ``POST /api/multimodal-ai/analyze`` and returns the response
body. Each modality is measured on its own; a modality that is absent (or has nothing usable)
is ``null`` with a line in ``warnings`` and is left out of ``overallScore`` rather than counted
as 0. Voice uses an LLM when the caller passes one (``source`` names the provider, e.g. ``"groq"``) and otherwise, or when
the LLM's answer is unusable, a deterministic transcript heuristic (``source: "heuristic"``).
Formulas: docs/multimodal.md; numbers: scoring.py.
"""
from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping
from functools import lru_cache

from core.lazy import lazy_module

np = lazy_module("numpy")  # imported on first use: most processes never need it

from plugins.multimodal.schemas import MultimodalRequestSchema
from plugins.multimodal.scoring import (
    ASSERTIVE, DEFAULTS, FILLERS, HEDGES, Thresholds, clamp01, modality_scores, overall_score, to_score,
)

log = logging.getLogger(__name__)

SENTIMENTS = ("positive", "neutral", "negative")
VOICE_SCORE_FIELDS = ("confidence", "nervousness", "enthusiasm", "clarity", "pace")
GAZE_DIRECTIONS = ("center", "left", "right", "up", "down")

#: JSON Schema of what the voice LLM must answer (give it to the model; checked by validate_voice_llm_output).
VOICE_LLM_SCHEMA = {
    "type": "object",
    "properties": {
        **{name: {"type": "integer", "minimum": 0, "maximum": 100} for name in VOICE_SCORE_FIELDS},
        "sentiment": {"type": "string", "enum": list(SENTIMENTS)},
    },
    "required": [*VOICE_SCORE_FIELDS, "sentiment"],
    "additionalProperties": False,
}

VoiceLLM = Callable[[str], "dict | None"]


class NoUsableModalityError(ValueError):
    """Every modality sent was empty or unusable, so there is nothing to score (the API answers 400)."""


def analyze(payload: Mapping, *, voice_llm: VoiceLLM | None = None, thresholds: Thresholds = DEFAULTS) -> dict:
    """Analyse one request body; returns the response body.

    ``voice_llm(transcript)`` may return a dict shaped like :data:`VOICE_LLM_SCHEMA` or ``None``
    (no LLM available); anything invalid falls back to the heuristic with a warning.
    Raises ``marshmallow.ValidationError`` for a malformed body and :class:`NoUsableModalityError`
    when no modality has usable data.
    """
    data = MultimodalRequestSchema().load(payload)
    t = thresholds
    warnings: list[str] = []
    result = {
        "voice": _voice(data.get("audioText"), data.get("durationSeconds"), voice_llm, t, warnings),
        "facial": _modality("facial", data.get("facialData"), facial_analysis, t, warnings),
        "gestures": _modality("gestures", data.get("gestureData"), gesture_analysis, t, warnings),
        "eyeGaze": _modality("eyeGaze", data.get("eyePositions"), gaze_analysis, t, warnings),
        "posture": _modality("posture", data.get("postureKeypoints"), posture_analysis, t, warnings),
    }
    scores = modality_scores(result, t)
    if not scores:
        raise NoUsableModalityError("no modality had usable data: " + "; ".join(warnings))
    result["overallScore"] = overall_score(scores, t)
    result["warnings"] = warnings
    return result


def _modality(name: str, value, analyse: Callable, t: Thresholds, warnings: list[str]) -> dict | None:
    if value is None:
        warnings.append(f"{name}: no data")
        return None
    try:
        return analyse(value, t)
    except InsufficientData as exc:
        warnings.append(f"{name}: {exc}")
        return None


class InsufficientData(Exception):
    """A modality was sent but has too little to measure; it becomes null with this message as a warning."""


# --- voice ------------------------------------------------------------------------------------

def _voice(text: str | None, duration: float | None, voice_llm: VoiceLLM | None, t: Thresholds,
           warnings: list[str]) -> dict | None:
    if text is None:
        warnings.append("voice: no data")
        return None
    if not _words(text):
        warnings.append("voice: transcript has no words")
        return None
    if voice_llm is not None:
        try:
            answer = voice_llm(text)
        except Exception as exc:  # an LLM outage must not fail the analysis; the heuristic answers instead
            log.warning("voice LLM failed, heuristic used: %s: %s", type(exc).__name__, exc)
            warnings.append("voice: LLM analysis failed; heuristic used")
        else:
            checked = validate_voice_llm_output(answer)
            if checked is not None:
                source = answer.get("source") if isinstance(answer.get("source"), str) else "llm"
                return {**checked, "source": source}
            if answer is not None:
                warnings.append("voice: LLM answer was invalid; heuristic used")
    if duration is None:
        warnings.append(f"voice: durationSeconds missing; pace assumed {t.pace_unknown}")
    return voice_heuristic(text, duration, t)


def validate_voice_llm_output(obj) -> dict | None:
    """The LLM's voice answer normalised (scores as ints 0..100, sentiment lower case), or None if unusable.

    Every field of :data:`VOICE_LLM_SCHEMA` is required; numbers may be ints or finite floats
    (rounded); booleans and strings are not numbers. Extra keys are ignored rather than failing
    the whole answer.
    """
    if not isinstance(obj, Mapping):
        return None
    out = {}
    for name in VOICE_SCORE_FIELDS:
        value = obj.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        if not math.isfinite(value) or not 0 <= value <= 100:
            return None
        out[name] = int(round(value))
    sentiment = obj.get("sentiment")
    if not isinstance(sentiment, str) or sentiment.strip().lower() not in SENTIMENTS:
        return None
    out["sentiment"] = sentiment.strip().lower()
    return out


_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SENTENCE_END = re.compile(r"[.!?]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def count_phrases(words: list[str], phrases: tuple[tuple[str, ...], ...]) -> int:
    """Non-overlapping whole-word matches of ``phrases`` in ``words``, longest phrase first."""
    by_length = sorted(phrases, key=len, reverse=True)
    count, i = 0, 0
    while i < len(words):
        for phrase in by_length:
            if tuple(words[i:i + len(phrase)]) == phrase:
                count += 1
                i += len(phrase)
                break
        else:
            i += 1
    return count


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # loads a lexicon file once

    return SentimentIntensityAnalyzer()


def voice_heuristic(text: str, duration: float | None, t: Thresholds = DEFAULTS) -> dict:
    """Deterministic voice scores from a transcript (and its duration in seconds, for pace)."""
    words = _words(text)
    n = len(words)
    filler = clamp01(count_phrases(words, FILLERS) / n / t.filler_rate_full)
    hedge = clamp01(count_phrases(words, HEDGES) / n / t.hedge_rate_full)
    assertive = clamp01(count_phrases(words, ASSERTIVE) / n / t.assertive_rate_full)
    polarity = _vader().polarity_scores(text)
    compound = polarity["compound"]
    positive, negative = max(compound, 0.0), max(-compound, 0.0)
    negativity = clamp01(polarity["neg"] / t.negativity_full)

    wpm = n / (duration / 60) if duration else None
    pace = to_score(wpm / t.pace_full_wpm) if wpm is not None else t.pace_unknown
    fast = clamp01((wpm - t.fast_wpm) / t.fast_wpm_span) if wpm is not None else 0.0

    sentences = [len(_words(s)) for s in _SENTENCE_END.split(text) if _words(s)]
    exclaim = clamp01(text.count("!") / max(len(sentences), 1) / t.exclaim_rate_full)
    length_fit, variety = _sentence_structure(sentences, has_punctuation=bool(_SENTENCE_END.search(text)), t=t)

    if compound >= t.sentiment_positive:
        sentiment = "positive"
    elif compound <= t.sentiment_negative:
        sentiment = "negative"
    else:
        sentiment = "neutral"
    return {
        "confidence": to_score(t.confidence_base + t.confidence_w_assertive * assertive
                               + t.confidence_w_positive * positive
                               - t.confidence_w_hedge * hedge - t.confidence_w_filler * filler),
        "nervousness": to_score(t.nervous_w_filler * filler + t.nervous_w_hedge * hedge
                                + t.nervous_w_negative * negativity + t.nervous_w_fast * fast),
        "enthusiasm": to_score(t.enthusiasm_base + t.enthusiasm_w_positive * positive
                               + t.enthusiasm_w_exclaim * exclaim - t.enthusiasm_w_negative * negative),
        "clarity": to_score(t.clarity_w_length * length_fit + t.clarity_w_variety * variety
                            + t.clarity_w_fluency * (1 - filler)),
        "pace": pace,
        "sentiment": sentiment,
        "source": "heuristic",
    }


def _sentence_structure(lengths: list[int], *, has_punctuation: bool, t: Thresholds) -> tuple[float, float]:
    """(length fit, variety), each 0..1. An unpunctuated transcript (raw speech-to-text) scores 0.5 for both."""
    if not has_punctuation and sum(lengths) > t.sentence_words_max:
        return 0.5, 0.5
    mean = float(np.mean(lengths))
    low, high = t.sentence_words_ideal
    if mean < low:
        length_fit = mean / low
    elif mean <= high:
        length_fit = 1.0
    else:
        length_fit = clamp01(1 - (mean - high) / (t.sentence_words_max - high))
    if len(lengths) < 2:
        return length_fit, t.variety_single_sentence
    cv = float(np.std(lengths) / mean)
    cv_low, cv_high = t.variety_cv_ideal
    if cv < cv_low:
        variety = cv / cv_low
    elif cv <= cv_high:
        variety = 1.0
    else:
        variety = clamp01(1 - (cv - cv_high) / cv_high)
    return length_fit, variety


# --- facial -----------------------------------------------------------------------------------

def facial_analysis(values: Mapping[str, float], t: Thresholds = DEFAULTS) -> dict:
    """Expressions normalised to percentages, the dominant one, and an engagement score (emotion-weighted)."""
    merged: Counter = Counter()
    for name, value in values.items():
        merged[name.strip().lower()] += value
    total = sum(merged.values())
    if total <= 0:
        raise InsufficientData("all expression values are zero")
    shares = {name: value / total for name, value in sorted(merged.items())}
    dominant = max(shares, key=lambda name: (shares[name], name == "neutral"))
    engagement = sum(share * t.emotion_engagement.get(name, t.emotion_engagement_unknown)
                     for name, share in shares.items())
    return {
        "expressions": {name: round(100 * share, 1) for name, share in shares.items()},
        "dominantEmotion": dominant,
        "engagementScore": to_score(engagement),
    }


# --- gestures ---------------------------------------------------------------------------------

def gesture_analysis(series: list[float], t: Thresholds = DEFAULTS) -> dict:
    """Fidgeting from how rough (jerk) and how variable (activity) a movement time series is; units cancel out."""
    if len(series) < t.gesture_min_samples:
        raise InsufficientData(f"need at least {t.gesture_min_samples} samples, got {len(series)}")
    x = np.asarray(series, dtype=float)
    peak = float(np.max(np.abs(x)))
    if peak > 0:
        x = x / peak  # every feature is scale-free; this only keeps huge values from overflowing
    std = float(x.std())
    if std == 0:
        jerk = activity = 0.0  # perfectly still
    else:
        roughness = float(np.sqrt(np.mean(np.diff(x, 2) ** 2))) / (2 * std)
        jerk = clamp01(roughness / t.jerk_full)
        level = float(np.mean(np.abs(x)))
        activity = clamp01(std / level / t.activity_cv_full) if level > 0 else 1.0
    fidgeting = to_score(t.fidget_w_jerk * jerk + t.fidget_w_activity * activity)
    if fidgeting < t.body_positive_below:
        body = "positive"
    elif fidgeting < t.body_negative_from:
        body = "neutral"
    else:
        body = "negative"
    return {"fidgeting": fidgeting, "overallBodyLanguage": body}


# --- eye gaze ---------------------------------------------------------------------------------

def gaze_analysis(points: list[Mapping[str, float]], t: Thresholds = DEFAULTS) -> dict:
    """Share of gaze points near the screen centre, and the most common direction."""
    if not points:
        raise InsufficientData("no positions")
    x = np.array([p["x"] for p in points])
    y = np.array([p["y"] for p in points])
    on_screen = np.hypot(x, y) <= t.gaze_on_screen_radius
    horizontal = np.abs(x) >= np.abs(y)
    directions = np.where(on_screen, "center",
                          np.where(horizontal, np.where(x < 0, "left", "right"), np.where(y < 0, "up", "down")))
    counts = Counter(directions.tolist())
    direction = max(GAZE_DIRECTIONS, key=lambda d: (counts[d], -GAZE_DIRECTIONS.index(d)))
    return {"gazeDirection": direction, "lookingAtScreen": to_score(float(on_screen.mean()))}


# --- posture ----------------------------------------------------------------------------------

def _keypoints(raw: Mapping[str, Mapping[str, float]]) -> dict[str, np.ndarray]:
    """Names folded to one spelling: "left_shoulder", "leftShoulder" and "Left-Shoulder" are all "leftshoulder"."""
    return {re.sub(r"[\s_-]", "", name.lower()): np.array([p["x"], p["y"]]) for name, p in raw.items()}


def _find(points: dict[str, np.ndarray], *options: tuple[str, ...]) -> np.ndarray | None:
    """The first option whose keypoints are all present, averaged (e.g. left and right eye -> head)."""
    for names in options:
        if all(n in points for n in names):
            return np.mean([points[n] for n in names], axis=0)
    return None


def posture_analysis(raw: Mapping[str, Mapping[str, float]], t: Thresholds = DEFAULTS) -> dict:
    """Upright / slouching / leaning from head, shoulder and (optional) hip keypoints, plus an engagement level."""
    points = _keypoints(raw)
    head = _find(points, ("nose",), ("head",), ("lefteye", "righteye"), ("leftear", "rightear"))
    shoulders = _find(points, ("shoulders",), ("leftshoulder", "rightshoulder"), ("shouldercenter",), ("neck",))
    if head is None or shoulders is None:
        raise InsufficientData("need a head keypoint (nose, eyes or ears) and shoulders")
    hips = _find(points, ("hips",), ("lefthip", "righthip"), ("midhip",), ("hipcenter",))
    left, right = points.get("leftshoulder"), points.get("rightshoulder")
    width = float(np.hypot(*(left - right))) if left is not None and right is not None else 0.0
    reference = width if width > 1e-6 else t.default_shoulder_width

    head_height = (shoulders[1] - head[1]) / reference           # image y grows downward
    offset = abs(head[0] - shoulders[0]) / reference
    tilt = abs(left[1] - right[1]) / reference if width > 1e-6 else 0.0
    torso = 0.0
    if hips is not None:
        dx, dy = abs(shoulders[0] - hips[0]), hips[1] - shoulders[1]
        torso = math.degrees(math.atan2(dx, dy)) if dy > 0 else 90.0

    lean = max(offset / t.lean_offset_ratio, tilt / t.lean_shoulder_tilt, torso / t.lean_torso_degrees)
    if head_height < t.slouch_below:
        posture = "slouching"
    elif lean > 1:
        posture = "leaning"
    else:
        posture = "upright"
    uprightness = clamp01((head_height - t.upright_zero) / (t.upright_full - t.upright_zero))
    engagement = uprightness * (1 - t.lean_penalty * clamp01(lean / 2))
    return {"posture": posture, "engagementLevel": to_score(engagement)}
