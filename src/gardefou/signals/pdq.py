"""PDQ perceptual hash (+ quality), bit-exact with the reference C++ implementation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gardefou.media import Media
from gardefou.signals.base import Signal, SignalResult
from gardefou.signals.pdq_core import MIN_QUALITY, pdq_dihedral, pdq_hash


class PdqSignal(Signal):
    version = "1"

    def extract(self, media: Media, context: Mapping[str, Any] | None = None) -> SignalResult:
        hex_hash, quality = media.cached("pdq", lambda: _pdq(media))
        usable = quality >= MIN_QUALITY
        explanation = f"PDQ {hex_hash[:16]}… quality {quality}" + (
            "" if usable else f" (below {MIN_QUALITY}: too uniform to match reliably)"
        )
        return self.result(hex_hash, quality / 100.0, explanation, quality=quality, usable=usable)


def _pdq(media: Media) -> tuple[str, int]:
    """The plain hash is the dihedral set's "original" (the same computation), so when both
    signals run the image is hashed once; a 64x64 image is the exception: the reference's
    single-hash path takes it as already downsampled, the dihedral path blurs it."""
    rgb = media.rgb_array()
    if rgb.shape[:2] == (64, 64):
        return pdq_hash(rgb)
    hashes, quality = media.cached("pdq_dihedral", lambda: pdq_dihedral(rgb))
    return hashes[0], quality
