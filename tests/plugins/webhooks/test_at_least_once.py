"""At-least-once delivery: messages survive a worker killed mid-send and a lost enqueue."""
from __future__ import annotations

import time

from standardwebhooks import Webhook

from core.events import emit
from core.clock import utcnow
from plugins.webhooks.models import Attempt, Message
from plugins.webhooks.services import publish_event
from tests.plugins.webhooks.helpers import messages_of, register, wait_until
from tests.support.receiver import Receiver, Reply


def test_worker_killed_mid_delivery_leaves_the_message_to_another_worker(wh_app, worker):
    # Timeout 3 s < lease 4 s: the first request hangs (the receiver delays its answer) and
    # the worker is SIGKILLed while it is in flight.
    app = wh_app(**{"webhooks.timeout": 3, "webhooks.lease": 4})
    owner = app.auth("alice", "candidate")
    with Receiver([Reply.slow(30), 200]) as receiver:
        webhook = register(app, owner, receiver.url("/"))
        for n in range(3):
            emit(app.registry, "interview.completed", {"n": n, "ownerId": "alice"})
        messages = messages_of(webhook)
        assert len(messages) == 3 and all(m.status == "pending" for m in messages)

        first = worker()
        (in_flight,) = receiver.wait_for(1, timeout=20)
        first.kill()  # SIGKILL to the worker and its work horse while the request is open
        victim = Message.objects(msg_id=in_flight.headers["webhook-id"]).first()
        assert victim.status == "sending" and victim.lease_until is not None
        # Nothing more happens while nobody works: the lease must expire first.
        wait_until(lambda: utcnow() > victim.lease_until, timeout=10, what="the lease to expire")

        second = worker(burst=True)  # runs the reaper (a periodic job) and every delivery
        assert second.wait(60) == 0, second.output()
        requests = receiver.requests

    statuses = {m.msg_id: Message.objects(id=m.id).first().status for m in messages}
    assert set(statuses.values()) == {"succeeded"}, statuses  # nothing lost
    ids = [r.headers["webhook-id"] for r in requests]
    assert sorted(set(ids)) == sorted(statuses)  # every message reached the receiver
    assert ids.count(victim.msg_id) == 2  # the killed attempt and the redelivery
    again = [r for r in requests if r.headers["webhook-id"] == victim.msg_id]
    assert again[0].body == again[1].body  # same id, same body: the receiver can deduplicate
    Webhook(webhook["secret"]).verify(again[1].body, again[1].headers)
    log = [(a.number, a.outcome) for a in Attempt.objects(message=victim.id).order_by("number")]
    assert log == [(1, "lost"), (2, "success")]


def test_stored_message_whose_enqueue_was_lost_is_delivered_by_the_reaper(wh_app, worker):
    app = wh_app()
    owner = app.auth("alice", "candidate")
    with Receiver() as receiver:
        webhook = register(app, owner, receiver.url("/"))
        # Stored but never enqueued: what happens when Redis fails right after the insert.
        (message,) = publish_event(app.registry, "interview.completed", {"n": 1, "ownerId": "alice"}, enqueue=False)
        assert message.job_id is None
        time.sleep(0.01)
        process = worker(burst=True)
        assert process.wait(60) == 0, process.output()
        (request,) = receiver.wait_for(1)
    assert request.headers["webhook-id"] == message.msg_id
    assert Message.objects(id=message.id).first().status == "succeeded"
    assert messages_of(webhook)[0].job_id is not None


def test_reaper_leaves_messages_with_a_live_job_alone(wh_app, worker):
    # A message waiting for its scheduled retry is not enqueued twice.
    app = wh_app(**{"webhooks.schedule": "30s"})
    owner = app.auth("alice", "candidate")
    with Receiver([500]) as receiver:
        webhook = register(app, owner, receiver.url("/"))
        emit(app.registry, "interview.completed", {"n": 1, "ownerId": "alice"})
        process = worker(burst=True)
        assert process.wait(60) == 0, process.output()
        (message,) = messages_of(webhook)
        assert message.status == "pending" and message.next_attempt_at > utcnow()
        # Make it overdue in Mongo while its RQ job is still scheduled: the reaper must skip it.
        Message.objects(id=message.id).update_one(set__next_attempt_at=utcnow())
        process = worker(burst=True)
        assert process.wait(60) == 0, process.output()
        assert len(receiver.requests) == 1
    assert Message.objects(id=message.id).first().job_id == message.job_id
