"""The 8 dihedral PDQ hashes (rotations and flips), so rotated or mirrored copies match."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gardefou.media import Media
from gardefou.signals.base import Signal, SignalResult
from gardefou.signals.pdq_core import DIHEDRAL_NAMES, pdq_dihedral


class PdqDihedralSignal(Signal):
    version = "1"

    def extract(self, media: Media, context: Mapping[str, Any] | None = None) -> SignalResult:
        hashes, quality = media.cached("pdq_dihedral", lambda: pdq_dihedral(media.rgb_array()))
        value = dict(zip(DIHEDRAL_NAMES, hashes, strict=True))
        return self.result(
            value, quality / 100.0, "PDQ of the 8 rotations/flips of the pixels", quality=quality
        )
