"""The ``exchanges`` table: which exchange feeds which bank, where it is, its checkpoint.

Credentials are never stored: only a reference, ``env:VARIABLE`` or ``file:/path``, resolved
each time the exchange is used (see credentials.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from gardefou.clock import now
from gardefou.errors import ConfigError, NotFoundError
from gardefou.store.db import Database

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass(frozen=True)
class Exchange:
    id: int
    name: str
    kind: str
    bank_id: int
    url: str = ""
    credentials: str = ""  # a reference (env:/file:), never the secret
    config: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True
    checkpoint: dict[str, Any] = field(default_factory=dict)
    pages: int = 0
    last_fetch_at: str | None = None
    last_success_at: str | None = None
    last_error: str = ""
    created_at: str = ""

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Exchange:
        return cls(
            id=int(row["id"]),
            name=row["name"],
            kind=row["kind"],
            bank_id=int(row["bank_id"]),
            url=row["url"],
            credentials=row["credentials"],
            config=json.loads(row["config"] or "{}"),
            enabled=bool(row["enabled"]),
            checkpoint=json.loads(row["checkpoint"]) if row["checkpoint"] else {},
            pages=int(row["pages"]),
            last_fetch_at=row["last_fetch_at"],
            last_success_at=row["last_success_at"],
            last_error=row["last_error"],
            created_at=row["created_at"],
        )

    def to_dict(self) -> dict[str, Any]:
        """Every field; ``credentials`` is a reference (env:/file:), never the secret."""
        return asdict(self)


def insert(
    db: Database,
    name: str,
    kind: str,
    bank_id: int,
    url: str,
    credentials: str,
    config: dict[str, Any],
) -> int:
    if not _NAME.fullmatch(name):
        raise ConfigError(
            f"exchange name {name!r} is invalid: use 1-64 letters, digits, '_', '.', '-'"
        )
    if db.query_one("SELECT id FROM exchanges WHERE name = ? AND removed_at IS NULL", (name,)):
        raise ConfigError(f"exchange {name!r} already exists; pick another name or remove it")
    return db.insert(
        "INSERT INTO exchanges (name, kind, bank_id, url, credentials, config, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (name, kind, bank_id, url, credentials, json.dumps(config, sort_keys=True), now()),
    )


def get(db: Database, name: str | int) -> Exchange:
    column = "id" if isinstance(name, int) else "name"
    row = db.query_one(
        f"SELECT * FROM exchanges WHERE {column} = ? AND removed_at IS NULL", (name,)
    )
    if row is None:
        names = ", ".join(e.name for e in list_all(db)) or "none yet"
        raise NotFoundError(
            f"no exchange {name!r} (exchanges: {names}); add one with `gardefou exchange add`"
        )
    return Exchange.from_row(row)


def list_all(db: Database) -> list[Exchange]:
    rows = db.query("SELECT * FROM exchanges WHERE removed_at IS NULL ORDER BY name")
    return [Exchange.from_row(r) for r in rows]


def save_checkpoint(db: Database, exchange_id: int, checkpoint: dict[str, Any]) -> None:
    """Inside the caller's transaction: the checkpoint commits with the page it covers."""
    db.execute(
        "UPDATE exchanges SET checkpoint = ?, pages = pages + 1, last_success_at = ?, "
        "last_error = '' WHERE id = ?",
        (json.dumps(checkpoint, sort_keys=True), now(), exchange_id),
    )


def mark_attempt(db: Database, exchange_id: int, error: str = "") -> None:
    if error:
        db.execute(
            "UPDATE exchanges SET last_fetch_at = ?, last_error = ? WHERE id = ?",
            (now(), error[:1000], exchange_id),
        )
    else:
        db.execute("UPDATE exchanges SET last_fetch_at = ? WHERE id = ?", (now(), exchange_id))


def signal_counts(db: Database, exchange_id: int) -> dict[str, dict[str, int]]:
    """{status: {signal_type: n}} of everything this exchange has sent."""
    rows = db.query(
        "SELECT status, signal_type, COUNT(*) AS n FROM exchange_signals WHERE exchange_id = ? "
        "GROUP BY status, signal_type ORDER BY status, signal_type",
        (exchange_id,),
    )
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        out.setdefault(r["status"], {})[r["signal_type"]] = int(r["n"])
    return out


def provenance(db: Database, entry_ids: list[int]) -> dict[int, str]:
    """Which exchange each bank entry came from: {entry_id: exchange name} (entries that came
    from no exchange are absent). The DSA statement and the evidence log name it."""
    out: dict[int, str] = {}
    for i in range(0, len(entry_ids), 500):
        batch = entry_ids[i : i + 500]
        marks = ", ".join("?" for _ in batch)
        for r in db.query(
            f"SELECT s.entry_id, e.name FROM exchange_signals s JOIN exchanges e "
            f"ON e.id = s.exchange_id WHERE s.entry_id IN ({marks})",
            batch,
        ):
            out[int(r["entry_id"])] = r["name"]
    return out
