"""Finding 7: SSRF through IPv6 forms that carry an IPv4 address. Every form that embeds a blocked
IPv4 address is refused (and says which range), as a URL literal, as a DNS answer and at the webhook
API; an allow-listed IPv4 range covers its embedded forms the same way, and no other range."""
from __future__ import annotations

import pytest

from core.lookup import OUTBOUND, find_service
from core.outbound import OutboundPolicy, OutboundURLError, safe_request
from plugins.webhooks.secrets import SecretBox
from tests.support.receiver import Receiver

# (IPv6 address, the range of the IPv4 address it carries)
EMBEDDED = [
    ("::ffff:0:a9fe:a9fe", "link-local"),  # IPv4-translated (::ffff:0:0:0/96): cloud metadata
    ("::ffff:0:7f00:1", "loopback"),  # IPv4-translated 127.0.0.1
    ("::ffff:0:a00:1", "private"),  # IPv4-translated 10.0.0.1
    ("::ffff:0:c0a8:101", "private"),  # IPv4-translated 192.168.1.1
    ("::ffff:0:6440:1", "carrier-grade NAT"),  # IPv4-translated 100.64.0.1
    ("::ffff:a9fe:a9fe", "link-local"),  # IPv4-mapped
    ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 well-known prefix
    ("64:ff9b::7f00:1", "loopback"),
    ("2002:a9fe:a9fe::1", "link-local"),  # 6to4
    ("2002:a00:1::", "private"),
    ("::a9fe:a9fe", "link-local"),  # IPv4-compatible
    ("2001:0:7f00:1:8000:f227:5601:fefe", "loopback"),  # Teredo, server 127.0.0.1 (client 169.254.1.1)
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),  # Teredo, client 127.0.0.1
]


def no_dns(host, port):
    raise AssertionError("no DNS for a literal")


@pytest.mark.parametrize("address,label", EMBEDDED, ids=[a for a, _ in EMBEDDED])
def test_every_ipv6_form_of_a_blocked_ipv4_address_is_refused_and_names_its_range(address, label):
    policy = OutboundPolicy(resolver=no_dns)
    with pytest.raises(OutboundURLError, match="blocked range") as refused:
        policy.check_url(f"http://[{address}]/latest/meta-data/")
    assert label in refused.value.reason

    resolving = OutboundPolicy(resolver=lambda host, port: [address])
    with pytest.raises(OutboundURLError, match="blocked range") as refused:
        resolving.check_url("https://hooks.example.com/in")
    assert label in refused.value.reason and "hooks.example.com -> " in refused.value.reason


# Forms that carry some address outside 127.0.0.0/8 (the Teredo one: server 127.0.0.1, client 169.254.1.1).
NOT_ONLY_LOOPBACK = [a for a, label in EMBEDDED if label != "loopback"] + ["2001:0:7f00:1:8000:f227:5601:fefe"]


@pytest.mark.parametrize("address", NOT_ONLY_LOOPBACK)
def test_a_loopback_allow_list_does_not_open_embedded_forms_of_other_ranges(address):
    policy = OutboundPolicy(allow_cidrs="127.0.0.0/8", resolver=no_dns)
    with pytest.raises(OutboundURLError, match="blocked range"):
        policy.check_url(f"http://[{address}]:8080/")


def test_a_loopback_allow_list_covers_the_embedded_forms_of_loopback_consistently():
    policy = OutboundPolicy(allow_cidrs="127.0.0.0/8", resolver=no_dns)
    # Spellings of 127.0.0.1 are vetted and connected as 127.0.0.1 itself, on any port.
    for spelled in ("::ffff:127.0.0.1", "::ffff:0:7f00:1"):
        assert policy.check_url(f"http://[{spelled}]:8080/").addresses == ("127.0.0.1",)
    # Translated or tunnelled forms of loopback follow the same allow rule.
    for tunnelled in ("64:ff9b::7f00:1", "2002:7f00:1::", "::7f00:1"):
        assert policy.check_url(f"http://[{tunnelled}]:8080/").addresses == (tunnelled,)


def test_public_addresses_in_embedded_forms_are_judged_as_before():
    policy = OutboundPolicy(resolver=no_dns)
    assert policy.check_url("https://[::ffff:0:808:808]/").addresses == ("8.8.8.8",)
    assert policy.check_url("https://[::ffff:8.8.8.8]/").addresses == ("8.8.8.8",)
    assert policy.check_url("https://[2002:808:808::1]/").addresses == ("2002:808:808::1",)
    for gateway in ("64:ff9b::808:808", "::808:808", "2001:0:808:808:8000:f227:f7f7:f7f7"):
        with pytest.raises(OutboundURLError, match="blocked range"):  # the prefixes themselves stay blocked
            policy.check_url(f"https://[{gateway}]/")


def test_an_ipv4_translated_loopback_url_really_reaches_loopback_when_allowed():
    policy = OutboundPolicy(allow_cidrs="127.0.0.0/8", resolver=no_dns)
    with Receiver([204]) as receiver:
        response = safe_request(policy, "GET", f"http://[::ffff:0:7f00:1]:{receiver.port}/probe", timeout=5)
        assert response.status == 204
        assert [r.path for r in receiver.wait_for(1)] == ["/probe"]


@pytest.mark.parametrize("address", ["::ffff:0:a9fe:a9fe", "::ffff:0:7f00:1", "64:ff9b::a9fe:a9fe"])
def test_the_webhook_api_refuses_the_reviewers_addresses(make_app, address):
    app = make_app(plugins=["webhooks"], **{"webhooks.encryption_key": SecretBox.generate_key(),
                                            "outbound.allow_cidrs": "", "ratelimit.enabled": "false"})
    assert find_service(app.registry, OUTBOUND).allow_cidrs == ()
    response = app.post_json("/api/webhooks/register", {"url": f"http://[{address}]/hook",
                                                       "events": ["interview.completed"]},
                             headers=app.auth("alice"), status=400)
    assert "blocked range" in response.json["error"]
