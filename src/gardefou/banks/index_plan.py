"""The query plan of the bank index (``index.py``): the chunk layout, the per-chunk radii, the
Hamming distances and the de-duplication of hits. Both executions of the plan, numpy
(``index.py``) and compiled (``_index_numba.py``), import it from here, so neither imports
the other's module at load time."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from math import comb

import numpy as np

from gardefou.signals.pdq_core import WORDS

#: (word, shift, bits) for each chunk: three chunks per 64-bit word, 22 + 21 + 21 bits
CHUNKS: tuple[tuple[int, int, int], ...] = tuple(
    (w, shift, bits) for w in range(WORDS) for shift, bits in ((42, 22), (21, 21), (0, 21))
)
MAX_CHUNK_RADIUS = 3


def chunk_values(words: np.ndarray, chunk: int) -> np.ndarray:
    w, shift, bits = CHUNKS[chunk]
    mask = np.uint64((1 << bits) - 1)
    return ((words[:, w] >> np.uint64(shift)) & mask).astype(np.uint32)


_HAS_BITWISE_COUNT = hasattr(np, "bitwise_count")  # numpy >= 2
_BYTE_BITS = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _row_popcount_table(x: np.ndarray) -> np.ndarray:
    """Set bits per row of a (n, 4) uint64 array through a byte table: numpy < 2 has no
    ``bitwise_count``; the counts are the same integers."""
    x = np.ascontiguousarray(x, dtype=np.uint64)
    return _BYTE_BITS[x.view(np.uint8)].reshape(len(x), -1).sum(axis=1, dtype=np.int32)


def row_popcount(x: np.ndarray) -> np.ndarray:
    """Set bits per row of a (n, 4) uint64 array (numpy's SIMD ``bitwise_count`` when present)."""
    if _HAS_BITWISE_COUNT:
        return np.bitwise_count(x).sum(axis=1, dtype=np.int32)
    return _row_popcount_table(x)


def distances(words: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Hamming distance of each row of ``words`` (n, 4) to one query (4,)."""
    return row_popcount(words ^ query)


_MASKS: dict[tuple[int, int], np.ndarray] = {}


def neighbour_masks(bits: int, radius: int) -> np.ndarray:
    """XOR masks of every value within ``radius`` bits, for a ``bits``-bit chunk."""
    key = (bits, radius)
    if key not in _MASKS:
        masks = [0]
        for k in range(1, radius + 1):
            masks.extend(sum(1 << b for b in combo) for combo in combinations(range(bits), k))
        _MASKS[key] = np.array(masks, dtype=np.uint32)
    return _MASKS[key]


def plan_radii(threshold: int, rows: int) -> list[int] | None:
    """Per-chunk radii with sum(k_i + 1) >= threshold + 1 at the least estimated cost, or None
    when the threshold is too large for the index (the caller then brute-forces). Plans are
    remembered per (threshold, rows): every query against an unchanged segment reuses one."""
    plan = _plan_cached(threshold, rows)
    return None if plan is None else list(plan)


@lru_cache(maxsize=1024)
def _plan_cached(threshold: int, rows: int) -> tuple[int, ...] | None:
    plan = _plan(threshold, rows)
    return None if plan is None else tuple(plan)


def _plan(threshold: int, rows: int) -> list[int] | None:
    if threshold < 0:
        return [-1] * len(CHUNKS)
    radii = [-1] * len(CHUNKS)

    def step_cost(i: int) -> float:
        bits = CHUNKS[i][2]
        k = radii[i] + 1
        if k > MAX_CHUNK_RADIUS:
            return float("inf")
        # a look-up costs about as much as verifying ~4 candidates in numpy
        return comb(bits, k) * (4.0 + rows / 2**bits)

    for _ in range(threshold + 1):
        best = min(range(len(CHUNKS)), key=step_cost)
        if step_cost(best) == float("inf"):
            return None
        radii[best] += 1
    return radii


@dataclass(frozen=True)
class Hits:
    """Search results: for each hit, the query row, the stored key and the distance."""

    query: np.ndarray
    key: np.ndarray
    distance: np.ndarray

    def __len__(self) -> int:
        return len(self.key)


def dedupe(query: np.ndarray, key: np.ndarray, dist: np.ndarray) -> Hits:
    """One hit per (query, key), the smallest distance."""
    if len(key) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Hits(empty, empty.copy(), np.zeros(0, dtype=np.int32))
    order = np.lexsort((dist, key, query))
    q, k, d = query[order], key[order], dist[order]
    first = np.ones(len(k), dtype=bool)
    first[1:] = (q[1:] != q[:-1]) | (k[1:] != k[:-1])
    return Hits(q[first].astype(np.int64), k[first].astype(np.int64), d[first].astype(np.int32))
