"""Properties of evaluate() over generated signals and contexts (hypothesis)."""

from __future__ import annotations

import builtins
import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gardefou import testing as T
from gardefou.decision import Action
from gardefou.policy import CONTEXT_FACTS, evaluate, load_default_policy
from gardefou.policy.dsa import ACTION_VISIBILITY, template_part, template_problems

POLICY = load_default_policy(signals={*T.POLICY_SIGNALS})
BOOL_FACTS = sorted(n for n, s in CONTEXT_FACTS.items() if s.type == "bool")

levels = st.sampled_from(["explicit", "suggestive", "none"])
scores = st.floats(0, 1, allow_nan=False)
nudity = st.one_of(st.builds(T.nudity, levels, scores), st.just(T.nudity(available=False)))
faces = st.one_of(
    st.builds(T.faces, st.integers(0, 4), st.one_of(st.none(), scores)),
    st.just(T.faces(available=False)),
)
age = st.one_of(st.builds(T.age, st.booleans(), scores), st.just(T.age(available=False)))
prov = st.builds(T.provenance, st.sampled_from([None, True, False]))
context = st.dictionaries(st.sampled_from(BOOL_FACTS), st.booleans(), max_size=6)


@settings(max_examples=300, deadline=None)
@given(nudity, faces, age, prov, context)
def test_decisions_are_complete_and_valid(n, f, a, p, ctx):
    d = evaluate(POLICY, {"nudity": n, "faces": f, "age": a, "provenance": p}, ctx)
    assert isinstance(d.action, Action)
    assert len(d.rule_trace) == len(POLICY.rules)
    if d.action in ACTION_VISIBILITY:
        assert d.reasons and d.dsa_fields["decision_visibility"]
        assert template_problems(template_part(d.dsa_fields)) == []
    else:
        assert d.dsa_fields == {}
    if d.action != Action.ALLOW:
        assert d.reasons
    # a possible minor shown sexualized is always removed and escalated
    if a.available and a.value["minor_risk"] and n.available and n.value != "none":
        assert d.action == Action.REMOVE_ESCALATE
    # a missing nudity model on a photo of a person is never a silent allow (unless the
    # person's own consent evidence takes the real-person rules out)
    if (
        not n.available
        and not ctx.get("consent.evidence")
        and f.available
        and f.details["count"] >= 1
        and (f.details["photo_likelihood"] is None or f.details["photo_likelihood"] >= 0.5)
    ):
        assert d.action != Action.ALLOW


@settings(max_examples=100, deadline=None)
@given(nudity, faces, age, prov, context)
def test_deterministic(n, f, a, p, ctx):
    sig = {"nudity": n, "faces": f, "age": a, "provenance": p}
    assert evaluate(POLICY, sig, dict(ctx)) == evaluate(POLICY, sig, dict(ctx))


def test_evaluate_does_no_io(monkeypatch):
    def forbidden(*a, **k):
        raise AssertionError("evaluate() must not do I/O")

    sig = T.signal_set(T.nudity("explicit", 0.9), T.faces(1))
    evaluate(POLICY, sig, {})  # warm caches (fact specs) outside the guard
    monkeypatch.setattr(builtins, "open", forbidden)
    monkeypatch.setattr(socket, "socket", forbidden)
    import sqlite3

    monkeypatch.setattr(sqlite3, "connect", forbidden)
    d = evaluate(POLICY, sig, {"thread.sexualized_edit": True})
    assert d.action == Action.REMOVE


@pytest.mark.parametrize("bad", [{"value": "nude"}, {"value": 42}, {"value": None}])
def test_malformed_signal_values_are_unknown_not_clean(bad):
    d = evaluate(POLICY, {"nudity": {"available": True, **bad}, "faces": T.faces(1)}, {})
    assert d.action == Action.REVIEW
