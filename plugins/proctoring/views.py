"""HTTP routes of the proctoring plugin (thin: validate, call one service, shape the answer)."""
from __future__ import annotations

from functools import lru_cache

from core import Service
from plugins.proctoring import services
from plugins.proctoring.schemas import AudioSchema, EvaluateSchema, FrameSchema, screen_schema

# Room in a JSON body for the fields around the base64 payload (positions, ids, times).
BODY_SLACK = 64 * 1024


def _base64_length(max_bytes: int) -> int:
    return 4 * ((max_bytes + 2) // 3)


def frame_view(request):
    data = request.validated
    if data.get("interviewId"):
        request.audit_resource = f"interview:{data['interviewId']}"
    return services.process_frame(request.registry, request.identity, data)


def audio_view(request):
    data = request.validated
    if data.get("interviewId"):
        request.audit_resource = f"interview:{data['interviewId']}"
    return services.process_audio(request.registry, request.identity, data)


def screen_view(request):
    data = request.validated
    request.audit_resource = f"interview:{data['interviewId']}"
    result = services.record_screen_events(request.registry, request.identity, data)
    request.response.status_int = 201
    return result


def evaluate_view(request):
    interview_id = request.validated["interviewId"]
    request.audit_resource = f"interview:{interview_id}"
    return services.evaluate_for(request.registry, request.identity, interview_id)


@lru_cache(maxsize=8)
def build_services(frame_max_bytes: int, audio_max_bytes: int, screen_max_events: int) -> tuple[Service, ...]:
    """The four routes; body limits follow the frame and audio size settings."""
    frame = Service(name="proctoring.frame", path="/api/proctoring/frame",
                    description="Analyse one webcam frame", max_body_bytes=_base64_length(frame_max_bytes) + BODY_SLACK)
    frame.add_view("POST", frame_view, schema=FrameSchema, permission="proctoring:submit")
    audio = Service(name="proctoring.audio", path="/api/proctoring/audio",
                    description="Analyse one audio clip", max_body_bytes=_base64_length(audio_max_bytes) + BODY_SLACK)
    audio.add_view("POST", audio_view, schema=AudioSchema, permission="proctoring:submit")
    screen = Service(name="proctoring.screen", path="/api/proctoring/screen",
                     description="Record client-reported screen events",
                     max_body_bytes=max(BODY_SLACK, 1024 * screen_max_events))
    screen.add_view("POST", screen_view, schema=screen_schema(screen_max_events), permission="proctoring:submit",
                    status=201)
    evaluate = Service(name="proctoring.evaluate", path="/api/proctoring/evaluate",
                       description="Evaluate a proctoring session into a risk report")
    evaluate.add_view("POST", evaluate_view, schema=EvaluateSchema, permission="proctoring:evaluate")
    return frame, audio, screen, evaluate
