"""Clips in the web service: the video bank store shared by scan, decisions, ingest and
takedown, and the video branch of ``POST /v1/scan``.

The store is the JSON Lines file of ``gardefou video bank`` (``Settings.video_banks``,
``GARDEFOU_VIDEO_BANKS``; by default ``<database file>.video-banks.jsonl``, or the CLI's default
for a PostgreSQL database). Each process re-reads it when its modification time changes, so a
takedown banked by one worker is matched by the others from their next upload.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

#: the bank that accepted takedown requests and hash submissions feed (a victim bank)
VICTIM_VIDEO_BANK = "victim-videos"
_lock = threading.Lock()


def store_path(svc: Any) -> Path:
    s = svc.settings
    if s.video_banks:
        return Path(s.video_banks)
    if s.db and "://" not in s.db:
        return Path(s.db + ".video-banks.jsonl")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "gardefou" / "video-banks.jsonl"


def video_index(svc: Any) -> Any:
    """The store's ``VideoIndex`` (always with the victim bank), reloaded when the file changes."""
    from gardefou.banks.video import VideoIndex
    from gardefou.banks.video_formats import load

    path = store_path(svc)
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        mtime = None
    with _lock:
        cached = svc.lazy("video_index_cache", dict)
        if cached.get("path") != path or cached.get("mtime") != mtime or "index" not in cached:
            index = load(path) if mtime is not None else VideoIndex()
            if VICTIM_VIDEO_BANK not in index.banks:
                index.create_bank(VICTIM_VIDEO_BANK)
            cached.update(path=path, mtime=mtime, index=index)
        return cached["index"]


class LiveVideoIndex:
    """The store's current index for a long-lived ``decide.Services`` (which is built once)."""

    def __init__(self, svc: Any) -> None:
        self._svc = svc

    def match(self, query: Any, banks: Any = None) -> list[Any]:
        return list(video_index(self._svc).match(query, banks))


def _save(svc: Any, index: Any) -> None:
    """Write the store (atomically) and remember its new time; the caller holds ``_lock``."""
    from gardefou.banks.video_formats import save

    path = store_path(svc)
    path.parent.mkdir(parents=True, exist_ok=True)
    save(index, path)
    svc.lazy("video_index_cache", dict)["mtime"] = path.stat().st_mtime_ns


def bank_video_hashes(
    svc: Any,
    features: list[Any],
    md5: str | None,
    *,
    source: str,
    case_id: str | None,
    note: str = "",
) -> int:
    """Add one clip's hashes to the victim video bank and save the store; the entry id.
    ``source="submission"`` with ``note="pending"``: an anonymous submission, review only."""
    index = video_index(svc)
    with _lock:
        entry = index.add(
            VICTIM_VIDEO_BANK, features, md5=md5, source=source, case_id=case_id, note=note
        )
        _save(svc, index)
    return int(entry.id)


def set_submission_state(svc: Any, case_number: str, state: str) -> int:
    """Follow a hash-only submission's review in the video store: ``confirmed`` makes its clips'
    matches actionable, ``rejected`` / ``withdrawn`` remove them. Returns the entries changed."""
    index = video_index(svc)
    case = case_number.strip().upper()
    with _lock:
        mine = [
            e
            for e in list(index.entries.values())
            if e.source == "submission" and (e.case_id or "").upper() == case
        ]
        for e in mine:
            index.remove(e.id)
            if state == "confirmed":
                index.add(
                    e.bank, e.features, cropped=e.cropped, md5=e.md5, sha256=e.sha256,
                    source=e.source, case_id=e.case_id, note="confirmed",
                )  # fmt: skip
        if mine:
            _save(svc, index)
    return len(mine)


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
]
