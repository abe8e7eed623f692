"""Decision.to_dict is dataclasses.asdict (action as its string), field for field."""

from __future__ import annotations

import dataclasses
import json

from gardefou.decision import Action, Decision, Reason, RuleTrace


def _asdict(d: Decision) -> dict:
    out = dataclasses.asdict(d)
    out["action"] = str(d.action)
    return out


def _decisions() -> list[Decision]:
    full = Decision(
        action=Action.REMOVE_ESCALATE,
        reasons=(
            Reason("minor_risk", "a face may be a minor", "age", 0.71, "minor"),
            Reason("sexualized", "suggestive", None, None, None),
        ),
        rule_trace=(
            RuleTrace("r1", True, "age.minor_risk=0.71", "remove_escalate"),
            RuleTrace("r2", False),
        ),
        dsa_fields={
            "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
            "category_specification": ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"],
            "nested": {"a": [1, 2, {"b": None}]},
        },
        categories=("minor", "ncii"),
        confidence=0.93,
        policy="default-ncii@3",
        unavailable=("provenance",),
    )
    return [Decision(Action.ALLOW), full, dataclasses.replace(full, action=Action.REVIEW)]


def test_to_dict_equals_asdict():
    for d in _decisions():
        got = d.to_dict()
        assert got == _asdict(d)
        assert list(got) == [f.name for f in dataclasses.fields(Decision)]  # same order
        assert json.dumps(got) == json.dumps(_asdict(d))
        assert Decision.from_dict(got) == d


def test_to_dict_is_a_copy():
    d = _decisions()[1]
    out = d.to_dict()
    out["dsa_fields"]["nested"]["a"].append(3)
    assert d.dsa_fields["nested"]["a"] == [1, 2, {"b": None}]
