"""Cheap-first signal evaluation gives the decisions of the eager path.

The policy decides which expensive signal (faces, age, identity) an image still needs; these
tests run both paths over the default policy's labelled cases, over decide() scenarios with fake
signals (threads, bot requests, generations, victim banks, consent, unavailable models), and,
marked slow, over the bundled demo stream with the real models."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image

from gardefou import testing as T
from gardefou.decide import IDENTITY_FACTS, Services, decide_event, get_decision, rules_intent
from gardefou.decision import Decision
from gardefou.policy import UNKNOWN, evaluate, load_default_policy
from gardefou.policy.facts import _AttrView
from gardefou.policy.needs import EXPENSIVE_SIGNALS, needed_signals, thread_memory_signals
from gardefou.store import connect

from .bank_support import SIGNALS
from .test_decide import (
    BIKINI_EDIT,
    BOB_BEACH,
    PORTRAIT,
    VICTIM_HEX,
    FakeSignals,
    make_services,
)

ALICE = T.person_embedding(1)


def same_decision(eager: Decision, lazy: Decision) -> None:
    """Action, reasons, DSA fields, categories, confidence: identical. The trace: the same rules
    with the same outcome; a detail may differ only where it says skipped. ``unavailable``: the
    same, less any signal the lazy path skipped (and says so)."""
    e, z = eager.to_dict(), lazy.to_dict()
    for key in e:
        if key not in ("rule_trace", "unavailable"):
            assert z[key] == e[key], key
    # a signal that was not needed did not run, so its model's absence can go unnoticed
    assert set(lazy.unavailable) <= set(eager.unavailable)
    for name in set(eager.unavailable) - set(lazy.unavailable):
        assert f"'{name}'" in lazy.rule_trace[0].detail and "skipped" in lazy.rule_trace[0].detail
    assert len(eager.rule_trace) == len(lazy.rule_trace)
    for te, tz in zip(eager.rule_trace, lazy.rule_trace, strict=True):
        assert (te.rule, te.matched, te.action) == (tz.rule, tz.matched, tz.action)
        assert tz.detail == te.detail or "skipped" in tz.detail, (te, tz)


# -- the policy file -------------------------------------------------------------------------------


def test_every_default_rule_reading_expensive_signals_also_needs_a_cheap_fact():
    """Checked against default.yaml: with nudity 'none', no sexualizing request, no AI
    provenance and no bank match, every rule is decided without faces, age or identity."""
    policy = load_default_policy()
    cheap = {"nudity": T.nudity("none", 0.97), "provenance": T.provenance(None)}
    consent = {"consent.match": UNKNOWN, "consent.evidence": UNKNOWN}
    # a reply: the image is not more sexualized than the parent's, so it is no sexualized edit
    # whoever it shows (gardefou.decide.item_context settles this from the nudity levels)
    reply = {
        "event.is_reply": True,
        "thread.parent_same_person": UNKNOWN,
        "thread.same_person_score": UNKNOWN,
        "thread.more_sexualized_than_parent": False,
        "thread.sexualized_edit": False,
    }
    for ctx in (
        {"event.kind": "post", "bank.match": False, "bank.victim_match": False},
        {"event.kind": "post", **reply},
        {"event.kind": "post", **reply, "thread.parent_same_author": True},
        {"event.kind": "generation", "request.sexualizing": False, **reply},
    ):
        ctx = {**ctx, **consent}
        assert needed_signals(policy, cheap, ctx, EXPENSIVE_SIGNALS, IDENTITY_FACTS) == set()
    # ... but a sexualized image, a sexualizing request or AI provenance needs them
    for signals, ctx in (
        ({"nudity": T.nudity("suggestive", 0.8)}, {}),
        ({"nudity": T.nudity("none", 0.9)}, {"request.sexualizing": True}),
        ({"nudity": T.nudity("none", 0.9), "provenance": T.provenance(True)}, {}),
    ):
        assert "faces" in needed_signals(policy, signals, ctx, EXPENSIVE_SIGNALS, IDENTITY_FACTS)
    # later replies compare their faces with this image's: identity is always computed
    assert thread_memory_signals(policy, IDENTITY_FACTS) == {"identity"}


def _cheap_first(policy: Any, signals: dict[str, Any], ctx: dict[str, Any]) -> Decision:
    """The lazy loop of gardefou.decide.judge_lazily over recorded results (identity-derived
    context facts UNKNOWN while identity is pending)."""
    known = {n: r for n, r in signals.items() if n not in EXPENSIVE_SIGNALS}
    skipped: set[str] = set()
    ran: set[str] = set()  # the cases give identity's derived facts, not its result

    def context() -> dict[str, Any]:
        if "identity" in ran:
            return dict(ctx)
        return {**ctx, **{f: UNKNOWN for f in IDENTITY_FACTS}}

    for name in EXPENSIVE_SIGNALS:
        left = [n for n in EXPENSIVE_SIGNALS if n not in ran and n not in skipped]
        if name in needed_signals(policy, known, context(), left, IDENTITY_FACTS):
            ran.add(name)
            if name in signals:
                known[name] = signals[name]
        else:
            skipped.add(name)
    final = context()
    if "identity" in skipped:
        skipped |= set(IDENTITY_FACTS)
    return evaluate(policy, known, final, skipped=skipped)


def _cases() -> list[dict[str, Any]]:
    text = (resources.files("gardefou.policy") / "default_cases.yaml").read_text("utf-8")
    return yaml.safe_load(text)["cases"]


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["name"])
def test_labelled_cases_decide_the_same_cheap_first(case):
    policy = load_default_policy()
    signals = {k: _AttrView(v) for k, v in (case.get("signals") or {}).items()}
    ctx = dict(case.get("context") or {})
    eager = evaluate(policy, signals, ctx)
    assert eager.action.value == case["expect"]
    same_decision(eager, _cheap_first(policy, signals, ctx))


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["name"])
def test_truth_only_evaluation_agrees_with_the_traced_one(case):
    """The cheap-first pass asks ``_Evaluator.truth`` (no trace text); it must give every
    rule's, define's and synthetic_when's ``cond`` result, with all signals known and with each
    signal or context fact removed in turn (so UNKNOWN reaches every rule)."""
    from gardefou.policy.engine import _Evaluator
    from gardefou.policy.model import Use

    policy = load_default_policy()
    signals = {k: _AttrView(v) for k, v in (case.get("signals") or {}).items()}
    ctx = dict(case.get("context") or {})
    variants = [(signals, ctx)]
    variants += [({k: v for k, v in signals.items() if k != n}, ctx) for n in signals]
    variants += [(signals, {**ctx, n: UNKNOWN}) for n in ctx]
    conditions = [r.when for r in policy.rules] + [Use(n) for n in policy.defines]
    if policy.synthetic_when is not None:
        conditions.append(policy.synthetic_when)
    for sig, cx in variants:
        traced, plain = _Evaluator(policy, sig, cx), _Evaluator(policy, sig, cx)
        for c in conditions:
            assert plain.truth(c) == traced.cond(c)[0], (case["name"], c)


def test_policy_caches_the_facts_each_rule_reads():
    from gardefou.policy.model import condition_facts

    policy = load_default_policy()
    assert policy.rule_facts == tuple(
        frozenset(condition_facts(r.when, policy.defines)) for r in policy.rules
    )
    assert policy.synthetic_facts == frozenset(
        condition_facts(policy.synthetic_when, policy.defines)
    )


# -- decide(): fake signals ------------------------------------------------------------------------


class CountingSignals(FakeSignals):
    def __init__(self, table, folder):
        super().__init__(table, folder)
        self.names: list[str] = []

    def __call__(self, media, names):
        self.names.extend(names)
        return super().__call__(media, names)


TABLE = {
    "portrait.png": PORTRAIT,
    "edit.png": BIKINI_EDIT,
    "beach.png": BOB_BEACH,
    "victim.png": [T.nudity("none", 0.6), T.faces(0), T.pdq_dihedral(VICTIM_HEX)],
    "minor.png": [T.nudity("suggestive", 0.7), T.faces(1), T.age(True, 0.8)],
    "explicit.png": [T.nudity("explicit", 0.9), T.faces(1, 0.9)],
    "drawing.png": [T.nudity("explicit", 0.85), T.faces(1, 0.2)],
    "synthetic.png": [T.nudity("none", 0.9), T.faces(1), T.provenance(True)],
    "nofaces.png": [T.nudity("suggestive", 0.8), T.faces(available=False)],
    "noage.png": [T.nudity("none", 0.9), T.faces(1), T.age(available=False)],
    "nonude.png": [T.nudity(available=False), T.faces(1)],
}

EVENTS: list[dict[str, Any]] = [
    {"id": "p1", "author": "alice", "text": "me", "media": ["portrait.png"]},
    {"id": "p2", "author": "u7", "text": "@imgbot put her in a bikini", "reply_to": "p1"},
    {"id": "p3", "author": "imgbot", "text": "done", "media": ["edit.png"], "reply_to": "p2"},
    {"id": "p4", "author": "bob", "text": "beach", "media": ["beach.png"], "reply_to": "p1"},
    {"id": "p5", "author": "alice", "media": ["edit.png"], "reply_to": "p1"},
    {"id": "p6", "author": "eve", "media": ["victim.png"]},
    {"id": "p7", "author": "eve", "media": ["minor.png", "portrait.png"]},
    {"id": "p8", "author": "eve", "media": ["explicit.png"]},
    {"id": "p9", "author": "eve", "media": ["drawing.png"]},
    {"id": "p10", "author": "eve", "media": ["synthetic.png"]},
    {"id": "p11", "author": "eve", "media": ["nofaces.png"]},
    {"id": "p12", "author": "eve", "media": ["noage.png"]},
    {"id": "p13", "author": "eve", "media": ["nonude.png"]},
    {"id": "p14", "author": "eve", "media": ["portrait.png"], "reply_to": "missing"},
    {"id": "p15", "author": "u8", "text": "@imgbot undress her", "reply_to": "p8"},
    {"id": "p16", "author": "imgbot", "media": ["portrait.png"], "reply_to": "p15"},
    {
        "id": "g1",
        "kind": "generation",
        "requester": "u9",
        "request": "put her in a bikini",
        "input_media": [{"path": "portrait.png"}],
        "output_media": [{"path": "edit.png"}],
    },
    {
        "id": "g2",
        "kind": "generation",
        "requester": "u9",
        "request": "undress her",
        "input_media": [{"path": "portrait.png"}],
    },
    {
        "id": "g3",
        "kind": "generation",
        "requester": "u9",
        "request": "a red dress",
        "input_media": [{"path": "portrait.png"}],
        "output_media": [{"path": "beach.png"}],
    },
]


def _run(
    folder: Path, db_path: Path, lazy: bool, events: list[dict[str, Any]] | None = None
) -> tuple[dict[str, Decision], list[str]]:
    fake = CountingSignals(TABLE, folder)
    services = make_services(connect(str(db_path)), fake, folder, lazy=lazy)
    events = EVENTS if events is None else events
    for ev in events:
        decide_event(ev, services)
    # the stored decisions: re-evaluation may have escalated some when a late parent arrived
    out = {}
    for ev in events:
        stored = get_decision(services.db, ev["id"])
        assert stored is not None
        out[ev["id"]] = stored.decision
    services.db.close()
    return out, fake.names


def test_decide_cheap_first_matches_eager(tmp_path):
    for i, name in enumerate(TABLE):
        Image.new("RGB", (64, 64), (20 * i, 90, 250 - 20 * i)).save(tmp_path / name)
    eager, eager_names = _run(tmp_path, tmp_path / "eager.db", lazy=False)
    lazy, lazy_names = _run(tmp_path, tmp_path / "lazy.db", lazy=True)
    for eid in eager:
        same_decision(eager[eid], lazy[eid])
    # the benign portrait (p1) skips age and the faces signal; identity still runs (thread memory)
    assert eager_names.count("age") > lazy_names.count("age")
    assert lazy_names.count("identity") == eager_names.count("identity")
    context = lazy["p1"].rule_trace[0].detail
    assert "skipped (no undecided rule needs them): ['age', 'faces']" in context
    assert lazy["p1"].unavailable == () and "age" not in lazy["p1"].unavailable
    # a model that could not run still sends a possibly sexualized person to review
    assert lazy["p13"].action.value == "review" and lazy["p13"].unavailable == ("nudity",)
    assert eager["p11"].unavailable == ("faces",) and lazy["p11"].unavailable == ()


def test_skipped_signals_are_not_unavailable():
    policy = load_default_policy()
    d = evaluate(policy, {"nudity": T.nudity("none"), "provenance": T.provenance()}, {})
    assert d.action.value == "allow" and set(d.unavailable) == {"age", "faces"}
    d = evaluate(
        policy,
        {"nudity": T.nudity("none"), "provenance": T.provenance()},
        {},
        skipped={"faces", "age"},
    )
    assert d.action.value == "allow" and d.unavailable == ()
    assert any("skipped" in t.detail for t in d.rule_trace)


# -- the demo stream, real models ------------------------------------------------------------------


@pytest.mark.slow
def test_demo_stream_decides_the_same_cheap_first(tmp_path, monkeypatch):
    pytest.importorskip("nudenet")
    from gardefou.decide import PlatformDecider
    from gardefou.pipeline import demo

    def decisions(lazy: bool) -> dict[str, Decision]:
        def factory() -> PlatformDecider:
            def services(db: Any) -> Services:
                from gardefou.banks.service import BankService

                return Services(db, banks=BankService(db), lazy=lazy)

            return PlatformDecider(services)

        monkeypatch.setattr(demo, "default_decider", factory)
        out = tmp_path / ("lazy" if lazy else "eager")
        demo.run_demo(out, echo=lambda _: None)
        db = connect(str(next(out.glob("*.db"))))
        rows = db.query("SELECT event_id, decision_json FROM decisions")
        db.close()
        return {r["event_id"]: Decision.from_dict(json.loads(r["decision_json"])) for r in rows}

    eager, lazy = decisions(False), decisions(True)
    assert len(eager) == 11 and set(lazy) == set(eager)
    for eid in eager:
        same_decision(eager[eid], lazy[eid])
    assert any("skipped" in d.rule_trace[0].detail for d in lazy.values())


def test_identity_skipped_too_when_thread_memory_is_not_needed(tmp_path, monkeypatch):
    """With a policy that reads no parent-derived thread facts, identity is deferred like the
    others: its context facts are unknown until a rule needs them (consent registry, edits)."""
    import gardefou.decide.judge as decide_mod

    for i, name in enumerate(TABLE):
        Image.new("RGB", (64, 64), (20 * i, 90, 250 - 20 * i)).save(tmp_path / name)
    eager, _ = _run(tmp_path, tmp_path / "eager.db", lazy=False)
    monkeypatch.setattr(decide_mod, "thread_memory_signals", lambda policy, deps: set())
    lazy, names = _run(tmp_path, tmp_path / "lazy.db", lazy=True)
    # events whose decision does not read an earlier image's faces
    for eid in ("p1", "p6", "p7", "p8", "p9", "p10", "p11", "p12", "p13", "p14", "g2"):
        same_decision(eager[eid], lazy[eid])
    assert "identity" in lazy["p1"].rule_trace[0].detail  # listed as skipped
    assert names.count("identity") < len(EVENTS)


LATE = [
    {"id": "c1", "author": "bob", "media": ["beach.png"], "reply_to": "root"},
    {"id": "c2", "author": "eve", "media": ["portrait.png"], "reply_to": "c1"},
    {"id": "c3", "author": "u1", "text": "@imgbot put her in a bikini", "reply_to": "c2"},
    {"id": "c4", "author": "imgbot", "media": ["edit.png"], "reply_to": "c3"},
    {"id": "c5", "author": "imgbot", "media": ["portrait.png"], "reply_to": "c3"},
    {"id": "root", "author": "alice", "media": ["portrait.png"]},
]


def test_late_parents_reevaluate_the_same(tmp_path):
    """Replies decided before their ancestors arrive are judged again from stored signals: a
    reply without known image ancestors gets every signal, and a lazily decided descendant is
    not escalated by the re-evaluation."""
    for i, name in enumerate(TABLE):
        Image.new("RGB", (64, 64), (20 * i, 90, 250 - 20 * i)).save(tmp_path / name)
    eager, _ = _run(tmp_path, tmp_path / "eager.db", lazy=False, events=LATE)
    lazy, _ = _run(tmp_path, tmp_path / "lazy.db", lazy=True, events=LATE)
    for eid in eager:
        same_decision(eager[eid], lazy[eid])
    assert "skipped" not in lazy["c1"].rule_trace[0].detail  # no image ancestor known: eager
    assert "skipped" in lazy["c2"].rule_trace[0].detail


def test_one_bank_look_up_per_image(tmp_path):
    for i, name in enumerate(TABLE):
        Image.new("RGB", (64, 64), (20 * i, 90, 250 - 20 * i)).save(tmp_path / name)

    class CountingBanks(T.FakeBankService):  # type: ignore[misc,name-defined]
        calls = 0

        def match(self, *args, **kwargs):
            CountingBanks.calls += 1
            return super().match(*args, **kwargs)

    services = Services(
        connect(str(tmp_path / "b.db")),
        policy=load_default_policy(signals=SIGNALS),
        extract=CountingSignals(TABLE, tmp_path),
        base_dir=tmp_path,
        banks=CountingBanks({}),
        intent=rules_intent,
    )
    events = [e for e in EVENTS if e["id"] in ("p1", "p7", "p8", "p11")]
    for ev in events:
        decide_event(ev, services)
    services.db.close()
    assert CountingBanks.calls == sum(len(e["media"]) for e in events)
