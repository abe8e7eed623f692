"""The OpenAI Images API on the wire: request fields, the error shape, the images answer.

Errors are always ``{"error": {"code", "type", "message", "param"}}`` as OpenAI answers (plus a
``gardefou`` object), mapped here from gardefou's exception tree in one place; the body limit is
enforced before a body is read; the answer's JSON is written without re-scanning the images.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from gardefou.asgi import send_json_and_close
from gardefou.errors import (
    AuthError,
    ForbiddenError,
    GardefouError,
    GuardInputError,
    MediaError,
    MediaTooLargeError,
    RateLimitError,
    SanctionError,
    UpstreamError,
    UpstreamTimeoutError,
)
from gardefou.gateway.config import GatewayConfig
from gardefou.gateway.service import Refused
from gardefou.gateway.upstream import File

log = logging.getLogger("gardefou.gateway")
#: request fields the gateway reads itself; every other scalar field is passed upstream
OWN_FIELDS = ("prompt", "response_format", "stream", "gardefou_history", "image", "image[]", "mask")
HISTORY_HEADER = "x-gardefou-history"


def error_body(
    code: str,
    type_: str,
    message: str,
    param: str | None = None,
    gardefou: dict[str, Any] | None = None,
) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "type": type_, "message": message, "param": param}
    if gardefou is not None:
        err["gardefou"] = gardefou
    return {"error": err}


def _respond(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def map_error(exc: BaseException) -> JSONResponse:
    """The project's exceptions, and refusals, in the OpenAI error shape."""
    if isinstance(exc, Refused):
        type_ = "image_generation_user_error" if exc.status == 400 else "server_error"
        return _respond(exc.status, error_body(exc.code, type_, exc.message, None, exc.details))
    if isinstance(exc, SanctionError):
        headers = {"Retry-After": str(max(1, round(exc.retry_after)))} if exc.retry_after else {}
        type_ = "rate_limit_error" if exc.http_status == 429 else "permission_error"
        extra = {"sanction": exc.sanction, "ends_at": exc.ends_at}
        return _respond(
            exc.http_status,
            error_body(f"sanction_{exc.sanction}", type_, str(exc), None, extra),
            headers,
        )
    if isinstance(exc, RateLimitError):
        headers = {"Retry-After": str(max(1, round(exc.retry_after)))}
        return _respond(
            429, error_body("rate_limit_exceeded", "rate_limit_error", str(exc)), headers
        )
    if isinstance(exc, ForbiddenError):
        return _respond(403, error_body("forbidden", "permission_error", str(exc)))
    if isinstance(exc, AuthError):
        return _respond(401, error_body("invalid_api_key", "invalid_request_error", str(exc)))
    if isinstance(exc, UpstreamTimeoutError):
        return _respond(504, error_body("upstream_timeout", "server_error", str(exc)))
    if isinstance(exc, UpstreamError):
        up = getattr(exc, "upstream_error", None)
        if exc.http_status < 500 and isinstance(up, dict):  # the generator's own 4xx, passed on
            return _respond(exc.http_status, {"error": {**up, "message": str(exc)}})
        return _respond(exc.http_status, error_body("upstream_error", "server_error", str(exc)))
    if isinstance(exc, _TooLarge):  # the body limit tripped while the body was read
        return _respond(413, error_body("request_too_large", "invalid_request_error", str(exc)))
    if isinstance(exc, MediaTooLargeError):
        return _respond(
            413, error_body("image_too_large", "invalid_request_error", str(exc), "image")
        )
    if isinstance(exc, MediaError):
        return _respond(
            400, error_body("invalid_image", "invalid_request_error", str(exc), "image")
        )
    if isinstance(exc, GuardInputError):
        return _respond(400, error_body("invalid_request", "invalid_request_error", str(exc)))
    if isinstance(exc, GardefouError):
        status = exc.http_status
        type_ = "server_error" if status >= 500 else "invalid_request_error"
        if status >= 500:
            log.error("gateway error: %s", exc)
        return _respond(status, error_body(exc.code, type_, str(exc)))
    log.exception("unexpected gateway error", exc_info=exc)
    return _respond(
        500, error_body("internal_error", "server_error", "internal error; it has been logged")
    )


class BodyLimit:
    """413 in the OpenAI shape before an oversized body is read (declared or streamed)."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._reject(send, int(declared))
            return
        seen = 0
        rejected = started = False

        async def bounded() -> dict[str, Any]:
            nonlocal seen, rejected
            message: dict[str, Any] = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                rejected = True
                raise _TooLarge(self._message(seen))
            return message

        async def guarded(message: dict[str, Any]) -> None:
            # The app may catch the overflow while reading the body and answer it as an error
            # of its own (a 500, a malformed form): the client gets the 413 instead.
            nonlocal started
            if rejected:
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await self._reject(send, seen)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded, guarded)
        except _TooLarge:
            if not started:
                await self._reject(send, seen)

    def _message(self, size: int) -> str:
        return (
            f"request body of {size:,} bytes or more is over the gateway's limit of "
            f"{self.limit:,} bytes; send smaller or fewer images"
        )

    async def _reject(self, send: Callable, size: int) -> None:
        payload = error_body("request_too_large", "invalid_request_error", self._message(size))
        await send_json_and_close(send, 413, payload)


class _TooLarge(Exception):
    """Raised into the app by BodyLimit's receive; an error the app answers for it is replaced
    by BodyLimit's 413."""


def parse_history(header: str | None, field: list[str]) -> list[str]:
    if not header:
        return list(field)
    try:
        value = json.loads(header)
    except ValueError:
        value = None
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise GuardInputError(
            f"{HISTORY_HEADER} must be a JSON list of strings (earlier turns, "
            f"oldest first), got {header[:60]!r}"
        )
    return list(field) + value


def passthrough(extra: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in extra.items():
        if k in OWN_FIELDS:
            continue
        if len(out) >= 32 or len(k) > 64 or not isinstance(v, str | int | float | bool):
            raise GuardInputError(
                f"field {k[:64]!r} is not a scalar the gateway can forward; "
                "send the OpenAI Images API fields only"
            )
        if isinstance(v, str) and len(v) > 2000:
            raise GuardInputError(f"field {k!r} is {len(v):,} characters (limit 2,000)")
        out[k] = v
    return out


def images_response(body: dict[str, Any]) -> Response:
    """The answer as JSON, each image's base64 written in as is. ``json.dumps`` would scan the
    ~360 KB of every image for characters to escape (base64 has none) and the text would be
    copied again to UTF-8: 0.56-0.71 ms of CPU per 1024x768 image against 0.03 ms here
    (benchmarks/gateway_bench.py --answer-json). The bytes are the same as JSONResponse's."""
    marker = secrets.token_hex(8)  # unguessable: no other value in the answer can equal it
    blobs: list[bytes] = []
    items = []
    for item in body.get("data", []):
        b64 = item.get("b64_json")
        if isinstance(b64, str):
            items.append({**item, "b64_json": f"{marker}-{len(blobs)}"})
            blobs.append(b64.encode("ascii"))
        else:
            items.append(item)
    out = json.dumps(
        {**body, "data": items}, ensure_ascii=False, allow_nan=False, separators=(",", ":")
    ).encode("utf-8")
    for i, blob in enumerate(blobs):
        head, _, tail = out.partition(f'"{marker}-{i}"'.encode())
        out = b"".join((head, b'"', blob, b'"', tail))
    return Response(out, media_type="application/json")


def check_format(response_format: str | None, stream: Any) -> None:
    if response_format not in (None, "b64_json", "url"):
        raise GuardInputError(f"response_format={response_format!r}: use b64_json or url")
    if stream not in (None, False, "false", "False"):
        raise GuardInputError(
            "streaming (partial images) is not supported: every image is "
            "checked before it is released; send stream=false"
        )


def validation_message(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        e = exc.errors()[0]
        where = ".".join(str(x) for x in e.get("loc", ()))
        return f"{where or 'body'}: {e.get('msg')}"
    return "the request body is not JSON; send the OpenAI Images API request as JSON"


async def read_form(
    request: Request, cfg: GatewayConfig
) -> tuple[list[File], File | None, dict[str, Any]]:
    from starlette.exceptions import HTTPException
    from starlette.formparsers import MultiPartException

    limit = cfg.max_images + 1  # the images and a mask
    try:
        form = await request.form(max_files=limit, max_fields=64)
    except (MultiPartException, HTTPException) as exc:
        text = str(getattr(exc, "detail", None) or getattr(exc, "message", None) or exc)
        if "files" in text.lower():
            raise GuardInputError(
                f"too many files in the edit request: at most {cfg.max_images} images and one mask"
            ) from None
        raise GuardInputError(f"the multipart body is malformed ({text})") from None
    except (ValueError, AssertionError) as exc:
        raise GuardInputError(f"the edit request must be multipart/form-data ({exc})") from None
    images: list[File] = []
    mask: File | None = None
    fields: dict[str, Any] = {}
    try:
        for key, value in form.multi_items():
            if isinstance(value, str):
                fields[key] = value
                continue
            data = await value.read()
            f = (value.filename or "image", data, value.content_type or "application/octet-stream")
            if key == "mask":
                mask = f
            elif key in ("image", "image[]"):
                images.append(f)
            else:
                raise GuardInputError(
                    f"unexpected file field {key[:40]!r}; send `image` (or `image[]`) and `mask`"
                )
    finally:
        await form.close()
    return images, mask, fields
