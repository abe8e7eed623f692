"""Report inputs read from gardefou's store: cases and decisions (migration 0004), takedown
requests (0007). Each reader returns the plain records the report builders take, so a platform
with its own database can skip this module and build the records itself.

Nothing personal leaves here: account ids, appellant statements, takedown contact details and
signatures are never read.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from gardefou.decide.record import decisions_by_event, stored_decisions
from gardefou.decision import Action, Decision
from gardefou.errors import StoreError
from gardefou.policy.dsa import ACTION_VISIBILITY
from gardefou.reports.prevalence import HourSample
from gardefou.reports.transparency import ActionRecord, AppealRecord, TakedownRecord

RESTRICTING = {a.value for a in ACTION_VISIBILITY}
#: event kinds that come from a notice rather than the platform's own scanning
REPORTED_KINDS = {"notice", "report", "takedown", "flag", "trusted_flagger"}


def _dt(v: Any) -> datetime:
    if isinstance(v, int | float):
        return datetime.fromtimestamp(float(v), UTC)
    t = datetime.fromisoformat(str(v).replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _require(db: Any, table: str, what: str) -> None:
    if not db.has_table(table):
        raise StoreError(
            f"the store has no {table} table: {what} needs the cases and takedown "
            "migrations (run any gardefou command on this database to migrate)"
        )


def _in(ts: str, start: str | None, end: str | None) -> bool:
    return (start is None or ts >= start) and (end is None or ts < end)


def transparency_records(
    db: Any, start: str | None = None, end: str | None = None
) -> tuple[list[ActionRecord], list[TakedownRecord], list[AppealRecord]]:
    """Actions (restricting cases, removed takedowns), takedown requests and appeals whose
    action/receipt/filing time is in [start, end) (ISO dates or times, either may be None)."""
    actions: list[ActionRecord] = []
    takedowns: list[TakedownRecord] = []
    appeals: list[AppealRecord] = []
    if db.has_table("cases"):
        history: dict[int, list[dict[str, Any]]] = {}
        for r in db.query("SELECT case_id, kind, action, created_at FROM case_actions ORDER BY id"):
            history.setdefault(int(r["case_id"]), []).append(r)
        for c in db.query("SELECT id, kind, action, categories, created_at FROM cases"):
            if c["action"] not in RESTRICTING:
                continue
            steps = history.get(int(c["id"]), [])
            first = next((s for s in steps if s["action"] in RESTRICTING), None)
            acted = _dt(first["created_at"] if first else c["created_at"])
            if not _in(acted.isoformat(), start, end):
                continue
            cats = json.loads(c["categories"] or "[]")
            actions.append(ActionRecord(
                category=cats[0] if cats else "other", action=c["action"],
                detection="reported" if c["kind"] in REPORTED_KINDS else "proactive",
                detected_at=_dt(c["created_at"]), actioned_at=acted,
                automated=all(s["kind"] == "auto" for s in steps)))  # fmt: skip
        for a in db.query("SELECT status, created_at, decided_at FROM appeals"):
            if _in(_dt(a["created_at"]).isoformat(), start, end):
                appeals.append(AppealRecord(_dt(a["created_at"]),
                                            _dt(a["decided_at"]) if a["decided_at"] else None,
                                            a["status"]))  # fmt: skip
    if db.has_table("takedown_requests"):
        rows = db.query("SELECT kind, status, received_at, deadline_at, closed_at, copies_removed "
                        "FROM takedown_requests")  # fmt: skip
        for t in rows:
            received = _dt(t["received_at"])
            if not _in(received.isoformat(), start, end):
                continue
            closed = _dt(t["closed_at"]) if t["closed_at"] is not None else None
            deadline_h = (float(t["deadline_at"]) - float(t["received_at"])) / 3600
            takedowns.append(TakedownRecord(t["kind"], received, closed, t["status"],
                                            int(t["copies_removed"] or 0), deadline_h))  # fmt: skip
            if t["status"] == "removed" and closed is not None:
                actions.append(
                    ActionRecord(
                        "ncii" if t["kind"] == "take_it_down" else t["kind"],
                        "remove",
                        "reported",
                        received,
                        closed,
                        False,
                    )
                )
    return actions, takedowns, appeals


def dsa_records(db: Any, start: str | None = None, end: str | None = None) -> list[dict[str, Any]]:
    """One record per case whose action in force restricts content, for
    ``statements_from_records``: the stored decision with the case's final action and DSA
    fields (after review or appeal), an internal id (turned into an opaque puid), dates."""
    _require(db, "cases", "the DSA export")
    decisions = decisions_by_event(db)
    history: dict[int, list[dict[str, Any]]] = {}
    for r in db.query("SELECT case_id, kind, action, created_at FROM case_actions ORDER BY id"):
        history.setdefault(int(r["case_id"]), []).append(r)
    out = []
    for c in db.query("SELECT * FROM cases ORDER BY id"):
        if c["action"] not in RESTRICTING:
            continue
        steps = history.get(int(c["id"]), [])
        current = [s for s in steps if s["action"] == c["action"]]
        applied = current[-1]["created_at"] if current else c["updated_at"]
        if not _in(str(applied), start, end):
            continue
        stored = decisions.get(c["event_id"])
        base = Decision.from_dict(stored) if stored else Decision(Action(c["action"]))
        d = Decision(Action(c["action"]), base.reasons, base.rule_trace,
                     json.loads(c["dsa_json"] or "{}"), base.categories, base.confidence,
                     c["policy"] or base.policy, base.unavailable)  # fmt: skip
        out.append({
            "decision": d, "id": f"case-{c['id']}",
            "content_date": c["content_date"] or str(c["created_at"])[:10],
            "application_date": str(applied)[:10],
            "human_reviewed": any(s["kind"] != "auto" for s in steps),
            "source_type": "SOURCE_ARTICLE_16"
            if c["kind"] in REPORTED_KINDS
            else "SOURCE_VOLUNTARY",
            "content_types": ["CONTENT_TYPE_SYNTHETIC_MEDIA"] if c["synthetic"] else [],
        })  # fmt: skip
    if db.has_table("sanctions"):
        out += _sanction_records(db, decisions, start, end)
    return out


def _sanction_records(db: Any, decisions: dict[str, dict[str, Any]], start: str | None,
                      end: str | None) -> list[dict[str, Any]]:  # fmt: skip
    """Account and service restrictions (strike sanctions), grounded on the triggering case."""
    out = []
    cases = {int(c["id"]): c for c in db.query("SELECT * FROM cases")}
    for r in db.query("SELECT * FROM sanctions ORDER BY id"):
        if not (r["decision_account"] or r["decision_provision"]) or r["case_id"] is None:
            continue
        if not _in(str(r["created_at"]), start, end):
            continue
        c = cases.get(int(r["case_id"]))
        if c is None or not json.loads(c["dsa_json"] or "{}"):
            continue
        stored = decisions.get(c["event_id"])
        base = Decision.from_dict(stored) if stored else Decision(Action(c["action"]))
        restrictions: dict[str, Any] = {}
        end_day = str(r["ends_at"])[:10] if r["ends_at"] else None
        if r["decision_account"]:
            restrictions["decision_account"] = r["decision_account"]
            restrictions["end_date_account_restriction"] = end_day
        if r["decision_provision"]:
            restrictions["decision_provision"] = r["decision_provision"]
            restrictions["end_date_service_restriction"] = end_day
        action = Action(c["action"]) if c["action"] in RESTRICTING else Action.REMOVE
        d = Decision(action, base.reasons, base.rule_trace, json.loads(c["dsa_json"]),
                     base.categories, None, c["policy"] or base.policy)  # fmt: skip
        out.append({
            "decision": d, "id": f"sanction-{r['id']}", "content_restricted": False,
            "restrictions": restrictions,
            "content_date": c["content_date"] or str(c["created_at"])[:10],
            "application_date": str(r["created_at"])[:10],
            "human_reviewed": False, "source_type": "SOURCE_VOLUNTARY",
        })  # fmt: skip
    return out


def prevalence_samples(db: Any, start: str | None = None, end: str | None = None,
                       positive_categories: tuple[str, ...] = ("ncii", "minor")
                       ) -> list[HourSample]:  # fmt: skip
    """Per hour: every decided event (population = sample: a census) and how many the policy
    restricted for one of ``positive_categories``. Correct with measured Se/Sp in measure()."""
    _require(db, "decisions", "measuring from the store")
    total: Counter[str] = Counter()
    pos: Counter[str] = Counter()
    for r in stored_decisions(db):
        ts = _dt(r.created_at).isoformat()
        if not _in(ts, start, end):
            continue
        hour = ts[:13]
        total[hour] += 1
        if r.action in RESTRICTING:
            cats = r.decision.get("categories") or []
            pos[hour] += any(c in positive_categories for c in cats)
    return [HourSample(h, n, pos[h], n) for h, n in sorted(total.items())]
