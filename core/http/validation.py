"""Request validation for cornice views: JSON bodies, query strings, ids, times.

Each validator adds to ``request.errors`` (cornice's contract); core's error handler turns
those into the documented error body naming the fields. Validated data lands in
``request.validated``.

Untrusted JSON is parsed by :func:`loads_json` (REST bodies here, GraphQL bodies and variables
in ``core.graphql``): RFC 8259 only, with the limits every store can hold, so that no crafted
body reaches a schema, MongoDB or FerretDB as something they fail on (a 500 or 503):
``NaN``/``Infinity``/``-Infinity`` and numbers that overflow a double (``1e999``) are refused,
integers must fit in 64 bits (BSON's widest), nesting is limited (:data:`MAX_PARSE_DEPTH`),
and a body that is not UTF-8 is refused. :func:`reject_operators` applies the same number rules
to values built elsewhere (GraphQL literals). Times go through :func:`utc_instant` /
:class:`UtcDateTime`, which refuse instants that cannot be expressed in UTC (years 1-9999).
"""
from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import marshmallow
from bson import ObjectId
from bson.errors import InvalidId

from core.errors import Invalid

MAX_JSON_DEPTH = 32  # nesting accepted in a REST body or a GraphQL input (reject_operators)
MAX_PARSE_DEPTH = 64  # nesting the JSON parser accepts at all (GraphQL envelopes add levels)
INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1


class InputError(ValueError):
    """Input that no schema should even see (NoSQL operators, absurd nesting)."""


class JSONInputError(json.JSONDecodeError):
    """JSON that :func:`loads_json` refuses: a ``JSONDecodeError`` (a ``ValueError``), so every
    caller that handles malformed JSON (strawberry's ``parse_json`` too) answers it with a 400."""

    def __init__(self, msg: str):
        ValueError.__init__(self, msg)
        self.msg, self.doc, self.pos, self.lineno, self.colno = msg, "", 0, 1, 1

    def __reduce__(self):
        return type(self), (self.msg,)


class _Refused(Exception):
    """Raised by the parser hooks; turned into JSONInputError by loads_json."""


def _refuse_constant(name: str):
    raise _Refused(f"{name} is not allowed (JSON numbers must be finite)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"number {text[:24]} is out of range (JSON numbers must be finite)")
    return value


def _int64(text: str) -> int:
    if len(text) > 20:  # longer than any 64-bit integer: don't even convert it
        raise _Refused(f"integer {text[:24]}... does not fit in 64 bits")
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        raise _Refused(f"integer {text} does not fit in 64 bits")
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests containers more than ``limit`` levels (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def loads_json(data: str | bytes, *, max_depth: int = MAX_PARSE_DEPTH) -> Any:
    """Parse untrusted JSON strictly (see the module docstring); :class:`JSONInputError` otherwise.

    Malformed JSON raises ``json.JSONDecodeError`` as ``json.loads`` does.
    """
    try:
        value = json.loads(data, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_int64)
    except _Refused as exc:
        raise JSONInputError(str(exc)) from None
    except RecursionError:  # deeper than the interpreter's stack: far beyond max_depth
        raise JSONInputError(f"nested too deeply (limit {max_depth} levels)") from None
    except UnicodeDecodeError:
        raise JSONInputError("the body is not UTF-8") from None
    if _deeper_than(value, max_depth):
        raise JSONInputError(f"nested too deeply (limit {max_depth} levels)")
    return value


def reject_operators(value: Any, path: str = "body", depth: int = 0) -> None:
    """Refuse keys that MongoDB would read as operators or paths, anywhere in the input, and
    numbers no store can hold (non-finite floats, integers beyond 64 bits).

    Schemas refuse unknown fields already, but free-form fields (metadata, dicts of numbers)
    would otherwise carry ``{"$gt": ""}`` or ``{"a.b": 1}`` into a query or an update. Bodies
    parsed by :func:`loads_json` never hold such numbers; GraphQL literals may.
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
    elif isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"{path}: numbers must be finite")
    elif isinstance(value, int) and not isinstance(value, bool) and not INT64_MIN <= value <= INT64_MAX:
        raise InputError(f"{path}: integers must fit in 64 bits")


def utc_instant(moment: dt.datetime) -> dt.datetime:
    """``moment`` (aware) as UTC; a ValidationError when that instant has no UTC date-time.

    ``9999-12-31T23:59:59-23:59`` and ``0001-01-01T00:00:00+23:59`` parse, but fall outside
    years 1-9999 once converted: comparing, storing or querying them would overflow (a 500).
    """
    try:
        return moment.astimezone(dt.timezone.utc)
    except OverflowError:
        raise marshmallow.ValidationError("time is out of range (it must fall in years 1-9999 in UTC)") from None


class UtcDateTime(marshmallow.fields.AwareDateTime):
    """An ISO 8601 date-time as an aware UTC datetime; use it for every date-time input.

    Without an offset ``default_timezone`` (UTC unless given) applies. Instants outside years
    1-9999 in UTC are refused (400) rather than overflowing later.
    """

    def __init__(self, *, default_timezone: dt.tzinfo = dt.timezone.utc, **kwargs):
        super().__init__(format="iso", default_timezone=default_timezone, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return utc_instant(super()._deserialize(value, attr, data, **kwargs))


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
        data = loads_json(request.body or b"null")
    except JSONInputError as exc:
        request.errors.add("body", "body", f"unacceptable JSON: {exc}")
        return
    except ValueError as exc:  # json.JSONDecodeError
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
