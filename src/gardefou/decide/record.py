"""Storing a decision: the ``decisions`` row, the post's thread facts, the case, strikes and the
images a moderator needs, in one transaction, exactly once per event. The only module that
reads or writes the ``decisions`` table: reports, the evidence job and the case view read it
through ``get_decision``, ``stored_decision_json`` and ``stored_decisions``.

When a post is recorded, the replies decided before it are judged again
(``gardefou.decide.reevaluate``) and a more severe result is stored here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from gardefou.cases.clusters import record_case_keys
from gardefou.cases.review_keep import attach_parent_images, hold_post_images, keep_for_case
from gardefou.decide.reevaluate import rejudge_replies
from gardefou.decide.results import Decided, StoredDecision
from gardefou.decide.services import Services
from gardefou.decision import Decision
from gardefou.events import Post
from gardefou.thread import MAX_DEPTH, ThreadStore


@dataclass(frozen=True)
class DecisionRow:
    """One stored decision as recorded: ``decision`` is its JSON object, exactly as written
    (evidence preserves it byte for byte; ``Decision.from_dict`` turns it into a Decision)."""

    event_id: str
    kind: str
    action: str
    created_at: str  # ISO 8601, UTC
    decision: dict[str, Any]


def stored_decisions(db: Any) -> list[DecisionRow]:
    """Every stored decision, in no particular order (reports and the evidence job read them
    here rather than querying the table). An empty list when nothing was decided yet."""
    rows = db.query("SELECT event_id, kind, action, created_at, decision_json FROM decisions")
    return [
        DecisionRow(
            r["event_id"], r["kind"], r["action"], r["created_at"], json.loads(r["decision_json"])
        )
        for r in rows
    ]


def decisions_by_event(db: Any) -> dict[str, dict[str, Any]]:
    """Every stored decision's JSON object, by event id."""
    return {r.event_id: r.decision for r in stored_decisions(db)}


def stored_decision_json(db: Any, event_id: str) -> dict[str, Any] | None:
    """The stored decision of ``event_id`` as recorded (its JSON object), or None."""
    row = db.query_one("SELECT decision_json FROM decisions WHERE event_id = ?", (event_id,))
    return None if row is None else dict(json.loads(row["decision_json"]))


def get_decision(db: Any, event_id: str) -> StoredDecision | None:
    row = db.query_one(
        "SELECT decision_json, case_id FROM decisions WHERE event_id = ?", (event_id,)
    )
    if row is None:
        return None
    return StoredDecision(
        event_id, Decision.from_dict(json.loads(row["decision_json"])), row["case_id"], False
    )


def record(db: Any, decided: Decided, services: Services) -> StoredDecision:
    """Store the decision, thread facts, case and strikes in one transaction; exactly once."""
    ev, d = decided.event, decided.decision
    now = services.clock().astimezone(UTC).isoformat(timespec="seconds")
    with db.transaction():
        cur = db.execute(
            "INSERT INTO decisions (event_id, kind, actor, action, policy, decision_json, "
            "created_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT (event_id) DO NOTHING",
            (
                ev.id,
                ev.kind,
                ev.actor,
                d.action.value,
                d.policy,
                json.dumps(d.to_dict(), default=str),
                now,
            ),
        )
        if not cur.rowcount:
            existing = get_decision(db, ev.id)
            assert existing is not None
            return existing
        threads = services.threads if db is services.db else ThreadStore(db)
        threads.put(decided.thread_post)
        content_date = (ev.created_at or services.clock()).date().isoformat()
        case = services.cases(db).open(
            ev.id,
            ev.kind,
            d,
            poster=decided.poster,
            requester=decided.requester,
            content_date=content_date,
        )
        if case is not None:
            db.execute("UPDATE decisions SET case_id = ? WHERE event_id = ?", (case.id, ev.id))
            # what a moderator needs to see and what groups copies (docs/web.md), every path
            keep_for_case(db, services, decided, case)
            record_case_keys(db, services, decided, case)
        hold_post_images(db, services, decided)
        if isinstance(ev, Post) and db is services.db:
            # replies decided before this post was known are judged again with it
            reevaluate_replies(db, services, ev.id)
    _exchange_feedback(db, decided)
    return StoredDecision(ev.id, d, case.id if case else None, True)


def _stored_post(db: Any, event_id: str) -> Decision | None:
    row = db.query_one("SELECT kind, decision_json FROM decisions WHERE event_id = ?", (event_id,))
    if row is None or row["kind"] != "post":
        return None
    return Decision.from_dict(json.loads(row["decision_json"]))


def reevaluate_replies(
    db: Any, services: Services, post_id: str, depth: int = MAX_DEPTH
) -> list[StoredDecision]:
    """Judge again the decided replies below ``post_id`` now that it is known; store the more
    severe results and escalate their cases. Returns the escalated StoredDecisions."""
    changed = []
    for r in rejudge_replies(services, post_id, lambda cid: _stored_post(db, cid), depth):
        # the moderator of a case still open now sees the parent's photo beside the reply
        attach_parent_images(db, services, r.event_id, r.reply_to)
        if not r.escalated:
            continue
        new = r.new
        db.execute(
            "UPDATE decisions SET action = ?, policy = ?, decision_json = ? WHERE event_id = ?",
            (new.action.value, new.policy, json.dumps(new.to_dict(), default=str), r.event_id),
        )
        case = services.cases(db).reevaluate(
            r.event_id, "post", new, poster=r.poster, requester=r.requester
        )
        if case is not None:
            db.execute("UPDATE decisions SET case_id = ? WHERE event_id = ?", (case.id, r.event_id))
        changed.append(StoredDecision(r.event_id, new, case.id if case else None, True))
    return changed


def _exchange_feedback(db: Any, decided: Decided) -> None:
    """Tell the exchanges their hashes matched (queued, sent later; never raises). Outside the
    decision's transaction: a failed insert must not abort the decision on PostgreSQL."""
    items = decided.items
    entries = sorted({e for it in items for e in it.context.get("bank.exchange_entries") or ()})
    if entries:
        # the exchange clients load their third-party stack (over a second): only on a match
        from gardefou.exchanges.feedback import record_matches

        record_matches(db, entries, "seen", event_id=decided.event.id)
