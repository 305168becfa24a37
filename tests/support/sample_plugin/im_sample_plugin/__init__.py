"""Sample plugin: a route, a GraphQL field, a job, a health check, a setting and an event."""
from __future__ import annotations

import datetime as dt

import marshmallow
import mongoengine as me
import strawberry

from core import GraphQLContribution, Service, Setting, hookimpl
from core.events import emit
from core.jobs import enqueue
from core.http.validation import StrictSchema


class EchoSchema(StrictSchema):
    message = marshmallow.fields.String(required=True, validate=marshmallow.validate.Length(max=200))
    count = marshmallow.fields.Integer(load_default=1, strict=True)


echo = Service(name="sample.echo", path="/api/sample/echo", description="Echo a message")


@echo.get()
def get_echo(request):
    return {"greeting": request.registry.settings["interviewminds.sample.greeting"]}


@echo.post(schema=EchoSchema)
def post_echo(request):
    data = request.validated
    job = enqueue(request.registry, "sample.record", key=data["message"], value=str(data["count"]))
    emit(request, "sample.happened", {"message": data["message"]})
    request.response.status_int = 201
    return {"echo": data["message"] * data["count"], "jobId": job.id}


class SampleNote(me.Document):
    """A plugin-owned document; its index is created by `interviewminds migrate`."""

    owner = me.StringField(required=True)
    text = me.StringField(required=True, max_length=200)
    created_at = me.DateTimeField(default=lambda: dt.datetime.now(dt.timezone.utc))
    meta = {"collection": "sample_notes", "indexes": [("owner", "-created_at")], "auto_create_index": False}


class NoteSchema(StrictSchema):
    text = marshmallow.fields.String(required=True, validate=marshmallow.validate.Length(min=1, max=200))


notes = Service(name="sample.notes", path="/api/sample/notes", description="The caller's notes")


@notes.get(permission="sample:read")
def list_notes(request):
    docs = SampleNote.objects(owner=request.identity.user_id).order_by("-created_at")
    return {"notes": [{"id": str(d.id), "text": d.text} for d in docs]}


@notes.post(schema=NoteSchema, permission="sample:write")
def create_note(request):
    doc = SampleNote(owner=request.identity.user_id, text=request.validated["text"]).save()
    request.response.status_int = 201
    return {"id": str(doc.id), "text": doc.text}


@strawberry.type
class SampleQuery:
    @strawberry.field
    def sample_greeting(self, info: strawberry.Info) -> str:
        return info.context.request.registry.settings["interviewminds.sample.greeting"]


def record(ctx, key: str, value: str) -> None:
    """Job: store ``value`` under ``sample:<key>`` in Redis (idempotent)."""
    ctx.redis.set(f"sample:{key}", value)


@hookimpl
def interviewminds_settings():
    return [Setting("greeting", str, "hello", "What GET /api/sample/echo says.")]


@hookimpl
def interviewminds_services(settings):
    return [echo, notes]


@hookimpl
def interviewminds_graphql(settings):
    return GraphQLContribution(query=(SampleQuery,))


@hookimpl
def interviewminds_jobs(settings):
    return {"sample.record": record}


@hookimpl
def interviewminds_health_checks(settings):
    return {"ready": lambda: "ok"}


@hookimpl
def interviewminds_events(settings):
    return ["sample.happened"]
