"""Exact Hamming-radius search over 256-bit PDQ hashes: multi-index hashing in numpy.

Why it is exact (the pigeonhole argument). Split the 256 bits into m disjoint chunks and give
chunk i a search radius k_i (k_i = -1 means "not searched"). If a stored hash x is within
distance r of the query q, the chunk distances d_i add up to d(q, x) <= r. Were every d_i
> k_i, the sum would be >= sum(k_i + 1). So whenever sum(k_i + 1) >= r + 1, at least one chunk
has d_i <= k_i, and enumerating every chunk value within k_i of the query's chunk finds x.
Each candidate is then verified with a popcount over the full 256 bits, so the answer is
exactly brute force's: 100% recall, no false hits.

Layout: 12 chunks, three per 64-bit word (22 + 21 + 21 bits, none straddling a word). At the
default threshold 31 the planner picks radius 2 on the eight 21-bit chunks and radius 1 on the
four 22-bit chunks (8*3 + 4*2 = 32 = 31 + 1): ~1,950 bucket look-ups and, at 10M random
hashes, ~9,000 candidates per query. Each chunk is a direct-address table (CSR): ``offsets``
(2**bits + 1 uint32) into ``postings`` (row numbers sorted by chunk value). With numba installed
(``gardefou[fast]``) the plan runs compiled (``_index_numba``: probe, gather and verify in one
pass, ~0.3 ms CPU per query at 1M on an AVX2 core against ~1.0 ms for the numpy plan); both give
the same hits, and the numpy plan remains the fallback.

Segments: an immutable *base* (memory-mapped .npy files in a generation folder) and a small
in-memory *delta* of recent additions, searched by a vectorised brute force. Removal marks
keys dead. ``compact()`` folds the delta into a new base (numpy sorts, no database rows).
Writers replace whole arrays (copy-on-write), so a reader thread always sees a consistent
snapshot; other processes pick a new generation up through an atomically replaced manifest.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gardefou.banks.index_plan import (
    CHUNKS,
    MAX_CHUNK_RADIUS,
    WORDS,
    Hits,
    chunk_values,
    dedupe,
    distances,
    neighbour_masks,
    plan_radii,
    row_popcount,
)
from gardefou.errors import BankError

# the plan's names stay importable from here, where callers have always found them
__all__ = [
    "CHUNKS",
    "DEFAULT_DELTA_LIMIT",
    "FORMAT_VERSION",
    "MAX_CHUNK_RADIUS",
    "WORDS",
    "HashIndex",
    "Hits",
    "brute_force",
    "chunk_values",
    "distances",
    "neighbour_masks",
    "plan_radii",
    "read_manifest",
    "row_popcount",
]

FORMAT_VERSION = 1
#: fold the delta into the base once it holds this many rows (brute force stays ~1 ms below it)
DEFAULT_DELTA_LIMIT = 50_000


_KERNEL: list = []  # [] = not decided yet; [None] = numpy plan; [fn] = compiled plan


def _fast_kernel() -> Any:
    """The compiled query plan (``_index_numba``) when numba is installed and it agrees with the
    numpy plan on a fixed index here, else None (the numpy plan: same hits, slower)."""
    if not _KERNEL:
        _KERNEL.append(None)  # while checking (and if anything below fails): the numpy plan
        try:
            from gardefou.banks import _index_numba
        except ImportError:
            return None
        if not _compiled_agrees(_index_numba.search):
            warnings.warn(
                "the compiled bank index plan failed its self-check here; using the numpy plan",
                RuntimeWarning,
                stacklevel=2,
            )
            return None
        _KERNEL[0] = _index_numba.search
    return _KERNEL[0]


def _compiled_agrees(search: Any) -> bool:
    """Compile (or load from the cache) and compare with the numpy plan on a fixed index: a
    platform where numba cannot compile or cache, or computes differently, keeps numpy."""
    rng = np.random.default_rng(20261203)
    words = rng.integers(0, 2**64, size=(3000, WORDS), dtype=np.uint64)
    flips = np.uint64(1) << rng.integers(0, 64, size=(40, WORDS), dtype=np.uint64)
    queries = words[rng.integers(0, 3000, size=40)] ^ flips
    reference = HashIndex.build(np.arange(3000), words)
    reference.kernel = "numpy"
    want = reference.search(queries, 31)
    base = reference._base
    try:
        q, rows, d = search(queries, 31, base, plan_radii(31, base.n), reference._dead_base)
    except Exception:  # noqa: BLE001 - any compile/cache failure means "use the numpy plan"
        return False
    got = dedupe(q, base.keys[rows].astype(np.int64), d)
    pairs = ((got.query, want.query), (got.key, want.key), (got.distance, want.distance))
    return len(want) > 0 and all(np.array_equal(a, b) for a, b in pairs)


class _Base:
    """The immutable, sorted, chunk-indexed segment.

    Chunk i's table addresses the top ``prefix`` bits of its value: all of them once the
    segment is large (2**22 > rows / 2), fewer for small segments, which then also keep the
    chunk values in posting order (``values``) to filter each bucket. A 1,000-hash bank thus
    takes kilobytes, not the 128 MB of full tables."""

    def __init__(
        self,
        keys: np.ndarray,
        words: np.ndarray,
        offsets: list[np.ndarray],
        postings: np.ndarray,
        values: list[np.ndarray | None],
    ) -> None:
        self.keys, self.words, self.offsets, self.postings = keys, words, offsets, postings
        self.values = values
        self.n = len(keys)
        self.kernel_arrays: tuple | None = None  # _index_numba's read-only views, made once

    @staticmethod
    def prefix_bits(bits: int, n: int) -> int:
        return min(bits, max(8, int(np.ceil(np.log2(n + 1))) + 1))

    @classmethod
    def build(cls, keys: np.ndarray, words: np.ndarray) -> _Base:
        order = np.argsort(keys, kind="stable")
        keys = np.asarray(keys[order], dtype=np.int64)
        if len(keys) and keys[0] >= 0 and keys[-1] < 2**32:  # 40 MB less at 10M rows
            keys = keys.astype(np.uint32)
        keys = np.ascontiguousarray(keys)
        words = np.ascontiguousarray(words[order], dtype=np.uint64)
        n = len(keys)
        row_type = np.uint32 if n < 2**32 else np.uint64
        postings = np.empty(len(CHUNKS) * n, dtype=row_type)
        offsets: list[np.ndarray] = []
        values: list[np.ndarray | None] = []
        for i, (_, _, bits) in enumerate(CHUNKS):
            chunk = chunk_values(words, i)
            p = cls.prefix_bits(bits, n)
            rows = np.argsort(chunk, kind="stable")
            postings[i * n : (i + 1) * n] = rows.astype(row_type)
            offs = np.zeros(2**p + 1, dtype=np.uint32 if n < 2**32 else np.uint64)
            np.cumsum(np.bincount(chunk >> np.uint32(bits - p), minlength=2**p), out=offs[1:])
            offsets.append(offs)
            values.append(np.ascontiguousarray(chunk[rows]) if p < bits else None)
        return cls(keys, words, offsets, postings, values)

    def candidates(self, qwords: np.ndarray, radii: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """(query row, base row) pairs sharing a chunk within its radius (may repeat)."""
        qrows_out, rows_out = [], []
        nq = len(qwords)
        for i, k in enumerate(radii):
            if k < 0:
                continue
            _, _, bits = CHUNKS[i]
            masks = neighbour_masks(bits, k)
            probe = (chunk_values(qwords, i)[:, None] ^ masks[None, :]).ravel()
            offs = self.offsets[i]
            shift = np.uint32(bits - (len(offs) - 1).bit_length() + 1)
            bucket = probe >> shift
            lo = offs[bucket].astype(np.int64)
            ln = offs[bucket + 1].astype(np.int64) - lo
            keep = ln > 0
            lo, ln = lo[keep], ln[keep]
            total = int(ln.sum())
            if total == 0:
                continue
            qr = np.repeat(np.arange(nq, dtype=np.int64), len(masks))[keep]
            # positions lo[j] .. lo[j]+ln[j]-1 for every bucket j, without a Python loop
            ends = np.cumsum(ln)
            pos = np.arange(total, dtype=np.int64) + np.repeat(lo - (ends - ln), ln)
            qr = np.repeat(qr, ln)
            values = self.values[i]
            if values is not None:  # partial table: keep exact chunk-value matches only
                hit = values[pos] == np.repeat(probe[keep], ln)
                pos, qr = pos[hit], qr[hit]
            qrows_out.append(qr)
            rows_out.append(self.postings[pos + i * self.n].astype(np.int64))
        if not rows_out:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(qrows_out), np.concatenate(rows_out)


class HashIndex:
    """Exact radius search over (key, PDQ hash) rows; a key may own several hashes."""

    def __init__(self, base: _Base | None = None, delta_limit: int = DEFAULT_DELTA_LIMIT) -> None:
        empty_w = np.zeros((0, WORDS), dtype=np.uint64)
        self._base = base or _Base.build(np.zeros(0, dtype=np.int64), empty_w)
        self._dead_base = np.zeros(self._base.n, dtype=bool)
        self._delta_keys = np.zeros(0, dtype=np.int64)
        self._delta_words = empty_w
        self._lock = threading.Lock()
        self.delta_limit = delta_limit
        self.generation = 0
        #: "auto": the compiled plan when it is available and agrees; "numpy": always numpy
        self.kernel = "auto"

    # -- construction ----------------------------------------------------------------------------
    @classmethod
    def build(cls, keys: Sequence[int] | np.ndarray, words: np.ndarray) -> HashIndex:
        keys_arr = np.asarray(keys, dtype=np.int64)
        words = np.asarray(words, dtype=np.uint64).reshape(-1, WORDS)
        if len(keys_arr) != len(words):
            raise BankError(f"{len(keys_arr)} keys for {len(words)} hashes; give one key per hash")
        return cls(_Base.build(keys_arr, words))

    def __len__(self) -> int:
        return int(self._base.n - self._dead_base.sum() + len(self._delta_keys))

    @property
    def delta_size(self) -> int:
        return len(self._delta_keys)

    def add(self, keys: Sequence[int] | np.ndarray, words: np.ndarray) -> None:
        """Add rows to the delta; folds it into the base past ``delta_limit`` rows."""
        keys_arr = np.asarray(keys, dtype=np.int64)
        words = np.asarray(words, dtype=np.uint64).reshape(-1, WORDS)
        if len(keys_arr) != len(words):
            raise BankError(f"{len(keys_arr)} keys for {len(words)} hashes; give one key per hash")
        with self._lock:
            # new arrays, never in-place: a concurrent search keeps its consistent snapshot
            self._delta_keys = np.concatenate([self._delta_keys, keys_arr])
            self._delta_words = np.concatenate([self._delta_words, words])
        if len(self._delta_keys) > self.delta_limit:
            self.compact()

    def remove(self, keys: Iterable[int]) -> int:
        """Mark every row of these keys dead; returns how many rows were removed."""
        gone = np.unique(np.fromiter(keys, dtype=np.int64))
        if len(gone) == 0:
            return 0
        with self._lock:
            keys = self._base.keys
            probe: np.ndarray = gone
            if keys.dtype == np.uint32:  # same dtype: no 10M-row temporary cast
                probe = gone[(gone >= 0) & (gone < 2**32)].astype(np.uint32)
            lo = np.searchsorted(keys, probe, side="left")
            hi = np.searchsorted(keys, probe, side="right")
            dead = self._dead_base.copy()
            removed = 0
            for a, b in zip(lo.tolist(), hi.tolist(), strict=True):
                removed += int((~dead[a:b]).sum())
                dead[a:b] = True
            self._dead_base = dead
            keep = ~np.isin(self._delta_keys, gone)
            removed += int((~keep).sum())
            self._delta_keys = self._delta_keys[keep]
            self._delta_words = self._delta_words[keep]
        return removed

    def compact(self) -> None:
        """Fold the delta (and drop dead rows) into a new base segment."""
        with self._lock:
            alive = ~self._dead_base
            keys = np.concatenate([self._base.keys[alive].astype(np.int64), self._delta_keys])
            words = np.concatenate([np.asarray(self._base.words)[alive], self._delta_words])
            base = _Base.build(keys, words)
            self._base, self._dead_base = base, np.zeros(base.n, dtype=bool)
            self._delta_keys = np.zeros(0, dtype=np.int64)
            self._delta_words = np.zeros((0, WORDS), dtype=np.uint64)

    # -- search ----------------------------------------------------------------------------------
    def search(self, qwords: np.ndarray, radius: int) -> Hits:
        """Every (query row, key) within ``radius`` bits, exactly; one hit per pair."""
        qwords = np.asarray(qwords, dtype=np.uint64).reshape(-1, WORDS)
        base, dead = self._base, self._dead_base
        dkeys, dwords = self._delta_keys, self._delta_words
        qs, ks, ds = [], [], []
        radii = plan_radii(radius, base.n)
        kernel = _fast_kernel() if self.kernel != "numpy" else None
        if base.n and radii is not None and kernel is not None:
            qrow, rows, dist = kernel(qwords, radius, base, radii, dead)
            qs.append(qrow)
            ks.append(base.keys[rows].astype(np.int64))
            ds.append(dist)
        elif base.n and radii is not None:
            qrow, rows = base.candidates(qwords, radii)
            if len(rows):
                probe = qwords[0] if len(qwords) == 1 else qwords[qrow]  # broadcast one query
                dist = row_popcount(base.words[rows] ^ probe)
                ok = (dist <= radius) & ~dead[rows]
                qs.append(qrow[ok])
                ks.append(base.keys[rows[ok]].astype(np.int64))
                ds.append(dist[ok])
        elif base.n:  # threshold beyond the chunk plan: exact brute force over the base
            self._brute(base.words, base.keys, qwords, radius, qs, ks, ds, ~dead)
        if len(dkeys):
            self._brute(dwords, dkeys, qwords, radius, qs, ks, ds, None)
        if not ks:
            return dedupe(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32))
        return dedupe(np.concatenate(qs), np.concatenate(ks), np.concatenate(ds))

    @staticmethod
    def _brute(
        words: np.ndarray,
        keys: np.ndarray,
        qwords: np.ndarray,
        radius: int,
        qs: list,
        ks: list,
        ds: list,
        alive: np.ndarray | None,
    ) -> None:
        step = 262_144  # bounded temporaries on a memory-mapped 10M base
        for start in range(0, len(words), step):
            block = np.asarray(words[start : start + step])
            for qi, q in enumerate(qwords):
                dist = distances(block, q)
                ok = dist <= radius
                if alive is not None:
                    ok &= alive[start : start + step]
                idx = np.nonzero(ok)[0]
                qs.append(np.full(len(idx), qi, dtype=np.int64))
                ks.append(keys[start + idx].astype(np.int64))
                ds.append(dist[idx])

    def warm(self) -> int:
        """Read one byte of every page of the base segment, so a memory-mapped index (``load``)
        is resident before the first query rather than faulted in by the first few hundred
        (each query touches ~10,000 random rows at 10M). Returns the bytes covered."""
        base = self._base
        arrays = [base.keys, base.words, base.postings, *base.offsets]
        arrays += [v for v in base.values if v is not None]
        total = 0
        for a in arrays:
            flat = np.asarray(a).reshape(-1).view(np.uint8)
            int(flat[::4096].sum())  # the read is the point; the sum keeps it from being skipped
            total += flat.nbytes
        return total

    # -- persistence -----------------------------------------------------------------------------
    def save(self, folder: str | os.PathLike[str], meta: dict | None = None) -> Path:
        """Compact and write a new generation under ``folder``; the manifest flips atomically."""
        self.compact()
        root = Path(folder)
        root.mkdir(parents=True, exist_ok=True)
        old = read_manifest(root)
        generation = (old or {}).get("generation", 0) + 1
        gen_dir = root / f"gen-{generation:06d}"
        tmp = root / f".tmp-gen-{generation:06d}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        base = self._base
        np.save(tmp / "keys.npy", base.keys)
        np.save(tmp / "words.npy", np.asarray(base.words))
        np.save(tmp / "postings.npy", np.asarray(base.postings))
        for i, offs in enumerate(base.offsets):
            np.save(tmp / f"offsets-{i:02d}.npy", np.asarray(offs))
            if base.values[i] is not None:
                np.save(tmp / f"values-{i:02d}.npy", np.asarray(base.values[i]))
        shutil.rmtree(gen_dir, ignore_errors=True)
        os.replace(tmp, gen_dir)
        manifest = {
            "format": FORMAT_VERSION,
            "generation": generation,
            "rows": base.n,
            "dir": gen_dir.name,
            **(meta or {}),
        }
        tmp_manifest = root / f".manifest-{os.getpid()}.json"
        tmp_manifest.write_text(json.dumps(manifest, sort_keys=True), encoding="utf-8")
        os.replace(tmp_manifest, root / "manifest.json")
        self.generation = generation
        for stale in root.glob("gen-*"):  # open memory maps elsewhere stay valid (POSIX unlink)
            if stale.name != gen_dir.name:
                shutil.rmtree(stale, ignore_errors=True)
        return gen_dir

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> HashIndex:
        """Open the current generation memory-mapped (no rebuild); BankError if absent."""
        root = Path(folder)
        manifest = read_manifest(root)
        if manifest is None or manifest.get("format") != FORMAT_VERSION:
            raise BankError(f"no index in {root}; build one with `gardefou bank reindex`")
        gen_dir = root / manifest["dir"]
        try:
            keys = np.load(gen_dir / "keys.npy", mmap_mode="r")
            words = np.load(gen_dir / "words.npy", mmap_mode="r")
            postings = np.load(gen_dir / "postings.npy", mmap_mode="r")
            offsets = [
                np.load(gen_dir / f"offsets-{i:02d}.npy", mmap_mode="r") for i in range(len(CHUNKS))
            ]
            values = [
                np.load(gen_dir / f"values-{i:02d}.npy", mmap_mode="r")
                if (gen_dir / f"values-{i:02d}.npy").exists()
                else None
                for i in range(len(CHUNKS))
            ]
        except (OSError, ValueError) as exc:
            raise BankError(
                f"index in {gen_dir} is unreadable ({exc}); rebuild it with `gardefou bank reindex`"
            ) from None
        if len(keys) != manifest["rows"] or words.shape != (len(keys), WORDS):
            raise BankError(
                f"index in {gen_dir} is inconsistent; rebuild it with `gardefou bank reindex`"
            )
        index = cls(_Base(keys, words, offsets, postings, values))
        index.generation = manifest["generation"]
        return index


def read_manifest(folder: str | os.PathLike[str]) -> dict | None:
    path = Path(folder) / "manifest.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def brute_force(
    words: np.ndarray, qwords: np.ndarray, radius: int, keys: np.ndarray | None = None
) -> Hits:
    """Reference answer: every (query, key) within ``radius``, by scanning all rows."""
    words = np.asarray(words, dtype=np.uint64).reshape(-1, WORDS)
    keys = np.arange(len(words), dtype=np.int64) if keys is None else np.asarray(keys, np.int64)
    qs: list = []
    ks: list = []
    ds: list = []
    HashIndex._brute(
        words, keys, np.asarray(qwords, np.uint64).reshape(-1, WORDS), radius, qs, ks, ds, None
    )
    if not ks:
        return dedupe(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32))
    return dedupe(np.concatenate(qs), np.concatenate(ks), np.concatenate(ds))
