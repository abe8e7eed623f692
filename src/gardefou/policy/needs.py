"""Which pending signals a decision still needs: the policy's rules decide, not a fixed list.

Cheap signals (hashes, bank match, nudity, provenance) run first; an expensive one (faces, age,
identity) runs only when a rule that is not yet decided references it. A rule is decided when
its condition is already true or false with the pending signals treated as UNKNOWN: three-valued
logic is monotone (replacing UNKNOWN with a value never turns true into false or back), so the
final decision is the one all signals would give. Besides conditions, a rule that matched or
could match needs its score fact (the reason's confidence), and the ``synthetic_when`` condition
is needed while a rule whose action restricts visibility matched or could match (the DSA fields'
content type depend on it).

A skipped signal is not "unavailable": ``evaluate(..., skipped=...)`` shows it as "skipped" in
the trace and never counts it as missing, so fail-closed logic only reacts to signals that did
not or could not run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gardefou.policy.dsa import ACTION_VISIBILITY
from gardefou.policy.model import Policy

#: signals worth deferring (CPU ms per photo on one core: faces ~30-50, identity ~77, age ~5-10)
EXPENSIVE_SIGNALS = ("faces", "age", "identity")


def _signals_of(facts: Iterable[str], context_deps: Mapping[str, str]) -> set[str]:
    out = set()
    for f in facts:
        out.add(context_deps.get(f, f.split(".", 1)[0]))
    return out


def needed_signals(
    policy: Policy,
    signals: Mapping[str, Any],
    context: Mapping[str, Any],
    pending: Iterable[str],
    context_deps: Mapping[str, str] | None = None,
) -> set[str]:
    """The ``pending`` signals some undecided rule needs.

    ``signals``/``context`` hold what is known so far: pending signals absent, and context facts
    derived from a pending signal set to UNKNOWN (``context_deps`` maps such a fact to its
    signal, e.g. ``thread.sexualized_edit`` -> ``identity``).
    """
    from gardefou.policy.engine import _Evaluator

    pending = set(pending)
    deps = dict(context_deps or {})
    ev = _Evaluator(policy, signals, context)
    need: set[str] = set()
    restricting_open = False
    # the facts per rule are the policy's (cached on it); only truth values are computed here
    for rule, facts in zip(policy.rules, policy.rule_facts, strict=True):
        res = ev.truth(rule.when)
        if res is None:
            need |= _signals_of(facts, deps)
        if res is not False:
            if rule.score:
                need |= _signals_of([rule.score], deps)
            restricting_open = restricting_open or rule.action in ACTION_VISIBILITY
    if restricting_open and policy.synthetic_when is not None:
        if ev.truth(policy.synthetic_when) is None:
            need |= _signals_of(policy.synthetic_facts, deps)
    return need & pending


def thread_memory_signals(policy: Policy, context_deps: Mapping[str, str]) -> set[str]:
    """Signals an image's thread facts must carry for later replies: when the policy reads a
    fact derived from parent images (e.g. ``thread.sexualized_edit`` from face embeddings),
    every recorded image may become a parent, so its signal is never skipped."""
    # every fact the policy reads (rule conditions, scores, synthetic_when), cached on the policy
    facts = policy.facts()
    return {context_deps[f] for f in facts if f.startswith("thread.") and f in context_deps}
