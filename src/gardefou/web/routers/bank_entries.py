"""Bank management over HTTP: entries (list, read, update, remove), bank settings, import and
export files, kept signals of other types, and the audit trail (what was CLI-only).

Every change goes through BankService, so it writes its audit row (who: the API key's name,
why: ``reason``) in the same transaction. Import bodies are the file itself (csv, te or hma
text, up to the upload limit) posted to ``/v1/bank-files/{bank}?format=``.
"""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import Field

from gardefou.banks import other_signals
from gardefou.banks.formats import FORMATS, export_bank, import_text
from gardefou.errors import BankError
from gardefou.web.auth import Principal, Role
from gardefou.web.bodies import StrictBody
from gardefou.web.deps import RowId, Svc, require

router = APIRouter(prefix="/v1", tags=["banks"])
Reader = Annotated[Principal, Depends(require(Role.MODERATOR, Role.AUDITOR))]
Editor = Annotated[Principal, Depends(require(Role.MODERATOR))]
Admin = Annotated[Principal, Depends(require())]
_MEDIA = {"csv": "text/csv", "te": "text/plain", "hma": "application/x-ndjson"}


class EntryPatch(StrictBody):
    enabled: bool | None = None
    disabled_until: float | None = Field(
        None, ge=0, description="unix seconds before which the entry does not match"
    )
    clear_disabled_until: bool = False
    note: str | None = Field(None, max_length=500)
    case_id: str | None = Field(None, max_length=100)
    reason: str = Field("", max_length=500)


class BankPatch(StrictBody):
    threshold: int | None = Field(None, ge=0, le=128)
    negative: bool | None = None
    enabled: bool | None = None
    enable_ratio: float | None = Field(None, ge=0.0, le=1.0)
    description: str | None = Field(None, max_length=500)
    reason: str = Field("", max_length=500)


def _entry_view(svc: Svc, entry: Any) -> dict[str, Any]:
    from gardefou.exchanges.store import provenance

    d = dict(entry.to_dict())
    d["exchange"] = provenance(svc.db, [entry.id]).get(entry.id)
    return d


@router.get("/banks/{name}/entries", summary="Entries of a bank, in id order")
def list_entries(
    name: str,
    svc: Svc,
    caller: Reader,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
    include_removed: bool = False,
) -> dict[str, Any]:
    banks = svc.banks()
    entries = banks.list_entries(name, limit=limit, offset=offset, include_removed=include_removed)
    return {
        "bank": name,
        "offset": offset,
        "entries": [e.to_dict() for e in entries],
        "stats": banks.bank_stats(name),
    }


@router.get("/banks/entries/{entry_id}", summary="One entry, with the exchange it came from")
def get_entry(entry_id: RowId, svc: Svc, caller: Reader) -> dict[str, Any]:
    return _entry_view(svc, svc.banks().get_entry(entry_id))


@router.patch("/banks/entries/{entry_id}", summary="Enable, disable (until a time), annotate")
def patch_entry(entry_id: RowId, body: EntryPatch, svc: Svc, caller: Editor) -> dict[str, Any]:
    until: float | bool | None = False
    if body.clear_disabled_until:
        until = None
    elif body.disabled_until is not None:
        until = body.disabled_until
    e = svc.banks().update_entry(
        entry_id,
        enabled=body.enabled,
        disabled_until=until,
        note=body.note,
        case_id=body.case_id,
        actor=caller.name,
        reason=body.reason,
    )
    return _entry_view(svc, e)


@router.delete("/banks/entries/{entry_id}", summary="Remove an entry from matching for good")
def delete_entry(
    entry_id: RowId, svc: Svc, caller: Editor, reason: Annotated[str, Query(max_length=500)] = ""
) -> dict[str, Any]:
    svc.banks().remove_entry(entry_id, actor=caller.name, reason=reason)
    return {"id": entry_id, "removed": True}


@router.patch("/banks/{name}", summary="Change a bank's threshold, ratio, state, description")
def patch_bank(name: str, body: BankPatch, svc: Svc, caller: Admin) -> dict[str, Any]:
    fields = body.model_dump(exclude={"reason"}, exclude_none=True)
    b = svc.banks().update_bank(name, actor=caller.name, reason=body.reason, **fields)
    return dict(b.to_dict())


@router.delete("/banks/{name}", summary="Delete a bank (rows stay for the audit trail)")
def delete_bank(
    name: str, svc: Svc, caller: Admin, reason: Annotated[str, Query(max_length=500)] = ""
) -> dict[str, Any]:
    n = svc.banks().delete_bank(name, actor=caller.name, reason=reason)
    return {"bank": name, "deleted": True, "entries_removed": n}


@router.get("/banks/{name}/signals", summary="Kept signals of types not matched yet (video...)")
def list_other_signals(name: str, svc: Svc, caller: Reader) -> dict[str, Any]:
    b = svc.banks().get_bank(name)
    return {
        "bank": name,
        "counts": other_signals.counts(svc.db, b.id),
        "signals": other_signals.list_rows(svc.db, b.id),
    }


@router.get("/banks/{name}/audit", summary="Audit trail of a bank, newest first")
def bank_audit(
    name: str, svc: Svc, caller: Reader, limit: Annotated[int, Query(ge=1, le=10_000)] = 1000
) -> list[dict[str, Any]]:
    return svc.banks().audit_log(name, limit=limit)


@router.get("/banks/entries/{entry_id}/audit", summary="Audit trail of one entry")
def entry_audit(entry_id: RowId, svc: Svc, caller: Reader) -> list[dict[str, Any]]:
    return svc.banks().audit_log(entry_id=entry_id)


@router.post("/bank-files/{name}", summary="Import a csv, te or hma file into a bank")
async def import_file(
    name: str,
    request: Request,
    svc: Svc,
    caller: Editor,
    format: Annotated[str, Query(pattern="^(csv|te|hma)$")] = "csv",
    reason: Annotated[str, Query(max_length=500)] = "",
    source: Annotated[str, Query(max_length=200)] = "",
) -> dict[str, Any]:
    raw = await request.body()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BankError("the import body is not UTF-8 text; send the file as is") from None
    report = import_text(
        svc.banks(),
        name,
        text,
        format,
        actor=caller.name,
        reason=reason,
        source=source or f"api:{caller.name}",
    )
    return report.to_dict()


@router.get("/bank-files/{name}", summary="Export a bank as csv, te or hma")
def export_file(
    name: str,
    svc: Svc,
    caller: Reader,
    format: Annotated[str, Query(pattern="^(csv|te|hma)$")] = "csv",
) -> PlainTextResponse:
    out = io.StringIO()
    export_bank(svc.banks(), name, out, format)
    return PlainTextResponse(out.getvalue(), media_type=_MEDIA[format])


__all__ = ["FORMATS", "router"]
