"""Permission matrix of the proctoring and multimodal routes (anonymous, bad token, each role)."""
from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import pytest

from tests.support import speech as sp

# Sessions here use made-up interview ids, without the interviews plugin: the operator's opt-in
# first-claim mode (docs/proctoring.md, "Session ownership").
STANDALONE = "proctoring.standalone_sessions"

DATA = Path(__file__).resolve().parents[2] / "data" / "proctoring"
CLEAN = base64.b64encode((DATA / "clean_astronaut_02.jpg").read_bytes()).decode()
NOW = dt.datetime.now(dt.timezone.utc).isoformat()


def bodies(role: str) -> dict:
    """A valid body per route; each role works on its own interview (sessions have owners)."""
    interview = f"iv-perm-{role}"
    return {
        "/api/proctoring/frame": {"frameData": CLEAN, "interviewId": interview},
        "/api/proctoring/audio": {"audioData": sp.b64(sp.pcm16(sp.silence(0.3, rate=16000))), "sampleRate": 16000,
                                  "interviewId": interview},
        "/api/proctoring/screen": {"interviewId": interview, "events": [{"type": "copy", "timestamp": NOW}]},
        "/api/proctoring/evaluate": {"interviewId": "iv-perm-seeded"},
        "/api/multimodal-ai/analyze": {"audioText": "I designed the cache and it cut latency in half."},
    }


# route -> expected status for candidate, interviewer, admin
MATRIX = {
    "/api/proctoring/frame": (200, 200, 200),
    "/api/proctoring/audio": (200, 200, 200),
    "/api/proctoring/screen": (201, 201, 201),
    "/api/proctoring/evaluate": (403, 200, 200),
    "/api/multimodal-ai/analyze": (200, 200, 200),
}


@pytest.fixture
def app(make_app):
    app = make_app(plugins=["proctoring", "multimodal"], **{"ratelimit.enabled": "false", STANDALONE: "true"})
    app.post_json("/api/proctoring/screen", {"interviewId": "iv-perm-seeded", "events": [{"type": "paste",
                                                                                          "timestamp": NOW}]},
                  headers=app.auth("seed", "candidate"), status=201)
    return app


@pytest.mark.parametrize("url", list(MATRIX))
def test_permission_matrix(app, url):
    for role, expected in zip(("candidate", "interviewer", "admin"), MATRIX[url]):
        response = app.post_json(url, bodies(role)[url], headers=app.auth(f"user-{role}", role), expect_errors=True)
        assert response.status_int == expected, (role, response.text)
    anonymous = app.post_json(url, bodies("anon")[url], expect_errors=True)
    assert anonymous.status_int == 401 and "WWW-Authenticate" in anonymous.headers
    bad_token = app.post_json(url, bodies("anon")[url], headers={"Authorization": "Bearer not.a.token"},
                              expect_errors=True)
    assert bad_token.status_int == 401


def test_a_candidate_denied_evaluate_learns_nothing_about_the_session(app):
    response = app.post_json("/api/proctoring/evaluate", {"interviewId": "iv-perm-seeded"},
                             headers=app.auth("seed", "candidate"), expect_errors=True)
    assert response.status_int == 403 and "riskScore" not in response.text
