"""Consent registry: templates (numbers, never photos), matching, withdrawal."""

from __future__ import annotations

import pytest

from gardefou import testing as T
from gardefou.consent import ConsentRegistry, consent_facts
from gardefou.errors import ConfigError, ForbiddenError, NotFoundError

ALICE, BOB = T.person_embedding(1), T.person_embedding(2)


def test_enroll_match_withdraw(tmp_db):
    reg = ConsentRegistry(tmp_db)
    e = reg.enroll(ALICE, label="alice", owner_account="alice")
    assert reg.count() == 1
    m = reg.match([T.jitter(ALICE, 0.2)])
    assert [x.template_id for x in m] == [e.template_id] and m[0].owner_account == "alice"
    assert m[0].distance == pytest.approx(0.2, abs=1e-4)
    assert reg.match([BOB]) == []
    with pytest.raises(ForbiddenError, match="wrong withdrawal code"):
        reg.withdraw(e.template_id, "guess")
    reg.withdraw(e.template_id, e.withdrawal_code)
    assert reg.match([ALICE]) == [] and reg.count() == 0
    assert not reg.get(e.template_id).active
    row = tmp_db.query_one(
        "SELECT embedding_json FROM consent_templates WHERE id = ?", (e.template_id,)
    )
    assert row["embedding_json"] is None  # the biometric template is erased
    reg.withdraw(e.template_id, e.withdrawal_code)  # twice is fine


def test_code_is_not_stored(tmp_db):
    e = ConsentRegistry(tmp_db).enroll(ALICE)
    row = tmp_db.query_one("SELECT code_hash FROM consent_templates")
    assert e.withdrawal_code not in row["code_hash"]


def test_cache_sees_other_writers(tmp_db):
    a, b = ConsentRegistry(tmp_db), ConsentRegistry(tmp_db)
    assert a.match([ALICE]) == []
    e = b.enroll(ALICE)
    assert len(a.match([ALICE])) == 1
    b.withdraw(e.template_id, e.withdrawal_code)
    assert a.match([ALICE]) == []


@pytest.mark.parametrize(
    "bad", [[0.1] * 127, "x" * 128, [float("nan")] * 128, [0.0] * 128, [True] * 128]
)
def test_bad_templates(tmp_db, bad):
    with pytest.raises(ConfigError):
        ConsentRegistry(tmp_db).enroll(bad)


def test_unknown_template(tmp_db):
    with pytest.raises(NotFoundError):
        ConsentRegistry(tmp_db).withdraw(99, "x")


def test_consent_facts():
    from gardefou.consent import ConsentMatch

    alice = ConsentMatch(1, 0.1, 0.99, "alice")
    bob = ConsentMatch(2, 0.1, 0.99, None)
    assert consent_facts([], "x") == {}
    # the templates matched group their cases in the review queue (gardefou.cases.clusters)
    assert consent_facts([alice], "mallory") == {
        "consent.match": True,
        "consent.evidence": False,
        "consent.templates": ["1"],
    }
    assert consent_facts([alice], "alice")["consent.evidence"] is True
    # alice posting an image that also shows protected bob: no consent evidence for bob
    assert consent_facts([alice, bob], "alice")["consent.evidence"] is False


def test_withdrawal_code_is_argon2id_and_an_old_pbkdf2_hash_still_withdraws(tmp_db):
    """Codes share the one hasher (gardefou.pins); a code hashed by an older release (PBKDF2,
    100,000 iterations over the salt's text) still withdraws and is upgraded on that use."""
    import hashlib

    reg = ConsentRegistry(tmp_db)
    e = reg.enroll(ALICE)
    stored = tmp_db.query_one("SELECT code_hash FROM consent_templates")["code_hash"]
    assert stored.startswith("$argon2id$")
    salt = "0123456789abcdef"
    digest = hashlib.pbkdf2_hmac("sha256", b"old-code", salt.encode(), 100_000).hex()
    tmp_db.execute("UPDATE consent_templates SET code_hash = ?", (f"{salt}${digest}",))
    with pytest.raises(ForbiddenError):
        reg.withdraw(e.template_id, "not-the-code")
    reg.withdraw(e.template_id, "old-code")
    assert not reg.get(e.template_id).active
    upgraded = tmp_db.query_one("SELECT code_hash FROM consent_templates")["code_hash"]
    assert upgraded.startswith("$argon2id$")
    reg.withdraw(e.template_id, "old-code")  # the upgraded hash opens with the same code
