"""Video bank entries over HTTP, beside the image banks' (``bank_entries.py``): the banks with
their thresholds, a bank's entries page by page, one entry, its removal, the bank as a
ThreatExchange file, and the audit trail.

Entries are hashes and metadata only (vPDQ frame hash lists, MD5/SHA-256, source, case): a
video bank never holds a clip. Reading takes a moderator or auditor key; removing, a moderator
(or admin) key, and writes its audit row (who: the key's name, why: ``reason``) in the removal's
transaction. A removal is a row update in the service's database, so every worker's index
drops the entry before its next match (``VideoBankStore.index``).
"""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse

from gardefou.banks import video_audit
from gardefou.banks.video_formats import entry_view, export_te
from gardefou.web.auth import Principal, Role
from gardefou.web.deps import RowId, Svc, require
from gardefou.web.video import video_store

router = APIRouter(prefix="/v1/video-banks", tags=["video banks"])
Reader = Annotated[Principal, Depends(require(Role.MODERATOR, Role.AUDITOR))]
Editor = Annotated[Principal, Depends(require(Role.MODERATOR))]


@router.get("", summary="Video banks with their thresholds and entry counts")
def list_banks(svc: Svc, caller: Reader) -> list[dict[str, Any]]:
    store = video_store(svc)
    return [
        {
            "name": b.name,
            "distance": b.distance,
            "quality": b.quality,
            "query_pct": b.query_pct,
            "entry_pct": b.entry_pct,
            "negative": b.negative,
            **store.bank_counts(b.name),
        }
        for b in store.banks().values()
    ]


@router.get("/{name}/entries", summary="Entries of a video bank, in id order (no frame lists)")
def list_entries(
    name: str,
    svc: Svc,
    caller: Reader,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    include_removed: bool = False,
    frames: Annotated[bool, Query(description="include each entry's frame hash lists")] = False,
) -> dict[str, Any]:
    store = video_store(svc)
    rows = store.entry_rows(name, limit=limit, offset=offset, include_removed=include_removed)
    return {
        "bank": name,
        "offset": offset,
        "limit": limit,
        "entries": [entry_view(r, frames) for r in rows],
        "stats": store.bank_counts(name),
    }


@router.get("/entries/{entry_id}", summary="One video entry, with its frame hash lists")
def get_entry(entry_id: RowId, svc: Svc, caller: Reader) -> dict[str, Any]:
    return entry_view(video_store(svc).entry_row(entry_id), frames=True)


@router.delete("/entries/{entry_id}", summary="Remove a video entry from matching for good")
def delete_entry(
    entry_id: RowId, svc: Svc, caller: Editor, reason: Annotated[str, Query(max_length=500)] = ""
) -> dict[str, Any]:
    video_store(svc).remove(entry_id, actor=caller.name, reason=reason)
    return {"id": entry_id, "removed": True}


@router.get("/{name}/file", summary="A video bank as ThreatExchange vpdq / video_md5 lines")
def export_file(name: str, svc: Svc, caller: Reader) -> PlainTextResponse:
    out = io.StringIO()
    export_te(video_store(svc), name, out)  # what `gardefou video bank export` writes
    return PlainTextResponse(out.getvalue())


@router.get("/{name}/audit", summary="Audit trail of a video bank, newest first")
def bank_audit(
    name: str, svc: Svc, caller: Reader, limit: Annotated[int, Query(ge=1, le=10_000)] = 1000
) -> list[dict[str, Any]]:
    store = video_store(svc)
    return video_audit.rows(store.db, bank_id=store.bank_id(name), limit=limit)


@router.get("/entries/{entry_id}/audit", summary="Audit trail of one video entry")
def entry_audit(entry_id: RowId, svc: Svc, caller: Reader) -> list[dict[str, Any]]:
    store = video_store(svc)
    store.entry_row(entry_id)  # 404 naming the id
    return video_audit.rows(store.db, entry_id=entry_id)


__all__ = ["router"]
