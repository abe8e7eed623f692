"""Decisions: a platform posts an event (a post or a generation, media inline as base64) and
gets the explainable decision; a case opens when a person must look. Media of a case awaiting
review is kept (for the blurred console view) until the case is decided or the retention ends."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from gardefou.errors import NotFoundError
from gardefou.web.auth import Principal, Role
from gardefou.web.deps import Services, Svc, require

router = APIRouter(prefix="/v1", tags=["decisions"])
Platform = Annotated[Principal, Depends(require(Role.PLATFORM))]
Reader = Annotated[Principal, Depends(require(Role.PLATFORM, Role.MODERATOR, Role.AUDITOR))]
DAY = 86400.0


class MediaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    b64: str = Field(min_length=1, description="the image bytes, base64")


class EventIn(BaseModel):
    """A post (with reply_to for threads) or a generation event (request + input/output media)."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=200)
    kind: str = Field("post", pattern="^(post|generation)$")
    author: str | None = Field(None, max_length=200)
    created_at: str | None = Field(None, max_length=40)
    text: str = Field("", max_length=100_000)
    media: list[MediaIn] = Field(default_factory=list, max_length=32)
    reply_to: str | None = Field(None, max_length=200)
    mentions: list[str] = Field(default_factory=list, max_length=100)
    lang: str | None = Field(None, max_length=20)
    request: str | None = Field(None, max_length=100_000)
    requester: str | None = Field(None, max_length=200)
    input_media: list[MediaIn] = Field(default_factory=list, max_length=32)
    output_media: list[MediaIn] = Field(default_factory=list, max_length=32)


def decide_services(svc: Services) -> Any:
    from gardefou.decide import Services as DecideServices

    return svc.lazy("decide", lambda: DecideServices(svc.db, banks=svc.banks()))


@router.post("/decisions", summary="Decide one event (post or generation); opens a case if needed")
def decide(body: EventIn, svc: Svc, caller: Platform) -> dict[str, Any]:
    from gardefou.decide import decide_event

    event = body.model_dump(exclude_none=True)
    if event["kind"] == "post":
        for k in ("request", "requester", "input_media", "output_media"):
            event.pop(k, None)
    else:
        for k in ("media", "author"):
            event.pop(k, None)
    stored = decide_event(event, decide_services(svc))
    if stored.created and stored.case_id is not None:
        _keep_for_review(svc, body, stored.case_id)
    return {
        "event_id": stored.event_id,
        "case_id": stored.case_id,
        "created": stored.created,
        "decision": stored.decision.to_dict(),
    }


@router.get("/decisions/{event_id}", summary="The stored decision of an event")
def get_decision(event_id: str, svc: Svc, caller: Reader) -> dict[str, Any]:
    from gardefou.decide import get_decision as load

    stored = load(svc.db, event_id)
    if stored is None:
        raise NotFoundError(f"no decision for event {event_id!r}; POST it to /v1/decisions")
    return {"event_id": event_id, "case_id": stored.case_id, "decision": stored.decision.to_dict()}


def _keep_for_review(svc: Services, body: EventIn, case_id: int) -> None:
    """Keep the event's images only when a person must look at them (pending review)."""
    media = [m.b64 for m in [*body.media, *body.output_media, *body.input_media]]
    keep_review_media(svc, body.id, case_id, media)


def keep_review_media(svc: Services, event_id: str, case_id: int, b64_items: list[Any]) -> None:
    """Store inline (base64) images of a case awaiting a person; anything else is skipped."""
    import hashlib

    from gardefou.cases import PENDING_REVIEW, SECOND_REVIEW

    row = svc.db.query_one("SELECT status FROM cases WHERE id = ?", (case_id,))
    if row is None or row["status"] not in (PENDING_REVIEW, SECOND_REVIEW):
        return
    now = svc.settings.clock()
    expires = now + svc.settings.review_media_days * DAY
    with svc.db.transaction():
        for item in b64_items:
            if not isinstance(item, str):
                continue
            try:
                data = base64.b64decode(item, validate=True)
            except (binascii.Error, ValueError):
                continue  # the decision layer already rejected undecodable media
            svc.db.execute(
                "INSERT INTO review_media (event_id, sha256, data, stored_at, expires_at) "
                "VALUES (?,?,?,?,?) ON CONFLICT (event_id, sha256) DO NOTHING",
                (event_id, hashlib.sha256(data).hexdigest(), data, now, expires),
            )
