"""BankService: banks, entries, thresholds, negative banks, rollout, submissions, audit."""

from __future__ import annotations

import random

import pytest

from gardefou.banks import BankService, Match
from gardefou.errors import AuthError, BankError, HashFormatError, NotFoundError
from tests.bank_support import flip, rand_hex


@pytest.fixture
def svc(tmp_db, tmp_path) -> BankService:
    return BankService(tmp_db, index_dir=tmp_path / "index", actor="tester")


def test_create_list_rename_delete(svc: BankService) -> None:
    svc.create_bank("ncii", description="victim submissions")
    svc.create_bank("memes", negative=True, threshold=20)
    assert [b.name for b in svc.list_banks()] == ["memes", "ncii"]
    with pytest.raises(BankError, match="already exists"):
        svc.create_bank("ncii")
    with pytest.raises(BankError, match="invalid"):
        svc.create_bank("bad name!")
    svc.rename_bank("ncii", "stopncii")
    assert svc.get_bank("stopncii").description == "victim submissions"
    svc.delete_bank("memes", reason="obsolete")
    assert [b.name for b in svc.list_banks()] == ["stopncii"]
    with pytest.raises(NotFoundError, match="stopncii"):
        svc.get_bank("memes")
    svc.create_bank("memes")  # the name is free again


def test_match_threshold_and_distance(svc: BankService) -> None:
    rng = random.Random(1)
    svc.create_bank("a")
    svc.create_bank("strict", threshold=10)
    base = rand_hex(rng)
    ea = svc.add_entry("a", base, 100, source="test", case_id="C-1")
    es = svc.add_entry("strict", base, 100)
    near = flip(base, 20, rng)
    got = svc.match(near)
    assert [(m.bank, m.entry_id, m.distance) for m in got] == [("a", ea.id, 20)]
    assert got[0].actionable and got[0].case_id == "C-1"
    got = svc.match(flip(base, 5, rng))
    assert {m.entry_id for m in got} == {ea.id, es.id}
    assert svc.match(flip(base, 32, rng)) == []
    assert svc.match(rand_hex(rng)) == []


def test_disabled_entry_and_bank(svc: BankService) -> None:
    rng = random.Random(2)
    svc.create_bank("a")
    h = rand_hex(rng)
    e = svc.add_entry("a", h, 90)
    svc.set_enabled(e.id, False, reason="false positive")
    assert svc.match(h) == []
    svc.set_enabled(e.id, True)
    assert len(svc.match(h)) == 1
    svc.update_bank("a", enabled=False)
    assert svc.match(h) == []


def test_negative_bank_suppresses(svc: BankService) -> None:
    rng = random.Random(3)
    svc.create_bank("bad")
    svc.create_bank("benign", negative=True)
    h = rand_hex(rng)
    svc.add_entry("bad", h, 100)
    svc.add_entry("benign", flip(h, 3, rng), 100, note="famous painting")
    got = svc.match(h)
    assert len(got) == 2
    pos = next(m for m in got if not m.negative)
    neg = next(m for m in got if m.negative)
    assert pos.suppressed and not pos.actionable and "benign" in pos.reason
    assert not neg.actionable
    assert [m for m in got if m.actionable] == []


def test_quality_below_50_dropped(svc: BankService) -> None:
    rng = random.Random(4)
    svc.create_bank("a")
    with pytest.raises(BankError, match="quality 49"):
        svc.add_entry("a", rand_hex(rng), 49)
    h = rand_hex(rng)
    svc.add_entry("a", h, 50)
    assert svc.match(h, quality=30) == []
    assert len(svc.match(h, quality=80)) == 1


def test_bad_hash_is_named(svc: BankService) -> None:
    svc.create_bank("a")
    with pytest.raises(HashFormatError, match="'abc'"):
        svc.add_entry("a", "abc", 100)


def test_dihedral_query_labels(svc: BankService) -> None:
    rng = random.Random(5)
    svc.create_bank("a")
    h = rand_hex(rng)
    svc.add_entry("a", h, 100)
    query = [rand_hex(rng) for _ in range(8)]
    query[2] = flip(h, 4, rng)
    [m] = svc.match(query)
    assert m.query == "rotate180" and m.distance == 4


def test_enable_ratio_is_deterministic_and_monotonic(svc: BankService) -> None:
    rng = random.Random(6)
    svc.create_bank("a", enable_ratio=0.3)
    hashes = [rand_hex(rng) for _ in range(120)]
    svc.add_entries("a", [{"pdq": h, "quality": 100} for h in hashes])
    live_30 = {h for h in hashes if svc.match(h)}
    assert 15 <= len(live_30) <= 60
    assert live_30 == {h for h in hashes if svc.match(h)}  # deterministic
    svc.update_bank("a", enable_ratio=0.6)
    live_60 = {h for h in hashes if svc.match(h)}
    assert live_30 < live_60
    svc.update_bank("a", enable_ratio=1.0)
    assert all(svc.match(h) for h in hashes)


def test_withdrawn_submission_stops_matching_on_next_query(svc: BankService, tmp_db) -> None:
    rng = random.Random(7)
    svc.create_bank("ncii")
    mine = [rand_hex(rng) for _ in range(3)]
    case, pin = svc.submit_hashes("ncii", [(h, 100) for h in mine])
    assert case.startswith("GF-") and len(pin) == 8
    assert all(svc.match(h) for h in mine)
    # a second process (its own service and index) sees the same entries
    other = BankService(tmp_db, index_dir=False)
    assert all(other.match(h) for h in mine)
    with pytest.raises(AuthError):
        svc.withdraw_submission(case, "00000000" if pin != "00000000" else "11111111")
    assert svc.withdraw_submission(case, pin, reason="changed my mind") == 3
    assert not any(svc.match(h) for h in mine)
    assert not any(other.match(h) for h in mine)  # other index still holds them: table wins
    assert svc.withdraw_submission(case, pin) == 0
    actions = [a["action"] for a in svc.audit_log("ncii")]
    assert actions[:2] == ["submission.withdraw", "submission.create"]


def test_audit_records_who_when_why(svc: BankService) -> None:
    rng = random.Random(8)
    svc.create_bank("a", reason="pilot")
    e = svc.add_entry("a", rand_hex(rng), 100, actor="alice", reason="report 17")
    svc.set_enabled(e.id, False, actor="bob", reason="appeal upheld")
    rows = svc.audit_log(entry_id=e.id)
    assert [(r["action"], r["actor"], r["reason"]) for r in rows] == [
        ("entry.disable", "bob", "appeal upheld"),
        ("entry.add", "alice", "report 17"),
    ]
    assert all(r["at"] for r in rows)
    assert svc.audit_log("a")[-1]["actor"] == "tester"


def test_index_persists_and_catches_up(tmp_db, tmp_path) -> None:
    rng = random.Random(9)
    folder = tmp_path / "idx"
    svc = BankService(tmp_db, index_dir=folder)
    svc.create_bank("a")
    hashes = [rand_hex(rng) for _ in range(50)]
    svc.add_entries("a", [{"pdq": h, "quality": 100} for h in hashes])
    svc.reindex()
    assert (folder / "manifest.json").exists()
    late = rand_hex(rng)
    svc.add_entry("a", late, 100)
    svc2 = BankService(tmp_db, index_dir=folder)  # a restart: memory-maps, then catches up
    assert svc2.index.index.generation >= 1
    assert all(svc2.match(h) for h in [*hashes, late])


def test_md5_and_sha256_exact(svc: BankService) -> None:
    rng = random.Random(10)
    svc.create_bank("a")
    e = svc.add_entry("a", rand_hex(rng), 100, md5="A" * 32, sha256="b" * 64)
    [m] = svc.match([], md5="a" * 32)
    assert (m.entry_id, m.kind, m.distance) == (e.id, "md5", 0)
    [m] = svc.match([], sha256="B" * 64)
    assert m.kind == "sha256"


def test_match_to_dict() -> None:
    m = Match(bank="a", bank_id=1, entry_id=2, distance=3, threshold=31)
    d = m.to_dict()
    assert d["bank"] == "a" and d["entry_id"] == 2 and d["distance"] == 3 and d["actionable"]


def test_rows_committed_out_of_id_order_are_found(tmp_db, tmp_path) -> None:
    if tmp_db.dialect == "sqlite":
        pytest.skip("SQLite serialises writers: ids always become visible in order")
    rng = random.Random(11)
    svc = BankService(tmp_db, index_dir=tmp_path / "idx")
    bank = svc.create_bank("a")
    first = svc.add_entry("a", rand_hex(rng), 100)
    late_hex = rand_hex(rng)
    svc.match(late_hex)  # pulls up to `first`
    sql = (
        "INSERT INTO bank_entries (id, bank_id, pdq, quality, added_at) VALUES (?, ?, ?, 100, 'x')"
    )
    tmp_db.execute(sql, (first.id + 10, bank.id, rand_hex(rng)))
    svc.match(late_hex)  # pulls the higher id first...
    tmp_db.execute(sql, (first.id + 5, bank.id, late_hex))  # ...then a lower one commits
    assert [m.entry_id for m in svc.match(late_hex)] == [first.id + 5]
