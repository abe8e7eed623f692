"""``?url=`` fetching (gardefou.web.url_fetch, the HMA API): a caller-chosen URL never makes
the server reach its own network, and a hostile server cannot hold it or fill its memory.

Before: ``urllib.request.urlopen(url)`` fetched anything http(s) the caller named — loopback,
private and metadata addresses, redirects to them, names resolving to them — with a timeout
per socket operation only (a byte every few seconds kept it forever).
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gardefou.errors import ConfigError, FetchError, MediaTooLargeError, UnsafeUrlError
from gardefou.web import url_fetch
from gardefou.web.url_fetch import FetchPolicy, fetch, parse_networks
from tests.web_support import make_web

LOCAL = parse_networks("127.0.0.1/32", "GARDEFOU_HMA_URL_ALLOW_NETWORKS")


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def _send(self, status: int, body: bytes = b"", **headers: str) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k.replace("_", "-"), v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        port = self.server.server_address[1]
        if self.path == "/ok":
            self._send(200, b"hello", Content_Length="5")
        elif self.path == "/image":
            self._send(200, self.server.image, Content_Length=str(len(self.server.image)))
        elif self.path == "/host":
            body = self.headers["Host"].encode()
            self._send(200, body, Content_Length=str(len(body)))
        elif self.path == "/big":  # no Content-Length: only counting while reading stops it
            self._send(200, b"x" * 5000)
        elif self.path == "/big-declared":
            self._send(200, b"x" * 10, Content_Length="999999999")
        elif self.path == "/slow":  # a byte every 0.2 s: each read is quick, the whole is not
            self._send(200)
            for _ in range(50):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.2)
        elif self.path == "/slow-headers":  # one header line, a byte at a time
            self.wfile.write(b"HTTP/1.0 200 OK\r\nX-Drip: ")
            for _ in range(50):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.2)
        elif self.path == "/to-loopback":
            self._send(302, Location=f"http://127.0.0.2:{port}/ok")
        elif self.path == "/to-ok":
            self._send(302, Location="/ok")
        elif self.path == "/loop":
            self._send(302, Location="/loop")
        else:
            self._send(404)


@pytest.fixture
def server(fixtures) -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.image = (fixtures / "pdq" / "images" / "bridge-mods" / "aaa-orig.jpg").read_bytes()
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def policy(**kw) -> FetchPolicy:
    return FetchPolicy(**{"max_bytes": 1000, "timeout_s": 5.0, **kw})


def test_a_local_server_is_refused_by_default(server) -> None:
    with pytest.raises(UnsafeUrlError, match=r"127\.0\.0\.1, a loopback address") as e:
        fetch(server + "/ok", policy())
    assert "GARDEFOU_HMA_URL_ALLOW_NETWORKS=127.0.0.1/32" in str(e.value)  # the fix, named
    assert fetch(server + "/ok", policy(allow_networks=LOCAL)) == b"hello"  # the opt-in


def test_a_redirect_is_checked_like_the_first_url(server) -> None:
    allowed = policy(allow_networks=LOCAL)  # 127.0.0.1 only: 127.0.0.2 stays refused
    with pytest.raises(UnsafeUrlError, match=r"127\.0\.0\.2, a loopback address"):
        fetch(server + "/to-loopback", allowed)
    assert fetch(server + "/to-ok", allowed) == b"hello"
    with pytest.raises(FetchError, match="redirected more than 3 times"):
        fetch(server + "/loop", allowed)


def test_an_oversized_body_stops_at_the_limit(server) -> None:
    allowed = policy(allow_networks=LOCAL)
    with pytest.raises(MediaTooLargeError, match="more than 1000 bytes"):
        fetch(server + "/big", allowed)
    with pytest.raises(MediaTooLargeError, match="999999999 bytes"):
        fetch(server + "/big-declared", allowed)


@pytest.mark.parametrize("path", ["/slow", "/slow-headers"])
def test_a_slow_server_ends_at_the_total_timeout(server, path) -> None:
    start = time.monotonic()
    with pytest.raises(FetchError, match="longer than 1 s"):
        fetch(server + path, policy(allow_networks=LOCAL, timeout_s=1.0))
    assert time.monotonic() - start < 3


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://example.com/a.jpg", "gopher://127.0.0.1:6379/_INFO", "/x.jpg"],
)
def test_only_http_and_https(url) -> None:
    with pytest.raises(UnsafeUrlError, match="only http and https"):
        fetch(url, policy(), resolve=lambda h, p: pytest.fail("resolved a refused scheme"))


def test_user_info_and_odd_hosts_are_refused() -> None:
    public = lambda h, p: ["93.184.215.14"]  # noqa: E731
    with pytest.raises(UnsafeUrlError, match="user info"):
        fetch("http://u:p@example.com/a.jpg", policy(), resolve=public)
    for url in ("http://exa mple.com/", "http://a%0d%0aX-Evil:1@/", "http://[::1%25lo]/"):
        with pytest.raises(UnsafeUrlError):
            fetch(url, policy(), resolve=public)


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("10.0.0.5", "private"),
        ("192.168.1.1", "private"),
        ("172.16.0.1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("100.64.0.1", "not globally routable"),  # carrier-grade NAT
        ("0.0.0.0", "unspecified"),
        ("127.8.9.10", "loopback"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("::1", "loopback"),
        ("fe80::1%eth0", "link-local"),
        ("fd12:3456::1", "unique-local"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", r"loopback address \(127.0.0.1 inside the IPv6"),
        ("::ffff:10.0.0.1", r"private address \(10.0.0.1 inside the IPv6"),
        ("64:ff9b::a9fe:a9fe", r"link-local address \(169.254.169.254 inside"),  # NAT64
        ("2002:0a00:0001::1", r"private address \(10.0.0.1 inside the IPv6"),  # 6to4
    ],
)
def test_a_name_resolving_to_an_internal_address_is_refused(address, why) -> None:
    calls = []

    def resolver(host: str, port: int) -> list[str]:
        calls.append((host, port))
        return ["93.184.215.14", address]  # one public answer does not excuse the other

    shown = ipaddress.ip_address(address.split("%")[0])  # as the message prints it
    with pytest.raises(UnsafeUrlError, match=f"resolves to {shown}, a {why}") as e:
        fetch("https://media.example/a.jpg", policy(), resolve=resolver)
    assert "'media.example'" in str(e.value) and "GARDEFOU_HMA_URL_ALLOW_NETWORKS" in str(e.value)
    assert calls == [("media.example", 443)]


def test_the_checked_address_is_the_one_connected_with_the_name_as_host(server) -> None:
    """No DNS rebinding: the name is resolved once (here by a fake resolver: the name exists
    nowhere else), the connection goes to that address, the name travels in Host."""
    port = int(server.rsplit(":", 1)[1])
    calls = []

    def resolver(host: str, p: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"]

    body = fetch(f"http://pinned.example:{port}/host", policy(allow_networks=LOCAL), resolver)
    assert body == f"pinned.example:{port}".encode() and calls == ["pinned.example"]


@pytest.fixture
def tls_server(tmp_path, monkeypatch) -> Iterator[int]:
    """An HTTPS server on 127.0.0.1 whose certificate names pinned.example only, trusted by
    the fetcher through a test CA."""
    import datetime
    import ssl

    pytest.importorskip("cryptography")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pinned.example")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("pinned.example")]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "c.pem").write_bytes(pem)
    (tmp_path / "k.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.socket = server_ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    def trusting() -> ssl.SSLContext:
        ctx = ssl.create_default_context(cadata=pem.decode())
        return ctx

    monkeypatch.setattr(url_fetch, "tls_context", trusting)
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_tls_to_the_pinned_address_checks_the_url_host(tls_server) -> None:
    """Connecting to an IP must not weaken TLS: SNI and the certificate check use the name."""
    to_local = policy(allow_networks=LOCAL)
    body = fetch(f"https://pinned.example:{tls_server}/host", to_local, lambda h, p: ["127.0.0.1"])
    assert body == f"pinned.example:{tls_server}".encode()
    with pytest.raises(FetchError, match="certificate"):  # same server, another name
        fetch(f"https://other.example:{tls_server}/ok", to_local, lambda h, p: ["127.0.0.1"])


def test_a_silent_tls_handshake_ends_at_the_total_timeout() -> None:
    import socket

    listener = socket.create_server(("127.0.0.1", 0))  # accepts (backlog), never answers
    port = listener.getsockname()[1]
    try:
        start = time.monotonic()
        with pytest.raises(FetchError, match="longer than 1 s"):
            fetch(f"https://127.0.0.1:{port}/", policy(allow_networks=LOCAL, timeout_s=1.0))
        assert time.monotonic() - start < 3
    finally:
        listener.close()


def test_allow_networks_setting_is_validated() -> None:
    assert parse_networks(" 10.1.0.0/16 , fd00::/8", "S") == (
        ipaddress.ip_network("10.1.0.0/16"),
        ipaddress.ip_network("fd00::/8"),
    )
    with pytest.raises(ConfigError, match="'intranet' is not an IP network"):
        parse_networks("intranet", "GARDEFOU_HMA_URL_ALLOW_NETWORKS")


@pytest.fixture
def hma(tmp_path, monkeypatch):
    monkeypatch.setenv("GARDEFOU_HMA_API", "1")
    monkeypatch.setenv("GARDEFOU_HMA_ALLOW_URL", "1")

    def build(**env: str):
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        w = make_web(tmp_path / str(len(env)))
        assert w.app.state.hma_ready.wait(30)
        w.client.headers["X-API-Key"] = w.keys["admin"]
        return w

    return build


def test_hma_url_routes_refuse_internal_addresses(hma, server, monkeypatch) -> None:
    w = hma()
    for path in ("/h/hash", "/m/lookup"):
        r = w.client.get(path, params={"url": server + "/image"})
        assert r.status_code == 400, r.text
        assert "loopback" in r.json()["message"]
        assert "GARDEFOU_HMA_URL_ALLOW_NETWORKS" in r.json()["message"]
    monkeypatch.setattr(url_fetch, "resolve_host", lambda host, port: ["10.0.0.7"])
    r = w.client.get("/h/hash", params={"url": "http://intranet.example/a.jpg"})
    assert r.status_code == 400 and "10.0.0.7, a private address" in r.json()["message"]


def test_hma_url_fetch_with_the_operator_allow_list(hma, server) -> None:
    w = hma(GARDEFOU_HMA_URL_ALLOW_NETWORKS="127.0.0.1/32", GARDEFOU_HMA_URL_TIMEOUT_S="5")
    r = w.client.get("/h/hash", params={"url": server + "/image"})
    assert r.status_code == 200, r.text
    assert len(r.json()["pdq"]) == 64
    r = w.client.get("/h/hash", params={"url": server + "/to-loopback"})
    assert r.status_code == 400 and "127.0.0.2" in r.json()["message"]


def test_hma_timeout_setting_is_validated(tmp_path, monkeypatch) -> None:
    from gardefou.web.routers.hma import HmaConfig

    monkeypatch.setenv("GARDEFOU_HMA_URL_TIMEOUT_S", "forever")
    with pytest.raises(ConfigError, match="GARDEFOU_HMA_URL_TIMEOUT_S='forever'"):
        HmaConfig.from_env()
