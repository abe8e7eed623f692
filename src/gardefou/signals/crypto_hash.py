"""MD5 and SHA-256 of the exact bytes: identical-file matching and evidence addressing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gardefou.media import Media
from gardefou.signals.base import Signal, SignalResult


class CryptoHashSignal(Signal):
    version = "1"

    def extract(self, media: Media, context: Mapping[str, Any] | None = None) -> SignalResult:
        value = {"md5": media.md5, "sha256": media.sha256}
        return self.result(
            value, None, f"SHA-256 {media.sha256[:16]}… of {len(media.data):,} bytes"
        )
