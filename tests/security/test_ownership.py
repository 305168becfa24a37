"""Security review, finding 1 (issue 17): proctoring session takeover, and the same pattern
elsewhere.

A candidate who guessed another candidate's fresh interview id (ObjectIds are a timestamp, process
bytes and a counter) submitted first, owned the proctoring session, locked the rightful candidate
out with 403 and got them rated "terminate". Now the interviews plugin's directory is the only
authority: the interview's candidate submits, while it is in progress; its interviewers and
admins read. Without the interviews plugin, unverifiable ids are refused unless the operator opts
into standalone first-claim sessions.
"""
from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "proctoring"
FRAME = base64.b64encode((DATA / "clean_astronaut_02.jpg").read_bytes()).decode()
NO_LIMITS = {"ratelimit.enabled": "false"}
REPORT = "query($id: String!) { proctoringReport(interviewId: $id) { interviewId riskScore } }"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


def screen(app, interview_id, user, role="candidate", *, events=1, status=201):
    body = {"interviewId": interview_id, "events": [{"type": "tab_switch", "timestamp": _now()}] * events}
    return app.post_json("/api/proctoring/screen", body, headers=app.auth(user, role), status=status)


def frame(app, interview_id, user, role="candidate", status=200):
    return app.post_json("/api/proctoring/frame", {"frameData": FRAME, "interviewId": interview_id},
                         headers=app.auth(user, role), status=status)


def create_interview(app, candidate, interviewers=(), *, start=True) -> str:
    """An interview of ``candidate`` (made by an admin when interviewers are assigned)."""
    body = {"title": "Backend screen", "role": "Backend Engineer", "difficulty": "medium"}
    if interviewers:
        body.update(candidateId=candidate, interviewers=list(interviewers))
        creator = app.auth("admin-maker", "admin")
    else:
        creator = app.auth(candidate, "candidate")
    created = app.post_json("/api/interview", body, headers=creator, status=201).json
    if start:
        app.put_json(f"/api/interview/{created['id']}", {"status": "in_progress", "version": created["version"]},
                     headers=app.auth(candidate, "candidate"), status=200)
    return created["id"]


@pytest.fixture
def app(make_app):
    return make_app(plugins=["interviews", "proctoring"], **NO_LIMITS)


def test_a_guessed_interview_id_cannot_be_taken_over(app):
    victim = create_interview(app, "cand-victim")
    # The attacker posts first, on every route, and is refused without learning the id exists.
    for response in (screen(app, victim, "cand-attacker", events=200, status=404),
                     frame(app, victim, "cand-attacker", status=404),
                     app.post_json("/api/proctoring/audio", {"audioData": "AAAA", "sampleRate": 16000,
                                                             "interviewId": victim},
                                   headers=app.auth("cand-attacker", "candidate"), status=404)):
        assert set(response.json) == {"error", "correlationId"} and "not found" in response.json["error"]
    # The rightful candidate is not locked out, and nothing of the attacker's was stored.
    screen(app, victim, "cand-victim")
    from plugins.proctoring.models import ProctoringScreenEvent

    assert ProctoringScreenEvent.objects(interview_id=victim).count() == 1


def test_unknown_ids_are_refused(app):
    response = screen(app, "6b0d0caabc86d2623f43e06d", "cand-a", status=404)
    assert set(response.json) == {"error", "correlationId"}
    screen(app, "external-123", "cand-a", status=404)


def test_data_is_accepted_only_while_the_interview_is_in_progress(app):
    scheduled = create_interview(app, "cand-s", start=False)
    refused = screen(app, scheduled, "cand-s", status=409)
    assert "in progress" in refused.json["error"] and "scheduled" in refused.json["error"]
    screen(app, scheduled, "root", role="admin", status=409)  # admins too: the session is not running
    started = create_interview(app, "cand-c")
    screen(app, started, "cand-c")
    interview = app.get(f"/api/interview/{started}", headers=app.auth("cand-c")).json
    app.put_json(f"/api/interview/{started}", {"status": "completed", "version": interview["version"]},
                 headers=app.auth("cand-c"), status=200)
    screen(app, started, "cand-c", status=409)


def test_interviewers_on_the_interview_do_not_submit_but_admins_may(app):
    interview = create_interview(app, "cand-i", interviewers=["int-on"])
    refused = screen(app, interview, "int-on", role="interviewer", status=403)
    assert "only the candidate" in refused.json["error"]
    screen(app, interview, "int-other", role="interviewer", status=404)  # not on it: not found
    screen(app, interview, "root", role="admin")  # proctoring:submit_any


def test_only_the_interviews_interviewers_and_admins_read_and_evaluate(app):
    interview = create_interview(app, "cand-r", interviewers=["int-on"])
    screen(app, interview, "cand-r", events=3)

    def evaluate(user, role, status):
        return app.post_json("/api/proctoring/evaluate", {"interviewId": interview}, headers=app.auth(user, role),
                             status=status)

    assert evaluate("int-on", "interviewer", 200).json["interviewId"] == interview
    refused = evaluate("int-other", "interviewer", 404)
    assert "riskScore" not in refused.text and set(refused.json) == {"error", "correlationId"}
    evaluate("cand-r", "candidate", 403)  # candidates hold no proctoring:evaluate
    evaluate("root", "admin", 200)  # proctoring:read_any

    def report(user, role):
        return app.post_json("/graphql", {"query": REPORT, "variables": {"id": interview}},
                             headers=app.auth(user, role)).json

    assert report("int-on", "interviewer")["data"]["proctoringReport"]["interviewId"] == interview
    assert report("root", "admin")["data"]["proctoringReport"]["interviewId"] == interview
    assert report("int-other", "interviewer")["data"]["proctoringReport"] is None  # not visible: null
    assert report("cand-r", "candidate")["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_without_the_interviews_plugin_unverifiable_ids_are_refused_by_default(make_app):
    app = make_app(plugins=["proctoring"], **NO_LIMITS)
    screen(app, "6b0d0caabc86d2623f43e06d", "cand-attacker", status=404)
    screen(app, "6b0d0caabc86d2623f43e06d", "cand-victim", status=404)
    app.post_json("/api/proctoring/evaluate", {"interviewId": "6b0d0caabc86d2623f43e06d"},
                  headers=app.auth("int-1", "interviewer"), status=404)
    from plugins.proctoring.models import ProctoringScreenEvent, ProctoringSession

    assert ProctoringSession.objects.count() == 0 and ProctoringScreenEvent.objects.count() == 0


def test_standalone_first_claim_is_an_explicit_opt_in(make_app):
    app = make_app(plugins=["proctoring"], **NO_LIMITS, **{"proctoring.standalone_sessions": "true"})
    screen(app, "iv-standalone", "cand-first")
    refused = screen(app, "iv-standalone", "cand-second", status=403)
    assert "belongs to another user" in refused.json["error"]

