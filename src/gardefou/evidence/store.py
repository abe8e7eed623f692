"""The evidence store: preserve content, record its chain of custody, enforce holds and retention.

Every act on evidence is an entry of the Merkle log (``EvidenceLog``): ``preserve`` (content
kept: its SHA-256, kind, size, labels), ``custody`` (who did what, when and why: accessed,
exported, ...), ``hold`` / ``release`` (legal holds), ``delete`` (retention expiry or an
authorised deletion). So the chain of custody is as tamper-evident as the evidence itself.

Legal holds select evidence by account, bank, kind, a time range of preservation, or a query
(label equality, e.g. ``{"case": "c-41"}``); any active hold blocks deletion, including by the
retention sweep. Account and bank values are the platform's opaque identifiers, never names.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from gardefou import clock
from gardefou.errors import ConfigError, EvidenceError, LegalHoldError, NotFoundError
from gardefou.evidence.blobs import BlobStore, check_address
from gardefou.evidence.keys import EvidenceKeys
from gardefou.evidence.log import EvidenceLog, Receipt
from gardefou.store.db import Database

#: Default retention in days per kind; laws and platform policies differ, so it is configurable.
DEFAULT_RETENTION_DAYS = {"media": 180, "request": 365, "decision": 1825, "report": 1825}
FALLBACK_RETENTION_DAYS = 365


@dataclass(frozen=True)
class Hold:
    name: str
    reason: str
    placed_by: str
    account: str | None = None
    bank: str | None = None
    kind: str | None = None
    time_from: str | None = None  # ISO date/time, inclusive
    time_to: str | None = None  # ISO date/time, exclusive
    match: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not any((self.account, self.bank, self.kind, self.time_from, self.time_to, self.match)):
            raise ConfigError(
                f"hold {self.name!r} selects nothing: give an account, bank, kind, time range "
                "or match"
            )

    def covers(self, blob: Mapping[str, Any]) -> bool:
        labels = json.loads(blob["labels_json"]) if blob.get("labels_json") else {}
        return (
            (self.account is None or blob.get("account") == self.account)
            and (self.bank is None or blob.get("bank") == self.bank)
            and (self.kind is None or blob.get("kind") == self.kind)
            and (self.time_from is None or blob["stored_at"] >= self.time_from)
            and (self.time_to is None or blob["stored_at"] < self.time_to)
            and all(str(labels.get(k)) == str(v) for k, v in self.match.items())
        )

    def scope(self) -> dict[str, Any]:
        return {k: v for k, v in (("account", self.account), ("bank", self.bank),
                                  ("kind", self.kind), ("time_from", self.time_from),
                                  ("time_to", self.time_to), ("match", self.match or None))
                if v}  # fmt: skip


class EvidenceStore:
    def __init__(
        self,
        db: Database,
        blob_dir: str | os.PathLike[str],
        keys: EvidenceKeys,
        retention_days: Mapping[str, int] | None = None,
        origin: str = "gardefou",
    ) -> None:
        self.db = db
        self.keys = keys
        self.blobs = BlobStore(Path(blob_dir), keys.blob_key)
        self.log = EvidenceLog(db, keys.signer, origin)
        self.retention_days = dict(
            DEFAULT_RETENTION_DAYS if retention_days is None else retention_days
        )

    # -- preserve / access / delete ----------------------------------------------------------------
    def preserve(
        self,
        data: bytes,
        kind: str,
        actor: str,
        reason: str,
        account: str | None = None,
        bank: str | None = None,
        labels: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> Receipt:
        """Keep ``data`` encrypted, log it, and return the log receipt (with inclusion proof)."""
        sha = self.blobs.put(data)
        labels = dict(labels or {})
        existing = self.db.query_one(
            "SELECT entry_seq, deleted_at FROM evidence_blobs WHERE sha256 = ?", (sha,)
        )
        if existing and existing["deleted_at"] is None:
            return self._custody(sha, actor, "preserved_again", reason)
        when = now or clock.utcnow()
        days = self.retention_days.get(kind, FALLBACK_RETENTION_DAYS)
        stored_at = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        retain_until = (when + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        fields = {"sha256": sha, "evidence_kind": kind, "byte_size": len(data), "actor": actor,
                  "reason": reason, "account": account, "bank": bank, "labels": labels,
                  "retain_until": retain_until}  # fmt: skip

        def index_blob(db: Database, seqs: list[int]) -> None:
            db.execute("DELETE FROM evidence_blobs WHERE sha256 = ?", (sha,))
            db.execute(
                "INSERT INTO evidence_blobs (sha256, kind, byte_size, account, bank, labels_json,"
                " stored_at, retain_until, deleted_at, entry_seq) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (sha, kind, len(data), account, bank, json.dumps(labels, sort_keys=True),
                 stored_at, retain_until, None, seqs[0]),
            )  # fmt: skip

        return self.log.append_many([("preserve", fields, sha)], extra_sql=index_blob)[0]

    def _custody(self, sha: str, actor: str, action: str, reason: str, **extra: Any) -> Receipt:
        fields = {"sha256": sha, "actor": actor, "action": action, "reason": reason, **extra}
        return self.log.append("custody", fields, subject=sha)

    def access(self, sha256: str, actor: str, reason: str) -> bytes:
        """Read preserved content; the access itself is logged before the bytes are returned."""
        self.blob_row(sha256)
        data = self.blobs.get(sha256)
        self._custody(sha256, actor, "accessed", reason)
        return data

    def record(self, sha256: str, actor: str, action: str, reason: str) -> Receipt:
        """Log any other custody event (handed to police, reviewed, ...)."""
        self.blob_row(sha256)
        return self._custody(sha256, actor, action, reason)

    def blob_row(self, sha256: str) -> dict[str, Any]:
        row = self.db.query_one(
            "SELECT * FROM evidence_blobs WHERE sha256 = ?", (check_address(sha256),)
        )
        if row is None:
            raise NotFoundError(f"no evidence with SHA-256 {sha256}")
        return row

    def holds_covering(self, blob: Mapping[str, Any]) -> list[Hold]:
        return [h for h in self.active_holds() if h.covers(blob)]

    def delete(self, sha256: str, actor: str, reason: str, _action: str = "deleted") -> Receipt:
        """Delete preserved content (the log keeps its hash). Refused while a hold covers it."""
        blob = self.blob_row(sha256)
        if blob["deleted_at"] is not None:
            raise EvidenceError(f"evidence {sha256} was already deleted at {blob['deleted_at']}")
        held = self.holds_covering(blob)
        if held:
            names = ", ".join(h.name for h in held)
            raise LegalHoldError(
                f"evidence {sha256} is under legal hold ({names}); release the hold first"
            )
        receipt = self.log.append("delete", {"sha256": sha256, "actor": actor, "action": _action,
                                             "reason": reason}, subject=sha256)  # fmt: skip
        self.db.execute(
            "UPDATE evidence_blobs SET deleted_at = ? WHERE sha256 = ?", (clock.now_z(), sha256)
        )
        self.blobs.delete(sha256)
        return receipt

    def purge_expired(
        self, now: datetime | None = None, actor: str = "retention"
    ) -> dict[str, int]:
        """Delete content past its retention date unless a hold covers it."""
        stamp = (now or clock.utcnow()).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        rows = self.db.query(
            "SELECT * FROM evidence_blobs WHERE deleted_at IS NULL AND retain_until <= ?", (stamp,)
        )
        holds = self.active_holds()
        deleted = kept = 0
        for row in rows:
            if any(h.covers(row) for h in holds):
                kept += 1
                continue
            self.delete(row["sha256"], actor, f"retention expired {row['retain_until']}",
                        _action="retention_expired")  # fmt: skip
            deleted += 1
        return {"expired": len(rows), "deleted": deleted, "kept_by_hold": kept}

    # -- holds -----------------------------------------------------------------------------------
    def place_hold(self, hold: Hold) -> Receipt:
        if self.db.query_one("SELECT id FROM evidence_holds WHERE name = ?", (hold.name,)):
            raise ConfigError(f"a hold named {hold.name!r} already exists; choose another name")
        fields = {"hold": hold.name, "actor": hold.placed_by, "reason": hold.reason,
                  "scope": hold.scope()}  # fmt: skip
        receipt = self.log.append("hold", fields)
        self.db.execute(
            "INSERT INTO evidence_holds (name, reason, placed_by, placed_at, account, bank, kind, "
            "time_from, time_to, match_json) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (hold.name, hold.reason, hold.placed_by, clock.now_z(), hold.account, hold.bank,
             hold.kind, hold.time_from, hold.time_to, json.dumps(hold.match, sort_keys=True)),
        )  # fmt: skip
        return receipt

    def release_hold(self, name: str, actor: str, reason: str) -> Receipt:
        row = self.db.query_one(
            "SELECT id FROM evidence_holds WHERE name = ? AND released_at IS NULL", (name,)
        )
        if row is None:
            raise NotFoundError(
                f"no active hold named {name!r} (see `gardefou evidence hold list`)"
            )
        receipt = self.log.append("release", {"hold": name, "actor": actor, "reason": reason})
        self.db.execute(
            "UPDATE evidence_holds SET released_at = ?, released_by = ? WHERE id = ?",
            (clock.now_z(), actor, row["id"]),
        )
        return receipt

    def holds(self, include_released: bool = False) -> list[dict[str, Any]]:
        sql = "SELECT * FROM evidence_holds"
        if not include_released:
            sql += " WHERE released_at IS NULL"
        return self.db.query(sql + " ORDER BY id")

    def active_holds(self) -> list[Hold]:
        return [self._hold(r) for r in self.holds()]

    def hold(self, name: str) -> Hold:
        row = self.db.query_one("SELECT * FROM evidence_holds WHERE name = ?", (name,))
        if row is None:
            raise NotFoundError(f"no hold named {name!r} (see `gardefou evidence hold list`)")
        return self._hold(row)

    @staticmethod
    def _hold(r: Mapping[str, Any]) -> Hold:
        return Hold(r["name"], r["reason"], r["placed_by"], r["account"], r["bank"], r["kind"],
                    r["time_from"], r["time_to"], json.loads(r["match_json"] or "{}"))  # fmt: skip

    def held_blobs(self, name: str) -> list[dict[str, Any]]:
        hold = self.hold(name)
        return [b for b in self.db.query("SELECT * FROM evidence_blobs ORDER BY entry_seq")
                if hold.covers(b)]  # fmt: skip
