"""Strikes and sanctions of a CaseStore: who accumulates points for which case, and what the
points trigger (see ``accountability`` for the arithmetic)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from gardefou.cases import accountability as acc_math
from gardefou.cases.models import Case, SanctionRecord, Standing, Strike
from gardefou.errors import NotFoundError
from gardefou.policy import Policy
from gardefou.policy.dsa import ACTION_VISIBILITY


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="seconds")


def _parse(s: str) -> datetime:
    t = datetime.fromisoformat(s)
    return t if t.tzinfo else t.replace(tzinfo=UTC)


class StrikesMixin:
    db: Any
    policy: Policy
    exempt: frozenset[str]
    clock: Callable[[], datetime]

    def get(self, case_id: int) -> Case:
        raise NotImplementedError

    # -- strikes and sanctions ------------------------------------------------------------------
    def _sync_strikes(self, case: Case) -> None:
        """Make the case's strikes match the action in force (reversal removes them)."""
        now = _iso(self.clock())
        rule = None
        for rid in case.rules:
            r = self.policy.rule(rid) if rid in {x.id for x in self.policy.rules} else None
            if r is not None and r.action == case.auto_action:
                rule = r
                break
        want: dict[tuple[str, str], float] = {}
        if case.action in ACTION_VISIBILITY:
            for account, role in (
                (case.poster, acc_math.POSTER),
                (case.requester, acc_math.REQUESTER),
            ):
                if account and account.lower() not in self.exempt:
                    w = acc_math.strike_weight(self.policy.accountability, case.action, role, rule)
                    if w > 0:
                        want[(account, role)] = w
        rows = self.db.query("SELECT * FROM strikes WHERE case_id = ?", (case.id,))
        have = {(r["account"], r["role"]): r for r in rows}
        touched = {a for a, _ in want} | {a for a, _ in have}
        for key, r in have.items():
            if key not in want and r["reversed_at"] is None:
                self.db.execute("UPDATE strikes SET reversed_at = ? WHERE id = ?", (now, r["id"]))
        for (account, role), w in want.items():
            if (account, role) in have:
                self.db.execute(
                    "UPDATE strikes SET weight = ?, action = ?, reversed_at = NULL WHERE id = ?",
                    (w, case.action.value, have[(account, role)]["id"]),
                )
            else:
                self.db.insert(
                    "INSERT INTO strikes (account, role, case_id, action, weight, "
                    "created_at) VALUES (?,?,?,?,?,?)",
                    (account, role, case.id, case.action.value, w, now),
                )
        for account in touched:
            self._sync_sanctions(account, case)

    def strikes(self, account: str, include_reversed: bool = False) -> list[Strike]:
        sql = "SELECT * FROM strikes WHERE account = ?"
        if not include_reversed:
            sql += " AND reversed_at IS NULL"
        return [Strike(**r) for r in self.db.query(sql + " ORDER BY id", (account,))]

    def points(self, account: str, now: datetime | None = None) -> float:
        now = now or self.clock()
        return acc_math.points(
            ((s.weight, _parse(s.created_at)) for s in self.strikes(account)),
            now,
            self.policy.accountability.half_life_days,
        )

    def sanctions(self, account: str, now: datetime | None = None) -> list[SanctionRecord]:
        """Sanctions in force now."""
        t = _iso(now or self.clock())
        rows = self.db.query(
            "SELECT * FROM sanctions WHERE account = ? AND lifted_at IS NULL "
            "AND (ends_at IS NULL OR ends_at > ?) ORDER BY points",
            (account, t),
        )
        return [SanctionRecord(**r) for r in rows]

    def _sync_sanctions(self, account: str, case: Case) -> None:
        acc = self.policy.accountability
        now = self.clock()
        pts = self.points(account, now)
        active = {s.sanction: s for s in self.sanctions(account, now)}
        due = {s.name: s for s in acc_math.due_sanctions(acc, pts)}
        for name, s in due.items():
            if name not in active:
                ends = _iso(now + timedelta(days=s.duration_days)) if s.duration_days else None
                self.db.insert(
                    "INSERT INTO sanctions (account, sanction, points, case_id, "
                    "decision_account, decision_provision, created_at, ends_at) "
                    "VALUES (?,?,?,?,?,?,?,?)",
                    (
                        account,
                        name,
                        pts,
                        case.id,
                        s.decision_account,
                        s.decision_provision,
                        _iso(now),
                        ends,
                    ),
                )
        for name, rec in active.items():
            if name not in due:  # a reversal brought the points below the threshold
                self.db.execute(
                    "UPDATE sanctions SET lifted_at = ? WHERE id = ?", (_iso(now), rec.id)
                )

    def standing(self, account: str, now: datetime | None = None) -> Standing:
        now = now or self.clock()
        pts = self.points(account, now)
        nxt = acc_math.next_sanction(self.policy.accountability, pts)
        active = tuple(self.sanctions(account, now))
        return Standing(
            account=account,
            points=pts,
            strikes=tuple(self.strikes(account)),
            sanctions=active,
            next_sanction=nxt.name if nxt else None,
            next_at_points=nxt.points if nxt else None,
            restrictions=tuple(s.sanction for s in active),
        )

    def sanction_dsa_fields(self, record: SanctionRecord) -> dict[str, Any]:
        """Statement-of-reasons fields for an account restriction (decision_account/provision)."""
        spec = next(
            (s for s in self.policy.accountability.sanctions if s.name == record.sanction), None
        )
        if spec is None:
            raise NotFoundError(f"policy {self.policy.ref} has no sanction {record.sanction!r}")
        case = self.get(record.case_id) if record.case_id is not None else None
        return acc_math.sanction_dsa_fields(spec, case.dsa_fields if case else {}, record.ends_at)
