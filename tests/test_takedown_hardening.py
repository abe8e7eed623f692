"""Issue 13 (takedown portal): PIN guessing, regulator notices, what the person reads, the
queue's pages, NUL characters. Each test here failed before its fix."""

from __future__ import annotations

import pytest

from tests.web_support import ADMIN_KEY, make_web


@pytest.fixture
def web(tmp_path, db_url):
    w = make_web(tmp_path, db_url)
    yield w
    w.app.state.services.db.close()  # before the PostgreSQL schema is dropped


def _second_app(db_url):
    """Another worker over the same store (its own process state)."""
    from gardefou.web import Settings, create_app
    from tests.web_support import TestClient

    app = create_app(Settings(db=db_url, admin_key=ADMIN_KEY))
    return app, TestClient(app)


def test_wrong_pins_lock_the_case_across_workers_and_addresses(web, db_url, tmp_path) -> None:
    from tests.web_support import takedown_body

    r = web.client.post("/v1/takedown", json=takedown_body())
    case, pin = r.json()["case_number"], r.json()["pin"]
    wrong = "00000000" if pin != "00000000" else "11111111"
    app2, other = _second_app(db_url)
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
    # one hasher for every PIN and code a person proves a claim with (consent codes included)
    assert users == ["pins.py"], users
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


def test_lock_times_keep_their_precision_on_every_backend(db_url) -> None:
    # PostgreSQL's REAL (4 bytes) rounds an epoch time to ~2 minutes: a one-minute lock could
    # end before it began (seen as an intermittent 401 instead of 429 on PostgreSQL)
    import gardefou.pins as pins
    from gardefou.store.db import connect
    from tests.test_takedown import Clock

    clock = Clock()
    db = connect(db_url)
    try:
        attempts = pins.Attempts(db, "takedown", clock=clock)
        for _ in range(5):
            attempts.failed("TD-PRECISE")
        row = db.query_one("SELECT locked_until, updated_at FROM pin_attempts")
        assert row["locked_until"] == clock() + 60 and row["updated_at"] == clock()
    finally:
        db.close()


def test_a_burst_of_simultaneous_guesses_gets_only_the_free_ones(db_url, monkeypatch) -> None:
    """Ten guesses on one case arrive together, each on its own connection, and each PIN hash
    takes a while: only the five free ones may be hashed, the rest are refused (429). Before,
    every guess passed the lock check before the first failure was counted."""
    import threading
    import time

    import gardefou.pins as pins
    from gardefou.errors import RateLimitError
    from gardefou.store.db import connect

    def slow_wrong(pin: str, stored: str) -> bool:
        time.sleep(0.3)
        return False

    monkeypatch.setattr(pins, "check_pin", slow_wrong)
    connect(db_url).close()  # migrate once, before the threads
    outcomes: list[str] = []
    start = threading.Barrier(10)

    def guess(i: int) -> None:
        db = connect(db_url)
        try:
            start.wait()
            try:
                ok = pins.Attempts(db, "takedown").verify("TD-BURST", f"{i:06d}", "stored")
                outcomes.append("right" if ok else "wrong")
            except RateLimitError:
                outcomes.append("locked")
        finally:
            db.close()

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["locked"] * 5 + ["wrong"] * 5
