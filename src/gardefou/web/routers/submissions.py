"""Hash-only protection (as StopNCII does): a person submits the PDQ hashes of an intimate image,
computed in their browser, before anyone shares it; matching uploads are then caught. No
account; a case number + PIN to check or withdraw (withdrawal stops matching at once)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from gardefou.errors import AuthError, BankError, NotFoundError
from gardefou.web.deps import Caller, Services, Svc
from gardefou.web.routers.takedown import HashIn, LookupIn

router = APIRouter(prefix="/v1/submissions", tags=["takedown"])
BANK = "victims"


class SubmissionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hashes: list[HashIn] = Field(min_length=1, max_length=64)


def _banks(svc: Services) -> Any:
    banks = svc.banks()
    try:
        banks.get_bank(BANK)
    except NotFoundError:
        banks.create_bank(
            BANK,
            description="hashes from takedown requests and victims' submissions",
            actor="portal",
        )
    return banks


@router.post("", status_code=201, summary="Submit image hashes to protect (no account)")
def submit(body: SubmissionIn, svc: Svc, caller: Caller) -> dict[str, Any]:
    low = [h for h in body.hashes if h.quality < 50]
    if low:
        raise BankError(
            f"{len(low)} hash(es) have quality below 50 (too uniform to match "
            "reliably); choose a sharper copy of the image"
        )
    pairs = [(h.pdq.lower(), h.quality) for h in body.hashes]
    case_number, pin = _banks(svc).submit_hashes(BANK, pairs, actor="portal")
    return {"case_number": case_number, "pin": pin, "hashes": len(pairs)}


def _lookup(svc: Services, body: LookupIn) -> Any:
    try:
        return _banks(svc).get_submission(body.case_number, body.pin)
    except (NotFoundError, AuthError):
        # one answer for an unknown case and a wrong PIN: case numbers cannot be probed
        raise AuthError("case number or PIN is wrong; check both and try again") from None


@router.post("/status", summary="A submission's status (case number + PIN)")
def status(body: LookupIn, svc: Svc, caller: Caller) -> dict[str, Any]:
    s = _lookup(svc, body)
    return {
        "case_number": s.case_number,
        "status": s.status,
        "hashes": len(s.entry_ids),
        "created_at": s.created_at,
        "withdrawn_at": s.withdrawn_at,
    }


@router.post("/withdraw", summary="Withdraw a submission: its hashes stop matching at once")
def withdraw(body: LookupIn, svc: Svc, caller: Caller) -> dict[str, Any]:
    _lookup(svc, body)
    removed = _banks(svc).withdraw_submission(body.case_number, body.pin, actor="portal")
    return {
        "case_number": body.case_number.strip().upper(),
        "status": "withdrawn",
        "entries_removed": removed,
    }
