"""A webhook carries what its owner could read: non-admin owners only get events about themselves."""
from plugins.webhooks.services import event_audience, publish_event
from tests.plugins.webhooks.helpers import messages_of, register

URL = "http://127.0.0.1:9/hook"


def test_events_reach_only_owners_they_concern_and_admins(wh_app):
    app = wh_app()
    hooks = {user: register(app, app.auth(user, role), f"{URL}/{user}")
             for user, role in (("alice", "candidate"), ("bob", "candidate"), ("ivan", "interviewer"),
                                ("olga", "interviewer"), ("root", "admin"))}
    publish_event(app.registry, "interview.completed",
                  {"interviewId": "iv-1", "ownerId": "alice", "interviewers": ["ivan"]}, enqueue=False)
    received = {user: len(messages_of(hook)) for user, hook in hooks.items()}
    assert received == {"alice": 1, "bob": 0, "ivan": 1, "olga": 0, "root": 1}
    publish_event(app.registry, "interview.completed", {"interviewId": "iv-2"}, enqueue=False)  # names nobody
    received = {user: len(messages_of(hook)) for user, hook in hooks.items()}
    assert received == {"alice": 1, "bob": 0, "ivan": 1, "olga": 0, "root": 2}


def test_event_audience_ignores_non_string_names():
    assert event_audience({"ownerId": "a", "userId": {"$ne": 1}, "interviewers": ["b", 3]}) == {"a", "b"}
    assert event_audience({"interviewers": "not-a-list"}) == set()
