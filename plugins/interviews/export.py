"""Streaming export of interviews as CSV or JSON.

``export_rows`` walks a pymongo cursor in batches (``batch_size``) with a projection that
leaves out the conversation and metadata, and ``csv_chunks`` / ``json_chunks`` turn the rows
into one text chunk per batch. The view hands the chunk generator to WebOb as ``app_iter``, so
at most one batch is in memory whatever the number of rows.

Paging: ``cursor`` is the ``id`` of the last row a client received, ``limit`` caps the rows
of one response. A paged request (``limit`` or ``cursor`` given) is sorted by ``_id``, so pages
neither overlap nor skip. A whole export is not sorted: it walks the ``_id`` index (a hint),
which on MongoDB yields ``_id`` order with the first row out at once. FerretDB 1.24 cannot push
a sort down to SQLite and would sort every matching document in memory before sending the
first one (about 35 s for 100k interviews, past the client's socket timeout); with the hint and
no sort it streams in storage (insertion) order instead.

CSV injection (OWASP's advice, made to hold for semicolon-locale spreadsheets too):

- **every text cell is quoted** (``csv.QUOTE_NONNUMERIC``: numbers stay bare, quotes are doubled),
  so a ``,`` or ``;`` inside a title can never end the cell, whichever separator the spreadsheet
  assumes (Excel and LibreOffice in German, French, ... locales split on ``;``);
- **a formula start is neutralised wherever a cell could begin**: at the start of the text and
  after every ``,``, ``;``, tab, carriage return or line feed (optionally after spaces and
  ``"``), a ``=``, ``+``, ``-``, ``@`` (or their full-width forms), tab or carriage return gets a
  ``'`` in front of it. ``Backend;=1+cmd|' /C calc'!A0`` is exported as
  ``"Backend;'=1+cmd|' /C calc'!A0"``: even a reader that splits it at the ``;`` sees text.

JSON export is unchanged: it is data, not a spreadsheet.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from typing import Any, Iterable, Iterator, Mapping

from bson import ObjectId

from plugins.interviews.models import Interview
from core.clock import iso_utc

COLUMNS = (
    "id", "ownerId", "title", "role", "difficulty", "status", "overallScore", "scoreBucket",
    "competencies", "interviewers", "feedback", "resumeId", "version", "createdAt", "startedAt", "completedAt",
)
PROJECTION = {
    "owner": 1, "title": 1, "role": 1, "difficulty": 1, "status": 1, "scores": 1, "score_bucket": 1,
    "interviewers": 1, "feedback": 1, "resume_id": 1, "version": 1, "created_at": 1, "started_at": 1,
    "completed_at": 1,
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
CELL_SEPARATORS = (",", ";", "\t", "\r", "\n")
# A place where a spreadsheet may start reading a cell: the start of the text or just after a
# separator, then optional spaces and quotes; followed by a formula character.
_FORMULA_AT = re.compile(
    "(^|[" + re.escape("".join(CELL_SEPARATORS)) + "])([ \u00a0\"]*)(?=[" + re.escape("".join(FORMULA_STARTS)) + "])"
)


def safe_cell(value: Any) -> Any:
    """A CSV cell that spreadsheets will not evaluate: wherever a cell could begin (the start of
    the text, or after a separator such as ``;``), a formula character gets a ``'`` in front of it.
    Numbers and None pass unchanged."""
    if isinstance(value, str):
        return _FORMULA_AT.sub(r"\1\2'", value)
    return value


def build_filter(base: Mapping[str, Any], *, status: str | None = None, user_id: str | None = None,
                 start: dt.datetime | None = None, end: dt.datetime | None = None,
                 cursor: ObjectId | None = None) -> dict[str, Any]:
    """The Mongo filter of an export: visibility (``base``) and the client's filters.
    ``start`` is inclusive and ``end`` exclusive, on ``created_at``."""
    clauses: list[dict[str, Any]] = [dict(base)] if base else []
    if status:
        clauses.append({"status": status})
    if user_id:
        clauses.append({"owner": user_id})
    created: dict[str, Any] = {}
    if start is not None:
        created["$gte"] = start
    if end is not None:
        created["$lt"] = end
    if created:
        clauses.append({"created_at": created})
    if cursor is not None:
        clauses.append({"_id": {"$gt": cursor}})
    if not clauses:
        return {}
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def export_rows(query: Mapping[str, Any], *, limit: int, batch_size: int, ordered: bool,
                collection=None) -> Iterator[dict]:
    """Yield export rows (dicts keyed by ``COLUMNS``) of the matching interviews; sorted by id
    when ``ordered`` (paging), else in ``_id`` index order (see the module docstring)."""
    collection = collection if collection is not None else Interview._get_collection()
    options: dict[str, Any] = {"sort": [("_id", 1)]} if ordered else {"hint": [("_id", 1)]}
    cursor = collection.find(dict(query), PROJECTION, limit=limit, batch_size=batch_size, **options)
    try:
        for raw in cursor:
            yield row_of(raw)
    finally:
        cursor.close()


def row_of(raw: Mapping[str, Any]) -> dict[str, Any]:
    """One export row from a raw interview document."""
    scores = raw.get("scores") or None
    return {
        "id": str(raw["_id"]),
        "ownerId": raw.get("owner"),
        "title": raw.get("title"),
        "role": raw.get("role"),
        "difficulty": raw.get("difficulty"),
        "status": raw.get("status"),
        "overallScore": scores.get("overall") if scores else None,
        "scoreBucket": raw.get("score_bucket"),
        "competencies": [
            {"subject": c.get("subject"), "score": c.get("score"), "fullMark": c.get("full_mark")}
            for c in (scores.get("competencies") or [])
        ] if scores else [],
        "interviewers": list(raw.get("interviewers") or []),
        "feedback": raw.get("feedback"),
        "resumeId": raw.get("resume_id"),
        "version": raw.get("version"),
        "createdAt": iso_utc(raw.get("created_at")),
        "startedAt": iso_utc(raw.get("started_at")),
        "completedAt": iso_utc(raw.get("completed_at")),
    }


def _csv_values(row: Mapping[str, Any]) -> list[Any]:
    values = []
    for column in COLUMNS:
        value = row[column]
        if column == "competencies":
            value = "; ".join(f"{c['subject']}: {c['score']:g}/{c['fullMark']:g}" for c in value)
        elif column == "interviewers":
            value = "; ".join(value)
        values.append(safe_cell(value))
    return values


def _batched(rows: Iterable[dict], size: int) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def csv_chunks(rows: Iterable[dict], chunk_rows: int = 500) -> Iterator[bytes]:
    """UTF-8 CSV: a header line, then one chunk per ``chunk_rows`` rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(COLUMNS)
    yield buffer.getvalue().encode()
    for batch in _batched(rows, chunk_rows):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(_csv_values(row) for row in batch)
        yield buffer.getvalue().encode()


def json_chunks(rows: Iterable[dict], chunk_rows: int = 500) -> Iterator[bytes]:
    """A JSON array of row objects, one chunk per ``chunk_rows`` rows."""
    yield b"["
    first = True
    for batch in _batched(rows, chunk_rows):
        text = ",\n".join(json.dumps(row, ensure_ascii=False) for row in batch)
        yield ((",\n" if not first else "\n") + text).encode()
        first = False
    yield b"\n]\n"
