"""Proctoring domain services: what each route and job does, without HTTP.

Who may write and read an interview's proctoring data (docs/proctoring.md, "Session ownership"):

- With the interviews plugin enabled, its ``interviews.directory`` service is the only
  authority. Only the interview's candidate submits (or a role with ``proctoring:submit_any``),
  and only while the interview is ``in_progress`` (409 otherwise). An id it does not know, or an
  interview the caller takes no part in, is 404 (the caller learns nothing about it); one of its
  interviewers submitting is 403. Reports are read and evaluated by the interview's
  interviewers (``proctoring:read`` / ``proctoring:evaluate``) and by roles with
  ``proctoring:read_any`` (admins).
- Without it, ids cannot be verified and are refused (404), unless the operator sets
  ``interviewminds.proctoring.standalone_sessions``: then the first user who submits for an id
  owns its session (``proctoring_sessions``; later submissions by anyone else get 403) and
  ``proctoring:read`` / ``proctoring:evaluate`` cover every session.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading

import pymongo
from prometheus_client import Counter, Histogram
from pymongo.errors import DuplicateKeyError

from core.clock import iso_utc, utcnow
from core.errors import Conflict, Forbidden, NotFound
from core.events import emit
from core.lookup import REDIS, find_service
from plugins.proctoring.audio import analyze_audio, decode_audio
from plugins.proctoring.evaluation import Rules, evaluate
from plugins.proctoring.frames import decode_frame
from plugins.proctoring.models import (
    ProctoringAudioClip, ProctoringFrame, ProctoringReport, ProctoringScreenEvent, ProctoringSession,
)
from plugins.proctoring.temporal import FrameWindow
from plugins.proctoring.vision import FrameAnalyzer, VisionThresholds

log = logging.getLogger(__name__)

FLAGGED_EVENT = "proctoring.flagged"

# OpenCV's CascadeClassifier keeps per-image state while detecting, so one analyzer must not
# be shared by concurrent request threads: each thread loads its own (once).
_local = threading.local()


def analyzer_for(thresholds: VisionThresholds) -> FrameAnalyzer:
    """This thread's FrameAnalyzer for ``thresholds`` (loaded on first use)."""
    cache = getattr(_local, "analyzers", None)
    if cache is None:
        cache = _local.analyzers = {}
    if thresholds not in cache:
        cache[thresholds] = FrameAnalyzer(thresholds)
    return cache[thresholds]


class ProctoringMetrics:
    def __init__(self, registry):
        self.frame_seconds = Histogram(
            "interviewminds_proctoring_frame_analysis_seconds", "Time to analyse one frame.",
            buckets=(0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25), registry=registry)
        self.alerts = Counter("interviewminds_proctoring_confirmed_alerts_total",
                              "Frames that carried a confirmed alert, by violation.", ["violation"],
                              registry=registry)


DIRECTORY = "interviews.directory"  # optional: the interviews plugin's service


def _directory(registry):
    return find_service(registry, DIRECTORY, optional=True)


def _unverifiable(interview_id: str) -> NotFound:
    return NotFound(f"interview {interview_id!r} not found (proctoring needs the interviews plugin to verify "
                    "interview ids)")


def authorize_submission(registry, interview_id: str, identity) -> None:
    """Allow ``identity`` to submit proctoring data for ``interview_id``, or raise.

    With the interviews plugin: the candidate (or ``proctoring:submit_any``), while the interview
    is in progress; 404 for an unknown id or an interview the caller is not part of, 403 for
    its interviewers, 409 when it is not in progress. Without it: 404, or the first-claim rule
    of :func:`claim_session` when ``standalone_sessions`` is set.
    """
    directory = _directory(registry)
    if directory is None:
        if not find_service(registry, "proctoring.config").standalone_sessions:
            raise _unverifiable(interview_id)
        claim_session(interview_id, identity)
        return
    participants = directory.participants(interview_id)
    submits_any = identity.can("proctoring:submit_any")
    if participants is None or not (submits_any or participants.involves(identity.user_id)):
        raise NotFound(f"interview {interview_id!r} not found")
    if participants.owner != identity.user_id and not submits_any:
        raise Forbidden(f"only the candidate of interview {interview_id!r} submits proctoring data")
    if not participants.in_progress:
        raise Conflict(f"proctoring data is accepted only while the interview is in progress "
                       f"(interview {interview_id!r} is {participants.status})")


def authorize_read(registry, interview_id: str, identity) -> None:
    """Allow ``identity`` (who holds proctoring:read or proctoring:evaluate) to read or evaluate
    the proctoring data of ``interview_id``, or raise NotFound: its interviewers and roles with
    ``proctoring:read_any``; every session in standalone mode."""
    if identity.can("proctoring:read_any"):
        return
    directory = _directory(registry)
    if directory is None:
        if find_service(registry, "proctoring.config").standalone_sessions:
            return
        raise _unverifiable(interview_id)
    participants = directory.participants(interview_id)
    if participants is None or not participants.is_interviewer(identity.user_id):
        raise NotFound(f"interview {interview_id!r} not found")


def claim_session(interview_id: str, identity) -> None:
    """Standalone mode only: make the caller the owner of a new session, or check they own the
    existing one (403; ``proctoring:submit_any`` submits into any)."""
    collection = ProctoringSession._get_collection()
    update = {"$setOnInsert": {"owner": identity.user_id, "created_at": utcnow()}}
    try:
        doc = collection.find_one_and_update({"_id": interview_id}, update, upsert=True,
                                             return_document=pymongo.ReturnDocument.AFTER)
    except DuplicateKeyError:  # a concurrent first submission won the insert
        doc = collection.find_one({"_id": interview_id})
    if doc["owner"] != identity.user_id and not identity.can("proctoring:submit_any"):
        raise Forbidden(f"the proctoring session of interview {interview_id!r} belongs to another user")


def rules_of(config) -> Rules:
    return Rules(required=config.required, window=config.window, weights=dict(config.weights),
                 scale=config.risk_scale, review_at=config.review_at, flag_at=config.flag_at,
                 terminate_at=config.terminate_at)


def process_frame(registry, identity, data: dict) -> dict:
    """Analyse one frame; with an interviewId, confirm violations over the window and store the findings."""
    config = find_service(registry, "proctoring.config")
    interview_id = data.get("interviewId")
    if interview_id:
        authorize_submission(registry, interview_id, identity)
    image = decode_frame(data["frameData"], max_bytes=config.frame_max_bytes,
                         max_pixels=config.frame_max_pixels, max_side=config.frame_max_side)
    result = analyzer_for(config.vision).analyze(image, data.get("previousPositions"))
    find_service(registry, "proctoring.metrics").frame_seconds.observe(result["processingMs"] / 1000)
    if not interview_id:
        result.update(confirmedAlerts=[], window=None)
        return result
    window = FrameWindow(find_service(registry, REDIS), required=config.required, size=config.window, ttl=config.window_ttl)
    result.update(window.push(interview_id, result["violations"]))
    ProctoringFrame(
        interview_id=interview_id, at=data.get("timestamp") or utcnow(), violations=result["violations"],
        confirmed=[alert["type"] for alert in result["confirmedAlerts"]], face_count=result["faceCount"],
        on_camera=result["faceCount"] > 0 and not result["cameraBlocked"], gaze=result["gaze"],
        head_turn=result["headTurn"], brightness=result["lighting"]["brightness"],
        blurry=result["blur"]["blurry"],
    ).save()
    for alert in result["confirmedAlerts"]:
        find_service(registry, "proctoring.metrics").alerts.labels(alert["type"]).inc()
    return result


def process_audio(registry, identity, data: dict) -> dict:
    """Analyse one audio clip; with an interviewId, store its findings."""
    config = find_service(registry, "proctoring.config")
    interview_id = data.get("interviewId")
    if interview_id:
        authorize_submission(registry, interview_id, identity)
    payload = {k: data[k] for k in ("audioData", "sampleRate", "channels") if data.get(k) is not None}
    samples, rate = decode_audio(payload, max_bytes=config.audio_max_bytes, max_seconds=config.audio_max_seconds)
    result = analyze_audio(samples, rate)
    if interview_id:
        ProctoringAudioClip(
            interview_id=interview_id, at=data.get("timestamp") or utcnow(),
            duration_seconds=result["durationSeconds"], loudness_dbfs=result["loudnessDbfs"],
            speech_ratio=result["speechRatio"], clipped=result["clipping"]["clipped"],
            multiple_speakers=result["multipleSpeakersSuspected"],
        ).save()
    return result


def record_screen_events(registry, identity, data: dict) -> dict:
    """Store client-reported screen events of an interview."""
    interview_id = data["interviewId"]
    authorize_submission(registry, interview_id, identity)
    docs = [ProctoringScreenEvent(interview_id=interview_id, type=event["type"], at=event["timestamp"],
                                  detail=event.get("detail")) for event in data["events"]]
    ProctoringScreenEvent.objects.insert(docs, load_bulk=False)
    counts: dict[str, int] = {}
    for event in data["events"]:
        counts[event["type"]] = counts.get(event["type"], 0) + 1
    return {"interviewId": interview_id, "recorded": len(docs), "byType": counts}


def evaluate_interview(registry, interview_id: str, evaluated_by: str) -> dict | None:
    """Evaluate a session from its stored findings, store the report and emit
    ``proctoring.flagged`` at or above the threshold. None when nothing was recorded."""
    config = find_service(registry, "proctoring.config")
    frames = [{"at": f["at"], "violations": f.get("violations", []), "onCamera": bool(f.get("on_camera"))}
              for f in ProctoringFrame.objects(interview_id=interview_id)
              .only("at", "violations", "on_camera").as_pymongo()]
    audio = [{"at": a["at"], "durationSeconds": a.get("duration_seconds") or 0.0,
              "multipleSpeakersSuspected": bool(a.get("multiple_speakers"))}
             for a in ProctoringAudioClip.objects(interview_id=interview_id)
             .only("at", "duration_seconds", "multiple_speakers").as_pymongo()]
    screen = [{"at": e["at"], "type": e["type"]}
              for e in ProctoringScreenEvent.objects(interview_id=interview_id).only("at", "type").as_pymongo()]
    if not frames and not audio and not screen:
        return None
    report = evaluate(frames, audio, screen, rules_of(config))
    evaluated_at = utcnow()
    report = {"interviewId": interview_id, **report, "evaluatedAt": iso_utc(evaluated_at), "evaluatedBy": evaluated_by}
    ProctoringReport.objects(interview_id=interview_id).update_one(
        upsert=True, set__report=report, set__risk_score=report["riskScore"],
        set__recommendation=report["recommendation"], set__evaluated_at=evaluated_at,
        set__evaluated_by=evaluated_by)
    if report["riskScore"] >= config.flag_event_at:
        emit(registry, FLAGGED_EVENT, {
            "interviewId": interview_id, "riskScore": report["riskScore"],
            "recommendation": report["recommendation"],
            "violations": [v["type"] for v in report["violations"]],
        })
    return report


def evaluate_for(registry, identity, interview_id: str) -> dict:
    """``POST /api/proctoring/evaluate``: evaluate an interview the caller may read (else 404);
    404 too when nothing was recorded."""
    authorize_read(registry, interview_id, identity)
    report = evaluate_interview(registry, interview_id, evaluated_by=identity.user_id)
    if report is None:
        raise NotFound(f"no proctoring data was recorded for interview {interview_id!r}")
    return report


def stored_report(interview_id: str) -> dict | None:
    doc = ProctoringReport.objects(interview_id=interview_id).only("report").as_pymongo().first()
    return doc["report"] if doc else None


def report_for(registry, identity, interview_id: str) -> dict | None:
    """The stored report of an interview the caller may read; None when it was never evaluated
    or the caller may not read it (as the interviews plugin's ``interview(id)`` does)."""
    try:
        authorize_read(registry, interview_id, identity)
    except NotFound:
        return None
    return stored_report(interview_id)


def purge_expired(registry, now: dt.datetime | None = None) -> dict[str, int]:
    """Delete frame findings, audio findings and screen events received before the retention window."""
    cutoff = (now or utcnow()) - dt.timedelta(days=find_service(registry, "proctoring.config").retention_days)
    return {
        "frames": ProctoringFrame.objects(received_at__lt=cutoff).delete(),
        "audio": ProctoringAudioClip.objects(received_at__lt=cutoff).delete(),
        "screenEvents": ProctoringScreenEvent.objects(received_at__lt=cutoff).delete(),
    }

