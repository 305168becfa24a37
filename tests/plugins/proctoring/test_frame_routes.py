"""POST /api/proctoring/frame over HTTP: analysis, stored findings, and 4xx (never 500) for bad frames."""
from __future__ import annotations

import base64
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from plugins.proctoring.models import ProctoringFrame

# Sessions here use made-up interview ids, without the interviews plugin: the operator's opt-in
# first-claim mode (docs/proctoring.md, "Session ownership").
STANDALONE = "proctoring.standalone_sessions"

DATA = Path(__file__).resolve().parents[2] / "data" / "proctoring"
URL = "/api/proctoring/frame"


def frame_b64(name: str) -> str:
    return base64.b64encode((DATA / name).read_bytes()).decode("ascii")


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def png_with_header(width: int, height: int) -> bytes:
    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


@pytest.fixture
def app(make_app):
    return make_app(plugins=["proctoring"], **{"ratelimit.enabled": "false", STANDALONE: "true",
                                                "proctoring.frame.max_bytes": str(200 * 1024)})


@pytest.fixture
def candidate(app):
    return app.auth("cand-1", "candidate")


def test_clean_frame_is_analysed_with_the_documented_fields(app, candidate):
    body = {"frameData": "data:image/jpeg;base64," + frame_b64("clean_astronaut_02.jpg"),
            "previousPositions": [{"x": 0.5, "y": 0.45}]}
    result = app.post_json(URL, body, headers=candidate).json
    assert result["faceCount"] == 1 and result["violations"] == []
    for key in ("faces", "primaryFace", "movement", "gaze", "headTurn", "lighting", "blur",
                "cameraBlocked", "processingMs"):
        assert key in result
    assert result["movement"]["distance"] >= 0
    # Without an interviewId there is no window and nothing is stored.
    assert result["confirmedAlerts"] == [] and result["window"] is None
    assert ProctoringFrame.objects.count() == 0


def test_frames_of_an_interview_store_findings_not_images(app, candidate):
    body = {"frameData": frame_b64("empty_coffee.jpg"), "interviewId": "iv-store", "timestamp": "2025-03-01T10:00:00Z"}
    result = app.post_json(URL, body, headers=candidate).json
    assert result["violations"] == ["no_face"]
    assert result["window"] == {"frames": 1, "size": 5, "required": 3}
    stored = ProctoringFrame.objects.get(interview_id="iv-store")
    assert stored.violations == ["no_face"] and stored.on_camera is False
    assert stored.at.isoformat().startswith("2025-03-01T10:00:00")
    assert "frameData" not in stored.to_mongo() and not any(
        isinstance(v, (bytes, str)) and len(v) > 200 for v in stored.to_mongo().values())


def _bad_frames():
    jpeg = (DATA / "clean_astronaut_02.jpg").read_bytes()
    ok, gif_like = True, b"GIF89a" + b"\x00" * 64
    corrupt = jpeg[:600] + bytes(4000) + jpeg[4600:]  # scan data wiped, markers intact
    return [
        ("corrupt", {"frameData": b64(b"\xff\xd8\xff\xe0" + bytes(200) + b"\xff\xd9")}, 400, "jpeg"),
        ("corrupt scan data", {"frameData": b64(corrupt[:200] + b"\x00garbage" + corrupt[-2:])}, 400, "jpeg"),
        ("truncated", {"frameData": b64(jpeg[: len(jpeg) // 2])}, 400, "truncated"),
        ("oversized", {"frameData": b64(np.random.default_rng(1).bytes(210 * 1024))}, 413, "larger"),
        ("bomb", {"frameData": b64(png_with_header(100_000, 100_000))}, 413, "bomb"),
        ("non-base64", {"frameData": "this is not base64!!"}, 400, "base64"),
        ("wrong format", {"frameData": b64(gif_like)}, 400, "gif"),
        ("empty", {"frameData": ""}, 400, "empty"),
        ("frameData a number", {"frameData": 12345}, 400, "framedata"),
        ("frameData missing", {"previousPositions": []}, 400, "framedata"),
        ("positions not a list", {"frameData": frame_b64("clean_astronaut_02.jpg"), "previousPositions": "up"},
         400, "previouspositions"),
        ("position as strings", {"frameData": frame_b64("clean_astronaut_02.jpg"),
                                 "previousPositions": [{"x": "0.5", "y": 0.2}]}, 400, "previouspositions"),
        ("position out of range", {"frameData": frame_b64("clean_astronaut_02.jpg"),
                                   "previousPositions": [{"x": 3, "y": 0.2}]}, 400, "previouspositions"),
        ("bad interviewId", {"frameData": frame_b64("clean_astronaut_02.jpg"), "interviewId": "a/b c"},
         400, "interviewid"),
        ("bad timestamp", {"frameData": frame_b64("clean_astronaut_02.jpg"), "timestamp": "yesterday"},
         400, "timestamp"),
        ("timestamp far in the past", {"frameData": frame_b64("clean_astronaut_02.jpg"),
                                       "timestamp": -99999999999999999}, 400, "timestamp"),
        ("timestamp huge", {"frameData": frame_b64("clean_astronaut_02.jpg"), "timestamp": 1e300}, 400, "timestamp"),
        ("unknown field", {"frameData": frame_b64("clean_astronaut_02.jpg"), "extra": 1}, 400, "extra"),
    ]


@pytest.mark.parametrize("case,body,status,word", _bad_frames(), ids=[c[0] for c in _bad_frames()])
def test_bad_frames_get_4xx_with_a_reason(app, candidate, case, body, status, word):
    response = app.post_json(URL, body, headers=candidate, expect_errors=True)
    assert response.status_int == status, response.text
    assert word in response.json["error"].lower(), response.json


def test_body_over_the_json_limit_is_413(app, candidate):
    response = app.post_json(URL, {"frameData": "A" * 400_000}, headers=candidate, expect_errors=True)
    assert response.status_int == 413


def test_malformed_json_and_wrong_content_type_are_4xx(app, candidate):
    response = app.post(URL, b'{"frameData": ', headers={**candidate, "Content-Type": "application/json"},
                        expect_errors=True)
    assert response.status_int == 400 and "json" in response.json["error"].lower()
    response = app.post(URL, b"frameData=x", headers={**candidate, "Content-Type": "text/plain"},
                        expect_errors=True)
    assert response.status_int == 415


def test_png_frames_are_accepted(app, candidate):
    image = cv2.imread(str(DATA / "blocked_black.jpg"))
    ok, png = cv2.imencode(".png", image)
    result = app.post_json(URL, {"frameData": b64(png.tobytes())}, headers=candidate).json
    assert result["cameraBlocked"] is True and result["violations"] == ["camera_blocked"]
