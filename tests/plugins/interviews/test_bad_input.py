"""Bad input gets a 4xx with a clear message and writes nothing: unknown fields, wrong types,
status jumps, oversized text, ids that are not ObjectIds, and NoSQL operators anywhere."""
from __future__ import annotations

import pymongo
import pytest

from tests.plugins.interviews.helpers import create

VALID = {"title": "Backend screen", "role": "Backend Engineer", "difficulty": "medium"}


def count(app) -> int:
    client = pymongo.MongoClient(app.registry.settings["interviewminds.mongo.uri"])
    try:
        return client.get_default_database()["interviews_interviews"].count_documents({})
    finally:
        client.close()


@pytest.mark.parametrize("body, fragment", [
    (dict(VALID, owner="someone-else"), "owner"),  # unknown field
    (dict(VALID, status="completed"), "status"),  # not settable on create
    (dict(VALID, difficulty="extreme"), "difficulty"),
    (dict(VALID, title=42), "title"),
    (dict(VALID, title="   "), "title"),
    (dict(VALID, title="x" * 201), "title"),
    (dict(VALID, interviewers="int-1"), "interviewers"),
    (dict(VALID, metadata=[1, 2]), "metadata"),
    (dict(VALID, metadata={"plugin": {"$where": "sleep(1)"}}), "$where"),
    (dict(VALID, title={"$gt": ""}), "$gt"),
    (dict(VALID, metadata={"a.b": 1}), "a.b"),
    ({"title": "t", "role": "r"}, "difficulty"),
])
def test_bad_create_bodies_are_400_and_write_nothing(app, events, body, fragment):
    response = app.post_json("/api/interview", body, headers=app.auth("cand-b"), status=400).json
    assert fragment in response["error"], response
    assert count(app) == 0 and events.RECEIVED == []


def test_oversized_metadata_is_413(make_app, events):
    from tests.plugins.interviews.helpers import NO_RATE_LIMIT, PLUGINS

    app = make_app(plugins=PLUGINS, **NO_RATE_LIMIT, **{"interviews.metadata_max_bytes": "300"})
    body = app.post_json("/api/interview", dict(VALID, metadata={"notes": "x" * 400}), headers=app.auth("cand-b"),
                         status=413).json
    assert "limit is 300 bytes" in body["error"] and count(app) == 0


@pytest.mark.parametrize("change, status, fragment", [
    ({"status": "done"}, 400, "status"),
    ({"status": "completed"}, 409, "scheduled to completed"),
    ({"version": "1", "status": "in_progress"}, 400, "version"),
    ({"colour": "red"}, 400, "colour"),
    ({}, 400, "at least one"),
    ({"metadata": {"x": {"$set": {"status": "completed"}}}}, 400, "$set"),
    ({"scores": {"overall": "90"}}, 400, "overall"),
    ({"scores": {"overall": 101}}, 400, "overall"),
    ({"scores": {"overall": 50, "competencies": [{"subject": "SQL", "score": 11, "fullMark": 10}]}}, 400, "score"),
    ({"scores": {"overall": 50, "competencies": [{"subject": "SQL", "score": 1}, {"subject": "sql", "score": 2}]}},
     400, "competencies"),
    ({"scores": {"overall": True}}, 400, "overall"),
])
def test_bad_updates_are_4xx_and_write_nothing(app, events, change, status, fragment):
    doc = create(app, "cand-b")
    body = dict(change)
    headers = dict(app.auth("adm-b", "admin"))
    if "version" not in body:
        headers["If-Match"] = '"1"'
    response = app.put_json(f"/api/interview/{doc['id']}", body, headers=headers, status=status).json
    assert fragment in response["error"], response
    after = app.get(f"/api/interview/{doc['id']}", headers=app.auth("cand-b")).json
    assert after["version"] == 1 and after["status"] == "scheduled" and after["metadata"] == {}
    assert events.names() == ["interview.created"]


@pytest.mark.parametrize("bad_id", ["123", "zzzzzzzzzzzzzzzzzzzzzzzz", "%24gt", "0" * 25])
def test_non_object_ids_are_400(app, bad_id):
    headers = app.auth("cand-b")
    assert "not a valid id" in app.get(f"/api/interview/{bad_id}", headers=headers, status=400).json["error"]
    app.put_json(f"/api/interview/{bad_id}", {"status": "in_progress", "version": 1}, headers=headers, status=400)


@pytest.mark.parametrize("body, fragment", [
    ({"interviewId": "nope", "message": "hi"}, "interviewId"),
    ({"interviewId": {"$ne": None}, "message": "hi"}, "$ne"),
    ({"message": "hi"}, "interviewId"),
    ({"interviewId": "0" * 24, "message": 5}, "message"),
    ({"interviewId": "0" * 24, "message": "   "}, "message"),
    ({"interviewId": "0" * 24, "message": "hi", "role": "system"}, "role"),
])
def test_bad_chat_bodies_are_400(app, events, body, fragment):
    doc = create(app, "cand-b")
    response = app.post_json("/api/chat", body, headers=app.auth("cand-b"), status=400).json
    assert fragment in response["error"], response
    after = app.get(f"/api/interview/{doc['id']}", headers=app.auth("cand-b")).json
    assert after["messages"] == [] and after["status"] == "scheduled"


def test_operators_in_query_strings_are_400(app):
    headers = app.auth("adm-b", "admin")
    response = app.get("/api/export/interviews?userId[$ne]=x", headers=headers, status=400).json
    assert "userId[$ne]" in response["error"] or "$ne" in response["error"]


def test_bad_if_match_is_400(app):
    doc = create(app, "cand-b")
    headers = dict(app.auth("cand-b"), **{"If-Match": "*"})
    body = app.put_json(f"/api/interview/{doc['id']}", {"status": "in_progress"}, headers=headers, status=400).json
    assert "If-Match" in body["error"]
