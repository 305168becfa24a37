"""The one check for every user-supplied outbound URL (SSRF protection), and a request that honours it.

``OutboundPolicy.check_url`` parses a URL, resolves its host and refuses anything that could
reach the operator's own network: loopback, private, link-local (cloud metadata), CGNAT,
multicast, reserved, documentation, benchmarking, unique-local, NAT64, and every IPv6 form that
carries a blocked IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``, IPv4-translated
``::ffff:0:a.b.c.d``, IPv4-compatible ``::a.b.c.d``, NAT64 ``64:ff9b::a.b.c.d``, 6to4
``2002:AABB:CCDD::``, Teredo). Every resolved address must pass, not just one.

``safe_request`` then connects to one of the *vetted* addresses, never re-resolving the name,
so a DNS answer that changes between the check and the connection (DNS rebinding) cannot
redirect the request. The original host name is still sent as the ``Host`` header and as the
TLS server name, so virtual hosting and certificate checks work as usual. Redirects are never
followed: a 3xx comes back to the caller as it is.

``allow_cidrs`` (setting ``interviewminds.outbound.allow_cidrs``, empty in production) lists
ranges that pass even though they are blocked; tests use ``127.0.0.0/8`` to reach loopback
fake servers. An IPv4 range also covers the IPv6 forms that carry its addresses, and only
those: with ``127.0.0.0/8``, ``[::ffff:0:7f00:1]`` passes (connected as ``127.0.0.1``), while
``[::ffff:0:a9fe:a9fe]`` (169.254.169.254) and a 6to4 address of ``10.0.0.1`` are still refused.
Destinations whose every address is allow-listed may also use any port; all other destinations
must use a port from ``allowed_ports``.
"""
from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence, Union

__all__ = [
    "ALLOW_CIDRS_SETTING",
    "OutboundError",
    "OutboundPolicy",
    "OutboundResponse",
    "OutboundURLError",
    "Target",
    "as_ipv4",
    "blocked_reason",
    "embedded_ipv4",
    "safe_request",
    "system_resolver",
]

ALLOW_CIDRS_SETTING = "interviewminds.outbound.allow_cidrs"

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]
Resolver = Callable[[str, int], "list[str]"]


class OutboundError(Exception):
    """An outbound request could not be made or completed; ``reason`` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class OutboundURLError(OutboundError, ValueError):
    """A URL was refused by the outbound policy (bad form, blocked destination or port)."""


# Ranges that are never a legitimate webhook / callback destination. Checked explicitly
# because ``ipaddress.is_global`` misses some (multicast, 6to4 relays) and differs between
# Python versions; ``is_global`` is applied on top as a catch-all.
_BLOCKED_V4: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "'this network' (unspecified)"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "carrier-grade NAT"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local (incl. cloud metadata)"),
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "6to4 relay anycast (deprecated)"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("255.255.255.255/32", "broadcast"),
)
_BLOCKED_V6: tuple[tuple[str, str], ...] = (
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::/96", "IPv4-compatible (deprecated)"),
    ("64:ff9b::/96", "NAT64"),
    ("64:ff9b:1::/48", "NAT64 (local use)"),
    ("100::/64", "discard-only"),
    ("2001::/23", "IETF protocol assignments (incl. Teredo)"),
    ("2001:db8::/32", "documentation"),
    ("3fff::/20", "documentation"),
    ("fc00::/7", "unique-local"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local (deprecated)"),
    ("ff00::/8", "multicast"),
)
_BLOCKED: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(cidr), label) for cidr, label in _BLOCKED_V4 + _BLOCKED_V6
)
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")

_SCHEMES = {"http": 80, "https": 443}
_DNS_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)")
# A host whose last label is numeric is an IPv4 address in some form (WHATWG URL rules).
_NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)")
_METHOD = re.compile(r"[A-Z]{1,16}")
# Printable ASCII except space and backslash; used to percent-encode IRIs in path/query.
_PATH_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "\\")


# IPv6 forms that carry an IPv4 address. "spelling" forms are only another way to write the IPv4
# address: the policy vets and connects to the IPv4 address itself. The others reach it through a
# translator or tunnel; their prefixes stay blocked (or are judged as IPv6), and in addition none
# may carry a blocked IPv4 address.
_V4_MAPPED = ipaddress.ip_network("::ffff:0:0/96")  # RFC 4291: ::ffff:a.b.c.d
_V4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # RFC 2765 (SIIT): ::ffff:0:a.b.c.d
_V4_COMPATIBLE = ipaddress.ip_network("::/96")  # RFC 4291, deprecated: ::a.b.c.d
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known prefix: 64:ff9b::a.b.c.d
_TEREDO = ipaddress.ip_network("2001::/32")  # RFC 4380: server and (inverted) client IPv4


def embedded_ipv4(address: IPAddress) -> tuple[tuple[str, ipaddress.IPv4Address], ...]:
    """Every IPv4 address that the IPv6 ``address`` carries, with the name of the form:
    IPv4-mapped, IPv4-translated, IPv4-compatible, NAT64, 6to4, Teredo (server and client).
    Empty for an IPv4 address, for ``::`` and ``::1``, and for IPv6 addresses of no such form.
    (NAT64 local-use prefixes, 64:ff9b:1::/48, place the IPv4 address by prefix length; that whole
    range is blocked instead.)"""
    if not isinstance(address, ipaddress.IPv6Address):
        return ()
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _V4_MAPPED:
        return (("IPv4-mapped", low32),)
    if address in _V4_TRANSLATED:
        return (("IPv4-translated", low32),)
    if address in _NAT64:
        return (("NAT64", low32),)
    if address in _V4_COMPATIBLE:
        return (("IPv4-compatible", low32),) if int(address) > 1 else ()
    if address in _SIX_TO_FOUR:
        return (("6to4", address.sixtofour),)  # type: ignore[arg-type]
    if address in _TEREDO:
        server, client = address.teredo  # type: ignore[misc]
        return (("Teredo server", server), ("Teredo client", client))
    return ()


def as_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv4-mapped or IPv4-translated IPv6 address spells; others unchanged."""
    if isinstance(address, ipaddress.IPv6Address) and (address in _V4_MAPPED or address in _V4_TRANSLATED):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def blocked_reason(
    address: IPAddress, allowed: Callable[[ipaddress.IPv4Address], bool] | None = None
) -> str | None:
    """Why ``address`` may not be contacted (e.g. ``"loopback"``), or None when it is public.

    An IPv6 address that carries an IPv4 address (:func:`embedded_ipv4`: mapped, translated,
    compatible, NAT64, 6to4, Teredo) is refused when any IPv4 address it carries is refused, unless
    ``allowed(ipv4)`` says that IPv4 address is allow-listed. IPv4-mapped and IPv4-translated
    addresses are judged by their IPv4 address alone; the other forms' prefixes are judged too.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = embedded_ipv4(address)
        for form, inner_address in embedded:
            if allowed is not None and allowed(inner_address):
                continue
            inner = blocked_reason(inner_address)
            if inner:
                return f"{form} form of a {inner} address"
        if as_ipv4(address) is not address:
            return None  # mapped / translated: the IPv4 address is all there is to judge
    for network, label in _BLOCKED:
        if address.version == network.version and address in network:
            return label
    if not address.is_global:
        return "not globally routable"
    return None


def system_resolver(host: str, port: int) -> list[str]:
    """Resolve ``host`` with the operating system's resolver; addresses in answer order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    addresses: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        if sockaddr[0] not in addresses:
            addresses.append(sockaddr[0])
    return addresses


@dataclass(frozen=True)
class Target:
    """A URL that passed the policy: where to connect and what to ask for.

    ``addresses`` are the vetted IP addresses (IPv4-mapped and -translated ones already unwrapped); a request
    must connect to one of these and never resolve ``host`` again.
    """

    scheme: str
    host: str
    port: int
    path_with_query: str
    addresses: tuple[str, ...]

    @property
    def url(self) -> str:
        """The normalised URL (for logs); IPv6 hosts in brackets, default ports omitted."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        netloc = host if self.port == _SCHEMES[self.scheme] else f"{host}:{self.port}"
        return f"{self.scheme}://{netloc}{self.path_with_query}"


def _parse_cidrs(cidrs: Sequence[str] | str) -> tuple[IPNetwork, ...]:
    if isinstance(cidrs, str):  # an ini value: "127.0.0.0/8 ::1/128" or comma separated
        cidrs = [c for c in re.split(r"[\s,]+", cidrs) if c]
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(str(cidr).strip(), strict=True))
        except ValueError as exc:
            raise ValueError(
                f"{ALLOW_CIDRS_SETTING}: {cidr!r} is not a CIDR range like 127.0.0.0/8 ({exc})"
            ) from None
    return tuple(networks)


class OutboundPolicy:
    """Which outbound destinations user-supplied URLs may reach.

    ``allow_cidrs``: ranges allowed even though blocked (tests: ``127.0.0.0/8``; production:
    none). A string is split on spaces and commas, as read from an ini file.
    ``allowed_ports``: ports a URL may name; destinations entirely inside ``allow_cidrs`` may
    use any port (loopback test servers listen on ephemeral ports).
    ``resolver``: ``(host, port) -> [ip, ...]``; defaults to the system resolver. Tests pass
    their own so that no real DNS is consulted.
    ``ssl_context``: used for https; defaults to ``ssl.create_default_context()``.
    """

    def __init__(
        self,
        allow_cidrs: Sequence[str] | str = (),
        allowed_ports: Sequence[int] = (80, 443),
        resolver: Resolver | None = None,
        max_url_length: int = 2048,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ):
        self.allow_cidrs = _parse_cidrs(allow_cidrs)
        self.allowed_ports = frozenset(int(p) for p in allowed_ports)
        self.resolver: Resolver = resolver or system_resolver
        self.max_url_length = int(max_url_length)
        self._ssl_context = ssl_context

    @property
    def ssl_context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context

    def is_allow_listed(self, address: IPAddress) -> bool:
        """True when ``address`` lies inside one of ``allow_cidrs``, or is an IPv6 form
        (:func:`embedded_ipv4`) all of whose embedded IPv4 addresses do: ``127.0.0.0/8`` allows
        ``::ffff:127.0.0.1`` and ``64:ff9b::7f00:1`` as it allows ``127.0.0.1``, no more."""
        if any(address.version == n.version and address in n for n in self.allow_cidrs):
            return True
        embedded = embedded_ipv4(address)
        return bool(embedded) and all(self._v4_allowed(inner) for _form, inner in embedded)

    def _v4_allowed(self, address: ipaddress.IPv4Address) -> bool:
        return any(n.version == 4 and address in n for n in self.allow_cidrs)

    def check_url(self, url: str) -> Target:
        """Parse, resolve and vet ``url``; return where to connect or raise OutboundURLError."""
        if not isinstance(url, str) or not url:
            raise OutboundURLError("URL must be a non-empty string")
        if len(url) > self.max_url_length:
            raise OutboundURLError(f"URL is longer than {self.max_url_length} characters")
        if any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in url) or "\\" in url:
            raise OutboundURLError("URL contains whitespace, control characters or backslashes")
        parts = urllib.parse.urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _SCHEMES:
            raise OutboundURLError(f"URL scheme must be http or https, not {parts.scheme!r}")
        if "@" in parts.netloc:
            raise OutboundURLError("URL must not contain credentials (user:password@)")
        try:
            port = parts.port
        except ValueError:
            raise OutboundURLError("URL port is not a number between 0 and 65535") from None
        port = _SCHEMES[scheme] if port is None else port
        if port == 0:
            raise OutboundURLError("URL port 0 is not valid")
        host, literal = _normalise_host(parts.hostname or "")
        addresses = [literal] if literal is not None else self._resolve(host, port)
        vetted = self._vet(host, addresses)
        if port not in self.allowed_ports and not all(self.is_allow_listed(a) for a in vetted):
            allowed = ", ".join(str(p) for p in sorted(self.allowed_ports)) or "none"
            raise OutboundURLError(f"port {port} is not allowed (allowed: {allowed})")
        path = urllib.parse.quote(parts.path or "/", safe=_PATH_SAFE)
        query = urllib.parse.quote(parts.query, safe=_PATH_SAFE)
        return Target(
            scheme=scheme,
            host=host,
            port=port,
            path_with_query=f"{path}?{query}" if query else path,
            addresses=tuple(str(a) for a in vetted),
        )

    def _resolve(self, host: str, port: int) -> list[IPAddress]:
        try:
            answers = list(self.resolver(host, port))
        except (OSError, UnicodeError) as exc:
            raise OutboundURLError(f"host {host!r} does not resolve ({exc})") from None
        if not answers:
            raise OutboundURLError(f"host {host!r} resolves to no address")
        addresses = []
        for answer in answers:
            try:
                addresses.append(ipaddress.ip_address(answer))
            except ValueError:
                raise OutboundURLError(
                    f"host {host!r} resolved to {answer!r}, which is not an IP address"
                ) from None
        return addresses

    def _vet(self, host: str, addresses: Iterable[IPAddress]) -> list[IPAddress]:
        vetted: list[IPAddress] = []
        for address in addresses:
            # A mapped or translated address is only a spelling of an IPv4 address: vet that
            # address and connect to it rather than through the IPv6 form.
            address = as_ipv4(address)
            if not self.is_allow_listed(address):
                reason = blocked_reason(address, allowed=self._v4_allowed)
                if reason:
                    shown = host if host == str(address) else f"{host} -> {address}"
                    raise OutboundURLError(f"destination {shown} is in a blocked range: {reason}")
            if address not in vetted:
                vetted.append(address)
        return vetted


def _normalise_host(raw: str) -> tuple[str, IPAddress | None]:
    """Return (canonical host, IP address if the host is an IP literal in any form)."""
    host = raw.lower().rstrip(".")
    if not host:
        raise OutboundURLError("URL has no host")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        if isinstance(literal, ipaddress.IPv6Address) and literal.scope_id:
            raise OutboundURLError("IPv6 zone identifiers are not allowed in URLs")
        return str(literal), literal
    labels = host.split(".")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        # Decimal, octal, hex and short forms (2130706433, 0x7f.1, 0177.0.0.1, 127.1) mean an
        # IPv4 address to browsers and to inet_aton; normalise them so the check sees the
        # address that would really be contacted.
        try:
            packed = socket.inet_aton(host)
        except OSError:
            raise OutboundURLError(f"host {raw!r} is not a valid IPv4 address") from None
        literal = ipaddress.IPv4Address(packed)
        return str(literal), literal
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise OutboundURLError(f"host {raw!r} is not a valid host name") from None
    if len(ascii_host) > 253 or not all(_DNS_LABEL.fullmatch(l) for l in ascii_host.split(".")):
        raise OutboundURLError(f"host {raw!r} is not a valid host name")
    return ascii_host, None


@dataclass(frozen=True)
class OutboundResponse:
    """What came back: status, headers (lower-case names), the first bytes of the body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body_excerpt: bytes = b""
    latency_ms: float = 0.0


def _connect_first(addresses: Sequence[str], port: int, timeout: float) -> socket.socket:
    """Open a TCP connection to the first vetted address that accepts one."""
    last_error: OSError | None = None
    for address in addresses:
        try:
            sock = socket.create_connection((address, port), timeout=timeout)
        except OSError as exc:
            last_error = exc
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    assert last_error is not None
    raise last_error


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to a vetted address; ``host`` is used only for the Host header."""

    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._addresses = target.addresses

    def connect(self) -> None:
        self.sock = _connect_first(self._addresses, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a vetted address; the TLS server name and certificate check use ``host``."""

    def __init__(self, target: Target, timeout: float, context: ssl.SSLContext):
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._addresses = target.addresses
        self._pinned_context = context

    def connect(self) -> None:
        sock = _connect_first(self._addresses, self.port, self.timeout)
        try:
            self.sock = self._pinned_context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def safe_request(
    policy: OutboundPolicy,
    method: str,
    url: str,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    timeout: float,
    max_response_bytes: int = 64 * 1024,
) -> OutboundResponse:
    """Send one request to ``url`` if ``policy`` allows it, connecting only to vetted addresses.

    ``timeout`` bounds the whole exchange (connect, send, headers and body), so a server
    that drips bytes cannot hold the caller. At most ``max_response_bytes`` of the body are
    read; redirects are returned, not followed. Raises OutboundURLError when the policy
    refuses the URL and OutboundError for timeouts, connection, TLS and protocol failures.
    """
    if not _METHOD.fullmatch(method):
        raise ValueError(f"HTTP method must be an upper-case token, not {method!r}")
    if timeout <= 0:
        raise ValueError("timeout must be positive")
    target = policy.check_url(url)
    if target.scheme == "https":
        conn: http.client.HTTPConnection = _PinnedHTTPSConnection(
            target, timeout, policy.ssl_context
        )
    else:
        conn = _PinnedHTTPConnection(target, timeout)
    # Caller headers replace the defaults whatever their case, so none is sent twice.
    merged = {"user-agent": ("User-Agent", "InterviewMinds-Outbound/1.0"),
              "connection": ("Connection", "close")}
    for name, value in (headers or {}).items():
        merged[name.lower()] = (name, value)
    send_headers = dict(merged.values())

    timed_out = threading.Event()

    def abort() -> None:  # the overall deadline: cut the socket under a slow server
        timed_out.set()
        sock = conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    started = time.perf_counter()
    deadline = threading.Timer(timeout, abort)
    deadline.daemon = True
    deadline.start()
    try:
        conn.request(method, target.path_with_query, body=body, headers=send_headers)
        response = conn.getresponse()
        excerpt = response.read(max_response_bytes) if max_response_bytes > 0 else b""
        if timed_out.is_set():
            raise socket.timeout()
        latency_ms = (time.perf_counter() - started) * 1000.0
        received: dict[str, str] = {}
        for name, value in response.getheaders():
            name = name.lower()
            received[name] = f"{received[name]}, {value}" if name in received else value
        return OutboundResponse(response.status, received, excerpt, latency_ms)
    except OutboundError:
        raise
    except (socket.timeout, TimeoutError):
        raise OutboundError(f"timed out after {timeout:g}s") from None
    except ssl.SSLCertVerificationError as exc:
        raise OutboundError(f"TLS certificate rejected: {exc.verify_message or exc}") from None
    except ssl.SSLError as exc:
        raise OutboundError(f"TLS failure: {exc.reason or exc}") from None
    except (http.client.HTTPException, OSError) as exc:
        if timed_out.is_set():
            raise OutboundError(f"timed out after {timeout:g}s") from None
        detail = str(exc) or type(exc).__name__
        raise OutboundError(f"connection failed: {detail}") from None
    finally:
        deadline.cancel()
        conn.close()


def includeme(config):
    """Register the app's policy for user-supplied URLs as the service ``core.outbound``."""
    from core.lookup import OUTBOUND, provide

    settings = config.registry.settings
    provide(config, OUTBOUND, OutboundPolicy(
        allow_cidrs=settings["interviewminds.outbound.allow_cidrs"],
        allowed_ports=[int(p) for p in settings["interviewminds.outbound.allowed_ports"]],
    ))
