"""GraphQL fields ``webhooks`` and ``webhookDeliveries(webhookId)`` with the REST ownership rules."""
from __future__ import annotations

from core.events import emit
from tests.plugins.webhooks.helpers import register, run_jobs
from tests.support.receiver import Receiver

WEBHOOKS = "{ webhooks { id owner url events active disabledReason stats { messages delivered attempts lastStatusCode } } }"
DELIVERIES = """query($id: ID!, $limit: Int) { webhookDeliveries(webhookId: $id, limit: $limit) {
  id msgId eventType status attemptCount deliveredAt
  attempts { number statusCode outcome latencyMs responseExcerpt error attemptedAt } } }"""


def gql(app, query, headers=None, **variables):
    return app.post_json("/graphql", {"query": query, "variables": variables}, headers=headers or {}).json


def test_webhooks_and_their_deliveries(wh_app):
    app = wh_app(**{"webhooks.schedule": "0s"})
    alice = app.auth("alice", "candidate")
    with Receiver([500, 200]) as receiver:
        webhook = register(app, alice, receiver.url("/in"), ["interview.completed", "score.generated"])
        emit(app.registry, "interview.completed", {"n": 1, "ownerId": "alice"})
        run_jobs(app)
    listed = gql(app, WEBHOOKS, alice)["data"]["webhooks"]
    assert listed == [{"id": webhook["id"], "owner": "alice", "url": receiver.url("/in"),
                       "events": ["interview.completed", "score.generated"], "active": True,
                       "disabledReason": None,
                       "stats": {"messages": 1, "delivered": 1, "attempts": 2, "lastStatusCode": 200}}]
    (delivery,) = gql(app, DELIVERIES, alice, id=webhook["id"])["data"]["webhookDeliveries"]
    assert (delivery["eventType"], delivery["status"], delivery["attemptCount"]) == (
        "interview.completed", "succeeded", 2)
    assert delivery["msgId"].startswith("msg_") and delivery["deliveredAt"]
    assert [(a["number"], a["statusCode"], a["outcome"], a["responseExcerpt"]) for a in delivery["attempts"]] == [
        (1, 500, "retry", "ok"), (2, 200, "success", "ok")]


def test_graphql_ownership_and_authentication(wh_app):
    app = wh_app()
    alice = app.auth("alice", "candidate")
    webhook = register(app, alice, "http://127.0.0.1:9/")
    register(app, app.auth("bob", "interviewer"), "http://127.0.0.1:9/bob")
    for _ in range(3):
        emit(app.registry, "interview.completed", {"ownerId": "alice"})
    anonymous = gql(app, WEBHOOKS)
    assert anonymous["data"] is None and "authentication required" in anonymous["errors"][0]["message"]
    bob = app.auth("bob", "interviewer")
    assert [w["owner"] for w in gql(app, WEBHOOKS, bob)["data"]["webhooks"]] == ["bob"]
    hidden = gql(app, DELIVERIES, bob, id=webhook["id"])
    assert hidden["data"] is None and "webhook not found" in hidden["errors"][0]["message"]
    admin = app.auth("root", "admin")
    assert sorted(w["owner"] for w in gql(app, WEBHOOKS, admin)["data"]["webhooks"]) == ["alice", "bob"]
    page = gql(app, DELIVERIES, admin, id=webhook["id"], limit=2)["data"]["webhookDeliveries"]
    assert len(page) == 2 and all(d["status"] == "pending" and d["attempts"] == [] for d in page)
    too_many = gql(app, DELIVERIES, admin, id=webhook["id"], limit=500)
    assert "limit must be between 1 and 100" in too_many["errors"][0]["message"]
    bad_id = gql(app, DELIVERIES, admin, id="nope")
    assert "not a valid id" in bad_id["errors"][0]["message"]
