"""Hash-only protection (as StopNCII does): a person submits the PDQ hashes of an intimate image,
computed in their browser, before anyone shares it; matching uploads are then caught. No
account; a case number + PIN to check or withdraw (withdrawal stops matching at once).

Anyone can submit, so a new submission is ``pending``: its matches go to human review, never to
an automated removal, until a moderator confirms it (``POST /v1/submissions/{case}/confirm``) or
rejects it (``.../reject``: its hashes stop matching). Each client address is held to the
``SubmissionLimits`` (counted in the store: the same across workers); over them, 429."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from gardefou.banks.review import SubmissionLimits, submitter_key
from gardefou.errors import AuthError, BankError, NotFoundError
from gardefou.web.auth import Principal, Role
from gardefou.web.deps import Caller, Svc, WebServices, require
from gardefou.web.routers.takedown import HashIn, LookupIn, VideoIn

Moderator = Annotated[Principal, Depends(require(Role.MODERATOR))]
CaseNumber = Annotated[str, Path(min_length=1, max_length=32, description="case number GF-...")]

router = APIRouter(prefix="/v1/submissions", tags=["takedown"])
BANK = "victims"


class SubmissionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # the schema bound keeps the body small; SubmissionLimits.max_hashes is the real limit
    hashes: list[HashIn] = Field(default_factory=list, max_length=256)
    #: clips: vPDQ signal and/or MD5 (``gardefou video hash --format te``), each one hash
    videos: list[VideoIn] = Field(default_factory=list, max_length=16)


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=2000)


def _banks(svc: WebServices) -> Any:
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


def _limits(svc: WebServices) -> SubmissionLimits:
    limits: SubmissionLimits = svc.lazy("submission_limits", SubmissionLimits.from_env)
    return limits


@router.post("", status_code=201, summary="Submit image hashes to protect (no account)")
def submit(body: SubmissionIn, svc: Svc, caller: Caller, request: Request) -> dict[str, Any]:
    low = [h for h in body.hashes if h.quality < 50]
    if low:
        raise BankError(
            f"{len(low)} hash(es) have quality below 50 (too uniform to match "
            "reliably); choose a sharper copy of the image"
        )
    clips = _clips(body)
    pairs = [(h.pdq.lower(), h.quality) for h in body.hashes]
    address = request.client.host if request.client else "unknown"
    from gardefou.banks.video_submissions import submit_with_clips
    from gardefou.web.video import video_store

    video_store(svc)  # the victim video bank exists, an earlier JSON Lines store is imported
    # one transaction: the submission and its clips' hashes (pending like the image hashes: a
    # match sends the upload to review only)
    case_number, pin = submit_with_clips(
        _banks(svc),
        BANK,
        pairs,
        clips,
        actor="portal",
        submitter=submitter_key(address),
        limits=_limits(svc),
    )
    return {
        "case_number": case_number,
        "pin": pin,
        "hashes": len(pairs),
        "videos": len(clips),
        "status": "pending",
    }


def _clips(body: SubmissionIn) -> list[Any]:
    """Each clip's parsed vPDQ features and MD5 as ``VideoHashes`` (HashFormatError /
    TakedownError naming it)."""
    from gardefou.signals.vpdq import VideoHashes, parse_signal_str
    from gardefou.takedown.checks import check_video_hash

    if not body.hashes and not body.videos:
        raise BankError("a submission needs at least one PDQ hash or one clip's hashes")
    out = []
    for n, v in enumerate(body.videos, start=1):
        check_video_hash(v.vpdq, v.md5, f"video {n}")
        features = parse_signal_str(v.vpdq) if v.vpdq else []
        out.append(VideoHashes(features, [], v.md5.lower(), "", 0.0))
    return out


def _follow(svc: WebServices, case_number: str, state: str) -> None:
    """The submission's clips follow its review (gardefou.web.video.set_submission_state)."""
    from gardefou.web.video import set_submission_state

    set_submission_state(svc, case_number, state)


def _lookup(svc: WebServices, body: LookupIn) -> Any:
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
    _follow(svc, body.case_number, "withdrawn")
    return {
        "case_number": body.case_number.strip().upper(),
        "status": "withdrawn",
        "entries_removed": removed,
    }


# -- moderators ------------------------------------------------------------------------------------


@router.get("", summary="Submissions to review (moderator)")
def list_submissions(
    svc: Svc,
    who: Moderator,
    status: Annotated[str | None, Query(pattern="^(pending|confirmed|rejected|withdrawn)$")] = (
        "pending"
    ),
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    return [s.to_dict() for s in _banks(svc).list_submissions(status, limit=limit)]


def _review(
    svc: Svc, case_number: str, body: ReviewIn, who: Principal, confirm: bool
) -> dict[str, Any]:
    sub = _banks(svc).review_submission(
        case_number, confirm=confirm, actor=f"key:{who.name}", reason=body.reason
    )
    _follow(svc, case_number, "confirmed" if confirm else "rejected")
    return sub.to_dict()


@router.post("/{case_number}/confirm", summary="Confirm a submission: its matches remove")
def confirm(case_number: CaseNumber, body: ReviewIn, svc: Svc, who: Moderator) -> dict[str, Any]:
    return _review(svc, case_number, body, who, confirm=True)


@router.post("/{case_number}/reject", summary="Reject a submission: its hashes stop matching")
def reject(case_number: CaseNumber, body: ReviewIn, svc: Svc, who: Moderator) -> dict[str, Any]:
    return _review(svc, case_number, body, who, confirm=False)
