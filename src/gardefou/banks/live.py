"""Keeps a HashIndex in step with the bank_entries table, persisted beside the database.

The table is the source of truth; the index is a cache that is never wrong in the dangerous
direction. Entry ids only grow, so the index records the highest id it holds (its
"high-water mark") and, before each search, pulls rows above it: a new entry is matchable on
the very next query, in this process or any other sharing the database. Removal and
disabling are checked against the table for every hit, so a withdrawn entry stops matching at
once even in a process whose index still holds it.

On disk (SQLite: ``<db>.bankindex/`` beside the file; PostgreSQL: $GARDEFOU_BANK_INDEX_DIR) a
restart memory-maps the last generation and catches up from the high-water mark, instead of
rebuilding 10M hashes from rows.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from gardefou.banks.index import DEFAULT_DELTA_LIMIT, HashIndex, Hits, read_manifest
from gardefou.signals.pdq_core import hexes_to_words
from gardefou.store.db import Database

log = logging.getLogger(__name__)
_FETCH = 100_000
#: ids re-checked on PostgreSQL for rows that committed out of id order
_LOOKBACK = 1000


def db_is_pg(db: Database) -> bool:
    return db.dialect != "sqlite"


def default_index_dir(db: Database) -> Path | None:
    env = os.environ.get("GARDEFOU_BANK_INDEX_DIR")
    if env:
        return Path(env)
    if db.dialect == "sqlite" and db.url not in (":memory:", ""):
        return Path(db.url + ".bankindex")
    return None


class LiveIndex:
    def __init__(self, db: Database, folder: Path | None, delta_limit: int = DEFAULT_DELTA_LIMIT):
        self.db = db
        self.folder = folder
        self.delta_limit = delta_limit
        self.high_water = 0
        self._recent: set[int] = set()  # ids near the mark known to be in the index
        self._manifest_mtime = 0.0
        self._lock = threading.RLock()
        self.index = self._open()

    # -- open / rebuild --------------------------------------------------------------------------
    def _rows_upto(self, high_water: int) -> int:
        row = self.db.query_one(
            "SELECT COUNT(*) AS n FROM bank_entries WHERE id <= ?", (high_water,)
        )
        return int(row["n"]) if row else 0

    def _open(self) -> HashIndex:
        if self.folder is not None:
            manifest = read_manifest(self.folder)
            if manifest is not None:
                hw = int(manifest.get("high_water", 0))
                if self._rows_upto(hw) == int(manifest.get("rows_upto_high_water", -1)):
                    try:
                        index = HashIndex.load(self.folder)
                    except Exception as exc:  # noqa: BLE001 - any damage means rebuild
                        log.warning("bank index unusable (%s); rebuilding from rows", exc)
                    else:
                        index.delta_limit = 1 << 62  # LiveIndex decides when to fold
                        self.high_water = hw
                        self._recent = self._window() if db_is_pg(self.db) else set()
                        self._manifest_mtime = self._mtime()
                        dead = self.db.query(
                            "SELECT id FROM bank_entries WHERE removed_at IS NOT NULL AND id <= ?",
                            (hw,),
                        )
                        index.remove(int(r["id"]) for r in dead)
                        self.index = index
                        self.refresh()
                        return index
                else:
                    log.warning(
                        "bank index in %s does not match the database; rebuilding", self.folder
                    )
        return self.rebuild()

    def rebuild(self) -> HashIndex:
        """Build from every live row (what `gardefou bank reindex` does) and persist it."""
        with self._lock:
            keys: list[np.ndarray] = []
            words: list[np.ndarray] = []
            high_water = 0
            while True:
                batch = self._fetch(high_water)
                if not batch:
                    break
                k, w = self._expand(batch)
                keys.append(k)
                words.append(w)
                high_water = int(batch[-1]["id"])
            if keys:
                self.index = HashIndex.build(np.concatenate(keys), np.concatenate(words))
            else:
                self.index = HashIndex()
            self.index.delta_limit = 1 << 62
            self.high_water = high_water
            self._recent = self._window() if db_is_pg(self.db) else set()
            self.persist()
            return self.index

    def _fetch(self, after: int) -> list[dict]:
        return self.db.query(
            "SELECT id, pdq, extra_pdq FROM bank_entries WHERE id > ? AND removed_at IS NULL "
            "ORDER BY id LIMIT ?",
            (after, _FETCH),
        )

    @staticmethod
    def _expand(rows: list[dict]) -> tuple[np.ndarray, np.ndarray]:
        keys: list[int] = []
        hexes: list[str] = []
        for r in rows:
            for h in [r["pdq"], *(r["extra_pdq"] or "").split()]:
                keys.append(int(r["id"]))
                hexes.append(h)
        return np.array(keys, dtype=np.int64), hexes_to_words(hexes)

    def _mtime(self) -> float:
        try:
            return (self.folder / "manifest.json").stat().st_mtime if self.folder else 0.0
        except OSError:
            return 0.0

    # -- keeping up ------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Pull rows added since the high-water mark (and a newer on-disk generation)."""
        with self._lock:
            if self.folder is not None and self._mtime() > self._manifest_mtime:
                manifest = read_manifest(self.folder) or {}
                if int(manifest.get("high_water", 0)) > self.high_water:
                    self.index = self._open()
                    return
            self._pull(persist=True)

    def _window(self) -> set[int]:
        rows = self.db.query(
            "SELECT id FROM bank_entries WHERE id > ? AND id <= ? AND removed_at IS NULL",
            (self.high_water - _LOOKBACK, self.high_water),
        )
        return {int(r["id"]) for r in rows}

    def _pull(self, persist: bool) -> None:
        if self.db.dialect != "sqlite":
            # PostgreSQL hands out ids before commit: a row with a lower id can become visible
            # after a higher one was pulled. Re-check the last _LOOKBACK ids for such rows.
            late = sorted(self._window() - self._recent)
            if late:
                marks = ", ".join("?" for _ in late)
                rows = self.db.query(
                    f"SELECT id, pdq, extra_pdq FROM bank_entries WHERE id IN ({marks})", late
                )
                self.index.add(*self._expand(rows))
                self._recent.update(late)
        while True:
            rows = self._fetch(self.high_water)
            if not rows:
                break
            self.index.add(*self._expand(rows))
            self.high_water = int(rows[-1]["id"])
            if self.db.dialect != "sqlite":
                self._recent.update(int(r["id"]) for r in rows)
            if len(rows) < _FETCH:
                break
        if len(self._recent) > 4 * _LOOKBACK:
            self._recent = {i for i in self._recent if i > self.high_water - _LOOKBACK}
        if self.index.delta_size > self.delta_limit:
            if persist:
                self.persist()
            else:
                self.index.compact()

    def remove(self, entry_ids: Iterable[int]) -> None:
        with self._lock:
            self.index.remove(entry_ids)

    def search(self, qwords: np.ndarray, radius: int) -> Hits:
        self.refresh()
        return self.index.search(qwords, radius)

    def persist(self) -> None:
        """Compact and write a new generation (no-op without a folder)."""
        with self._lock:
            if self.folder is None:
                self.index.compact()
                return
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(self.folder / ".lock", "a+") as lock_file:
                fcntl.flock(lock_file, fcntl.LOCK_EX)  # one writer at a time across processes
                started = time.perf_counter()
                meta = {
                    "high_water": self.high_water,
                    "rows_upto_high_water": self._rows_upto(self.high_water),
                }
                self.index.save(self.folder, meta)
                self._manifest_mtime = self._mtime()
                log.info(
                    "bank index saved: %d rows, generation %d, %.1fs",
                    len(self.index),
                    self.index.generation,
                    time.perf_counter() - started,
                )
