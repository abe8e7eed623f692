"""PDQ compiled with numba: the same hashes and quality as ``pdqhash``, bit for bit, ~2x faster.

``pdqhash`` wraps the reference C++ (built without AVX in its wheel) and computes the luma in
float64 numpy before handing it over; on a 512x512 input it costs ~4 ms, most of the hashing
cost of a 1024-px upload. This module implements the same steps in the same floating-point
order, so every intermediate value is identical:

* luma = R*0.299 + G*0.587 + B*0.114 in float64 (as pdqhash's wrapper), rounded to float32;
* the Jarosz tent filter: two passes of a box filter along rows, then along columns, window
  ``(n + 127) // 128``, as float32 running sums with the reference's four phases (add only;
  add and write with a growing window; add, subtract and write; subtract and write);
* decimation to 64x64 at the centres ``int((i + 0.5) * n / 64)`` (the single-hash path takes
  a 64x64 input as it is, as there);
* the quality metric (gradients as ``int(((u - v) * 100) / 255)`` in float32, sum / 90, at most
  100);
* the 16x64 DCT matrix (a float32 scale times a float64 cosine, rounded to float32) and the
  two float32 matrix products, each sum accumulated in index order;
* the median of the 256 coefficients (the 128th smallest, as the reference's Torben
  selection) and bit ``i*16+j`` set when coefficient (i, j) is strictly greater; the eight
  dihedral variants by the reference's sign and transpose rules.

Compilation is cached on disk (numba's ``cache=True``); the first call in a new environment
compiles for ~2 s. ``tests/test_pdq_fast.py`` checks equality with ``pdqhash`` on the reference
vectors, random images of many sizes and flat images.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: the smallest side this path hashes; smaller inputs go to pdqhash (its edge rules apply)
MIN_SIDE = 8


def _dct_matrix() -> np.ndarray:
    scale = float(np.float32(math.sqrt(2.0 / 64.0)))  # a float in the reference
    d = np.empty((16, 64), np.float32)
    for i in range(16):
        for j in range(64):
            d[i, j] = scale * math.cos((math.pi / 2.0 / 64.0) * (i + 1) * (2 * j + 1))
    return d


DCT = _dct_matrix()


@njit(cache=True, nogil=True)
def _luma(img: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    h, w = img.shape[0], img.shape[1]
    return _luma_at(img, np.arange(h), np.arange(w))


@njit(cache=True, nogil=True)
def _luma_at(img: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:  # pragma: no cover
    """Luma of the pixels at ``rows`` x ``cols`` (the reference's nearest-neighbour downsample
    and the luma in one pass)."""
    out = np.empty((len(rows), len(cols)), np.float32)
    for i in range(len(rows)):
        y = rows[i]
        for j in range(len(cols)):
            x = cols[j]
            r = np.float64(img[y, x, 0]) * 0.299
            g = np.float64(img[y, x, 1]) * 0.587
            b = np.float64(img[y, x, 2]) * 0.114
            out[i, j] = np.float32((r + g) + b)
    return out


@njit(cache=True, nogil=True)
def _box_lines(
    src: np.ndarray, dst: np.ndarray, window: int, along_rows: bool, first: int, lines: int
) -> None:  # pragma: no cover
    """Box filter of ``lines`` rows (``along_rows``) or columns from ``first``, each a float32
    running sum in the reference's four phases; the lines advance together (one position of
    every line per step), so their sums are independent and the compiler overlaps them."""
    length = src.shape[1] if along_rows else src.shape[0]
    half = (window + 2) // 2
    s = np.zeros(lines, np.float32)
    ri, li, oi, count = 0, 0, 0, 0
    for phase in range(4):
        if phase == 0:
            steps = half - 1
        elif phase == 1:
            steps = window - half + 1
        elif phase == 2:
            steps = length - window
        else:
            steps = half - 1
        for _ in range(steps):
            if phase < 2:
                count += 1
            elif phase == 3:
                count -= 1
            c = np.float32(count)
            for k in range(lines):
                j = first + k
                v = s[k]
                if phase < 3:
                    v = v + (src[j, ri] if along_rows else src[ri, j])
                if phase >= 2:
                    v = v - (src[j, li] if along_rows else src[li, j])
                s[k] = v
                if phase > 0:
                    if along_rows:
                        dst[j, oi] = v / c
                    else:
                        dst[oi, j] = v / c
            if phase < 3:
                ri += 1
            if phase >= 2:
                li += 1
            if phase > 0:
                oi += 1


#: rows filtered together along the rows: few enough that their cache lines stay in L1
ROW_BLOCK = 16


@njit(cache=True, nogil=True)
def _box(
    src: np.ndarray, dst: np.ndarray, window: int, along_rows: bool
) -> None:  # pragma: no cover
    n, m = src.shape
    if along_rows:
        for first in range(0, n, ROW_BLOCK):
            _box_lines(src, dst, window, True, first, min(ROW_BLOCK, n - first))
    else:
        _box_lines(src, dst, window, False, 0, m)


@njit(cache=True, nogil=True)
def _float16x16(
    luma: np.ndarray, dct: np.ndarray, blur: bool
) -> tuple[np.ndarray, int]:  # pragma: no cover
    n, m = luma.shape
    a = luma
    row_window = (m + 127) // 128
    col_window = (n + 127) // 128
    b = np.empty((n, m), np.float32)
    for _ in range(2 if blur else 0):
        _box(a, b, row_window, True)
        _box(b, a, col_window, False)
    block = np.empty((64, 64), np.float32)
    for i in range(64):
        ii = int(((i + 0.5) * n) / 64)
        for j in range(64):
            block[i, j] = a[ii, int(((j + 0.5) * m) / 64)]
    grad = 0
    hundred, full = np.float32(100.0), np.float32(255.0)
    for i in range(63):
        for j in range(64):
            grad += abs(int(((block[i, j] - block[i + 1, j]) * hundred) / full))
    for i in range(64):
        for j in range(63):
            grad += abs(int(((block[i, j] - block[i, j + 1]) * hundred) / full))
    quality = min(grad // 90, 100)
    return _abt(_abt(dct, block.T), dct), quality


@njit(cache=True, nogil=True)
def _abt(a: np.ndarray, b: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """a @ b.T in float32, each sum accumulated in index order (as the reference's loops)."""
    out = np.empty((a.shape[0], b.shape[0]), np.float32)
    for i in range(a.shape[0]):
        for j in range(b.shape[0]):
            acc = np.float32(0.0)
            for k in range(a.shape[1]):
                acc = acc + a[i, k] * b[j, k]
            out[i, j] = acc
    return out


def _bits(coeffs: np.ndarray) -> np.ndarray:
    """pdqhash's bit vector: bit i*16+j (coefficient above the median), last bit first."""
    flat = coeffs.ravel()
    median = np.partition(flat, 127)[127]
    return (flat > median).astype(np.uint8)[::-1]


def _dihedral(c: np.ndarray) -> list[np.ndarray]:
    """The reference's eight variants (original, rot90, rot180, rot270, flipx, flipy, flip+1,
    flip-1) from the 16x16 coefficients, by sign patterns and transposes."""
    i = np.arange(16)[:, None]
    j = np.arange(16)[None, :]
    odd_i, odd_j, odd_ij = (i & 1) == 1, (j & 1) == 1, ((i + j) & 1) == 1
    neg = np.negative
    return [
        c,
        np.where(odd_j, c, neg(c)).T,
        np.where(odd_ij, neg(c), c),
        np.where(odd_i, c, neg(c)).T,
        np.where(odd_i, c, neg(c)),
        np.where(odd_j, c, neg(c)),
        c.T,
        np.where(odd_ij, neg(c), c).T,
    ]


def compute(rgb: np.ndarray) -> tuple[np.ndarray, int]:
    """(bit vector, quality) exactly as ``pdqhash.compute`` for a (H, W, 3) uint8 array."""
    # the reference's single-hash path takes a 64x64 input as already downsampled
    blur = rgb.shape[:2] != (64, 64)
    coeffs, quality = _float16x16(_luma(np.ascontiguousarray(rgb)), DCT, blur)
    return _bits(coeffs), int(quality)


def compute_dihedral(rgb: np.ndarray) -> tuple[list[np.ndarray], int]:
    """(8 bit vectors, quality) exactly as ``pdqhash.compute_dihedral``."""
    coeffs, quality = _float16x16(_luma(np.ascontiguousarray(rgb)), DCT, True)
    return [_bits(np.ascontiguousarray(v)) for v in _dihedral(coeffs)], int(quality)


def compute_dihedral_reference(
    rgb: np.ndarray, rows: np.ndarray, cols: np.ndarray
) -> tuple[list[np.ndarray], int]:
    """``compute_dihedral(rgb[rows][:, cols])`` without the intermediate copy (``rows`` and
    ``cols``: the reference downsample's indices, see ``pdq_core.reference_pixels``)."""
    coeffs, quality = _float16x16(_luma_at(rgb, rows, cols), DCT, True)
    return [_bits(np.ascontiguousarray(v)) for v in _dihedral(coeffs)], int(quality)
