"""Cases, reviews, second reviews, appeals, strikes and sanctions over ``gardefou.store.db``
(appeals in ``appeals.py``, strikes and sanctions in ``strikes.py``, mixed into ``CaseStore``).

Workflow::

    decision (policy) --restricting or review--> case
      pending_review --review()--> actioned | closed | second_review (severe action: 4 eyes)
      second_review --second_review() by another person--> actioned | closed
      actioned --appeal() by poster/requester--> appealed --decide_appeal() by someone who did
      not decide the case--> actioned (upheld) | closed/lesser action (reversed: strikes removed)

Every change is one transaction and one ``case_actions`` row carrying the DSA fields in force.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from gardefou.cases.appeals import AppealsMixin
from gardefou.cases.models import (
    ACTIONED,
    CLOSED,
    PENDING_REVIEW,
    SECOND_REVIEW,
    Appeal,
    Case,
    CaseAction,
    human_action,
)
from gardefou.cases.review_media import purge_review_media
from gardefou.cases.strikes import StrikesMixin, _iso
from gardefou.clock import utcnow
from gardefou.decision import SEVERITY, Action, Decision
from gardefou.errors import ConfigError, ForbiddenError, NotFoundError
from gardefou.policy import Policy, dsa_fields
from gardefou.policy.dsa import ACTION_VISIBILITY

#: actions a single reviewer may not make final alone (escalation to authorities)
FOUR_EYES = frozenset({Action.REMOVE_ESCALATE})


class CaseStore(AppealsMixin, StrikesMixin):
    def __init__(
        self,
        db: Any,
        policy: Policy,
        *,
        exempt_accounts: frozenset[str] = frozenset(),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.db, self.policy = db, policy
        self.exempt = frozenset(a.lower() for a in exempt_accounts)
        self.clock = clock or utcnow

    # -- reading --------------------------------------------------------------------------------
    def get(self, case_id: int) -> Case:
        row = self.db.query_one("SELECT * FROM cases WHERE id = ?", (case_id,))
        if row is None:
            raise NotFoundError(f"no case {case_id}")
        return Case.from_row(row)

    def by_event(self, event_id: str) -> Case | None:
        row = self.db.query_one("SELECT * FROM cases WHERE event_id = ?", (event_id,))
        return Case.from_row(row) if row else None

    def queue(self, status: str = PENDING_REVIEW, limit: int = 50, offset: int = 0) -> list[Case]:
        """Cases awaiting a person, most severe first, then oldest first."""
        rows = self.db.query(
            "SELECT * FROM cases WHERE status = ? ORDER BY severity DESC, "
            "created_at, id LIMIT ? OFFSET ?",
            (status, limit, offset),
        )
        return [Case.from_row(r) for r in rows]

    def count(self, status: str = PENDING_REVIEW) -> int:
        """How many cases have ``status`` (the queue's total, beyond any page)."""
        row = self.db.query_one("SELECT COUNT(*) AS n FROM cases WHERE status = ?", (status,))
        return int(row["n"]) if row else 0

    def history(self, case_id: int) -> list[CaseAction]:
        rows = self.db.query("SELECT * FROM case_actions WHERE case_id = ? ORDER BY id", (case_id,))
        return [
            CaseAction(
                id=r["id"],
                case_id=r["case_id"],
                kind=r["kind"],
                actor=r["actor"],
                action=Action(r["action"]),
                note=r["note"],
                dsa_fields=json.loads(r["dsa_json"]),
                created_at=r["created_at"],
            )
            for r in rows
        ]

    def appeals(self, case_id: int) -> list[Appeal]:
        rows = self.db.query("SELECT * FROM appeals WHERE case_id = ? ORDER BY id", (case_id,))
        return [Appeal(**r) for r in rows]

    # -- opening --------------------------------------------------------------------------------
    def open(
        self,
        event_id: str,
        kind: str,
        decision: Decision,
        *,
        poster: str | None,
        requester: str | None = None,
        content_date: str | None = None,
    ) -> Case | None:
        """Open the case of a decision (None for a plain allow). Idempotent per event."""
        existing = self.by_event(event_id)
        if existing is not None:
            return existing
        if decision.action == Action.ALLOW:
            return None
        now = _iso(self.clock())
        rules = self._rules(decision)
        restricting = decision.action in ACTION_VISIBILITY
        status = PENDING_REVIEW if not restricting or decision.action in FOUR_EYES else ACTIONED
        synthetic = "CONTENT_TYPE_SYNTHETIC_MEDIA" in decision.dsa_fields.get("content_type", [])
        with self.db.transaction():
            case_id = self.db.insert(
                "INSERT INTO cases (event_id, kind, status, action, auto_action, severity, "
                "categories, rules_json, policy, poster, requester, synthetic, dsa_json, "
                "content_date, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    event_id,
                    kind,
                    status,
                    decision.action.value,
                    decision.action.value,
                    self._severity(decision.action, decision.categories),
                    json.dumps(list(decision.categories)),
                    json.dumps(rules),
                    decision.policy,
                    poster,
                    requester,
                    int(synthetic),
                    json.dumps(decision.dsa_fields),
                    content_date,
                    now,
                    now,
                ),
            )
            self._log(
                case_id,
                "auto",
                "policy:" + decision.policy,
                decision.action,
                "; ".join(r.message for r in decision.reasons[:3]),
                decision.dsa_fields,
            )
            case = self.get(case_id)
            if restricting:
                self._sync_strikes(case)
        return self.get(case_id)

    def reevaluate(
        self,
        event_id: str,
        kind: str,
        decision: Decision,
        *,
        poster: str | None,
        requester: str | None = None,
    ) -> Case | None:
        """A more severe automatic decision on an already decided event (late thread context).
        Escalates a case no person has decided yet; otherwise only logs the new decision."""
        case = self.by_event(event_id)
        if case is None:
            return self.open(event_id, kind, decision, poster=poster, requester=requester)
        if SEVERITY[decision.action] <= SEVERITY[case.action]:
            return case
        note = "re-evaluated with late thread context: " + "; ".join(
            r.message for r in decision.reasons[:3]
        )
        with self.db.transaction():
            if self._deciders(case.id):  # a person decided: theirs stands, the new one is noted
                self._log(
                    case.id,
                    "reevaluation_noted",
                    "policy:" + decision.policy,
                    decision.action,
                    note,
                    decision.dsa_fields,
                )
                return self.get(case.id)
            restricting = decision.action in ACTION_VISIBILITY
            status = PENDING_REVIEW if not restricting or decision.action in FOUR_EYES else ACTIONED
            rules = self._rules(decision)
            synthetic = "CONTENT_TYPE_SYNTHETIC_MEDIA" in decision.dsa_fields.get(
                "content_type", []
            )
            self.db.execute(
                "UPDATE cases SET status = ?, action = ?, auto_action = ?, severity = ?, "
                "categories = ?, rules_json = ?, policy = ?, requester = COALESCE(?, requester), "
                "synthetic = ?, dsa_json = ?, updated_at = ? WHERE id = ?",
                (
                    status,
                    decision.action.value,
                    decision.action.value,
                    self._severity(decision.action, decision.categories),
                    json.dumps(list(decision.categories)),
                    json.dumps(rules),
                    decision.policy,
                    requester,
                    int(synthetic),
                    json.dumps(decision.dsa_fields),
                    _iso(self.clock()),
                    case.id,
                ),
            )
            purge_review_media(self.db, event_id=case.event_id)
            self._log(
                case.id,
                "reevaluation",
                "policy:" + decision.policy,
                decision.action,
                note,
                decision.dsa_fields,
            )
            self._sync_strikes(self.get(case.id))
        return self.get(case.id)

    def _rules(self, decision: Decision) -> list[str]:
        rules = [t.rule for t in decision.rule_trace if t.matched]
        rules += [t.rule for t in decision.rule_trace if not t.matched and t.action]
        rules = list(dict.fromkeys(rules))
        rules.sort(key=lambda r: -SEVERITY[self._rule_action(r)])
        return rules

    def _rule_action(self, rule_id: str) -> Action:
        try:
            return self.policy.rule(rule_id).action
        except NotFoundError:
            return Action.REVIEW

    @staticmethod
    def _severity(action: Action, categories: tuple[str, ...] | list[str]) -> int:
        return SEVERITY[action] * 10 + (5 if "minor" in categories else 0)

    def _log(
        self, case_id: int, kind: str, actor: str, action: Action, note: str, dsa: dict[str, Any]
    ) -> None:
        self.db.insert(
            "INSERT INTO case_actions (case_id, kind, actor, action, note, dsa_json, "
            "created_at) VALUES (?,?,?,?,?,?,?)",
            (case_id, kind, actor, action.value, note[:2000], json.dumps(dsa), _iso(self.clock())),
        )

    # -- human decisions ------------------------------------------------------------------------
    def _fields(self, case: Case, action: Action, rule_id: str | None) -> dict[str, Any]:
        if action not in ACTION_VISIBILITY:
            return {}
        candidates = [rule_id] if rule_id else list(case.rules)
        for rid in candidates:
            rule = self.policy.rule(rid)
            if rule.dsa is not None:
                fields = dsa_fields(
                    self.policy,
                    rule,
                    action,
                    synthetic=case.synthetic,
                    automated="AUTOMATED_DECISION_PARTIALLY",
                )
                # a clip's case: the person's statement names a video, as the automated one did
                if "CONTENT_TYPE_VIDEO" in (case.dsa_fields.get("content_type") or ()):
                    kinds = [t for t in fields.get("content_type", []) if t != "CONTENT_TYPE_IMAGE"]
                    fields["content_type"] = ["CONTENT_TYPE_VIDEO", *kinds]
                return fields
        raise ConfigError(
            f"case {case.id}: no rule with a DSA template among "
            f"{list(case.rules) or 'none'}; pass rule_id= naming the policy rule "
            "the decision applies"
        )

    def statement_fields(
        self, case: Case, action: Action | str, rule_id: str | None = None
    ) -> dict[str, Any]:
        """The DSA statement fields a person's ``action`` would give ``case`` ({} for an action
        that restricts nothing): the console's preview, the same fields ``review`` records."""
        return self._fields(case, human_action(action), rule_id)

    def _deciders(self, case_id: int) -> set[str]:
        return {a.actor for a in self.history(case_id) if a.kind != "auto"}

    def _set(self, case: Case, status: str, action: Action, dsa: dict[str, Any]) -> None:
        self.db.execute(
            "UPDATE cases SET status = ?, action = ?, dsa_json = ?, severity = ?, "
            "updated_at = ? WHERE id = ?",
            (
                status,
                action.value,
                json.dumps(dsa),
                self._severity(action, case.categories),
                _iso(self.clock()),
                case.id,
            ),
        )
        # no person needs its images any more: delete them now, not after review_media_days
        purge_review_media(self.db, event_id=case.event_id)

    def _decide(self, case: Case, kind: str, actor: str, action: Action, note: str,
                dsa: dict[str, Any], status: str) -> None:  # fmt: skip
        """Record a person's decision on ``case`` and put it in force (inside a transaction)."""
        self._log(case.id, kind, actor, action, note, dsa)
        self._set(case, status, action, dsa)
        self._sync_strikes(self.get(case.id))

    def review(
        self,
        case_id: int,
        reviewer: str,
        action: Action | str,
        note: str = "",
        rule_id: str | None = None,
    ) -> Case:
        """A moderator decides a pending case. Escalations need a second reviewer."""
        action = human_action(action)
        with self.db.transaction():
            case = self.get(case_id)
            if case.status != PENDING_REVIEW:
                raise ConfigError(f"case {case_id} is {case.status}, not pending_review")
            dsa = self._fields(case, action, rule_id)
            status = (
                SECOND_REVIEW
                if action in FOUR_EYES
                else (ACTIONED if action in ACTION_VISIBILITY else CLOSED)
            )
            # a proposed escalation is in force (content stays down) until the second review
            self._decide(case, "review", reviewer, action, note, dsa, status)
        if status != SECOND_REVIEW:
            self._outcome_feedback(case.event_id, status)
        return self.get(case_id)

    def _outcome_feedback(self, event_id: str, status: str) -> None:
        """The moderator's outcome to the exchanges whose hashes the event matched (queued after
        the review's transaction; never raises)."""
        from gardefou.exchanges.feedback import record_outcome

        record_outcome(self.db, event_id, violating=status == ACTIONED)

    def request_second_review(self, case_id: int, reviewer: str, note: str = "") -> Case:
        with self.db.transaction():
            case = self.get(case_id)
            if case.status not in (PENDING_REVIEW, ACTIONED):
                raise ConfigError(
                    f"case {case_id} is {case.status}; a second review applies to "
                    "pending or actioned cases"
                )
            self._log(
                case_id, "second_review_requested", reviewer, case.action, note, case.dsa_fields
            )
            self._set(case, SECOND_REVIEW, case.action, case.dsa_fields)
        return self.get(case_id)

    def second_review(
        self,
        case_id: int,
        reviewer: str,
        action: Action | str,
        note: str = "",
        rule_id: str | None = None,
    ) -> Case:
        """A different person confirms or changes the first review."""
        action = human_action(action)
        with self.db.transaction():
            case = self.get(case_id)
            if case.status != SECOND_REVIEW:
                raise ConfigError(f"case {case_id} is {case.status}, not second_review")
            if reviewer in self._deciders(case_id):
                raise ForbiddenError(
                    f"{reviewer} already decided case {case_id}; a second "
                    "review needs another person"
                )
            dsa = self._fields(case, action, rule_id)
            status = ACTIONED if action in ACTION_VISIBILITY else CLOSED
            self._decide(case, "second_review", reviewer, action, note, dsa, status)
        self._outcome_feedback(case.event_id, status)
        return self.get(case_id)
