"""Rate limits (429), the one wrapper over the ``limits`` library: the web service counts
requests per minute per caller, the gateway rates in ``limits`` notation ('60/minute') per user,
per API key and over all users.

Sliding-window counters (two per key: cheap in Redis, no burst at a window edge). With a
``redis://`` URL the counters live in Redis, shared by every worker and host; without, in this
process (bounded, no expiry thread). The ``limits`` library (the ``service`` extra) is imported
when a limiter is built, never at import: importing this module changes nothing in the host.
A storage failure is raised, never read as "under the limit" (fail closed).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from gardefou.errors import ConfigError, RateLimitError


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
        _require_limits()
        from limits.strategies import SlidingWindowCounterRateLimiter

        if storage_url:
            storage = _redis_storage(storage_url, prefix)
        else:
            storage = _bounded_memory(max_buckets)
        self.shared = bool(storage_url)
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        self._items: dict[int | str, Any] = {}

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

    def hit_rate(self, scope: str, key: str, rate: str, what: str) -> None:
        """Count one request of ``key`` in ``scope`` against ``rate`` ('60/minute', '5/hour');
        RateLimitError (with Retry-After) when over. A storage failure (Redis down) is raised,
        never read as "under the limit" (fail closed)."""
        item = self._items.get(rate)
        if item is None:
            item = self._items[rate] = parse_rate(rate)
        if not self._limiter.hit(item, scope, key):
            raise self._refusal(item, (scope, key), f"{what} rate limit of {rate}")

    def check(self, caller: str, per_minute: int, what: str) -> None:
        """Raise RateLimitError if ``caller`` has used up its limit, without counting."""
        item = self._item(per_minute)
        if not self._limiter.test(item, caller):
            raise self._refusal(item, caller, what)

    def count(self, caller: str, per_minute: int) -> None:
        """Count one event (a failed key) without refusing anything now."""
        self._limiter.hit(self._item(per_minute), caller)

    def _refusal(self, item: Any, caller: str | tuple[str, ...], what: str) -> RateLimitError:
        ids = caller if isinstance(caller, tuple) else (caller,)
        reset = self._limiter.get_window_stats(item, *ids).reset_time
        wait = max(1.0, reset - time.time())
        return RateLimitError(f"{what} reached; retry in {wait:.0f} s", retry_after=wait)


def _require_limits() -> None:
    try:
        import limits  # noqa: F401
    except ImportError:
        raise ConfigError(
            "rate limits need the `limits` package; install it with "
            "`pip install 'gardefou[service]'`"
        ) from None


def parse_rate(text: str) -> Any:
    """'60/minute', '5 per hour', '100/day' -> a ``limits`` item (ConfigError when invalid)."""
    _require_limits()
    import limits

    try:
        return limits.parse(text)
    except ValueError:
        raise ConfigError(
            f"rate {text!r} is not a rate; write it as COUNT/PERIOD, e.g. '60/minute', '5/hour'"
        ) from None


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
