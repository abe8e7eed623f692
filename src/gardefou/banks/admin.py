"""Bank administration (create, settings, rename, delete), mixed into BankService."""

from __future__ import annotations

import re
from typing import Any

from gardefou.banks.core import BankCore
from gardefou.banks.models import DEFAULT_THRESHOLD, Bank
from gardefou.clock import now
from gardefou.errors import BankError

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
#: names the HTTP API uses as path words beside bank names (`/v1/banks/entries/{id}`,
#: `/v1/video-banks/entries/{id}`): a bank so named could not be reached by its own routes
RESERVED_NAMES = frozenset({"entries"})


def check_bank_name(name: object, what: str = "bank") -> str:
    """``name`` if it can name a bank (image or video), else BankError saying what to use."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise BankError(
            f"{what} name {name!r} is invalid: use 1-64 letters, digits, '_', '.', "
            "'-', starting with a letter or digit"
        )
    if name.lower() in RESERVED_NAMES:
        raise BankError(
            f"{what} name {name!r} is reserved (the HTTP API uses it as a path word); "
            "pick another name"
        )
    return name


class BankAdmin(BankCore):
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
        check_bank_name(name)
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
        changes: dict[str, Any] = {
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
            int(threshold if threshold is not None else b.threshold),
            float(enable_ratio if enable_ratio is not None else b.enable_ratio),
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
        check_bank_name(new_name)
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


def _check_settings(threshold: int, enable_ratio: float) -> None:
    if not isinstance(threshold, int) or not 0 <= threshold <= 128:
        raise BankError(f"threshold {threshold!r} must be an integer from 0 to 128 (default 31)")
    if not 0.0 <= float(enable_ratio) <= 1.0:
        raise BankError(f"enable ratio {enable_ratio!r} must be between 0.0 and 1.0")
