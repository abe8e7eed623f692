"""A decision on an exchange's hash names the exchange (decision reasons, rule trace, DSA
statement) and queues feedback for it: "seen" when the decision is recorded, then the
moderator's outcome ("blocked" / "not_blocked") for the same entries."""

from __future__ import annotations

import pytest
from PIL import Image

from gardefou import testing as T
from gardefou.banks import BankService
from gardefou.decide import decide_event, rules_intent
from gardefou.decision import Action
from gardefou.reports.dsa import StatementMeta, build_statement
from tests.bank_support import bank_services, banked_extract

pytest.importorskip("threatexchange")

from gardefou.exchanges import ExchangeService, feedback
from gardefou.testing.fake_stopncii import FakeStopNCII, fake_pdq


@pytest.fixture
def setup(tmp_db, tmp_path, monkeypatch):
    fake = FakeStopNCII(50)
    url = fake.start()
    monkeypatch.setenv("GARDEFOU_EXCHANGE_SNCII_CREDENTIALS", fake.credentials)
    ex = ExchangeService(BankService(tmp_db, index_dir=False))
    ex.add("sncii", kind="stopncii", bank="victim-sncii", url=url)
    ex.fetch("sncii")
    Image.new("RGB", (64, 64), (10, 90, 200)).save(tmp_path / "copy.png")
    Image.new("RGB", (64, 64), (200, 90, 10)).save(tmp_path / "other.png")
    banked = {"copy.png": fake_pdq(3), "other.png": "0" * 64}

    def pdq_of(media):  # a benign image whose hash is (or is not) in the exchange's bank
        name = next(k for k in banked if (tmp_path / k).read_bytes() == media.data)
        return T.pdq_dihedral(banked[name])

    extract = banked_extract(pdq_of)
    services = bank_services(tmp_db, tmp_path, ex.banks, extract, intent=rules_intent)
    yield ex, services
    fake.stop()


def _post(pid, media):
    return {"id": pid, "kind": "post", "author": "u1", "text": "", "media": [media],
            "created_at": "2026-01-05T10:00:00Z"}  # fmt: skip


def _feedback(db, event_id):
    return [
        r["verdict"]
        for r in db.query(
            "SELECT verdict FROM exchange_feedback WHERE event_id = ? ORDER BY id", (event_id,)
        )
    ]


def test_exchange_match_is_named_and_fed_back(setup):
    _ex, services = setup
    s = decide_event(_post("e1", "copy.png"), services)
    assert s.decision.action == Action.REMOVE
    codes = [r.code for r in s.decision.reasons]
    assert codes[0] == "victim_bank_match" and "exchange_hash_match" in codes
    assert "bank.exchanges=['sncii']" in s.decision.rule_trace[0].detail
    statement = build_statement(s.decision, StatementMeta("gf-e1", "2026-01-05", "2026-01-05"))
    assert "hash-sharing exchange" in statement["decision_facts"]
    assert "Exchange: sncii." in statement["decision_facts"]
    assert _feedback(services.db, "e1") == ["seen"]
    # a replay records nothing twice
    decide_event(_post("e1", "copy.png"), services)
    assert _feedback(services.db, "e1") == ["seen"]
    # the moderator's outcome follows the same entries
    assert feedback.record_outcome(services.db, "e1", violating=False) == 1
    assert _feedback(services.db, "e1") == ["seen", "not_blocked"]


def test_no_exchange_no_feedback(setup):
    _, services = setup
    s = decide_event(_post("e2", "other.png"), services)
    assert s.decision.action == Action.ALLOW
    assert "exchange_hash_match" not in [r.code for r in s.decision.reasons]
    assert _feedback(services.db, "e2") == []
    assert feedback.record_outcome(services.db, "e2", violating=True) == 0


def test_feedback_failure_never_blocks_a_decision(setup, monkeypatch):
    _ex, services = setup

    def broken(*a, **k):
        raise RuntimeError("feedback table unavailable")

    monkeypatch.setattr(feedback, "queue", broken)
    s = decide_event(_post("e3", "copy.png"), services)
    assert s.decision.action == Action.REMOVE and s.created
