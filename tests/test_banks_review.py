"""Anonymous hash submissions cannot take anything down: until a moderator confirms a
submission, its matches go to human review; per-submitter limits are counted in the store;
a policy cannot remove on an unconfirmed match; moderators confirm or reject (API, CLI)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

import gardefou.cli.commands_submissions  # noqa: F401 - registers the commands
from gardefou import testing as T
from gardefou.banks import BankService
from gardefou.banks.review import SubmissionLimits, submitter_key
from gardefou.cli.main import cli
from gardefou.decide import decide_event
from gardefou.decision import Action
from gardefou.errors import BankError, PolicyError, RateLimitError
from gardefou.events import parse_event
from gardefou.policy.loader import default_policy_text, parse_policy
from tests.bank_support import SIGNALS, bank_services, banked_extract
from tests.web_support import make_web


def rand_hex(rng: random.Random) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(64))


@pytest.fixture
def banks(tmp_db) -> BankService:
    b = BankService(tmp_db, index_dir=False)
    b.create_bank("victims")
    return b


def test_pending_submission_matches_for_review_only(banks, tmp_db) -> None:
    h = rand_hex(random.Random(1))
    case, _pin = banks.submit_hashes("victims", [(h, 100)])
    [m] = banks.match(h)
    assert (m.confirmed, m.actionable, m.needs_review) == (False, False, True)
    assert m.case_id == case and m.to_dict()["needs_review"] is True
    sub = banks.review_submission(case, confirm=True, actor="mod:ann", reason="checked")
    assert sub.status == "confirmed" and sub.reviewed_by == "mod:ann"
    [m] = BankService(tmp_db, index_dir=False).match(h)  # another process sees it
    assert m.actionable and not m.needs_review
    banks.review_submission(case, confirm=False, reason="abuse found later")
    assert banks.match(h) == []
    with pytest.raises(BankError, match="is rejected"):
        banks.review_submission(case, confirm=True)
    actions = [a["action"] for a in banks.audit_log("victims")][:3]
    assert actions == ["submission.reject", "submission.confirm", "submission.create"]


def test_operator_entries_still_act_at_once(banks) -> None:
    rng = random.Random(2)
    imported, confirmed = rand_hex(rng), rand_hex(rng)
    banks.add_entries("victims", [{"pdq": imported, "quality": 100, "source": "partner-x"}])
    banks.submit_hashes("victims", [confirmed], confirmed=True, actor="mod:ann")
    assert all(m.actionable for h in (imported, confirmed) for m in banks.match(h))


def _decide(tmp_db, tmp_path, banks, event_id: str):
    Image.new("RGB", (32, 32), (10, 20, 30)).save(tmp_path / "a.png")
    hexes = banks.list_entries("victims")[-1].pdq

    content = T.signal_set(T.nudity("none", 0.9), T.faces(0))
    extract = banked_extract(lambda media: T.pdq_dihedral(hexes), content)
    services = bank_services(tmp_db, tmp_path, banks, extract)
    event = parse_event({"id": event_id, "author": "x", "media": ["a.png"], "kind": "post"})
    return decide_event(event, services)


def test_anonymous_hash_sends_to_review_never_removes(banks, tmp_db, tmp_path) -> None:
    """Before: a submission went straight into the bank and the match removed the post with
    AUTOMATED_DECISION_FULLY (anyone could take down any photo by submitting its hash)."""
    case, _ = banks.submit_hashes("victims", [rand_hex(random.Random(3))], submitter="sha256:x")
    s = _decide(tmp_db, tmp_path, banks, "e1")
    assert s.decision.action == Action.REVIEW
    assert s.decision.reasons[0].code == "victim_bank_match_unconfirmed"
    assert case in str(s.decision.rule_trace)  # the moderator sees which submission to confirm
    assert "AUTOMATED_DECISION_FULLY" not in str(s.decision.dsa_fields)
    banks.review_submission(case, confirm=True, actor="mod:ann")
    s = _decide(tmp_db, tmp_path, banks, "e2")
    assert s.decision.action == Action.REMOVE and s.decision.reasons[0].code == "victim_bank_match"


def test_limits_are_counted_in_the_store(tmp_db) -> None:
    limits = SubmissionLimits(max_hashes=3, per_hour=2, per_day=3, hashes_per_day=5)
    rng = random.Random(4)
    a = BankService(tmp_db, index_dir=False)
    a.create_bank("victims")
    b = BankService(tmp_db, index_dir=False)  # another worker: the count is shared
    who = submitter_key("203.0.113.9")
    with pytest.raises(BankError, match="4 hashes in one submission; the limit is 3"):
        a.submit_hashes("victims", [rand_hex(rng) for _ in range(4)], submitter=who, limits=limits)
    a.submit_hashes("victims", [rand_hex(rng)], submitter=who, limits=limits)
    b.submit_hashes("victims", [rand_hex(rng)], submitter=who, limits=limits)
    with pytest.raises(RateLimitError, match="2 submissions from this address in the last hour"):
        a.submit_hashes("victims", [rand_hex(rng)], submitter=who, limits=limits)
    # another address is not affected; the address itself is never stored
    b.submit_hashes("victims", [rand_hex(rng)], submitter=submitter_key("198.51.100.1"))
    rows = tmp_db.query("SELECT submitter FROM bank_submissions")
    assert "203.0.113.9" not in str(rows)


def test_day_limits(tmp_db) -> None:
    from datetime import UTC, datetime, timedelta

    limits = SubmissionLimits(max_hashes=3, per_hour=10, per_day=10, hashes_per_day=4)
    rng = random.Random(5)
    svc = BankService(tmp_db, index_dir=False)
    svc.create_bank("victims")
    who = submitter_key("203.0.113.10")
    svc.submit_hashes("victims", [rand_hex(rng) for _ in range(3)], submitter=who, limits=limits)
    with pytest.raises(RateLimitError, match=r"3 hashes\) from this address in the last 24 hours"):
        svc.submit_hashes("victims", [rand_hex(rng)] * 2, submitter=who, limits=limits)
    # two days later the window is empty and the stored digest has been erased
    later = datetime.now(UTC) + timedelta(days=2)
    svc.check_submission_limits(who, 3, limits, at=later)
    assert tmp_db.query_one("SELECT submitter FROM bank_submissions")["submitter"] is None


def test_limits_from_env_refuse_bad_values() -> None:
    assert SubmissionLimits.from_env({"GARDEFOU_SUBMISSIONS_PER_HOUR": "9"}).per_hour == 9
    with pytest.raises(Exception, match="GARDEFOU_SUBMISSION_MAX_HASHES='lots'"):
        SubmissionLimits.from_env({"GARDEFOU_SUBMISSION_MAX_HASHES": "lots"})


def test_policy_cannot_remove_on_an_unconfirmed_match() -> None:
    text = default_policy_text().replace(
        "when: {bank.unconfirmed_match: true}\n    action: review",
        "when: {bank.unconfirmed_match: true}\n    action: remove",
    )
    assert text != default_policy_text()
    with pytest.raises(PolicyError, match="anyone can make true"):
        parse_policy(text, signals=SIGNALS)


@pytest.fixture
def web(tmp_path, db_url, monkeypatch):
    monkeypatch.setenv("GARDEFOU_SUBMISSIONS_PER_HOUR", "2")
    w = make_web(tmp_path, db_url)
    yield w
    w.app.state.services.db.close()


def test_web_submissions_pending_limited_and_reviewed(web) -> None:
    rng = random.Random(6)
    hexes = [rand_hex(rng) for _ in range(3)]
    r = web.client.post("/v1/submissions", json={"hashes": [{"pdq": hexes[0], "quality": 100}]})
    assert r.status_code == 201 and r.json()["status"] == "pending"
    case = r.json()["case_number"]
    m = web.client.post("/v1/match", json={"pdq": [hexes[0]]}, headers=web.h("platform")).json()
    assert [(x["actionable"], x["needs_review"]) for x in m] == [(False, True)]
    web.client.post("/v1/submissions", json={"hashes": [{"pdq": hexes[1], "quality": 100}]})
    r = web.client.post("/v1/submissions", json={"hashes": [{"pdq": hexes[2], "quality": 100}]})
    assert r.status_code == 429 and "in the last hour (limit 2)" in r.json()["message"]
    assert int(r.headers["Retry-After"]) > 60
    # review: moderators only
    assert web.client.post(f"/v1/submissions/{case}/confirm", json={}).status_code == 401
    r = web.client.post(f"/v1/submissions/{case}/confirm", json={}, headers=web.h("platform"))
    assert r.status_code == 403
    pending = web.client.get("/v1/submissions", headers=web.h("moderator")).json()
    assert pending[0]["case_number"] == case and "pin_hash" not in str(pending)
    r = web.client.post(
        f"/v1/submissions/{case}/confirm", json={"reason": "seen"}, headers=web.h("moderator")
    )
    assert r.status_code == 200 and r.json()["status"] == "confirmed"
    m = web.client.post("/v1/match", json={"pdq": [hexes[0]]}, headers=web.h("platform")).json()
    assert [x["actionable"] for x in m] == [True]
    r = web.client.post(f"/v1/submissions/{case}/reject", json={}, headers=web.h("moderator"))
    assert r.json()["status"] == "rejected"
    m = web.client.post("/v1/match", json={"pdq": [hexes[0]]}, headers=web.h("platform")).json()
    assert m == []


def test_cli_lists_confirms_and_rejects(tmp_path: Path) -> None:
    db = str(tmp_path / "g.db")
    svc = BankService(__import__("gardefou.store", fromlist=["connect"]).connect(db))
    svc.create_bank("victims")
    rng = random.Random(7)
    c1, _ = svc.submit_hashes("victims", [rand_hex(rng)])
    c2, _ = svc.submit_hashes("victims", [rand_hex(rng)])
    svc.db.close()
    run = CliRunner().invoke
    out = run(cli, ["--db", db, "bank", "submissions"], obj={})
    assert out.exit_code == 0 and c1 in out.output and c2 in out.output
    out = run(cli, ["--db", db, "bank", "confirm", c1, "--reason", "checked"], obj={})
    assert out.exit_code == 0 and "now remove" in out.output
    out = run(cli, ["--db", db, "bank", "reject", c2], obj={})
    assert "no longer match" in out.output
    out = run(cli, ["--db", db, "bank", "confirm", c2], obj={})
    assert out.exit_code == 1 and "is rejected" in out.output


def test_old_pbkdf2_submission_pin_opens_and_is_upgraded(banks, tmp_db) -> None:
    """A submission PIN hashed by an older release (PBKDF2) still opens the submission and is
    stored as argon2id after that check, as takedown PINs are."""
    import hashlib
    import secrets

    case, _pin = banks.submit_hashes("victims", [(rand_hex(random.Random(7)), 100)])
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", b"24681357", salt, 120_000).hex()
    old = f"pbkdf2_sha256$120000${salt.hex()}${digest}"
    tmp_db.execute("UPDATE bank_submissions SET pin_hash = ?", (old,))
    assert banks.get_submission(case, "24681357").case_number == case
    stored = tmp_db.query_one("SELECT pin_hash FROM bank_submissions")["pin_hash"]
    assert stored.startswith("$argon2id$")
    assert banks.get_submission(case, "24681357").case_number == case


def test_the_person_sees_the_review_of_their_submission(banks) -> None:
    """get_submission (the person's view, with the PIN) reads the row like the moderator's
    view does: the review's outcome and reason are not dropped."""
    case, pin = banks.submit_hashes("victims", [(rand_hex(random.Random(8)), 100)])
    banks.review_submission(case, confirm=False, actor="mod:ann", reason="not the person")
    sub = banks.get_submission(case, pin)
    assert (sub.status, sub.reviewed_by, sub.review_reason) == (
        "rejected",
        "mod:ann",
        "not the person",
    )
