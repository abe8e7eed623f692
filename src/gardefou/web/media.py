"""Decoding uploads in the service: the service's intake limits (a lower pixel limit than the
CLI's), a bounded number of decodes at a time per process, and review thumbnails made once."""

from __future__ import annotations

from typing import Any

from gardefou.errors import GardefouError, MediaUnreadableError
from gardefou.media import Media, load_media
from gardefou.media.gate import DecodeGate
from gardefou.media.thumbnail import review_thumbnails


def decode_gate(svc: Any) -> DecodeGate:
    """The process's decode slots (``GARDEFOU_MAX_DECODES``). Hold one around everything that
    keeps decoded pixels (intake, signals, thumbnails); never take a second one inside."""
    s = svc.settings
    gate: DecodeGate = svc.lazy("decode_gate", lambda: DecodeGate(s.max_decodes, s.decode_wait_s))
    return gate


def load_upload(svc: Any, data: bytes, label: str) -> Media:
    """Intake with the service's limits; a decoder bug is a bad input (422), not a 500."""
    try:
        return load_media(data, svc.settings.media_limits(), label=label)
    except GardefouError:
        raise
    except Exception as exc:  # noqa: BLE001 - third-party decoders raise anything
        raise MediaUnreadableError(f"{label}: unexpected {type(exc).__name__}: {exc}") from None


def make_thumbnails(svc: Any, data: bytes, label: str = "review image") -> tuple[bytes, bytes]:
    """(plain, blurred) review thumbnails of ``data``; the caller holds a decode slot."""
    return review_thumbnails(load_upload(svc, data, label))
