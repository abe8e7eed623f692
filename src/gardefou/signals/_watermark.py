"""Decoder for the invisible watermark Stable Diffusion's reference scripts embed.

The ``invisible-watermark`` package's ``dwtDct`` method (used by the CompVis/Stability
txt2img scripts and SDXL) writes one bit per 4x4 block of the level-1 Haar approximation of the
U channel (OpenCV BGR->YUV), by quantizing the block's largest non-DC coefficient to a multiple
of 36 plus a quarter (bit 0) or three quarters (bit 1). Bits repeat over the image; decoding
takes the majority per bit. This re-implementation needs only numpy and OpenCV (no PyWavelets,
no torch) and is checked against the published algorithm in tests.

Positive-only evidence: a match proves the encoder ran; no match proves nothing (most generators
do not embed it, and resizing, cropping or re-encoding destroys it).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

SCALE = 36.0
BLOCK = 4
_TAP = 0.7071067811865476  # PyWavelets' haar dec_lo coefficient

#: known messages: name -> bits
KNOWN_MESSAGES: dict[str, tuple[int, ...]] = {
    # scripts/txt2img.py in CompVis/stable-diffusion: set_watermark('bytes', b"StableDiffusionV1")
    "StableDiffusionV1": tuple(
        int(b) for b in np.unpackbits(np.frombuffer(b"StableDiffusionV1", dtype=np.uint8))
    ),
    # sgm/Stability SDXL: WATERMARK_MESSAGE = 0b101100111110110010010000011110111011000110011110
    "SDXL": tuple(int(c) for c in "101100111110110010010000011110111011000110011110"),
    # gardefou's generation gateway (gateway/labels.py), same dwtDct scheme: the first 64 bits of
    # sha256(b"gardefou gateway watermark v1"). Not ASCII text: text shares bits (every byte's
    # top bit is 0), so a text message would match the SDv1 mark more often than chance says.
    "gardefou": tuple(
        int(c) for c in "0000000100101100100100010001011010011111011111010011111101001100"
    ),
}
#: a match needs a bit agreement whose chance under random bits is at most this (binomial tail):
#: >= 41 of 48 bits for SDXL, >= 96 of 136 for SDv1. The reference encoder itself leaves some
#: images at 70-85% agreement (uint8 truncation), so a fixed 90% would miss real watermarks.
MAX_CHANCE = 1e-6
MIN_SIDE = 64  # smaller images carry too few repetitions to decide


@dataclass(frozen=True)
class WatermarkMatch:
    message: str
    agreement: float  # fraction of bits equal to the known message
    chance: float  # probability that random bits agree this well (binomial tail)


def haar_approx(channel: np.ndarray) -> np.ndarray:
    """Level-1 Haar approximation of an even-sized array, bit-exact with
    ``pywt.dwt2(x, 'haar')[0]``: PyWavelets filters rows then columns with 1/sqrt(2) taps, and
    the last bit matters because the decoder picks the largest coefficient of each block (ties in
    flat areas are broken by rounding)."""
    x = channel.astype(np.float64)
    rows = x[1::2, :] * _TAP + x[0::2, :] * _TAP
    return rows[:, 1::2] * _TAP + rows[:, 0::2] * _TAP


def votes(u: np.ndarray) -> np.ndarray:
    """The per-block votes of a U channel: compiled (``_watermark_numba``) when numba is
    installed, else ``block_bits(haar_approx(u))``; the same votes either way."""
    global _COMPILED_OK
    if _COMPILED_OK:
        try:
            from gardefou.signals._watermark_numba import block_votes

            return np.asarray(block_votes(np.ascontiguousarray(u), SCALE))
        except Exception:  # noqa: BLE001 - no numba, or it cannot compile/cache here
            _COMPILED_OK = False
    return block_bits(haar_approx(u))


_COMPILED_OK = True


def block_bits(approx: np.ndarray, scale: float = SCALE) -> np.ndarray:
    """One vote (0/1) per 4x4 block in row-major order, as the reference decoder reads them."""
    rows, cols = approx.shape[0] // BLOCK, approx.shape[1] // BLOCK
    blocks = approx[: rows * BLOCK, : cols * BLOCK].reshape(rows, BLOCK, cols, BLOCK)
    flat = blocks.transpose(0, 2, 1, 3).reshape(rows * cols, BLOCK * BLOCK)
    pos = np.abs(flat[:, 1:]).argmax(axis=1) + 1
    val = np.abs(flat[np.arange(flat.shape[0]), pos])
    return (np.mod(val, scale) > 0.5 * scale).astype(np.uint8)


def u_channel(rgb: np.ndarray) -> np.ndarray:
    """OpenCV's BGR->YUV U channel of the (BGR) image, computed from RGB directly (the same
    values: OpenCV's RGB2YUV is the same conversion with the channels named the other way)."""
    import cv2

    rows, cols = rgb.shape[0] // 4 * 4, rgb.shape[1] // 4 * 4
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2YUV)[:rows, :cols, 1]


def decode_bits(rgb: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """(bits, mean vote per bit) of a ``length``-bit message, as the reference ``decode``."""
    v = votes(u_channel(rgb))
    idx = np.arange(v.shape[0]) % length
    sums = np.bincount(idx, weights=v, minlength=length)
    counts = np.bincount(idx, minlength=length)
    means = sums / np.maximum(counts, 1)
    return (means * 255 > 127).astype(np.uint8), means


@functools.lru_cache(maxsize=4096)
def _binomial_tail(n: int, k: int) -> float:
    """P(at least k of n fair coin flips agree). Memoized: every image asks it for each known
    message (n is the message length, k at most n), and the exact sum of up to n big binomial
    coefficients cost ~0.8 CPU ms per image on an AVX2-only core."""
    return sum(math.comb(n, i) for i in range(k, n + 1)) / 2.0**n


def detect(rgb: np.ndarray) -> list[WatermarkMatch]:
    """Known messages found in the image (empty when none, or when it is too small)."""
    if min(rgb.shape[:2]) < MIN_SIDE:
        return []
    v = votes(u_channel(rgb))
    found = []
    for name, message in KNOWN_MESSAGES.items():
        n = len(message)
        if v.shape[0] < n:
            continue
        idx = np.arange(v.shape[0]) % n
        means = np.bincount(idx, weights=v, minlength=n) / np.bincount(idx, minlength=n)
        bits = (means * 255 > 127).astype(np.uint8)
        agree = int((bits == np.asarray(message, dtype=np.uint8)).sum())
        chance = _binomial_tail(n, agree)
        if chance <= MAX_CHANCE:
            found.append(WatermarkMatch(name, round(agree / n, 4), chance))
    return found


def embed(rgb: np.ndarray, message: tuple[int, ...]) -> np.ndarray:
    """Write ``message`` the way the reference ``dwtDct`` encoder does (the gateway's watermark,
    tests and fixtures). Returns an RGB uint8 array. Vectorized over the 4x4 blocks: the same
    pixels as the reference's per-block loop (tests keep that loop to compare), ~100x faster."""
    return embed_with(rgb, message, _mark_blocks)


def embed_with(
    rgb: np.ndarray,
    message: tuple[int, ...],
    mark: Callable[[np.ndarray, tuple[int, ...]], np.ndarray],
) -> np.ndarray:
    """The encoder's frame around ``mark``: the U channel's one-level Haar transform, ``mark``
    writing ``message`` into the approximation band, and the inverse transform. Kept apart so
    the tests run the reference's per-block loop in the same frame."""
    import cv2

    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    rows, cols = bgr.shape[0] // 4 * 4, bgr.shape[1] // 4 * 4
    yuv = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV)
    u = yuv[:rows, :cols, 1].astype(np.float64)
    a, b, c, d = u[0::2, 0::2], u[0::2, 1::2], u[1::2, 0::2], u[1::2, 1::2]
    ca, h, v, dd = (
        (a + b + c + d) / 2,
        (a - b + c - d) / 2,
        (a + b - c - d) / 2,
        (a - b - c + d) / 2,
    )
    ca = mark(ca, message)
    out = np.empty_like(u)
    out[0::2, 0::2] = (ca + h + v + dd) / 2
    out[0::2, 1::2] = (ca - h + v - dd) / 2
    out[1::2, 0::2] = (ca + h - v - dd) / 2
    out[1::2, 1::2] = (ca - h - v + dd) / 2
    yuv[:rows, :cols, 1] = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR)[:, :, ::-1])


def _mark_blocks(ca: np.ndarray, message: tuple[int, ...]) -> np.ndarray:
    """Quantize each BLOCKxBLOCK block's largest non-DC coefficient to carry one bit."""
    nr, nc = ca.shape[0] // BLOCK, ca.shape[1] // BLOCK
    blocks = ca[: nr * BLOCK, : nc * BLOCK].reshape(nr, BLOCK, nc, BLOCK).transpose(0, 2, 1, 3)
    flat = blocks.reshape(nr, nc, BLOCK * BLOCK).copy()
    pos = np.abs(flat[:, :, 1:]).argmax(axis=2) + 1
    val = np.take_along_axis(flat, pos[:, :, None], axis=2)[:, :, 0]
    msg = np.asarray(message, dtype=np.float64)[np.arange(nr * nc) % len(message)]
    q = (np.abs(val) // SCALE + 0.25 + 0.5 * msg.reshape(nr, nc)) * SCALE
    np.put_along_axis(flat, pos[:, :, None], np.where(val >= 0, q, -q)[:, :, None], axis=2)
    ca = ca.copy()
    ca[: nr * BLOCK, : nc * BLOCK] = (
        flat.reshape(nr, nc, BLOCK, BLOCK).transpose(0, 2, 1, 3).reshape(nr * BLOCK, nc * BLOCK)
    )
    return ca
