"""The proctoring plugin's settings and the typed view of them the rest of the plugin uses.

Every setting is ``interviewminds.proctoring.<name>`` (env ``INTERVIEWMINDS_PROCTORING_<NAME>``).
:func:`config_of` turns the parsed app settings into one frozen :class:`ProctoringConfig`.
"""
from __future__ import annotations

from dataclasses import dataclass

from core import EventType, Permission
from core.settings import Setting, SettingsError
from plugins.proctoring.vision import VisionThresholds

MiB = 1024 * 1024
SEVERITIES = ("low", "medium", "high")

# VisionThresholds fields an operator may tune (the rest are detector internals; see vision.py).
VISION_SETTINGS = {
    "near_min_score": ("vision.near_min_score", float, "Short-range BlazeFace score (0..1) from which a "
                       "detection is a face (higher: fewer false faces, more missed ones)."),
    "far_min_score": ("vision.far_min_score", float, "Full-range BlazeFace score from which a small or "
                      "background detection is a face (multiple_faces)."),
    "min_face_width": ("vision.min_face_width", float, "Faces narrower than this fraction of the frame "
                       "width are ignored."),
    "dark_brightness": ("vision.dark_brightness", float, "Mean gray level (0-255) of the face (of the frame "
                        "without a face) below which a frame is too dark (low_light)."),
    "bright_brightness": ("vision.bright_brightness", float, "Mean gray level above which a frame is too bright."),
    "blocked_max_stddev": ("vision.blocked_max_stddev", float, "Gray-level std below which a near-uniform "
                           "frame may be a covered lens."),
    "blur_min_sharpness": ("vision.blur_min_sharpness", float, "Normalised Laplacian variance below which "
                           "a frame is blurry."),
    "movement_max_distance": ("vision.movement_max_distance", float, "Face-centre shift (0..1 units) from "
                              "the previous positions that is excessive_movement."),
    "away_yaw_degrees": ("vision.away_yaw_degrees", float, "Head yaw plus eye yaw (degrees) beyond which "
                         "the candidate is looking_away to the side."),
    "away_down_degrees": ("vision.away_down_degrees", float, "Head plus eye pitch (degrees, down) beyond "
                          "which the candidate is looking_away downward."),
    "away_up_degrees": ("vision.away_up_degrees", float, "Head plus eye pitch (degrees, up) beyond which "
                        "the candidate is looking_away upward."),
    "head_turn_degrees": ("vision.head_turn_degrees", float, "Head yaw (degrees) reported as headTurn "
                          "left/right."),
}

_DEFAULT_VISION = VisionThresholds()

SETTINGS = [
    Setting("frame.max_bytes", int, 2 * MiB, "Largest decoded frame (bytes); larger frames get 413.", minimum=1024),
    Setting("frame.max_pixels", int, 2560 * 1440, "Largest frame area declared in the image header "
            "(decompression bombs and CPU amplification get 413; decoding cost grows with the area).",
            minimum=64 * 64),
    Setting("frame.max_side", int, 4096, "Largest frame width or height in the image header.", minimum=64),
    Setting("temporal.required", int, 3, "N: frames of the window that must show a violation before it "
            "becomes a confirmed alert.", minimum=1),
    Setting("temporal.window", int, 5, "M: the window, the last M frames of the same interview.", minimum=1),
    Setting("temporal.ttl_seconds", int, 3600, "Seconds an idle interview's frame window is kept in Redis.",
            minimum=1),
    Setting("audio.max_bytes", int, 8 * MiB, "Largest decoded audio clip (bytes); larger clips get 413.",
            minimum=1024),
    Setting("audio.max_seconds", float, 60.0, "Longest audio clip (seconds); longer clips get 413.", minimum=0.1),
    Setting("screen.max_events", int, 200, "Most screen events accepted in one request.", minimum=1),
    Setting("weight.low", float, 1.0, "Risk weight of a low-severity violation unit.", minimum=0),
    Setting("weight.medium", float, 3.0, "Risk weight of a medium-severity violation unit.", minimum=0),
    Setting("weight.high", float, 6.0, "Risk weight of a high-severity violation unit.", minimum=0),
    Setting("risk.scale", float, 30.0, "S at which riskScore reaches 63 (riskScore = 100(1 - exp(-S/scale))).",
            minimum=0.001),
    Setting("risk.review", int, 25, "riskScore from which the recommendation is review.", minimum=0),
    Setting("risk.flag", int, 50, "riskScore from which the recommendation is flag.", minimum=0),
    Setting("risk.terminate", int, 80, "riskScore from which the recommendation is terminate.", minimum=0),
    Setting("risk.flag_event", int, 50, "riskScore from which evaluation emits proctoring.flagged.", minimum=0),
    Setting("retention_days", int, 30, "Days stored frame findings, audio findings and screen events are "
            "kept (a periodic job purges older ones; reports are kept).", minimum=1),
    Setting("purge_every_seconds", int, 3600, "How often the retention purge runs.", minimum=60),
    Setting("standalone_sessions", bool, False, "Only while the interviews plugin is disabled: accept "
            "interview ids nothing can verify, the first user who submits for an id owning its session, "
            "and let proctoring:read/evaluate cover every session. Off (the default), such ids are refused "
            "(404): a candidate who guesses another's id could otherwise take over their session."),
    *[Setting(name, kind, getattr(_DEFAULT_VISION, field), help) for field, (name, kind, help) in VISION_SETTINGS.items()],
]


@dataclass(frozen=True)
class ProctoringConfig:
    """Typed proctoring settings (see :data:`SETTINGS` for what each means)."""

    frame_max_bytes: int
    frame_max_pixels: int
    frame_max_side: int
    required: int
    window: int
    window_ttl: int
    audio_max_bytes: int
    audio_max_seconds: float
    screen_max_events: int
    weights: dict
    risk_scale: float
    review_at: int
    flag_at: int
    terminate_at: int
    flag_event_at: int
    retention_days: int
    purge_every: int
    vision: VisionThresholds
    standalone_sessions: bool = False


def config_of(settings) -> ProctoringConfig:
    """Build the typed config from parsed settings; raises SettingsError for inconsistent values."""

    def get(name):
        return settings[f"interviewminds.proctoring.{name}"]

    if get("temporal.required") > get("temporal.window"):
        raise SettingsError("interviewminds.proctoring.temporal.required must not exceed temporal.window "
                         f"({get('temporal.required')} > {get('temporal.window')})")
    if not get("risk.review") <= get("risk.flag") <= get("risk.terminate") <= 100:
        raise SettingsError("interviewminds.proctoring.risk.review <= risk.flag <= risk.terminate <= 100 must hold")
    vision_values = {field: get(name) for field, (name, _, _) in VISION_SETTINGS.items()}
    return ProctoringConfig(
        frame_max_bytes=get("frame.max_bytes"),
        frame_max_pixels=get("frame.max_pixels"),
        frame_max_side=get("frame.max_side"),
        required=get("temporal.required"),
        window=get("temporal.window"),
        window_ttl=get("temporal.ttl_seconds"),
        audio_max_bytes=get("audio.max_bytes"),
        audio_max_seconds=get("audio.max_seconds"),
        screen_max_events=get("screen.max_events"),
        weights={severity: get(f"weight.{severity}") for severity in SEVERITIES},
        risk_scale=get("risk.scale"),
        review_at=get("risk.review"),
        flag_at=get("risk.flag"),
        terminate_at=get("risk.terminate"),
        flag_event_at=get("risk.flag_event"),
        retention_days=get("retention_days"),
        purge_every=get("purge_every_seconds"),
        vision=VisionThresholds(**vision_values),
        standalone_sessions=get("standalone_sessions"),
    )


# -- what the plugin declares to core --------------------------------------------------------------
PERMISSIONS = [
    Permission("proctoring:submit", "Submit proctoring frames, audio and screen state for one's own interview "
               "while it is in progress.", ("candidate", "interviewer")),
    Permission("proctoring:submit_any", "Submit into any user's proctoring session (still only while the "
               "interview is in progress)."),
    Permission("proctoring:evaluate", "Compute the risk score of an interview one is an interviewer on.",
               ("interviewer",)),
    Permission("proctoring:read", "Read proctoring results of interviews one is an interviewer on.",
               ("interviewer",)),
    Permission("proctoring:read_any", "Read and evaluate the proctoring results of every interview "
               "(with proctoring:read / proctoring:evaluate)."),
]

FLAGGED_PAYLOAD = {
    "type": "object",
    "properties": {
        "interviewId": {"type": "string"},
        "riskScore": {"type": "number", "minimum": 0, "maximum": 100},
        "recommendation": {"type": "string"},
        "violations": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["interviewId", "riskScore", "recommendation", "violations"],
    "additionalProperties": False,
}
EVENTS = [EventType("proctoring.flagged", 1, FLAGGED_PAYLOAD,
                    "A proctoring evaluation reached interviewminds.proctoring.risk.flag_event.")]
