"""decide_event with the real signal stack on benign photos (slow: loads the models)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gardefou.decide import Services, decide_event
from gardefou.decision import Action

SAMPLES = Path(__file__).resolve().parent.parent / "src" / "gardefou" / "data" / "samples"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    from gardefou.store import connect

    db = connect(tmp_path_factory.mktemp("db") / "d.db")
    try:
        s = Services(db, base_dir=SAMPLES)
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"default policy or models unavailable: {exc}")
    yield s
    db.close()


def test_benign_photo_with_people_is_allowed_and_explained(services):
    r = decide_event({"id": "m1", "author": "u1", "media": ["q0291.jpg"]}, services)
    d = r.decision
    assert d.action == Action.ALLOW, d.rule_trace
    assert d.unavailable == ()
    trace = {t.rule: t.detail for t in d.rule_trace}
    assert "faces.count=" in trace["explicit_real_person_high"]
    assert "nudity.level='none'" in trace["explicit_real_person_high"]


def test_reply_with_the_same_photo_is_same_person_not_an_edit(services):
    decide_event({"id": "m2", "author": "u1", "media": ["q0291.jpg"]}, services)
    r = decide_event(
        {"id": "m3", "author": "u2", "media": ["q0291.jpg"], "reply_to": "m2", "text": "nice"},
        services,
    )
    assert r.decision.action == Action.ALLOW
    ctx = r.decision.rule_trace[0].detail
    assert "1 ancestor image(s) compared" in ctx and "thread.parent_same_person=True" in ctx
