"""The one guard for every server-side fetch of a URL: only public addresses, checked where we connect.

A URL someone else chose (a post's media, a webhook receiver, a channel's server, the sign-in provider)
must not turn OneVoice into a way into the network it runs in: loopback, private ranges, link-local (the
cloud metadata service at 169.254.169.254), multicast, reserved and unspecified addresses are refused,
also when written as decimal, octal or hexadecimal numbers or wrapped in IPv6 (IPv4-mapped, 6to4, NAT64,
Teredo). The check happens when a connection is opened, on the address the connection then uses: the name
is resolved once, every address it resolves to must pass, and the socket goes to one of those addresses,
so a DNS answer that changes between check and connect (rebinding) cannot slip through, and every
redirect hop to a new host opens a new, checked connection. TLS still verifies the certificate against the
name in the URL.

Operators can exempt networks (`ONEVOICE_OUTBOUND_ALLOW_NETWORKS`, e.g. an internal sign-in provider or
127.0.0.0/8 for a development stand-in); `configure` installs that policy at start-up. Two stacks are
covered: httpx (`client()`) and requests (`session()`, `mount()`) for the platform SDKs built on it.
Nothing here knows about the database or the web layer, so connectors import it freely.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

# A host made only of numbers (decimal, octal 0177, hex 0x7f) and dots is an address to inet_aton, and to
# the system resolver: "2130706433", "0177.0.0.1" and "0x7f.1" are all 127.0.0.1.
_NUMERIC_HOST = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}\.?", re.I)
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
MAX_RESPONSE_BYTES = 50_000_000
DEADLINE_SECONDS = 120.0


class Refused(httpx.ConnectError):
    """A URL or address the guard refuses. Permanent: asking again reaches the same address."""


class TooLarge(httpx.ReadError):
    """A response body beyond the client's limit."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host` (a socket.gaierror when it cannot)."""
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo, NAT64): each must pass too."""
    out = [v for v in (ip.ipv4_mapped, ip.sixtofour) if v is not None]
    if ip.teredo is not None:
        out += list(ip.teredo)
    if any(ip in net for net in _NAT64):
        out.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return out


def is_public(ip: Address) -> bool:
    """Globally reachable unicast: not loopback, private, shared (CGNAT), link-local, multicast, reserved,
    unspecified, documentation or benchmarking space, nor an IPv6 wrapping one of those."""
    if not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified or ip.is_link_local:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local:
            return False
        return all(is_public(v4) for v4 in embedded_ipv4(ip))
    return True


def literal_address(host: str) -> Address | None:
    """The address a host names by itself (any notation), None for a name to resolve."""
    host = host.strip("[]").rstrip(".") if host.startswith("[") else host.rstrip(".")
    if "%" in host:
        # A zone id ("fe80::1%eth0") only exists for link-local addresses.
        raise Refused(f"{host!r} is a scoped (link-local) address")
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            raise Refused(f"{host!r} is not a valid address") from None
    if _NUMERIC_HOST.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            raise Refused(f"{host!r} is not a valid address") from None
    return None


def host_allowed(host: str, hosts: Iterable[str]) -> bool:
    """`hosts` entries are exact names, or ".example.com" / "*.example.com" for every name under it."""
    host = host.lower().rstrip(".")
    for entry in hosts:
        entry = entry.strip().lower().rstrip(".")
        if entry.startswith("*."):
            entry = entry[1:]
        if host == entry or (entry.startswith(".") and (host.endswith(entry) or host == entry[1:])):
            return True
    return False


def parse_networks(text: str | Iterable[str]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """'10.20.0.0/16, 127.0.0.1' -> networks (a ValueError naming the bad entry)."""
    items = text.split(",") if isinstance(text, str) else list(text)
    out = []
    for item in (i.strip() for i in items):
        if item:
            try:
                out.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network (e.g. 10.20.0.0/16)") from None
    return tuple(out)


@dataclass(frozen=True)
class Policy:
    """Which addresses may be reached: public ones, plus the networks an operator exempted. `media_hosts`,
    when set, are the only hosts a post's media is fetched from (the organization's asset servers)."""

    allow_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    media_hosts: tuple[str, ...] = ()
    resolver: Resolver = system_resolver

    def permits(self, ip: Address) -> bool:
        candidates = [ip, *(embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else [])]
        if self.allow_networks and any(c in net for c in candidates for net in self.allow_networks
                                       if c.version == net.version):
            return True
        return is_public(ip)

    def check_literal(self, host: str) -> Address | None:
        """Refuse a host that is itself a non-public address (no DNS); the address, or None for a name."""
        ip = literal_address(host)
        if ip is not None and not self.permits(ip):
            raise Refused(f"{host} is not a public address ({ip})")
        return ip

    def addresses(self, host: str, port: int) -> list[Address]:
        """The addresses to connect to for host:port; Refused if the host or ANY address it resolves to
        is not public (one bad record is enough to suspect the name)."""
        ip = self.check_literal(host)
        if ip is not None:
            return [ip]
        found: list[Address] = []
        for raw in self.resolver(host, port):
            addr = ipaddress.ip_address(raw.split("%", 1)[0])
            if not self.permits(addr):
                raise Refused(f"{host} resolves to {addr}, which is not a public address")
            if addr not in found:
                found.append(addr)
        if not found:
            raise httpx.ConnectError(f"{host} has no address")
        return found

    def check_url(self, url: str | httpx.URL, hosts: Iterable[str] = ()) -> None:
        """What can be said of a URL without the network: http(s), a host, an allowed host (when `hosts`
        lists some), and not a literal non-public address."""
        if isinstance(url, httpx.URL):
            scheme, host = url.scheme, url.host
        else:  # the standard library's reading (requests, a typed URL): it takes hosts httpx would refuse
            parts = urlsplit(url)
            scheme, host = parts.scheme.lower(), parts.hostname or ""
        if scheme not in ("http", "https"):
            raise Refused(f"only http and https URLs are fetched, not {scheme or 'a relative URL'!r}")
        if not host:
            raise Refused("the URL names no host")
        hosts = tuple(hosts)
        if hosts and not host_allowed(host, hosts):
            raise Refused(f"{host} is not one of the allowed hosts ({', '.join(hosts)})")
        self.check_literal(host)


_policy = Policy()


def split_hosts(text: str | Iterable[str]) -> tuple[str, ...]:
    items = text.split(",") if isinstance(text, str) else list(text)
    return tuple(h.strip().lower() for h in items if h and h.strip())


def configure(allow_networks: str | Iterable[str] = (), media_hosts: str | Iterable[str] = ()) -> Policy:
    """Install the process's policy from the operator's settings (at start-up); returns it."""
    global _policy
    _policy = Policy(allow_networks=parse_networks(allow_networks), media_hosts=split_hosts(media_hosts))
    return _policy


def current() -> Policy:
    return _policy


# --- httpx ----------------------------------------------------------------------------------------------


class _GuardedNetwork(httpcore.NetworkBackend):
    """Opens TCP connections only to addresses the policy permits, resolving each name exactly once."""

    def __init__(self, policy: Policy, inner: httpcore.NetworkBackend | None = None) -> None:
        self.policy = policy
        self.inner = inner or httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        try:
            addresses = self.policy.addresses(host, port)
        except OSError as exc:  # the name does not resolve: a network failure, not a refusal
            raise httpcore.ConnectError(f"{host}: {exc}") from exc
        last: Exception | None = None
        for ip in addresses:
            try:
                return self.inner.connect_tcp(str(ip), port, timeout=timeout, local_address=local_address,
                                              socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        raise Refused("unix sockets are not reachable through the outbound guard")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class _Bounded(httpx.SyncByteStream):
    """A response body cut off past `limit` bytes or `deadline` seconds (a slow drip, a huge answer)."""

    def __init__(self, stream: httpx.SyncByteStream, limit: int, deadline: float) -> None:
        self.stream, self.limit, self.deadline = stream, limit, deadline

    def __iter__(self) -> Iterator[bytes]:
        ends, seen = time.monotonic() + self.deadline, 0
        for chunk in self.stream:
            seen += len(chunk)
            if seen > self.limit:
                raise TooLarge(f"response larger than {self.limit} bytes")
            if time.monotonic() > ends:
                raise httpx.ReadTimeout(f"response took longer than {self.deadline:.0f} s")
            yield chunk

    def close(self) -> None:
        self.stream.close()


class GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport, with every connection opened through the guard and every hop's URL checked."""

    def __init__(self, policy: Policy | None = None, hosts: Iterable[str] = (), *,
                 max_bytes: int = MAX_RESPONSE_BYTES, deadline: float = DEADLINE_SECONDS,
                 network: httpcore.NetworkBackend | None = None) -> None:
        # Not super().__init__(): httpx builds its pool there with no way to pass a network backend, so we
        # build the pool (httpx's TLS context and defaults) with ours; handle_request and close use only
        # `_pool`. tests/connectors/test_egress.py fails if httpx stops using it.
        self.policy = policy or current()
        self.hosts = tuple(hosts)
        self.max_bytes, self.deadline = max_bytes, deadline
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(trust_env=False),
                                             network_backend=_GuardedNetwork(self.policy, network))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.policy.check_url(request.url, self.hosts)
        response = super().handle_request(request)
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = _Bounded(response.stream, self.max_bytes, self.deadline)
        return response


def client(*, hosts: Iterable[str] = (), timeout: httpx.Timeout | float = httpx.Timeout(20.0, connect=10.0),
           max_redirects: int = 5, policy: Policy | None = None, max_bytes: int = MAX_RESPONSE_BYTES,
           deadline: float = DEADLINE_SECONDS, network: httpcore.NetworkBackend | None = None) -> httpx.Client:
    """An httpx client whose every request goes through the guard. Proxies from the environment are not
    used: a proxy would resolve the name where the guard cannot see the address."""
    transport = GuardedTransport(policy, hosts, max_bytes=max_bytes, deadline=deadline, network=network)
    return httpx.Client(transport=transport, timeout=timeout, max_redirects=max_redirects, trust_env=False)


# --- requests (Mastodon.py, tweepy, praw, Authlib) ---------------------------------------------------------


def _requests_adapter(policy: Policy, hosts: tuple[str, ...]):
    # Optional for most processes: only connectors built on requests (tweepy, praw, Mastodon.py) need it.
    import requests
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
    from urllib3.exceptions import NewConnectionError
    from urllib3.util.connection import create_connection

    def new_conn(conn) -> socket.socket:
        try:
            addresses = policy.addresses(conn._dns_host, conn.port)
        except (Refused, OSError, httpx.ConnectError) as exc:
            raise NewConnectionError(conn, f"refused by the outbound guard: {exc}") from exc
        last: OSError | None = None
        for ip in addresses:
            try:
                return create_connection((str(ip), conn.port), conn.timeout, source_address=conn.source_address,
                                         socket_options=conn.socket_options)
            except OSError as exc:
                last = exc
        raise NewConnectionError(conn, f"Failed to establish a new connection: {last}")

    # urllib3 resolves and connects in _new_conn; TLS (in connect()) still checks the certificate against
    # the URL's name, since only the socket's destination changes.
    http_conn = type("GuardedHTTPConnection", (HTTPConnection,), {"_new_conn": new_conn})
    https_conn = type("GuardedHTTPSConnection", (HTTPSConnection,), {"_new_conn": new_conn})
    pools = {"http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
             "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn})}

    class GuardedAdapter(requests.adapters.HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

        def send(self, request, *args: Any, **kwargs: Any):
            if kwargs.get("proxies"):
                raise requests.exceptions.ConnectionError("proxies are not used for guarded requests")
            try:
                policy.check_url(request.url, hosts)
            except (Refused, ValueError) as exc:
                raise requests.exceptions.ConnectionError(f"refused by the outbound guard: {exc}") from None
            return super().send(request, *args, **kwargs)

    return GuardedAdapter()


def mount(session: Any, *, hosts: Iterable[str] = (), policy: Policy | None = None) -> Any:
    """Route a requests.Session (or a subclass, e.g. Authlib's OAuth2Session) through the guard."""
    adapter = _requests_adapter(policy or current(), tuple(hosts))
    session.trust_env = False  # no proxies from the environment (see client())
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def session(*, hosts: Iterable[str] = (), policy: Policy | None = None) -> Any:
    """A requests.Session whose every connection goes through the guard."""
    # Optional for most processes: only connectors built on requests (tweepy, praw, Mastodon.py) need it.
    import requests

    return mount(requests.Session(), hosts=hosts, policy=policy)
