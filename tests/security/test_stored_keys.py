"""Security review, finding 3 (issue 17): keys inside stored free-form data were interpreted.

Interview ``metadata`` was a mongoengine DictField, which instantiates the document class a nested
``_cls`` names: ``{"ats": {"_cls": "User"}}`` built a ``User`` on every read and the interview
answered 500 to everyone, over REST and GraphQL, owner and interviewer. Metadata is now stored as
JSON text that nothing interprets, and ``interviewminds migrate`` converts what earlier versions
stored.
"""
from __future__ import annotations

import datetime as dt

import pymongo
import pytest
from bson import ObjectId

from core.testing import run_cli, write_ini

NO_LIMITS = {"ratelimit.enabled": "false"}
HOSTILE = {"ats": {"_cls": "User", "user_id": "root", "role": "admin"},
           "nested": {"list": [{"_cls": "Interview"}, {"_ref": {"id": "x"}}], "_id": 5, "_types": ["User"]}}
QUERY = "query($id: ID!) { interview(id: $id) { id ownerId metadata } }"
CREATE = """mutation($m: JSON) { createInterview(input: {title: "t", role: "r", difficulty: "easy",
  candidateId: "cand-g", interviewers: ["int-g"], metadata: $m}) { id metadata } }"""


@pytest.fixture
def app(make_app):
    return make_app(plugins=["interviews"], **NO_LIMITS)


def reads_everywhere(app, interview_id: str, expected: dict, users) -> None:
    """The interview reads, with its metadata intact, for each (user, role) over REST and GraphQL."""
    for user, role in users:
        headers = app.auth(user, role)
        rest = app.get(f"/api/interview/{interview_id}", headers=headers, status=200).json
        assert rest["metadata"] == expected
        graph = app.post_json("/graphql", {"query": QUERY, "variables": {"id": interview_id}}, headers=headers).json
        assert "errors" not in graph, graph
        assert graph["data"]["interview"]["metadata"] == expected


def test_cls_inside_metadata_is_stored_and_read_as_plain_data(app):
    body = {"title": "Screen", "role": "Backend", "difficulty": "easy", "candidateId": "cand-1",
            "interviewers": ["int-1"], "metadata": HOSTILE}
    created = app.post_json("/api/interview", body, headers=app.auth("admin-1", "admin"), status=201).json
    assert created["metadata"] == HOSTILE
    reads_everywhere(app, created["id"], HOSTILE, [("cand-1", "candidate"), ("int-1", "interviewer"),
                                                        ("admin-1", "admin")])
    # The document holds text, not a sub-document anything could interpret.
    from plugins.interviews.models import Interview

    doc = Interview.objects.get(id=created["id"])
    assert type(doc.metadata["ats"]) is dict and doc.metadata == HOSTILE
    raw = Interview._get_collection().find_one({"_id": ObjectId(created["id"])})
    assert "metadata" not in raw and isinstance(raw["metadata_json"], str)


def test_cls_through_updates_and_graphql(app):
    created = app.post_json("/api/interview", {"title": "S", "role": "R", "difficulty": "easy"},
                            headers=app.auth("cand-2"), status=201).json
    updated = app.put_json(f"/api/interview/{created['id']}", {"metadata": {"ats": {"_cls": "User"}}, "version": 1},
                           headers=app.auth("cand-2"), status=200).json
    assert updated["metadata"] == {"ats": {"_cls": "User"}}
    merged = app.put_json(f"/api/interview/{created['id']}", {"metadata": {"other": {"_cls": "X"}}, "version": 2},
                          headers=app.auth("cand-2"), status=200).json
    assert merged["metadata"] == {"ats": {"_cls": "User"}, "other": {"_cls": "X"}}
    reads_everywhere(app, created["id"], merged["metadata"], [("cand-2", "candidate")])

    made = app.post_json("/graphql", {"query": CREATE, "variables": {"m": HOSTILE}},
                         headers=app.auth("admin-g", "admin")).json
    assert "errors" not in made, made
    assert made["data"]["createInterview"]["metadata"] == HOSTILE
    reads_everywhere(app, made["data"]["createInterview"]["id"], HOSTILE,
                     [("cand-g", "candidate"), ("int-g", "interviewer")])


def _insert_legacy(mongo_uri: str, metadata: dict, owner: str = "cand-old", interviewers=("int-old",)) -> str:
    """An interview as earlier versions stored it: metadata as a sub-document."""
    now = dt.datetime.now(dt.timezone.utc)
    oid = ObjectId()
    client = pymongo.MongoClient(mongo_uri)
    client.get_default_database()["interviews_interviews"].insert_one({
        "_id": oid, "owner": owner, "interviewers": list(interviewers), "title": "Old", "role": "Backend",
        "difficulty": "easy", "status": "scheduled", "messages": [], "metadata": metadata, "version": 1,
        "created_at": now, "updated_at": now, "created_day": now.strftime("%Y-%m-%d")})
    client.close()
    return str(oid)


def _raw(mongo_uri: str, interview_id: str) -> dict:
    client = pymongo.MongoClient(mongo_uri)
    try:
        return client.get_default_database()["interviews_interviews"].find_one({"_id": ObjectId(interview_id)})
    finally:
        client.close()


def test_documents_stored_before_are_read_safely_and_repaired_by_migrate(app, test_settings, mongo_uri, tmp_path):
    hostile = _insert_legacy(mongo_uri, HOSTILE)
    plain = _insert_legacy(mongo_uri, {"notes": {"a": 1}})
    empty = _insert_legacy(mongo_uri, {})
    # Even before the migration, nothing in the old sub-document is interpreted.
    reads_everywhere(app, hostile, HOSTILE, [("cand-old", "candidate"), ("int-old", "interviewer")])

    ini = write_ini(tmp_path / "migrate.ini", {**test_settings, "interviewminds.plugins": "interviews"})
    first = run_cli("migrate", ini)
    assert first.returncode == 0, first.stderr
    assert "metadata of 3 interviews stored as JSON text" in first.stdout
    for interview_id, expected in ((hostile, HOSTILE), (plain, {"notes": {"a": 1}}), (empty, {})):
        raw = _raw(mongo_uri, interview_id)
        assert "metadata" not in raw and isinstance(raw["metadata_json"], str)
    reads_everywhere(app, hostile, HOSTILE, [("cand-old", "candidate"), ("int-old", "interviewer")])
    reads_everywhere(app, plain, {"notes": {"a": 1}}, [("cand-old", "candidate")])

    stored = _raw(mongo_uri, hostile)["metadata_json"]
    second = run_cli("migrate", ini)  # idempotent: nothing left to convert
    assert second.returncode == 0, second.stderr
    assert "stored as JSON text" not in second.stdout
    assert _raw(mongo_uri, hostile)["metadata_json"] == stored


def test_an_update_of_a_document_stored_before_converts_it(app, mongo_uri):
    interview_id = _insert_legacy(mongo_uri, {"ats": {"_cls": "User"}}, owner="cand-u", interviewers=())
    updated = app.put_json(f"/api/interview/{interview_id}", {"metadata": {"more": 1}, "version": 1},
                           headers=app.auth("cand-u"), status=200).json
    assert updated["metadata"] == {"ats": {"_cls": "User"}, "more": 1}
    raw = _raw(mongo_uri, interview_id)
    assert "metadata" not in raw and isinstance(raw["metadata_json"], str)
