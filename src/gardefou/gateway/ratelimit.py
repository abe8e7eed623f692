"""Rate limits shared across processes: a tiny interface over the ``limits`` library.

``RateLimits(None)`` keeps counters in memory (one process); ``RateLimits("redis://...")`` keeps
them in Redis so every gateway process behind a load balancer draws from the same budget. The
algorithm is a sliding window counter (two counters per key: cheap in Redis, no burst at the
window edge as with fixed windows).
"""

from __future__ import annotations

import time
from typing import Any

from gardefou.errors import ConfigError, RateLimitError


def _limits() -> Any:
    try:
        import limits
        import limits.storage
        import limits.strategies
    except ImportError:
        raise ConfigError(
            "the gateway's rate limits need the `limits` package; install it with "
            "`pip install 'gardefou[service]'`"
        ) from None
    return limits


def parse_rate(text: str) -> Any:
    """'60/minute', '5 per hour', '100/day' -> a ``limits`` item (ConfigError when invalid)."""
    lim = _limits()
    try:
        return lim.parse(text)
    except ValueError:
        raise ConfigError(
            f"rate {text!r} is not a rate; write it as COUNT/PERIOD, e.g. '60/minute', '5/hour'"
        ) from None


class RateLimits:
    def __init__(self, storage_url: str | None = None) -> None:
        lim = _limits()
        if storage_url:
            try:
                storage = lim.storage.storage_from_string(storage_url)
            except Exception as exc:  # noqa: BLE001 - any driver error is a config error here
                raise ConfigError(
                    f"rate-limit storage {storage_url.split('@')[-1]!r} unusable ({exc}); "
                    "give a redis://host:port URL (and `pip install redis`) or none for memory"
                ) from None
        else:
            storage = _memory_storage(lim)
        self.shared = bool(storage_url)
        self._limiter = lim.strategies.SlidingWindowCounterRateLimiter(storage)
        self._items: dict[str, Any] = {}

    def _item(self, rate: str) -> Any:
        item = self._items.get(rate)
        if item is None:
            item = self._items[rate] = parse_rate(rate)
        return item

    def hit(self, scope: str, key: str, rate: str, what: str) -> None:
        """Count one request of ``key`` in ``scope``; RateLimitError (with Retry-After) when over.
        A storage failure is raised, never read as "under the limit" (fail closed)."""
        item = self._item(rate)
        if self._limiter.hit(item, "gardefou-gw", scope, key):
            return
        stats = self._limiter.get_window_stats(item, "gardefou-gw", scope, key)
        wait = max(1.0, float(stats.reset_time) - time.time())
        raise RateLimitError(
            f"{what} rate limit of {rate} reached; retry in {wait:.0f} s", retry_after=wait
        )


def _memory_storage(lim: Any) -> Any:
    """``limits``' MemoryStorage, minus its expiry thread: it starts a ``threading.Timer`` on
    almost every hit (the timer lives 10 ms), which cost ~5 ms of wall time per request on a
    loaded core (profiled: benchmarks/gateway_bench.py). Here expiry runs inline, at most once a
    second. Should the private hook be renamed upstream, the override simply no longer applies
    and the library's own timer does the work: correct either way."""

    class InlineExpiryMemoryStorage(lim.storage.MemoryStorage):
        _last_expiry = 0.0

        def _MemoryStorage__schedule_expiry(self) -> None:  # the hook the library calls
            now = time.monotonic()
            if now - self._last_expiry >= 1.0:
                self._last_expiry = now
                self._MemoryStorage__expire_events()

    return InlineExpiryMemoryStorage()
