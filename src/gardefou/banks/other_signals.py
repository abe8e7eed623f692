"""Signals gardefou does not match yet (``video_md5``, ``vpdq``, ``url``...): kept, not rejected.

Exchanges and partner files carry video and other hash types next to PDQ. Dropping them would
lose a partner's data; failing the whole file on them (the old behaviour) lost everything. They
are stored per bank in ``bank_other_signals`` with the same provenance as an entry (source,
content id, note, metadata), counted, listed and exported again, so they are ready the day a
matcher for their type exists (vPDQ, issue 17).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from gardefou.clock import now
from gardefou.errors import BankError
from gardefou.store.db import Database

#: a signal type name as python-threatexchange spells them (pdq, video_md5, vpdq, url, ...)
_TYPE = re.compile(r"[a-z][a-z0-9_]{0,39}")
MAX_VALUE = 65_536  # a vPDQ signal lists one frame hash per second: long, but bounded


def normalize_type(signal_type: Any, line: int) -> str:
    t = str(signal_type or "").strip().lower()
    if not _TYPE.fullmatch(t):
        raise BankError(
            f"line {line}: signal type {str(signal_type)[:60]!r} is not a name "
            "(letters, digits, '_', like video_md5)"
        )
    return t


def other_row(line: int, signal_type: str, value: Any, **extra: Any) -> dict[str, Any]:
    """A validated row of a signal type that is kept, not matched."""
    v = str(value if value is not None else "").strip()
    if not v:
        raise BankError(f"line {line}: {signal_type} signal has no value")
    if len(v) > MAX_VALUE:
        raise BankError(
            f"line {line}: {signal_type} value is {len(v)} characters (max {MAX_VALUE})"
        )
    if signal_type in ("md5", "video_md5") and not re.fullmatch(r"[0-9a-fA-F]{32}", v):
        raise BankError(f"line {line}: {signal_type} {v[:80]!r} is not 32 hex digits")
    row = {"line": line, "signal_type": signal_type, "value": v}
    for key in ("source", "case_id", "note", "content_id"):
        value = extra.get(key)
        row[key] = str(value).strip() if value not in (None, "") else None
    row["metadata"] = dict(extra.get("metadata") or {})
    row["enabled"] = bool(extra.get("enabled", True))
    row["disabled_until"] = extra.get("disabled_until")
    return row


def live_keys(db: Database, bank_id: int) -> set[tuple[str, str]]:
    rows = db.query(
        "SELECT signal_type, value FROM bank_other_signals WHERE bank_id = ? "
        "AND removed_at IS NULL",
        (bank_id,),
    )
    return {(r["signal_type"], r["value"]) for r in rows}


def insert(db: Database, bank_id: int, row: Mapping[str, Any], source: str = "") -> int:
    """One row (the caller holds the transaction)."""
    return db.insert(
        "INSERT INTO bank_other_signals (bank_id, signal_type, value, source, content_id, case_id, "
        "note, metadata, enabled, disabled_until, added_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (
            bank_id,
            row["signal_type"],
            row["value"],
            row.get("source") or source,
            row.get("content_id"),
            row.get("case_id"),
            row.get("note") or "",
            json.dumps(row.get("metadata") or {}, sort_keys=True) if row.get("metadata") else "",
            int(bool(row.get("enabled", True))),
            row.get("disabled_until"),
            now(),
        ),
    )


def remove(db: Database, ids: Iterable[int]) -> None:
    stamp = now()
    for i in ids:
        db.execute(
            "UPDATE bank_other_signals SET removed_at = ? WHERE id = ? AND removed_at IS NULL",
            (stamp, i),
        )


def list_rows(db: Database, bank_id: int) -> list[dict[str, Any]]:
    rows = db.query(
        "SELECT * FROM bank_other_signals WHERE bank_id = ? AND removed_at IS NULL ORDER BY id",
        (bank_id,),
    )
    for r in rows:
        r["metadata"] = json.loads(r["metadata"]) if r["metadata"] else {}
    return rows


def counts(db: Database, bank_id: int) -> dict[str, int]:
    """Live signals of each kept type in one bank: {"video_md5": 3, ...}."""
    rows = db.query(
        "SELECT signal_type, COUNT(*) AS n FROM bank_other_signals WHERE bank_id = ? AND "
        "removed_at IS NULL GROUP BY signal_type ORDER BY signal_type",
        (bank_id,),
    )
    return {r["signal_type"]: int(r["n"]) for r in rows}
