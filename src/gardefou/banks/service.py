"""BankService: the library API for banks, entries, hash-only submissions and matching.

Every change writes one ``bank_audit`` row (who, when, why) in the same transaction as the
change itself. Matching consults the index for candidates and the table for the truth, so
disabling an entry, withdrawing a submission or disabling a bank takes effect on the next query.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gardefou.banks.live import LiveIndex, default_index_dir
from gardefou.banks.matching import MatchQuery, resolve_matches
from gardefou.banks.models import DEFAULT_THRESHOLD, MIN_QUALITY, Bank, Entry, Match, Submission
from gardefou.errors import AuthError, BankError, NotFoundError
from gardefou.signals.pdq_core import hex_to_bytes
from gardefou.store.db import Database

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_HEX = re.compile(r"[0-9a-f]+")
_PIN_ITERATIONS = 200_000


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def normalize_pdq(value: str) -> str:
    return hex_to_bytes(value).hex()


def _normalize_digest(value: str | None, length: int, what: str) -> str | None:
    if value is None or value == "":
        return None
    v = value.strip().lower()
    if len(v) != length or not _HEX.fullmatch(v):
        raise BankError(f"{what} {value[:80]!r} is not {length} hex digits")
    return v


def _hash_pin(pin: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, _PIN_ITERATIONS)
    return f"pbkdf2_sha256${_PIN_ITERATIONS}${salt.hex()}${digest.hex()}"


def _check_pin(pin: str, stored: str) -> bool:
    _, iterations, salt, digest = stored.split("$")
    got = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), int(iterations))
    return hmac.compare_digest(got.hex(), digest)


class BankService:
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

    # -- banks -----------------------------------------------------------------------------------
    def create_bank(
        self,
        name: str,
        *,
        threshold: int = DEFAULT_THRESHOLD,
        negative: bool = False,
        description: str = "",
        enable_ratio: float = 1.0,
        actor: str | None = None,
        reason: str = "",
    ) -> Bank:
        if not _NAME.fullmatch(name):
            raise BankError(
                f"bank name {name!r} is invalid: use 1-64 letters, digits, '_', '.', "
                "'-', starting with a letter or digit"
            )
        _check_settings(threshold, enable_ratio)
        if self.db.query_one("SELECT id FROM banks WHERE name = ?", (name,)):
            raise BankError(f"bank {name!r} already exists; pick another name")
        with self.db.transaction():
            bank_id = self.db.insert(
                "INSERT INTO banks (name, description, threshold, negative, enabled, enable_ratio, "
                "created_at) VALUES (?, ?, ?, ?, 1, ?, ?)",
                (name, description, threshold, int(negative), enable_ratio, now()),
            )
            self._audit(
                "bank.create",
                actor=actor,
                reason=reason,
                bank_id=bank_id,
                name=name,
                threshold=threshold,
                negative=negative,
                enable_ratio=enable_ratio,
            )
        return self.get_bank(bank_id)

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

    def bank_stats(self, bank: str | int | Bank) -> dict[str, int]:
        b = self.get_bank(bank)
        row = self.db.query_one(
            "SELECT COUNT(*) AS total, SUM(CASE WHEN enabled = 1 THEN 1 ELSE 0 END) AS enabled "
            "FROM bank_entries WHERE bank_id = ? AND removed_at IS NULL",
            (b.id,),
        )
        return (
            {"entries": int(row["total"] or 0), "enabled_entries": int(row["enabled"] or 0)}
            if row
            else {}
        )

    def update_bank(
        self,
        bank: str | int | Bank,
        *,
        threshold: int | None = None,
        negative: bool | None = None,
        enabled: bool | None = None,
        enable_ratio: float | None = None,
        description: str | None = None,
        actor: str | None = None,
        reason: str = "",
    ) -> Bank:
        b = self.get_bank(bank)
        changes = {
            k: v
            for k, v in {
                "threshold": threshold,
                "negative": negative,
                "enabled": enabled,
                "enable_ratio": enable_ratio,
                "description": description,
            }.items()
            if v is not None
        }
        _check_settings(
            changes.get("threshold", b.threshold), changes.get("enable_ratio", b.enable_ratio)
        )
        if not changes:
            return b
        sets = ", ".join(f"{k} = ?" for k in changes)
        values = [int(v) if isinstance(v, bool) else v for v in changes.values()]
        with self.db.transaction():
            self.db.execute(f"UPDATE banks SET {sets} WHERE id = ?", (*values, b.id))
            before = {k: getattr(b, k) for k in changes}
            self._audit(
                "bank.update",
                actor=actor,
                reason=reason,
                bank_id=b.id,
                before=before,
                after=changes,
            )
        return self.get_bank(b.id)

    def rename_bank(
        self, bank: str | int | Bank, new_name: str, *, actor: str | None = None, reason: str = ""
    ) -> Bank:
        b = self.get_bank(bank)
        if not _NAME.fullmatch(new_name):
            raise BankError(
                f"bank name {new_name!r} is invalid: use letters, digits, '_', '.', '-'"
            )
        if self.db.query_one("SELECT id FROM banks WHERE name = ?", (new_name,)):
            raise BankError(f"bank {new_name!r} already exists; pick another name")
        with self.db.transaction():
            self.db.execute("UPDATE banks SET name = ? WHERE id = ?", (new_name, b.id))
            self._audit(
                "bank.rename",
                actor=actor,
                reason=reason,
                bank_id=b.id,
                before=b.name,
                after=new_name,
            )
        return self.get_bank(b.id)

    def delete_bank(
        self, bank: str | int | Bank, *, actor: str | None = None, reason: str = ""
    ) -> int:
        """Remove a bank and all its entries from matching; rows stay for the audit trail.
        Frees the name. Returns the number of entries removed."""
        b = self.get_bank(bank)
        stamp = now()
        ids = [
            int(r["id"])
            for r in self.db.query(
                "SELECT id FROM bank_entries WHERE bank_id = ? AND removed_at IS NULL", (b.id,)
            )
        ]
        with self.db.transaction():
            self.db.execute(
                "UPDATE bank_entries SET removed_at = ? WHERE bank_id = ? AND removed_at IS NULL",
                (stamp, b.id),
            )
            self.db.execute(
                "UPDATE banks SET deleted_at = ?, name = ?, enabled = 0 WHERE id = ?",
                (stamp, f"{b.name}#deleted-{b.id}", b.id),
            )
            self._audit(
                "bank.delete",
                actor=actor,
                reason=reason,
                bank_id=b.id,
                name=b.name,
                entries_removed=len(ids),
            )
        if self._live is not None:
            self._live.remove(ids)
        return len(ids)

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

    # -- submissions by the people depicted ------------------------------------------------------
    def submit_hashes(
        self,
        bank: str | int | Bank,
        hashes: Sequence[str | tuple[str, int]],
        *,
        actor: str = "submitter",
        note: str = "",
    ) -> tuple[str, str]:
        """Hash-only submission (no image). Each item: hex, or (hex, quality). Returns
        (case_number, pin); the PIN is shown once and stored only as a salted PBKDF2 hash."""
        b = self.get_bank(bank)
        if not hashes:
            raise BankError("a submission needs at least one PDQ hash")
        rows = []
        for item in hashes:
            pdq, quality = (item, 100) if isinstance(item, str) else item
            rows.append(self._entry_row(pdq, int(quality), None, None, ()))
        case_number = "GF-" + secrets.token_hex(5).upper()
        pin = f"{secrets.randbelow(10**8):08d}"
        with self.db.transaction():
            sub_id = self.db.insert(
                "INSERT INTO bank_submissions (case_number, pin_hash, bank_id, status, created_at) "
                "VALUES (?, ?, ?, 'active', ?)",
                (case_number, _hash_pin(pin), b.id, now()),
            )
            for row in rows:
                self._insert_entry(b.id, row, "submission", case_number, note, sub_id, True)
            self._audit(
                "submission.create",
                actor=actor,
                bank_id=b.id,
                submission_id=sub_id,
                case_number=case_number,
                hashes=len(rows),
            )
        return case_number, pin

    def get_submission(self, case_number: str, pin: str) -> Submission:
        row = self.db.query_one(
            "SELECT * FROM bank_submissions WHERE case_number = ?", (case_number.strip().upper(),)
        )
        if row is None:
            raise NotFoundError(f"no submission {case_number!r}; check the case number")
        if not _check_pin(str(pin).strip(), row["pin_hash"]):
            raise AuthError(f"wrong PIN for submission {case_number!r}")
        ids = tuple(
            int(r["id"])
            for r in self.db.query(
                "SELECT id FROM bank_entries WHERE submission_id = ? ORDER BY id", (row["id"],)
            )
        )
        return Submission(
            id=int(row["id"]),
            case_number=row["case_number"],
            bank_id=int(row["bank_id"]),
            status=row["status"],
            created_at=row["created_at"],
            withdrawn_at=row["withdrawn_at"],
            entry_ids=ids,
        )

    def withdraw_submission(
        self, case_number: str, pin: str, *, actor: str = "submitter", reason: str = ""
    ) -> int:
        """Withdraw a submission: its hashes stop matching on the next query. Returns how many
        entries were removed (0 when it was already withdrawn)."""
        sub = self.get_submission(case_number, pin)
        if sub.status == "withdrawn":
            return 0
        stamp = now()
        with self.db.transaction():
            self.db.execute(
                "UPDATE bank_entries SET removed_at = ? WHERE submission_id = ? AND "
                "removed_at IS NULL",
                (stamp, sub.id),
            )
            self.db.execute(
                "UPDATE bank_submissions SET status = 'withdrawn', withdrawn_at = ? WHERE id = ?",
                (stamp, sub.id),
            )
            self._audit(
                "submission.withdraw",
                actor=actor,
                reason=reason,
                bank_id=sub.bank_id,
                submission_id=sub.id,
                entries=len(sub.entry_ids),
            )
        if self._live is not None:
            self._live.remove(sub.entry_ids)
        return len(sub.entry_ids)

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


def _check_settings(threshold: int, enable_ratio: float) -> None:
    if not isinstance(threshold, int) or not 0 <= threshold <= 128:
        raise BankError(f"threshold {threshold!r} must be an integer from 0 to 128 (default 31)")
    if not 0.0 <= float(enable_ratio) <= 1.0:
        raise BankError(f"enable ratio {enable_ratio!r} must be between 0.0 and 1.0")
