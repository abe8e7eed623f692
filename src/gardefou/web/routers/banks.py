"""Banks and matching: list/create banks, add entries, enable/disable one entry, match hashes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import Field

from gardefou.web.auth import Principal, Role
from gardefou.web.bodies import StrictBody
from gardefou.web.deps import RowId, Svc, require

router = APIRouter(prefix="/v1", tags=["banks"])
Reader = Annotated[Principal, Depends(require(Role.MODERATOR, Role.AUDITOR, Role.PLATFORM))]
Editor = Annotated[Principal, Depends(require(Role.MODERATOR))]
Matcher = Annotated[Principal, Depends(require(Role.PLATFORM, Role.MODERATOR))]
Admin = Annotated[Principal, Depends(require())]
HEX = "^[0-9a-fA-F]{64}$"


class BankIn(StrictBody):
    name: str = Field(min_length=1, max_length=64, pattern="^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    threshold: int = Field(31, ge=0, le=128)
    negative: bool = False
    description: str = Field("", max_length=500)
    enable_ratio: float = Field(1.0, ge=0.0, le=1.0)


class EntryIn(StrictBody):
    pdq: str = Field(pattern=HEX)
    quality: int = Field(ge=50, le=100)
    source: str = Field("", max_length=200)
    case_id: str | None = Field(None, max_length=100)
    note: str = Field("", max_length=500)


class EntriesIn(StrictBody):
    entries: list[EntryIn] = Field(min_length=1, max_length=10_000)
    reason: str = Field("", max_length=500)


class EnabledIn(StrictBody):
    enabled: bool
    reason: str = Field("", max_length=500)


class MatchIn(StrictBody):
    pdq: list[str] = Field(min_length=1, max_length=8, description="1 hash, or the 8 dihedral")
    quality: int | None = Field(None, ge=0, le=100)
    banks: list[str] | None = Field(None, max_length=50)


@router.get("/banks", summary="Banks with their settings and entry counts")
def list_banks(svc: Svc, caller: Reader) -> list[dict[str, Any]]:
    banks = svc.banks()
    return [{**b.to_dict(), "stats": banks.bank_stats(b)} for b in banks.list_banks()]


@router.post("/banks", status_code=201, summary="Create a bank")
def create_bank(body: BankIn, svc: Svc, caller: Admin) -> dict[str, Any]:
    b = svc.banks().create_bank(
        body.name,
        threshold=body.threshold,
        negative=body.negative,
        description=body.description,
        enable_ratio=body.enable_ratio,
        actor=caller.name,
    )
    return dict(b.to_dict())


@router.post("/banks/{name}/entries", status_code=201, summary="Add hash entries to a bank")
def add_entries(name: str, body: EntriesIn, svc: Svc, caller: Editor) -> dict[str, Any]:
    rows = [e.model_dump() for e in body.entries]
    ids = svc.banks().add_entries(name, rows, actor=caller.name, reason=body.reason)
    return {"bank": name, "entry_ids": ids}


@router.post("/banks/entries/{entry_id}/enabled", summary="Enable or disable one entry")
def set_enabled(entry_id: RowId, body: EnabledIn, svc: Svc, caller: Editor) -> dict[str, Any]:
    svc.banks().set_enabled(entry_id, body.enabled, actor=caller.name, reason=body.reason)
    return dict(svc.banks().get_entry(entry_id).to_dict())


@router.post("/match", summary="Bank entries within threshold of the given PDQ hashes")
def match(body: MatchIn, svc: Svc, caller: Matcher) -> list[dict[str, Any]]:
    hashes: Any = body.pdq[0] if len(body.pdq) == 1 else body.pdq
    return [m.to_dict() for m in svc.banks().match(hashes, quality=body.quality, banks=body.banks)]
