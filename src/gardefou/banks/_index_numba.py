"""The multi-index query plan of ``banks.index`` compiled with numba: probe, gather and verify
in one pass per query, with no temporaries.

The numpy plan builds ~1,950 bucket ranges and ~9,000 candidate rows per query at 10M hashes
through some 150 array operations, each a fresh temporary; on a slow AVX2 core that was most of
its ~5 ms. Here every probe reads its bucket's two offsets, walks the postings and verifies each
row on the spot (four 64-bit XOR + popcount against the query), keeping only rows within the
radius that are alive. The set of (query, row, distance) triples is the numpy plan's, which
``HashIndex.search`` then dedupes the same way, so results are identical
(``tests/test_bank_index_fast.py`` compares the two).

Compilation is cached on disk (numba's ``cache=True``); the first call in a new environment
compiles for a few seconds.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from gardefou.banks.index_plan import CHUNKS, neighbour_masks

# the chunk layout as the kernel takes it, one int64 column per field; named one by one (not
# unpacked from a tuple of unknown length) so that the kernel's call is checked argument by
# argument against its signature
_CHUNK_WORD = np.array([word for word, _, _ in CHUNKS], dtype=np.int64)
_CHUNK_SHIFT = np.array([shift for _, shift, _ in CHUNKS], dtype=np.int64)
_CHUNK_BITS = np.array([bits for _, _, bits in CHUNKS], dtype=np.int64)
_NO_MASKS = np.zeros(0, dtype=np.uint32)


def _read_only(a: np.ndarray) -> np.ndarray:
    v = np.asarray(a).view()  # a memory map becomes a plain ndarray view, no copy
    v.flags.writeable = False
    return v


def search(qwords: np.ndarray, radius: int, base, radii, dead: np.ndarray) -> tuple:
    """``search_plan`` on one base segment (``index._Base``): read-only plain views of its
    arrays, made once per segment, so built and memory-mapped segments share one compiled
    signature."""
    if base.kernel_arrays is None:
        empty = _read_only(np.zeros(0, dtype=np.uint32))
        base.kernel_arrays = (
            _read_only(base.words),
            _read_only(base.postings),
            tuple(_read_only(o) for o in base.offsets),
            tuple(empty if v is None else _read_only(v) for v in base.values),
        )
    words, postings, offsets, values = base.kernel_arrays
    masks = tuple(
        neighbour_masks(CHUNKS[i][2], k) if k >= 0 else _NO_MASKS for i, k in enumerate(radii)
    )
    # a table of 2**p buckets addresses the top p bits of a chunk value: shift = bits - p
    sizes = [len(o) - 1 for o in offsets]
    shifts = np.array([c[2] - s.bit_length() + 1 for c, s in zip(CHUNKS, sizes, strict=True)])
    radii_arr = np.asarray(radii, dtype=np.int64)
    return search_plan(
        qwords,
        radius,
        words,
        postings,
        offsets,
        values,
        _CHUNK_WORD,
        _CHUNK_SHIFT,
        _CHUNK_BITS,
        shifts,
        radii_arr,
        masks,
        dead,
    )


@njit(cache=True, nogil=True, inline="always")
def _popcount(x: np.uint64) -> np.int64:  # pragma: no cover - compiled
    # SWAR popcount; LLVM turns it into one POPCNT where the CPU has it (every AVX2 core does)
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@njit(cache=True, nogil=True)
def search_plan(
    qwords,  # (nq, 4) uint64
    radius,  # int
    words,  # (n, 4) uint64, the base rows
    postings,  # (12 * n,) row numbers, chunk by chunk
    offsets,  # tuple of 12 uint32/uint64 arrays (CSR over each chunk's table)
    values,  # tuple of 12 uint32 arrays: chunk values in posting order, empty when full table
    chunk_word,  # (12,) int64
    chunk_shift,  # (12,) int64
    chunk_bits,  # (12,) int64
    shifts,  # (12,) int64: chunk value >> shift = its bucket in a (possibly partial) table
    radii,  # (12,) int64, -1 = chunk not probed
    masks,  # tuple of 12 uint32 arrays: XOR masks within radii[i] (empty when not probed)
    dead,  # (n,) bool
):  # pragma: no cover - compiled
    """Verified (query row, base row, distance) triples; a row found through several chunks
    appears once per chunk, as in the numpy plan."""
    n = words.shape[0]
    cap = 1024
    out_q = np.empty(cap, np.int64)
    out_r = np.empty(cap, np.int64)
    out_d = np.empty(cap, np.int32)
    m = 0
    for qi in range(qwords.shape[0]):
        q0, q1, q2, q3 = qwords[qi, 0], qwords[qi, 1], qwords[qi, 2], qwords[qi, 3]
        for i in range(12):
            if radii[i] < 0:
                continue
            bits = chunk_bits[i]
            qchunk = np.uint32(
                (qwords[qi, chunk_word[i]] >> np.uint64(chunk_shift[i]))
                & np.uint64((1 << bits) - 1)
            )
            offs = offsets[i]
            vals = values[i]
            partial = vals.shape[0] > 0
            shift = np.uint32(shifts[i])
            mk = masks[i]
            base = i * n
            for j in range(mk.shape[0]):
                probe = qchunk ^ mk[j]
                bucket = probe >> shift
                lo = np.int64(offs[bucket])
                hi = np.int64(offs[bucket + 1])
                for pos in range(lo, hi):
                    if partial and vals[pos] != probe:
                        continue
                    row = np.int64(postings[base + pos])
                    d = (
                        _popcount(words[row, 0] ^ q0)
                        + _popcount(words[row, 1] ^ q1)
                        + _popcount(words[row, 2] ^ q2)
                        + _popcount(words[row, 3] ^ q3)
                    )
                    if d <= radius and not dead[row]:
                        if m == cap:
                            cap *= 2
                            out_q = _grow(out_q, cap)
                            out_r = _grow(out_r, cap)
                            out_d = _grow(out_d, cap)
                        out_q[m] = qi
                        out_r[m] = row
                        out_d[m] = d
                        m += 1
    return out_q[:m].copy(), out_r[:m].copy(), out_d[:m].copy()


@njit(cache=True, nogil=True)
def _grow(a, cap):  # pragma: no cover - compiled
    out = np.empty(cap, a.dtype)
    out[: a.shape[0]] = a
    return out
