"""Clips in the web service: the video bank store shared by scan, decisions, ingest and
takedown, and the video branch of ``POST /v1/scan``.

Video banks are tables of the service's database (``banks.video_store``): every worker adds
entries in its own transaction and brings its index up to date before each search, so a
takedown banked by one worker is matched by the others from their next upload and two
takedowns accepted at once both stay. A JSON Lines store of an earlier version
(``Settings.video_banks``, ``GARDEFOU_VIDEO_BANKS``; by default
``<database file>.video-banks.jsonl``) is imported once, when the service first needs its
video banks.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from gardefou.banks.video_store import VICTIM_VIDEO_BANK, VideoBankStore

_lock = threading.Lock()


def store_path(svc: Any) -> Path:
    """Where an earlier version kept the JSON Lines store (imported once)."""
    s = svc.settings
    if s.video_banks:
        return Path(s.video_banks)
    if s.db and "://" not in s.db:
        return Path(s.db + ".video-banks.jsonl")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "gardefou" / "video-banks.jsonl"


def video_store(svc: Any) -> Any:
    """The service's ``VideoBankStore`` (with the victim bank; an old JSON Lines store imported)."""

    def build() -> Any:
        store = VideoBankStore(svc.db)
        store.import_jsonl(store_path(svc))
        store.ensure_bank(VICTIM_VIDEO_BANK)
        return store

    with _lock:
        return svc.lazy("video_store", build)


def video_index(svc: Any) -> Any:
    """The store's ``VideoIndex``, up to date with every worker's writes."""
    return video_store(svc).index()


class LiveVideoIndex:
    """The store's current index for a long-lived ``decide.Services`` (which is built once)."""

    def __init__(self, svc: Any) -> None:
        self._svc = svc

    def match(self, query: Any, banks: Any = None) -> list[Any]:
        return list(video_store(self._svc).match(query, banks))


def bank_video_hashes(
    svc: Any,
    features: list[Any],
    md5: str | None,
    *,
    source: str,
    case_id: str | None,
    note: str = "",
) -> int:
    """Add one clip's hashes to the victim video bank; the entry id.
    ``source="submission"`` with ``note="pending"``: an anonymous submission, review only."""
    entry = video_store(svc).add(
        VICTIM_VIDEO_BANK, features, md5=md5, source=source, case_id=case_id, note=note
    )
    return int(entry.id)


def set_submission_state(svc: Any, case_number: str, state: str) -> int:
    """Follow a hash-only submission's review in the video banks: ``confirmed`` makes its clips'
    matches actionable, ``rejected`` / ``withdrawn`` remove them. Returns the entries changed."""
    return int(video_store(svc).set_submission_state(case_number, state))


def scan_clip(svc: Any, data: bytes, label: str) -> dict[str, Any]:
    """vPDQ and the configured frame signals of one clip, with video and frame bank matches.
    The caller holds a decode slot; the clip is refused (typed MediaError) past the limits."""
    from gardefou.banks.video import match_frames
    from gardefou.media.video import load_video
    from gardefou.media.video_scan import scan_video

    start = time.perf_counter()
    video = load_video(data, svc.settings.video_limits(), label=label)
    frame_signals = [
        n for n in svc.settings.scan_signals if n not in ("pdq", "pdq_dihedral", "crypto_hash")
    ]
    scan = scan_video(video, signals=frame_signals)
    out = scan.to_dict()
    out["path"] = label
    out["kind"] = "video"
    out["video_matches"] = [m.to_dict() for m in video_index(svc).match(scan.hashes)]
    out["matches"] = [m.to_dict() for m in match_frames(svc.banks(), scan.hashes.features)]
    out["timings_ms"] = {"decode_and_signals": round((time.perf_counter() - start) * 1000, 2)}
    scan.frames.clear()
    return out


__all__ = [
    "VICTIM_VIDEO_BANK",
    "LiveVideoIndex",
    "bank_video_hashes",
    "scan_clip",
    "set_submission_state",
    "store_path",
    "video_index",
    "video_store",
]
