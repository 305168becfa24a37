"""Proctoring asks the interviews plugin (its optional ``interviews.directory`` service, never its
models) who an interview's candidate is and whether it is in progress; without that plugin, ids
are refused unless the operator opts into standalone first-claim sessions. The attacks these
rules stop are in tests/security/test_ownership.py."""
from __future__ import annotations

import base64
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "data" / "proctoring"
FRAME = base64.b64encode((DATA / "clean_astronaut_02.jpg").read_bytes()).decode()
NO_LIMITS = {"ratelimit.enabled": "false"}


def submit(app, interview_id, user, role="candidate", status=200):
    return app.post_json("/api/proctoring/frame", {"frameData": FRAME, "interviewId": interview_id},
                         headers=app.auth(user, role), status=status)


@pytest.fixture
def both(make_app):
    return make_app(plugins=["interviews", "proctoring"], **NO_LIMITS)


def interview_of(app, candidate, *, start=True):
    created = app.post_json("/api/interview", {"title": "Screen", "role": "backend", "difficulty": "easy"},
                            headers=app.auth(candidate, "candidate"), status=201).json
    if start:
        app.put_json(f"/api/interview/{created['id']}", {"status": "in_progress", "version": created["version"]},
                     headers=app.auth(candidate, "candidate"), status=200)
    return created["id"]


def test_only_the_interviews_candidate_may_submit_even_first(both):
    interview_id = interview_of(both, "cand-owner")
    # Another candidate may not claim the session first: to them the interview does not exist.
    refused = submit(both, interview_id, "cand-intruder", status=404)
    assert "not found" in refused.json["error"] and refused.json["correlationId"]
    submit(both, interview_id, "cand-owner")
    submit(both, interview_id, "root", role="admin")  # proctoring:submit_any


def test_the_directory_reports_participants_and_status(both):
    from core.lookup import find_service

    interview_id = interview_of(both, "cand-d", start=False)
    directory = find_service(both.registry, "interviews.directory")
    found = directory.participants(interview_id)
    assert (found.owner, found.interviewers, found.status, found.in_progress) == ("cand-d", (), "scheduled", False)
    assert directory.participants("external-123") is None and directory.participants("0" * 24) is None


def test_ids_the_interviews_plugin_does_not_know_are_refused(both):
    response = submit(both, "external-123", "cand-a", status=404)
    assert "not found" in response.json["error"]


def test_without_the_interviews_plugin_ids_are_refused_by_default(make_app):
    app = make_app(plugins=["proctoring"], **NO_LIMITS)
    from core.lookup import find_service

    assert find_service(app.registry, "interviews.directory", optional=True) is None
    response = submit(app, "6b0d0caabc86d2623f43e06d", "cand-first", status=404)
    assert "interviews plugin" in response.json["error"]


def test_standalone_sessions_belong_to_the_first_submitter(make_app):
    app = make_app(plugins=["proctoring"], **NO_LIMITS, **{"proctoring.standalone_sessions": "true"})
    submit(app, "6b0d0caabc86d2623f43e06d", "cand-first")
    submit(app, "6b0d0caabc86d2623f43e06d", "cand-second", status=403)


def test_plugins_command_shows_the_optional_dependency(make_app):
    app = make_app(plugins=["interviews", "proctoring"], **NO_LIMITS)
    from core.lookup import PLUGINS, find_service

    infos = find_service(app.registry, PLUGINS).infos
    assert infos["proctoring"].optional_services == ["interviews.directory"]
    assert "interviews.directory" in infos["interviews"].services
