"""REST routes of the interviews plugin: interviews, chat, export and reports.

Views are thin: parse input, call one function of ``services``/``chat``/``export``/``reports``,
shape the output.
"""
from __future__ import annotations

import datetime as dt
import re

from marshmallow import ValidationError
from pyramid.response import Response

from core.errors import Forbidden, Invalid, NotFound, PreconditionRequired, TooLarge
from core import Service
from core.http.validation import object_id, querystring_validator
from core.openapi import object_id_parameter
from plugins.interviews import chat as chat_module
from plugins.interviews import export as export_module
from plugins.interviews import reports, services
from plugins.interviews.access import Viewer
from plugins.interviews.models import interview_json
from plugins.interviews.schemas import (
    ChatSchema,
    CreateInterviewSchema,
    DashboardQuerySchema,
    ExportQuerySchema,
    UpdateInterviewSchema,
    check_user_id,
)

interviews = Service(name="interviews.create", path="/api/interview", description="Create an interview")
interview = Service(name="interviews.item", path="/api/interview/{id}", description="One interview",
                    openapi={"parameters": [object_id_parameter()]})
chat = Service(name="interviews.chat", path="/api/chat", description="Chat with the AI interviewer")
export = Service(name="interviews.export", path="/api/export/interviews", description="Export interviews")
dashboard = Service(name="interviews.dashboard", path="/api/reports/dashboard", description="Dashboard aggregates")
candidate = Service(name="interviews.candidate_report", path="/api/reports/candidate/{id}",
                    description="One candidate's report")
SERVICES = (interviews, interview, chat, export, dashboard, candidate)

_IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d{1,12})"?\s*$')


def _with_etag(request, doc) -> dict:
    request.response.headers["ETag"] = f'"{doc.version}"'
    request.audit_resource = f"interview:{doc.id}"
    return interview_json(doc)


@interviews.post(schema=CreateInterviewSchema, permission="interview:create", status=201, openapi={
    "responses": {"201": {"links": {
        name: {"operationId": f"interviews.item.{method}", "parameters": {"id": "$response.body#/id"}}
        for name, method in (("GetInterview", "get"), ("UpdateInterview", "put"))}}}})
def create_interview(request):
    doc = services.create(request.registry, Viewer.of(request), request.validated)
    request.response.status_int = 201
    request.response.headers["Location"] = request.route_path("interviews.item", id=str(doc.id))
    return _with_etag(request, doc)


@interview.get(permission="interview:read")
def get_interview(request):
    doc = services.get_for(Viewer.of(request), object_id(request.matchdict["id"], "id"))
    return _with_etag(request, doc)


def expected_version(request) -> int:
    """The version the client last saw: ``If-Match`` or the body's ``version`` (428 if neither)."""
    header = request.headers.get("If-Match")
    from_header = None
    if header is not None:
        match = _IF_MATCH.match(header)
        if match is None:
            raise Invalid('If-Match must be the interview\'s ETag, e.g. "3"')
        from_header = int(match.group(1))
    from_body = request.validated.get("version")
    if from_header is not None and from_body is not None and from_header != from_body:
        raise Invalid(f"If-Match ({from_header}) and version ({from_body}) disagree")
    version = from_header if from_header is not None else from_body
    if version is None:
        raise PreconditionRequired('send If-Match: "<version>" (the ETag) or a version field to update an interview')
    return version


@interview.put(schema=UpdateInterviewSchema, permission="interview:update", openapi={"parameters": [{
    "in": "header", "name": "If-Match", "schema": {"type": "string", "pattern": _IF_MATCH.pattern},
    "description": "The ETag of the version last read (or send `version` in the body); 428 without either"}]})
def update_interview(request):
    oid = object_id(request.matchdict["id"], "id")
    viewer = Viewer.of(request)
    version = expected_version(request)
    changes = {k: v for k, v in request.validated.items() if k != "version"}
    doc = services.update(request.registry, viewer, oid, changes, expected_version=version)
    return _with_etag(request, doc)


@chat.post(schema=ChatSchema, permission="chat:send")
def post_chat(request):
    data = request.validated
    oid = object_id(data["interviewId"], "interviewId")
    limit = services.setting(request.registry, "chat_max_message_chars")
    if len(data["message"]) > limit:
        raise TooLarge(f"message is {len(data['message'])} characters; the limit is {limit}")
    request.audit_resource = f"interview:{oid}"
    return chat_module.chat_turn(request.registry, Viewer.of(request), oid, data["message"])


@export.get(permission="export:read", schema=ExportQuerySchema, validators=(querystring_validator,),
            produces=("application/json", "text/csv"))
def export_interviews(request):
    data = request.validated
    viewer = Viewer.of(request)
    registry = request.registry
    max_rows = services.setting(registry, "export_max_rows")
    limit = min(data.get("limit") or max_rows, max_rows)
    cursor = object_id(data["cursor"], "cursor") if data.get("cursor") else None
    start = data["from_"][0] if data.get("from_") else None
    end = None
    if data.get("to"):
        end, date_only = data["to"]
        if date_only:  # a bare date includes that whole day
            end = end + dt.timedelta(days=1)
    if start is not None and end is not None and start >= end:
        raise Invalid("invalid input: from must be before to")
    query = export_module.build_filter(viewer.visibility_filter(), status=data.get("status"),
                                       user_id=data.get("userId"), start=start, end=end, cursor=cursor)
    paged = cursor is not None or data.get("limit") is not None
    rows = export_module.export_rows(query, limit=limit, ordered=paged,
                                     batch_size=services.setting(registry, "export_batch_size"))
    if data["format"] == "json":
        body, content_type = export_module.json_chunks(rows), "application/json"
    else:
        body, content_type = export_module.csv_chunks(rows), "text/csv"
    response = Response(app_iter=body, content_type=content_type, charset="utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="interviews.{data["format"]}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@dashboard.get(permission="analytics:read", schema=DashboardQuerySchema, validators=(querystring_validator,))
def get_dashboard(request):
    return reports.dashboard(Viewer.of(request), request.validated["timeRange"])


@candidate.get(permission="reports:read")
def get_candidate_report(request):
    candidate_id = request.matchdict["id"]
    try:
        check_user_id(candidate_id)
    except ValidationError:
        raise Invalid(f"id: {candidate_id[:40]!r} is not a valid user id") from None
    viewer = Viewer.of(request)
    if candidate_id != viewer.user_id and not viewer.can("reports:read_any"):
        raise Forbidden("permission denied: you may only read your own candidate report")
    report = reports.candidate_report(viewer, candidate_id)
    if report is None:
        raise NotFound(f"no interviews found for candidate {candidate_id}")
    return report
