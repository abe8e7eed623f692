"""The decision every part of gardefou produces and consumes.

The guardrail, the policy engine, the review console and the DSA exporter all speak in
``Decision``: an action, the reasons (each with the signal and score behind it), the trace of
every rule evaluated, and the fields a DSA statement of reasons needs (enum values of the EU
Transparency Database, never personal data).
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    """Ordered from least to most severe (see SEVERITY)."""

    ALLOW = "allow"
    LABEL = "label"
    AGE_RESTRICT = "age_restrict"
    REVIEW = "review"
    REFUSE = "refuse"  # guardrail: the generator must not produce the output
    REMOVE = "remove"
    REMOVE_ESCALATE = "remove_escalate"  # remove and escalate (e.g. minors: report to authorities)


SEVERITY: dict[Action, int] = {a: i for i, a in enumerate(Action)}


def most_severe(actions: list[Action]) -> Action:
    return max(actions, key=SEVERITY.__getitem__, default=Action.ALLOW)


@dataclass(frozen=True)
class Reason:
    """Why an action was taken: a stable code, a human sentence, and the evidence behind it."""

    code: str  # e.g. "sexualized_edit_of_real_person", "victim_bank_match", "minor_risk"
    message: str
    signal: str | None = None
    score: float | None = None
    category: str | None = None  # e.g. "ncii", "minor", "synthetic"


@dataclass(frozen=True)
class RuleTrace:
    """One rule as evaluated: whether it matched, and the values it looked at."""

    rule: str
    matched: bool
    detail: str = ""
    action: str | None = None


@dataclass(frozen=True)
class Decision:
    action: Action
    reasons: tuple[Reason, ...] = ()
    rule_trace: tuple[RuleTrace, ...] = ()
    #: DSA statement-of-reasons fields: decision_ground, category, category_specification
    #: (keywords), content_type, decision_visibility, *_legal_ground/_explanation, ...
    dsa_fields: dict[str, Any] = field(default_factory=dict)
    categories: tuple[str, ...] = ()
    confidence: float | None = None
    policy: str = ""  # policy name@version that decided
    #: signals that could not run; a decision that needed one is never a silent "allow"
    unavailable: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.action in (Action.ALLOW, Action.LABEL)

    def to_dict(self) -> dict[str, Any]:
        """``dataclasses.asdict`` with the action as its string, written out field by field
        (asdict's generic recursion cost ~0.2 ms per call, twice per decided event);
        ``tests/test_decision.py`` checks it equals asdict's result."""
        return {
            "action": str(self.action),
            "reasons": tuple(
                {
                    "code": r.code,
                    "message": r.message,
                    "signal": r.signal,
                    "score": r.score,
                    "category": r.category,
                }
                for r in self.reasons
            ),
            "rule_trace": tuple(
                {"rule": t.rule, "matched": t.matched, "detail": t.detail, "action": t.action}
                for t in self.rule_trace
            ),
            "dsa_fields": copy.deepcopy(self.dsa_fields),
            "categories": tuple(self.categories),
            "confidence": self.confidence,
            "policy": self.policy,
            "unavailable": tuple(self.unavailable),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Decision:
        return cls(
            action=Action(d["action"]),
            reasons=tuple(Reason(**r) for r in d.get("reasons", ())),
            rule_trace=tuple(RuleTrace(**t) for t in d.get("rule_trace", ())),
            dsa_fields=dict(d.get("dsa_fields", {})),
            categories=tuple(d.get("categories", ())),
            confidence=d.get("confidence"),
            policy=d.get("policy", ""),
            unavailable=tuple(d.get("unavailable", ())),
        )


#: the rule name of the trace entry that holds a clip's evidence facts (JSON; written by
#: ``gardefou.decide.video``, read by the evidence log)
EVIDENCE_TRACE = "video_evidence"


def trace_evidence(decision: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The clips' evidence facts in a stored decision (``Decision.to_dict()``)."""
    out = []
    for t in (decision or {}).get("rule_trace") or ():
        if t.get("rule") == EVIDENCE_TRACE:
            try:
                out.append(json.loads(t["detail"]))
            except (ValueError, TypeError):
                continue  # a trace entry is text: an unreadable one is skipped, not fatal
    return out


def video_content_type(decision: Decision) -> Decision:
    """The same decision with CONTENT_TYPE_VIDEO in place of CONTENT_TYPE_IMAGE."""
    types = [
        "CONTENT_TYPE_VIDEO" if t == "CONTENT_TYPE_IMAGE" else t
        for t in decision.dsa_fields.get("content_type", [])
    ]
    if "CONTENT_TYPE_VIDEO" not in types:
        types.insert(0, "CONTENT_TYPE_VIDEO")
    return dataclasses.replace(decision, dsa_fields={**decision.dsa_fields, "content_type": types})
