"""GraphQL fields of the interviews plugin, as in the API reference::

    type Query {
      interviews(userId: String!): [Interview!]!
      interview(id: ID!): Interview
      analytics(timeRange: TimeRange!): AnalyticsData!
    }
    type Mutation {
      createInterview(input: CreateInterviewInput!): Interview!
      updateScore(interviewId: ID!, score: ScoreInput!): Interview!
    }

Permission checks are the REST ones (``access.Viewer`` built from ``info.context``): an
interview the caller may not see is ``null`` from ``interview`` and absent from ``interviews``.
Errors carry ``extensions.code`` (UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT,
CONFLICT) and the HTTP-equivalent ``extensions.status``.

Batching: ``interviews`` loads the interviews in one query (messages and scores are embedded),
and the users behind ``owner``/``interviewers`` are loaded for all of them together in one
more query on the first such field (``ParticipantLoader``, kept in ``info.context.loaders``).
"""
from __future__ import annotations

import datetime as dt
import enum
from typing import Any, Optional

import marshmallow
import strawberry
from strawberry.scalars import JSON

from core.auth.users import DEFAULT_ROLE, User
from core.errors import Forbidden, Invalid, NotFound
from core.graphql_cost import list_cost
from core.http.validation import InputError, reject_operators
from plugins.interviews import reports, services
from plugins.interviews.access import Viewer
from plugins.interviews.models import TRANSITIONS
from plugins.interviews.models import Interview as InterviewDocument
from plugins.interviews.schemas import CreateInterviewSchema, ScoreSchema, check_user_id

LOADER_KEY = "interviews.participants"


# -- context ---------------------------------------------------------------------------------------------
def _viewer(info: strawberry.Info) -> Viewer:
    return Viewer.of(info.context.request)


def _load(schema: marshmallow.Schema, data: dict, what: str) -> dict:
    """Validate a GraphQL input with the REST schema (and the NoSQL-operator check)."""
    try:
        reject_operators(data, what)
        return schema.load(data)
    except InputError as err:
        raise Invalid(f"invalid input: {err}") from None
    except marshmallow.ValidationError as err:
        raise Invalid(f"invalid input: {what}: {err.messages}") from None


class ParticipantLoader:
    """Per-request batch loader of users (id -> role). ``prime`` ids first; the first ``get``
    of an unloaded id loads every primed id in ONE query."""

    def __init__(self) -> None:
        self.pending: set[str] = set()
        self.loaded: dict[str, str] = {}
        self.queries = 0

    def prime(self, user_ids) -> None:
        self.pending.update(u for u in user_ids if u not in self.loaded)

    def role_of(self, user_id: str) -> str:
        if user_id not in self.loaded:
            self.pending.add(user_id)
            ids = sorted(self.pending)
            self.pending.clear()
            found = {u.user_id: u.role for u in User.objects(user_id__in=ids).only("user_id", "role")}
            self.queries += 1
            for uid in ids:
                self.loaded[uid] = found.get(uid, DEFAULT_ROLE)
        return self.loaded[user_id]


def _loader(info: strawberry.Info) -> ParticipantLoader:
    return info.context.loaders.setdefault(LOADER_KEY, ParticipantLoader())


def _wrap(info: strawberry.Info, docs: list[InterviewDocument]) -> list["Interview"]:
    _loader(info).prime(services.user_ids_of(docs))
    return [Interview.of(doc) for doc in docs]


# -- output types -------------------------------------------------------------------------------------
@strawberry.enum(description="The period analytics cover (interviews created in it).")
class TimeRange(enum.Enum):
    LAST_24_HOURS = "LAST_24_HOURS"
    LAST_7_DAYS = "LAST_7_DAYS"
    LAST_30_DAYS = "LAST_30_DAYS"
    LAST_90_DAYS = "LAST_90_DAYS"
    ALL_TIME = "ALL_TIME"


@strawberry.type(description="A user taking part in an interview.")
class InterviewParticipant:
    id: strawberry.ID
    role: str


@strawberry.type(description="One turn of the conversation.")
class InterviewMessage:
    role: str
    text: str
    time: dt.datetime
    meta: JSON


@strawberry.type
class InterviewCompetency:
    subject: str
    score: float
    full_mark: float


@strawberry.type
class InterviewScores:
    overall: float
    competencies: list[InterviewCompetency]


@strawberry.type(description="An interview: its people, status, conversation and scores.")
class Interview:
    doc: strawberry.Private[InterviewDocument]

    @classmethod
    def of(cls, doc: InterviewDocument) -> "Interview":
        return cls(doc=doc)

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.doc.id))

    @strawberry.field
    def title(self) -> str:
        return self.doc.title

    @strawberry.field
    def role(self) -> str:
        return self.doc.role

    @strawberry.field(description="easy | medium | hard")
    def difficulty(self) -> str:
        return self.doc.difficulty

    @strawberry.field(description="scheduled | in_progress | completed | terminated")
    def status(self) -> str:
        return self.doc.status

    @strawberry.field
    def allowed_transitions(self) -> list[str]:
        return sorted(TRANSITIONS[self.doc.status])

    @strawberry.field
    def owner_id(self) -> str:
        return self.doc.owner

    @strawberry.field(description="The candidate (batched with every other interview's people).")
    def owner(self, info: strawberry.Info) -> InterviewParticipant:
        return InterviewParticipant(id=strawberry.ID(self.doc.owner), role=_loader(info).role_of(self.doc.owner))

    @strawberry.field
    def interviewers(self, info: strawberry.Info) -> list[InterviewParticipant]:
        loader = _loader(info)
        return [InterviewParticipant(id=strawberry.ID(u), role=loader.role_of(u)) for u in self.doc.interviewers or []]

    @strawberry.field
    def messages(self) -> list[InterviewMessage]:
        return [InterviewMessage(role=m.role, text=m.text, time=m.time, meta=dict(m.details or {}))
                for m in self.doc.messages or []]

    @strawberry.field
    def message_count(self) -> int:
        return len(self.doc.messages or [])

    @strawberry.field
    def scores(self) -> Optional[InterviewScores]:
        scores = self.doc.scores
        if scores is None:
            return None
        return InterviewScores(overall=scores.overall, competencies=[
            InterviewCompetency(subject=c.subject, score=c.score, full_mark=c.full_mark) for c in scores.competencies])

    @strawberry.field
    def feedback(self) -> Optional[str]:
        return self.doc.feedback

    @strawberry.field
    def resume_id(self) -> Optional[str]:
        return self.doc.resume_id

    @strawberry.field
    def metadata(self) -> JSON:
        return dict(self.doc.metadata or {})

    @strawberry.field(description="Optimistic-concurrency version (the REST ETag).")
    def version(self) -> int:
        return self.doc.version

    @strawberry.field
    def created_at(self) -> dt.datetime:
        return self.doc.created_at

    @strawberry.field
    def updated_at(self) -> dt.datetime:
        return self.doc.updated_at

    @strawberry.field
    def started_at(self) -> Optional[dt.datetime]:
        return self.doc.started_at

    @strawberry.field
    def completed_at(self) -> Optional[dt.datetime]:
        return self.doc.completed_at


@strawberry.type
class InterviewStatusCounts:
    scheduled: int
    in_progress: int
    completed: int
    terminated: int


@strawberry.type(description="Interviews with an overall score in [min, max].")
class InterviewScoreBucket:
    bucket: str
    min: int
    max: int
    count: int


@strawberry.type(description="Aggregates over the interviews created in a time range that the caller may see.")
class AnalyticsData:
    time_range: TimeRange
    range_start: Optional[dt.datetime] = strawberry.field(name="from")
    range_end: dt.datetime = strawberry.field(name="to")
    total_interviews: int
    by_status: InterviewStatusCounts
    completed_interviews: int
    completion_rate: float = strawberry.field(description="completed / total (0 when there are none)")
    scored_interviews: int
    average_score: Optional[float] = strawberry.field(description="mean overall score; null when none is scored")
    score_distribution: list[InterviewScoreBucket]


# -- inputs -------------------------------------------------------------------------------------------------
@strawberry.input
class CreateInterviewInput:
    title: str
    role: str
    difficulty: str = strawberry.field(description="easy | medium | hard")
    candidate_id: Optional[str] = strawberry.UNSET
    interviewers: Optional[list[str]] = strawberry.UNSET
    resume_id: Optional[str] = strawberry.UNSET
    metadata: Optional[JSON] = strawberry.UNSET


@strawberry.input
class InterviewCompetencyInput:
    subject: str
    score: float
    full_mark: float = 100.0


@strawberry.input
class ScoreInput:
    overall: float
    competencies: list[InterviewCompetencyInput] = strawberry.field(default_factory=list)
    feedback: Optional[str] = strawberry.UNSET


def _given(**values: Any) -> dict:
    """The input fields the client actually sent (UNSET ones dropped)."""
    return {k: v for k, v in values.items() if v is not strawberry.UNSET}


# -- root fields ---------------------------------------------------------------------------------------------
@strawberry.type
class InterviewsQuery:
    @strawberry.field(description="Interviews of a user (as candidate or interviewer) that the caller may see.",
                      metadata=list_cost(maximum="interviewminds.interviews.graphql_max_interviews"))
    def interviews(self, info: strawberry.Info, user_id: str) -> list[Interview]:
        viewer = _viewer(info)
        try:
            check_user_id(user_id)
        except marshmallow.ValidationError as err:
            raise Invalid(f"invalid input: userId {err.messages[0]}") from None
        if not (viewer.can("interview:read") or viewer.can("interview:read_any")):
            raise Forbidden("permission denied: you may not read interviews")
        limit = services.setting(info.context.request.registry, "graphql_max_interviews")
        return _wrap(info, services.list_for_user(viewer, user_id, limit))

    @strawberry.field(description="One interview, or null when it does not exist or is not visible.")
    def interview(self, info: strawberry.Info, id: strawberry.ID) -> Optional[Interview]:
        viewer = _viewer(info)
        from core.http.validation import object_id

        oid = object_id(str(id), "id")
        try:
            doc = services.get_for(viewer, oid)
        except NotFound:
            return None
        return _wrap(info, [doc])[0]

    @strawberry.field(description="Counts, completion rate, average score and score distribution.")
    def analytics(self, info: strawberry.Info, time_range: TimeRange) -> AnalyticsData:
        viewer = _viewer(info)
        viewer.require("analytics:read")
        data = reports.analytics(viewer, time_range.value)
        by_status = data["byStatus"]
        return AnalyticsData(
            time_range=time_range,
            range_start=data["from"],
            range_end=data["to"],
            total_interviews=data["total"],
            by_status=InterviewStatusCounts(scheduled=by_status["scheduled"], in_progress=by_status["in_progress"],
                                            completed=by_status["completed"], terminated=by_status["terminated"]),
            completed_interviews=by_status["completed"],
            completion_rate=data["completionRate"],
            scored_interviews=data["scored"],
            average_score=data["averageScore"],
            score_distribution=[InterviewScoreBucket(**b) for b in data["scoreDistribution"]],
        )


@strawberry.type
class InterviewsMutation:
    @strawberry.mutation(description="Create an interview (status scheduled).")
    def create_interview(self, info: strawberry.Info, input: CreateInterviewInput) -> Interview:
        viewer = _viewer(info)
        data = _load(CreateInterviewSchema(), _given(
            title=input.title, role=input.role, difficulty=input.difficulty, candidateId=input.candidate_id,
            interviewers=input.interviewers, resumeId=input.resume_id, metadata=input.metadata), "input")
        registry = info.context.request.registry
        doc = services.create(registry, viewer, data)
        return _wrap(info, [doc])[0]

    @strawberry.mutation(description="Set an interview's overall and per-competency scores; emits score.generated.")
    def update_score(self, info: strawberry.Info, interview_id: strawberry.ID, score: ScoreInput) -> Interview:
        viewer = _viewer(info)
        from core.http.validation import object_id

        oid = object_id(str(interview_id), "interviewId")
        data = _load(ScoreSchema(), {
            "overall": score.overall,
            "competencies": [{"subject": c.subject, "score": c.score, "fullMark": c.full_mark}
                             for c in score.competencies],
        }, "score")
        feedback = None if score.feedback is strawberry.UNSET else score.feedback
        if feedback is not None and len(feedback) > 5000:
            raise Invalid("invalid input: score.feedback: longer than 5000 characters")
        registry = info.context.request.registry
        doc = services.set_score(registry, viewer, oid, data, feedback)
        return _wrap(info, [doc])[0]
