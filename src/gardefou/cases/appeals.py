"""Appeals of a CaseStore (DSA Art. 20): the poster or requester contests a restriction, and
someone who did not decide the case upholds or reverses it (a reversal removes its strikes)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from gardefou.cases.models import ACTIONED, APPEALED, CLOSED, Appeal, Case, human_action
from gardefou.cases.strikes import _iso
from gardefou.decision import SEVERITY, Action
from gardefou.errors import ConfigError, ForbiddenError, NotFoundError
from gardefou.policy.dsa import ACTION_VISIBILITY


class AppealsMixin:
    """Needs the CaseStore's reading, logging and status methods (declared below)."""

    db: Any
    clock: Callable[[], datetime]
    get: Callable[[int], Case]
    appeals: Callable[[int], list[Appeal]]
    _log: Callable[..., None]
    _set: Callable[..., None]
    _fields: Callable[..., dict[str, Any]]
    _deciders: Callable[[int], set[str]]
    _sync_strikes: Callable[[Case], None]

    # -- appeals ----------------------------------------------------------------------------------
    def appeal(self, case_id: int, appellant: str, statement: str = "") -> Appeal:
        """The poster or requester contests a restriction (DSA Art. 20)."""
        with self.db.transaction():
            case = self.get(case_id)
            if appellant not in (case.poster, case.requester):
                raise ForbiddenError(
                    f"{appellant} is not the poster or requester of case {case_id}"
                )
            if any(a.status == "open" for a in self.appeals(case_id)):
                raise ConfigError(f"case {case_id} already has an open appeal")
            if case.status in (APPEALED, CLOSED) or case.action not in ACTION_VISIBILITY:
                raise ConfigError(
                    f"case {case_id} is {case.status} with action "
                    f"{case.action.value}; only a restriction can be appealed"
                )
            appeal_id = self.db.insert(
                "INSERT INTO appeals (case_id, appellant, statement, status, created_at) "
                "VALUES (?,?,?,?,?)",
                (case_id, appellant, statement[:5000], "open", _iso(self.clock())),
            )
            self._log(case_id, "appeal", appellant, case.action, statement[:200], case.dsa_fields)
            self._set(case, APPEALED, case.action, case.dsa_fields)
        return self.get_appeal(appeal_id)

    def get_appeal(self, appeal_id: int) -> Appeal:
        row = self.db.query_one("SELECT * FROM appeals WHERE id = ?", (appeal_id,))
        if row is None:
            raise NotFoundError(f"no appeal {appeal_id}")
        return Appeal(**row)

    def decide_appeal(
        self,
        appeal_id: int,
        reviewer: str,
        action: Action | str,
        note: str = "",
        rule_id: str | None = None,
    ) -> Case:
        """Uphold (same or more severe action) or reverse (less severe: its strikes go)."""
        action = human_action(action)
        with self.db.transaction():
            appeal = self.get_appeal(appeal_id)
            if appeal.status != "open":
                raise ConfigError(f"appeal {appeal_id} is already {appeal.status}")
            case = self.get(appeal.case_id)
            if reviewer in self._deciders(case.id) - {appeal.appellant}:
                raise ForbiddenError(
                    f"{reviewer} took part in case {case.id}; an appeal is decided by someone else"
                )
            reversed_ = SEVERITY[action] < SEVERITY[case.action]
            dsa = self._fields(case, action, rule_id) if action in ACTION_VISIBILITY else {}
            self.db.execute(
                "UPDATE appeals SET status = ?, decided_by = ?, outcome_action = ?, "
                "note = ?, decided_at = ? WHERE id = ?",
                (
                    "reversed" if reversed_ else "upheld",
                    reviewer,
                    action.value,
                    note[:2000],
                    _iso(self.clock()),
                    appeal_id,
                ),
            )
            self._log(case.id, "appeal_decision", reviewer, action, note, dsa)
            status = ACTIONED if action in ACTION_VISIBILITY else CLOSED
            self._set(case, status, action, dsa if reversed_ else case.dsa_fields)
            self._sync_strikes(self.get(case.id))
        return self.get(case.id)
