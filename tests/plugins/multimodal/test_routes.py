"""POST /api/multimodal-ai/analyze over HTTP, with and without the (fake) Groq server; GraphQL, job, health."""
from __future__ import annotations

import copy
import datetime as dt

import pytest
from rq import SimpleWorker

from core.jobs import bind_worker, enqueue, queues
from plugins.multimodal.models import MultimodalAnalysis
from tests.support.fake_groq import FakeGroqServer, JSONReply, Reply, ServerError
from tests.support.api_examples import MULTIMODAL_REQUEST
from core.lookup import JOBS, REDIS, find_service

URL = "/api/multimodal-ai/analyze"
EXAMPLE = MULTIMODAL_REQUEST  # the API reference's example request
DOCUMENTED = {
    "voice": {"confidence", "nervousness", "enthusiasm", "clarity", "pace", "sentiment", "source"},
    "facial": {"expressions", "dominantEmotion", "engagementScore"},
    "gestures": {"fidgeting", "overallBodyLanguage"},
    "eyeGaze": {"gazeDirection", "lookingAtScreen"},
    "posture": {"posture", "engagementLevel"},
}
LLM_VOICE = {"confidence": 91, "nervousness": 7, "enthusiasm": 66, "clarity": 88, "pace": 52, "sentiment": "positive"}


@pytest.fixture
def groq():
    with FakeGroqServer(api_key="test-key") as server:
        yield server


def groq_app(make_app, server, **extra):
    return make_app(plugins=["multimodal", "groq"], **{"groq.api_key": "test-key", "groq.base_url": server.base_url,
                                               "ratelimit.enabled": "false", **extra})


def test_api_reference_example_answers_exactly_the_documented_fields(make_app):
    app = make_app(plugins=["multimodal"])
    result = app.post_json(URL, copy.deepcopy(EXAMPLE), headers=app.auth("c-1", "candidate")).json
    assert list(result) == ["voice", "facial", "gestures", "eyeGaze", "posture", "overallScore", "warnings"]
    for modality, keys in DOCUMENTED.items():
        assert set(result[modality]) == keys, modality
    assert result["voice"]["source"] == "heuristic"  # no Groq key configured
    assert isinstance(result["overallScore"], int) and 0 <= result["overallScore"] <= 100
    assert result["facial"]["dominantEmotion"] == "neutral" and result["eyeGaze"]["lookingAtScreen"] == 100
    assert result["posture"]["posture"] == "upright"


def test_voice_comes_from_groq_when_its_json_is_valid(make_app, groq):
    app = groq_app(make_app, groq)
    groq.script(JSONReply(LLM_VOICE))
    result = app.post_json(URL, copy.deepcopy(EXAMPLE), headers=app.auth("c-1", "candidate")).json
    assert result["voice"] == {**LLM_VOICE, "source": "groq"}
    assert set(result) == set(DOCUMENTED) | {"overallScore", "warnings"}
    (request,) = groq.requests
    assert request.json_mode
    assert "<transcript>\ntranscript of candidate speech\n</transcript>" in request.messages[-1]["content"]
    assert "JSON" in request.messages[0]["content"]


@pytest.mark.parametrize("replies", [
    (Reply("not json"), Reply("{still not json")),
    (JSONReply({**LLM_VOICE, "confidence": 140}), JSONReply({"sentiment": "positive"})),
])
def test_invalid_groq_json_falls_back_to_the_heuristic_and_says_so(make_app, groq, replies):
    app = groq_app(make_app, groq)
    groq.script(*replies)
    result = app.post_json(URL, {"audioText": "I led the migration and it went well."},
                           headers=app.auth("c-1", "candidate")).json
    assert result["voice"]["source"] == "heuristic"
    assert "voice: LLM analysis failed; heuristic used" in result["warnings"]
    assert len(groq.requests) == 2  # asked once, re-asked once with the problem, then gave up


def test_a_groq_outage_falls_back_to_the_heuristic(make_app, groq):
    app = groq_app(make_app, groq)
    groq.script(ServerError(503), ServerError(503), ServerError(503))  # the first try and both retries
    result = app.post_json(URL, {"audioText": "We shipped it."}, headers=app.auth("c-1", "candidate")).json
    assert result["voice"]["source"] == "heuristic" and result["warnings"]


def test_voice_llm_can_be_switched_off(make_app, groq):
    app = groq_app(make_app, groq, **{"multimodal.voice_llm": "false"})
    result = app.post_json(URL, {"audioText": "We shipped it."}, headers=app.auth("c-1", "candidate")).json
    assert result["voice"]["source"] == "heuristic" and groq.requests == []


def test_gaze_tolerance_is_a_setting(make_app):
    body = {"eyePositions": [{"x": 0.1, "y": -0.05}, {"x": 0.2, "y": 0.0}]}
    wide = make_app(plugins=["multimodal"])
    narrow = make_app(plugins=["multimodal"], **{"multimodal.gaze_tolerance": "0.15"})
    assert wide.post_json(URL, body, headers=wide.auth("c", "candidate")).json["eyeGaze"]["lookingAtScreen"] == 100
    assert narrow.post_json(URL, body, headers=narrow.auth("c", "candidate")).json["eyeGaze"]["lookingAtScreen"] == 50


@pytest.mark.parametrize("body,word", [
    ({}, "at least one"),
    ({"eyePositions": []}, "no modality had usable data"),
    ({"gestureData": ["1", 2, 3]}, "gesturedata"),
    ({"facialData": {"happy": True}}, "facialdata"),
    ({"eyePositions": [{"x": 5, "y": 0}]}, "eyepositions"),
    ({"audioText": 42}, "audiotext"),
    ({"audioText": "hi", "mood": "good"}, "mood"),
])
def test_bad_requests_are_400(make_app, body, word):
    app = make_app(plugins=["multimodal"])
    response = app.post_json(URL, body, headers=app.auth("c", "candidate"), expect_errors=True)
    assert response.status_int == 400, response.text
    assert word in response.json["error"].lower()


def test_missing_modalities_are_null_with_a_warning_and_not_scored_as_zero(make_app):
    app = make_app(plugins=["multimodal"])
    result = app.post_json(URL, {"eyePositions": [{"x": 0, "y": 0}]}, headers=app.auth("c", "candidate")).json
    assert result["voice"] is None and result["posture"] is None and result["overallScore"] == 100
    assert "posture: no data" in result["warnings"]


def test_graphql_lists_the_callers_own_analyses(make_app):
    app = make_app(plugins=["multimodal"])
    app.post_json(URL, copy.deepcopy(EXAMPLE), headers=app.auth("alice", "candidate"))
    app.post_json(URL, {"eyePositions": [{"x": 0, "y": 0}]}, headers=app.auth("bob", "candidate"))
    query = "{ multimodalAnalyses(limit: 5) { overallScore voiceSource modalities { modality score } warnings } }"
    mine = app.post_json("/graphql", {"query": query}, headers=app.auth("alice", "candidate")).json
    (summary,) = mine["data"]["multimodalAnalyses"]
    assert summary["voiceSource"] == "heuristic"
    assert [m["modality"] for m in summary["modalities"]] == ["eyeGaze", "facial", "gestures", "posture", "voice"]
    stored = MultimodalAnalysis.objects.get(owner="alice")
    assert "transcript" not in str(stored.to_mongo())  # scores only, never the transcript
    anonymous = app.post_json("/graphql", {"query": query}).json
    assert anonymous["data"] is None and "permission denied" in anonymous["errors"][0]["message"]


def test_purge_job_removes_summaries_past_retention(make_app):
    app = make_app(plugins=["multimodal"], **{"multimodal.retention_days": "30"})
    old = MultimodalAnalysis(owner="u", overall_score=50,
                             created_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=31)).save()
    fresh = MultimodalAnalysis(owner="u", overall_score=60).save()
    assert find_service(app.registry, JOBS).periodic["multimodal.purge"] == 3600
    enqueue(app.registry, "multimodal.purge")
    bind_worker(app.registry)
    SimpleWorker(queues(app.registry), connection=find_service(app.registry, REDIS)).work(burst=True)
    assert [d.id for d in MultimodalAnalysis.objects] == [fresh.id] and old.id != fresh.id


def test_health_reports_the_vader_lexicon(make_app):
    app = make_app(plugins=["multimodal"])
    check = app.get("/health").json["checks"]["multimodal.vader"]
    assert check["status"] == "ok" and check["lexiconWords"] > 7000
