"""Video banks in the store: the tables of migration 0020, and the ``VideoIndex`` built from them.

Every process (CLI, web workers, pipeline) writes entries with one INSERT in a transaction, so
two writers at once both keep their entry, which the JSON Lines file of earlier versions could
not promise (the last atomic replace won). Each process keeps one ``VideoIndex`` and brings it
up to date before a search: rows with an id above the last one it read are added (writers take
the table's write lock first, so ids become visible in order on PostgreSQL as on SQLite), and
when the store holds fewer active entries than the index, removed ones are dropped. A search
after another process's takedown therefore sees its clip, at the cost of two small queries.

A JSON Lines store of an earlier version is imported once (``import_jsonl``): the file's digest
is recorded in the same transaction as its entries, so processes starting together import it
once, and a file changed afterwards is not imported again without being asked (``force``).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from gardefou.banks import video_audit
from gardefou.banks.admin import check_bank_name
from gardefou.banks.video import VideoBank, VideoEntry, VideoIndex, VideoMatch
from gardefou.banks.video_formats import load
from gardefou.clock import now
from gardefou.errors import BankError, NotFoundError
from gardefou.signals.vpdq import VideoHashes, VpdqFeature
from gardefou.store.db import Database

#: the bank that accepted takedown requests and hash-only submissions feed (a victim bank)
VICTIM_VIDEO_BANK = "victim-videos"
#: rows read per query while building the index (bounds the memory of one fetch)
_CHUNK = 2_000
_THRESHOLDS = ("distance", "quality", "query_pct", "entry_pct", "negative")


def _dump(features: Sequence[VpdqFeature]) -> str:
    return json.dumps(
        [[f.pdq_hex, f.quality, f.timestamp, f.frame_number] for f in features],
        separators=(",", ":"),
    )


def _parse(text: str) -> list[VpdqFeature]:
    return [VpdqFeature(str(h), int(q), float(t), int(n)) for h, q, t, n in json.loads(text)]


class VideoBankStore:
    """Video banks and entries in a ``Database``; ``index()`` / ``match()`` search them."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._index = VideoIndex()
        self._bank_ids: dict[str, int] = {}
        self._last = 0  # highest entry id read into the index
        self._lock = threading.RLock()

    # -- banks -------------------------------------------------------------------------------
    def create_bank(self, name: str, **thresholds: Any) -> VideoBank:
        check_bank_name(name, "video bank")
        bank = VideoBank(name, **thresholds)  # validates the thresholds (ConfigError)
        if self.db.query_one("SELECT id FROM video_banks WHERE name = ?", (name,)):
            raise BankError(f"video bank {name!r} already exists")
        self._insert_bank(bank)
        return bank

    def ensure_bank(self, name: str, **thresholds: Any) -> VideoBank:
        """The bank, created with ``thresholds`` when missing (safe when processes race)."""
        if not self.db.query_one("SELECT id FROM video_banks WHERE name = ?", (name,)):
            check_bank_name(name, "video bank")  # a bank made before the check still opens
        self._insert_bank(VideoBank(name, **thresholds))
        return self.bank(name)

    def _insert_bank(self, bank: VideoBank) -> None:
        self.db.execute(
            "INSERT INTO video_banks (name, distance, quality, query_pct, entry_pct, negative, "
            "created_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT (name) DO NOTHING",
            (
                bank.name,
                bank.distance,
                bank.quality,
                bank.query_pct,
                bank.entry_pct,
                int(bank.negative),
                now(),
            ),
        )

    def banks(self) -> dict[str, VideoBank]:
        rows = self.db.query("SELECT * FROM video_banks ORDER BY id")
        return {
            r["name"]: VideoBank(
                r["name"],
                int(r["distance"]),
                int(r["quality"]),
                float(r["query_pct"]),
                float(r["entry_pct"]),
                bool(r["negative"]),
            )
            for r in rows
        }

    def bank(self, name: str) -> VideoBank:
        banks = self.banks()
        if name not in banks:
            known = ", ".join(sorted(banks)) or "none"
            raise NotFoundError(f"video bank {name!r} does not exist (banks: {known})")
        return banks[name]

    def bank_id(self, name: str) -> int:
        row = self.db.query_one("SELECT id FROM video_banks WHERE name = ?", (name,))
        if row is None:
            self.bank(name)  # raises NotFoundError naming the known banks
        assert row is not None
        return int(row["id"])

    # -- entries -----------------------------------------------------------------------------
    def add(
        self,
        bank: str,
        features: Sequence[VpdqFeature],
        *,
        cropped: Sequence[VpdqFeature] = (),
        md5: str | None = None,
        sha256: str | None = None,
        source: str = "",
        case_id: str | None = None,
        note: str = "",
    ) -> VideoEntry:
        """Bank one clip's hashes; the entry with its store id."""
        return self.add_many(
            bank,
            [
                dict(
                    features=features,
                    cropped=cropped,
                    md5=md5,
                    sha256=sha256,
                    source=source,
                    case_id=case_id,
                    note=note,
                )
            ],
        )[0]

    def add_many(self, bank: str, rows: Iterable[dict[str, Any]]) -> list[VideoEntry]:
        """Bank several clips in one transaction (all or none). Each row is validated as
        ``VideoIndex.add`` does (a clip with no usable frame hash and no MD5 is refused)."""
        b = self.bank(bank)
        check = VideoIndex()
        check.banks[b.name] = b
        entries = [check.add(bank, **r) for r in rows]  # BankError before anything is written
        bank_id = self.bank_id(bank)
        out = []
        with self.db.transaction():
            self._write_lock()
            for e in entries:
                eid = self.db.insert(
                    "INSERT INTO video_bank_entries (bank_id, features, cropped, md5, sha256, "
                    "source, case_id, note, added_at) VALUES (?,?,?,?,?,?,?,?,?)",
                    (
                        bank_id,
                        _dump(e.features),
                        _dump(e.cropped),
                        e.md5,
                        e.sha256,
                        e.source,
                        e.case_id,
                        e.note,
                        now(),
                    ),
                )
                out.append(VideoEntry(eid, *_fields(e)))
        return out

    def remove(self, entry_id: int, *, actor: str | None = None, reason: str = "") -> None:
        """Take an entry out of matching for good (its row and an audit row stay). Every
        process's index drops it before its next search (``_refresh``)."""
        with self.db.transaction():
            self._write_lock()
            row = self.db.query_one(
                "SELECT id, bank_id FROM video_bank_entries WHERE id = ? AND removed_at IS NULL",
                (int(entry_id),),
            )
            if row is None:
                raise NotFoundError(f"video entry {entry_id} does not exist (or was removed)")
            self.db.execute(
                "UPDATE video_bank_entries SET removed_at = ? WHERE id = ?", (now(), int(entry_id))
            )
            video_audit.record(
                self.db,
                "entry.remove",
                actor=actor,
                bank_id=int(row["bank_id"]),
                entry_id=int(entry_id),
                reason=reason,
            )

    def _write_lock(self) -> None:
        """PostgreSQL: writers one at a time, so entry ids commit in increasing order and a
        reader that has seen id n has seen every id below it (SQLite's BEGIN IMMEDIATE already
        serializes writers). Readers are not blocked."""
        if self.db.dialect == "postgres":
            self.db.execute("LOCK TABLE video_bank_entries IN EXCLUSIVE MODE")

    def entries(self, bank: str | None = None) -> list[VideoEntry]:
        """Active entries (of one bank), oldest first."""
        sql, params = _ROWS + " WHERE e.removed_at IS NULL", []
        if bank is not None:
            sql += " AND b.name = ?"
            params.append(bank)
        return [_entry(r) for r in self.db.query(sql + " ORDER BY e.id", params)]

    def entry_rows(
        self, bank: str, *, limit: int = 1000, offset: int = 0, include_removed: bool = False
    ) -> list[dict[str, Any]]:
        """One page of a bank's entries in id order: hashes and metadata as stored."""
        sql = _ROWS + " WHERE b.name = ?" + ("" if include_removed else " AND e.removed_at IS NULL")
        self.bank(bank)  # NotFoundError naming the known banks
        return self.db.query(sql + " ORDER BY e.id LIMIT ? OFFSET ?", (bank, limit, offset))

    def entry_row(self, entry_id: int) -> dict[str, Any]:
        """One entry, removed or not, as stored."""
        row = self.db.query_one(_ROWS + " WHERE e.id = ?", (int(entry_id),))
        if row is None:
            raise NotFoundError(f"video entry {entry_id} does not exist")
        return row

    def bank_counts(self, bank: str) -> dict[str, int]:
        row = self.db.query_one(
            "SELECT COUNT(*) AS n, SUM(CASE WHEN removed_at IS NULL THEN 1 ELSE 0 END) AS active "
            "FROM video_bank_entries WHERE bank_id = ?",
            (self.bank_id(bank),),
        )
        n, active = (int(row["n"] or 0), int(row["active"] or 0)) if row else (0, 0)
        return {"entries": active, "removed": n - active}

    def __bool__(self) -> bool:
        return True  # a store is configured even while empty (``len`` counts its entries)

    def __len__(self) -> int:
        row = self.db.query_one(
            "SELECT COUNT(*) AS n FROM video_bank_entries WHERE removed_at IS NULL"
        )
        return int(row["n"]) if row else 0

    # -- searching ---------------------------------------------------------------------------
    def index(self) -> VideoIndex:
        """This process's index, brought up to date with the tables."""
        with self._lock:
            self._refresh()
            return self._index

    def match(
        self, query: VideoHashes | Sequence[VpdqFeature], banks: Iterable[str] | None = None
    ) -> list[VideoMatch]:
        return self.index().match(query, banks)

    def _refresh(self) -> None:
        idx = self._index
        for name, bank in self.banks().items():
            if name not in idx.banks:
                idx.banks[name] = bank
        while True:
            rows = self.db.query(
                _ROWS + " WHERE e.id > ? AND e.removed_at IS NULL ORDER BY e.id LIMIT ?",
                (self._last, _CHUNK),
            )
            for r in rows:
                _add(idx, _entry(r))
            if rows:
                self._last = int(rows[-1]["id"])
            if len(rows) < _CHUNK:
                break
        stat = self.db.query_one(
            "SELECT SUM(CASE WHEN removed_at IS NULL AND id <= ? THEN 1 "
            "ELSE 0 END) AS active FROM video_bank_entries",
            (self._last,),
        )
        active = int(stat["active"] or 0) if stat else 0
        if active != len(idx):
            keep = {
                int(r["id"])
                for r in self.db.query(
                    "SELECT id FROM video_bank_entries WHERE removed_at IS NULL AND id <= ?",
                    (self._last,),
                )
            }
            for eid in [e for e in idx.entries if e not in keep]:
                idx.remove(eid)
            for eid in sorted(keep - set(idx.entries)):  # never expected: ids commit in order
                row = self.db.query_one(_ROWS + " WHERE e.id = ?", (eid,))
                if row is not None:
                    _add(idx, _entry(row))

    # -- submissions -------------------------------------------------------------------------
    def set_submission_state(self, case_number: str, state: str) -> int:
        """A hash-only submission's clips follow its review: ``confirmed`` makes their matches
        actionable (note ``confirmed``), ``rejected`` / ``withdrawn`` remove them. An entry is
        replaced, not updated, so every process's index sees the change. Entries changed."""
        case = case_number.strip().upper()
        with self.db.transaction():
            self._write_lock()
            mine = [
                _entry(r)
                for r in self.db.query(
                    _ROWS + " WHERE e.removed_at IS NULL AND e.source = 'submission' "
                    "AND UPPER(e.case_id) = ? ORDER BY e.id",
                    (case,),
                )
            ]
            for e in mine:
                self.remove(e.id, reason=f"submission {case} {state}")
                if state == "confirmed":
                    self.add_many(e.bank, [_row(e, note="confirmed")])
        return len(mine)

    # -- the JSON Lines store of earlier versions --------------------------------------------
    def import_jsonl(self, path: str | Path, *, force: bool = False) -> int:
        """Import a JSON Lines video bank file once (see the module docstring); the entries
        added (0 when this file was imported before, or is missing). Banks that exist in the
        store keep their thresholds."""
        path = Path(path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return 0
        digest = hashlib.sha256(data).hexdigest()
        if not force and self._imported(digest):
            return 0
        old = load(path)  # BankError naming the bad line; nothing is written then
        try:
            with self.db.transaction():
                if self._imported(digest) and not force:
                    return 0
                for bank in old.banks.values():
                    self._insert_bank(bank)
                n = 0
                for name in old.banks:
                    mine = [
                        _row(e)
                        for e in sorted(old.entries.values(), key=lambda e: e.id)
                        if e.bank == name
                    ]
                    n += len(self.add_many(name, mine)) if mine else 0
                self.db.execute(
                    "INSERT INTO video_bank_imports (digest, path, entries, imported_at) "
                    "VALUES (?,?,?,?) ON CONFLICT (digest) DO UPDATE SET entries = "
                    "excluded.entries, imported_at = excluded.imported_at",
                    (digest, str(path), n, now()),
                )
        except Exception:
            if not force and self._imported(digest):  # another process imported it first
                return 0
            raise
        return n

    def _imported(self, digest: str) -> bool:
        return bool(
            self.db.query_one("SELECT 1 AS x FROM video_bank_imports WHERE digest = ?", (digest,))
        )


#: an entry row with its bank's name (the index reads the hash lists, the web API all of it)
_ROWS = (
    "SELECT e.id, b.name AS bank, e.features, e.cropped, e.md5, e.sha256, e.source, e.case_id, "
    "e.note, e.added_at, e.removed_at FROM video_bank_entries e "
    "JOIN video_banks b ON b.id = e.bank_id"
)


def _entry(r: dict[str, Any]) -> VideoEntry:
    return VideoEntry(
        int(r["id"]),
        r["bank"],
        tuple(_parse(r["features"])),
        tuple(_parse(r["cropped"] or "[]")),
        r["md5"],
        r["sha256"],
        r["source"] or "",
        r["case_id"],
        r["note"] or "",
    )


def _fields(e: VideoEntry) -> tuple[Any, ...]:
    return (e.bank, e.features, e.cropped, e.md5, e.sha256, e.source, e.case_id, e.note)


def _row(e: VideoEntry, **changes: Any) -> dict[str, Any]:
    row = dict(
        features=e.features,
        cropped=e.cropped,
        md5=e.md5,
        sha256=e.sha256,
        source=e.source,
        case_id=e.case_id,
        note=e.note,
    )
    row.update(changes)
    return row


def _add(idx: VideoIndex, e: VideoEntry) -> None:
    idx.add(e.bank, **_row(e, entry_id=e.id))


__all__ = ["VICTIM_VIDEO_BANK", "VideoBankStore"]
