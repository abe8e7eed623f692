"""Request size limits (413 before the body is read) and per-caller rate limits (429).

The rate limiter is ``gardefou.ratelimit.RateLimiter`` (re-exported here), the one wrapper over
the ``limits`` library that the gateway uses too. Importing this module changes nothing in the
host process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gardefou.asgi import send_json_and_close
from gardefou.ratelimit import RateLimiter, parse_rate

__all__ = ["BodyLimitMiddleware", "RateLimiter", "parse_rate"]

Scope = dict[str, Any]


class BodyLimitMiddleware:
    """Refuse bodies over the limit: at once when Content-Length says so, else while streaming.
    Uploads (paths in ``upload_paths``) get ``upload_limit``; everything else ``body_limit``."""

    def __init__(
        self, app: Any, body_limit: int, upload_limit: int, upload_paths: tuple[str, ...]
    ) -> None:
        self.app = app
        self.body_limit = body_limit
        self.upload_limit = upload_limit
        self.upload_paths = upload_paths

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = self.upload_limit if path.startswith(self.upload_paths) else self.body_limit
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                size = -1
            if size > limit:
                await _too_large(send, limit, size)
                return
        received = 0
        rejected = False

        async def limited_receive() -> dict[str, Any]:
            nonlocal received, rejected
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    rejected = True
                    raise _BodyTooLarge(received)
            return message

        started = False
        replaced = False

        async def tracking_send(message: dict[str, Any]) -> None:
            # A framework may catch the overflow while parsing and answer 400: answer 413 instead.
            nonlocal started, replaced
            if replaced:
                return
            if message["type"] == "http.response.start":
                if rejected:
                    replaced = True
                    await _too_large(send, limit, received)
                    return
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge as exc:
            if not started and not replaced:
                await _too_large(send, limit, exc.size)
        except Exception:
            if rejected and not started and not replaced:
                await _too_large(send, limit, received)
            else:
                raise


class _BodyTooLarge(Exception):
    def __init__(self, size: int) -> None:
        self.size = size


async def _too_large(send: Callable, limit: int, size: int) -> None:
    payload = {
        "error": "media_too_large",
        "type": "RequestTooLarge",
        "message": f"request body of {size:,} bytes or more is over the limit of {limit:,} "
        "bytes; send a smaller file or raise the server's limit",
    }
    await send_json_and_close(send, 413, payload)
