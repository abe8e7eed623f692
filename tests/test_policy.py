"""The policy engine and the default NCII policy, table-driven (no models, no imagery)."""

from __future__ import annotations

import pytest

from gardefou import testing as T
from gardefou.decision import Action
from gardefou.policy import dsa_fields, evaluate, load_default_policy, parse_policy
from gardefou.policy.dsa import template_part, template_problems

SIGNALS = {*T.POLICY_SIGNALS, "pdq"}


@pytest.fixture(scope="module")
def policy():
    return load_default_policy(signals=SIGNALS)


REAL = T.faces(1, photo_likelihood=0.95)
DRAWING = T.faces(1, photo_likelihood=0.1)

# (id, signals, context, expected action, expected first reason code)
CASES = [
    ("benign portrait", [REAL], {}, Action.ALLOW, None),
    ("no face, explicit", [T.nudity("explicit", 0.95)], {}, Action.ALLOW, None),
    (
        "victim bank match on a benign-looking image",
        [REAL],
        {"bank.victim_match": True},
        Action.REMOVE,
        "victim_bank_match",
    ),
    (
        "explicit real person, confident",
        [T.nudity("explicit", 0.92), REAL],
        {},
        Action.REMOVE,
        "sexualized_real_person",
    ),
    (
        "explicit real person, unsure",
        [T.nudity("explicit", 0.6), REAL],
        {},
        Action.REVIEW,
        "sexualized_real_person",
    ),
    (
        "explicit real person, consent evidence",
        [T.nudity("explicit", 0.95), REAL],
        {"consent.evidence": True},
        Action.ALLOW,
        None,
    ),
    ("explicit drawing", [T.nudity("explicit", 0.95), DRAWING], {}, Action.ALLOW, None),
    (
        "suggestive real person, no other evidence",
        [T.nudity("suggestive", 0.9), REAL],
        {},
        Action.ALLOW,
        None,
    ),
    (
        "minor + suggestive",
        [T.nudity("suggestive", 0.7), REAL, T.age(True, 0.8)],
        {},
        Action.REMOVE_ESCALATE,
        "minor_sexualized",
    ),
    (
        "minor + explicit, drawing too",
        [T.nudity("explicit", 0.7), DRAWING, T.age(True)],
        {},
        Action.REMOVE_ESCALATE,
        "minor_sexualized",
    ),
    ("minor, not sexualized", [T.nudity("none"), REAL, T.age(True)], {}, Action.ALLOW, None),
    (
        "sexualized edit of reply parent",
        [T.nudity("suggestive", 0.8), REAL],
        {"thread.sexualized_edit": True, "thread.same_person_score": 0.9},
        Action.REMOVE,
        "sexualized_edit_of_real_person",
    ),
    (
        "bot answer to undress request",
        [T.nudity("suggestive", 0.8), REAL],
        {"thread.bot_request": True, "request.score": 0.9},
        Action.REMOVE,
        "sexualizing_request_answered",
    ),
    (
        "bot answer to undress request, level none",
        [T.nudity("none"), REAL],
        {"thread.bot_request": True},
        Action.REVIEW,
        "sexualizing_request_answered",
    ),
    (
        "protected person, sexualized",
        [T.nudity("suggestive", 0.8), REAL],
        {"consent.match": True},
        Action.REMOVE,
        "consent_registry_match",
    ),
    (
        "protected person, not sexualized",
        [T.nudity("none"), REAL],
        {"consent.match": True},
        Action.ALLOW,
        None,
    ),
    (
        "ai-generated suggestive real person",
        [T.nudity("suggestive"), REAL, T.provenance(True)],
        {},
        Action.REMOVE,
        "synthetic_sexualized_real_person",
    ),
    (
        "ai-generated portrait",
        [REAL, T.provenance(True)],
        {},
        Action.LABEL,
        "synthetic_real_person",
    ),
    (
        "nudity model missing, face present",
        [T.nudity(available=False), REAL],
        {},
        Action.REVIEW,
        "undecided_signal_unavailable",
    ),
    ("nudity model missing, no face", [T.nudity(available=False)], {}, Action.ALLOW, None),
    (
        "age model missing, explicit real person",
        [T.nudity("explicit", 0.95), REAL, T.age(available=False)],
        {},
        Action.REMOVE,
        "sexualized_real_person",
    ),
    (
        "age model missing, suggestive real person",
        [T.nudity("suggestive", 0.9), REAL, T.age(available=False)],
        {},
        Action.REVIEW,
        "undecided_signal_unavailable",
    ),
]


@pytest.mark.parametrize(
    ("signals", "context", "action", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_default_policy(policy, signals, context, action, code):
    d = evaluate(policy, T.signal_set(*signals), context)
    assert d.action == action, [t for t in d.rule_trace if t.matched or t.action]
    assert (d.reasons[0].code if d.reasons else None) == code
    assert d.policy == "gardefou-ncii@1"
    assert len(d.rule_trace) == len(policy.rules)  # every rule is traced
    if action in (Action.REMOVE, Action.REMOVE_ESCALATE, Action.LABEL):
        assert d.dsa_fields["decision_ground"].startswith("DECISION_GROUND_")
        assert not template_problems(template_part(d.dsa_fields))
    else:
        assert d.dsa_fields == {}


def test_missing_signal_is_never_silent_allow(policy):
    d = evaluate(policy, {"faces": REAL}, {})  # nudity did not run at all
    assert d.action == Action.REVIEW
    assert "nudity" in d.unavailable
    assert any(t.detail.startswith("undecided") for t in d.rule_trace)


def test_dict_signals_accepted(policy):
    sig = {k: v.to_dict() for k, v in T.signal_set(T.nudity("explicit", 0.95), REAL).items()}
    assert evaluate(policy, sig, {}).action == Action.REMOVE


def test_synthetic_media_content_type(policy):
    d = evaluate(
        policy, T.signal_set(T.nudity("suggestive", 0.8), REAL), {"thread.sexualized_edit": True}
    )
    assert d.dsa_fields["content_type"] == ["CONTENT_TYPE_IMAGE", "CONTENT_TYPE_SYNTHETIC_MEDIA"]
    d = evaluate(policy, T.signal_set(T.nudity("explicit", 0.95), REAL), {})
    assert d.dsa_fields["content_type"] == ["CONTENT_TYPE_IMAGE"]


def test_minor_dsa_fields(policy):
    d = evaluate(policy, T.signal_set(T.nudity("explicit", 0.9), REAL, T.age(True, 0.7)), {})
    f = d.dsa_fields
    assert f["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert f["category"] == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    assert "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL" in f["category_specification"]
    assert f["illegal_content_legal_ground"] and f["illegal_content_explanation"]
    assert "incompatible_content_ground" not in f
    assert f["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert d.confidence == 0.7 and d.categories[0] == "minor"


def test_trace_explains_values(policy):
    d = evaluate(policy, T.signal_set(T.nudity("explicit", 0.92), REAL), {})
    hit = next(t for t in d.rule_trace if t.rule == "explicit_real_person_high")
    assert hit.matched and hit.action == "remove"
    assert "nudity.score=0.92 gte 0.8: true" in hit.detail
    assert "nudity.level='explicit'" in hit.detail


def test_evaluate_is_pure_and_deterministic(policy):
    sig = T.signal_set(T.nudity("suggestive", 0.8), REAL)
    ctx = {"thread.sexualized_edit": True}
    a, b = evaluate(policy, sig, ctx), evaluate(policy, sig, ctx)
    assert a == b and ctx == {"thread.sexualized_edit": True}


def test_reviewer_dsa_fields(policy):
    rule = policy.rule("explicit_real_person_review")
    f = dsa_fields(policy, rule, Action.REMOVE, automated="AUTOMATED_DECISION_PARTIALLY")
    assert f["automated_decision"] == "AUTOMATED_DECISION_PARTIALLY"
    assert dsa_fields(policy, rule, Action.REVIEW) == {}


def test_three_valued_any_all():
    p = parse_policy(
        """
name: t
version: 1
rules:
  - id: any_rule
    when: {any: [{nudity.explicit: true}, {faces.count: {gte: 1}}]}
    action: review
    reason: {message: m}
  - id: not_rule
    when: {not: {nudity.sexualized: true}}
    action: label
    reason: {message: m}
    dsa: d
dsa:
  d: {decision_ground: DECISION_GROUND_INCOMPATIBLE_CONTENT,
      category: STATEMENT_CATEGORY_OTHER_VIOLATION_TC, incompatible_content_ground: g,
      incompatible_content_explanation: e}
""",
        signals={"nudity", "faces"},
    )
    # any(unknown, true) = true
    d = evaluate(p, {"nudity": T.nudity(available=False), "faces": REAL})
    assert d.action == Action.REVIEW and d.reasons[0].code == "any_rule"
    # any(unknown, false) = unknown -> review (on_unknown); not(unknown) on a label rule caps
    d = evaluate(p, {"nudity": T.nudity(available=False), "faces": T.faces(0)})
    assert d.action == Action.REVIEW and d.reasons[0].code == "undecided_signal_unavailable"
    d = evaluate(p, {"nudity": T.nudity("none"), "faces": T.faces(0)})
    assert d.action == Action.LABEL
    assert d.dsa_fields["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_LABELLED"]


def test_required_signals(policy):
    assert policy.required_signals() == ["age", "faces", "nudity", "provenance"]


def test_accountability_loaded(policy):
    acc = policy.accountability
    assert acc.weights[Action.REMOVE] == 1 and acc.weights[Action.REMOVE_ESCALATE] == 3
    assert acc.requester_multiplier == acc.poster_multiplier == 1
    assert [s.name for s in acc.sanctions] == ["rate_limit", "no_image_edit", "suspend"]
    assert acc.sanctions[-1].decision_account == "DECISION_ACCOUNT_SUSPENDED"
