"""The gardefou web service: ``create_app(settings)`` builds the FastAPI application.

One exception handler maps the project's exception tree (gardefou.errors: ``http_status`` and
``to_dict()``) to responses; request bodies are bounded before they are read (413); every caller
is rate-limited (429). Static files are served from the package: no CDN, no network at run time.
"""

from __future__ import annotations

import logging
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from gardefou import __version__
from gardefou.errors import AuthError, GardefouError, RateLimitError
from gardefou.store.db import connect
from gardefou.takedown import TakedownService
from gardefou.web.auth import KeyStore
from gardefou.web.deps import Services
from gardefou.web.limits import BodyLimitMiddleware, RateLimiter
from gardefou.web.settings import Settings

log = logging.getLogger("gardefou.web")

UPLOAD_PATHS = ("/v1/scan", "/v1/guard", "/v1/ingest", "/gateway")

DESCRIPTION = """Stops sexualized deepfakes of real people: scan uploads, match hash banks, check
generation requests, work review queues, and take down images within the TAKE IT DOWN Act's 48
hours. Authenticate with an `X-API-Key` header; the takedown portal needs no key."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    db = connect(settings.db)
    services = Services(
        settings=settings,
        db=db,
        keys=KeyStore(db, settings.admin_key),
        takedown=TakedownService(db, clock=settings.clock),
        limiter=RateLimiter(),
    )
    app = FastAPI(
        title="gardefou",
        version=__version__,
        description=DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.services = services
    app.add_middleware(
        BodyLimitMiddleware,
        body_limit=settings.max_body_bytes,
        upload_limit=settings.max_upload_bytes,
        upload_paths=UPLOAD_PATHS,
    )
    _install_handlers(app)
    _include_routers(app)
    from gardefou.gateway.mount import mount_gateway  # /gateway, when GARDEFOU_GATEWAY_* is set

    mount_gateway(app, services)
    static = resources.files("gardefou.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    return app


def _include_routers(app: FastAPI) -> None:
    from gardefou.web.routers import banks, keys, pages, scan, submissions, takedown

    for module in (scan, banks, takedown, submissions, keys, pages):
        app.include_router(module.router)
    # Routers over libraries that may be absent from a slim install are optional.
    for name in ("guard", "cases", "decisions", "ingest", "reports"):
        try:
            module = __import__(f"gardefou.web.routers.{name}", fromlist=["router"])
        except ImportError as exc:  # pragma: no cover - depends on the install
            log.warning("router %s disabled: %s", name, exc)
            continue
        app.include_router(module.router)


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(GardefouError)
    async def gardefou_error(request: Request, exc: GardefouError) -> JSONResponse:
        headers: dict[str, str] = {}
        if isinstance(exc, RateLimitError):
            headers["Retry-After"] = str(max(1, round(exc.retry_after)))
        elif type(exc) is AuthError:
            headers["WWW-Authenticate"] = 'ApiKey header="X-API-Key"'
        if exc.http_status >= 500:
            log.error("%s %s: %s", request.method, request.url.path, exc)
        return JSONResponse(exc.to_dict(), status_code=exc.http_status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_clean(e) for e in exc.errors()]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(x) for x in first.get("loc", []))
        return JSONResponse(
            {
                "error": "validation",
                "type": "RequestValidationError",
                "message": f"{where}: {first.get('msg')}",
                "detail": errors,
            },
            status_code=422,
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            {
                "error": "internal",
                "type": type(exc).__name__,
                "message": "internal error; it has been logged",
            },
            status_code=500,
        )

    @app.get("/healthz", tags=["service"], summary="Liveness and schema version")
    def healthz() -> dict[str, Any]:
        db = app.state.services.db
        return {"ok": True, "version": __version__, "schema": db.schema_version()}


def _clean(err: Any) -> dict[str, Any]:
    """Validation errors without the echoed input (it may hold personal data or bytes)."""
    return {
        "loc": list(err.get("loc", [])),
        "msg": str(err.get("msg", "")),
        "type": str(err.get("type", "")),
    }
