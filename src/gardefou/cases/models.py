"""Typed records of the cases package."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from gardefou.decision import Action
from gardefou.errors import ConfigError

#: case statuses: a human must decide; a second, different reviewer must confirm; a restriction
#: is in force; nothing is restricted any more; an appeal is open
PENDING_REVIEW, SECOND_REVIEW, ACTIONED, CLOSED, APPEALED = (
    "pending_review",
    "second_review",
    "actioned",
    "closed",
    "appealed",
)
STATUSES = (PENDING_REVIEW, SECOND_REVIEW, ACTIONED, CLOSED, APPEALED)


@dataclass(frozen=True)
class Case:
    id: int
    event_id: str
    kind: str
    status: str
    action: Action  # the action in force now
    auto_action: Action  # what the policy decided
    severity: int
    categories: tuple[str, ...]
    rules: tuple[str, ...]  # matched (then undecided) rule ids, most severe first
    policy: str
    poster: str | None
    requester: str | None
    synthetic: bool
    dsa_fields: dict[str, Any]
    content_date: str | None
    created_at: str
    updated_at: str

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> Case:
        import json

        return cls(
            id=int(r["id"]),
            event_id=r["event_id"],
            kind=r["kind"],
            status=r["status"],
            action=Action(r["action"]),
            auto_action=Action(r["auto_action"]),
            severity=int(r["severity"]),
            categories=tuple(json.loads(r["categories"])),
            rules=tuple(json.loads(r["rules_json"])),
            policy=r["policy"],
            poster=r["poster"],
            requester=r["requester"],
            synthetic=bool(r["synthetic"]),
            dsa_fields=json.loads(r["dsa_json"]),
            content_date=r["content_date"],
            created_at=r["created_at"],
            updated_at=r["updated_at"],
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["action"], d["auto_action"] = self.action.value, self.auto_action.value
        return d


@dataclass(frozen=True)
class CaseAction:
    id: int
    case_id: int
    kind: str  # auto, review, second_review, appeal
    actor: str
    action: Action
    note: str
    dsa_fields: dict[str, Any]
    created_at: str


@dataclass(frozen=True)
class Appeal:
    id: int
    case_id: int
    appellant: str
    statement: str
    status: str  # open, upheld, reversed
    decided_by: str | None
    outcome_action: str | None
    note: str
    created_at: str
    decided_at: str | None


@dataclass(frozen=True)
class Strike:
    id: int
    account: str
    role: str  # poster or requester
    case_id: int
    action: str
    weight: float
    created_at: str
    reversed_at: str | None

    @property
    def active(self) -> bool:
        return self.reversed_at is None


@dataclass(frozen=True)
class SanctionRecord:
    id: int
    account: str
    sanction: str
    points: float
    case_id: int | None
    decision_account: str | None
    decision_provision: str | None
    created_at: str
    ends_at: str | None
    lifted_at: str | None


@dataclass(frozen=True)
class Standing:
    """An account's decayed strike points and the sanctions in force."""

    account: str
    points: float
    strikes: tuple[Strike, ...] = ()
    sanctions: tuple[SanctionRecord, ...] = ()  # in force now
    next_sanction: str | None = None
    next_at_points: float | None = None
    restrictions: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def human_action(action: Action | str) -> Action:
    """A person's decision must settle the case: 'review' is not an outcome."""
    try:
        a = Action(action)
    except ValueError:
        raise ConfigError(
            f"unknown action {action!r}; use one of "
            f"{', '.join(x.value for x in Action if x != Action.REVIEW)}"
        ) from None
    if a == Action.REVIEW:
        raise ConfigError(
            "'review' is not a decision; decide (allow, label, age_restrict, "
            "remove, remove_escalate) or request a second review"
        )
    return a
