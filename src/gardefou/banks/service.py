"""BankService: the library API for banks, entries, hash-only submissions and matching.

Every change writes one ``bank_audit`` row (who, when, why) in the same transaction as the
change itself. Matching consults the index for candidates and the table for the truth, so
disabling an entry, withdrawing a submission or disabling a bank takes effect on the next query.
Shared parts live in ``core.py``, bank administration in ``admin.py`` and submissions in
``submissions.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gardefou.banks.admin import BankAdmin
from gardefou.banks.matching import MatchQuery, resolve_matches
from gardefou.banks.models import Bank, Entry, Match
from gardefou.banks.records import normalize_pdq
from gardefou.banks.submissions import Submissions
from gardefou.clock import now
from gardefou.errors import NotFoundError

__all__ = ["BankService", "normalize_pdq", "now"]


class BankService(BankAdmin, Submissions):
    """Banks over a ``gardefou.store`` database (see BankCore for ``index_dir``)."""

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
                        disabled_until=r.get("disabled_until"),
                        content_id=r.get("content_id"),
                        metadata=r.get("metadata"),
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

    def update_entry(
        self,
        entry_id: int,
        *,
        enabled: bool | None = None,
        disabled_until: float | bool | None = False,
        note: str | None = None,
        case_id: str | None = None,
        actor: str | None = None,
        reason: str = "",
    ) -> Entry:
        """Change an entry's state or notes (``disabled_until``: unix seconds, None clears it,
        False leaves it). The hash itself never changes: remove and add instead."""
        e = self.get_entry(entry_id)
        changes: dict[str, Any] = {}
        if enabled is not None:
            changes["enabled"] = int(enabled)
        if disabled_until is not False:
            changes["disabled_until"] = disabled_until
        if note is not None:
            changes["note"] = note
        if case_id is not None:
            changes["case_id"] = case_id
        if not changes:
            return e
        sets = ", ".join(f"{k} = ?" for k in changes)
        with self.db.transaction():
            self.db.execute(
                f"UPDATE bank_entries SET {sets} WHERE id = ?", (*changes.values(), entry_id)
            )
            self._audit(
                "entry.update",
                actor=actor,
                reason=reason,
                bank_id=e.bank_id,
                entry_id=entry_id,
                before={k: getattr(e, k) for k in changes},
                after=changes,
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
