"""Video banks: vPDQ entries (frame-hash lists), matched as the reference defines it.

Two videos match when, after dropping frames below the bank's quality and keeping each distinct
frame hash once, the share of the query's hashes that have a hash within the bank's distance in
the entry (``query_pct``) and the share of the entry's hashes that have one in the query
(``entry_pct``) reach the bank's thresholds (python-threatexchange's defaults: distance 31,
quality 50, query 80 %, entry 0 %). An identical file (same MD5) always matches.

``VideoIndex`` answers that for every entry of every bank at once: all entries' distinct frame
hashes are rows of one exact ``HashIndex`` (the PDQ bank index) with a row -> (entry, variant)
map, so a query costs one radius search of its frame hashes, however many videos are banked
(100k clips of ~20 distinct frame hashes each are 2M rows). Each entry and query may carry a
second variant, its frames with black bars cropped (``VideoHashes.cropped``); the best pair of
variants counts.

Frame-level matching against image banks (a victim's photo inside a clip) is
``match_frames``: every usable frame hash goes to ``BankService.match`` labelled with its
timestamp.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gardefou.banks.index import HashIndex
from gardefou.errors import BankError, ConfigError, NotFoundError
from gardefou.signals.pdq_core import hexes_to_words
from gardefou.signals.vpdq import (
    DISTANCE_THRESHOLD,
    INDEX_MATCH_PCT,
    QUALITY_THRESHOLD,
    QUERY_MATCH_PCT,
    VideoHashes,
    VpdqFeature,
    prepare,
)


@dataclass(frozen=True)
class VideoBank:
    name: str
    distance: int = DISTANCE_THRESHOLD
    quality: int = QUALITY_THRESHOLD
    query_pct: float = QUERY_MATCH_PCT
    entry_pct: float = INDEX_MATCH_PCT
    negative: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.distance <= 64:
            raise ConfigError(f"video bank {self.name!r}: distance {self.distance} not in 0-64")
        if not 0 <= self.quality <= 100:
            raise ConfigError(f"video bank {self.name!r}: quality {self.quality} not in 0-100")
        for name in ("query_pct", "entry_pct"):
            value = getattr(self, name)
            if not 0.0 <= value <= 100.0:
                raise ConfigError(f"video bank {self.name!r}: {name} {value} not in 0-100")


@dataclass(frozen=True)
class VideoEntry:
    id: int
    bank: str
    features: tuple[VpdqFeature, ...]
    cropped: tuple[VpdqFeature, ...] = ()
    md5: str | None = None
    sha256: str | None = None
    source: str = ""
    case_id: str | None = None
    note: str = ""
    enabled: bool = True

    def variants(self) -> list[tuple[VpdqFeature, ...]]:
        return [self.features] + ([self.cropped] if self.cropped else [])


@dataclass(frozen=True)
class VideoMatch:
    bank: str
    entry_id: int
    query_pct: float
    entry_pct: float
    negative: bool = False
    md5: bool = False  # the same file
    cropped: bool = False  # decided by a bar-cropped variant
    #: up to 5 deciding frame pairs: (query timestamp, entry timestamp, distance)
    frames: tuple[tuple[float, float, int], ...] = ()
    case_id: str | None = None
    source: str = ""
    #: False for an anonymous submission no moderator has confirmed: review only, never removal
    confirmed: bool = True

    @property
    def actionable(self) -> bool:
        return not self.negative

    def explain(self) -> str:
        if self.md5:
            return f"video bank {self.bank!r} entry {self.entry_id}: identical file (MD5)"
        at = ", ".join(f"{q:.1f}s~{e:.1f}s (d={d})" for q, e, d in self.frames)
        return (
            f"video bank {self.bank!r} entry {self.entry_id}: {self.query_pct:.0f}% of the "
            f"clip's frames and {self.entry_pct:.0f}% of the entry's match"
            + (" (black bars cropped)" if self.cropped else "")
            + (f"; frames {at}" if at else "")
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "bank": self.bank,
            "entry_id": self.entry_id,
            "query_pct": round(self.query_pct, 2),
            "entry_pct": round(self.entry_pct, 2),
            "negative": self.negative,
            "md5": self.md5,
            "cropped": self.cropped,
            "frames": [list(f) for f in self.frames],
            "case_id": self.case_id,
            "confirmed": self.confirmed,
            "actionable": self.actionable,
            "explanation": self.explain(),
        }


@dataclass
class _Rows:
    """Row -> (entry id, variant, timestamp) for the index, plus each entry's distinct counts."""

    entry: list[int] = field(default_factory=list)
    variant: list[int] = field(default_factory=list)
    stamp: list[float] = field(default_factory=list)


class VideoIndex:
    """Every video bank's entries, searchable at once (see the module docstring)."""

    def __init__(self) -> None:
        self.banks: dict[str, VideoBank] = {}
        self.entries: dict[int, VideoEntry] = {}
        self._index = HashIndex()
        self._rows = _Rows()
        self._counts: dict[tuple[int, int], int] = {}  # (entry, variant) -> distinct hashes
        self._md5: dict[str, set[int]] = defaultdict(set)
        self._next_id = 1
        self._pending: list[str] = []  # frame hashes of rows not yet in the index
        self._entry_rows: dict[int, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def build(self) -> None:
        """Index every pending entry now (else the next search does it)."""
        with self._lock:
            self._flush()
            self._index.compact()

    def _flush(self) -> None:
        """Move pending rows into the index (the caller holds the lock)."""
        if self._pending:
            last = len(self._rows.entry)
            keys = np.arange(last - len(self._pending), last, dtype=np.int64)
            self._index.add(keys, hexes_to_words(self._pending))
            self._pending = []

    # -- banks and entries -------------------------------------------------------------------
    def create_bank(self, name: str, **thresholds: Any) -> VideoBank:
        if name in self.banks:
            raise BankError(f"video bank {name!r} already exists")
        bank = VideoBank(name, **thresholds)
        self.banks[name] = bank
        return bank

    def bank(self, name: str) -> VideoBank:
        if name not in self.banks:
            known = ", ".join(sorted(self.banks)) or "none"
            raise NotFoundError(f"video bank {name!r} does not exist (banks: {known})")
        return self.banks[name]

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
        entry_id: int | None = None,
    ) -> VideoEntry:
        """Bank a video's hash list. An entry must keep at least one frame hash of the bank's
        quality (or carry an MD5): an empty list would match nothing and hide a mistake.
        ``entry_id``: the id the store gave it (``banks.video_store``); else the next one."""
        b = self.bank(bank)
        variants = [list(features)] + ([list(cropped)] if cropped else [])
        uniques = [prepare(v, b.quality) for v in variants]
        if not uniques[0] and not md5:
            raise BankError(
                f"video bank {bank!r}: no frame hash of quality >= {b.quality} and no MD5; "
                "this video is too uniform to bank"
            )
        with self._lock:
            eid = self._next_id if entry_id is None else int(entry_id)
            if eid in self.entries:
                raise BankError(f"video entry {eid} is already in the index")
            entry = VideoEntry(
                eid,
                bank,
                tuple(features),
                tuple(cropped),
                md5.lower() if md5 else None,
                sha256.lower() if sha256 else None,
                source,
                case_id,
                note,
            )
            self._next_id = max(self._next_id, eid + 1)
            self.entries[entry.id] = entry
            first = len(self._rows.entry)
            for v, (hexes, feats) in enumerate(zip(uniques, variants, strict=True)):
                stamp: dict[str, float] = {}
                for f in feats:
                    stamp.setdefault(f.pdq_hex, f.timestamp)
                self._counts[(entry.id, v)] = len(hexes)
                self._rows.entry.extend([entry.id] * len(hexes))
                self._rows.variant.extend([v] * len(hexes))
                self._rows.stamp.extend(stamp[h] for h in hexes)
            hexes_all = [h for u in uniques for h in u]
            # rows wait in a pending list and reach the index in one batch at the next search:
            # adding 100k entries one by one would copy the index's delta 100k times
            self._pending.extend(hexes_all)
            self._entry_rows[entry.id] = (first, first + len(hexes_all))
            if entry.md5:
                self._md5[entry.md5].add(entry.id)
        return entry

    def remove(self, entry_id: int) -> None:
        with self._lock:
            entry = self.entries.pop(entry_id, None)
            if entry is None:
                raise NotFoundError(f"video entry {entry_id} does not exist")
            self._flush()
            first, last = self._entry_rows.pop(entry_id)
            self._index.remove(range(first, last))
            if entry.md5:
                self._md5[entry.md5].discard(entry_id)

    def __len__(self) -> int:
        return len(self.entries)

    # -- matching ----------------------------------------------------------------------------
    def match(
        self, query: VideoHashes | Sequence[VpdqFeature], banks: Iterable[str] | None = None
    ) -> list[VideoMatch]:
        """Entries matching ``query`` under their bank's thresholds, best first."""
        if isinstance(query, VideoHashes):
            qvariants, md5 = query.variants(), query.md5
        else:
            qvariants, md5 = [list(query)], None
        wanted = {self.bank(b).name for b in banks} if banks is not None else set(self.banks)
        min_quality = min((self.banks[b].quality for b in wanted), default=QUALITY_THRESHOLD)
        radius = max((self.banks[b].distance for b in wanted), default=DISTANCE_THRESHOLD)
        results: dict[int, VideoMatch] = {}
        for eid in self._md5.get(md5 or "", set()):
            e = self.entries.get(eid)
            if e is not None and e.bank in wanted:
                results[eid] = self._result(e, 100.0, 100.0, True, False, ())
        # query rows: every (variant, distinct hash) at the loosest quality; the per-bank
        # quality is applied below by the hash's own quality
        qhex, qvar, qstamp, qqual = [], [], [], []
        for v, feats in enumerate(qvariants):
            best: dict[str, VpdqFeature] = {}
            for f in feats:
                if f.quality >= min_quality and f.pdq_hex not in best:
                    best[f.pdq_hex] = f
            for h, f in best.items():
                qhex.append(h)
                qvar.append(v)
                qstamp.append(f.timestamp)
                qqual.append(f.quality)
        if not qhex:
            return sorted(results.values(), key=_order)
        with self._lock:
            self._flush()
        hits = self._index.search(hexes_to_words(qhex), radius)
        # (entry, qvariant, evariant) -> (query rows hit, entry rows hit, deciding frames)
        groups: dict[tuple[int, int, int], tuple[set[int], set[int], list[Any]]] = {}
        rows = self._rows
        for qi, key, dist in zip(
            hits.query.tolist(), hits.key.tolist(), hits.distance.tolist(), strict=True
        ):
            eid = rows.entry[key]
            entry = self.entries.get(eid)
            if entry is None or entry.bank not in wanted or eid in results:
                continue
            bank = self.banks[entry.bank]
            if dist > bank.distance or qqual[qi] < bank.quality:
                continue
            g = groups.setdefault((eid, qvar[qi], rows.variant[key]), (set(), set(), []))
            g[0].add(qi)
            g[1].add(key)
            g[2].append((qstamp[qi], rows.stamp[key], dist))
        totals: dict[tuple[int, int], int] = {}
        best_by_entry: dict[int, VideoMatch] = {}
        for (eid, qv, ev), (qrows, erows, frames) in groups.items():
            entry, bank = self.entries[eid], self.banks[self.entries[eid].bank]
            if (qv, bank.quality) not in totals:
                totals[(qv, bank.quality)] = sum(
                    1 for v, q in zip(qvar, qqual, strict=True) if v == qv and q >= bank.quality
                )
            q_total = totals[(qv, bank.quality)]
            e_total = self._counts.get((eid, ev), 0)
            if not q_total or not e_total:
                continue
            q_pct, e_pct = 100.0 * len(qrows) / q_total, 100.0 * len(erows) / e_total
            if q_pct < bank.query_pct or e_pct < bank.entry_pct:
                continue
            frames.sort(key=lambda f: (f[2], f[0]))
            m = self._result(entry, q_pct, e_pct, False, bool(qv or ev), tuple(frames[:5]))
            old = best_by_entry.get(eid)
            if old is None or (m.query_pct, m.entry_pct) > (old.query_pct, old.entry_pct):
                best_by_entry[eid] = m
        results.update(best_by_entry)
        return sorted(results.values(), key=_order)

    def _result(
        self,
        e: VideoEntry,
        q_pct: float,
        e_pct: float,
        md5: bool,
        cropped: bool,
        frames: tuple[tuple[float, float, int], ...],
    ) -> VideoMatch:
        return VideoMatch(
            e.bank,
            e.id,
            q_pct,
            e_pct,
            self.banks[e.bank].negative,
            md5,
            cropped,
            frames,
            e.case_id,
            e.source,
            not (e.source == "submission" and e.note != "confirmed"),
        )


def _order(m: VideoMatch) -> tuple[Any, ...]:
    return (not m.md5, -m.query_pct, -m.entry_pct, m.entry_id)


def match_hashes(
    a: VideoHashes, b: VideoHashes, distance: int = DISTANCE_THRESHOLD, quality: int = 50
) -> tuple[float, float, bool]:
    """Two videos, both ways: the best (a %, b %) over their variants, and whether a cropped
    variant decided it."""
    from gardefou.signals.vpdq import match_percent

    best = (0.0, 0.0, False)
    for i, x in enumerate(a.variants()):
        for j, y in enumerate(b.variants()):
            p, q = match_percent(x, y, distance, quality)
            if (p, q) > best[:2]:
                best = (p, q, bool(i or j))
    return best


def match_frames(service: Any, features: Sequence[VpdqFeature], **kwargs: Any) -> list[Any]:
    """Image-bank matches of a video's frames (``BankService.match``); each match's ``query``
    names the frame, ``frame@12.000s``. Frames below quality 50 are not sent."""
    labelled: dict[str, str] = {}
    for f in features:
        if f.quality >= QUALITY_THRESHOLD:
            labelled.setdefault(f"frame@{f.timestamp:.3f}s", f.pdq_hex)
    if not labelled:
        return []
    return list(service.match(labelled, **kwargs))


__all__ = [
    "VideoBank",
    "VideoEntry",
    "VideoIndex",
    "VideoMatch",
    "match_frames",
    "match_hashes",
]
