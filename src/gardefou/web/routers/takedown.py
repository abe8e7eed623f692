"""Takedown portal API: file a request (no account), follow it with case number + PIN; the
moderators' queue ordered by deadline, alerts before a breach, accept (remove + bank) or reject."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import Field, field_validator

from gardefou.takedown import Contact, DepictionHash, Kind, NewRequest, Signature, VideoHash
from gardefou.web.auth import Principal, Role
from gardefou.web.bodies import StrictBody
from gardefou.web.deps import Caller, RowId, Svc, require

router = APIRouter(prefix="/v1/takedown", tags=["takedown"])
Staff = Annotated[Principal, Depends(require(Role.MODERATOR, Role.AUDITOR))]
Moderator = Annotated[Principal, Depends(require(Role.MODERATOR))]


class SignatureIn(StrictBody):
    name: str = Field(max_length=200, description="full name typed as an electronic signature")
    on_behalf: bool = False
    authority: str = Field("", max_length=200, description="basis for acting on someone's behalf")


class HashIn(StrictBody):
    pdq: str = Field(min_length=64, max_length=64, pattern="^[0-9a-fA-F]{64}$")
    quality: int = Field(ge=0, le=100)


class VideoIn(StrictBody):
    """A clip's hashes: ``gardefou video hash --format te`` prints both."""

    vpdq: str = Field(
        "", max_length=200_000, description="vPDQ signal: JSON list of hex,quality,timestamp"
    )
    md5: str = Field("", max_length=32, pattern="^([0-9a-fA-F]{32})?$")


class ContactIn(StrictBody):
    email: str = Field("", max_length=320)
    phone: str = Field("", max_length=50)
    postal: str = Field("", max_length=500)


class TakedownIn(StrictBody):
    """The four elements of a TAKE IT DOWN Act request, or a regulator's removal notice."""

    kind: Literal["take_it_down", "regulator_notice"] = "take_it_down"
    signature: SignatureIn
    hashes: list[HashIn] = Field(default_factory=list, max_length=64)
    locations: list[str] = Field(default_factory=list, max_length=64)
    videos: list[VideoIn] = Field(default_factory=list, max_length=16)
    description: str = Field("", max_length=2000)
    good_faith_statement: str = Field("", max_length=4000)
    contact: ContactIn
    lang: Literal["en", "fr"] = "en"
    issuer: str = Field("", max_length=40)
    issuer_reference: str = Field("", max_length=200)


class LookupIn(StrictBody):
    case_number: str = Field(min_length=1, max_length=40)
    pin: str = Field(min_length=1, max_length=40)

    @field_validator("case_number", "pin")
    @classmethod
    def _no_nul(cls, v: str) -> str:
        if "\x00" in v:  # PostgreSQL text cannot hold NUL: refuse it here, not in the query
            raise ValueError("contains a NUL character (\\x00); type it as on your receipt")
        return v


class RejectIn(StrictBody):
    reason: str = Field(min_length=1, max_length=2000)


class AcceptIn(StrictBody):
    note: str = Field("", max_length=2000, description="internal note (staff history only)")
    resolution: str = Field(
        "", max_length=2000, description="text the person reads (default: 'removed')"
    )


#: roles whose key makes a regulator's notice verified (entered from the regulator's channel)
NOTICE_ROLES = (Role.ADMIN, Role.MODERATOR)


@router.post("", status_code=201, summary="File a takedown request (no account needed)")
def submit(body: TakedownIn, svc: Svc, caller: Caller) -> dict[str, Any]:
    """Anyone may file. A regulator's notice is verified (regulator deadline, 24 h) only with
    an admin or moderator key; filed anonymously it is kept, unverified, with 48 hours."""
    req = NewRequest(
        kind=Kind(body.kind),
        signature=Signature(
            body.signature.name, body.signature.on_behalf, body.signature.authority
        ),
        hashes=tuple(DepictionHash(h.pdq.lower(), h.quality) for h in body.hashes),
        locations=tuple(body.locations),
        videos=tuple(VideoHash(v.vpdq, v.md5.lower()) for v in body.videos),
        description=body.description,
        good_faith_statement=body.good_faith_statement,
        contact=Contact(body.contact.email, body.contact.phone, body.contact.postal),
        lang=body.lang,
        issuer=body.issuer,
        issuer_reference=body.issuer_reference,
    )
    case_number, pin = svc.takedown.submit(req, verified=caller.role in NOTICE_ROLES)
    r = svc.takedown.lookup(case_number, pin)
    return {
        "case_number": case_number,
        "pin": pin,
        "status": str(r.status),
        "deadline_at": r.deadline_at,
        "window_hours": r.window_hours,
        "verified": r.verified,
    }


@router.post("/status", summary="A request's status, for the person who filed it")
def status(body: LookupIn, svc: Svc, caller: Caller) -> dict[str, Any]:
    r = svc.takedown.lookup(body.case_number, body.pin)
    return r.public_view(svc.settings.clock())


@router.post("/withdraw", summary="Withdraw a request (case number + PIN)")
def withdraw(body: LookupIn, svc: Svc, caller: Caller) -> dict[str, Any]:
    r = svc.takedown.withdraw(body.case_number, body.pin)
    return r.public_view(svc.settings.clock())


@router.get("/requests", summary="Queue: open requests, nearest deadline first")
def queue(
    svc: Svc,
    caller: Staff,
    response: Response,
    include_closed: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
) -> list[dict[str, Any]]:
    """One page of the queue; ``X-Total-Count`` says how many requests there are in all, so a
    long queue is never silently cut (next page: ``offset`` + ``limit``)."""
    now = svc.settings.clock()
    rows = svc.takedown.queue(include_closed=include_closed, limit=limit, offset=offset)
    response.headers["X-Total-Count"] = str(svc.takedown.count(include_closed=include_closed))
    return [r.staff_view(now) for r in rows]


@router.get("/alerts", summary="Open requests due soon or past their deadline")
def alerts(svc: Svc, caller: Staff) -> list[dict[str, Any]]:
    return svc.takedown.alerts()


@router.get("/stats", summary="Deadline compliance figures")
def stats(svc: Svc, caller: Staff) -> dict[str, Any]:
    return svc.takedown.stats()


@router.get("/requests/{request_id}", summary="One request, with its history and removals")
def get_request(request_id: RowId, svc: Svc, caller: Staff) -> dict[str, Any]:
    d = svc.takedown.get(request_id).staff_view(svc.settings.clock())
    d["removals"] = svc.takedown.removals(request_id)
    return d


@router.post("/requests/{request_id}/review", summary="Open a request (status in_review)")
def review(request_id: RowId, svc: Svc, caller: Moderator) -> dict[str, Any]:
    svc.record_exposure(caller.name, viewed=1)
    return svc.takedown.start_review(request_id, caller.name).staff_view(svc.settings.clock())


@router.post("/requests/{request_id}/accept", summary="Remove: bank hashes, remove known copies")
def accept(request_id: RowId, body: AcceptIn, svc: Svc, caller: Moderator) -> dict[str, Any]:
    r = svc.takedown.accept(request_id, caller.name, body.note, body.resolution)
    svc.record_exposure(caller.name, decisions=1)
    d = r.staff_view(svc.settings.clock())
    d["removals"] = svc.takedown.removals(request_id)
    return d


@router.post("/requests/{request_id}/reject", summary="Reject with a reason the person can read")
def reject(request_id: RowId, body: RejectIn, svc: Svc, caller: Moderator) -> dict[str, Any]:
    r = svc.takedown.reject(request_id, caller.name, body.reason)
    svc.record_exposure(caller.name, decisions=1)
    return r.staff_view(svc.settings.clock())
