"""REST routes and the GraphQL field: validate, call a service, shape the answer."""
from __future__ import annotations

import marshmallow
import strawberry
from pyramid.response import Response

from core import Service, emit
from core.http.validation import StrictSchema
from core.jobs import enqueue
from im_sample_plugin.declarations import NOTES
from im_sample_plugin.services import greeting


class EchoSchema(StrictSchema):
    message = marshmallow.fields.String(required=True, validate=marshmallow.validate.Length(max=200))
    count = marshmallow.fields.Integer(load_default=1, strict=True)


class NoteSchema(StrictSchema):
    text = marshmallow.fields.String(required=True, validate=marshmallow.validate.Length(min=1, max=200))


echo = Service(name="sample.echo", path="/api/sample/echo", description="Echo a message")
notes = Service(name="sample.notes", path="/api/sample/notes", description="The caller's notes")
note = Service(name="sample.note", path="/api/sample/notes/{id}", description="One of the caller's notes")
SERVICES = (echo, notes, note)


@echo.get()
def get_echo(request):
    return {"greeting": greeting(request)}


@echo.post(schema=EchoSchema, status=201)
def post_echo(request):
    data = request.validated
    job = enqueue(request.registry, "sample.record", key=data["message"], value=str(data["count"]))
    emit(request, "sample.happened", {"message": data["message"]})
    request.response.status_int = 201
    return {"echo": data["message"] * data["count"], "jobId": job.id}


@notes.get(permission="sample:read")
def list_notes(request):
    return {"notes": request.find_service(name=NOTES).list(request.identity.user_id)}


@notes.post(schema=NoteSchema, permission="sample:write", status=201)
def create_note(request):
    created = request.find_service(name=NOTES).create(request.identity.user_id, request.validated["text"])
    request.audit_resource = f"sample_note:{created['id']}"
    request.response.status_int = 201
    return created


@note.delete(permission="sample:write", status=204)
def delete_note(request):
    note_id = request.matchdict["id"]
    request.audit_resource = f"sample_note:{note_id}"
    request.find_service(name=NOTES).delete(request.identity.user_id, note_id)  # NotFound -> 404
    return Response(status=204)


@strawberry.type
class SampleQuery:
    @strawberry.field
    def sample_greeting(self, info: strawberry.Info) -> str:
        return greeting(info.context.request)
