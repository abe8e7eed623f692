"""Purging the review images kept for moderators (table ``review_media``; docs/web.md).

An image is kept only while a person still has to look at it: while its case awaits review (or
a second review), and never longer than its ``expires_at``. Once the case is actioned or closed
the image is deleted, so an unblurred original cannot be revealed afterwards; what a legal hold
or an appeal needs is preserved, encrypted, in the evidence store (``gardefou evidence
preserve-store``), not here. ``purge_review_media`` runs on every case decision (``CaseStore``),
on a schedule in ``gardefou serve`` and the pipeline workers, and from ``gardefou cases purge``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from gardefou.cases.models import PENDING_REVIEW, SECOND_REVIEW

log = logging.getLogger(__name__)

#: case statuses whose images a person still has to see
AWAITING_PERSON = (PENDING_REVIEW, SECOND_REVIEW)
#: how often the schedules (serve, pipeline workers) purge, in seconds
PURGE_INTERVAL_S = 300.0


def purge_review_media(db: Any, now: float | None = None, event_id: str | None = None) -> int:
    """Delete the kept images no person needs any more: expired ones, and those whose case no
    longer awaits review (actioned, closed, appealed, or no case at all). ``event_id``: only
    that event's. Returns how many were deleted."""
    now = time.time() if now is None else now
    marks = ", ".join("?" for _ in AWAITING_PERSON)
    sql = (
        "DELETE FROM review_media WHERE (expires_at < ? OR event_id NOT IN (SELECT event_id "
        f"FROM cases WHERE event_id IS NOT NULL AND status IN ({marks})))"
    )
    params: list[Any] = [now, *AWAITING_PERSON]
    if event_id is not None:
        sql += " AND event_id = ?"
        params.append(event_id)
    cur = db.execute(sql, params)
    deleted = max(int(getattr(cur, "rowcount", 0) or 0), 0)
    if event_id is None:  # a post's images held for replies: only their own expiry counts
        cur = db.execute("DELETE FROM thread_media WHERE expires_at < ?", (now,))
        deleted += max(int(getattr(cur, "rowcount", 0) or 0), 0)
        db.execute("DELETE FROM thread_requests WHERE expires_at < ?", (now,))
    if deleted and event_id is None:
        log.info("purged %d review image(s) no moderator needs any more", deleted)
    return deleted


class PurgeSchedule:
    """Calls ``purge_review_media`` at most every ``interval`` seconds (the pipeline workers
    call ``maybe`` after each event; a failed purge is logged and retried next time, it never
    fails the event)."""

    def __init__(self, interval: float = PURGE_INTERVAL_S, clock: Any = time.monotonic) -> None:
        self.interval, self.clock = interval, clock
        self._next = 0.0

    def maybe(self, db: Any) -> int | None:
        t = self.clock()
        if t < self._next:
            return None
        self._next = t + self.interval
        try:
            return purge_review_media(db)
        except Exception as exc:  # noqa: BLE001 - housekeeping must not fail a decision
            log.warning(
                "review media purge failed (%s: %s); retried later", type(exc).__name__, exc
            )
            return None
