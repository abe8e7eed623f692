"""Cases: the stateful side of decisions (review queue, actions, appeals, strikes, sanctions).

store = CaseStore(db, policy)
case = store.open(event_id, "post", decision, poster="u1")
store.review(case.id, "mod-a", "remove")
store.appeal(case.id, "u1", "this is me, I posted it")
store.decide_appeal(appeal.id, "mod-b", "allow")   # reversed: the strike is removed
"""

from __future__ import annotations

from gardefou.cases.models import (
    ACTIONED,
    APPEALED,
    CLOSED,
    PENDING_REVIEW,
    SECOND_REVIEW,
    STATUSES,
    Appeal,
    Case,
    CaseAction,
    SanctionRecord,
    Standing,
    Strike,
)
from gardefou.cases.store import FOUR_EYES, CaseStore

__all__ = [
    "ACTIONED",
    "APPEALED",
    "CLOSED",
    "FOUR_EYES",
    "PENDING_REVIEW",
    "SECOND_REVIEW",
    "STATUSES",
    "Appeal",
    "Case",
    "CaseAction",
    "CaseStore",
    "SanctionRecord",
    "Standing",
    "Strike",
]
