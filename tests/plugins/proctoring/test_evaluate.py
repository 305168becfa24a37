"""Evaluation: the documented risk formula, its monotonicity, and POST /api/proctoring/evaluate."""
from __future__ import annotations

import base64
import datetime as dt
import math
import random
from pathlib import Path

import pytest

from plugins.proctoring.evaluation import (
    FRAME_VIOLATIONS, SCREEN_EVENTS, SEVERITY, Rules, evaluate, recommendation, risk_score,
)
from plugins.proctoring.models import ProctoringReport
from core.lookup import EVENTS, find_service

# Sessions here use made-up interview ids, without the interviews plugin: the operator's opt-in
# first-claim mode (docs/proctoring.md, "Session ownership").
STANDALONE = "proctoring.standalone_sessions"

DATA = Path(__file__).resolve().parents[2] / "data" / "proctoring"
T0 = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
RULES = Rules()


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def frames_of(violation_lists, step=2.0):
    return [{"at": at(i * step), "violations": list(v), "onCamera": "no_face" not in v and "camera_blocked" not in v}
            for i, v in enumerate(violation_lists)]


# --- the formula ------------------------------------------------------------------------------------

def test_score_follows_the_documented_formula():
    frames = frames_of([["no_face"]] * 3 + [[]] * 7)  # the three frames that confirmed it: share 0.3
    screen = [{"at": at(5), "type": "tab_switch"}, {"at": at(6), "type": "devtools_opened"}]
    audio = [{"at": at(8), "durationSeconds": 4.0, "multipleSpeakersSuspected": True}]
    report = evaluate(frames, audio, screen, RULES)
    s = 6 * 10 * 0.3 + 3 * 1 + 6 * 1 + 6 * 1
    assert report["riskUnits"] == pytest.approx(s)
    assert report["riskScore"] == round(100 * (1 - math.exp(-s / 30)))
    by_type = {v["type"]: v for v in report["violations"]}
    assert set(by_type) == {"no_face", "tab_switch", "devtools_opened", "multiple_speakers"}
    assert by_type["no_face"]["severity"] == "high" and by_type["no_face"]["share"] == 0.3
    assert by_type["no_face"]["ranges"] == [{"start": "2025-06-01T12:00:00.000Z", "end": "2025-06-01T12:00:04.000Z"}]
    assert by_type["multiple_speakers"]["ranges"] == [{"start": "2025-06-01T12:00:08.000Z",
                                                        "end": "2025-06-01T12:00:12.000Z"}]
    assert by_type["tab_switch"]["severity"] == "medium"
    assert report["timeOnCamera"] == {"seconds": pytest.approx(0.7 * 18, abs=0.05), "share": 0.7, "frames": 7}
    assert report["counts"] == {"frames": 10, "audioClips": 1, "screenEvents": 2}


def test_unconfirmed_blips_do_not_count():
    report = evaluate(frames_of([["no_face"], [], [], ["no_face"], [], [], ["no_face"]]), [], [], RULES)
    assert report["violations"] == [] and report["riskScore"] == 0 and report["recommendation"] == "pass"


def test_spread_out_confirmed_frames_form_one_episode():
    report = evaluate(frames_of([["low_light"], [], ["low_light"], [], ["low_light"], [], [], [], [], []]), [], [],
                      RULES)
    (entry,) = report["violations"]
    assert entry["count"] == 3 and entry["share"] == 0.3
    assert entry["ranges"] == [{"start": "2025-06-01T12:00:00.000Z", "end": "2025-06-01T12:00:08.000Z"}]


def test_violation_ranges_split_on_unconfirmed_frames_and_focus_pairs():
    frames = frames_of([["looking_away"]] * 4 + [[]] * 5 + [["looking_away"]] * 3)
    screen = [{"at": at(1), "type": "focus_lost"}, {"at": at(3), "type": "focus_regained"},
              {"at": at(10), "type": "focus_lost"}]
    report = evaluate(frames, [], screen, RULES)
    by_type = {v["type"]: v for v in report["violations"]}
    looking = by_type["looking_away"]["ranges"]
    assert [(r["start"][17:19], r["end"][17:19]) for r in looking] == [("00", "06"), ("18", "22")]
    focus = by_type["focus_lost"]["ranges"]
    assert [(r["start"][17:19], r["end"][17:19]) for r in focus] == [("01", "03"), ("10", "22")]
    assert "focus_regained" not in by_type


def test_recommendation_thresholds():
    rules = Rules(review_at=25, flag_at=50, terminate_at=80)
    assert [recommendation(s, rules) for s in (0, 24, 25, 49, 50, 79, 80, 100)] == \
        ["pass", "pass", "review", "review", "flag", "flag", "terminate", "terminate"]


def test_weights_come_from_the_rules_and_raise_the_score_monotonically():
    units = {"tab_switch": 2.0, "no_face": 3.0, "copy": 1.0}
    previous = -1
    for medium in (0, 1, 3, 5, 10, 50):
        score, _ = risk_score(units, Rules(weights={"low": 1.0, "medium": float(medium), "high": 6.0}))
        assert score >= previous
        previous = score
    assert risk_score({}, RULES) == (0, 0)
    assert risk_score({"no_face": 1e6}, RULES)[0] == 100


def test_score_is_monotonic_when_evidence_is_added():
    """Random sessions: adding a violation to a frame, a violating frame, an event or a flagged clip
    never lowers riskScore."""
    rng = random.Random(11)
    violations = list(FRAME_VIOLATIONS)
    screen_types = list(SCREEN_EVENTS)
    for _ in range(300):
        n = rng.randint(1, 20)
        frames = frames_of([rng.sample(violations, rng.randint(0, 2)) for _ in range(n)])
        screen = [{"at": at(rng.uniform(0, 40)), "type": rng.choice(screen_types)} for _ in range(rng.randint(0, 4))]
        audio = [{"at": at(rng.uniform(0, 40)), "durationSeconds": 3.0, "multipleSpeakersSuspected": rng.random() < 0.3}
                 for _ in range(rng.randint(0, 3))]
        base = evaluate(frames, audio, screen, RULES)["riskScore"]

        more_frames = [dict(f, violations=list(f["violations"])) for f in frames]
        more_frames[rng.randrange(n)]["violations"].append(rng.choice(violations))
        assert evaluate(more_frames, audio, screen, RULES)["riskScore"] >= base

        kind = rng.choice(screen_types)
        assert evaluate(frames, audio, screen + [{"at": at(rng.uniform(0, 40)), "type": kind}],
                        RULES)["riskScore"] >= base
        flagged = {"at": at(rng.uniform(0, 40)), "durationSeconds": 2.0, "multipleSpeakersSuspected": True}
        assert evaluate(frames, audio + [flagged], screen, RULES)["riskScore"] >= base


def test_every_violation_has_a_severity_with_a_weight():
    assert set(SEVERITY) == set(FRAME_VIOLATIONS) | {"multiple_speakers"} | (set(SCREEN_EVENTS) - {"focus_regained"})
    assert set(SEVERITY.values()) <= set(RULES.weights)


# --- over HTTP ------------------------------------------------------------------------------------------

NO_FACE = base64.b64encode((DATA / "empty_coffee.jpg").read_bytes()).decode()
CLEAN = base64.b64encode((DATA / "clean_astronaut_02.jpg").read_bytes()).decode()


@pytest.fixture
def app(make_app):
    return make_app(plugins=["proctoring", "tests.support.local_plugins.event_recorder"],
                    **{"ratelimit.enabled": "false", "proctoring.risk.flag_event": "60", STANDALONE: "true"})


def _post_session(app, interview_id, frames=(NO_FACE,) * 3 + (CLEAN,) * 2, tab_switches=2):
    headers = app.auth("cand-ev", "candidate")
    for i, frame in enumerate(frames):
        app.post_json("/api/proctoring/frame", {"frameData": frame, "interviewId": interview_id,
                                                "timestamp": at(2 * i).isoformat()}, headers=headers)
    events = [{"type": "tab_switch", "timestamp": at(3 + i).isoformat()} for i in range(tab_switches)]
    if events:
        app.post_json("/api/proctoring/screen", {"interviewId": interview_id, "events": events},
                      headers=headers, status=201)


def test_evaluate_scores_stores_and_emits_flagged(app):
    from tests.support.local_plugins import event_recorder

    event_recorder.RECEIVED.clear()
    _post_session(app, "iv-eval")
    report = app.post_json("/api/proctoring/evaluate", {"interviewId": "iv-eval"},
                           headers=app.auth("int-1", "interviewer")).json
    s = 6 * 10 * (3 / 5) + 3 * 2  # no_face confirmed on 3 of 5 frames, two tab switches
    assert report["riskScore"] == round(100 * (1 - math.exp(-s / 30))) == 75
    assert report["recommendation"] == "flag"
    assert report["timeOnCamera"] == {"seconds": 3.2, "share": 0.4, "frames": 2}
    assert report["counts"] == {"frames": 5, "audioClips": 0, "screenEvents": 2}
    assert report["evaluatedBy"] == "int-1" and report["interviewId"] == "iv-eval"
    stored = ProctoringReport.objects.get(interview_id="iv-eval")
    assert stored.risk_score == 75 and stored.report["violations"] == report["violations"]
    flagged = [p for name, p in event_recorder.RECEIVED if name == "proctoring.flagged"]
    assert flagged == [{"interviewId": "iv-eval", "riskScore": 75, "recommendation": "flag",
                        "violations": ["no_face", "tab_switch"]}]
    assert find_service(app.registry, EVENTS).owners["proctoring.flagged"] == "proctoring"


def test_a_score_under_the_event_threshold_emits_nothing(app):
    from tests.support.local_plugins import event_recorder

    event_recorder.RECEIVED.clear()
    _post_session(app, "iv-calm", frames=(NO_FACE, NO_FACE, CLEAN), tab_switches=1)
    report = app.post_json("/api/proctoring/evaluate", {"interviewId": "iv-calm"},
                           headers=app.auth("int-1", "interviewer")).json
    assert report["riskScore"] == round(100 * (1 - math.exp(-3 / 30)))
    assert report["recommendation"] == "pass"
    assert not [name for name, _ in event_recorder.RECEIVED if name == "proctoring.flagged"]


def test_evaluate_without_data_is_404_and_bad_ids_400(app):
    headers = app.auth("int-1", "interviewer")
    response = app.post_json("/api/proctoring/evaluate", {"interviewId": "iv-none"}, headers=headers, expect_errors=True)
    assert response.status_int == 404 and "no proctoring data" in response.json["error"]
    for body in ({"interviewId": "../x"}, {"interviewId": 5}, {}):
        assert app.post_json("/api/proctoring/evaluate", body, headers=headers, expect_errors=True).status_int == 400


def test_severity_weights_come_from_settings(make_app):
    app = make_app(plugins=["proctoring"], **{"ratelimit.enabled": "false", "proctoring.weight.high": "0",
                                               "proctoring.weight.medium": "10", STANDALONE: "true"})
    _post_session(app, "iv-weights")
    report = app.post_json("/api/proctoring/evaluate", {"interviewId": "iv-weights"},
                           headers=app.auth("int-1", "interviewer")).json
    s = 0 * 10 * (3 / 5) + 10 * 2  # no_face is high (weight 0), tab_switch medium (weight 10)
    assert report["riskUnits"] == pytest.approx(s)
    assert report["riskScore"] == round(100 * (1 - math.exp(-s / 30)))


@pytest.mark.parametrize("settings,word", [
    ({"proctoring.temporal.required": "6", "proctoring.temporal.window": "5"}, "temporal.required"),
    ({"proctoring.risk.review": "60", "proctoring.risk.flag": "50"}, "risk.review"),
    ({"proctoring.weight.low": "-1"}, "weight.low"),
])
def test_inconsistent_settings_stop_startup_naming_the_key(make_app, settings, word):
    with pytest.raises(Exception, match=word.replace(".", r"\.")):
        make_app(plugins=["proctoring"], **settings)
