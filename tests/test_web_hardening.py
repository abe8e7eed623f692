"""Issue 13 (web service, auth, wiring): each test here failed before its fix."""

from __future__ import annotations

import pytest

from tests.web_support import ADMIN_KEY, make_web, wait_healthy


@pytest.fixture
def web(tmp_path, db_url):
    w = make_web(tmp_path, db_url)
    yield w
    w.app.state.services.db.close()  # before the PostgreSQL schema is dropped


def _second_app(web, db_url, tmp_path):
    """Another worker over the same store (its own process state: caches, limiter)."""
    from gardefou.web import Settings, create_app
    from tests.web_support import TestClient

    app = create_app(Settings(db=db_url, admin_key=ADMIN_KEY))
    return app, TestClient(app)


# -- H1: revoked means revoked, in every process ----------------------------------------------
def test_key_revoked_on_another_worker_is_refused_at_once(web, db_url, tmp_path) -> None:
    app2, other = _second_app(web, db_url, tmp_path)
    try:
        key = web.h("platform")
        assert web.client.get("/v1/me", headers=key).status_code == 200  # cached here
        assert other.get("/v1/me", headers=key).status_code == 200  # and there
        kid = next(
            k["id"]
            for k in other.get("/v1/keys", headers=web.h("admin")).json()
            if k["role"] == "platform"
        )
        assert other.delete(f"/v1/keys/{kid}", headers=web.h("admin")).status_code == 200
        assert web.client.get("/v1/me", headers=key).status_code == 401
        assert other.get("/v1/me", headers=key).status_code == 401
    finally:
        app2.state.services.db.close()


def test_key_revoked_from_the_cli_store_is_refused_at_once(web) -> None:
    from gardefou.store.db import connect
    from gardefou.web.auth import KeyStore

    key = web.h("auditor")
    assert web.client.get("/v1/me", headers=key).status_code == 200
    db = connect(web.app.state.services.settings.db)  # what `gardefou apikey revoke` opens
    try:
        store = KeyStore(db)
        kid = next(k["id"] for k in store.list() if k["role"] == "auditor")
        store.revoke(kid)
    finally:
        db.close()
    assert web.client.get("/v1/me", headers=key).status_code == 401


# -- fail-closed wiring: unknown store URLs, a port already taken ------------------------------
@pytest.mark.parametrize(
    "url", ["mysql://u:p@db/gardefou", "postgresql+psycopg://x/y", "redis://h"]
)
def test_unknown_store_scheme_is_refused(tmp_path, monkeypatch, url) -> None:
    from gardefou.errors import ConfigError
    from gardefou.store.db import connect

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="postgresql://") as exc:
        connect(url)
    assert url.split("://")[0] in str(exc.value) and "p@" not in str(exc.value)
    assert list(tmp_path.iterdir()) == []  # no SQLite file named after the scheme


def test_cli_db_mysql_exits_with_a_config_error(tmp_path, monkeypatch) -> None:
    from click.testing import CliRunner

    import gardefou.cli.commands_web  # noqa: F401
    from gardefou.cli.main import cli

    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(cli, ["--db", "mysql://root@localhost/gf", "apikey", "list"])
    assert r.exit_code != 0 and "mysql" in r.output
    assert not (tmp_path / "mysql:").exists()


def test_serve_on_a_port_in_use_fails_before_creating_a_key(tmp_path, monkeypatch) -> None:
    import socket

    from click.testing import CliRunner

    import gardefou.cli.commands_web  # noqa: F401
    from gardefou.cli.main import cli
    from gardefou.store.db import connect
    from gardefou.web.auth import KeyStore

    db = str(tmp_path / "s.db")
    monkeypatch.delenv("GARDEFOU_ADMIN_KEY", raising=False)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = CliRunner().invoke(cli, ["--db", db, "serve", "--port", str(port)])
    assert r.exit_code != 0 and str(port) in r.output and "in use" in r.output
    assert "serving" not in r.output and "shown once" not in r.output
    store = connect(db)
    try:
        assert KeyStore(store).list() == []
    finally:
        store.close()


# -- rate limits: shared between workers, fast with many callers, wrong keys counted ---------
@pytest.mark.redis
def test_two_workers_sharing_redis_share_one_limit(tmp_path, redis_url) -> None:
    import uuid

    from gardefou.web import Settings, create_app
    from tests.web_support import TestClient

    common = dict(
        db=str(tmp_path / "w.db"),
        admin_key=ADMIN_KEY,
        rates={"public": 4},
        rate_limit_url=redis_url,
        rate_limit_prefix=f"test-{uuid.uuid4().hex}",
    )
    apps = [create_app(Settings(**common)) for _ in range(2)]
    clients = [TestClient(a) for a in apps]
    try:
        codes = [
            clients[i % 2].post("/v1/takedown/status", json={"case_number": "TD-X", "pin": str(i)})
            .status_code
            for i in range(8)
        ]  # fmt: skip
        assert codes[:4] == [401] * 4 and set(codes[4:]) == {429}, codes
    finally:
        for a in apps:
            a.state.services.db.close()


def test_unreachable_rate_limit_store_stops_the_app(tmp_path) -> None:
    from gardefou.errors import ConfigError
    from gardefou.web import Settings, create_app

    with pytest.raises(ConfigError, match="rate-limit storage"):
        create_app(Settings(db=str(tmp_path / "w.db"), rate_limit_url="redis://127.0.0.1:1/0"))
    with pytest.raises(ConfigError, match="not a Redis URL"):
        create_app(Settings(db=str(tmp_path / "w.db"), rate_limit_url="memcached://h:1"))


def test_in_process_limiter_stays_fast_with_200k_callers() -> None:
    import statistics
    import time

    from gardefou.web.limits import RateLimiter

    limiter = RateLimiter()
    start = time.perf_counter()
    for i in range(200_000):
        limiter.hit(f"ip:10.{i >> 16}.{(i >> 8) & 255}.{i & 255}", 60)
        if i % 5000 == 0:  # the old limiter rebuilt its dict on every request past 100k
            assert time.perf_counter() - start < 60, f"{i} callers took too long"
    lat = []
    for i in range(2000):
        t = time.perf_counter()
        limiter.hit(f"ip:192.0.2.{i % 250}:{i}", 60)
        lat.append(time.perf_counter() - t)
    assert statistics.median(lat) < 0.001, statistics.median(lat)  # old: ~21 ms


def test_in_process_limiter_is_bounded() -> None:
    import threading

    from gardefou.web.limits import RateLimiter

    threads = threading.active_count()
    limiter = RateLimiter(max_buckets=1000)
    for i in range(5000):
        limiter.hit(f"ip:{i}", 60)
    assert threading.active_count() == threads  # no scanning thread left behind
    assert len(limiter._limiter.storage.storage) <= 2 * 1000
    limiter.hit("ip:4999", 60)  # a recent caller is still counted
    assert limiter._limiter.storage.storage  # and counters survive the shrink


def test_wrong_api_keys_are_rate_limited_per_address(tmp_path) -> None:
    web = make_web(tmp_path, rates={"failed_keys": 3})
    codes = [
        web.client.get("/v1/me", headers={"X-API-Key": f"gf_guess{i}"}).status_code
        for i in range(5)
    ]
    assert codes == [401, 401, 401, 429, 429], codes
    r = web.client.get("/v1/me", headers={"X-API-Key": "gf_guess9"})
    assert "wrong API keys" in r.json()["message"] and int(r.headers["Retry-After"]) >= 1
    web.app.state.services.db.close()


# -- trusted proxies, API docs -------------------------------------------------------------------
def _serve_kwargs(tmp_path, monkeypatch, env: dict[str, str]) -> dict:
    import socket

    from click.testing import CliRunner

    import gardefou.cli.commands_web  # noqa: F401
    from gardefou.cli.main import cli

    seen: dict = {}
    monkeypatch.setattr("uvicorn.run", lambda *a, **kw: seen.update(kw))
    for k in ("GARDEFOU_TRUSTED_PROXIES", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("GARDEFOU_ADMIN_KEY", ADMIN_KEY)
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    r = CliRunner().invoke(cli, ["--db", str(tmp_path / "s.db"), "serve", "--port", str(port)])
    assert r.exit_code == 0, r.output
    return seen


def test_serve_trusts_no_forwarded_header_by_default(tmp_path, monkeypatch) -> None:
    kw = _serve_kwargs(tmp_path, monkeypatch, {"FORWARDED_ALLOW_IPS": "*"})
    assert kw["proxy_headers"] is False  # not even from loopback, whatever uvicorn's env says
    kw = _serve_kwargs(tmp_path, monkeypatch, {"GARDEFOU_TRUSTED_PROXIES": "10.0.0.5, 10.1.0.0/16"})
    assert kw["proxy_headers"] is True and kw["forwarded_allow_ips"] == "10.0.0.5,10.1.0.0/16"


def test_trusted_proxies_must_be_addresses() -> None:
    from gardefou.errors import ConfigError
    from gardefou.web import Settings

    with pytest.raises(ConfigError, match=r"proxy\.example"):
        Settings(trusted_proxies=("proxy.example",))


def test_api_docs_are_off_by_default(web, tmp_path, monkeypatch) -> None:
    assert web.client.get("/docs").status_code == 404
    assert web.client.get("/redoc").status_code == 404
    assert "/v1/scan" in web.client.get("/openapi.json").json()["paths"]  # plain JSON: kept
    from gardefou.web import Settings

    monkeypatch.setenv("GARDEFOU_API_DOCS", "1")
    assert Settings.from_env().api_docs is True
    monkeypatch.setenv("GARDEFOU_API_DOCS", "maybe")
    from gardefou.errors import ConfigError

    with pytest.raises(ConfigError, match="GARDEFOU_API_DOCS"):
        Settings.from_env()
    on = make_web(tmp_path / "on", api_docs=True)
    assert on.client.get("/docs").status_code == 200
    on.app.state.services.db.close()


# -- low items -----------------------------------------------------------------------------------


JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("method", "path", "kw"),
    [
        ("post", "/v1/takedown", {"content": b'{"kind": ', "headers": JSON}),
        ("post", "/v1/takedown", {"content": b"\xff\xfe", "headers": JSON}),
        ("post", "/v1/scan", {"content": b"x", "headers": {"content-type": "multipart/form-data"}}),
        ("get", "/v1/no-such-thing", {}),
        ("put", "/v1/takedown", {}),
    ],
)
def test_every_error_has_the_documented_shape(web, method, path, kw) -> None:
    kw = dict(kw)  # the parameter is shared by both backends' runs: do not mutate it
    headers = {**kw.pop("headers", {}), **web.h("platform")}
    r = getattr(web.client, method)(path, headers=headers, **kw)
    assert r.status_code >= 400
    body = r.json()
    assert {"error", "type", "message"} <= set(body), body
    assert body["message"] and body["message"] != "Not Found"


def test_malformed_json_says_so(web) -> None:
    r = web.client.post(
        "/v1/takedown", content=b'{"kind": ', headers={"content-type": "application/json"}
    )
    assert r.status_code == 422 and "not valid JSON" in r.json()["message"]


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("start=2020-13-45", "start='2020-13-45' is not a valid date"),
        ("end=2021-02-30", "end='2021-02-30' is not a valid date"),
        ("start=2021-06-01&end=2021-01-01", "is before start"),
    ],
)
def test_transparency_period_is_checked(web, query, words) -> None:
    r = web.client.get(f"/v1/reports/transparency?{query}", headers=web.h("auditor"))
    assert r.status_code in (400, 422) and words in r.json()["message"], r.text
    ok = web.client.get(
        "/v1/reports/transparency?start=2021-01-01&end=2021-06-01", headers=web.h("auditor")
    )
    assert ok.status_code == 200


def test_live_server_ignores_forwarded_for_from_loopback(tmp_path) -> None:
    """The attack of issue 13 against a real `gardefou serve`: vary X-Forwarded-For from
    loopback to get a fresh per-address budget on every request."""
    import os
    import socket
    import subprocess
    import sys

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "GARDEFOU_DB": str(tmp_path / "s.db"), "GARDEFOU_ADMIN_KEY": ADMIN_KEY}
    for k in ("GARDEFOU_TRUSTED_PROXIES", "FORWARDED_ALLOW_IPS", "GARDEFOU_RATE_LIMIT_URL"):
        env.pop(k, None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from gardefou.cli.main import main; main()",
            "serve",
            "--port",
            str(port),
        ],
        stderr=subprocess.DEVNULL,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base)
        codes = [
            httpx.get(base + "/v1/me", headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
            for i in range(70)
        ]
        assert codes[:59].count(200) == 59 and codes[-1] == 429, codes  # public: 60 a minute
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_serve_with_an_unreachable_rate_limit_store_stops_before_any_key(
    tmp_path, monkeypatch
) -> None:
    import socket

    from click.testing import CliRunner

    import gardefou.cli.commands_web  # noqa: F401
    from gardefou.cli.main import cli

    monkeypatch.delenv("GARDEFOU_ADMIN_KEY", raising=False)
    monkeypatch.setenv("GARDEFOU_RATE_LIMIT_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setattr("uvicorn.run", lambda *a, **kw: None)
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = str(free.getsockname()[1])
    r = CliRunner().invoke(cli, ["--db", str(tmp_path / "s.db"), "serve", "--port", port])
    assert r.exit_code == 2 and "rate-limit storage" in r.output
    assert "shown once" not in r.output and "serving" not in r.output
