"""Strike arithmetic, pure: weights, multipliers, exponential decay, sanction thresholds.

"Anyone prompting the bot to make illegal content faces the same consequences as posting it":
a restricting decision gives the poster and the requester a strike weighing
``weights[action] * poster_multiplier`` (or ``requester_multiplier``; both 1 by default). A
strike's weight halves every ``half_life_days``. Sanctions apply once an account's decayed points
reach their threshold; a reversed decision removes its strike.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from gardefou.decision import Action
from gardefou.policy.model import Accountability, Rule, Sanction

POSTER, REQUESTER = "poster", "requester"


def strike_weight(
    acc: Accountability, action: Action, role: str, rule: Rule | None = None
) -> float:
    base = (
        rule.strike_weight
        if rule is not None and rule.strike_weight is not None
        else (acc.weights.get(action, 0.0))
    )
    mult = acc.requester_multiplier if role == REQUESTER else acc.poster_multiplier
    return round(float(base) * mult, 6)


def decayed(weight: float, created: datetime, now: datetime, half_life_days: float) -> float:
    age_days = max(0.0, (now - created).total_seconds() / 86400.0)
    return weight * 0.5 ** (age_days / half_life_days)


def points(
    strikes: Iterable[tuple[float, datetime]], now: datetime, half_life_days: float
) -> float:
    """Decayed sum of (weight, created_at) strikes."""
    return round(sum(decayed(w, t, now, half_life_days) for w, t in strikes), 6)


def due_sanctions(acc: Accountability, pts: float) -> list[Sanction]:
    """Sanctions whose threshold the points reach (lowest first)."""
    return [s for s in acc.sanctions if pts >= s.points]


def next_sanction(acc: Accountability, pts: float) -> Sanction | None:
    return next((s for s in acc.sanctions if pts < s.points), None)


def sanction_dsa_fields(
    s: Sanction, case_dsa: dict[str, Any], ends_at: str | None
) -> dict[str, Any]:
    """Statement-of-reasons fields of an account restriction, grounded on the case that
    triggered it (same ground and category; no content visibility restriction of its own)."""
    out = {k: v for k, v in case_dsa.items() if k != "decision_visibility"}
    if s.decision_account:
        out["decision_account"] = s.decision_account
        if ends_at:
            out["end_date_account_restriction"] = ends_at[:10]
    if s.decision_provision:
        out["decision_provision"] = s.decision_provision
        if ends_at:
            out["end_date_service_restriction"] = ends_at[:10]
    out["decision_facts"] = (
        f"Account restriction '{s.name}' ({s.description}) applied after "
        f"repeated violations; latest: {case_dsa.get('decision_facts', '')}"
    )[:5000]
    return out
