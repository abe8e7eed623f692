"""Request size limits (413 before the body is read) and per-caller rate limits (429)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from gardefou.errors import RateLimitError

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
    body = json.dumps(
        {
            "error": "media_too_large",
            "type": "RequestTooLarge",
            "message": f"request body of {size:,} bytes or more is over the limit of {limit:,} "
            "bytes; send a smaller file or raise the server's limit",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RateLimiter:
    """Token buckets: ``rate`` requests per minute per caller, bursts up to a minute's worth."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def hit(self, caller: str, per_minute: int) -> None:
        now = self._clock()
        capacity = float(per_minute)
        refill = per_minute / 60.0
        with self._lock:
            tokens, last = self._buckets.get(caller, (capacity, now))
            tokens = min(capacity, tokens + (now - last) * refill)
            if tokens < 1.0:
                self._buckets[caller] = (tokens, now)
                wait = (1.0 - tokens) / refill
                raise RateLimitError(
                    f"rate limit of {per_minute} requests per minute reached; retry in "
                    f"{wait:.1f} s",
                    retry_after=wait,
                )
            self._buckets[caller] = (tokens - 1.0, now)
            if len(self._buckets) > 100_000:  # forget idle callers rather than grow forever
                cutoff = now - 120
                self._buckets = {k: v for k, v in self._buckets.items() if v[1] > cutoff}
