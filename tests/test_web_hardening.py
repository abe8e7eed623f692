"""Issue 13 (web, auth, takedown portal): each test here failed before its fix."""

from __future__ import annotations

import pytest

from tests.web_support import ADMIN_KEY, make_web


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


# -- M1: PIN guessing on the takedown portal ---------------------------------------------------
def test_wrong_pins_lock_the_case_across_workers_and_addresses(web, db_url, tmp_path) -> None:
    from tests.web_support import takedown_body

    r = web.client.post("/v1/takedown", json=takedown_body())
    case, pin = r.json()["case_number"], r.json()["pin"]
    wrong = "00000000" if pin != "00000000" else "11111111"
    app2, other = _second_app(web, db_url, tmp_path)
    try:
        codes = []
        for i in range(8):  # alternate workers and claimed addresses, as a guesser would
            client = (web.client, other)[i % 2]
            r = client.post(
                "/v1/takedown/status",
                json={"case_number": case, "pin": wrong},
                headers={"X-Forwarded-For": f"203.0.113.{i}"},
            )
            codes.append(r.status_code)
        assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}, codes
        # locked means locked: even the right PIN waits, with a Retry-After
        r = other.post("/v1/takedown/status", json={"case_number": case, "pin": pin})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert "too many wrong PINs" in r.json()["message"]
    finally:
        app2.state.services.db.close()


def test_lockout_backs_off_and_a_right_pin_resets_it(tmp_path) -> None:
    from gardefou.errors import AuthError, RateLimitError
    from gardefou.store.db import connect
    from gardefou.takedown import TakedownService
    from tests.test_takedown import Clock, request

    clock = Clock()
    db = connect(tmp_path / "t.db")
    svc = TakedownService(db, clock=clock)
    case, pin = svc.submit(request())
    for _ in range(5):
        with pytest.raises(AuthError):
            svc.lookup(case, "99999999" if pin != "99999999" else "88888888")
    with pytest.raises(RateLimitError) as first:
        svc.lookup(case, pin)
    clock.t += first.value.retry_after + 1
    with pytest.raises(AuthError):  # a 6th wrong PIN after the wait: a longer lock
        svc.lookup(case, "99999999" if pin != "99999999" else "88888888")
    with pytest.raises(RateLimitError) as second:
        svc.lookup(case, pin)
    assert second.value.retry_after > first.value.retry_after * 1.5
    clock.t += second.value.retry_after + 1
    assert svc.lookup(case, pin).case_number == case  # the person gets in, the count resets
    assert db.query("SELECT * FROM pin_attempts") == []
    db.close()


def test_unknown_cases_lock_too_and_cost_a_pin_check(tmp_path, monkeypatch) -> None:
    import gardefou.pins as pins
    from gardefou.errors import AuthError, RateLimitError
    from gardefou.store.db import connect
    from gardefou.takedown import TakedownService

    svc = TakedownService(connect(tmp_path / "t.db"))
    checks = []
    real = pins.check_pin
    monkeypatch.setattr(pins, "check_pin", lambda p, h: checks.append(h) or real(p, h))
    for _ in range(5):
        with pytest.raises(AuthError):
            svc.lookup("TD-NOSUCH00", "12345678")
    assert len(checks) == 5 and all(h.startswith("$argon2id$") for h in checks)
    with pytest.raises(RateLimitError):  # no oracle: an unknown case locks like a real one
        svc.lookup("TD-NOSUCH00", "12345678")
    svc.db.close()


def test_unknown_case_and_wrong_pin_take_the_same_time(tmp_path) -> None:
    import statistics
    import time

    from gardefou.errors import AuthError
    from gardefou.store.db import connect
    from gardefou.takedown import TakedownService
    from tests.test_takedown import request

    svc = TakedownService(connect(tmp_path / "t.db"))
    cases = [svc.submit(request()) for _ in range(3)]

    def took(case: str, pin: str) -> float:
        t = time.perf_counter()
        with pytest.raises(AuthError):
            svc.lookup(case, pin)
        return time.perf_counter() - t

    wrong = [took(c, "0" + p[1:] if p[0] != "0" else "1" + p[1:]) for c, p in cases * 2]
    unknown = [took(f"TD-UNKNOWN{i}", "12345678") for i in range(6)]
    ratio = statistics.median(unknown) / statistics.median(wrong)
    assert 0.5 < ratio < 2.0, (statistics.median(unknown), statistics.median(wrong))
    svc.db.close()


def test_one_pin_hasher_argon2id_and_old_pbkdf2_hashes_still_open(tmp_path) -> None:
    import hashlib
    import re
    import secrets
    from pathlib import Path

    import gardefou
    from gardefou.pins import check_pin, hash_pin, needs_rehash
    from gardefou.store.db import connect
    from gardefou.takedown import TakedownService
    from tests.test_takedown import request

    src = Path(gardefou.__file__).parent
    users = sorted(
        str(p.relative_to(src))
        for p in src.rglob("*.py")
        if re.search(r"pbkdf2_hmac|PasswordHasher", p.read_text(encoding="utf-8"))
    )
    # one PIN hasher for the project; consent.py hashes a 96-bit random withdrawal code, which
    # no guessing reaches whatever the hash (like API keys), not an 8-digit PIN
    assert users == ["consent.py", "pins.py"], users
    assert hash_pin("12345678").startswith("$argon2id$") and check_pin(
        "12345678", hash_pin("12345678")
    )
    svc = TakedownService(connect(tmp_path / "t.db"))
    case, _ = svc.submit(request())
    salt = secrets.token_bytes(16)  # a hash written by an older release (120k PBKDF2)
    digest = hashlib.pbkdf2_hmac("sha256", b"24681357", salt, 120_000).hex()
    old = f"pbkdf2_sha256$120000${salt.hex()}${digest}"
    svc.db.execute("UPDATE takedown_requests SET pin_hash = ?", (old,))
    assert svc.lookup(case, "24681357").case_number == case
    stored = svc.db.query_one("SELECT pin_hash FROM takedown_requests")["pin_hash"]
    assert stored.startswith("$argon2id$") and not needs_rehash(stored)  # upgraded on use
    assert svc.lookup(case, "24681357").case_number == case
    svc.db.close()


# -- M2: regulator notices ---------------------------------------------------------------------
def test_anonymous_regulator_notice_is_unverified_with_the_ordinary_deadline(web) -> None:
    from tests.web_support import takedown_body

    notice = takedown_body(kind="regulator_notice", issuer="esafety_au", issuer_reference="E-1")
    person = web.client.post("/v1/takedown", json=takedown_body())
    anon = web.client.post("/v1/takedown", json=notice)
    assert anon.status_code == 201
    assert anon.json()["window_hours"] == 48 and anon.json()["verified"] is False
    staff = web.client.post("/v1/takedown", json=notice, headers=web.h("moderator"))
    assert staff.json()["window_hours"] == 24 and staff.json()["verified"] is True
    for role in ("platform", "public"):  # keys without a notice role: unverified
        r = web.client.post("/v1/takedown", json=notice, headers=web.h(role))
        assert r.json()["verified"] is False and r.json()["window_hours"] == 48
    queue = web.client.get("/v1/takedown/requests", headers=web.h("auditor")).json()
    order = [q["case_number"] for q in queue]
    # the verified notice is due first; the anonymous one does not jump the person filed before
    assert order[0] == staff.json()["case_number"]
    assert order.index(person.json()["case_number"]) < order.index(anon.json()["case_number"])
    by_case = {q["case_number"]: q for q in queue}
    assert by_case[anon.json()["case_number"]]["verified"] is False
    assert by_case[staff.json()["case_number"]]["verified"] is True


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
def test_accept_note_stays_internal_and_resolution_is_what_the_person_reads(web) -> None:
    from tests.web_support import takedown_body

    filed = []
    for _ in range(2):
        r = web.client.post("/v1/takedown", json=takedown_body())
        filed.append((r.json()["case_number"], r.json()["pin"]))
    queue = web.client.get("/v1/takedown/requests", headers=web.h("moderator")).json()
    ids = {q["case_number"]: q["id"] for q in queue}
    secret = "internal: same uploader as TD-123, escalate to legal"
    mod = web.h("moderator")
    r = web.client.post(
        f"/v1/takedown/requests/{ids[filed[0][0]]}/accept", json={"note": secret}, headers=mod
    )
    assert r.status_code == 200 and any(secret in h["note"] for h in r.json()["history"])
    st = web.client.post(
        "/v1/takedown/status", json={"case_number": filed[0][0], "pin": filed[0][1]}
    ).json()
    assert st["resolution"] == "removed" and "legal" not in str(st)
    text = "Removed from the three posts you listed."
    web.client.post(
        f"/v1/takedown/requests/{ids[filed[1][0]]}/accept", json={"resolution": text}, headers=mod
    )
    st = web.client.post(
        "/v1/takedown/status", json={"case_number": filed[1][0], "pin": filed[1][1]}
    ).json()
    assert st["resolution"] == text


def test_takedown_queue_pages_and_says_its_total(web) -> None:
    from gardefou.takedown import TakedownService
    from tests.test_takedown import request

    svc = TakedownService(web.app.state.services.db)
    for _ in range(5):
        svc.submit(request())
    first = web.client.get("/v1/takedown/requests?limit=2", headers=web.h("auditor"))
    assert len(first.json()) == 2 and first.headers["X-Total-Count"] == "5"
    rest = web.client.get("/v1/takedown/requests?limit=2&offset=4", headers=web.h("auditor"))
    assert len(rest.json()) == 1
    every = [
        q["id"]
        for off in (0, 2, 4)
        for q in web.client.get(
            f"/v1/takedown/requests?limit=2&offset={off}", headers=web.h("auditor")
        ).json()
    ]
    assert len(set(every)) == 5
    assert (
        web.client.get("/v1/takedown/requests?limit=0", headers=web.h("auditor")).status_code == 422
    )
    cases = web.client.get("/v1/cases", headers=web.h("auditor"))
    if cases.status_code == 200:  # the cases router is optional in a slim install
        assert cases.headers["X-Total-Count"] == str(len(cases.json()))


def test_alerts_are_not_cut_by_the_queue_page(tmp_path) -> None:
    from gardefou.store.db import connect
    from gardefou.takedown import TakedownService
    from tests.test_takedown import Clock, request

    clock = Clock()
    svc = TakedownService(connect(tmp_path / "t.db"), clock=clock)
    svc.submit(request())
    row = svc.db.query_one("SELECT * FROM takedown_requests")
    cols = [c for c in row if c != "id"]
    with svc.db.transaction():  # 250 breached requests: more than the queue's first page
        for i in range(249):
            values = [f"TD-COPY{i:04d}" if c == "case_number" else row[c] for c in cols]
            svc.db.execute(
                f"INSERT INTO takedown_requests ({', '.join(cols)}) "
                f"VALUES ({', '.join('?' * len(cols))})",
                values,
            )
    svc.db.execute("UPDATE takedown_requests SET deadline_at = ?", (clock() - 1,))
    assert len(svc.queue()) == 200 and svc.count() == 250
    assert len(svc.alerts()) == 250
    svc.db.close()


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


@pytest.mark.parametrize(
    "field",
    ["signature.name", "description", "good_faith_statement", "contact.email", "locations[0]"],
)
def test_nul_characters_are_refused_in_takedown_fields(web, field) -> None:
    from tests.web_support import takedown_body

    body = takedown_body()
    if field == "locations[0]":
        body["locations"] = ["https://social.example/p/1\x00x"]
    elif "." in field:
        outer, inner = field.split(".")
        body[outer] = {**body[outer], inner: "a\x00b@example.org"}
    else:
        body[field] = "text\x00more"
    r = web.client.post("/v1/takedown", json=body)
    assert r.status_code == 422 and field in r.json()["message"] and "NUL" in r.json()["message"]
    assert web.client.get("/v1/takedown/stats", headers=web.h("auditor")).json()["total"] == 0
    for path in ("/v1/takedown/status", "/v1/submissions/status"):
        lookup = web.client.post(path, json={"case_number": "TD-\x00", "pin": "1"})
        assert lookup.status_code == 422 and "NUL" in lookup.json()["message"]


def test_live_server_ignores_forwarded_for_from_loopback(tmp_path) -> None:
    """The attack of issue 13 against a real `gardefou serve`: vary X-Forwarded-For from
    loopback to get a fresh per-address budget on every request."""
    import os
    import socket
    import subprocess
    import sys
    import time

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
        for _ in range(300):
            try:
                if httpx.get(base + "/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        codes = [
            httpx.get(base + "/v1/me", headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
            for i in range(70)
        ]
        assert codes[:59].count(200) == 59 and codes[-1] == 429, codes  # public: 60 a minute
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_submission_pins_lock_too(web) -> None:
    r = web.client.post("/v1/submissions", json={"hashes": [{"pdq": "f" * 64, "quality": 100}]})
    case, pin = r.json()["case_number"], r.json()["pin"]
    wrong = "00000000" if pin != "00000000" else "11111111"
    codes = [
        web.client.post(
            "/v1/submissions/status", json={"case_number": case, "pin": wrong}
        ).status_code
        for _ in range(7)
    ]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}, codes
    r = web.client.post("/v1/submissions/status", json={"case_number": case, "pin": pin})
    assert r.status_code == 429


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


def test_idle_pin_counters_are_forgotten(tmp_path, monkeypatch) -> None:
    import gardefou.pins as pins
    from gardefou.store.db import connect
    from tests.test_takedown import Clock

    clock = Clock()
    db = connect(tmp_path / "a.db")
    attempts = pins.Attempts(db, "takedown", clock=clock)
    attempts.failed("TD-OLD")
    clock.t += 2 * 86400
    monkeypatch.setattr(pins.secrets, "randbelow", lambda n: 0)  # the 1-in-64 sweep runs now
    attempts.failed("TD-NEW")
    assert [r["subject"] for r in db.query("SELECT subject FROM pin_attempts")] == ["TD-NEW"]
    db.close()
