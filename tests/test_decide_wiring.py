"""Every entry point decides with the same wiring, and the wiring fails closed: Services(db)
attaches the store's banks, and only a missing third-party package may degrade the pipeline's
default decider (loudly, to review), never an import error inside gardefou."""

from __future__ import annotations

import sys
import types

import pytest
from PIL import Image

from gardefou import testing as T
from gardefou.banks import BankService
from gardefou.decide import Services, decide_event, services_for
from gardefou.decision import Action
from gardefou.events import parse_event
from gardefou.pipeline import deciders
from gardefou.policy import load_default_policy

SIGNALS = {*T.POLICY_SIGNALS, "pdq_dihedral"}
VICTIM = "c3" * 32


def _extract(media, names):
    out = T.signal_set()
    out["pdq_dihedral"] = T.pdq_dihedral(VICTIM)
    return {k: v for k, v in out.items() if k in names}


def _event(tmp_path, event_id):
    Image.new("RGB", (32, 32), (5, 6, 7)).save(tmp_path / "a.png")
    return parse_event({"id": event_id, "author": "x", "media": ["a.png"], "kind": "post"})


@pytest.mark.parametrize("make", [Services, services_for], ids=["Services", "services_for"])
def test_library_services_attach_the_store_banks(tmp_db, tmp_path, make) -> None:
    """Before: Services(db) attached no banks, so a library caller's victim-bank facts were
    always false and a known victim image was allowed (the web and pipeline paths removed it)."""
    banks = BankService(tmp_db)
    banks.create_bank("victims")
    banks.add_entries("victims", [{"pdq": VICTIM, "quality": 100, "source": "takedown"}])
    policy = load_default_policy(signals=SIGNALS)
    services = make(tmp_db, policy=policy, extract=_extract, base_dir=tmp_path)
    assert isinstance(services.banks, BankService)
    s = decide_event(_event(tmp_path, "w1"), services)
    assert s.decision.action == Action.REMOVE and s.decision.reasons[0].code == "victim_bank_match"
    off = Services(tmp_db, policy=policy, extract=_extract, base_dir=tmp_path, banks=None)
    assert off.banks is None  # explicit opt-out only


def test_empty_store_decides_as_before_without_hashes(tmp_db, tmp_path) -> None:
    """No bank in the store: a missing bank signal is "no match", not "unknown"."""

    def no_hashes(media, names):
        return {k: v for k, v in T.signal_set().items() if k in names}

    services = Services(
        tmp_db, policy=load_default_policy(signals=SIGNALS), extract=no_hashes, base_dir=tmp_path
    )
    assert decide_event(_event(tmp_path, "w2"), services).decision.action == Action.ALLOW


def test_pipeline_default_decider_uses_the_one_constructor() -> None:
    assert deciders.default_decider()._factory is services_for


def test_import_error_inside_gardefou_is_not_degraded(monkeypatch) -> None:
    """Before: any ImportError turned the default decider into a signals-only decider that
    allowed everything."""
    monkeypatch.setitem(sys.modules, "gardefou.decide", None)  # import raises ImportError
    with pytest.raises(ImportError) as err:
        deciders.default_decider()
    assert err.value.name == "gardefou.decide"


def test_missing_third_party_extra_degrades_loudly_to_review(monkeypatch, tmp_path) -> None:
    broken = types.ModuleType("gardefou.decide")

    def missing(name):
        raise ModuleNotFoundError("No module named 'onnxruntime'", name="onnxruntime")

    broken.__getattr__ = missing  # type: ignore[method-assign]
    monkeypatch.setitem(sys.modules, "gardefou.decide", broken)
    with pytest.warns(RuntimeWarning, match="'onnxruntime' is missing"):
        decider = deciders.default_decider()
    Image.new("RGB", (32, 32), (5, 6, 7)).save(tmp_path / "a.png")
    event = deciders.PipelineEvent.parse({"id": "d1", "media": [str(tmp_path / "a.png")]})
    decision = decider.decide(event, event.load_media(deciders.Limits()))
    assert decision.action == Action.REVIEW and decision.reasons[0].code == "policy_unavailable"
