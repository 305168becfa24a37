"""The full interview lifecycle over REST, with the domain events a subscriber receives."""
from __future__ import annotations

from tests.plugins.interviews.helpers import create, put


def test_full_lifecycle_over_rest_emits_events(app, events):
    cand, boss = "cand-1", "int-1"
    created = create(app, boss, "interviewer", candidateId=cand, title="Platform interview")
    assert created["status"] == "scheduled" and created["ownerId"] == cand
    assert isinstance(created["id"], str) and len(created["id"]) == 24
    assert created["interviewers"] == [boss] and created["version"] == 1
    assert created["allowedTransitions"] == ["in_progress", "terminated"]

    started = put(app, created, cand, status="in_progress")
    assert started["status"] == "in_progress" and started["startedAt"] and started["version"] == 2

    reply = app.post_json("/api/chat", {"interviewId": created["id"], "message": "Hello, I am ready."},
                          headers=app.auth(cand)).json
    assert reply["source"] == "heuristic" and reply["fallbackReason"] == "not_configured"
    assert reply["reply"]

    current = app.get(f"/api/interview/{created['id']}", headers=app.auth(cand)).json
    assert [m["role"] for m in current["messages"]] == ["candidate", "interviewer"]
    assert current["messages"][0]["text"] == "Hello, I am ready."
    assert current["messages"][1]["meta"]["source"] == "heuristic"

    done = put(app, current, boss, "interviewer", status="completed")
    assert done["status"] == "completed" and done["completedAt"] and done["allowedTransitions"] == []

    scored = put(app, done, boss, "interviewer", feedback="Solid answers.", scores={
        "overall": 82.5, "competencies": [{"subject": "System design", "score": 8, "fullMark": 10}]})
    assert scored["scores"] == {"overall": 82.5,
                                "competencies": [{"subject": "System design", "score": 8.0, "fullMark": 10.0}]}
    assert scored["feedback"] == "Solid answers."

    assert events.names() == ["interview.created", "interview.started", "interview.completed", "score.generated"]
    by_name = dict(events.RECEIVED)
    assert by_name["interview.created"]["interviewId"] == created["id"]
    assert by_name["interview.created"]["ownerId"] == cand
    assert by_name["interview.completed"]["status"] == "completed"
    assert by_name["score.generated"]["overall"] == 82.5
    assert by_name["score.generated"]["competencies"] == [{"subject": "System design", "score": 8.0, "fullMark": 10.0}]


def test_terminated_interview_emits_terminated_and_is_final(app, events):
    doc = create(app, "cand-2")
    doc = put(app, doc, "cand-2", status="in_progress")
    doc = put(app, doc, "cand-2", status="terminated")
    assert events.names() == ["interview.created", "interview.started", "interview.terminated"]
    refused = app.put_json(f"/api/interview/{doc['id']}", {"status": "completed", "version": doc["version"]},
                           headers=app.auth("cand-2"), status=409).json
    assert "terminated to completed" in refused["error"]


def test_disallowed_jumps_are_409_and_change_nothing(app, events):
    doc = create(app, "cand-3")
    refused = app.put_json(f"/api/interview/{doc['id']}", {"status": "completed", "version": 1},
                           headers=app.auth("cand-3"), status=409).json
    assert "scheduled to completed" in refused["error"] and "in_progress" in refused["error"]
    after = app.get(f"/api/interview/{doc['id']}", headers=app.auth("cand-3")).json
    assert after["status"] == "scheduled" and after["version"] == 1
    assert events.names() == ["interview.created"]


def test_optimistic_concurrency_with_if_match_and_version(app):
    doc = create(app, "cand-4")
    first = app.get(f"/api/interview/{doc['id']}", headers=app.auth("cand-4"))
    assert first.headers["ETag"] == '"1"'
    headers = dict(app.auth("cand-4"), **{"If-Match": '"1"'})
    ok = app.put_json(f"/api/interview/{doc['id']}", {"metadata": {"notes": {"a": 1}}}, headers=headers)
    assert ok.headers["ETag"] == '"2"' and ok.json["metadata"] == {"notes": {"a": 1}}
    # The same precondition again is stale now: 409, with the current ETag, nothing written.
    stale = app.put_json(f"/api/interview/{doc['id']}", {"metadata": {"notes": {"a": 2}}}, headers=headers, status=409)
    assert "version conflict" in stale.json["error"] and stale.headers["ETag"] == '"2"'
    # The body's version works too, and metadata merges per top-level key (null removes one).
    merged = app.put_json(f"/api/interview/{doc['id']}", {"version": 2, "metadata": {"other": True}},
                          headers=app.auth("cand-4")).json
    assert merged["metadata"] == {"notes": {"a": 1}, "other": True} and merged["version"] == 3
    removed = app.put_json(f"/api/interview/{doc['id']}", {"version": 3, "metadata": {"notes": None}},
                           headers=app.auth("cand-4")).json
    assert removed["metadata"] == {"other": True}
    # Without a precondition the write is refused.
    missing = app.put_json(f"/api/interview/{doc['id']}", {"status": "in_progress"}, headers=app.auth("cand-4"),
                           status=428).json
    assert "If-Match" in missing["error"]
    # Header and body disagreeing is a client error.
    both = dict(app.auth("cand-4"), **{"If-Match": '"4"'})
    app.put_json(f"/api/interview/{doc['id']}", {"status": "in_progress", "version": 3}, headers=both, status=400)
    assert app.get(f"/api/interview/{doc['id']}", headers=app.auth("cand-4")).json["version"] == 4


def test_scores_need_the_score_permission_and_a_scorable_status(app, events):
    doc = create(app, "cand-5")
    doc = put(app, doc, "cand-5", status="in_progress")
    denied = put(app, doc, "cand-5", expect=403, scores={"overall": 100})
    assert "scores" in denied["error"]
    scheduled = create(app, "cand-5")
    body = put(app, scheduled, "admin-1", "admin", expect=409, scores={"overall": 50})
    assert "in_progress or completed" in body["error"]
    assert "score.generated" not in events.names()
