"""GET /api/export/interviews: CSV and JSON, filters, paging, formula-injection safety and a
streamed body whose memory stays flat as the number of rows grows."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tracemalloc

import pymongo
from bson import ObjectId
from webob import Request

from plugins.interviews.export import safe_cell
from tests.plugins.interviews.helpers import NO_RATE_LIMIT, PLUGINS, create, put

DAY = dt.timedelta(days=1)


def insert(app, count: int, *, owner="cand-x", status="completed", created=None, title="Interview {i}",
           feedback=None) -> list[ObjectId]:
    """Insert ``count`` interviews straight into the collection (fast test data)."""
    created = created or dt.datetime.now(dt.timezone.utc)
    docs = [{
        "_id": ObjectId(), "owner": owner, "interviewers": ["int-x"], "title": title.format(i=i),
        "role": "Data Engineer", "difficulty": "medium", "status": status, "messages": [], "metadata": {},
        "scores": {"overall": float(i % 100), "competencies": [{"subject": "SQL", "score": 7.0, "full_mark": 10.0}]},
        "feedback": feedback, "version": 3, "created_at": created, "updated_at": created,
        "created_day": created.strftime("%Y-%m-%d"), "score_bucket": (i % 100) // 10 * 10,
        "score_overall": float(i % 100),
    } for i in range(count)]
    client = pymongo.MongoClient(app.registry.settings["interviewminds.mongo.uri"])
    for start in range(0, count, 1000):
        client.get_default_database()["interviews_interviews"].insert_many(docs[start:start + 1000])
    client.close()
    return [d["_id"] for d in docs]


def rows_of(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.text)))


def test_safe_cell_neutralises_formulas():
    for risky in ("=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx"):
        assert safe_cell(risky) == "'" + risky
    assert safe_cell("plain") == "plain" and safe_cell(-5) == -5 and safe_cell(None) is None


def test_csv_export_is_quoted_and_injection_safe(app):
    doc = create(app, "cand-e1", title='=HYPERLINK("http://evil","click"), "quoted"', role="Line1\nLine2")
    doc = put(app, doc, "cand-e1", status="in_progress")
    put(app, doc, "int-e1", "interviewer", feedback="@SUM(1,2)", scores={
        "overall": 55, "competencies": [{"subject": "-Risky", "score": 5, "fullMark": 10}]})
    response = app.get("/api/export/interviews", {"format": "csv"}, headers=app.auth("adm-e", "admin"))
    assert response.content_type == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    [row] = rows_of(response)
    assert row["title"] == "'" + '=HYPERLINK("http://evil","click"), "quoted"'
    assert row["role"] == "Line1\nLine2"  # newlines survive inside a quoted cell
    assert row["feedback"] == "'@SUM(1,2)"
    assert row["competencies"] == "'-Risky: 5/10"
    assert row["overallScore"] == "55.0" and row["status"] == "in_progress" and row["ownerId"] == "cand-e1"
    assert row["id"] == doc["id"]


def test_json_export_is_an_array_with_the_same_rows(app):
    ids = insert(app, 3)
    body = app.get("/api/export/interviews", {"format": "json"}, headers=app.auth("adm-e", "admin"))
    assert body.content_type == "application/json"
    rows = json.loads(body.text)
    assert [r["id"] for r in rows] == [str(i) for i in ids]
    assert rows[0]["competencies"] == [{"subject": "SQL", "score": 7.0, "fullMark": 10.0}]
    assert rows[0]["interviewers"] == ["int-x"] and "messages" not in rows[0]
    empty = app.get("/api/export/interviews", {"format": "json", "status": "terminated"},
                    headers=app.auth("adm-e", "admin"))
    assert json.loads(empty.text) == []


def test_filters_and_cursor_paging(app):
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    old = insert(app, 2, owner="cand-a", created=now - 10 * DAY)
    new = insert(app, 3, owner="cand-b", status="in_progress", created=now)
    admin = app.auth("adm-e", "admin")

    def ids(**params):
        return [r["id"] for r in rows_of(app.get("/api/export/interviews", params, headers=admin))]

    assert ids() == [str(i) for i in old + new]
    assert ids(status="in_progress") == [str(i) for i in new]
    assert ids(userId="cand-a") == [str(i) for i in old]
    assert ids(**{"from": (now - DAY).date().isoformat()}) == [str(i) for i in new]
    assert ids(to=(now - 5 * DAY).date().isoformat()) == [str(i) for i in old]
    first = ids(limit="2")
    assert first == [str(i) for i in old]
    assert ids(limit="2", cursor=first[-1]) == [str(i) for i in new[:2]]
    assert ids(limit="2", cursor=str(new[1])) == [str(new[2])]


def test_bad_export_parameters_are_400(app):
    admin = app.auth("adm-e", "admin")
    for params, fragment in (({"format": "xml"}, "format"), ({"status": "done"}, "status"),
                             ({"limit": "0"}, "limit"), ({"limit": "ten"}, "limit"),
                             ({"cursor": "123"}, "cursor"), ({"from": "yesterday"}, "from"),
                             ({"userId": "{$ne: 1}"}, "userId"), ({"sort": "x"}, "sort"),
                             ({"from": "2026-02-01", "to": "2026-01-01"}, "before")):
        body = app.get("/api/export/interviews", params, headers=admin, status=400).json
        assert fragment in body["error"], (params, body)


def _peak_while_streaming(app, headers) -> tuple[int, int, int]:
    """(peak traced bytes, rows, body bytes) of one CSV export consumed chunk by chunk."""
    request = Request.blank("/api/export/interviews?format=csv", headers=headers)
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        status, _headers, app_iter = request.call_application(app.app)
        size = lines = 0
        for chunk in app_iter:
            size += len(chunk)
            lines += chunk.count(b"\r\n")
        if hasattr(app_iter, "close"):
            app_iter.close()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status.startswith("200"), status
    return peak, lines - 1, size


def test_export_streams_with_flat_memory(make_app):
    app = make_app(plugins=PLUGINS, **NO_RATE_LIMIT, **{"interviews.export_batch_size": "200"})
    headers = app.auth("adm-e", "admin")
    title = "Memory test {i} " + "x" * 100
    insert(app, 2000, owner="cand-m", title=title)
    _peak_while_streaming(app, headers)  # warm-up: one-time allocations (imports, caches) are not rows
    small_peak, small_rows, small_size = _peak_while_streaming(app, headers)
    insert(app, 4000, owner="cand-m", title=title)
    large_peak, large_rows, large_size = _peak_while_streaming(app, headers)
    assert (small_rows, large_rows) == (2000, 6000)
    assert large_size > 2.9 * small_size
    # Three times the rows, the same peak: what grows with the rows is not kept in memory.
    # (Buffering the body alone would add large_size - small_size bytes to the peak.)
    print(f"peak {small_peak} B for a {small_size} B body, {large_peak} B for a {large_size} B body")
    assert large_peak < 1.1 * small_peak, (small_peak, large_peak)
    assert large_peak - small_peak < 0.1 * (large_size - small_size), (small_peak, large_peak)
