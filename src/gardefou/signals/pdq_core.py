"""PDQ hashing that is bit-exact with the reference C++ file hasher.

The reference converts to RGB and, when either side exceeds 512 px, downsamples to 512x512
(aspect ratio not kept) with CImg's nearest-neighbour rule: output row i takes input row
floor(i*H/512). pdqhash then reproduces the reference bit for bit. Pillow's NEAREST resize
samples pixel centres and does not, so the index arithmetic is done here with numpy.

The hash itself is computed by ``_pdq_numba`` when numba is installed (``gardefou[fast]``, in
``all``): the same bits and quality as pdqhash, tested on the reference vectors and random
images, ~2x faster on a 512x512 input; otherwise by pdqhash. GARDEFOU_PDQ=pdqhash forces it.
"""

from __future__ import annotations

import importlib
import os
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
from PIL import Image

from gardefou.errors import ConfigError, HashFormatError

DOWNSAMPLE = 512
HASH_BITS = 256
HEX_LEN = 64
#: a PDQ hash as big-endian 64-bit words, the bank index's row layout
WORDS = 4
#: below this quality a PDQ hash comes from a flat, uniform image and matches unrelated content;
#: the industry drops such hashes (the signal marks them unusable, banks refuse them)
MIN_QUALITY = 50

# Order of the 8 dihedral transforms returned by pdqhash.compute_dihedral.
DIHEDRAL_NAMES = (
    "original",
    "rotate90",
    "rotate180",
    "rotate270",
    "flip_x",
    "flip_y",
    "flip_plus1",
    "flip_minus1",
)


def _rgb(img: Image.Image | np.ndarray) -> np.ndarray:
    if isinstance(img, np.ndarray):
        return img
    return np.asarray(img.convert("RGB") if img.mode != "RGB" else img, dtype=np.uint8)


def reference_indices(h: int, w: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The rows and columns the reference's downsample keeps, or None when it keeps all."""
    if h > DOWNSAMPLE or w > DOWNSAMPLE:
        return (np.arange(DOWNSAMPLE) * h) // DOWNSAMPLE, (np.arange(DOWNSAMPLE) * w) // DOWNSAMPLE
    return None


def reference_pixels(img: Image.Image | np.ndarray) -> np.ndarray:
    """RGB uint8 array after the reference's downsampling step (from an RGB image or array)."""
    arr = _rgb(img)
    idx = reference_indices(*arr.shape[:2])
    if idx is not None:
        rows, cols = idx
        return np.ascontiguousarray(arr.take(rows, axis=0).take(cols, axis=1))  # 3x np.ix_'s speed
    return np.ascontiguousarray(arr)


def bits_to_hex(bits: np.ndarray) -> str:
    """256 bits in pdqhash order, read as one big-endian number, as 64 lowercase hex digits."""
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


def hex_to_bytes(hex_str: str) -> bytes:
    """Validate and convert a PDQ hex string to its 32 bytes."""
    s = hex_str.strip().lower()
    if len(s) != HEX_LEN:
        raise HashFormatError(
            f"PDQ hash {hex_str[:80]!r} has {len(s)} hex digits; a PDQ hash has exactly 64"
        )
    try:
        return bytes.fromhex(s)
    except ValueError:
        raise HashFormatError(f"PDQ hash {hex_str[:80]!r} is not hexadecimal (0-9, a-f)") from None


def hexes_to_words(hexes: Iterable[str]) -> np.ndarray:
    """PDQ hex strings -> (n, 4) uint64, big-endian words (bit 0 of the hash is the top bit):
    the rows of the bank index and of vPDQ's frame-list comparison."""
    raw = b"".join(hex_to_bytes(h) for h in hexes)
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64).reshape(-1, WORDS)


def words_to_hexes(words: np.ndarray) -> list[str]:
    """The inverse of ``hexes_to_words``."""
    raw = np.ascontiguousarray(words, dtype=np.uint64).astype(">u8").tobytes()
    return [raw[i : i + 32].hex() for i in range(0, len(raw), 32)]


def hamming_hex(a: str, b: str) -> int:
    """Hamming distance between two PDQ hex strings."""
    return (
        int.from_bytes(hex_to_bytes(a), "big") ^ int.from_bytes(hex_to_bytes(b), "big")
    ).bit_count()


def backend() -> Any:
    """The PDQ implementation: ``_pdq_numba`` (same bits, ~2x faster) when numba is installed
    and GARDEFOU_PDQ is not ``pdqhash``, else the ``pdqhash`` package."""
    global _BACKEND
    if _BACKEND is None:
        choice = os.environ.get("GARDEFOU_PDQ", "auto").strip().lower() or "auto"
        if choice not in ("auto", "numba", "pdqhash"):
            raise ConfigError(
                f"GARDEFOU_PDQ={choice!r}; set it to auto (default), numba or pdqhash"
            )
        module: Any = None
        if choice != "pdqhash":
            try:
                module = importlib.import_module("gardefou.signals._pdq_numba")
            except ImportError:
                if choice == "numba":
                    raise ConfigError(
                        "GARDEFOU_PDQ=numba but numba is not installed; `pip install numba` "
                        "or unset GARDEFOU_PDQ"
                    ) from None
            if module is not None and not _agrees_with_pdqhash(module):
                if choice == "numba":
                    raise ConfigError(
                        "GARDEFOU_PDQ=numba but the compiled PDQ failed its self-check against "
                        "pdqhash here; unset GARDEFOU_PDQ to use pdqhash"
                    )
                warnings.warn(
                    "the compiled PDQ failed its self-check against pdqhash; using pdqhash",
                    RuntimeWarning,
                    stacklevel=2,
                )
                module = None
        _BACKEND = module if module is not None else importlib.import_module("pdqhash")
    return _BACKEND


def _agrees_with_pdqhash(module: Any) -> bool:
    """Compile (or load from the cache) and compare with pdqhash on a fixed image: a platform
    where numba cannot compile or cache, or computes differently, keeps pdqhash."""
    import pdqhash

    img = np.random.default_rng(20260125).integers(0, 256, (61, 83, 3), dtype=np.uint8)
    try:
        got, got_q = module.compute_dihedral(img)
    except Exception:  # noqa: BLE001 - any compile/cache failure means "use pdqhash"
        return False
    want, want_q = pdqhash.compute_dihedral(img)
    same = len(got) == len(want) and all(
        (np.asarray(w) == g).all() for w, g in zip(want, got, strict=True)
    )
    return bool(got_q == want_q and same)


_BACKEND: Any = None


def _impl(arr: np.ndarray) -> Any:
    """The backend for ``arr``: inputs under 8 px stay with pdqhash (its tiny-image rules)."""
    if min(arr.shape[:2]) < 8:
        import pdqhash

        return pdqhash
    return backend()


def pdq_hash(img: Image.Image | np.ndarray) -> tuple[str, int]:
    """(hex, quality) of an RGB image, bit-exact with the reference file hasher."""
    arr = reference_pixels(img)
    bits, quality = _impl(arr).compute(arr)
    return bits_to_hex(bits), int(quality)


def pdq_dihedral(img: Image.Image | np.ndarray) -> tuple[list[str], int]:
    """The 8 dihedral hashes (see DIHEDRAL_NAMES) and the quality."""
    full = _rgb(img)
    idx = reference_indices(*full.shape[:2])
    impl = backend()
    if idx is not None and hasattr(impl, "compute_dihedral_reference"):
        hashes, quality = impl.compute_dihedral_reference(np.ascontiguousarray(full), *idx)
        return [bits_to_hex(h) for h in hashes], int(quality)
    arr = reference_pixels(full)
    hashes, quality = _impl(arr).compute_dihedral(arr)
    return [bits_to_hex(h) for h in hashes], int(quality)
