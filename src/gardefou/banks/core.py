"""What every part of BankService shares: the database, the live index, the audit trail,
entry rows and bank look-up. ``BankAdmin`` and ``Submissions`` build on it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gardefou.banks.live import LiveIndex, default_index_dir
from gardefou.banks.models import MIN_QUALITY, Bank
from gardefou.banks.records import _normalize_digest, normalize_pdq
from gardefou.clock import now
from gardefou.errors import BankError, NotFoundError
from gardefou.store.db import Database


class BankCore:
    """Banks over a ``gardefou.store`` database. ``index_dir``: where the on-disk index lives
    (default beside a SQLite file, or $GARDEFOU_BANK_INDEX_DIR; ``False`` keeps it in memory)."""

    def __init__(
        self, db: Database, index_dir: str | Path | bool | None = None, actor: str = "system"
    ) -> None:
        self.db = db
        self.actor = actor
        if index_dir is False:
            self._index_dir: Path | None = None
        elif index_dir is None or index_dir is True:
            self._index_dir = default_index_dir(db)
        else:
            self._index_dir = Path(index_dir)
        self._live: LiveIndex | None = None

    @property
    def index(self) -> LiveIndex:
        if self._live is None:
            self._live = LiveIndex(self.db, self._index_dir)
        return self._live

    # -- audit -----------------------------------------------------------------------------------
    def _audit(
        self,
        action: str,
        *,
        actor: str | None,
        reason: str = "",
        bank_id: int | None = None,
        entry_id: int | None = None,
        submission_id: int | None = None,
        **details: Any,
    ) -> None:
        self.db.execute(
            "INSERT INTO bank_audit (at, actor, action, bank_id, entry_id, submission_id, reason, "
            "details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                now(),
                actor or self.actor,
                action,
                bank_id,
                entry_id,
                submission_id,
                reason,
                json.dumps(details, sort_keys=True, default=str),
            ),
        )

    def get_bank(self, bank: str | int | Bank, include_deleted: bool = False) -> Bank:
        if isinstance(bank, Bank):
            bank = bank.id
        column = "id" if isinstance(bank, int) else "name"
        row = self.db.query_one(f"SELECT * FROM banks WHERE {column} = ?", (bank,))
        if row is None or (row["deleted_at"] and not include_deleted):
            names = ", ".join(b.name for b in self.list_banks()) or "none yet"
            raise NotFoundError(
                f"no bank {bank!r} (banks: {names}); create it with `gardefou bank create NAME`"
            )
        return Bank.from_row(row)

    def list_banks(self) -> list[Bank]:
        rows = self.db.query("SELECT * FROM banks WHERE deleted_at IS NULL ORDER BY name")
        return [Bank.from_row(r) for r in rows]

    @staticmethod
    def _entry_row(
        pdq_hex: str, quality: int, md5: str | None, sha256: str | None, extra_pdq: Sequence[str]
    ) -> tuple[str, int, str | None, str | None, str]:
        pdq = normalize_pdq(pdq_hex)
        if not isinstance(quality, int) or not 0 <= quality <= 100:
            raise BankError(f"quality {quality!r} is not an integer from 0 to 100")
        if quality < MIN_QUALITY:
            raise BankError(
                f"PDQ {pdq[:16]}… has quality {quality}, below {MIN_QUALITY}: such "
                "hashes come from flat images and match unrelated content; hash a "
                "more detailed copy"
            )
        extra = " ".join(normalize_pdq(h) for h in extra_pdq)
        return (
            pdq,
            quality,
            _normalize_digest(md5, 32, "MD5"),
            _normalize_digest(sha256, 64, "SHA-256"),
            extra,
        )

    def _insert_entry(
        self,
        bank_id: int,
        row: tuple,
        source: str,
        case_id: str | None,
        note: str,
        submission_id: int | None,
        enabled: bool,
        *,
        disabled_until: float | None = None,
        content_id: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> int:
        pdq, quality, md5, sha256, extra = row
        return self.db.insert(
            "INSERT INTO bank_entries (bank_id, pdq, quality, md5, sha256, extra_pdq, source, "
            "case_id, note, submission_id, enabled, added_at, disabled_until, content_id, "
            "metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                bank_id,
                pdq,
                quality,
                md5,
                sha256,
                extra,
                source,
                case_id,
                note,
                submission_id,
                int(enabled),
                now(),
                disabled_until,
                content_id,
                json.dumps(metadata, sort_keys=True) if metadata else "",
            ),
        )

    def _insert_entries_bulk(
        self, bank_id: int, pdqs: Sequence[str], source: str, metadata: dict[str, Any]
    ) -> list[int]:
        """Insert quality-100 entries for distinct, normalized PDQ hashes (exchange syncs),
        many rows per statement; returns their ids in ``pdqs`` order. The caller holds the
        transaction. Multi-row INSERT ... RETURNING: SQLite >= 3.35 and PostgreSQL."""
        if len(set(pdqs)) != len(pdqs):
            raise BankError("bulk insert needs distinct hashes")
        meta = json.dumps(metadata, sort_keys=True) if metadata else ""
        stamp = now()
        ids: dict[str, int] = {}
        for i in range(0, len(pdqs), 500):
            batch = pdqs[i : i + 500]
            marks = ", ".join("(?, ?, 100, '', ?, '', 1, ?, ?)" for _ in batch)
            params: list[Any] = []
            for pdq in batch:
                params += [bank_id, pdq, source, stamp, meta]
            rows = self.db.execute(
                "INSERT INTO bank_entries (bank_id, pdq, quality, extra_pdq, source, note, "
                f"enabled, added_at, metadata) VALUES {marks} RETURNING id, pdq",
                params,
            ).fetchall()
            ids.update({str(pdq): int(row_id) for row_id, pdq in rows})
        return [ids[p] for p in pdqs]
