"""core.Service: a cornice Service with core's defaults fixed.

- JSON rendering (``renderer="json"`` with ObjectId/datetime adapters),
- ``application/json`` required on POST/PUT/PATCH unless ``upload=True`` (415 otherwise),
- ``schema=`` loads the JSON body through marshmallow with field-level errors,
- the documented error body for every validation failure,
- CORS from the ``interviewminds.cors.*`` settings (a core tween), not per service.
"""
from __future__ import annotations

import cornice
from pyramid.httpexceptions import exception_response

from core.http.validation import json_body_validator

BODY_METHODS = {"POST", "PUT", "PATCH"}


def error_handler(request):
    """Turn cornice's ``request.errors`` into the documented error body."""
    from core.http.errors import error_response

    # cornice writes some descriptions as bytes (its own Content-Type and Accept checks): decode
    # them here, for the message and for ``details`` (debug), which must stay JSON.
    errors = [{key: value.decode("utf-8", "replace") if isinstance(value, bytes) else value
               for key, value in error.items()} for error in request.errors]
    status = getattr(request.errors, "status", 400) or 400
    parts = []
    for error in errors:
        name, description = error.get("name"), error.get("description")
        parts.append(f"{name}: {description}" if name and name != "body" else str(description))
    message = "; ".join(parts) or "invalid request"
    if status == 400:
        message = f"invalid input: {message}"
    rendered = error_response(request, status, message, details=errors)
    response = exception_response(status, detail=message)
    response.body = rendered.body
    response.content_type = "application/json"
    return response


class Service(cornice.Service):
    """A cornice service with core's defaults. Use it for every route.

    Extra arguments: ``upload=True`` accepts any content type and bodies up to
    ``interviewminds.http.max_upload_bytes``; ``max_body_bytes`` overrides the JSON limit.

    Views may also say how ``/openapi.json`` documents them (nothing here changes the response):
    ``status=201`` the success status (default 200; 204 has no body), ``produces=("text/csv", ...)``
    the success media types (default JSON), ``openapi={...}`` extra Operation Object fields
    (e.g. header ``parameters``, response ``links``). ``Service(..., openapi={...})`` applies to
    every method (e.g. ``{"parameters": [core.openapi.object_id_parameter()]}``). See ``core.openapi``.
    """

    def __init__(self, name: str, path: str, *, upload: bool = False, max_body_bytes: int | None = None,
                 openapi: dict | None = None, **kw):
        kw.setdefault("error_handler", error_handler)
        kw.setdefault("renderer", "json")
        kw.setdefault("cors_enabled", False)
        self.upload = upload
        self.max_body_bytes = max_body_bytes
        self.openapi_views: dict[str, dict] = {}  # method -> documentation (status, produces, openapi)
        self.openapi_defaults = openapi or {}  # Operation Object fields for every method
        super().__init__(name=name, path=path, **kw)

    def add_view(self, method, view, **kwargs):
        methods = {method.upper()} if isinstance(method, str) else {m.upper() for m in method}
        doc = {key: kwargs.pop(key) for key in ("status", "produces", "openapi") if key in kwargs}
        for name in methods:
            self.openapi_views[name] = doc
        if methods & BODY_METHODS:
            if not self.upload:
                kwargs.setdefault("content_type", ("application/json",))
            if "validators" not in kwargs and not self.upload:
                kwargs["validators"] = (json_body_validator,)
        return super().add_view(method, view, **kwargs)
