"""``evaluate(policy, signals, context) -> Decision``: pure, I/O free, fully traced.

Every rule is evaluated (not only up to the first match) so the trace shows what each rule saw.
Conditions use three-valued logic: a fact that cannot be established is UNKNOWN, ``all`` is
false if any part is false, ``any`` is true if any part is true, otherwise unknown. A rule that is
unknown could have matched: when its action is at least as severe as ``policy.on_unknown``
(review by default) it contributes that action, so a missing model never turns a possible
removal into a silent "allow"; a milder undecided rule (a label) is only traced.

The final action is the most severe of the matched rules' actions (and the undecided ones'),
or the policy's default. The DSA fields come from the first rule, in file order, whose action is
the final one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gardefou.decision import SEVERITY, Action, Decision, Reason, RuleTrace
from gardefou.policy.dsa import ACTION_VISIBILITY
from gardefou.policy.facts import UNKNOWN, resolve
from gardefou.policy.model import AllOf, Condition, Not, Policy, Rule, Test, Use

Tri = bool | None  # None = unknown


class _Evaluator:
    def __init__(
        self,
        policy: Policy,
        signals: Mapping[str, Any],
        context: Mapping[str, Any],
        skipped: frozenset[str] = frozenset(),
    ) -> None:
        self.policy, self.signals, self.context = policy, signals, context
        self.skipped = skipped
        self._specs = policy.fact_specs
        self._facts: dict[str, Any] = {}
        self._uses: dict[str, tuple[Tri, str]] = {}
        self._use_truth: dict[str, Tri] = {}

    def fact(self, name: str) -> Any:
        if name not in self._facts:
            spec = self._specs.get(name)
            if spec is None or isinstance(spec, str):
                value = UNKNOWN
            else:
                value = resolve(name, spec, self.signals, self.context)
            self._facts[name] = UNKNOWN if value is None else value
        return self._facts[name]

    def cond(self, c: Condition) -> tuple[Tri, str]:
        if isinstance(c, Test):
            return self.test(c)
        if isinstance(c, Use):
            if c.name not in self._uses:
                res, inner = self.cond(self.policy.defines[c.name])
                self._uses[c.name] = (res, f"{c.name}[{inner}]={_fmt(res)}")
            return self._uses[c.name]
        if isinstance(c, Not):
            res, detail = self.cond(c.item)
            return (None if res is None else not res), f"not({detail})"
        parts = [self.cond(i) for i in c.items]
        results = [p[0] for p in parts]
        combined: Tri
        if isinstance(c, AllOf):
            combined = False if False in results else (None if None in results else True)
            name = "all"
        else:
            combined = True if True in results else (None if None in results else False)
            name = "any"
        return combined, f"{name}({'; '.join(p[1] for p in parts)})"

    def truth(self, c: Condition) -> Tri:
        """``cond(c)[0]`` without the trace text: the cheap-first pass
        (``gardefou.policy.needs``) asks only for truth values, several times per image, and
        building every rule's trace string was most of its cost. Same three-valued logic, every
        part evaluated (as ``cond`` does), so the two can never disagree."""
        if isinstance(c, Test):
            return _compare(self.fact(c.fact), c.op, c.value)
        if isinstance(c, Use):
            if c.name in self._uses:
                return self._uses[c.name][0]
            if c.name not in self._use_truth:
                self._use_truth[c.name] = self.truth(self.policy.defines[c.name])
            return self._use_truth[c.name]
        if isinstance(c, Not):
            res = self.truth(c.item)
            return None if res is None else not res
        results = [self.truth(i) for i in c.items]
        if isinstance(c, AllOf):
            return False if False in results else (None if None in results else True)
        return True if True in results else (None if None in results else False)

    def test(self, t: Test) -> tuple[Tri, str]:
        value = self.fact(t.fact)
        res = _compare(value, t.op, t.value)
        if value is UNKNOWN:
            skip = t.fact in self.skipped or t.fact.split(".", 1)[0] in self.skipped
            shown = "skipped (not needed)" if skip else "unknown"
        else:
            shown = repr(_round(value))
        return res, f"{t.fact}={shown} {t.op} {t.value!r}: {_fmt(res)}"


def _compare(value: Any, op: str, arg: Any) -> Tri:
    if value is UNKNOWN:
        return None
    try:
        if op == "eq":
            return bool(value == arg)
        if op == "ne":
            return bool(value != arg)
        if op == "in":
            return value in arg
        if op == "not_in":
            return value not in arg
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return {"gt": value > arg, "gte": value >= arg, "lt": value < arg, "lte": value <= arg}[op]
    except TypeError:
        return None


def _fmt(res: Tri) -> str:
    return "unknown" if res is None else str(res).lower()


def _round(v: Any) -> Any:
    return round(v, 4) if isinstance(v, float) else v


def evaluate(
    policy: Policy,
    signals: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
    *,
    skipped: frozenset[str] | set[str] = frozenset(),
) -> Decision:
    """Decide one media item (or one event) from its signal results and context facts.

    ``signals`` maps signal name -> SignalResult (or its ``to_dict()``); ``context`` maps
    context fact names (``bank.victim_match``, ``thread.sexualized_edit``, ...) to values.
    ``skipped`` names signals (and context facts) deliberately not computed because no rule that
    could still fire needs them (``gardefou.policy.needs``): the trace says "skipped" and they
    never count as unavailable.
    """
    ev = _Evaluator(policy, signals or {}, context or {}, frozenset(skipped))
    trace: list[RuleTrace] = []
    matched: list[Rule] = []
    undecided: list[tuple[Rule, Action]] = []
    for rule in policy.rules:
        res, detail = ev.cond(rule.when)
        if res is True:
            matched.append(rule)
            trace.append(RuleTrace(rule.id, True, detail, rule.action.value))
        elif (
            res is None
            and SEVERITY[rule.action]
            >= SEVERITY[policy.on_unknown]
            > SEVERITY[policy.default_action]
        ):
            # could have matched: a person decides (on_unknown), never a silent allow
            undecided.append((rule, policy.on_unknown))
            trace.append(RuleTrace(rule.id, False, f"undecided: {detail}", policy.on_unknown.value))
        elif res is None:
            # a milder rule (e.g. a label) left undecided is shown, not acted on
            trace.append(RuleTrace(rule.id, False, f"undecided: {detail}", None))
        else:
            trace.append(RuleTrace(rule.id, False, detail, None))

    candidates = [r.action for r in matched] + [a for _, a in undecided]
    final = max([policy.default_action, *candidates], key=SEVERITY.__getitem__)
    # a signal is unavailable when it did not run or could not run (not when one of its facts
    # is merely absent, e.g. no age score on an image without faces)
    missing = sorted(
        ns
        for ns in policy.required_signals()
        if ns not in ev.skipped and not _available(ev.signals.get(ns))
    )

    ordered = sorted(matched, key=lambda r: -SEVERITY[r.action])  # stable: file order on ties
    reasons = [Reason(r.code, r.message, _signal_of(r), _score(ev, r), r.category) for r in ordered]
    winner = next((r for r in ordered if r.action == final), None)
    if winner is None and undecided:
        names = ", ".join(r.id for r, a in undecided if a == final)
        reasons.insert(
            0,
            Reason(
                "undecided_signal_unavailable",
                f"Rule(s) {names} could not be decided because signal(s) "
                f"{', '.join(missing) or 'needed'} were unavailable; sent to review instead of "
                "allowing.",
                None,
                None,
                "operational",
            ),
        )

    synthetic = False
    if policy.synthetic_when is not None:
        synthetic = ev.cond(policy.synthetic_when)[0] is True
    dsa: dict[str, Any] = {}
    if winner is not None and final in ACTION_VISIBILITY:
        dsa = dsa_fields(policy, winner, final, synthetic=synthetic)
    categories = tuple(dict.fromkeys(r.category for r in reasons if r.category))
    return Decision(
        action=final,
        reasons=tuple(reasons),
        rule_trace=tuple(trace),
        dsa_fields=dsa,
        categories=categories,
        confidence=_score(ev, winner) if winner is not None else None,
        policy=policy.ref,
        unavailable=tuple(missing),
    )


def _available(r: Any) -> bool:
    if r is None:
        return False
    if isinstance(r, Mapping):
        return bool(r.get("available", True))
    return bool(getattr(r, "available", True))


def _signal_of(rule: Rule) -> str | None:
    return rule.score.split(".", 1)[0] if rule.score else None


def _score(ev: _Evaluator, rule: Rule) -> float | None:
    if not rule.score:
        return None
    v = ev.fact(rule.score)
    return None if v is UNKNOWN or isinstance(v, bool) else float(v)


def dsa_fields(
    policy: Policy,
    rule: Rule,
    action: Action,
    *,
    synthetic: bool = False,
    automated: str = "AUTOMATED_DECISION_FULLY",
    source_type: str = "SOURCE_VOLUNTARY",
) -> dict[str, Any]:
    """The statement-of-reasons fields of ``rule`` applied with ``action``.

    Carries the enum values and texts the Transparency Database validates; the exporter adds
    the per-item fields (puid, content_date, application_date, territorial scope, language).
    Returns {} for actions that restrict nothing (allow, review). A reviewer's decision passes
    ``automated="AUTOMATED_DECISION_PARTIALLY"`` (detected automatically, decided by a human).
    """
    if action not in ACTION_VISIBILITY or rule.dsa is None:
        return {}
    t = policy.dsa[rule.dsa]
    out: dict[str, Any] = {k: (list(v) if isinstance(v, list | tuple) else v) for k, v in t.items()}
    for key in ("category_specification", "category_addition"):
        if key in out and not isinstance(out[key], list):
            out[key] = [out[key]]
    content_type = list(out.get("content_type") or policy.content_type)
    if synthetic and "CONTENT_TYPE_SYNTHETIC_MEDIA" not in content_type:
        content_type.append("CONTENT_TYPE_SYNTHETIC_MEDIA")
    out["content_type"] = content_type
    out["decision_visibility"] = [ACTION_VISIBILITY[action]]
    out["automated_detection"] = "Yes"
    out["automated_decision"] = automated
    out["source_type"] = source_type
    out["decision_facts"] = (
        f"{rule.message} (rule {rule.id} of policy {policy.ref}; action {action.value})."
    )[:5000]
    return out
