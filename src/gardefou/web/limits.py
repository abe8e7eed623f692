"""Request size limits (413 before the body is read) and per-caller rate limits (429).

The rate limiter imports the ``limits`` library (the ``service`` extra) when an app is built,
never at import: importing this module changes nothing in the host process."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from gardefou.errors import ConfigError, RateLimitError

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
    """``per_minute`` requests per caller over a sliding minute (the ``limits`` library's
    sliding-window counters). With ``storage_url`` (``redis://...``) the counters live in Redis,
    shared by every worker and host: N workers do not multiply the rate. Without it they live
    in this process, bounded to ``max_buckets`` callers (see ``_bounded_memory_class``)."""

    def __init__(
        self,
        storage_url: str | None = None,
        *,
        prefix: str = "gardefou",
        max_buckets: int = 1_000_000,
    ) -> None:
        from limits.strategies import SlidingWindowCounterRateLimiter

        if storage_url:
            storage = _redis_storage(storage_url, prefix)
        else:
            storage = _bounded_memory(max_buckets)
        self.shared = bool(storage_url)
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        self._items: dict[int, Any] = {}

    def _item(self, per_minute: int) -> Any:
        item = self._items.get(per_minute)
        if item is None:
            from limits import RateLimitItemPerMinute

            item = self._items[per_minute] = RateLimitItemPerMinute(per_minute)
        return item

    def hit(self, caller: str, per_minute: int) -> None:
        """Count one request; raise RateLimitError (with retry_after) when over the limit."""
        item = self._item(per_minute)
        if not self._limiter.hit(item, caller):
            raise self._refusal(item, caller, f"rate limit of {per_minute} requests per minute")

    def check(self, caller: str, per_minute: int, what: str) -> None:
        """Raise RateLimitError if ``caller`` has used up its limit, without counting."""
        item = self._item(per_minute)
        if not self._limiter.test(item, caller):
            raise self._refusal(item, caller, what)

    def count(self, caller: str, per_minute: int) -> None:
        """Count one event (a failed key) without refusing anything now."""
        self._limiter.hit(self._item(per_minute), caller)

    def _refusal(self, item: Any, caller: str, what: str) -> RateLimitError:
        reset = self._limiter.get_window_stats(item, caller).reset_time
        wait = max(1.0, reset - time.time())
        return RateLimitError(f"{what} reached; retry in {wait:.0f} s", retry_after=wait)


def _redis_storage(url: str, prefix: str) -> Any:
    """Redis storage for the limiter, checked now: a limiter that cannot reach its store would
    fail every request later, so a wrong URL stops the service at start instead."""
    from limits.errors import ConfigurationError
    from limits.storage import storage_from_string

    if not url.startswith(("redis://", "rediss://", "redis+unix://")):
        raise ConfigError(
            f"rate-limit storage {url.split('@')[-1]!r} is not a Redis URL; use "
            "redis://host:6379/0 (or leave GARDEFOU_RATE_LIMIT_URL unset for in-process limits)"
        )
    try:
        storage = storage_from_string(url, key_prefix=f"{prefix}:ratelimit")
        ok = storage.check()
    except (ConfigurationError, ValueError) as exc:  # no redis client, or a malformed URL
        raise ConfigError(
            f"rate-limit storage {url.split('@')[-1]!r} unusable: {exc}; install "
            "'gardefou[scale]' for the Redis client and check the URL"
        ) from None
    if not ok:
        raise ConfigError(f"rate-limit storage {url.split('@')[-1]!r} does not answer")
    return storage


def _bounded_memory_class() -> type:
    from limits.storage import MemoryStorage

    class _Bounded(MemoryStorage):
        """The library's in-process counters, with a cap on how many are kept. The old
        limiter rebuilt its whole dict on every request past 100k live callers (~21 ms each);
        here, past the cap, expired counters go first, then the oldest half, once per
        ``max_buckets / 2`` new callers: amortized O(1). A forgotten caller starts afresh
        (a limit, not a ban, is what is lost), and memory stays bounded."""

        def __init__(self, max_buckets: int) -> None:
            super().__init__()
            self.timer.cancel()
            self.max_keys = 2 * max_buckets  # a sliding window keeps 2 counters per caller
            self._shrink_lock = threading.Lock()

        def _MemoryStorage__schedule_expiry(self) -> None:
            # The parent scans every counter in a thread every 10 ms while requests flow: with
            # 200k callers that is a core spent holding the GIL. Expired counters are dropped
            # lazily instead (``get``, and ``_shrink`` past the cap).
            return

        def incr(self, key: str, expiry: float, amount: int = 1) -> int:
            if len(self.storage) >= self.max_keys and key not in self.storage:
                self._shrink()
            return int(super().incr(key, expiry, amount))

        def _shrink(self) -> None:
            with self._shrink_lock:
                if len(self.storage) < self.max_keys:
                    return
                now = time.time()
                for k in [k for k, t in list(self.expirations.items()) if t <= now]:
                    self.clear(k)
                if len(self.storage) >= self.max_keys * 0.9:
                    for k in list(self.storage)[: len(self.storage) // 2]:
                        self.clear(k)

    return _Bounded


def _bounded_memory(max_buckets: int) -> Any:
    if max_buckets <= 0:
        raise ConfigError(f"max_buckets={max_buckets!r} must be positive")
    return _bounded_memory_class()(max_buckets)
