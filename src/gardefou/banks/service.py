"""BankService: the library API for banks, entries, hash-only submissions and matching.

Every change writes one ``bank_audit`` row (who, when, why) in the same transaction as the
change itself. Matching consults the index for candidates and the table for the truth, so
disabling an entry, withdrawing a submission or disabling a bank takes effect on the next query.
Bank administration lives in ``admin.py`` and submissions in ``submissions.py`` (mixins).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from gardefou.banks.admin import BankAdmin
from gardefou.banks.live import LiveIndex, default_index_dir
from gardefou.banks.matching import MatchQuery, resolve_matches
from gardefou.banks.models import MIN_QUALITY, Bank, Entry, Match
from gardefou.banks.records import _normalize_digest, normalize_pdq, now
from gardefou.banks.submissions import Submissions
from gardefou.errors import BankError, NotFoundError
from gardefou.store.db import Database

__all__ = ["BankService", "normalize_pdq", "now"]


class BankService(BankAdmin, Submissions):
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

    def audit_log(
        self, bank: str | int | None = None, entry_id: int | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        """Audit rows, newest first, optionally for one bank or entry."""
        where, params = [], []
        if bank is not None:
            where.append("bank_id = ?")
            params.append(self.get_bank(bank, include_deleted=True).id)
        if entry_id is not None:
            where.append("entry_id = ?")
            params.append(entry_id)
        sql = "SELECT * FROM bank_audit" + (" WHERE " + " AND ".join(where) if where else "")
        return self.db.query(sql + " ORDER BY id DESC LIMIT ?", (*params, limit))

    # -- entries ---------------------------------------------------------------------------------
    def add_entry(
        self,
        bank: str | int | Bank,
        pdq_hex: str,
        quality: int,
        *,
        md5: str | None = None,
        sha256: str | None = None,
        source: str = "",
        case_id: str | None = None,
        note: str = "",
        extra_pdq: Sequence[str] = (),
        enabled: bool = True,
        actor: str | None = None,
        reason: str = "",
    ) -> Entry:
        """Add one hash. Raises BankError when quality < 50 (flat images match everything)."""
        b = self.get_bank(bank)
        row = self._entry_row(pdq_hex, quality, md5, sha256, extra_pdq)
        with self.db.transaction():
            entry_id = self._insert_entry(b.id, row, source, case_id, note, None, enabled)
            self._audit(
                "entry.add",
                actor=actor,
                reason=reason,
                bank_id=b.id,
                entry_id=entry_id,
                pdq=row[0],
                source=source,
                case_id=case_id,
            )
        return self.get_entry(entry_id)

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
    ) -> int:
        pdq, quality, md5, sha256, extra = row
        return self.db.insert(
            "INSERT INTO bank_entries (bank_id, pdq, quality, md5, sha256, extra_pdq, source, "
            "case_id, note, submission_id, enabled, added_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            ),
        )

    def add_entries(
        self,
        bank: str | int | Bank,
        rows: Iterable[Mapping[str, Any]],
        *,
        actor: str | None = None,
        reason: str = "",
        source: str = "",
    ) -> list[int]:
        """Add many validated rows (keys as add_entry's) in one transaction: all or nothing."""
        b = self.get_bank(bank)
        ids: list[int] = []
        with self.db.transaction():
            for r in rows:
                row = self._entry_row(
                    r["pdq"],
                    int(r["quality"]),
                    r.get("md5"),
                    r.get("sha256"),
                    r.get("extra_pdq", ()),
                )
                ids.append(
                    self._insert_entry(
                        b.id,
                        row,
                        r.get("source") or source,
                        r.get("case_id"),
                        r.get("note") or "",
                        None,
                        bool(r.get("enabled", True)),
                    )
                )
            self._audit(
                "entry.import",
                actor=actor,
                reason=reason,
                bank_id=b.id,
                count=len(ids),
                first_id=ids[0] if ids else None,
                last_id=ids[-1] if ids else None,
            )
        return ids

    def get_entry(self, entry_id: int) -> Entry:
        row = self.db.query_one("SELECT * FROM bank_entries WHERE id = ?", (entry_id,))
        if row is None:
            raise NotFoundError(
                f"no bank entry {entry_id!r}; list entries with `gardefou bank entries BANK`"
            )
        return Entry.from_row(row)

    def list_entries(
        self,
        bank: str | int | Bank,
        *,
        limit: int | None = None,
        offset: int = 0,
        include_removed: bool = False,
    ) -> list[Entry]:
        b = self.get_bank(bank)
        sql = "SELECT * FROM bank_entries WHERE bank_id = ?"
        if not include_removed:
            sql += " AND removed_at IS NULL"
        sql += " ORDER BY id"
        params: list[Any] = [b.id]
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [limit, offset]
        return [Entry.from_row(r) for r in self.db.query(sql, params)]

    def set_enabled(
        self, entry_id: int, enabled: bool, *, actor: str | None = None, reason: str = ""
    ) -> Entry:
        """Enable or disable one entry; a disabled entry never matches and can be re-enabled."""
        e = self.get_entry(entry_id)
        with self.db.transaction():
            self.db.execute(
                "UPDATE bank_entries SET enabled = ? WHERE id = ?", (int(enabled), entry_id)
            )
            self._audit(
                "entry.enable" if enabled else "entry.disable",
                actor=actor,
                reason=reason,
                bank_id=e.bank_id,
                entry_id=entry_id,
            )
        return self.get_entry(entry_id)

    def remove_entry(self, entry_id: int, *, actor: str | None = None, reason: str = "") -> None:
        """Remove one entry from matching for good (the row stays for the audit trail)."""
        e = self.get_entry(entry_id)
        with self.db.transaction():
            self.db.execute(
                "UPDATE bank_entries SET removed_at = ? WHERE id = ? AND removed_at IS NULL",
                (now(), entry_id),
            )
            self._audit(
                "entry.remove", actor=actor, reason=reason, bank_id=e.bank_id, entry_id=entry_id
            )
        if self._live is not None:
            self._live.remove([entry_id])

    # -- matching --------------------------------------------------------------------------------
    def match(
        self,
        hashes: str | Sequence[str] | Mapping[str, str],
        *,
        quality: int | None = None,
        md5: str | None = None,
        sha256: str | None = None,
        banks: Sequence[str] | None = None,
    ) -> list[Match]:
        """Bank entries matching a query: one PDQ hex, a list (e.g. the 8 dihedral hashes) or a
        {label: hex} mapping (as the pdq_dihedral signal gives). A query ``quality`` below 50
        drops the PDQ part. Honours thresholds, disabled entries and banks, enable ratios and
        negative banks; see Match.actionable."""
        query = MatchQuery.parse(hashes, quality=quality, md5=md5, sha256=sha256)
        return resolve_matches(self, query, banks)

    def reindex(self) -> int:
        """Rebuild the index from the table and persist it; returns the number of rows."""
        return len(self.index.rebuild())
