"""FrameAnalyzer on real photos from the labelled set, synthetic frames, and the evaluator gate."""
from __future__ import annotations

import dataclasses
import importlib.util
import json
import os

import cv2
import numpy as np
import pytest

from plugins.proctoring.vision import VIOLATIONS, FrameAnalyzer, VisionThresholds

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SET_DIR = os.path.join(REPO, "tests", "data", "proctoring")


@pytest.fixture(scope="module")
def analyzer():
    return FrameAnalyzer()


def _frame(name):
    image = cv2.imread(os.path.join(SET_DIR, name), cv2.IMREAD_COLOR)
    assert image is not None, name
    return image


def test_loads_the_three_cascades(analyzer):
    names = analyzer.loaded_cascades()
    assert len(names) == 3
    assert any("frontalface" in n for n in names) and any("profile" in n for n in names)
    assert any("eye" in n for n in names)


def test_missing_cascade_dir_fails_loudly(tmp_path):
    with pytest.raises(RuntimeError, match="cannot load"):
        FrameAnalyzer(cascade_dir=str(tmp_path))


def test_finds_the_face_in_a_real_photo(analyzer):
    # clean_astronaut_01: face centred at (0.50, 0.40), 22% of the width, by construction.
    result = analyzer.analyze(_frame("clean_astronaut_01.jpg"))
    assert result["faceCount"] == 1
    assert result["violations"] == []
    face = result["faces"][0]
    assert abs(face["center"]["x"] - 0.50) < 0.06 and abs(face["center"]["y"] - 0.40) < 0.08
    assert 0.15 < face["box"]["w"] < 0.32
    assert 0.0 < face["confidence"] <= 1.0
    assert result["primaryFace"] == face["center"]
    assert result["headTurn"] == "none"
    assert result["gaze"] in ("center", "unknown")
    assert result["lighting"]["status"] == "ok" and result["cameraBlocked"] is False
    assert result["movement"] is None
    assert json.loads(json.dumps(result)) == result  # JSON-ready: plain Python values


def test_two_people_raise_multiple_faces(analyzer):
    result = analyzer.analyze(_frame("multi_01.jpg"))
    assert result["faceCount"] == 2
    assert "multiple_faces" in result["violations"]
    xs = sorted(f["center"]["x"] for f in result["faces"])
    assert xs[0] < 0.4 < 0.6 < xs[1]  # one on each side


def test_scene_without_people_is_no_face(analyzer):
    result = analyzer.analyze(_frame("empty_chelsea.jpg"))  # a cat's face is not a candidate
    assert result["faceCount"] == 0 and result["primaryFace"] is None
    assert result["violations"] == ["no_face"]


@pytest.mark.parametrize("value", [0, 8, 200])
def test_uniform_frame_is_camera_blocked_not_no_face(analyzer, value):
    result = analyzer.analyze(np.full((480, 640, 3), value, np.uint8))
    assert result["cameraBlocked"] is True
    assert result["violations"] == ["camera_blocked"]


def test_covered_lens_photo_is_camera_blocked(analyzer):
    result = analyzer.analyze(_frame("blocked_finger.jpg"))
    assert result["cameraBlocked"] is True and "camera_blocked" in result["violations"]
    assert "no_face" not in result["violations"] and "low_light" not in result["violations"]


def test_dim_room_is_low_light_and_still_finds_the_face(analyzer):
    result = analyzer.analyze(_frame("dark_astronaut_01.jpg"))
    assert result["lighting"]["status"] == "too_dark"
    assert result["lighting"]["brightness"] < VisionThresholds().dark_brightness
    assert result["violations"] == ["low_light"]
    assert result["faceCount"] == 1


def test_overexposed_frame_is_too_bright(analyzer):
    image = np.clip(_frame("clean_hopper_11.jpg").astype(np.int16) + 140, 0, 255).astype(np.uint8)
    assert analyzer.analyze(image)["lighting"]["status"] == "too_bright"


def test_defocused_frame_is_blurry_and_sharp_one_is_not(analyzer):
    sharp = analyzer.analyze(_frame("clean_astronaut_02.jpg"))
    blurred = analyzer.analyze(_frame("blurred_astronaut_03.jpg"))
    assert sharp["blur"]["blurry"] is False
    assert blurred["blur"]["blurry"] is True
    assert blurred["blur"]["variance"] < sharp["blur"]["variance"]
    # Blurring a sharp frame here flips the verdict too.
    reblurred = analyzer.analyze(cv2.GaussianBlur(_frame("clean_astronaut_02.jpg"), (0, 0), 5))
    assert reblurred["blur"]["blurry"] is True


def test_profile_is_looking_away_and_mirroring_flips_the_direction(analyzer):
    # away_camera_05: the camera man in profile, facing the right edge of the frame.
    image = _frame("away_camera_05.jpg")
    result = analyzer.analyze(image)
    mirrored = analyzer.analyze(cv2.flip(image, 1))
    assert "looking_away" in result["violations"] and "looking_away" in mirrored["violations"]
    assert result["faceCount"] == 1 and "no_face" not in result["violations"]
    assert result["headTurn"] == "right" and mirrored["headTurn"] == "left"
    assert result["faces"][0]["kind"] == "profile"


def test_three_quarter_turn_is_looking_away(analyzer):
    image = _frame("away_luispedro_06.jpg")
    result = analyzer.analyze(image)
    mirrored = analyzer.analyze(cv2.flip(image, 1))
    assert result["faceCount"] == 1
    assert result["headTurn"] == "left" and mirrored["headTurn"] == "right"
    assert "looking_away" in result["violations"]


def test_movement_against_previous_positions(analyzer):
    image = _frame("clean_astronaut_01.jpg")
    center = analyzer.analyze(image)["primaryFace"]
    still = analyzer.analyze(image, previous_positions=[{"x": center["x"], "y": center["y"]}] * 3)
    assert still["movement"]["distance"] < 0.01 and still["movement"]["excessive"] is False
    assert "excessive_movement" not in still["violations"]

    moved = analyzer.analyze(image, previous_positions=[{"x": 0.1, "y": 0.4}, [0.1, 0.4]])
    assert moved["movement"]["dx"] > 0.3  # face is now to the right of where it was
    assert moved["movement"]["excessive"] is True
    assert "excessive_movement" in moved["violations"]


def test_small_drift_is_not_excessive(analyzer):
    image = _frame("clean_astronaut_01.jpg")
    center = analyzer.analyze(image)["primaryFace"]
    result = analyzer.analyze(image, previous_positions=[{"x": center["x"] - 0.05, "y": center["y"]}])
    assert 0.04 < result["movement"]["distance"] < 0.06 and not result["movement"]["excessive"]


def test_movement_is_null_without_a_face(analyzer):
    result = analyzer.analyze(_frame("empty_coffee.jpg"), previous_positions=[{"x": 0.5, "y": 0.5}])
    assert result["movement"] is None


@pytest.mark.parametrize(
    "positions",
    ["0.5,0.5", [{"x": 0.5}], [{"x": "a", "y": 0.5}], [{"x": 1.5, "y": 0.5}], [[0.1, 0.2, 0.3]], [{"x": True, "y": 0.5}]],
)
def test_bad_previous_positions_raise_value_error(analyzer, positions):
    with pytest.raises(ValueError, match="previousPositions"):
        analyzer.analyze(np.zeros((48, 64, 3), np.uint8), previous_positions=positions)


@pytest.mark.parametrize("image", [None, np.zeros((0, 0, 3), np.uint8), np.zeros((4, 4, 3), np.float32), np.zeros((4, 4, 2), np.uint8)])
def test_bad_image_raises_value_error(analyzer, image):
    with pytest.raises(ValueError, match="image"):
        analyzer.analyze(image)


def test_grayscale_input_is_accepted(analyzer):
    gray = cv2.cvtColor(_frame("clean_hopper_12.jpg"), cv2.COLOR_BGR2GRAY)
    assert analyzer.analyze(gray)["faceCount"] == 1


def test_thresholds_are_frozen_and_change_behaviour():
    thresholds = VisionThresholds()
    with pytest.raises(dataclasses.FrozenInstanceError):
        thresholds.dark_brightness = 10  # type: ignore[misc]
    strict = FrameAnalyzer(dataclasses.replace(thresholds, dark_brightness=200.0))
    assert "low_light" in strict.analyze(_frame("clean_astronaut_01.jpg"))["violations"]


def test_result_fields_and_violation_vocabulary(analyzer):
    result = analyzer.analyze(_frame("multi_09.jpg"))
    assert set(result) == {
        "faceCount", "faces", "primaryFace", "movement", "gaze", "headTurn", "lighting",
        "blur", "cameraBlocked", "violations", "processingMs",
    }
    assert set(result["violations"]) <= set(VIOLATIONS)
    assert result["processingMs"] > 0
    assert result["gaze"] in ("center", "left", "right", "up", "down", "unknown")


def _load_evaluator():
    spec = importlib.util.spec_from_file_location("eval_proctoring", os.path.join(REPO, "scripts", "eval_proctoring.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_evaluator_precision_gate_on_the_labelled_set(analyzer):
    evaluator = _load_evaluator()
    report = evaluator.evaluate_set(SET_DIR, analyzer)
    assert report["frames"] >= 60
    assert evaluator.gate_failures(report) == []
    for violation in ("multiple_faces", "no_face"):
        figures = report["per_type"][violation]
        assert figures["precision"] >= 0.9, (violation, figures)
        assert figures["support"] >= 8
        assert figures["clean_flagged"] <= 0.1 * report["clean_frames"]
    assert report["clean_passed"] >= 0.9 * report["clean_frames"]
    assert "| no_face |" in evaluator.format_report(report)
