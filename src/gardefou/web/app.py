"""The gardefou web service: ``create_app(settings)`` builds the FastAPI application.

One exception handler maps the project's exception tree (gardefou.errors: ``http_status`` and
``to_dict()``) to responses; request bodies are bounded before they are read (413); every caller
is rate-limited (429). Static files are served from the package: no CDN, no network at run time.
"""

from __future__ import annotations

import logging
from functools import partial
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from gardefou import __version__
from gardefou.errors import AuthError, GardefouError, RateLimitError
from gardefou.store.db import connect
from gardefou.takedown import TakedownService
from gardefou.web.auth import KeyStore
from gardefou.web.deps import WebServices
from gardefou.web.limits import BodyLimitMiddleware, RateLimiter
from gardefou.web.metrics import REASON_KEY, mount_metrics
from gardefou.web.purge import purge_lifespan
from gardefou.web.settings import Settings
from gardefou.web.video import bank_video_hashes

log = logging.getLogger("gardefou.web")

UPLOAD_PATHS = (
    "/v1/scan",
    "/v1/guard",
    "/v1/ingest",
    "/v1/decisions",
    "/v1/bank-files/",
    "/h/",
    "/m/",
    "/c/bank/",
    "/gateway",
)

DESCRIPTION = """Stops sexualized deepfakes of real people: scan uploads, match hash banks, check
generation requests, work review queues, and take down images within the TAKE IT DOWN Act's 48
hours. Authenticate with an `X-API-Key` header; the takedown portal needs no key."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    db = connect(settings.db)
    services = WebServices(
        settings=settings,
        db=db,
        keys=KeyStore(db, settings.admin_key),
        takedown=TakedownService(db, clock=settings.clock),
        limiter=RateLimiter(
            settings.rate_limit_url,
            prefix=settings.rate_limit_prefix,
            max_buckets=settings.rate_limit_buckets,
        ),
    )
    # accepted takedowns bank their clips in the service's video store (gardefou.web.video)
    services.takedown.bank_video = partial(bank_video_hashes, services)
    app = FastAPI(
        title="gardefou",
        version=__version__,
        description=DESCRIPTION,
        # Swagger UI and ReDoc pages load their scripts from a CDN on the console's origin:
        # off unless asked for (GARDEFOU_API_DOCS=1). /openapi.json is plain JSON, kept.
        docs_url="/docs" if settings.api_docs else None,
        redoc_url="/redoc" if settings.api_docs else None,
    )
    app.state.services = services
    app.add_middleware(
        BodyLimitMiddleware,
        body_limit=settings.max_body_bytes,
        upload_limit=settings.max_upload_bytes,
        upload_paths=UPLOAD_PATHS,
    )
    # after the body limit: added last, it runs first and also sees the limit's 413 answers
    mount_metrics(app, services)
    _install_handlers(app)
    _include_routers(app)
    from gardefou.gateway.mount import mount_gateway  # /gateway, when GARDEFOU_GATEWAY_* is set

    mount_gateway(app, services)
    static = resources.files("gardefou.web") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    # purge the review images no moderator needs: at start-up, then on a schedule (web/purge.py)
    app.router.lifespan_context = purge_lifespan
    return app


def _include_routers(app: FastAPI) -> None:
    from gardefou.web.routers import banks, keys, pages, scan, submissions, takedown

    for module in (scan, banks, takedown, submissions, keys, pages):
        app.include_router(module.router)
    from gardefou.web.routers.bank_entries import router as bank_entries_router
    from gardefou.web.routers.hma_mount import mount as mount_hma
    from gardefou.web.routers.video_banks import router as video_banks_router

    app.include_router(bank_entries_router)
    app.include_router(video_banks_router)
    mount_hma(app)  # the HMA-compatible API, only when GARDEFOU_HMA_API is set
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
        request.scope[REASON_KEY] = exc.code  # the rejection's reason in /metrics
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
        request.scope[REASON_KEY] = "validation"
        errors = [_clean(e) for e in exc.errors()]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(x) for x in first.get("loc", []))
        message = f"{where}: {first.get('msg')}"
        if first.get("type") == "json_invalid":
            at = first["loc"][-1] if len(first.get("loc", [])) > 1 else "?"
            message = (
                f"request body is not valid JSON (parsing stopped at character {at}); "
                "send one JSON object with Content-Type: application/json"
            )
        return JSONResponse(
            {
                "error": "validation",
                "type": "RequestValidationError",
                "message": message,
                "detail": errors,
            },
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Unknown paths (404), wrong methods (405) and unparsable multipart bodies (400) are
        # raised by the framework itself: answer them in the same shape as every other error.
        code = _HTTP_CODES.get(exc.status_code, "http")
        request.scope[REASON_KEY] = code if code != "http" else f"http_{exc.status_code}"
        message = str(exc.detail)
        if exc.status_code == 404:
            message = f"no such endpoint: {request.url.path}; see /openapi.json for the API"
        elif exc.status_code == 405:
            message = f"method {request.method} is not allowed on {request.url.path}"
        return JSONResponse(
            {"error": code, "type": "HTTPException", "message": message},
            status_code=exc.status_code,
            headers=dict(exc.headers or {}),
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


_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}


def _clean(err: Any) -> dict[str, Any]:
    """Validation errors without the echoed input (it may hold personal data or bytes)."""
    return {
        "loc": list(err.get("loc", [])),
        "msg": str(err.get("msg", "")),
        "type": str(err.get("type", "")),
    }
