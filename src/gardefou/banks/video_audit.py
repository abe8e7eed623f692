"""The video banks' audit trail (the ``video_bank_audit`` table, migration 0022): one row per
change an operator or a review made to a video bank entry, written in the change's transaction
by ``video_store``, read newest first by the web API (``GET /v1/video-banks/.../audit``)."""

from __future__ import annotations

import json
from typing import Any

from gardefou.clock import now
from gardefou.store.db import Database

#: the actor of a change nobody named (a library call without ``actor``)
SYSTEM = "system"


def record(
    db: Database,
    action: str,
    *,
    actor: str | None,
    bank_id: int | None,
    entry_id: int | None,
    reason: str = "",
    **details: Any,
) -> None:
    """One audit row; the caller holds the transaction of the change it describes."""
    db.execute(
        "INSERT INTO video_bank_audit (at, actor, action, bank_id, entry_id, reason, details) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            now(),
            actor or SYSTEM,
            action,
            bank_id,
            entry_id,
            reason,
            json.dumps(details, sort_keys=True, default=str),
        ),
    )


def rows(
    db: Database, *, bank_id: int | None = None, entry_id: int | None = None, limit: int = 1000
) -> list[dict[str, Any]]:
    """Audit rows, newest first, of one bank or one entry (or all)."""
    where, params = [], []
    if bank_id is not None:
        where.append("a.bank_id = ?")
        params.append(bank_id)
    if entry_id is not None:
        where.append("a.entry_id = ?")
        params.append(entry_id)
    sql = (
        "SELECT a.id, a.at, a.actor, a.action, b.name AS bank, a.entry_id, a.reason, a.details "
        "FROM video_bank_audit a LEFT JOIN video_banks b ON b.id = a.bank_id"
    )
    if where:
        sql += " WHERE " + " AND ".join(where)
    out = db.query(sql + " ORDER BY a.id DESC LIMIT ?", (*params, int(limit)))
    for r in out:
        r["details"] = json.loads(r["details"] or "{}")
    return out


__all__ = ["SYSTEM", "record", "rows"]
