"""Feedback to exchanges: queued in the store, sent later, retried; never in a decision's path.

A match or a moderator's outcome on an entry that came from an exchange becomes a row in
``exchange_feedback`` (one local INSERT). ``push`` sends what is due, batched per exchange; a
failure reschedules the row (``Retry-After`` when the exchange gives one, else exponential
backoff) and gives up after MAX_ATTEMPTS with the row marked ``failed``.

Verdicts: ``seen`` (a match, not yet reviewed), ``blocked`` (reviewed: violating),
``not_blocked`` (reviewed: not violating). StopNCII calls them PendingReview, Blocked and
NotBlocked.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from gardefou.clock import now
from gardefou.errors import ConfigError, ExchangeAuthError, ExchangeError, GardefouError
from gardefou.exchanges import store
from gardefou.exchanges.clients import STOPNCII_FEEDBACK, Client
from gardefou.store.db import Database

log = logging.getLogger(__name__)
VERDICTS = tuple(STOPNCII_FEEDBACK)
MAX_ATTEMPTS = 20
BATCH = 100


def queue(
    db: Database,
    entry_id: int,
    verdict: str,
    tags: Iterable[str] = (),
    event_id: str | None = None,
) -> int | None:
    """Queue feedback on a bank entry; None when the entry came from no exchange that takes
    feedback. ``event_id`` names the decided event, so its case's outcome can follow. Raises
    ConfigError on an unknown verdict."""
    if verdict not in VERDICTS:
        raise ConfigError(
            f"feedback verdict {verdict!r} is unknown; use one of {', '.join(VERDICTS)}"
        )
    row = db.query_one(
        "SELECT s.exchange_id, s.signal_type, s.value, e.kind FROM exchange_signals s "
        "JOIN exchanges e ON e.id = s.exchange_id WHERE s.entry_id = ? AND e.removed_at IS NULL",
        (entry_id,),
    )
    if row is None or row["kind"] != "stopncii":
        return None
    return db.insert(
        "INSERT INTO exchange_feedback (exchange_id, signal_type, value, entry_id, verdict, tags, "
        "created_at, event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            row["exchange_id"],
            row["signal_type"],
            row["value"],
            entry_id,
            verdict,
            " ".join(sorted(set(tags))),
            now(),
            event_id,
        ),
    )


def record_matches(
    db: Database, entry_ids: Iterable[int], verdict: str = "seen", event_id: str | None = None
) -> int:
    """For a decision path: queue feedback on matched entries and never raise (a failure to
    queue is logged; the decision does not wait on, or fail because of, an exchange). Call it
    outside the decision's transaction: on PostgreSQL a failed statement would abort it."""
    n = 0
    for entry_id in entry_ids:
        try:
            n += queue(db, int(entry_id), verdict, event_id=event_id) is not None
        except Exception as exc:  # noqa: BLE001 - feedback must never block a decision
            log.warning("exchange feedback not queued for entry %s: %s", entry_id, exc)
    return n


def record_outcome(db: Database, event_id: str, violating: bool) -> int:
    """A moderator's final outcome on an event's case: ``blocked`` (violating) or
    ``not_blocked`` for every exchange entry that event matched. Never raises."""
    try:
        rows = db.query(
            "SELECT DISTINCT entry_id FROM exchange_feedback WHERE event_id = ? "
            "AND verdict = 'seen' AND entry_id IS NOT NULL",
            (event_id,),
        )
    except Exception as exc:  # noqa: BLE001 - feedback must never block a review
        log.warning("exchange feedback for event %s not read: %s", event_id, exc)
        return 0
    verdict = "blocked" if violating else "not_blocked"
    return record_matches(db, [int(r["entry_id"]) for r in rows], verdict, event_id=event_id)


def push(
    db: Database,
    *,
    client_for: Callable[[store.Exchange], Client],
    clock: Callable[[], float] = time.time,
    limit: int = 1000,
) -> dict[str, int]:
    """Send due feedback; returns {"sent", "rescheduled", "failed"}."""
    due = db.query(
        "SELECT * FROM exchange_feedback WHERE status = 'pending' AND next_attempt_at <= ? "
        "ORDER BY id LIMIT ?",
        (clock(), limit),
    )
    out = {"sent": 0, "rescheduled": 0, "failed": 0}
    by_exchange: dict[int, list[dict[str, Any]]] = {}
    for row in due:
        by_exchange.setdefault(int(row["exchange_id"]), []).append(row)
    for exchange_id, rows in by_exchange.items():
        try:
            client = client_for(store.get(db, exchange_id))
        except GardefouError as exc:
            _reschedule(db, rows, exc, clock, out)
            continue
        for i in range(0, len(rows), BATCH):
            batch = rows[i : i + BATCH]
            # one opinion per hash and push, the latest queued: it supersedes the older ones
            latest = {(r["signal_type"], r["value"]): r for r in batch}
            items = [
                (r["signal_type"], r["value"], r["verdict"], r["tags"].split())
                for r in latest.values()
            ]
            try:
                client.send_feedback(items)
            except ExchangeError as exc:
                _reschedule(db, batch, exc, clock, out)
                continue
            stamp = now()
            with db.transaction():
                for r in batch:
                    db.execute(
                        "UPDATE exchange_feedback SET status = 'sent', sent_at = ?, "
                        "attempts = attempts + 1, last_error = '' WHERE id = ?",
                        (stamp, r["id"]),
                    )
            out["sent"] += len(batch)
    return out


def _reschedule(
    db: Database, rows: list[dict[str, Any]], exc: Exception, clock: Callable[[], float], out: dict
) -> None:
    retry_after = getattr(exc, "retry_after", None)
    with db.transaction():
        for r in rows:
            attempts = int(r["attempts"]) + 1
            delay = retry_after if retry_after is not None else min(3600.0, 30.0 * 2**attempts)
            failed = attempts >= MAX_ATTEMPTS
            db.execute(
                "UPDATE exchange_feedback SET attempts = ?, next_attempt_at = ?, last_error = ?, "
                "status = ? WHERE id = ?",
                (
                    attempts,
                    clock() + delay,
                    str(exc)[:500],
                    "failed" if failed else "pending",
                    r["id"],
                ),
            )
            out["failed" if failed else "rescheduled"] += 1
    kind = "auth" if isinstance(exc, ExchangeAuthError) else "error"
    log.warning("exchange feedback %s for %d item(s): %s", kind, len(rows), exc)


def counts(db: Database, exchange_id: int) -> dict[str, int]:
    rows = db.query(
        "SELECT status, COUNT(*) AS n FROM exchange_feedback WHERE exchange_id = ? GROUP BY status",
        (exchange_id,),
    )
    return {r["status"]: int(r["n"]) for r in rows}
