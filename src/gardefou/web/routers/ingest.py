"""POST /v1/ingest: one JSON event or JSON Lines, decided through the pipeline (ledger, dead
letters, exactly-once per event id) by gardefou.pipeline's own ingest handler."""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from gardefou.errors import PipelineError
from gardefou.web.auth import Principal, Role
from gardefou.web.deps import Svc, WebServices, require
from gardefou.web.media import decode_gate
from gardefou.web.routers.decisions import decide_services

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


def _handler(svc: WebServices) -> Any:
    def build() -> Any:
        from gardefou.decide import PlatformDecider
        from gardefou.pipeline.core import Processor
        from gardefou.pipeline.deciders import default_decider
        from gardefou.pipeline.sources import IngestHandler

        decider = default_decider()
        if isinstance(decider, PlatformDecider):
            # decide as POST /v1/decisions does, with the app's one Services: its bank service
            # holds the live index the bank endpoints update, so a hash added through the API
            # is matched by the next ingest (a BankService of its own would load a second
            # index, which never learns of it until a restart), and the service's cap on
            # review images applies
            decider = PlatformDecider(lambda db: _services_over(svc, db))
        processor = Processor(
            svc.db,
            decider,
            limits=svc.settings.media_limits(),
            video_limits=svc.settings.video_limits(),
        )
        return IngestHandler(processor=processor, max_body_bytes=svc.settings.max_upload_bytes)

    return svc.lazy("ingest", build)


def _services_over(svc: WebServices, db: Any) -> Any:
    if db is not svc.db:  # the Processor above is built over svc.db: nothing else reaches here
        raise PipelineError(f"ingest decides over the service's store, not {db!r}")
    return decide_services(svc)


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
            # cases awaiting a person keep their images as they are recorded
            # (gardefou.cases.review_keep), as in every other path
            return _handler(svc).handle(body)

    status, payload, headers = await run_in_threadpool(run)
    return JSONResponse(payload, status_code=status, headers=headers)
