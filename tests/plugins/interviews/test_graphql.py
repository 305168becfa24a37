"""The GraphQL API of the interviews plugin: the contract's schema, the lifecycle with events,
permission checks through the context, and a fixed number of queries as interviews grow."""
from __future__ import annotations

import datetime as dt

import pymongo
from bson import ObjectId

from tests.plugins.interviews import query_counter
from tests.plugins.interviews.helpers import NO_RATE_LIMIT, PLUGINS, create, db_name, gql, put
from core.lookup import GRAPHQL, find_service

FIELDS = """id title role difficulty status version ownerId
  owner { id role } interviewers { id role }
  messages { role text time meta } messageCount
  scores { overall competencies { subject score fullMark } } feedback createdAt startedAt completedAt"""

CREATE = """mutation($input: CreateInterviewInput!) { createInterview(input: $input) { %s } }""" % FIELDS
SCORE = """mutation($id: ID!, $score: ScoreInput!) { updateScore(interviewId: $id, score: $score) { %s } }""" % FIELDS
ONE = "query($id: ID!) { interview(id: $id) { %s } }" % FIELDS
MANY = "query($u: String!) { interviews(userId: $u) { %s } }" % FIELDS
ANALYTICS = """query($r: TimeRange!) { analytics(timeRange: $r) { timeRange totalInterviews completedInterviews
  completionRate scoredInterviews averageScore byStatus { scheduled inProgress completed terminated }
  scoreDistribution { bucket min max count } } }"""


def test_root_fields_match_the_api_reference(app):
    from graphql import print_type

    schema = find_service(app.registry, GRAPHQL)
    query = schema._schema.query_type
    mutation = schema._schema.mutation_type
    printed = {name: str(field.type) + "(" + ", ".join(f"{a}: {arg.type}" for a, arg in field.args.items()) + ")"
               for name, field in {**query.fields, **mutation.fields}.items()}
    assert printed["interviews"] == "[Interview!]!(userId: String!)"
    assert printed["interview"] == "Interview(id: ID!)"
    assert printed["analytics"] == "AnalyticsData!(timeRange: TimeRange!)"
    assert printed["createInterview"] == "Interview!(input: CreateInterviewInput!)"
    assert printed["updateScore"] == "Interview!(interviewId: ID!, score: ScoreInput!)"
    assert list(schema._schema.type_map["TimeRange"].values) == [
        "LAST_24_HOURS", "LAST_7_DAYS", "LAST_30_DAYS", "LAST_90_DAYS", "ALL_TIME"]
    assert "enum TimeRange" in print_type(schema._schema.type_map["TimeRange"])


def test_lifecycle_over_graphql_with_events(app, events):
    cand, boss = "cand-g1", "int-g1"
    made = gql(app, CREATE, {"input": {"title": "GraphQL screen", "role": "Frontend Engineer", "difficulty": "hard",
                                       "candidateId": cand, "metadata": {"ats": {"ref": "A-1"}}}}, boss, "interviewer")
    interview = made["data"]["createInterview"]
    assert interview["status"] == "scheduled" and interview["ownerId"] == cand
    assert interview["owner"] == {"id": cand, "role": "candidate"}
    assert interview["interviewers"] == [{"id": boss, "role": "interviewer"}]

    # Status moves are REST (the contract's Mutation has no status field); chat starts it.
    app.post_json("/api/chat", {"interviewId": interview["id"], "message": "Hi, ready."}, headers=app.auth(cand))
    current = app.get(f"/api/interview/{interview['id']}", headers=app.auth(cand)).json
    put(app, current, boss, "interviewer", status="completed")

    scored = gql(app, SCORE, {"id": interview["id"], "score": {
        "overall": 91, "feedback": "Great", "competencies": [{"subject": "React", "score": 9, "fullMark": 10}]}},
        boss, "interviewer")
    result = scored["data"]["updateScore"]
    assert result["scores"] == {"overall": 91.0, "competencies": [{"subject": "React", "score": 9.0, "fullMark": 10.0}]}
    assert result["feedback"] == "Great" and result["status"] == "completed"

    read = gql(app, ONE, {"id": interview["id"]}, cand)["data"]["interview"]
    assert read["messageCount"] == 2 and [m["role"] for m in read["messages"]] == ["candidate", "interviewer"]
    listed = gql(app, MANY, {"u": cand}, cand)["data"]["interviews"]
    assert [i["id"] for i in listed] == [interview["id"]]
    assert events.names() == ["interview.created", "interview.started", "interview.completed", "score.generated"]
    assert dict(events.RECEIVED)["score.generated"]["overall"] == 91.0

    analytics = gql(app, ANALYTICS, {"r": "LAST_7_DAYS"}, boss, "interviewer")["data"]["analytics"]
    assert analytics["totalInterviews"] == 1 and analytics["completedInterviews"] == 1
    assert analytics["completionRate"] == 1.0 and analytics["averageScore"] == 91.0
    assert [b["count"] for b in analytics["scoreDistribution"] if b["bucket"] == "90-100"] == [1]


def test_permission_checks_through_the_context(app):
    mine = create(app, "cand-g2")
    other = create(app, "cand-g3")
    anon = gql(app, MANY, {"u": "cand-g2"})
    assert anon["data"] is None and anon["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # A candidate sees their own; another's interview is null and absent from lists.
    assert gql(app, ONE, {"id": mine["id"]}, "cand-g2")["data"]["interview"]["id"] == mine["id"]
    assert gql(app, ONE, {"id": other["id"]}, "cand-g2")["data"]["interview"] is None
    assert gql(app, MANY, {"u": "cand-g3"}, "cand-g2")["data"]["interviews"] == []
    # Candidates may not score or read analytics.
    denied = gql(app, SCORE, {"id": mine["id"], "score": {"overall": 100}}, "cand-g2")
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert gql(app, ANALYTICS, {"r": "ALL_TIME"}, "cand-g2")["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # Interviewers and admins see everyone's (interviewer_reads_any defaults to true).
    assert gql(app, ONE, {"id": other["id"]}, "int-g2", "interviewer")["data"]["interview"]["id"] == other["id"]
    assert len(gql(app, MANY, {"u": "cand-g3"}, "adm-g", "admin")["data"]["interviews"]) == 1
    # Bad input: malformed ids, operators in JSON metadata, wrong enum values.
    bad_id = gql(app, ONE, {"id": "not-an-id"}, "cand-g2")
    assert bad_id["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    operator = gql(app, CREATE, {"input": {"title": "t", "role": "r", "difficulty": "easy",
                                           "metadata": {"x": {"$gt": ""}}}}, "cand-g2")
    assert operator["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT" and "$gt" in operator["errors"][0]["message"]
    wrong = gql(app, CREATE, {"input": {"title": "t", "role": "r", "difficulty": "extreme"}}, "cand-g2")
    assert wrong["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert gql(app, ANALYTICS, {"r": "LAST_YEAR"}, "adm-g", "admin")["errors"]


def test_interviewer_sees_only_assigned_when_reads_any_is_off(make_app, events):
    app = make_app(plugins=PLUGINS, **NO_RATE_LIMIT, **{"auth.interviewer_reads_any": "false"})
    assigned = create(app, "int-g4", "interviewer", candidateId="cand-g4")
    other = create(app, "cand-g5")
    assert gql(app, ONE, {"id": assigned["id"]}, "int-g4", "interviewer")["data"]["interview"]["id"] == assigned["id"]
    assert gql(app, ONE, {"id": other["id"]}, "int-g4", "interviewer")["data"]["interview"] is None
    analytics = gql(app, ANALYTICS, {"r": "ALL_TIME"}, "int-g4", "interviewer")["data"]["analytics"]
    assert analytics["totalInterviews"] == 1


def _seed(app, owner: str, count: int, interviewers: list[str]) -> None:
    """Insert ``count`` interviews with messages and scores straight into the collection."""
    now = dt.datetime.now(dt.timezone.utc)
    docs = []
    for i in range(count):
        docs.append({
            "_id": ObjectId(), "owner": owner, "interviewers": interviewers[i % len(interviewers):][:2],
            "title": f"Interview {i}", "role": "Backend Engineer", "difficulty": "easy", "status": "completed",
            "messages": [{"role": "candidate", "text": f"answer {i}", "time": now, "meta": {}},
                         {"role": "interviewer", "text": "next?", "time": now, "meta": {"kind": "question"}}],
            "scores": {"overall": 70.0, "competencies": [{"subject": "SQL", "score": 7.0, "full_mark": 10.0}]},
            "metadata": {}, "version": 1, "created_at": now, "updated_at": now, "created_day": now.strftime("%Y-%m-%d"),
            "score_bucket": 70, "score_overall": 70.0,
        })
    client = pymongo.MongoClient(app.registry.settings["interviewminds.mongo.uri"])
    client.get_default_database()["interviews_interviews"].insert_many(docs)
    client.close()


def test_query_count_stays_fixed_as_interviews_grow(make_app, events):
    query_counter.install()  # before make_app: pymongo copies global listeners into new clients
    app = make_app(plugins=PLUGINS, **NO_RATE_LIMIT)
    reviewers = [f"int-q{i}" for i in range(7)]
    for who in reviewers:
        app.token(who, "interviewer")  # store their role, so owner/interviewers resolve real users
    headers = app.auth("adm-q", "admin")

    def count_for(owner: str) -> tuple[int, list[str], int]:
        app.post_json("/graphql", {"query": "{ me { role } }"}, headers=headers)  # the caller's role, cached
        with query_counter.counting(db_name(app)) as commands:
            body = app.post_json("/graphql", {"query": MANY, "variables": {"u": owner}}, headers=headers).json
        assert "errors" not in body, body
        interviews = body["data"]["interviews"]
        assert all(i["interviewers"] and i["messages"] and i["scores"] for i in interviews)
        assert {p["role"] for i in interviews for p in i["interviewers"]} == {"interviewer"}
        return len(interviews), query_counter.queries(commands), len(commands)

    _seed(app, "cand-small", 3, reviewers)
    _seed(app, "cand-large", 30, reviewers)
    small_n, small_queries, _ = count_for("cand-small")
    large_n, large_queries, _ = count_for("cand-large")
    assert (small_n, large_n) == (3, 30)
    assert small_queries == large_queries, (small_queries, large_queries)
    # the interviews and one batched load of their people (the caller's role is cached per process)
    assert small_queries.count("find") == 2 and len(small_queries) == 2
