"""POST /api/proctoring/screen: client-reported events validated and stored with their timestamps."""
from __future__ import annotations

import datetime as dt

import pytest

from plugins.proctoring.models import ProctoringScreenEvent

# Sessions here use made-up interview ids, without the interviews plugin: the operator's opt-in
# first-claim mode (docs/proctoring.md, "Session ownership").
STANDALONE = "proctoring.standalone_sessions"

URL = "/api/proctoring/screen"
TYPES = ["tab_switch", "focus_lost", "focus_regained", "fullscreen_exit", "second_monitor", "copy", "paste",
         "devtools_opened"]


@pytest.fixture
def app(make_app):
    return make_app(plugins=["proctoring"], **{"ratelimit.enabled": "false", "proctoring.screen.max_events": "10",
                                                STANDALONE: "true"})


def test_every_event_type_is_stored_with_its_timestamp(app):
    headers = app.auth("cand-sc", "candidate")
    base = dt.datetime(2025, 5, 1, 9, 0, tzinfo=dt.timezone.utc)
    events = [{"type": kind, "timestamp": (base + dt.timedelta(seconds=i)).isoformat().replace("+00:00", "Z")}
              for i, kind in enumerate(TYPES)]
    events[0]["detail"] = "switched to another tab"
    events[1]["timestamp"] = int((base + dt.timedelta(seconds=1)).timestamp() * 1000)  # epoch ms works too
    response = app.post_json(URL, {"interviewId": "iv-screen", "events": events}, headers=headers, status=201)
    assert response.json["recorded"] == len(TYPES)
    assert response.json["byType"] == {kind: 1 for kind in TYPES}
    stored = ProctoringScreenEvent.objects(interview_id="iv-screen").order_by("at")
    assert [e.type for e in stored] == TYPES
    assert [e.at for e in stored] == [base + dt.timedelta(seconds=i) for i in range(len(TYPES))]
    assert stored[0].detail == "switched to another tab"


def _ts(offset_seconds=0):
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=offset_seconds)).isoformat()


@pytest.mark.parametrize("case,body,word", [
    ("unknown type", {"interviewId": "iv", "events": [{"type": "screenshot", "timestamp": _ts()}]}, "type"),
    ("missing timestamp", {"interviewId": "iv", "events": [{"type": "copy"}]}, "timestamp"),
    ("naive timestamp", {"interviewId": "iv", "events": [{"type": "copy", "timestamp": "2025-01-01T10:00:00"}]},
     "time zone"),
    ("future timestamp", {"interviewId": "iv", "events": [{"type": "copy", "timestamp": _ts(3600)}]}, "future"),
    ("boolean timestamp", {"interviewId": "iv", "events": [{"type": "copy", "timestamp": True}]}, "timestamp"),
    ("no events", {"interviewId": "iv", "events": []}, "events"),
    ("too many events", {"interviewId": "iv", "events": [{"type": "copy", "timestamp": _ts()}] * 11}, "events"),
    ("events not a list", {"interviewId": "iv", "events": {"type": "copy"}}, "events"),
    ("missing interviewId", {"events": [{"type": "copy", "timestamp": _ts()}]}, "interviewid"),
    ("unknown event field", {"interviewId": "iv", "events": [{"type": "copy", "timestamp": _ts(), "x": 1}]}, "x"),
    ("detail too long", {"interviewId": "iv", "events": [{"type": "copy", "timestamp": _ts(), "detail": "d" * 501}]},
     "detail"),
])
def test_invalid_events_are_400_and_nothing_is_stored(app, case, body, word):
    response = app.post_json(URL, body, headers=app.auth("cand-sc", "candidate"), expect_errors=True)
    assert response.status_int == 400, response.text
    assert word in response.json["error"].lower()
    assert ProctoringScreenEvent.objects.count() == 0


def test_another_candidate_cannot_write_into_a_claimed_session(app):
    event = {"type": "copy", "timestamp": _ts()}
    app.post_json(URL, {"interviewId": "iv-own", "events": [event]}, headers=app.auth("owner", "candidate"), status=201)
    response = app.post_json(URL, {"interviewId": "iv-own", "events": [event]},
                             headers=app.auth("intruder", "candidate"), expect_errors=True)
    assert response.status_int == 403 and "another user" in response.json["error"]
    # ...also through the frame and audio routes, before any decoding happens.
    for url, body in (("/api/proctoring/frame", {"frameData": "xx", "interviewId": "iv-own"}),
                      ("/api/proctoring/audio", {"audioData": "xx", "sampleRate": 16000, "interviewId": "iv-own"})):
        assert app.post_json(url, body, headers=app.auth("intruder", "candidate"), expect_errors=True).status_int == 403
    # An admin may submit into any session.
    app.post_json(URL, {"interviewId": "iv-own", "events": [event]}, headers=app.auth("boss", "admin"), status=201)
    assert ProctoringScreenEvent.objects(interview_id="iv-own").count() == 2
