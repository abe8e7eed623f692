"""POST /v1/ingest: one JSON event or JSON Lines, decided through the pipeline (ledger, dead
letters, exactly-once per event id) by gardefou.pipeline's own ingest handler."""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from gardefou.web.auth import Principal, Role
from gardefou.web.deps import Services, Svc, require
from gardefou.web.media import decode_gate

router = APIRouter(prefix="/v1", tags=["decisions"])
Platform = Annotated[Principal, Depends(require(Role.PLATFORM))]
_lock = threading.Lock()  # the pipeline's Processor is one-per-worker, not thread-safe

_BODY = {
    "requestBody": {
        "required": True,
        "description": "one JSON event, or JSON Lines (one event per line, any content type)",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


def _handler(svc: Services) -> Any:
    def build() -> Any:
        from gardefou.pipeline.core import Processor
        from gardefou.pipeline.deciders import default_decider
        from gardefou.pipeline.sources import IngestHandler

        processor = Processor(svc.db, default_decider(), limits=svc.settings.media_limits())
        return IngestHandler(processor=processor, max_body_bytes=svc.settings.max_upload_bytes)

    return svc.lazy("ingest", build)


@router.post(
    "/ingest",
    summary="Ingest events (JSON or JSON Lines) through the pipeline",
    openapi_extra=_BODY,
)
async def ingest(request: Request, svc: Svc, caller: Platform) -> JSONResponse:
    body = await request.body()

    def run() -> tuple[int, dict[str, Any], dict[str, str]]:
        # One decode slot for the batch (its images are decoded one event at a time).
        with decode_gate(svc).hold(), _lock:
            status, payload, headers = _handler(svc).handle(body)
            if status == 200:
                _keep_media(svc, body, payload.get("outcomes", []))
            return status, payload, headers

    status, payload, headers = await run_in_threadpool(run)
    return JSONResponse(payload, status_code=status, headers=headers)


def _keep_media(svc: Services, body: bytes, outcomes: list[dict[str, Any]]) -> None:
    """Inline images of newly decided events whose case awaits a person, for the console."""
    import json

    from gardefou.web.routers.decisions import keep_review_media

    lines = [ln for ln in body.splitlines() if ln.strip()]  # as the handler numbers them
    for i, outcome in enumerate(outcomes):
        if outcome.get("status") != "decided" or i >= len(lines):
            continue
        try:
            event = json.loads(lines[i])
        except (ValueError, RecursionError):  # it was decided: cannot happen, but never a 500
            continue
        if not isinstance(event, dict) or str(event.get("id")) != outcome.get("event_id"):
            continue
        row = svc.db.query_one(
            "SELECT case_id FROM decisions WHERE event_id = ?", (str(event["id"]),)
        )
        if row is None or row["case_id"] is None:
            continue
        refs = [
            *_list(event.get("media")),
            *_list(event.get("output_media")),
            *_list(event.get("input_media")),
        ]
        b64 = [r.get("b64") for r in refs if isinstance(r, dict)]
        keep_review_media(svc, str(event["id"]), int(row["case_id"]), b64)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
