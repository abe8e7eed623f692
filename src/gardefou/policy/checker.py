"""The policy loader's checker: YAML read with the line of every node, and the checks of
conditions (facts, operators, defined names), of review-only facts, and of the accountability
and review_media sections. ``gardefou.policy.loader`` drives it over a whole policy file and
raises all the problems at once.
"""

from __future__ import annotations

from typing import Any

import yaml

from gardefou.decision import Action
from gardefou.errors import PolicyError
from gardefou.policy import dsa as dsa_vocab
from gardefou.policy.facts import (
    ANY,
    BOOL,
    CONTEXT_FACTS,
    LIST,
    NUMBER,
    STRING,
    FactSpec,
    lookup,
)
from gardefou.policy.model import (
    OPS,
    Accountability,
    AllOf,
    AnyOf,
    Condition,
    Not,
    ReviewMediaPolicy,
    Sanction,
    Test,
    Use,
    condition_facts,
)

Path_ = tuple[str | int, ...]

_ACC = {"weights", "requester_multiplier", "poster_multiplier", "half_life_days", "sanctions"}
_SANCTION = {
    "name",
    "points",
    "description",
    "decision_account",
    "decision_provision",
    "duration_days",
}


def compose(text: str, source: str) -> tuple[Any, dict[Path_, int]]:
    """YAML -> plain Python, plus the line of every node by its path."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"{mark.line + 1}" if mark is not None else "?"
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyError(f"{source}:{line}: invalid YAML: {problem}") from None
    lines: dict[Path_, int] = {}
    errors: list[str] = []

    def walk(node: yaml.Node, path: Path_) -> Any:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for k, v in node.value:
                key = k.value  # keys are plain scalars in a policy
                if key in out:
                    errors.append(f"{source}:{k.start_mark.line + 1}: duplicate key {key!r}")
                lines[(*path, key)] = k.start_mark.line + 1
                out[key] = walk(v, (*path, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [walk(v, (*path, i)) for i, v in enumerate(node.value)]
        loader = yaml.SafeLoader("")
        try:
            return loader.construct_object(node)
        finally:
            loader.dispose()

    data = walk(root, ()) if root is not None else None
    if errors:
        raise PolicyError("\n".join(errors))
    return data, lines


class Checker:
    def __init__(self, source: str, lines: dict[Path_, int], signals: set[str]) -> None:
        self.source, self.lines, self.signals = source, lines, signals
        self.errors: list[tuple[int, str]] = []

    def line(self, path: Path_) -> int:
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)

    def err(self, path: Path_, msg: str) -> None:
        where = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in path)
        where = where.replace(".[", "[")
        self.errors.append((self.line(path), f"{where}: {msg}" if where else msg))

    def keys(self, obj: Any, allowed: set[str], path: Path_, what: str) -> bool:
        if not isinstance(obj, dict):
            self.err(path, f"{what} must be a mapping, not {type(obj).__name__}")
            return False
        for k in obj:
            if k not in allowed:
                self.err(
                    (*path, k),
                    f"unknown key {k!r} in {what}; allowed: {', '.join(sorted(allowed))}",
                )
        return True

    def action(self, value: Any, path: Path_) -> Action | None:
        try:
            return Action(value)
        except ValueError:
            self.err(
                path, f"unknown action {value!r}; use one of {', '.join(a.value for a in Action)}"
            )
            return None

    # -- conditions ---------------------------------------------------------------------------
    def condition(self, obj: Any, path: Path_) -> Condition:
        if isinstance(obj, str):
            return Use(obj)  # shorthand: a bare name is a defined condition
        if not isinstance(obj, dict) or not obj:
            self.err(
                path, f"a condition must be a mapping (all/any/not/use or fact: test), not {obj!r}"
            )
            return AllOf(())
        parts: list[Condition] = []
        for key, val in obj.items():
            p = (*path, key)
            if key in ("all", "any"):
                if not isinstance(val, list) or not val:
                    self.err(p, f"{key} takes a non-empty list of conditions")
                    continue
                items = tuple(self.condition(v, (*p, i)) for i, v in enumerate(val))
                parts.append(AllOf(items) if key == "all" else AnyOf(items))
            elif key == "not":
                parts.append(Not(self.condition(val, p)))
            elif key == "use":
                parts.append(Use(str(val)))
            else:
                parts.append(self.test(str(key), val, p))
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))

    def test(self, fact: str, val: Any, path: Path_) -> Condition:
        spec = lookup(fact, self.signals)
        if isinstance(spec, str):
            self.err(path, spec)
            return Test(fact, "eq", None)
        if not isinstance(val, dict):
            val = {"eq": val}
        if len(val) != 1:
            return AllOf(tuple(self.test(fact, {k: v}, path) for k, v in val.items()))
        ((op, arg),) = val.items()
        if op not in OPS:
            self.err((*path, op), f"unknown operator {op!r}; use one of {', '.join(OPS)}")
            return Test(fact, "eq", None)
        self.check_arg(spec, op, arg, (*path, op))
        return Test(fact, op, arg)

    def check_arg(self, spec: FactSpec, op: str, arg: Any, path: Path_) -> None:
        values = arg if op in ("in", "not_in") else [arg]
        if op in ("in", "not_in") and not isinstance(arg, list):
            self.err(path, f"{op} takes a list, not {arg!r}")
            return
        if op in ("gt", "gte", "lt", "lte") and spec.type != NUMBER:
            self.err(path, f"{op} needs a number fact; {spec.name} is a {spec.type}")
            return
        expected = {BOOL: (bool,), NUMBER: (int, float), STRING: (str,), LIST: (list,)}
        for v in values:
            if spec.type == ANY:
                continue
            ok = isinstance(v, expected[spec.type])
            if spec.type == NUMBER and isinstance(v, bool):
                ok = False
            if not ok:
                self.err(path, f"{spec.name} is a {spec.type}; {v!r} is not")
            elif spec.choices and v not in spec.choices:
                self.err(
                    path,
                    f"{v!r} is not a value of {spec.name}; use one of {', '.join(spec.choices)}",
                )

    def check_uses(
        self, c: Condition, defines: dict[str, Condition], path: Path_, seen: tuple[str, ...] = ()
    ) -> None:
        if isinstance(c, Use):
            if c.name not in defines:
                self.err(
                    path,
                    f"condition {c.name!r} is not defined; defined: "
                    f"{', '.join(sorted(defines)) or 'none'}",
                )
            elif c.name in seen:
                self.err(path, f"condition {c.name!r} refers to itself ({' -> '.join(seen)})")
            else:
                self.check_uses(defines[c.name], defines, path, (*seen, c.name))
        elif isinstance(c, AllOf | AnyOf):
            for i in c.items:
                self.check_uses(i, defines, path, seen)
        elif isinstance(c, Not):
            self.check_uses(c.item, defines, path, seen)


def check_review_only(
    ck: Checker,
    rid: str,
    when: Condition,
    defines: dict[str, Condition],
    action: Action,
    path: Path_,
) -> None:
    """Anonymous input never causes an automated restriction: a rule on a fact anyone can make
    true (``bank.unconfirmed_match``) may only review or allow."""
    if action in (Action.ALLOW, Action.REVIEW):
        return
    try:
        names = condition_facts(when, defines)
    except KeyError:
        return  # an unknown define: check_uses reports it
    for name in sorted(names):
        spec = CONTEXT_FACTS.get(name)
        if spec is not None and spec.review_only:
            ck.err(
                (*path, "action"),
                f"rule {rid!r} would {action.value} on {name}, which anyone can make true "
                "(an unconfirmed, anonymous submission); use action: review",
            )


def review_media(ck: Checker, raw: Any) -> ReviewMediaPolicy:
    if raw is None:
        return ReviewMediaPolicy()
    path: Path_ = ("review_media",)
    if not ck.keys(raw, {"keep", "days", "parent_hours"}, path, "review_media"):
        return ReviewMediaPolicy()
    default = ReviewMediaPolicy()
    keep = raw.get("keep", list(default.keep))
    if not isinstance(keep, list) or any(k not in ("media", "parent") for k in keep):
        ck.err((*path, "keep"), f"keep must be a list of 'media' and 'parent', not {keep!r}")
        keep = list(default.keep)
    nums = {}
    for key in ("days", "parent_hours"):
        v = raw.get(key, getattr(default, key))
        if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
            ck.err((*path, key), f"{key} must be a number >= 0, not {v!r}")
            v = getattr(default, key)
        nums[key] = float(v)
    return ReviewMediaPolicy(tuple(keep), nums["days"], nums["parent_hours"])


def accountability(ck: Checker, raw: Any) -> Accountability:
    if raw is None:
        return Accountability()
    path: Path_ = ("accountability",)
    if not ck.keys(raw, _ACC, path, "accountability"):
        return Accountability()
    weights = dict(Accountability().weights)
    for name, w in (raw.get("weights") or {}).items():
        a = ck.action(name, (*path, "weights", name))
        if not isinstance(w, int | float) or w < 0:
            ck.err((*path, "weights", name), f"weight must be a number >= 0, not {w!r}")
        elif a is not None:
            weights[a] = float(w)
    nums = {}
    for key in ("requester_multiplier", "poster_multiplier", "half_life_days"):
        v = raw.get(key, getattr(Accountability(), key))
        if not isinstance(v, int | float) or v < 0 or (key == "half_life_days" and v == 0):
            ck.err((*path, key), f"{key} must be a positive number, not {v!r}")
            v = getattr(Accountability(), key)
        nums[key] = float(v)
    sanctions = []
    for i, s in enumerate(raw.get("sanctions") or []):
        p = (*path, "sanctions", i)
        if not ck.keys(s, _SANCTION, p, "a sanction"):
            continue
        if not isinstance(s.get("points"), int | float) or not s.get("name"):
            ck.err(p, "a sanction needs a name and points (a number)")
            continue
        if s.get("decision_account") not in (None, *dsa_vocab.DECISION_ACCOUNTS):
            ck.err(
                (*p, "decision_account"),
                f"{s['decision_account']!r} is not one of "
                f"{', '.join(sorted(dsa_vocab.DECISION_ACCOUNTS))}",
            )
        if s.get("decision_provision") not in (None, *dsa_vocab.DECISION_PROVISIONS):
            ck.err(
                (*p, "decision_provision"),
                f"{s['decision_provision']!r} is not one of "
                f"{', '.join(sorted(dsa_vocab.DECISION_PROVISIONS))}",
            )
        sanctions.append(
            Sanction(
                name=str(s["name"]),
                points=float(s["points"]),
                description=str(s.get("description", "")),
                decision_account=s.get("decision_account"),
                decision_provision=s.get("decision_provision"),
                duration_days=s.get("duration_days"),
            )
        )
    sanctions.sort(key=lambda s: s.points)
    return Accountability(weights=weights, sanctions=tuple(sanctions), **nums)
