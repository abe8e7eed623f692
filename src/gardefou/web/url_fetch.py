"""Fetch a URL a caller named (the HMA API's ``?url=``) without letting the caller reach the
server's own network.

A caller-chosen URL is server-side request forgery waiting to happen: ``http://127.0.0.1:6379``,
the cloud metadata service at ``169.254.169.254``, an admin page on ``10.0.0.1``, or a public
name whose DNS answers one of those (or a public address first and a private one at the
connect: DNS rebinding). So, per hop:

- only ``http`` and ``https``, no user-info in the URL;
- the host is resolved **once**, and every address it resolves to must be public: loopback,
  private, link-local, shared (CGNAT), multicast, reserved, unspecified and unique-local
  addresses are refused, IPv4 and IPv6, IPv4 inside IPv6 (mapped, NAT64, 6to4, Teredo) too,
  unless the operator allow-lists the network (``allow_networks``);
- the connection goes to that checked address, with the name in the ``Host`` header and in TLS
  (SNI and certificate check), so a second DNS answer is never asked for;
- redirects are followed only after the same checks on the new URL (at most ``MAX_REDIRECTS``);
- the body is read in chunks up to ``max_bytes`` and the whole fetch, every hop included, ends
  at ``timeout_s``; environment proxies are not used (they would resolve the name again).
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from gardefou.errors import FetchError, MediaTooLargeError, UnsafeUrlError

__all__ = ["MAX_REDIRECTS", "FetchPolicy", "fetch", "parse_networks"]

MAX_REDIRECTS = 3
_CHUNK = 64 * 1024

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: (host, port) -> the addresses to try, in order; tests replace it to fake DNS
Resolver = Callable[[str, int], list[str]]
#: NAT64's well-known prefix: the gateway forwards to the IPv4 address in the last 32 bits
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
#: a DNS name or an IP literal (IPv6 without brackets or zone), once IDNA-encoded
_HOST = re.compile(r"[A-Za-z0-9._:-]+")


@dataclass(frozen=True)
class FetchPolicy:
    """How a fetch is bounded. ``setting``: the operator setting that widens
    ``allow_networks``, named in refusals so that the operator knows what to change."""

    max_bytes: int
    timeout_s: float = 10.0
    allow_networks: tuple[Network, ...] = ()
    setting: str = "GARDEFOU_HMA_URL_ALLOW_NETWORKS"


def parse_networks(raw: str, setting: str) -> tuple[Network, ...]:
    """``10.1.0.0/16, fd00::/8`` -> networks; a bad item raises ConfigError naming it."""
    from gardefou.errors import ConfigError

    out = []
    for item in (p.strip() for p in raw.split(",")):
        if not item:
            continue
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(
                f"{setting}: {item!r} is not an IP network; write e.g. {setting}=10.1.0.0/16"
            ) from None
    return tuple(out)


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries to (mapped, NAT64, 6to4, Teredo), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def _why_not_public(ip: IPAddress) -> str | None:
    """What kind of non-public address ``ip`` is ("a loopback address"), or None."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_v4(ip)
        if inner is not None:
            why = _why_not_public(inner)
            return f"{why} ({inner} inside the IPv6 address)" if why else None
        if ip in _UNIQUE_LOCAL:  # before is_private, which covers it under a vaguer name
            return "a unique-local address"
    for flag, name in (
        ("is_loopback", "loopback"),
        ("is_unspecified", "unspecified"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_reserved", "reserved"),  # before is_private, which also lists 240.0.0.0/4
        ("is_private", "private"),
    ):
        if getattr(ip, flag):
            return f"a {name} address"
    if not ip.is_global:  # 100.64.0.0/10 (carrier-grade NAT) and other special ranges
        return "a not globally routable address"
    return None


def system_resolver(host: str, port: int) -> list[str]:
    """getaddrinfo's addresses for ``host``, each once, in its order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host!r}: {exc}; check the URL's host") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str  # as in the URL (IDNA-encoded), without brackets
    port: int
    path: str  # path and query
    addresses: tuple[str, ...]

    @property
    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return name if self.port == default else f"{name}:{self.port}"


def _check(url: str, policy: FetchPolicy, resolve: Resolver) -> _Target:
    """Parse ``url`` and resolve its host once; UnsafeUrlError unless every address is public
    or inside ``policy.allow_networks``."""
    shown = url[:200]
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrlError(f"URL {shown!r} is malformed ({exc}); send an http(s) URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeUrlError(
            f"URL {shown!r} has scheme {parts.scheme or 'none'!r}; only http and https are "
            "fetched (upload the file instead)"
        )
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrlError(f"URL {shown!r} carries user info; send a URL without user:pass@")
    if not parts.hostname:
        raise UnsafeUrlError(f"URL {shown!r} names no host")
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        host = ""
    if not _HOST.fullmatch(host):  # nothing that could break out of the Host header
        raise UnsafeUrlError(f"URL {shown!r}: host {parts.hostname!r} is not a valid host name")
    port = port or (443 if scheme == "https" else 80)
    addresses = resolve(host, port)
    if not addresses:
        raise FetchError(f"cannot resolve {host!r}: no addresses; check the URL's host")
    for raw in addresses:
        ip = ipaddress.ip_address(raw.split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)
        if any(ip in net for net in policy.allow_networks if net.version == ip.version):
            continue
        why = _why_not_public(ip)
        if why:
            raise UnsafeUrlError(
                f"URL {shown!r}: host {host!r} resolves to {ip}, {why}; the server does not "
                f"fetch from its own networks. An operator who means it to can allow the "
                f"network with {policy.setting} (e.g. {policy.setting}={ip}/{ip.max_prefixlen})"
            )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return _Target(scheme, host, port, path, tuple(addresses))


def tls_context() -> ssl.SSLContext:
    """The system's trust store with hostname checking (tests swap in their own CA)."""
    return ssl.create_default_context()


def _too_slow(url: str, policy: FetchPolicy) -> FetchError:
    return FetchError(
        f"fetching {url[:200]!r} took longer than {policy.timeout_s:g} s; serve the file "
        "faster or upload it instead"
    )


def _remaining(deadline: float, url: str, policy: FetchPolicy) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise _too_slow(url, policy)
    return left


class _Watchdog:
    """Cuts the connection at the deadline. Socket timeouts bound each read, not the whole: a
    server sending a handshake, header or body byte every few seconds would otherwise hold the
    fetch (and a worker thread) for as long as it likes."""

    def __init__(self, seconds: float) -> None:
        self.expired = threading.Event()
        self._sock: socket.socket | None = None
        self._guard = threading.Lock()
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        """The socket to cut (the plain TCP one, so that a TLS handshake is bounded too)."""
        with self._guard:
            self._sock = sock
        if self.expired.is_set():
            self._cut()

    def _cut(self) -> None:
        self.expired.set()
        with self._guard:
            sock = self._sock
        if sock is None:
            return
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed: nothing left to cut

    def cancel(self) -> None:
        self._timer.cancel()


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to a checked address, with SNI and the certificate check on the URL's host name."""

    def __init__(
        self, address: str, port: int, timeout: float, server_name: str, watchdog: _Watchdog
    ) -> None:
        super().__init__(address, port, timeout=timeout, context=tls_context())
        self._server_name = server_name
        self._watchdog = watchdog

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self._watchdog.watch(sock)
        self.sock = self._context.wrap_socket(sock, server_hostname=self._server_name)  # type: ignore[attr-defined]


def _open(
    target: _Target, url: str, policy: FetchPolicy, deadline: float
) -> tuple[http.client.HTTPConnection, _Watchdog, http.client.HTTPResponse]:
    """Connect to the first checked address that answers and send the GET."""
    last: OSError | None = None
    for address in target.addresses:
        timeout = _remaining(deadline, url, policy)
        watchdog = _Watchdog(timeout)
        conn: http.client.HTTPConnection
        if target.scheme == "https":
            conn = _PinnedHTTPSConnection(address, target.port, timeout, target.host, watchdog)
        else:
            conn = http.client.HTTPConnection(address, target.port, timeout=timeout)
        try:
            conn.connect()
            if conn.sock is not None and target.scheme == "http":
                watchdog.watch(conn.sock)
            conn.request(
                "GET",
                target.path,
                headers={"Host": target.host_header, "User-Agent": "gardefou-hma-fetch"},
            )
            return conn, watchdog, conn.getresponse()
        except (OSError, http.client.HTTPException, ValueError) as exc:
            # ValueError: http.client refusing a header value (a host with control characters)
            conn.close()
            watchdog.cancel()
            if watchdog.expired.is_set() or isinstance(exc, TimeoutError):
                raise _too_slow(url, policy) from None
            last = exc if isinstance(exc, OSError) else OSError(str(exc))
    raise FetchError(f"cannot fetch {url[:200]!r}: {last}; check that the URL is reachable")


def _read(
    watchdog: _Watchdog,
    resp: http.client.HTTPResponse,
    url: str,
    policy: FetchPolicy,
    deadline: float,
) -> bytes:
    declared = resp.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > policy.max_bytes:
        raise MediaTooLargeError(
            f"{url[:200]!r} is {int(declared)} bytes (limit {policy.max_bytes}); upload a "
            "smaller file"
        )
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            chunk = resp.read1(_CHUNK)
        except (OSError, http.client.HTTPException) as exc:
            if watchdog.expired.is_set():
                raise _too_slow(url, policy) from None
            raise FetchError(f"cannot fetch {url[:200]!r}: {exc}") from None
        if not chunk:
            if watchdog.expired.is_set():  # the cut ends a body like the server's close does
                raise _too_slow(url, policy)
            return b"".join(chunks)
        size += len(chunk)
        if size > policy.max_bytes:
            raise MediaTooLargeError(
                f"{url[:200]!r} sent more than {policy.max_bytes} bytes (the limit); upload a "
                "smaller file"
            )
        chunks.append(chunk)


#: the resolver ``fetch`` uses when given none (tests replace it to fake DNS answers)
resolve_host: Resolver = system_resolver


def fetch(url: str, policy: FetchPolicy, resolve: Resolver | None = None) -> bytes:
    """The body of ``url``, or UnsafeUrlError (scheme, host or address refused), FetchError
    (unreachable, not 200, too slow, too many redirects) or MediaTooLargeError (over
    ``policy.max_bytes``)."""
    resolve = resolve or resolve_host
    deadline = time.monotonic() + policy.timeout_s
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        target = _check(current, policy, resolve)
        conn, watchdog, resp = _open(target, current, policy, deadline)
        try:
            if resp.status in (301, 302, 303, 307, 308):
                location = resp.getheader("Location")
                if not location:
                    raise FetchError(f"{current[:200]!r} answered {resp.status} with no Location")
                current = urljoin(current, location)  # checked like the first URL, next hop
                continue
            if resp.status != 200:
                raise FetchError(
                    f"{current[:200]!r} answered HTTP {resp.status} {resp.reason}; send a URL "
                    "that serves the file"
                )
            return _read(watchdog, resp, current, policy, deadline)
        finally:
            watchdog.cancel()
            resp.close()
            conn.close()
    raise FetchError(
        f"{url[:200]!r} redirected more than {MAX_REDIRECTS} times; send the final URL"
    )
