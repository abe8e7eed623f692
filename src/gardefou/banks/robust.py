"""Hashes that make edited copies match: rotations, mirrors, borders, banners, crops.

PDQ survives re-encoding, resizing, blur and colour changes, but not geometry: a copy rotated
by 90 degrees or mirrored is ~128 bits away, and shifting the frame by 1% of the width moves
~25 bits (measured on the BSDS photos: a 2.5% shift ~60 bits, a 5% shift ~120, i.e. random).

* Rotations and mirrors (always on): the query is hashed in its 8 dihedral forms (one pass of
  pdqhash's ``compute_dihedral``), so a rotated or mirrored copy of a banked image matches as
  the upright copy would. The bank stores one hash per image.
* Re-framing (always on, query side): ``trimmed`` peels solid-colour bands off the copy
  (borders, letterbox padding, screenshot bars, caption banners) and the content inside is
  hashed too, upright only (one more hash per distinct box found, ~3 on average when there are
  bands, none otherwise). Works with a
  hash-only bank. It fails when the photo's own edge is one flat colour (a clear sky, a
  plain wall): the peel then eats into the photo.
* Crop-resilient mode (bank side, needs the image): ``crop_variants`` stores the original
  peeled the same ways plus its central 90% and 80% as extra hashes of the entry. A centred
  10%/20% crop and the flat-edge photos above then match; an off-centre crop or one between
  the stored scales still does not (PDQ's translation sensitivity, above). Costs ~3.6 index
  rows per entry instead of 1. Numbers: benchmarks/copy_detection.py and docs/banks.md.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from gardefou.signals.pdq_core import DIHEDRAL_NAMES, pdq_dihedral, pdq_hash

#: fraction of each side kept by the central crops
CROP_FRACTIONS = (0.9, 0.8)
#: per-channel difference within which a pixel counts as the band's colour (JPEG noise)
TRIM_TOLERANCE = 24


def central_crop(img: Image.Image, keep: float) -> Image.Image:
    w, h = img.size
    cw, ch = max(1, round(w * keep)), max(1, round(h * keep))
    left, top = (w - cw) // 2, (h - ch) // 2
    return img.crop((left, top, left + cw, top + ch))


def _peel(a: np.ndarray, limit: int, tol: int, majority: float, bands: int) -> int:
    """How many leading rows of ``a`` (rows, cols, 3) belong to up to 3 solid-colour bands:
    a band starts with a row of one colour (97% of pixels within ``tol`` of its median) and
    runs while 60% of each row keeps that colour (a caption's text covers the rest)."""
    removed = 0
    limit = min(limit, len(a))
    for _ in range(bands):
        if removed >= limit:
            break
        row = a[removed]
        colour = np.median(row, axis=0).astype(np.int16)
        if (np.abs(row - colour).max(axis=1) <= tol).mean() < 0.97:
            break
        start = removed
        while removed < limit:  # in blocks: most bands are short, most photos have none
            block = a[removed : min(removed + 16, limit)]
            near = (np.abs(block - colour).max(axis=2) <= tol).mean(axis=1) >= majority
            if not near.all():
                removed += int(np.argmin(near))
                break
            removed += len(block)
        if removed == start:
            break
    return min(removed, limit)


def _pixels(img: Image.Image) -> tuple[np.ndarray, np.ndarray, float]:
    """int16 pixels (bounded to 768 px for speed), the same with columns as rows, the scale."""
    small = img.convert("RGB")
    scale = 1.0
    if max(small.size) > 768:  # detect on a bounded copy, map back to full size
        scale = max(small.size) / 768
        size = (round(small.width / scale), round(small.height / scale))
        small = small.resize(size, Image.Resampling.BILINEAR)
    a = np.asarray(small, dtype=np.int16)
    return a, np.ascontiguousarray(a.transpose(1, 0, 2)), scale


def _box(
    px: tuple[np.ndarray, np.ndarray, float],
    tol: int,
    majority: float,
    bands: int,
    max_frac: float,
) -> tuple[int, int, int, int] | None:
    a, at, scale = px
    h, w = a.shape[:2]
    top, bottom, left, right = 0, h, 0, w
    for _ in range(2):  # rows, then columns within the rows kept, then again
        view = a[top:bottom, left:right]
        limit = int(h * max_frac)
        top_n = _peel(view, limit, tol, majority, bands)
        bottom_n = _peel(view[::-1], limit, tol, majority, bands)
        top, bottom = top + top_n, bottom - bottom_n
        if bottom - top < h * 0.1:
            return None
        view = at[left:right, top:bottom]
        limit = int(w * max_frac)
        left_n = _peel(view, limit, tol, majority, bands)
        right_n = _peel(view[::-1], limit, tol, majority, bands)
        left, right = left + left_n, right - right_n
        if right - left < w * 0.1:
            return None
    if max(top, h - bottom) < h * 0.01 and max(left, w - right) < w * 0.01:
        return None
    return (round(left * scale), round(top * scale), round(right * scale), round(bottom * scale))


def content_box(
    img: Image.Image,
    tol: int = TRIM_TOLERANCE,
    majority: float = 0.6,
    bands: int = 3,
    max_frac: float = 0.45,
) -> tuple[int, int, int, int] | None:
    """The box left after peeling solid-colour bands off each side: borders, letterbox and
    pillarbox padding, screenshot bars, caption banners. None when less than 1% would go from
    every side. A photo whose own edge is one flat colour (a clear sky) is peeled too; its
    untrimmed hashes still match unedited copies."""
    return _box(_pixels(img), tol, majority, bands, max_frac)


def _any_flat_edge(px: tuple[np.ndarray, np.ndarray, float], tol: int) -> bool:
    a, at, _ = px
    for line in (a[0], a[-1], at[0], at[-1]):
        colour = np.median(line, axis=0).astype(np.int16)
        if (np.abs(line - colour).max(axis=1) <= tol).mean() >= 0.97:
            return True
    return False


#: (majority, bands, tolerance) of the trims tried: rows all one colour (borders, padding) or
#: 60% one colour (captions over a flat bar); one band per side (a border next to a flat sky
#: stays a border) or up to three (a screenshot's status bar, then its background); a tight
#: tolerance (synthetic bands are flat, photos drift) or a loose one (heavy JPEG). The tight
#: set alone lifted hash-only recall on borders/banners/screenshots from ~82% to ~95%.
TRIMS = tuple(
    (m, b, t) for t in (8, TRIM_TOLERANCE) for m, b in ((0.97, 1), (0.6, 1), (0.97, 3), (0.6, 3))
)


def trimmed(img: Image.Image) -> list[Image.Image]:
    """The content inside solid bands, by each of TRIMS; distinct boxes only, empty when the
    image has no such bands."""
    px = _pixels(img)
    if not _any_flat_edge(px, max(t for _, _, t in TRIMS)):
        return []  # most photos: no band can start, skip the 8 peels
    boxes: list[tuple[int, int, int, int]] = []
    for majority, bands, tol in TRIMS:
        box = _box(px, tol, majority, bands, 0.45)
        if box is not None and box not in boxes:
            boxes.append(box)
    return [img.crop(b) for b in boxes]


def crop_variants(img: Image.Image, fractions: tuple[float, ...] = CROP_FRACTIONS) -> list[str]:
    """Extra PDQ hashes to store with an entry (``extra_pdq``) in crop-resilient mode: the
    image with uniform bands peeled off (when it has any) and its central crops."""
    out = [pdq_hash(inner)[0] for inner in trimmed(img)]
    out.extend(pdq_hash(central_crop(img, f))[0] for f in fractions)
    return out


def query_hashes(
    img: Image.Image, *, dihedral: bool = True, trim: bool = True
) -> tuple[dict[str, str], int]:
    """({label: hex}, quality) to pass to BankService.match: the 8 dihedral hashes (or only
    the original) and, when the copy has uniform bands around it (a border, padding,
    screenshot bars, a caption banner) and ``trim`` is on, the same for the content inside."""

    def forms(im: Image.Image, prefix: str) -> tuple[dict[str, str], int]:
        if dihedral:
            hashes, q = pdq_dihedral(im)
            return {prefix + n: h for n, h in zip(DIHEDRAL_NAMES, hashes, strict=True)}, q
        h, q = pdq_hash(im)
        return {prefix + "original": h}, q

    out, quality = forms(img, "")
    if trim:  # upright only: a copy both re-framed and rotated is rare, each hash costs
        for i, inner in enumerate(trimmed(img)):
            out[f"trimmed{i + 1}"] = pdq_hash(inner)[0]
    return out, quality
