"""Multimodal analysis: response shape, each modality's behaviour, missing data, schema rejections, LLM fallback."""
from __future__ import annotations

import copy
import dataclasses
import math

import numpy as np
import pytest
from marshmallow import ValidationError

from plugins.multimodal.analysis import (
    VOICE_LLM_SCHEMA, NoUsableModalityError, analyze, validate_voice_llm_output,
)
from plugins.multimodal.scoring import DEFAULTS
from tests.support.api_examples import MULTIMODAL_REQUEST

EXAMPLE = MULTIMODAL_REQUEST  # the API reference's example request

HEDGING = ("Um, I think maybe, uh, I sort of used a hash map? I guess it kind of works, you know. "
           "I'm not sure, like, it probably handles the edge cases.")
CONFIDENT = ("I designed the caching layer and definitely cut latency by half. I led a team of four engineers. "
             "We shipped the rollout on time and the results were excellent.")
SAMPLE_UPRIGHT = {"nose": {"x": 0.5, "y": 0.3}, "leftShoulder": {"x": 0.3, "y": 0.6},
                  "rightShoulder": {"x": 0.7, "y": 0.6}}


def voice(text, **extra):
    return analyze({"audioText": text, **extra})["voice"]


# --- shape ------------------------------------------------------------------------------------

def test_api_reference_example_has_exactly_the_documented_keys():
    result = analyze(copy.deepcopy(EXAMPLE))
    assert list(result) == ["voice", "facial", "gestures", "eyeGaze", "posture", "overallScore", "warnings"]
    assert set(result["voice"]) == {"confidence", "nervousness", "enthusiasm", "clarity", "pace", "sentiment",
                                    "source"}
    assert set(result["facial"]) == {"expressions", "dominantEmotion", "engagementScore"}
    assert set(result["gestures"]) == {"fidgeting", "overallBodyLanguage"}
    assert set(result["eyeGaze"]) == {"gazeDirection", "lookingAtScreen"}
    assert set(result["posture"]) == {"posture", "engagementLevel"}
    assert result["voice"]["source"] == "heuristic"
    for key in ("confidence", "nervousness", "enthusiasm", "clarity", "pace"):
        assert isinstance(result["voice"][key], int) and 0 <= result["voice"][key] <= 100
    assert result["voice"]["sentiment"] in {"positive", "neutral", "negative"}
    assert isinstance(result["overallScore"], int) and 0 <= result["overallScore"] <= 100
    assert isinstance(result["warnings"], list)
    assert result["facial"]["dominantEmotion"] == "neutral"
    assert result["eyeGaze"]["gazeDirection"] == "center"
    assert result["posture"]["posture"] == "upright"


def test_analysis_is_deterministic():
    assert analyze(copy.deepcopy(EXAMPLE)) == analyze(copy.deepcopy(EXAMPLE))


# --- voice ------------------------------------------------------------------------------------

def test_hedging_reads_less_confident_and_more_nervous_than_assertive_speech():
    hedging, confident = voice(HEDGING, durationSeconds=10), voice(CONFIDENT, durationSeconds=10)
    assert hedging["confidence"] + 30 < confident["confidence"]
    assert hedging["nervousness"] > confident["nervousness"] + 30
    assert hedging["clarity"] < confident["clarity"]


def test_fillers_lower_clarity():
    clean = "The function sorts the list. Then it merges the halves in linear time."
    filled = "Um the function, like, sorts the list. Uh then it, um, merges the, like, halves in linear time."
    assert voice(filled, durationSeconds=5)["clarity"] < voice(clean, durationSeconds=5)["clarity"]


def test_pace_follows_words_per_minute():
    text = " ".join(["word"] * 50) + "."
    slow, normal, fast = (voice(text, durationSeconds=s)["pace"] for s in (40, 20, 10))  # 75, 150, 300 wpm
    assert slow < normal < fast
    assert normal == 50 and fast == 100


def test_missing_duration_assumes_middle_pace_with_a_warning():
    result = analyze({"audioText": CONFIDENT})
    assert result["voice"]["pace"] == DEFAULTS.pace_unknown
    assert any("durationSeconds" in w for w in result["warnings"])


def test_sentiment_and_enthusiasm():
    happy = voice("I loved building this project! It was a fantastic, exciting challenge!", durationSeconds=5)
    sad = voice("That project was a terrible failure. I hated it and it was awful.", durationSeconds=5)
    flat = voice("The array has ten elements. The index starts at zero.", durationSeconds=5)
    assert (happy["sentiment"], sad["sentiment"], flat["sentiment"]) == ("positive", "negative", "neutral")
    assert happy["enthusiasm"] > flat["enthusiasm"] > sad["enthusiasm"]


def test_transcript_without_words_is_a_warning_not_a_score():
    result = analyze({"audioText": "  ... ", "eyePositions": [{"x": 0, "y": 0}]})
    assert result["voice"] is None
    assert "voice: transcript has no words" in result["warnings"]


# --- voice LLM --------------------------------------------------------------------------------

LLM_ANSWER = {"confidence": 91, "nervousness": 5, "enthusiasm": 64.4, "clarity": 88, "pace": 55,
              "sentiment": "Positive"}


def test_valid_llm_answer_is_used_with_source_groq():
    seen = []

    def llm(transcript):  # as services.llm_voice answers: the data plus the provider's name
        seen.append(transcript)
        return {**LLM_ANSWER, "source": "groq"}

    result = analyze({"audioText": HEDGING}, voice_llm=llm)
    assert seen == [HEDGING]
    assert result["voice"] == {"confidence": 91, "nervousness": 5, "enthusiasm": 64, "clarity": 88, "pace": 55,
                               "sentiment": "positive", "source": "groq"}
    assert not any(w.startswith("voice") for w in result["warnings"])


@pytest.mark.parametrize("answer", [
    {**LLM_ANSWER, "confidence": 101},
    {**LLM_ANSWER, "clarity": -1},
    {**LLM_ANSWER, "pace": "55"},
    {**LLM_ANSWER, "nervousness": True},
    {**LLM_ANSWER, "enthusiasm": math.nan},
    {**LLM_ANSWER, "sentiment": "ecstatic"},
    {k: v for k, v in LLM_ANSWER.items() if k != "clarity"},
    ["not", "a", "dict"],
    "confidence: 90",
], ids=["over-100", "negative", "string-number", "bool", "nan", "bad-sentiment", "missing-field", "list", "string"])
def test_invalid_llm_answer_falls_back_to_the_heuristic(answer):
    result = analyze({"audioText": HEDGING, "durationSeconds": 10}, voice_llm=lambda _: answer)
    assert result["voice"] == analyze({"audioText": HEDGING, "durationSeconds": 10})["voice"]
    assert result["voice"]["source"] == "heuristic"
    assert "voice: LLM answer was invalid; heuristic used" in result["warnings"]


def test_llm_returning_none_or_raising_falls_back():
    assert analyze({"audioText": HEDGING}, voice_llm=lambda _: None)["voice"]["source"] == "heuristic"

    def broken(_):
        raise TimeoutError("groq timed out")

    result = analyze({"audioText": HEDGING}, voice_llm=broken)
    assert result["voice"]["source"] == "heuristic"
    assert "voice: LLM analysis failed; heuristic used" in result["warnings"]


def test_llm_schema_and_validator_agree():
    assert set(VOICE_LLM_SCHEMA["required"]) == {"confidence", "nervousness", "enthusiasm", "clarity", "pace",
                                                 "sentiment"}
    assert VOICE_LLM_SCHEMA["properties"]["sentiment"]["enum"] == ["positive", "neutral", "negative"]
    assert validate_voice_llm_output({**LLM_ANSWER, "reasoning": "extra keys are ignored"})["enthusiasm"] == 64
    assert validate_voice_llm_output(None) is None


# --- facial -----------------------------------------------------------------------------------

def test_facial_expressions_are_normalised_percentages():
    facial = analyze({"facialData": {"Happy": 30, "neutral": 10, "surprised": 10}})["facial"]
    assert facial["expressions"] == {"happy": 60.0, "neutral": 20.0, "surprised": 20.0}
    assert facial["dominantEmotion"] == "happy"


def test_happy_face_is_more_engaged_than_a_sad_one():
    happy = analyze({"facialData": {"happy": 80, "neutral": 20}})["facial"]["engagementScore"]
    sad = analyze({"facialData": {"sad": 70, "fearful": 30}})["facial"]["engagementScore"]
    assert happy > sad + 30


def test_all_zero_expressions_are_a_warning():
    result = analyze({"facialData": {"happy": 0, "neutral": 0}, "gestureData": [1, 2, 3, 2]})
    assert result["facial"] is None
    assert "facial: all expression values are zero" in result["warnings"]


# --- gestures ---------------------------------------------------------------------------------

def test_jittery_movement_fidgets_more_than_smooth_movement():
    t = np.arange(200)
    smooth = (100 + 20 * np.sin(2 * np.pi * t / 100)).tolist()
    jittery = (100 + 20 * np.random.default_rng(0).standard_normal(200)).tolist()
    calm, fidgety = (analyze({"gestureData": s})["gestures"] for s in (smooth, jittery))
    assert calm["fidgeting"] + 30 < fidgety["fidgeting"]
    assert calm["overallBodyLanguage"] == "positive"
    assert fidgety["overallBodyLanguage"] == "negative"


def test_still_hands_do_not_fidget():
    assert analyze({"gestureData": [5.0] * 30})["gestures"] == {"fidgeting": 0, "overallBodyLanguage": "positive"}


def test_too_few_gesture_samples_is_a_warning():
    result = analyze({"gestureData": [1, 2], "facialData": {"neutral": 100}})
    assert result["gestures"] is None
    assert "gestures: need at least 3 samples, got 2" in result["warnings"]


# --- eye gaze ---------------------------------------------------------------------------------

def test_gaze_off_centre_lowers_looking_at_screen():
    centred = [{"x": 0.05, "y": -0.05}] * 9 + [{"x": 0.6, "y": 0.0}]
    away = [{"x": -0.7, "y": 0.1}] * 7 + [{"x": 0.0, "y": 0.1}] * 3
    on, off = (analyze({"eyePositions": p})["eyeGaze"] for p in (centred, away))
    assert on == {"gazeDirection": "center", "lookingAtScreen": 90}
    assert off == {"gazeDirection": "left", "lookingAtScreen": 30}


@pytest.mark.parametrize("point,direction", [
    ({"x": 0.8, "y": 0.1}, "right"), ({"x": -0.1, "y": -0.9}, "up"), ({"x": 0.2, "y": 0.7}, "down"),
])
def test_gaze_direction(point, direction):
    assert analyze({"eyePositions": [point] * 3})["eyeGaze"]["gazeDirection"] == direction


# --- posture ----------------------------------------------------------------------------------

def test_upright_keypoints():
    posture = analyze({"postureKeypoints": SAMPLE_UPRIGHT})["posture"]
    assert posture == {"posture": "upright", "engagementLevel": 100}


def test_slouching_keypoints():
    slouched = {**SAMPLE_UPRIGHT, "nose": {"x": 0.5, "y": 0.52}}  # head sunk towards the shoulder line
    posture = analyze({"postureKeypoints": slouched})["posture"]
    assert posture["posture"] == "slouching"
    assert posture["engagementLevel"] < 30


def test_leaning_keypoints():
    leaning = {**SAMPLE_UPRIGHT, "nose": {"x": 0.68, "y": 0.32}}
    posture = analyze({"postureKeypoints": leaning})["posture"]
    assert posture["posture"] == "leaning"
    assert posture["engagementLevel"] < analyze({"postureKeypoints": SAMPLE_UPRIGHT})["posture"]["engagementLevel"]
    tilted_torso = {**SAMPLE_UPRIGHT, "left_hip": {"x": 0.55, "y": 0.95}, "right_hip": {"x": 0.95, "y": 0.95}}
    assert analyze({"postureKeypoints": tilted_torso})["posture"]["posture"] == "leaning"


def test_posture_without_head_or_shoulders_is_a_warning():
    result = analyze({"postureKeypoints": {"leftHip": {"x": 0.4, "y": 0.9}}, "facialData": {"happy": 1}})
    assert result["posture"] is None
    assert result["warnings"] == ["voice: no data", "gestures: no data", "eyeGaze: no data",
                                  "posture: need a head keypoint (nose, eyes or ears) and shoulders"]


# --- missing modalities and the overall score ---------------------------------------------------

def test_missing_modalities_are_null_with_warnings_and_not_counted_as_zero():
    gaze_only = analyze({"eyePositions": [{"x": 0, "y": 0}] * 4})
    assert gaze_only["voice"] is gaze_only["facial"] is gaze_only["gestures"] is gaze_only["posture"] is None
    assert gaze_only["warnings"] == ["voice: no data", "facial: no data", "gestures: no data", "posture: no data"]
    assert gaze_only["overallScore"] == 100  # the one modality present, not diluted by zeros


def test_overall_score_is_the_weighted_mean_of_present_modalities():
    body = {"eyePositions": [{"x": 0, "y": 0}] * 4, "postureKeypoints": {**SAMPLE_UPRIGHT, "nose": {"x": 0.5, "y": 0.52}}}
    result = analyze(body)
    w = DEFAULTS.modality_weights
    expected = (w["eyeGaze"] * 100 + w["posture"] * result["posture"]["engagementLevel"]) / (w["eyeGaze"] + w["posture"])
    assert result["overallScore"] == round(expected)


def test_custom_thresholds_change_the_outcome():
    points = [{"x": 0.35, "y": 0.0}] * 5
    assert analyze({"eyePositions": points})["eyeGaze"]["lookingAtScreen"] == 0
    wider = dataclasses.replace(DEFAULTS, gaze_on_screen_radius=0.5)
    assert analyze({"eyePositions": points}, thresholds=wider)["eyeGaze"]["lookingAtScreen"] == 100


def test_nothing_usable_is_an_error():
    with pytest.raises(NoUsableModalityError, match="eyeGaze: no positions"):
        analyze({"eyePositions": []})


def test_null_means_not_provided():
    result = analyze({"audioText": None, "facialData": {"neutral": 50}})
    assert result["voice"] is None and "voice: no data" in result["warnings"]


# --- schema rejections --------------------------------------------------------------------------

@pytest.mark.parametrize("body,field", [
    ({}, "_schema"),
    ({"audioText": None}, "_schema"),
    ({**EXAMPLE, "extra": 1}, "extra"),
    ({"audioText": 42}, "audioText"),
    ({"audioText": "x" * 20_001}, "audioText"),
    ({"audioText": "hi", "durationSeconds": 0}, "durationSeconds"),
    ({"audioText": "hi", "durationSeconds": "10"}, "durationSeconds"),
    ({"facialData": {"happy": "20"}}, "facialData"),
    ({"facialData": {"happy": 120}}, "facialData"),
    ({"facialData": {"happy": True}}, "facialData"),
    ({"facialData": [20, 60]}, "facialData"),
    ({"gestureData": [1, 2, math.nan]}, "gestureData"),
    ({"gestureData": [1, 2, math.inf]}, "gestureData"),
    ({"gestureData": [1, False, 3]}, "gestureData"),
    ({"gestureData": [1, "2", 3]}, "gestureData"),
    ({"gestureData": [1.0] * 10_001}, "gestureData"),
    ({"gestureData": "1,2,3"}, "gestureData"),
    ({"eyePositions": [{"x": 1.5, "y": 0}]}, "eyePositions"),
    ({"eyePositions": [{"x": 0.1}]}, "eyePositions"),
    ({"eyePositions": [{"x": 0.1, "y": 0.2, "z": 0.3}]}, "eyePositions"),
    ({"eyePositions": [{"x": True, "y": 0.2}]}, "eyePositions"),
    ({"postureKeypoints": {"nose": {"x": "0.5", "y": 0.3}}}, "postureKeypoints"),
    ({"postureKeypoints": {"nose": [0.5, 0.3]}}, "postureKeypoints"),
    ({"postureKeypoints": {"": {"x": 0.5, "y": 0.3}}}, "postureKeypoints"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_schema_rejections_name_the_field(body, field):
    with pytest.raises(ValidationError) as caught:
        analyze(body)
    assert field in caught.value.messages
