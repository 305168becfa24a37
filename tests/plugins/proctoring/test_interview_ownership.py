"""Proctoring asks the interviews plugin (its optional ``interviews.directory`` service, never its
models) who an interview's candidate is; without that plugin the first submitter owns a session."""
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


def interview_of(app, candidate):
    return app.post_json("/api/interview", {"title": "Screen", "role": "backend", "difficulty": "easy"},
                         headers=app.auth(candidate, "candidate"), status=201).json["id"]


def test_only_the_interviews_candidate_may_submit_even_first(both):
    interview_id = interview_of(both, "cand-owner")
    # Another candidate may not claim the session first: the directory names the real candidate.
    refused = submit(both, interview_id, "cand-intruder", status=403)
    assert "another candidate's" in refused.json["error"] and refused.json["correlationId"]
    submit(both, interview_id, "cand-owner")
    submit(both, interview_id, "root", role="admin")  # proctoring:submit_any


def test_ids_the_interviews_plugin_does_not_know_fall_back_to_first_claim(both):
    submit(both, "external-123", "cand-a")
    submit(both, "external-123", "cand-b", status=403)


def test_without_the_interviews_plugin_the_first_submitter_owns_the_session(make_app):
    app = make_app(plugins=["proctoring"], **NO_LIMITS)
    from core.lookup import find_service

    assert find_service(app.registry, "interviews.directory", optional=True) is None
    submit(app, "6b0d0caabc86d2623f43e06d", "cand-first")
    submit(app, "6b0d0caabc86d2623f43e06d", "cand-second", status=403)


def test_plugins_command_shows_the_optional_dependency(make_app):
    app = make_app(plugins=["interviews", "proctoring"], **NO_LIMITS)
    from core.lookup import PLUGINS, find_service

    infos = find_service(app.registry, PLUGINS).infos
    assert infos["proctoring"].optional_services == ["interviews.directory"]
    assert "interviews.directory" in infos["interviews"].services
