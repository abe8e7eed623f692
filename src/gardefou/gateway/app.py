"""The gateway over HTTP: the OpenAI Images API shape in front of any generator.

``POST /v1/images/generations`` (JSON) and ``POST /v1/images/edits`` (multipart), answered as
OpenAI would, errors included (``{"error": {"code", "type", "message", "param"}}``, plus a
``gardefou`` object with the reasons and the decision id). ``GET /metrics`` (Prometheus) and
``GET /healthz``. Callers authenticate with a gardefou API key (role platform or admin) as the
OpenAI client sends it: ``Authorization: Bearer <key>``.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from gardefou import __version__
from gardefou.errors import (
    AuthError,
    ForbiddenError,
    GuardInputError,
)
from gardefou.gateway.config import GatewayConfig
from gardefou.gateway.service import GatewayService
from gardefou.gateway.wire import (
    HISTORY_HEADER,
    BodyLimit,
    check_format,
    images_response,
    map_error,
    parse_history,
    passthrough,
    read_form,
    validation_message,
)

CALLER_ROLES = ("platform", "admin")  # API key roles that may call the gateway


class GenerationIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    prompt: str = Field(max_length=100_000)
    n: int | None = Field(None, ge=1, le=64)
    size: str | None = Field(None, max_length=32)
    model: str | None = Field(None, max_length=200)
    user: str | None = Field(None, max_length=256)
    response_format: Literal["b64_json", "url"] | None = None
    stream: bool | None = None
    gardefou_history: list[str] = Field(default_factory=list, max_length=200)


def create_gateway_app(service: GatewayService, keys: Any) -> Any:
    """The gateway (an ASGI app) around a built service. ``keys`` authenticates callers: any
    object whose ``verify(key)`` returns a principal with ``role``, ``key_id`` and ``name`` or
    raises AuthError (``gardefou.web.auth.KeyStore``; passed in, so the gateway does not import
    the web service that mounts it)."""
    cfg: GatewayConfig = service.config
    keystore = keys
    app = FastAPI(title="gardefou gateway", version=__version__, docs_url=None, redoc_url=None)
    app.state.gateway = service

    def presented_key(request: Request) -> str:
        """The key the caller sent; checked on the event loop (no I/O), so a request without
        one is refused before its body is read."""
        auth = request.headers.get("authorization", "")
        key = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        key = key or request.headers.get("x-api-key")
        if not key:
            raise AuthError(
                "no API key: send `Authorization: Bearer <gardefou key>` (the OpenAI "
                "client's api_key)"
            )
        return key

    def caller(request: Request) -> str:
        """The caller's principal: the key's database lookup, in the worker thread."""
        p = keystore.verify(presented_key(request))
        if str(p.role) not in CALLER_ROLES:
            raise ForbiddenError(
                f"key {p.name!r} has role {p.role}; the gateway needs a platform key"
            )
        return f"{p.key_id}:{p.name}"

    @app.exception_handler(Exception)
    async def any_error(request: Request, exc: Exception) -> JSONResponse:
        return map_error(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return map_error(GuardInputError(str(exc)))

    # Each request crosses to a worker thread twice: first the key's database lookup (a wrong
    # key is refused before its body is read: a guessed key must not make the gateway take in
    # 64 MB), then the body's parsing, the whole of service.handle and the answer's JSON in one
    # call, so the event loop only moves bytes and never runs a blocking query.
    def generation_sync(request: Request, raw: bytes, who: str) -> Response:
        try:
            try:
                body = GenerationIn.model_validate(json.loads(raw))
            except ValueError as exc:
                raise GuardInputError(validation_message(exc)) from None
            check_format(body.response_format, body.stream)
            params = {
                k: v
                for k, v in (
                    ("model", body.model),
                    ("n", body.n or 1),
                    ("size", body.size),
                    ("user", body.user),
                )
                if v is not None
            }
            params.update(passthrough(body.model_extra or {}))
            history = parse_history(request.headers.get(HISTORY_HEADER), body.gardefou_history)
            out = service.handle(
                "generations",
                body.prompt,
                params,
                body.user,
                who,
                (),
                None,
                history,
                body.response_format,
            )
            return images_response(out)
        except Exception as exc:  # noqa: BLE001 - every failure answers in the OpenAI shape
            return map_error(exc)

    def edit_sync(request: Request, form: Any, form_error: Exception | None, who: str) -> Response:
        try:
            if form_error is not None:
                raise form_error
            images, mask, fields = form
            prompt = fields.pop("prompt", None)
            if not isinstance(prompt, str):
                raise GuardInputError("an image edit needs a `prompt` field")
            response_format = fields.pop("response_format", None)
            check_format(response_format, fields.pop("stream", None))
            hist_field = fields.pop("gardefou_history", None)
            history = parse_history(request.headers.get(HISTORY_HEADER), [])
            if hist_field:
                history = parse_history(hist_field, []) + history
            user = fields.get("user") or None
            params = passthrough(fields)
            if "n" in params:
                try:
                    params["n"] = int(params["n"])
                except ValueError:
                    raise GuardInputError(f"n={params['n']!r} is not a whole number") from None
            out = service.handle(
                "edits",
                prompt,
                params,
                user,
                who,
                images,
                mask,
                history,
                response_format,
            )
            return images_response(out)
        except Exception as exc:  # noqa: BLE001 - every failure answers in the OpenAI shape
            return map_error(exc)

    @app.post("/v1/images/generations")
    async def generations(request: Request) -> Response:
        try:
            presented_key(request)  # no key: refused on the loop, no lookup
            who: str = await run_in_threadpool(caller, request)
            raw = await request.body()
        except Exception as exc:  # noqa: BLE001 - every failure answers in the OpenAI shape
            return map_error(exc)
        result: Response = await run_in_threadpool(generation_sync, request, raw, who)
        return result

    @app.post("/v1/images/edits")
    async def edits(request: Request) -> Response:
        try:
            presented_key(request)  # no key: refused on the loop, no lookup
            who: str = await run_in_threadpool(caller, request)
        except Exception as exc:  # noqa: BLE001 - a wrong key hears 401 before any form error
            return map_error(exc)
        form: Any = None
        form_error: Exception | None = None
        try:
            form = await read_form(request, cfg)
        except Exception as exc:  # noqa: BLE001 - answered after the key is checked
            form_error = exc
        result: Response = await run_in_threadpool(edit_sync, request, form, form_error, who)
        return result

    @app.get("/metrics")
    def metrics() -> Response:
        body, ctype = service.metrics.render()
        return Response(body, media_type=ctype)

    @app.get("/v1/images/files/{name}")
    def image_file(name: str, expires: str = "", sig: str = "") -> Response:
        """An image released with response_format=url: the signed link is the credential
        (as the Images API's own URLs are), checked for its signature and expiry."""
        from gardefou.errors import NotFoundError
        from gardefou.gateway.files import MIME

        try:
            if service.files is None:
                raise NotFoundError("this gateway keeps no images (response_format=url is off)")
            path = service.files.open(name, expires, sig)
        except Exception as exc:  # noqa: BLE001 - every failure answers in the OpenAI shape
            return map_error(exc)
        return Response(
            path.read_bytes(),
            media_type=MIME[path.suffix[1:]],
            headers={"Cache-Control": "private, max-age=300"},
        )

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {
            "ok": True,
            "version": __version__,
            "upstream": service.upstream.name,
            "labels": cfg.labels,
            "watermark": cfg.watermark,
        }

    return BodyLimit(app, cfg.max_body_bytes)
