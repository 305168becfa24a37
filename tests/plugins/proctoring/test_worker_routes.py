"""interview.completed -> proctoring.evaluate in a REAL worker subprocess -> proctoringReport over GraphQL.

The interviews plugin is not enabled: the test emits the event itself, as any plugin would.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest

from core.events import emit
from core.testing import base_settings, make_test_app, run_cli, write_ini
from core.lookup import JOBS, REDIS, find_service

# Sessions here use made-up interview ids, without the interviews plugin: the operator's opt-in
# first-claim mode (docs/proctoring.md, "Session ownership").
STANDALONE = "proctoring.standalone_sessions"

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "tests" / "data" / "proctoring"
NO_FACE = base64.b64encode((DATA / "empty_coffee.jpg").read_bytes()).decode()
CLEAN = base64.b64encode((DATA / "clean_astronaut_02.jpg").read_bytes()).decode()
T0 = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.timezone.utc)

REPORT_QUERY = """query($id: String!) { proctoringReport(interviewId: $id) {
  interviewId riskScore recommendation riskUnits frames audioClips screenEvents evaluatedBy evaluatedAt
  timeOnCamera { seconds share frames }
  violations { type source severity count units share ranges { start end } } } }"""


@pytest.fixture
def settings(redis_url, mongo_uri, tmp_path):
    return base_settings(redis_url, mongo_uri, tmp_path / "var", **{
        "interviewminds.plugins": "tests.support.local_plugins.event_source proctoring", "ratelimit.enabled": "false",
        "jobs.retry_intervals": "1", "interviewminds." + STANDALONE: "true"})


@pytest.fixture
def ini_file(settings, tmp_path):
    return write_ini(tmp_path / "proctoring.ini", settings)


def graphql(app, headers, interview_id):
    return app.post_json("/graphql", {"query": REPORT_QUERY, "variables": {"id": interview_id}}, headers=headers).json


def test_interview_completed_runs_the_evaluate_job_in_a_real_worker(settings, ini_file):
    app = make_test_app(settings)
    candidate, interviewer = app.auth("cand-w", "candidate"), app.auth("int-w", "interviewer")
    for i, frame in enumerate([NO_FACE] * 4 + [CLEAN] * 4):
        app.post_json("/api/proctoring/frame", {"frameData": frame, "interviewId": "iv-job",
                                                "timestamp": (T0 + dt.timedelta(seconds=2 * i)).isoformat()},
                      headers=candidate)
    app.post_json("/api/proctoring/screen", {"interviewId": "iv-job", "events": [
        {"type": "paste", "timestamp": (T0 + dt.timedelta(seconds=5)).isoformat()}]}, headers=candidate, status=201)

    assert graphql(app, interviewer, "iv-job") == {"data": {"proctoringReport": None}}  # not evaluated yet

    emit(app.registry, "interview.completed", {"interviewId": "iv-job", "candidateId": "cand-w"})
    emit(app.registry, "interview.completed", {"interviewId": "iv-empty"})  # no proctoring data: a no-op
    counts = json.loads(run_cli("jobs", ini_file, "--json").stdout)
    assert counts["interviewminds.proctoring"]["queued"] >= 2
    assert graphql(app, interviewer, "iv-job")["data"]["proctoringReport"] is None  # nothing ran in-process

    worker = run_cli("worker", ini_file, "--burst")
    assert worker.returncode == 0, worker.stderr
    counts = json.loads(run_cli("jobs", ini_file, "--json").stdout)["interviewminds.proctoring"]
    assert counts["queued"] == 0 and counts["failed"] == 0 and counts["finished"] >= 2

    report = graphql(app, interviewer, "iv-job")["data"]["proctoringReport"]
    assert report["interviewId"] == "iv-job" and report["evaluatedBy"] == "job"
    assert report["frames"] == 8 and report["screenEvents"] == 1 and report["audioClips"] == 0
    assert report["timeOnCamera"] == {"seconds": 7.0, "share": 0.5, "frames": 4}
    by_type = {v["type"]: v for v in report["violations"]}
    assert set(by_type) == {"no_face", "paste"}
    assert by_type["no_face"]["share"] == 0.5 and by_type["no_face"]["severity"] == "high"
    assert by_type["no_face"]["ranges"] == [{"start": "2025-06-02T09:00:00.000Z", "end": "2025-06-02T09:00:06.000Z"}]
    # The job and the route compute the same report.
    direct = app.post_json("/api/proctoring/evaluate", {"interviewId": "iv-job"}, headers=interviewer).json
    assert (report["riskScore"], report["recommendation"]) == (direct["riskScore"], direct["recommendation"])
    assert graphql(app, interviewer, "iv-empty")["data"]["proctoringReport"] is None


def test_proctoring_report_needs_proctoring_read(settings):
    app = make_test_app(settings)
    candidate = graphql(app, app.auth("cand-g", "candidate"), "iv-x")
    assert candidate["data"]["proctoringReport"] is None
    assert "permission denied" in candidate["errors"][0]["message"]
    anonymous = app.post_json("/graphql", {"query": REPORT_QUERY, "variables": {"id": "iv-x"}}).json
    assert "authentication required" in anonymous["errors"][0]["message"]
    assert graphql(app, app.auth("adm-g", "admin"), "iv-x") == {"data": {"proctoringReport": None}}


def test_health_reports_the_loaded_cascades(settings):
    # The check keeps its name; it now lists the sha256-verified DNN model files it loaded.
    app = make_test_app(settings)
    check = app.get("/health").json["checks"]["proctoring.cascades"]
    assert check == {"status": "ok", "cascades": ["face_detection_short_range.tflite", "face_detection_full_range.tflite",
                                                  "face_landmark.tflite", "iris_landmark.tflite"]}


def test_purge_job_removes_findings_past_retention(settings):
    from rq import SimpleWorker

    from core.jobs import bind_worker, enqueue, queues
    from plugins.proctoring.models import ProctoringAudioClip, ProctoringFrame, ProctoringScreenEvent

    app = make_test_app({**settings, "interviewminds.proctoring.retention_days": "30"})
    now = dt.datetime.now(dt.timezone.utc)
    old, recent = now - dt.timedelta(days=31), now - dt.timedelta(days=29)
    for received in (old, recent):
        ProctoringFrame(interview_id="iv-old", at=received, received_at=received, violations=[]).save()
        ProctoringAudioClip(interview_id="iv-old", at=received, received_at=received).save()
        ProctoringScreenEvent(interview_id="iv-old", type="copy", at=received, received_at=received).save()
    assert find_service(app.registry, JOBS).periodic["proctoring.purge"] == 3600
    enqueue(app.registry, "proctoring.purge")
    bind_worker(app.registry)
    SimpleWorker(queues(app.registry), connection=find_service(app.registry, REDIS)).work(burst=True)
    for model in (ProctoringFrame, ProctoringAudioClip, ProctoringScreenEvent):
        assert [d.received_at.date() for d in model.objects] == [recent.date()], model.__name__
