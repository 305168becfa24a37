"""REST routes: validation (400 with a reason), SSRF refusals, ownership and the permission
matrix, updates, deletion, paging and limits."""
from __future__ import annotations

import pytest

from core.events import emit
from plugins.webhooks.models import Attempt, Message
from plugins.webhooks.signing import generate_secret
from tests.plugins.webhooks.helpers import messages_of, register, run_jobs
from tests.support.receiver import Receiver
from core.lookup import OUTBOUND, find_service

URL = "http://127.0.0.1:9/hook"  # nothing listens there; registration never connects


def error_of(response) -> str:
    return response.json["error"]


# -- bad input -------------------------------------------------------------------------------

BAD_REGISTRATIONS = [
    ({"url": "ftp://127.0.0.1/x", "events": ["interview.completed"]}, "scheme must be http or https"),
    ({"url": "javascript:alert(1)", "events": ["interview.completed"]}, "scheme must be http or https"),
    ({"url": "file:///etc/passwd", "events": ["interview.completed"]}, "scheme must be http or https"),
    ({"url": "http://user:pw@127.0.0.1/x", "events": ["interview.completed"]}, "must not contain credentials"),
    ({"url": "http://:pw@127.0.0.1/x", "events": ["interview.completed"]}, "must not contain credentials"),
    ({"url": "http://127.0.0.1/" + "a" * 2100, "events": ["interview.completed"]}, "longer than 2048"),
    ({"url": "http://127.0.0.1/a b", "events": ["interview.completed"]}, "whitespace"),
    ({"url": "", "events": ["interview.completed"]}, "url"),
    ({"url": 7, "events": ["interview.completed"]}, "url: Not a valid string"),
    ({"events": ["interview.completed"]}, "url: Missing data"),
    ({"url": URL, "events": ["interview.exploded"]}, "unknown event 'interview.exploded'"),
    ({"url": URL, "events": ["interview.completed", "sample.happened"]}, "unknown event 'sample.happened'"),
    ({"url": URL, "events": []}, "subscribe to at least one event"),
    ({"url": URL, "events": "interview.completed"}, "events: Not a valid list"),
    ({"url": URL}, "events: Missing data"),
    ({"url": URL, "events": ["interview.completed"], "secret": "hunter2"}, "must start with 'whsec_'"),
    ({"url": URL, "events": ["interview.completed"], "secret": "whsec_c2hvcnQ="}, "24..64 bytes"),
    ({"url": URL, "events": ["interview.completed"], "secret": "whsec_abc$def"}, "standard base64"),
    ({"url": URL, "events": ["interview.completed"], "description": "x" * 501}, "description: at most 500"),
    ({"url": URL, "events": ["interview.completed"], "owner": "mallory"}, "owner"),
]


@pytest.mark.parametrize("body,reason", BAD_REGISTRATIONS, ids=[r for _, r in BAD_REGISTRATIONS])
def test_bad_registration_is_400_with_a_reason(wh_app, body, reason):
    app = wh_app()
    response = app.post_json("/api/webhooks/register", body, headers=app.auth("alice"), status=400)
    assert reason in error_of(response)
    assert Message.objects.count() == 0


def test_too_many_events_is_400(wh_app):
    app = wh_app(**{"webhooks.max_events": 2})
    body = {"url": URL, "events": ["interview.completed", "interview.started", "score.generated"]}
    response = app.post_json("/api/webhooks/register", body, headers=app.auth("alice"), status=400)
    assert "at most 2 events per endpoint, not 3" in error_of(response)


def test_over_long_url_limit_is_a_setting(wh_app):
    app = wh_app(**{"webhooks.max_url_length": 40})
    body = {"url": "http://127.0.0.1:9/" + "a" * 30, "events": ["interview.completed"]}
    response = app.post_json("/api/webhooks/register", body, headers=app.auth("alice"), status=400)
    assert "url: longer than 40 characters" in error_of(response)


def test_malformed_json_and_wrong_content_type(wh_app):
    app = wh_app()
    headers = app.auth("alice")
    app.post("/api/webhooks/register", "{nope", headers={**headers, "Content-Type": "application/json"},
             status=400)
    app.post("/api/webhooks/register", "url=x", headers=headers, status=415)


# -- SSRF: every blocked range, as a literal and as the answer for a host name ----------------

BLOCKED = [
    ("127.0.0.1", "loopback"),
    ("127.9.9.9", "loopback"),
    ("::1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.5.4", "private"),
    ("192.168.0.10", "private"),
    ("169.254.169.254", "link-local"),  # cloud metadata
    ("169.254.10.1", "link-local"),
    ("fe80::1", "link-local"),
    ("100.64.1.1", "carrier-grade NAT"),
    ("224.0.0.251", "multicast"),
    ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("fd00::1", "unique-local"),
    ("64:ff9b::a9fe:a9fe", "NAT64"),
    ("64:ff9b:1::1", "NAT64"),
    ("0.0.0.0", "this network"),
    ("::ffff:10.0.0.1", "private"),  # IPv4-mapped: judged by the IPv4 address
]


def literal(address: str) -> str:
    return f"[{address}]" if ":" in address else address


@pytest.fixture
def strict_app(wh_app):
    """An app with the production outbound policy: no allow-listed ranges."""
    return wh_app(**{"outbound.allow_cidrs": ""})


@pytest.mark.parametrize("address,label", BLOCKED, ids=[f"{a} {l}" for a, l in BLOCKED])
def test_blocked_address_is_refused(strict_app, address, label):
    body = {"url": f"https://{literal(address)}/hook", "events": ["interview.completed"]}
    response = strict_app.post_json("/api/webhooks/register", body, headers=strict_app.auth("alice"), status=400)
    assert "blocked range" in error_of(response) and label in error_of(response)


@pytest.mark.parametrize("address,label", BLOCKED, ids=[f"{a} {l}" for a, l in BLOCKED])
def test_host_name_resolving_to_blocked_address_is_refused(strict_app, address, label):
    asked = []

    def resolver(host, port):  # the policy's resolver seam: no real DNS in tests
        asked.append((host, port))
        return [address]

    find_service(strict_app.registry, OUTBOUND).resolver = resolver
    body = {"url": "https://hooks.example.com/hook", "events": ["interview.completed"]}
    response = strict_app.post_json("/api/webhooks/register", body, headers=strict_app.auth("alice"), status=400)
    assert asked == [("hooks.example.com", 443)]
    assert f"hooks.example.com -> " in error_of(response) and label in error_of(response)


def test_one_blocked_answer_among_public_ones_is_refused(strict_app):
    find_service(strict_app.registry, OUTBOUND).resolver = lambda host, port: ["93.184.215.14", "10.0.0.7"]
    body = {"url": "https://hooks.example.com/", "events": ["interview.completed"]}
    response = strict_app.post_json("/api/webhooks/register", body, headers=strict_app.auth("alice"), status=400)
    assert "10.0.0.7" in error_of(response)


def test_port_outside_the_allow_list_is_refused(strict_app):
    find_service(strict_app.registry, OUTBOUND).resolver = lambda host, port: ["93.184.215.14"]
    for url in ("http://93.184.215.14:8080/", "https://hooks.example.com:6379/"):
        body = {"url": url, "events": ["interview.completed"]}
        response = strict_app.post_json("/api/webhooks/register", body, headers=strict_app.auth("alice"),
                                        status=400)
        assert "is not allowed (allowed: 80, 443)" in error_of(response)


def test_public_host_name_is_accepted_without_connecting(strict_app):
    find_service(strict_app.registry, OUTBOUND).resolver = lambda host, port: ["93.184.215.14"]
    webhook = register(strict_app, strict_app.auth("alice"), "https://hooks.example.com/in")
    assert webhook["url"] == "https://hooks.example.com/in" and webhook["secret"].startswith("whsec_")


def test_update_checks_the_url_again(strict_app):
    find_service(strict_app.registry, OUTBOUND).resolver = lambda host, port: ["93.184.215.14"]
    owner = strict_app.auth("alice")
    webhook = register(strict_app, owner, "https://hooks.example.com/in")
    response = strict_app.patch_json(f"/api/webhooks/{webhook['id']}", {"url": "http://169.254.169.254/"},
                                     headers=owner, status=400)
    assert "link-local" in error_of(response)


# -- the permission matrix --------------------------------------------------------------------

def routes(webhook_id: str, message_id: str):
    return [
        ("POST", "/api/webhooks/register", {"url": URL, "events": ["interview.completed"]}),
        ("GET", "/api/webhooks", None),
        ("GET", f"/api/webhooks/{webhook_id}", None),
        ("PATCH", f"/api/webhooks/{webhook_id}", {"description": "x"}),
        ("PUT", f"/api/webhooks/{webhook_id}", {"description": "x"}),
        ("POST", f"/api/webhooks/{webhook_id}/rotate-secret", {}),
        ("POST", f"/api/webhooks/{webhook_id}/test", {}),
        ("GET", f"/api/webhooks/{webhook_id}/deliveries", None),
        ("POST", f"/api/webhooks/messages/{message_id}/redeliver", {}),
        ("DELETE", f"/api/webhooks/{webhook_id}", None),
    ]


def call(app, method, path, body, headers=None, status="*"):
    if method in ("GET", "DELETE"):
        return app.request(path, method=method, headers=headers or {}, status=status, expect_errors=True)
    return getattr(app, f"{method.lower()}_json")(path, body, headers=headers or {}, status=status)


@pytest.fixture
def alices(wh_app):
    """An app where alice (a candidate) owns one webhook with one failed message."""
    app = wh_app(**{"webhooks.schedule": "0s"})
    alice = app.auth("alice", "candidate")
    with Receiver([500]) as receiver:
        webhook = register(app, alice, receiver.url("/"))
        emit(app.registry, "interview.completed", {"n": 1, "ownerId": "alice"})
        run_jobs(app)
    (message,) = messages_of(webhook)
    assert message.status == "failed"
    return app, webhook, str(message.id)


def test_anonymous_gets_401_everywhere(alices):
    app, webhook, message_id = alices
    for method, path, body in routes(webhook["id"], message_id):
        response = call(app, method, path, body)
        assert response.status_int == 401, (method, path, response.status)
    assert len(app.get("/api/webhooks", headers=app.auth("alice")).json["webhooks"]) == 1


def test_invalid_token_gets_401(alices):
    app, webhook, _ = alices
    app.get("/api/webhooks", headers={"Authorization": "Bearer not-a-token"}, status=401)


@pytest.mark.parametrize("role", ["candidate", "interviewer"])
def test_other_users_endpoints_are_not_found(alices, role):
    app, webhook, message_id = alices
    bob = app.auth("bob", role)
    for method, path, body in routes(webhook["id"], message_id):
        response = call(app, method, path, body, headers=bob)
        if path in ("/api/webhooks/register", "/api/webhooks"):
            assert response.status_int in (200, 201)
        else:
            assert response.status_int == 404, (method, path, response.status)
            assert response.json["error"] in ("webhook not found", "message not found")
    listed = app.get("/api/webhooks?owner=alice", headers=bob).json["webhooks"]
    assert [w["owner"] for w in listed] == ["bob"]  # the owner filter is for managers only
    mine = app.get(f"/api/webhooks/{webhook['id']}", headers=app.auth("alice", "candidate")).json
    assert mine["description"] == "" and mine["active"] is True  # untouched by bob


def test_owner_can_use_every_route(alices):
    app, webhook, message_id = alices
    alice = app.auth("alice", "candidate")
    for method, path, body in routes(webhook["id"], message_id):
        response = call(app, method, path, body, headers=alice)
        assert response.status_int in (200, 201, 202, 204), (method, path, response.status, response.body)


def test_admin_sees_and_manages_every_endpoint(alices):
    app, webhook, message_id = alices
    register(app, app.auth("bob", "candidate"), URL)
    admin = app.auth("root", "admin")
    owners = sorted(w["owner"] for w in app.get("/api/webhooks", headers=admin).json["webhooks"])
    assert owners == ["alice", "bob"]
    only = app.get("/api/webhooks?owner=alice", headers=admin).json["webhooks"]
    assert [w["id"] for w in only] == [webhook["id"]]
    assert app.get(f"/api/webhooks/{webhook['id']}", headers=admin).json["owner"] == "alice"
    log = app.get(f"/api/webhooks/{webhook['id']}/deliveries", headers=admin).json["deliveries"]
    assert [d["id"] for d in log] == [message_id]
    app.patch_json(f"/api/webhooks/{webhook['id']}", {"description": "by admin"}, headers=admin, status=200)
    app.delete(f"/api/webhooks/{webhook['id']}", headers=admin, status=204)
    app.get(f"/api/webhooks/{webhook['id']}", headers=app.auth("alice", "candidate"), status=404)


# -- updates, deletion, paging, limits --------------------------------------------------------

def test_update_fields_and_deactivation(wh_app):
    app = wh_app()
    owner = app.auth("alice")
    webhook = register(app, owner, URL, description="first")
    emit(app.registry, "interview.completed", {"n": 1, "ownerId": "alice"})  # pending: no worker runs here
    changed = app.patch_json(f"/api/webhooks/{webhook['id']}", {
        "url": "http://127.0.0.1:9/v2", "events": ["score.generated", "score.generated"],
        "description": "second"}, headers=owner).json
    assert (changed["url"], changed["events"], changed["description"]) == (
        "http://127.0.0.1:9/v2", ["score.generated"], "second")
    put = app.put_json(f"/api/webhooks/{webhook['id']}", {"events": ["interview.started"]}, headers=owner).json
    assert put["events"] == ["interview.started"] and put["url"] == "http://127.0.0.1:9/v2"
    off = app.patch_json(f"/api/webhooks/{webhook['id']}", {"active": False}, headers=owner).json
    assert off["active"] is False and off["disabledReason"] == "disabled by alice"
    (message,) = messages_of(webhook)
    assert message.status == "abandoned"  # pending messages of a disabled endpoint
    for bad, reason in (({}, "at least one of"), ({"active": "yes"}, "active"),
                        ({"events": ["nope.never"]}, "unknown event"), ({"secret": generate_secret()}, "secret")):
        response = app.patch_json(f"/api/webhooks/{webhook['id']}", bad, headers=owner, status=400)
        assert reason in error_of(response)
    app.post(f"/api/webhooks/{webhook['id']}/test", headers=owner, status=409)  # disabled
    app.post(f"/api/webhooks/messages/{message.id}/redeliver", headers=owner, status=409)


def test_delete_removes_the_endpoint_its_messages_and_log(wh_app):
    app = wh_app(**{"webhooks.schedule": "0s"})
    owner = app.auth("alice")
    with Receiver([500]) as receiver:
        webhook = register(app, owner, receiver.url("/"))
        emit(app.registry, "interview.completed", {"n": 1, "ownerId": "alice"})
        run_jobs(app)
    assert Attempt.objects.count() == 2
    app.delete(f"/api/webhooks/{webhook['id']}", headers=owner, status=204)
    app.get(f"/api/webhooks/{webhook['id']}", headers=owner, status=404)
    app.delete(f"/api/webhooks/{webhook['id']}", headers=owner, status=404)
    assert Message.objects.count() == 0 and Attempt.objects.count() == 0
    emit(app.registry, "interview.completed", {"n": 2, "ownerId": "alice"})
    assert Message.objects.count() == 0


def test_bad_ids_are_400(wh_app):
    app = wh_app()
    owner = app.auth("alice")
    for path in ("/api/webhooks/not-an-id", "/api/webhooks/123/deliveries"):
        assert "is not a valid id" in error_of(app.get(path, headers=owner, status=400))
    app.post("/api/webhooks/messages/zzz/redeliver", headers=owner, status=400)
    app.get("/api/webhooks/" + "0" * 24, headers=owner, status=404)


def test_deliveries_are_paged_newest_first(wh_app):
    app = wh_app()
    owner = app.auth("alice")
    webhook = register(app, owner, URL)
    for n in range(5):
        emit(app.registry, "interview.completed", {"n": n, "ownerId": "alice"})
    created = [str(m.id) for m in messages_of(webhook)][::-1]  # newest first
    pages, cursor = [], None
    while True:
        query = f"?limit=2&cursor={cursor}" if cursor else "?limit=2"
        page = app.get(f"/api/webhooks/{webhook['id']}/deliveries{query}", headers=owner).json
        pages.append([d["id"] for d in page["deliveries"]])
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert pages == [created[0:2], created[2:4], created[4:5]]
    everything = app.get(f"/api/webhooks/{webhook['id']}/deliveries", headers=owner).json
    assert len(everything["deliveries"]) == 5 and everything["nextCursor"] is None
    first = everything["deliveries"][0]
    assert first["msgId"].startswith("msg_") and first["eventType"] == "interview.completed"
    assert first["status"] == "pending" and first["log"] == []
    pending = app.get(f"/api/webhooks/{webhook['id']}/deliveries?status=pending", headers=owner).json
    done = app.get(f"/api/webhooks/{webhook['id']}/deliveries?status=succeeded", headers=owner).json
    assert (len(pending["deliveries"]), len(done["deliveries"])) == (5, 0)
    for query, reason in (("?limit=0", "limit"), ("?limit=101", "limit"), ("?limit=x", "limit"),
                          ("?cursor=nope", "cursor"), ("?status=lost", "status"), ("?page=2", "page")):
        response = app.get(f"/api/webhooks/{webhook['id']}/deliveries{query}", headers=owner, status=400)
        assert reason in error_of(response)


def test_endpoint_limit_per_user(wh_app):
    app = wh_app(**{"webhooks.max_endpoints": 2})
    alice = app.auth("alice")
    register(app, alice, URL)
    register(app, alice, URL)
    response = app.post_json("/api/webhooks/register", {"url": URL, "events": ["interview.completed"]},
                             headers=alice, status=409)
    assert "2 endpoints" in error_of(response)
    register(app, app.auth("bob"), URL)  # the limit is per user


def test_register_response_shape(wh_app):
    app = wh_app()
    response = app.post_json("/api/webhooks/register", {
        "url": URL, "events": ["interview.completed", "score.generated"], "description": "ATS"},
        headers=app.auth("alice"), status=201)
    body = response.json
    assert response.headers["Location"].endswith(f"/api/webhooks/{body['id']}")
    assert body["events"] == ["interview.completed", "score.generated"] and body["description"] == "ATS"
    assert body["active"] is True and body["owner"] == "alice"
    assert body["stats"] == {"messages": 0, "delivered": 0, "failed": 0, "attempts": 0, "failedAttempts": 0,
                             "meanLatencyMs": None, "lastAttemptAt": None, "lastSuccessAt": None,
                             "lastFailureAt": None, "lastStatusCode": None, "lastError": None}
    listed = app.get("/api/webhooks", headers=app.auth("alice")).json["webhooks"]
    assert "secret" not in listed[0] and listed[0]["id"] == body["id"]
