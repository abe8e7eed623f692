"""The typed form of a policy file (see docs/policy.md for the YAML it is loaded from)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from gardefou.decision import Action

# -- conditions -----------------------------------------------------------------------------------

OPS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte")


@dataclass(frozen=True)
class Test:
    """``fact op value``, e.g. ``nudity.level in [explicit, suggestive]``."""

    fact: str
    op: str
    value: Any


@dataclass(frozen=True)
class AllOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    item: Condition


@dataclass(frozen=True)
class Use:
    """A named condition from the policy's ``define`` section."""

    name: str


Condition = Test | AllOf | AnyOf | Not | Use


def condition_facts(c: Condition, defines: dict[str, Condition]) -> set[str]:
    if isinstance(c, Test):
        return {c.fact}
    if isinstance(c, AllOf | AnyOf):
        return set().union(*(condition_facts(i, defines) for i in c.items))
    if isinstance(c, Not):
        return condition_facts(c.item, defines)
    return condition_facts(defines[c.name], defines)


# -- rules ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    id: str
    when: Condition
    action: Action
    code: str  # Reason.code
    message: str  # Reason.message: one sentence, no personal data
    category: str | None = None  # Reason.category: ncii, minor, synthetic, ...
    description: str = ""
    score: str | None = None  # a fact whose value is the reason's score / confidence
    dsa: str | None = None  # name of a template in the policy's ``dsa`` section
    #: points for the poster/requester when this rule's action stands; None = by action weight
    strike_weight: float | None = None
    line: int = 0


@dataclass(frozen=True)
class Sanction:
    """What an account faces once its decayed strike points reach ``points``."""

    name: str  # rate_limit, no_image_edit, suspend, ...
    points: float
    description: str = ""
    decision_account: str | None = None  # DSA DECISION_ACCOUNT_*
    decision_provision: str | None = None  # DSA DECISION_PROVISION_*
    duration_days: float | None = None


@dataclass(frozen=True)
class Accountability:
    """Strikes: posting and requesting illegal content weigh the same unless configured."""

    weights: dict[Action, float] = field(
        default_factory=lambda: {
            Action.REMOVE: 1.0,
            Action.REMOVE_ESCALATE: 3.0,
            Action.REFUSE: 1.0,
        }
    )
    requester_multiplier: float = 1.0
    poster_multiplier: float = 1.0
    half_life_days: float = 90.0
    sanctions: tuple[Sanction, ...] = ()


@dataclass(frozen=True)
class ReviewMediaPolicy:
    """What a moderator is shown while a case awaits a person, and for how long at most
    (``review_media`` in the policy file; docs/web.md). Images are purged when the case is
    decided, and on schedule once ``days`` have passed, whichever comes first."""

    #: "media": the case's own images; "parent": the parent post's image beside a reply's case
    keep: tuple[str, ...] = ("media", "parent")
    days: float = 7.0
    #: how long a post's images are held (encrypted) in case a reply edits them; 0: never
    parent_hours: float = 24.0


@dataclass(frozen=True)
class Policy:
    name: str
    version: str
    rules: tuple[Rule, ...]
    defines: dict[str, Condition] = field(default_factory=dict)
    dsa: dict[str, dict[str, Any]] = field(default_factory=dict)
    description: str = ""
    default_action: Action = Action.ALLOW
    #: action when a rule at least this severe could have matched but a fact it needs is
    #: unknown (a milder undecided rule, e.g. a label, is traced and not acted on)
    on_unknown: Action = Action.REVIEW
    #: the content is synthetic media (adds CONTENT_TYPE_SYNTHETIC_MEDIA) when this holds
    synthetic_when: Condition | None = None
    content_type: tuple[str, ...] = ("CONTENT_TYPE_IMAGE",)
    accountability: Accountability = field(default_factory=Accountability)
    review_media: ReviewMediaPolicy = field(default_factory=ReviewMediaPolicy)
    source: str = "<string>"

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        from gardefou.errors import NotFoundError

        raise NotFoundError(
            f"policy {self.ref} has no rule {rule_id!r}; rules: "
            f"{', '.join(r.id for r in self.rules)}"
        )

    def facts(self) -> set[str]:
        """Every fact the policy reads."""
        return set(self._facts)

    @cached_property
    def _facts(self) -> frozenset[str]:
        # cached: a Policy never changes after loading (cached_property writes __dict__
        # directly, which a frozen dataclass allows)
        scores = {r.score for r in self.rules if r.score}
        return frozenset().union(*self.rule_facts, scores, self.synthetic_facts)

    @cached_property
    def rule_facts(self) -> tuple[frozenset[str], ...]:
        """Per rule, in order, the facts its condition reads (through ``define`` uses too):
        the cheap-first pass asks this for every image."""
        return tuple(frozenset(condition_facts(r.when, self.defines)) for r in self.rules)

    @cached_property
    def synthetic_facts(self) -> frozenset[str]:
        """The facts ``synthetic_when`` reads (empty without one)."""
        if self.synthetic_when is None:
            return frozenset()
        return frozenset(condition_facts(self.synthetic_when, self.defines))

    def required_signals(self) -> list[str]:
        """The signals the policy reads (run these on each media item before evaluate)."""
        return list(self._required)

    @cached_property
    def _required(self) -> tuple[str, ...]:
        from gardefou.policy.facts import CONTEXT_NAMESPACES

        return tuple(sorted({f.split(".", 1)[0] for f in self._facts} - CONTEXT_NAMESPACES))

    @cached_property
    def fact_specs(self) -> dict[str, Any]:
        """fact name -> FactSpec, resolved once (the loader has validated every name)."""
        from gardefou.policy.facts import lookup

        names = frozenset(self._required)
        return {f: lookup(f, names) for f in self._facts}
