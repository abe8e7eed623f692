"""Mounting the HMA-compatible API (``hma.py``, ``hma_curation.py``, ``hma_exchanges.py``) on
an app. It sits above the three router modules so they import their shared parts from ``hma.py``
and none imports back."""

from __future__ import annotations

import threading

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gardefou.web.deps import WebServices
from gardefou.web.routers import hma_curation, hma_exchanges
from gardefou.web.routers.hma import HmaAbort, HmaConfig, router


def mount(app: FastAPI, config: HmaConfig | None = None) -> bool:
    """Add the HMA routes when the mode is on; returns whether it did."""
    config = config or HmaConfig.from_env()
    if not config.enabled:
        return False
    app.state.hma = config
    app.state.hma_ready = threading.Event()

    async def abort_handler(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HmaAbort)
        return JSONResponse({"message": str(exc)}, status_code=exc.status)

    app.add_exception_handler(HmaAbort, abort_handler)
    app.include_router(router)
    app.include_router(hma_curation.router)
    app.include_router(hma_exchanges.router)
    svc: WebServices = app.state.services

    def load() -> None:  # memory-maps (or builds) the bank index off the request path
        try:
            svc.banks().index.refresh()
            app.state.hma_ready.set()
        except Exception:
            import logging

            logging.getLogger("gardefou.web").exception("HMA mode: bank index failed to load")

    threading.Thread(target=load, name="hma-index-load", daemon=True).start()
    return True
