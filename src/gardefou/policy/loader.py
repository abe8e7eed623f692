"""Load and validate a policy file. Every problem is reported with its line number, all at once.

Validation covers: YAML syntax, duplicate keys, unknown keys, actions, fact names (a fact's
signal must be registered, or the fact must be a known context fact), operators against the
fact's type and choices, named conditions (defined, not circular), DSA templates (enum values of
the EU Transparency Database, keywords within their category, legal ground present), and that
every restricting action has a DSA template.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

from gardefou.decision import Action
from gardefou.errors import PolicyError
from gardefou.policy import dsa as dsa_vocab
from gardefou.policy.checker import (
    Checker,
    Path_,
    accountability,
    check_review_only,
    compose,
    review_media,
)
from gardefou.policy.facts import NUMBER, lookup
from gardefou.policy.model import Policy, Rule

_TOP = {
    "name",
    "version",
    "description",
    "default_action",
    "on_unknown",
    "define",
    "rules",
    "dsa",
    "content",
    "accountability",
    "review_media",
}
_RULE = {"id", "description", "when", "action", "reason", "score", "dsa", "strike_weight"}
_REASON = {"code", "message", "category"}


def parse_policy(
    text: str, source: str = "<string>", signals: Iterable[str] | None = None
) -> Policy:
    """Parse and validate policy YAML. ``signals`` defaults to the registered signals."""
    if signals is None:
        from gardefou.signals import available_signals

        signals = available_signals()
    data, lines = compose(text, source)
    ck = Checker(source, lines, set(signals))
    if not ck.keys(data, _TOP, (), "the policy"):
        raise PolicyError(f"{source}:1: a policy is a YAML mapping with name, version and rules")
    for key in ("name", "version", "rules"):
        if key not in data:
            ck.err((), f"missing required key {key!r}")
    defines = {
        str(k): ck.condition(v, ("define", k)) for k, v in (data.get("define") or {}).items()
    }
    templates: dict[str, dict[str, Any]] = {}
    for name, t in (data.get("dsa") or {}).items():
        if ck.keys(t, set(dsa_vocab.TEMPLATE_KEYS), ("dsa", name), f"DSA template {name!r}"):
            for key, msg in dsa_vocab.template_problems(t):
                ck.err(("dsa", name, key), msg)
            templates[str(name)] = dict(t)
    rules: list[Rule] = []
    seen_ids: set[str] = set()
    raw_rules = data.get("rules") or []
    if not isinstance(raw_rules, list) or not raw_rules:
        ck.err(("rules",), "rules must be a non-empty list")
        raw_rules = []
    for i, r in enumerate(raw_rules):
        path: Path_ = ("rules", i)
        if not ck.keys(r, _RULE, path, "a rule"):
            continue
        rid = str(r.get("id") or f"rule{i}")
        if "id" not in r:
            ck.err(path, "rule needs an id")
        if rid in seen_ids:
            ck.err((*path, "id"), f"duplicate rule id {rid!r}")
        seen_ids.add(rid)
        if "when" not in r:
            ck.err(path, f"rule {rid!r} needs a 'when' condition")
        when = ck.condition(r.get("when", {"all": []}), (*path, "when"))
        ck.check_uses(when, defines, (*path, "when"))
        action = ck.action(r.get("action"), (*path, "action")) or Action.REVIEW
        reason = r.get("reason") or {}
        if ck.keys(reason, _REASON, (*path, "reason"), "a reason") and not reason.get("message"):
            ck.err(
                (*path, "reason"),
                f"rule {rid!r} needs reason.message (one sentence, no personal data)",
            )
        score = r.get("score")
        if score is not None:
            spec = lookup(str(score), ck.signals)
            if isinstance(spec, str):
                ck.err((*path, "score"), spec)
            elif spec.type != NUMBER:
                ck.err((*path, "score"), f"score must name a number fact; {score} is {spec.type}")
        tname = r.get("dsa")
        if tname is not None and tname not in templates:
            ck.err(
                (*path, "dsa"),
                f"DSA template {tname!r} is not defined in the dsa section; "
                f"defined: {', '.join(sorted(templates)) or 'none'}",
            )
        if action in dsa_vocab.ACTION_VISIBILITY and tname is None:
            ck.err(
                path,
                f"rule {rid!r} restricts content ({action.value}) so it needs a dsa "
                "template (decision ground, category, legal ground) for the statement of "
                "reasons",
            )
        check_review_only(ck, rid, when, defines, action, path)
        weight = r.get("strike_weight")
        if weight is not None and (not isinstance(weight, int | float) or weight < 0):
            ck.err((*path, "strike_weight"), f"strike_weight must be a number >= 0, not {weight!r}")
        rules.append(
            Rule(
                id=rid,
                when=when,
                action=action,
                code=str(reason.get("code") or rid),
                message=str(reason.get("message") or ""),
                category=reason.get("category"),
                description=str(r.get("description", "")),
                score=score,
                dsa=tname,
                strike_weight=weight,
                line=ck.line(path),
            )
        )
    for name, c in defines.items():
        ck.check_uses(c, defines, ("define", name), (name,))
    content = data.get("content") or {}
    ck.keys(content, {"type", "synthetic_when"}, ("content",), "content")
    content_type = tuple(dsa_vocab._as_list(content.get("type", ["CONTENT_TYPE_IMAGE"])))
    for ct in content_type:
        if ct not in dsa_vocab.CONTENT_TYPES:
            ck.err(("content", "type"), f"content type {ct!r} is not a DSA CONTENT_TYPE_*")
    synthetic = None
    if "synthetic_when" in content:
        synthetic = ck.condition(content["synthetic_when"], ("content", "synthetic_when"))
        ck.check_uses(synthetic, defines, ("content", "synthetic_when"))
    accountability_ = accountability(ck, data.get("accountability"))
    review_media_ = review_media(ck, data.get("review_media"))
    default = ck.action(data.get("default_action", "allow"), ("default_action",))
    on_unknown = ck.action(data.get("on_unknown", "review"), ("on_unknown",))
    if ck.errors:
        msgs = [f"{source}:{line}: {msg}" for line, msg in sorted(ck.errors)]
        raise PolicyError(f"{len(msgs)} problem(s) in policy {source}:\n" + "\n".join(msgs))
    return Policy(
        name=str(data["name"]),
        version=str(data["version"]),
        rules=tuple(rules),
        defines=defines,
        dsa=templates,
        description=str(data.get("description", "")),
        default_action=default or Action.ALLOW,
        on_unknown=on_unknown or Action.REVIEW,
        synthetic_when=synthetic,
        content_type=content_type,
        accountability=accountability_,
        review_media=review_media_,
        source=source,
    )


def load_policy(path: str | Path, signals: Iterable[str] | None = None) -> Policy:
    """Load a policy file (YAML)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read policy {p}: {exc}") from None
    return parse_policy(text, str(p), signals)


def default_policy_text() -> str:
    return resources.files("gardefou.policy").joinpath("default.yaml").read_text(encoding="utf-8")


_default_cache: dict[frozenset[str], Policy] = {}


def load_default_policy(signals: Iterable[str] | None = None) -> Policy:
    """The NCII policy shipped with gardefou (src/gardefou/policy/default.yaml)."""
    if signals is None:
        from gardefou.signals import available_signals

        signals = available_signals()
    key = frozenset(signals)
    if key not in _default_cache:
        _default_cache[key] = parse_policy(default_policy_text(), "default.yaml", key)
    return _default_cache[key]
