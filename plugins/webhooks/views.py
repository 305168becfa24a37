"""REST routes of the webhooks plugin: thin views over ``plugins.webhooks.services``.

Every route needs ``webhooks:manage``; ``webhooks:manage_any`` widens it to every user's
endpoints. Errors: bad input 400 (the message names the field), someone else's or a missing
endpoint 404, a state conflict 409.
"""
from __future__ import annotations


from marshmallow import fields, validate
from pyramid.response import Response

from core import Service
from core.http.validation import StrictSchema, json_body_validator, object_id, querystring_validator
from core.openapi import object_id_parameter
from plugins.webhooks import services
from plugins.webhooks.models import MessageStatus

PERMISSION = "webhooks:manage"


class RegisterSchema(StrictSchema):
    url = fields.String(required=True, validate=validate.Length(min=1))
    events = fields.List(fields.String(validate=validate.Length(min=1, max=200)), required=True)
    secret = fields.String()
    description = fields.String(load_default="")


class UpdateSchema(StrictSchema):
    url = fields.String(validate=validate.Length(min=1))
    events = fields.List(fields.String(validate=validate.Length(min=1, max=200)))
    description = fields.String()
    active = fields.Boolean(truthy={True}, falsy={False})  # JSON true/false only


class RotateSchema(StrictSchema):
    secret = fields.String()


class EmptySchema(StrictSchema):
    pass


class ListQuery(StrictSchema):
    owner = fields.String(validate=validate.Length(min=1, max=200))


class DeliveriesQuery(StrictSchema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = fields.String()
    status = fields.String(validate=validate.OneOf(MessageStatus.ALL))


def optional_json_body(request, schema=None, **kw) -> None:
    """Like ``json_body_validator``, but an empty body is fine (action routes without options)."""
    if request.body:
        json_body_validator(request, schema=schema, **kw)


def _caller(request) -> services.Caller:
    return services.Caller.from_identity(request.identity)


def _endpoint_id(request) -> str:
    endpoint_id = str(object_id(request.matchdict["id"], "id"))
    request.audit_resource = f"webhook:{endpoint_id}"
    return endpoint_id


register = Service(name="webhooks.register", path="/api/webhooks/register",
                   description="Register a webhook endpoint")
event_types = Service(name="webhooks.event_types", path="/api/webhooks/event-types",
                      description="The events one may subscribe to: name, version and payload JSON Schema")
collection = Service(name="webhooks.collection", path="/api/webhooks",
                     description="Webhook endpoints with delivery stats")
BY_ID = {"parameters": [object_id_parameter()]}
item = Service(name="webhooks.item", path="/api/webhooks/{id}", description="One webhook endpoint", openapi=BY_ID)
rotate = Service(name="webhooks.rotate_secret", path="/api/webhooks/{id}/rotate-secret",
                 description="Rotate an endpoint's signing secret", openapi=BY_ID)
test_event = Service(name="webhooks.test", path="/api/webhooks/{id}/test", description="Send a test event",
                     openapi=BY_ID)
deliveries = Service(name="webhooks.deliveries", path="/api/webhooks/{id}/deliveries",
                     description="An endpoint's messages and attempts, paged", openapi=BY_ID)
redeliver = Service(name="webhooks.redeliver", path="/api/webhooks/messages/{id}/redeliver",
                    description="Redeliver a failed message", openapi=BY_ID)

# Order matters: /api/webhooks/register and /event-types must be matched before /api/webhooks/{id}.
SERVICES = (register, event_types, collection, item, rotate, test_event, deliveries, redeliver)


@register.post(schema=RegisterSchema, permission=PERMISSION, status=201, openapi={"responses": {"201": {"links": {
    name: {"operationId": operation_id, "parameters": {"id": "$response.body#/id"}}
    for name, operation_id in (("GetEndpoint", "webhooks.item.get"), ("UpdateEndpoint", "webhooks.item.patch"),
                               ("DeleteEndpoint", "webhooks.item.delete"), ("SendTest", "webhooks.test.post"),
                               ("RotateSecret", "webhooks.rotate_secret.post"),
                               ("ListDeliveries", "webhooks.deliveries.get"))}}}})
def register_endpoint(request):
    data = request.validated
    endpoint, generated = services.register_endpoint(
        request.registry, _caller(request), url=data["url"], events=data["events"],
        secret=data.get("secret"), description=data["description"])
    request.audit_resource = f"webhook:{endpoint.id}"
    request.response.status_int = 201
    request.response.headers["Location"] = f"/api/webhooks/{endpoint.id}"
    body = services.endpoint_view(endpoint)
    if generated is not None:
        body["secret"] = generated  # shown once; only its ciphertext is stored
    return body


@event_types.get(permission=PERMISSION)
def list_event_types(request):
    return {"eventTypes": services.event_types(request.registry)}


@collection.get(schema=ListQuery, validators=(querystring_validator,), permission=PERMISSION)
def list_endpoints(request):
    endpoints = services.list_endpoints(_caller(request), request.validated.get("owner"))
    return {"webhooks": [services.endpoint_view(e) for e in endpoints]}


@item.get(permission=PERMISSION)
def get_endpoint(request):
    return services.endpoint_view(services.get_endpoint(_caller(request), _endpoint_id(request)))


@item.patch(schema=UpdateSchema, permission=PERMISSION)
@item.put(schema=UpdateSchema, permission=PERMISSION)
def update_endpoint(request):
    if not request.validated:
        raise services.WebhookInputError("give at least one of url, events, description, active")
    endpoint = services.update_endpoint(request.registry, _caller(request), _endpoint_id(request),
                                        dict(request.validated))
    return services.endpoint_view(endpoint)


@item.delete(permission=PERMISSION, status=204)
def delete_endpoint(request):
    services.delete_endpoint(_caller(request), _endpoint_id(request))
    return Response(status=204)


@rotate.post(schema=RotateSchema, validators=(optional_json_body,), content_type=None, permission=PERMISSION)
def rotate_secret(request):
    endpoint, generated, previous_expires = services.rotate_secret(
        request.registry, _caller(request), _endpoint_id(request), request.validated.get("secret"))
    body = services.endpoint_view(endpoint)
    body["previousSecretExpiresAt"] = previous_expires
    if generated is not None:
        body["secret"] = generated
    return body


@test_event.post(schema=EmptySchema, validators=(optional_json_body,), content_type=None, permission=PERMISSION,
                 status=202, openapi={"responses": {"202": {"links": {"Redeliver": {
                     "operationId": "webhooks.redeliver.post", "parameters": {"id": "$response.body#/id"}}}}}})
def send_test(request):
    message = services.send_test(request.registry, _caller(request), _endpoint_id(request))
    request.response.status_int = 202
    return services.message_view(message)


@deliveries.get(schema=DeliveriesQuery, validators=(querystring_validator,), permission=PERMISSION)
def list_deliveries(request):
    data = request.validated
    messages, attempts, next_cursor = services.list_deliveries(
        _caller(request), _endpoint_id(request), limit=data["limit"], cursor=data.get("cursor"),
        status=data.get("status"))
    return {"deliveries": [services.message_view(m, attempts[m.id]) for m in messages],
            "nextCursor": next_cursor}


@redeliver.post(schema=EmptySchema, validators=(optional_json_body,), content_type=None, permission=PERMISSION,
                status=202)
def redeliver_message(request):
    message_id = str(object_id(request.matchdict["id"], "id"))
    request.audit_resource = f"webhook_message:{message_id}"
    message = services.redeliver(request.registry, _caller(request), message_id)
    request.response.status_int = 202
    return services.message_view(message)
