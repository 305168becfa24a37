"""core.outbound: the SSRF check for user-supplied URLs and the request that honours it.

No test here consults real DNS: names go through a resolver seam, and every connection
goes to a receiver on a loopback address.
"""
from __future__ import annotations

import datetime as dt
import socket
import ssl
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from core.outbound import (
    OutboundError,
    OutboundPolicy,
    OutboundURLError,
    safe_request,
)
from tests.support.receiver import Receiver, Reply

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:4700:4700::1111"

# (address, the range it belongs to). Each one must be refused, as a literal in the URL and
# as the answer for a host name.
BLOCKED = [
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("10.0.0.1", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.254", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local (cloud metadata)"),
    ("169.254.0.1", "link-local"),
    ("100.64.0.1", "CGNAT"),
    ("100.127.255.254", "CGNAT"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "this network"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "broadcast"),
    ("198.18.0.1", "benchmarking"),
    ("198.19.255.254", "benchmarking"),
    ("192.0.2.1", "documentation TEST-NET-1"),
    ("198.51.100.1", "documentation TEST-NET-2"),
    ("203.0.113.1", "documentation TEST-NET-3"),
    ("192.0.0.1", "IETF protocol assignments"),
    ("192.88.99.1", "6to4 relay anycast"),
    ("::1", "IPv6 loopback"),
    ("::", "IPv6 unspecified"),
    ("fe80::1", "IPv6 link-local"),
    ("fc00::1", "unique-local"),
    ("fd12:3456:789a::1", "unique-local"),
    ("ff02::1", "IPv6 multicast"),
    ("ff05::2", "IPv6 multicast"),
    ("fec0::1", "site-local"),
    ("64:ff9b::7f00:1", "NAT64 (to loopback)"),
    ("64:ff9b::808:808", "NAT64 (to a public address: still via a local gateway)"),
    ("64:ff9b:1::1", "NAT64 local-use"),
    ("::ffff:127.0.0.1", "IPv4-mapped loopback"),
    ("::ffff:10.0.0.1", "IPv4-mapped private"),
    ("::ffff:169.254.169.254", "IPv4-mapped metadata"),
    ("::127.0.0.1", "IPv4-compatible (deprecated)"),
    ("2002:7f00:1::", "6to4 embedding loopback"),
    ("2002:a9fe:a9fe::1", "6to4 embedding metadata"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
    ("2001:db8::1", "IPv6 documentation"),
    ("3fff::1", "IPv6 documentation (RFC 9637)"),
    ("100::1", "IPv6 discard-only"),
]


def url_host(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def no_dns(host: str, port: int) -> list[str]:
    raise AssertionError(f"the resolver must not be consulted for {host!r}")


def resolving_to(*answers: str):
    def resolver(host: str, port: int) -> list[str]:
        return list(answers)

    return resolver


@pytest.mark.parametrize("address,label", BLOCKED, ids=[f"{a} {l}" for a, l in BLOCKED])
def test_blocked_ip_literal_is_refused(address, label):
    policy = OutboundPolicy(resolver=no_dns)
    with pytest.raises(OutboundURLError, match="blocked range"):
        policy.check_url(f"https://{url_host(address)}/hook")


@pytest.mark.parametrize("address,label", BLOCKED, ids=[f"{a} {l}" for a, l in BLOCKED])
def test_hostname_resolving_to_blocked_address_is_refused(address, label):
    policy = OutboundPolicy(resolver=resolving_to(address))
    with pytest.raises(OutboundURLError, match="blocked range") as refused:
        policy.check_url("https://hooks.example.com/hook")
    assert "hooks.example.com" in refused.value.reason


@pytest.mark.parametrize(
    "address,expected",
    [
        (PUBLIC_V4, PUBLIC_V4),
        ("8.8.8.8", "8.8.8.8"),
        (PUBLIC_V6, PUBLIC_V6),
        ("::ffff:8.8.8.8", "8.8.8.8"),  # mapped: vetted and connected as plain IPv4
        ("2002:808:808::1", "2002:808:808::1"),  # 6to4 of a public address
    ],
)
def test_public_addresses_pass(address, expected):
    target = OutboundPolicy(resolver=resolving_to(address)).check_url(
        "https://hooks.example.com/in?x=1"
    )
    assert target.addresses == (expected,)
    assert (target.scheme, target.host, target.port) == ("https", "hooks.example.com", 443)
    assert target.path_with_query == "/in?x=1"


def test_host_names_are_normalised_before_resolving():
    asked = []

    def recording(host, port):
        asked.append((host, port))
        return [PUBLIC_V4]

    policy = OutboundPolicy(resolver=recording)
    assert policy.check_url("https://Hooks.Example.COM./x").host == "hooks.example.com"
    assert policy.check_url("http://bücher.example/").host == "xn--bcher-kva.example"
    assert asked == [("hooks.example.com", 443), ("xn--bcher-kva.example", 80)]


def test_every_resolved_address_must_pass():
    policy = OutboundPolicy(resolver=resolving_to(PUBLIC_V4, "10.1.2.3"))
    with pytest.raises(OutboundURLError, match=r"10\.1\.2\.3.*private"):
        policy.check_url("https://hooks.example.com/")


def test_host_that_resolves_to_nothing_is_refused():
    with pytest.raises(OutboundURLError, match="no address"):
        OutboundPolicy(resolver=resolving_to()).check_url("https://hooks.example.com/")


def test_host_whose_lookup_fails_is_refused():
    def failing(host, port):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(OutboundURLError, match="does not resolve"):
        OutboundPolicy(resolver=failing).check_url("https://nowhere.example.com/")


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",  # decimal
        "http://0x7f000001/",  # hex
        "http://017700000001/",  # octal
        "http://0x7f.1/",  # hex, short form
        "http://0177.0.0.1/",  # octal first part
        "http://127.1/",  # short dotted form
        "http://127.0.0.1./",  # trailing dot
        "http://[::ffff:7f00:1]/",  # mapped, hex form
        "http://0/",  # 0.0.0.0
    ],
)
def test_non_canonical_ip_forms_are_normalised_and_refused(url):
    with pytest.raises(OutboundURLError, match="blocked range"):
        OutboundPolicy(resolver=no_dns).check_url(url)


def test_non_canonical_public_ip_is_normalised():
    target = OutboundPolicy(resolver=no_dns).check_url("http://134744072/")
    assert (target.host, target.addresses) == ("8.8.8.8", ("8.8.8.8",))


@pytest.mark.parametrize("url", ["http://1.2.3.4.5/", "http://256.1.1.1/", "http://example.123/"])
def test_malformed_numeric_hosts_are_refused(url):
    with pytest.raises(OutboundURLError, match="not a valid IPv4"):
        OutboundPolicy(resolver=no_dns).check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://files.example.com/x",
        "file:///etc/passwd",
        "gopher://example.com:70/_x",
        "javascript:alert(1)",
        "data:text/plain,hi",
        "//example.com/no-scheme",
        "example.com/no-scheme",
    ],
)
def test_non_http_schemes_are_refused(url):
    with pytest.raises(OutboundURLError, match="scheme must be http or https"):
        OutboundPolicy(resolver=no_dns).check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://user:pass@hooks.example.com/",
        "https://user@hooks.example.com/",
        "https://:pass@hooks.example.com/",
        "https://@hooks.example.com/",
        "https://hooks.example.com@127.0.0.1/",
    ],
)
def test_credentials_in_url_are_refused(url):
    with pytest.raises(OutboundURLError, match="credentials"):
        OutboundPolicy(resolver=resolving_to(PUBLIC_V4)).check_url(url)


@pytest.mark.parametrize(
    "url,reason",
    [
        ("https:///path-only", "no host"),
        ("https://hooks.example.com:99999/", "port"),
        ("https://hooks.example.com:0/", "port 0"),
        ("https://hooks example.com/", "whitespace"),
        ("https://hooks.example.com\\@evil/", "backslash"),
        ("https://bad_label-.example.com/", "not a valid host name"),
    ],
)
def test_malformed_urls_are_refused(url, reason):
    with pytest.raises(OutboundURLError, match=reason):
        OutboundPolicy(resolver=resolving_to(PUBLIC_V4)).check_url(url)


def test_over_long_url_is_refused():
    policy = OutboundPolicy(resolver=resolving_to(PUBLIC_V4), max_url_length=100)
    ok = "https://hooks.example.com/" + "a" * (100 - 26)
    assert len(ok) == 100
    policy.check_url(ok)
    with pytest.raises(OutboundURLError, match="longer than 100"):
        policy.check_url(ok + "a")


@pytest.mark.parametrize(
    "url,port", [("http://hooks.example.com/", 80), ("https://hooks.example.com/", 443),
                 ("https://hooks.example.com:443/", 443)]
)
def test_default_ports_are_allowed(url, port):
    assert OutboundPolicy(resolver=resolving_to(PUBLIC_V4)).check_url(url).port == port


@pytest.mark.parametrize("url", ["https://hooks.example.com:8443/", "http://hooks.example.com:22/",
                                 "http://hooks.example.com:6379/"])
def test_ports_outside_allow_list_are_refused(url):
    with pytest.raises(OutboundURLError, match="port .* is not allowed"):
        OutboundPolicy(resolver=resolving_to(PUBLIC_V4)).check_url(url)


def test_allowed_ports_setting_extends_the_list():
    policy = OutboundPolicy(allowed_ports=(443, 8443), resolver=resolving_to(PUBLIC_V4))
    assert policy.check_url("https://hooks.example.com:8443/").port == 8443
    with pytest.raises(OutboundURLError, match="port 80 is not allowed"):
        policy.check_url("http://hooks.example.com/")


def test_allow_cidrs_let_loopback_through_on_any_port():
    policy = OutboundPolicy(allow_cidrs=["127.0.0.0/8"], resolver=no_dns)
    target = policy.check_url("http://127.0.0.1:54321/hook")
    assert target.addresses == ("127.0.0.1",) and target.port == 54321
    # Only the listed range: other blocked ranges stay blocked.
    with pytest.raises(OutboundURLError, match="blocked range"):
        policy.check_url("http://10.0.0.1/")
    with pytest.raises(OutboundURLError, match="blocked range"):
        policy.check_url("http://[::1]:54321/")


def test_allow_cidrs_do_not_open_ports_for_other_destinations():
    policy = OutboundPolicy(allow_cidrs="127.0.0.0/8", resolver=resolving_to(PUBLIC_V4, "127.0.0.1"))
    with pytest.raises(OutboundURLError, match="port 9000 is not allowed"):
        policy.check_url("http://hooks.example.com:9000/")


def test_allow_cidrs_accept_an_ini_string():
    policy = OutboundPolicy(allow_cidrs="127.0.0.0/8, ::1/128", resolver=no_dns)
    assert policy.check_url("http://[::1]:8080/").addresses == ("::1",)


def test_bad_allow_cidr_names_the_setting():
    with pytest.raises(ValueError, match="interviewminds.outbound.allow_cidrs.*'127.0.0.1/8'"):
        OutboundPolicy(allow_cidrs=["127.0.0.1/8"])


# --- safe_request -------------------------------------------------------------------------

LOOPBACK = OutboundPolicy(allow_cidrs=["127.0.0.0/8"], resolver=no_dns)


def test_safe_request_posts_and_returns_the_response():
    with Receiver([Reply(201, {"X-Seen": "yes"}, b"created")]) as receiver:
        response = safe_request(
            LOOPBACK, "POST", receiver.url("/hook?a=1"),
            body=b'{"x":1}', headers={"Content-Type": "application/json"}, timeout=5,
        )
        (request,) = receiver.requests
    assert (response.status, response.body_excerpt) == (201, b"created")
    assert response.headers["x-seen"] == "yes"
    assert response.latency_ms > 0
    assert (request.method, request.path, request.body) == ("POST", "/hook?a=1", b'{"x":1}')
    assert request.headers["content-type"] == "application/json"


def test_caller_headers_replace_defaults_whatever_their_case():
    with Receiver() as receiver:
        safe_request(LOOPBACK, "GET", receiver.url("/"), headers={"USER-Agent": "Mine/2"}, timeout=5)
        (request,) = receiver.requests
    assert request.headers["user-agent"] == "Mine/2"


def test_safe_request_refuses_blocked_url_without_connecting():
    with Receiver() as receiver:
        with pytest.raises(OutboundURLError, match="loopback"):
            safe_request(OutboundPolicy(), "POST", receiver.url("/hook"), body=b"x", timeout=5)
        assert receiver.requests == []


def test_redirects_are_returned_not_followed():
    with Receiver([Reply.redirect("/elsewhere"), 200]) as receiver:
        response = safe_request(LOOPBACK, "POST", receiver.url("/hook"), body=b"x", timeout=5)
        time.sleep(0.1)
        requests = receiver.requests
    assert response.status == 302
    assert response.headers["location"] == "/elsewhere"
    assert [r.path for r in requests] == ["/hook"]


def test_response_body_is_capped():
    with Receiver([Reply(200, {}, b"x" * 200_000)]) as receiver:
        response = safe_request(
            LOOPBACK, "GET", receiver.url("/"), timeout=5, max_response_bytes=1000
        )
    assert response.body_excerpt == b"x" * 1000


def test_slow_server_times_out():
    with Receiver([Reply.slow(5)]) as receiver:
        started = time.monotonic()
        with pytest.raises(OutboundError, match="timed out after 0.3s"):
            safe_request(LOOPBACK, "POST", receiver.url("/"), body=b"x", timeout=0.3)
        assert time.monotonic() - started < 2


def test_connection_refused_is_an_outbound_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before the request: nobody listens
    with pytest.raises(OutboundError, match="connection failed"):
        safe_request(LOOPBACK, "POST", f"http://127.0.0.1:{port}/", body=b"x", timeout=2)


def test_host_header_carries_the_original_name():
    policy = OutboundPolicy(allow_cidrs=["127.0.0.0/8"], resolver=resolving_to("127.0.0.1"))
    with Receiver() as receiver:
        safe_request(policy, "POST", receiver.url("/h", host="hooks.example.test"), timeout=5)
        (request,) = receiver.requests
    assert request.headers["host"] == f"hooks.example.test:{receiver.port}"


def _receiver_pair() -> tuple[Receiver, Receiver]:
    """Receivers on 127.0.0.1 and 127.0.0.2 sharing one port number."""
    for _ in range(20):
        first = Receiver(host="127.0.0.1")
        try:
            second = Receiver(host="127.0.0.2", port=first.port)
        except OSError:
            first.stop()
            continue
        return first.start(), second.start()
    raise RuntimeError("no port free on both 127.0.0.1 and 127.0.0.2")


def test_dns_rebinding_cannot_redirect_the_connection():
    """The name is resolved once; the connection goes to that vetted answer.

    The second answer (127.0.0.2, outside the allow-list) is what an attacker's DNS would
    return after the check; a client that resolved again would reach ``rebound``.
    """
    calls = []

    def rebinding(host, port):
        calls.append(host)
        return ["127.0.0.1"] if len(calls) == 1 else ["127.0.0.2"]

    policy = OutboundPolicy(allow_cidrs=["127.0.0.1/32"], resolver=rebinding)
    vetted, rebound = _receiver_pair()
    try:
        response = safe_request(
            policy, "POST", vetted.url("/hook", host="rebind.example.test"), body=b"x", timeout=5
        )
        assert response.status == 200
        assert calls == ["rebind.example.test"]
        assert len(vetted.requests) == 1 and rebound.requests == []
        # Had the second answer been given at check time, it would have been refused.
        with pytest.raises(OutboundURLError, match="127.0.0.2.*loopback"):
            policy.check_url(vetted.url("/hook", host="rebind.example.test"))
    finally:
        vetted.stop()
        rebound.stop()


# --- TLS: connect to the vetted IP, verify the certificate for the original name ----------


@pytest.fixture(scope="module")
def tls_pair(tmp_path_factory):
    """A self-signed certificate for hooks.example.test: (server context, client context)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.example.test")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.example.test")]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    (folder / "cert.pem").write_bytes(cert_pem)
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    client = ssl.create_default_context(cadata=cert_pem.decode("ascii"))
    return server, client


def test_https_verifies_the_original_host_name(tls_pair):
    server_ctx, client_ctx = tls_pair
    policy = OutboundPolicy(
        allow_cidrs=["127.0.0.0/8"], resolver=resolving_to("127.0.0.1"), ssl_context=client_ctx
    )
    with Receiver([Reply(200, {}, b"secure")], ssl_context=server_ctx) as receiver:
        response = safe_request(
            policy, "POST", receiver.url("/tls", host="hooks.example.test"), body=b"x", timeout=5
        )
        (request,) = receiver.requests
    assert (response.status, response.body_excerpt) == (200, b"secure")
    assert request.headers["host"] == f"hooks.example.test:{receiver.port}"


def test_https_rejects_a_certificate_for_another_name(tls_pair):
    server_ctx, client_ctx = tls_pair
    policy = OutboundPolicy(
        allow_cidrs=["127.0.0.0/8"], resolver=resolving_to("127.0.0.1"), ssl_context=client_ctx
    )
    with Receiver(ssl_context=server_ctx) as receiver:
        with pytest.raises(OutboundError, match="certificate"):
            safe_request(policy, "POST", receiver.url("/", host="other.example.test"), timeout=5)
        assert receiver.requests == []

