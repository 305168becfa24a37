"""Request validation for cornice views: JSON bodies, query strings, ids.

Each validator adds to ``request.errors`` (cornice's contract); core's error handler turns
those into the documented error body naming the fields. Validated data lands in
``request.validated``.
"""
from __future__ import annotations

import json
from typing import Any

import marshmallow
from bson import ObjectId
from bson.errors import InvalidId

from core.errors import Invalid

MAX_JSON_DEPTH = 32


class InputError(ValueError):
    """Input that no schema should even see (NoSQL operators, absurd nesting)."""


def reject_operators(value: Any, path: str = "body", depth: int = 0) -> None:
    """Refuse keys that MongoDB would read as operators or paths, anywhere in the input.

    Schemas refuse unknown fields already, but free-form fields (metadata, dicts of numbers)
    would otherwise carry ``{"$gt": ""}`` or ``{"a.b": 1}`` into a query or an update.
    """
    if depth > MAX_JSON_DEPTH:
        raise InputError(f"{path}: nested too deeply (limit {MAX_JSON_DEPTH})")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or key.startswith("$") or "." in key or "\x00" in key:
                raise InputError(f"{path}: key {str(key)[:40]!r} is not allowed (no '$' prefix, '.' or NUL)")
            reject_operators(item, f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            reject_operators(item, f"{path}[{index}]", depth + 1)


def _flatten(messages: Any, prefix: str) -> list[tuple[str, str]]:
    if isinstance(messages, dict):
        out = []
        for key, value in messages.items():
            out += _flatten(value, f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [(prefix, " ".join(messages))]
    if isinstance(messages, list):
        out = []
        for value in messages:
            out += _flatten(value, prefix)
        return out
    return [(prefix, str(messages))]


def _load(request, schema, data, location: str) -> None:
    instance = schema() if isinstance(schema, type) else schema
    try:
        result = instance.load(data, unknown=marshmallow.RAISE)
    except marshmallow.ValidationError as exc:
        for name, message in _flatten(exc.messages, ""):
            request.errors.add(location, name or location, message)
        return
    if isinstance(result, dict):
        request.validated.update(result)
    else:
        request.validated[location] = result


def body_limit(request) -> int:
    settings = request.registry.settings
    service = getattr(request, "current_service", None)
    if service is not None and getattr(service, "upload", False):
        return settings["interviewminds.http.max_upload_bytes"]
    if service is not None and getattr(service, "max_body_bytes", None):
        return service.max_body_bytes
    return settings["interviewminds.http.max_body_bytes"]


def json_body_validator(request, schema=None, **_kw) -> None:
    """Parse the JSON body (400 when malformed), refuse operators, then load ``schema``."""
    limit = body_limit(request)
    if len(request.body) > limit:
        request.errors.add("body", "body", f"request body too large (limit {limit} bytes)")
        request.errors.status = 413
        return
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        request.errors.add("body", "body", f"malformed JSON: {exc}")
        return
    if not isinstance(data, dict):
        request.errors.add("body", "body", "the body must be a JSON object")
        return
    try:
        reject_operators(data)
    except InputError as exc:
        request.errors.add("body", "body", str(exc))
        return
    if schema is not None:
        _load(request, schema, data, "body")
    else:
        request.validated.update(data)


def querystring_validator(request, schema=None, **_kw) -> None:
    """Load query-string parameters through ``schema`` (repeated keys become lists)."""
    data: dict[str, Any] = {}
    for key in request.GET:
        values = request.GET.getall(key)
        data[key] = values if len(values) > 1 else values[0]
    try:
        reject_operators(data, "query")
    except InputError as exc:
        request.errors.add("querystring", "query", str(exc))
        return
    if schema is not None:
        _load(request, schema, data, "querystring")


def object_id(value: str, what: str = "id") -> ObjectId:
    """Parse a path id, raising a 404-worthy error for anything that isn't an ObjectId."""

    try:
        if not isinstance(value, str) or len(value) != 24:
            raise InvalidId(value)
        return ObjectId(value)
    except (InvalidId, TypeError):
        raise Invalid(f"{what}: {str(value)[:40]!r} is not a valid id (24 hex characters)") from None


class StrictSchema(marshmallow.Schema):
    """Base schema: unknown fields are errors."""

    class Meta:
        unknown = marshmallow.RAISE
