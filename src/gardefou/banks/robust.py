"""Hashes that make edited copies match: dihedral (rotations/flips) and central crops.

PDQ is robust to re-encoding, resizing, blur and colour changes, but not to geometry: a copy
rotated by 90 degrees or mirrored is ~128 bits away, and cropping 10-20% moves 30-60 bits.

* Rotations and mirrors: the query is hashed in its 8 dihedral forms (one pass, pdqhash's
  ``compute_dihedral``), so a rotated or mirrored copy of a banked image matches exactly as the
  upright copy would. The bank stores one hash per image.
* Crops (the "crop-resilient" mode): when the bank side has the image (a platform's own
  takedown, or the submitter's own device), ``crop_variants`` adds hashes of the central
  90% and 80% of it to the entry, so a copy cropped by 10-20% lands near one of them. On the
  query side ``query_hashes(..., crops=True)`` adds the central 90% and 80% of the query, for
  copies with added borders, banners or padding. Costs: 2 more index rows per entry, 2 more
  hash computations and 16 more look-ups per query (see benchmarks/copy_detection.py).
"""

from __future__ import annotations

from PIL import Image

from gardefou.signals.pdq_core import DIHEDRAL_NAMES, pdq_dihedral, pdq_hash

#: fraction of each side kept by the central crops
CROP_FRACTIONS = (0.9, 0.8)


def central_crop(img: Image.Image, keep: float) -> Image.Image:
    w, h = img.size
    cw, ch = max(1, round(w * keep)), max(1, round(h * keep))
    left, top = (w - cw) // 2, (h - ch) // 2
    return img.crop((left, top, left + cw, top + ch))


def crop_variants(img: Image.Image, fractions: tuple[float, ...] = CROP_FRACTIONS) -> list[str]:
    """PDQ hashes of central crops of ``img`` (store them as an entry's ``extra_pdq``)."""
    return [pdq_hash(central_crop(img, f))[0] for f in fractions]


def query_hashes(
    img: Image.Image, *, dihedral: bool = True, crops: bool = False
) -> tuple[dict[str, str], int]:
    """({label: hex}, quality) to pass to BankService.match: the 8 dihedral hashes (or just
    the original) and, with ``crops``, the dihedral hashes of central crops as well."""
    if dihedral:
        hashes, quality = pdq_dihedral(img)
        out = dict(zip(DIHEDRAL_NAMES, hashes, strict=True))
    else:
        h, quality = pdq_hash(img)
        out = {"original": h}
    if crops:
        for f in CROP_FRACTIONS:
            sub = central_crop(img, f)
            tag = f"crop{round(f * 100)}"
            if dihedral:
                out.update(
                    {
                        f"{tag}:{n}": h
                        for n, h in zip(DIHEDRAL_NAMES, pdq_dihedral(sub)[0], strict=True)
                    }
                )
            else:
                out[tag] = pdq_hash(sub)[0]
    return out, quality
