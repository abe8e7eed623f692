"""TakedownService: the Act's four elements, the 48 h / 24 h clocks and alerts, acceptance that
banks the hashes and removes known copies, rejection, withdrawal, PIN checks, compliance stats."""

from __future__ import annotations

import pytest

from gardefou.errors import AuthError, HashFormatError, TakedownError, TakedownStateError
from gardefou.takedown import (
    Contact,
    DepictionHash,
    Kind,
    NewRequest,
    Signature,
    Status,
    TakedownService,
)

H1 = "f" * 32 + "0" * 32
HOUR = 3600.0


class Clock:
    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def request(**over) -> NewRequest:
    base = dict(
        kind=Kind.TAKE_IT_DOWN,
        signature=Signature("Jane Example"),
        hashes=(DepictionHash(H1, 100),),
        locations=("https://social.example/p/1",),
        description="",
        good_faith_statement="I believe in good faith it is not consensual.",
        contact=Contact(email="jane@example.org"),
    )
    base.update(over)
    return NewRequest(**base)


@pytest.fixture
def svc(tmp_db):
    return TakedownService(tmp_db, clock=Clock())


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"signature": Signature("  ")}, "signature missing"),
        ({"signature": Signature("A", on_behalf=True)}, "on what basis"),
        ({"hashes": (), "locations": ()}, "identification of the depiction missing"),
        ({"good_faith_statement": ""}, "good-faith statement missing"),
        ({"contact": Contact()}, "contact information missing"),
        ({"contact": Contact(email="not-an-email")}, "is not an email"),
        ({"lang": "de"}, "unsupported"),
        ({"locations": ("",)}, "must be a link"),
    ],
)
def test_each_required_element_is_checked(svc, over, message) -> None:
    with pytest.raises(TakedownError, match=message):
        svc.submit(request(**over))


def test_bad_hash_is_quoted(svc) -> None:
    with pytest.raises(HashFormatError, match="zz"):
        svc.submit(request(hashes=(DepictionHash("zz" * 32, 100),)))


def test_locations_alone_or_hashes_alone_are_enough(svc) -> None:
    svc.submit(request(hashes=()))
    svc.submit(request(locations=()))


def test_case_number_pin_and_48_hour_deadline(svc) -> None:
    case, pin = svc.submit(request())
    assert case.startswith("TD-") and len(pin) == 8 and pin.isdigit()
    r = svc.lookup(case, pin)
    assert r.status is Status.RECEIVED
    assert r.deadline_at - r.received_at == 48 * HOUR
    row = svc.db.query_one("SELECT pin_hash FROM takedown_requests WHERE case_number = ?", (case,))
    assert pin not in row["pin_hash"]  # only a salted hash is stored
    with pytest.raises(AuthError):
        svc.lookup(case, "00000000" if pin != "00000000" else "11111111")
    with pytest.raises(AuthError):
        svc.lookup("TD-NOPE", pin)


def test_regulator_notice_has_24_hours_and_needs_reference(svc) -> None:
    with pytest.raises(TakedownError, match="reference"):
        svc.submit(request(kind=Kind.REGULATOR_NOTICE, issuer="esafety_au"))
    with pytest.raises(TakedownError, match="issuer"):
        svc.submit(request(kind=Kind.REGULATOR_NOTICE, issuer="nobody", issuer_reference="1"))
    case, pin = svc.submit(
        request(
            kind=Kind.REGULATOR_NOTICE,
            issuer="esafety_au",
            issuer_reference="RN-1",
            good_faith_statement="",
        ),
        verified=True,  # filed with a staff key: the regulator's own deadline
    )
    r = svc.lookup(case, pin)
    assert case.startswith("RN-") and r.window_hours == 24 and r.verified


def test_clock_states_and_alerts_before_breach(svc) -> None:
    clock = svc.clock
    case, pin = svc.submit(request())
    rid = svc.lookup(case, pin).id
    assert svc.get(rid).clock(clock())["state"] == "ok" and svc.alerts() == []
    clock.t += 37 * HOUR  # 11 h left of 48: inside the last quarter
    assert [a["state"] for a in svc.alerts()] == ["due_soon"]
    clock.t += 12 * HOUR
    alert = svc.alerts()[0]
    assert alert["state"] == "breached" and alert["seconds_left"] < 0
    assert svc.stats()["breached_open"] == 1


def test_queue_orders_by_deadline(svc) -> None:
    a, _ = svc.submit(request())
    svc.clock.t += 1
    b, _ = svc.submit(
        request(kind=Kind.REGULATOR_NOTICE, issuer="esafety_au", issuer_reference="X"),
        verified=True,
    )
    assert [r.case_number for r in svc.queue()] == [b, a]  # 24 h notice is due first


def test_accept_banks_hashes_and_removes_known_copies(svc, tmp_db) -> None:
    near = "f" * 31 + "e" + "0" * 32  # 1 bit away
    far = "0" * 64
    for sha, pdq in (("a" * 64, near), ("b" * 64, far), ("c" * 64, H1)):
        tmp_db.execute(
            "INSERT INTO media (sha256, md5, pdq, pdq_quality, format, width, height, frames, "
            "byte_size, first_seen) VALUES (?, ?, ?, 100, 'JPEG', 10, 10, 1, 1, 'now')",
            (sha, "0" * 32, pdq),
        )
    case, pin = svc.submit(request())
    rid = svc.lookup(case, pin).id
    svc.start_review(rid, "mod")
    svc.clock.t += 2 * HOUR
    r = svc.accept(rid, "mod")
    assert r.status is Status.REMOVED and r.copies_removed == 2 and r.bank_entries == 1
    assert {x["sha256"] for x in svc.removals(rid)} == {"a" * 64, "c" * 64}
    assert r.clock(svc.clock())["state"] == "met"
    from gardefou.banks import BankService

    matches = BankService(tmp_db).match(near)
    assert [m.bank for m in matches if m.actionable] == ["victims"]
    with pytest.raises(TakedownStateError):
        svc.accept(rid, "mod")
    view = svc.lookup(case, pin).public_view(svc.clock())
    assert view["copies_removed"] == 2
    assert [h["status"] for h in view["history"]] == ["received", "in_review", "removed"]
    assert "contact" not in view and "signature" not in view
    stats = svc.stats()
    assert stats["removed"] == 1 and stats["met"] == 1 and stats["hours_to_removal_p50"] == 2


def test_low_quality_hashes_are_not_banked(svc) -> None:
    case, pin = svc.submit(request(hashes=(DepictionHash(H1, 10),)))
    r = svc.accept(svc.lookup(case, pin).id, "mod")
    assert r.bank_entries == 0 and r.copies_removed == 0


def test_reject_needs_reason_and_withdraw(svc) -> None:
    case, pin = svc.submit(request())
    rid = svc.lookup(case, pin).id
    with pytest.raises(TakedownError, match="reason"):
        svc.reject(rid, "mod", " ")
    r = svc.reject(rid, "mod", "the link shows no intimate image")
    assert r.status is Status.REJECTED and r.resolution.startswith("the link")
    case2, pin2 = svc.submit(request())
    assert svc.withdraw(case2, pin2).status is Status.WITHDRAWN
    with pytest.raises(TakedownStateError):
        svc.withdraw(case2, pin2)


def test_missed_deadline_is_counted(svc) -> None:
    case, pin = svc.submit(request())
    svc.clock.t += 50 * HOUR
    r = svc.accept(svc.lookup(case, pin).id, "mod")
    assert r.clock(svc.clock())["state"] == "missed"
    assert svc.stats()["missed"] == 1
