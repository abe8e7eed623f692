"""Decisions: a platform posts an event (a post or a generation, media inline as base64) and
gets the explainable decision; a case opens when a person must look. Media of a case awaiting
review is kept (for the blurred console view) until the case is decided or the retention ends."""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gardefou.errors import MediaTooLargeError, NotFoundError
from gardefou.web.auth import Principal, Role
from gardefou.web.deps import Services, Svc, require
from gardefou.web.media import decode_gate
from gardefou.web.video import LiveVideoIndex

router = APIRouter(prefix="/v1", tags=["decisions"])
Platform = Annotated[Principal, Depends(require(Role.PLATFORM))]
Reader = Annotated[Principal, Depends(require(Role.PLATFORM, Role.MODERATOR, Role.AUDITOR))]


class MediaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    b64: str = Field(min_length=1, description="the image or clip bytes, base64")


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
    from gardefou.decide import services_for

    return svc.lazy(
        "decide",
        lambda: services_for(
            svc.db,
            banks=svc.banks(),
            limits=svc.settings.media_limits(),
            review_media_days=svc.settings.review_media_days,
            video_limits=svc.settings.video_limits(),
            video_index=LiveVideoIndex(svc),
        ),
    )


_MEDIA_FIELDS = ("media", "input_media", "output_media")
_BODY = {
    "requestBody": {
        "required": True,
        "description": "the event as JSON (media inline as base64), or multipart/form-data: "
        "the event as JSON in the field `event` and each image as a file in `media`, "
        "`input_media` or `output_media`",
        "content": {
            "application/json": {"schema": EventIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["event"],
                    "properties": {
                        "event": {"type": "string", "description": "the event, JSON"},
                        **{
                            f: {"type": "array", "items": {"type": "string", "format": "binary"}}
                            for f in _MEDIA_FIELDS
                        },
                    },
                }
            },
        },
    }
}


@router.post(
    "/decisions",
    summary="Decide one event (post or generation); opens a case if needed",
    openapi_extra=_BODY,
)
async def decide(request: Request, svc: Svc, caller: Platform) -> dict[str, Any]:
    body = await _event_in(request, svc.settings)
    return await run_in_threadpool(_decide, body, svc)


def _decide(body: EventIn, svc: Services) -> dict[str, Any]:
    from gardefou.decide import decide_event

    event = body.model_dump(exclude_none=True)
    if event["kind"] == "post":
        for k in ("request", "requester", "input_media", "output_media"):
            event.pop(k, None)
    else:
        for k in ("media", "author"):
            event.pop(k, None)
    has_media = any(event.get(k) for k in _MEDIA_FIELDS)
    # One decode slot while the event's images are decoded and their thumbnails made.
    with decode_gate(svc).hold() if has_media else contextlib.nullcontext():
        # a case awaiting a person keeps its images there (gardefou.cases.review_keep)
        stored = decide_event(event, decide_services(svc))
    return {
        "event_id": stored.event_id,
        "case_id": stored.case_id,
        "created": stored.created,
        "decision": stored.decision.to_dict(),
    }


async def _event_in(request: Request, settings: Any) -> EventIn:
    """The event from a JSON body or a multipart form. Images count against the upload limit
    (``GARDEFOU_MAX_UPLOAD_MB``, also enforced on the whole request before it is read); the rest
    of the event against the JSON limit, like any other JSON body."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        async with request.form(max_files=3 * 32, max_fields=4) as form:  # closes the files
            raw = form.get("event")
            if not isinstance(raw, str):
                raise _invalid("event", "put the event's JSON in the form field `event`")
            data = _json(raw.encode(), "form field `event`")
            media_bytes = 0
            for name in _MEDIA_FIELDS:
                for part in form.getlist(name):
                    if isinstance(part, str):
                        raise _invalid(name, f"form field `{name}` must be a file (an image)")
                    content = await part.read()
                    media_bytes += len(content)
                    items = data.setdefault(name, [])
                    if not isinstance(items, list):
                        raise _invalid(name, f"`{name}` in the event must be a list")
                    items.append({"b64": base64.b64encode(content).decode()})
        json_bytes = len(raw.encode())
    else:
        raw_body = await request.body()
        data = _json(raw_body, "request body")
        items = [m for n in _MEDIA_FIELDS if isinstance(data.get(n), list) for m in data[n]]
        media_chars = sum(
            len(m["b64"]) for m in items if isinstance(m, dict) and isinstance(m.get("b64"), str)
        )
        json_bytes = len(raw_body) - media_chars
        media_bytes = media_chars * 3 // 4
    if json_bytes > settings.max_body_bytes:
        raise MediaTooLargeError(
            f"the event without its images is {json_bytes:,} bytes (limit "
            f"{settings.max_body_bytes:,} for JSON); shorten the text fields"
        )
    if media_bytes > settings.max_upload_bytes:
        raise MediaTooLargeError(
            f"the event's images are {media_bytes:,} bytes (limit {settings.max_upload_bytes:,},"
            " GARDEFOU_MAX_UPLOAD_MB); send fewer or smaller images"
        )
    try:
        return EventIn.model_validate(data)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_input=False)]
        raise RequestValidationError(errors) from None


def _json(raw: bytes, what: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise _invalid("body", f"{what} is not valid JSON") from None
    if not isinstance(data, dict):
        raise _invalid("body", f"{what} must be a JSON object")
    return data


def _invalid(where: str, msg: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", where), "msg": msg, "type": "value_error"}])


@router.get("/decisions/{event_id}", summary="The stored decision of an event")
def get_decision(event_id: str, svc: Svc, caller: Reader) -> dict[str, Any]:
    from gardefou.decide import get_decision as load

    stored = load(svc.db, event_id)
    if stored is None:
        raise NotFoundError(f"no decision for event {event_id!r}; POST it to /v1/decisions")
    return {"event_id": event_id, "case_id": stored.case_id, "decision": stored.decision.to_dict()}
