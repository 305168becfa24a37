"""GraphQL: ``proctoringReport(interviewId)``, the stored report of an interview (proctoring:read, and
being one of its interviewers or holding proctoring:read_any; see services.authorize_read)."""
from __future__ import annotations

from typing import Optional

import strawberry

from core.errors import Forbidden, Unauthenticated
from plugins.proctoring import services


@strawberry.type
class ProctoringTimeRange:
    start: str
    end: str


@strawberry.type
class ProctoringViolation:
    type: str
    source: str = strawberry.field(description="frame | audio | screen")
    severity: str = strawberry.field(description="low | medium | high")
    count: int = strawberry.field(description="Confirmed frames, flagged clips or events.")
    units: float = strawberry.field(description="Risk units before the severity weight.")
    share: Optional[float] = strawberry.field(description="Share of frames (frame violations only).")
    ranges: list[ProctoringTimeRange]


@strawberry.type
class ProctoringTimeOnCamera:
    seconds: float
    share: float
    frames: int


@strawberry.type
class ProctoringReport:
    interview_id: str
    risk_score: int
    recommendation: str = strawberry.field(description="pass | review | flag | terminate")
    risk_units: float
    violations: list[ProctoringViolation]
    time_on_camera: ProctoringTimeOnCamera
    frames: int
    audio_clips: int
    screen_events: int
    evaluated_at: str
    evaluated_by: str


def report_type(report: dict) -> ProctoringReport:
    return ProctoringReport(
        interview_id=report["interviewId"], risk_score=report["riskScore"],
        recommendation=report["recommendation"], risk_units=report["riskUnits"],
        violations=[ProctoringViolation(
            type=v["type"], source=v["source"], severity=v["severity"], count=v["count"], units=v["units"],
            share=v.get("share"), ranges=[ProctoringTimeRange(start=r["start"], end=r["end"]) for r in v["ranges"]],
        ) for v in report["violations"]],
        time_on_camera=ProctoringTimeOnCamera(**report["timeOnCamera"]),
        frames=report["counts"]["frames"], audio_clips=report["counts"]["audioClips"],
        screen_events=report["counts"]["screenEvents"], evaluated_at=report["evaluatedAt"],
        evaluated_by=report["evaluatedBy"],
    )


@strawberry.type
class ProctoringQuery:
    @strawberry.field(description="The latest proctoring report of an interview, or null if it was "
                                  "never evaluated or is not visible. Needs proctoring:read, and being an "
                                  "interviewer on the interview (or proctoring:read_any).")
    def proctoring_report(self, info: strawberry.Info, interview_id: str) -> Optional[ProctoringReport]:
        identity = info.context.identity
        if identity is None:
            raise Unauthenticated("authentication required")
        if not identity.can("proctoring:read"):
            raise Forbidden(f"permission denied: role {identity.role!r} may not read proctoring reports")
        report = services.report_for(info.context.request.registry, identity, interview_id)
        return report_type(report) if report else None
