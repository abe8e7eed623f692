"""POST /v1/scan: one uploaded image or clip in, media facts, signals and bank matches out
(a clip: its vPDQ, signals on sampled frames, video and frame matches; docs/video.md)."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, UploadFile

from gardefou.media.video_items import is_video
from gardefou.scan import ScanRecord, run_signals
from gardefou.web.auth import Principal, Role
from gardefou.web.deps import Svc, require
from gardefou.web.media import decode_gate, load_upload
from gardefou.web.video import scan_clip

router = APIRouter(prefix="/v1", tags=["scan"])


@router.post("/scan", summary="Scan one image or clip: hashes, signals and bank matches")
def scan(
    svc: Svc,
    caller: Annotated[Principal, Depends(require(Role.PLATFORM, Role.MODERATOR))],
    file: Annotated[
        UploadFile,
        File(description="the image (JPEG, PNG, WebP, GIF, ...) or clip (MP4, MOV, WebM, MKV)"),
    ],
) -> dict[str, Any]:
    start = time.perf_counter()
    data = file.file.read()
    # One decode slot for as long as the pixels live (intake, signals, matches): a bounded number
    # of decoded images in memory per process, whatever the number of parallel uploads.
    with decode_gate(svc).hold():
        if is_video(data):  # MP4, MOV, WebM, MKV: vPDQ and the signals on sampled frames
            out = scan_clip(svc, data, file.filename or "upload")
            out["elapsed_ms"] = round((time.perf_counter() - start) * 1000, 2)
            return out
        media = load_upload(svc, data, file.filename or "upload")
        record = ScanRecord(path=file.filename or "upload", media=media)
        record.results = run_signals(media, svc.settings.scan_signals, timings=record.timings_ms)
        if svc.settings.persist_scans:
            from gardefou.store.media import MediaRepository

            MediaRepository(svc.db).save_scan(media, record.results)
        out = record.to_dict()
        out["matches"] = _matches(svc, record)
    out["elapsed_ms"] = round((time.perf_counter() - start) * 1000, 2)
    return out


def _matches(svc: Svc, record: ScanRecord) -> list[dict[str, Any]]:
    """Bank matches of the scanned image (all 8 dihedral hashes when that signal ran)."""
    by_name = {r.name: r for r in record.results if r.available}
    query: Any = None
    quality = None
    if "pdq_dihedral" in by_name:
        query = by_name["pdq_dihedral"].value
    elif "pdq" in by_name:
        query = by_name["pdq"].value
    if query is None:
        return []
    pdq = by_name.get("pdq") or by_name.get("pdq_dihedral")
    if pdq is not None and pdq.details:
        quality = pdq.details.get("quality")
    sha = record.media.sha256 if record.media else None
    return [m.to_dict() for m in svc.banks().match(query, quality=quality, sha256=sha)]
