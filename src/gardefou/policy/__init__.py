"""Policies: rules in YAML, validated on load, evaluated as a pure function.

    policy = load_default_policy()            # or load_policy("my-policy.yaml")
    decision = evaluate(policy, signals, context)

``signals`` maps a signal name to its SignalResult; ``context`` holds the derived facts
(``bank.victim_match``, ``thread.sexualized_edit``, ``consent.match``, ...). See docs/policy.md.
"""

from __future__ import annotations

from gardefou.policy.engine import dsa_fields, evaluate
from gardefou.policy.facts import CONTEXT_FACTS, UNKNOWN, signal_fact_table
from gardefou.policy.loader import (
    default_policy_text,
    load_default_policy,
    load_policy,
    parse_policy,
)
from gardefou.policy.model import Accountability, Policy, Rule, Sanction

__all__ = [
    "CONTEXT_FACTS",
    "UNKNOWN",
    "Accountability",
    "Policy",
    "Rule",
    "Sanction",
    "default_policy_text",
    "dsa_fields",
    "evaluate",
    "load_default_policy",
    "load_policy",
    "parse_policy",
    "signal_fact_table",
]
