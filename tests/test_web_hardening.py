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
