"""A bound on how many images a process decodes at once.

Each decode may hold hundreds of megabytes until its request ends; without a bound, N parallel
uploads cost N times that (four 10000x10000 PNGs took the service to 5 GB). A request waits a
short while for a slot, then gets a typed BusyError (HTTP 503 with Retry-After) rather than
queueing without limit.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from gardefou.errors import BusyError, ConfigError


class DecodeGate:
    def __init__(self, slots: int, wait_s: float) -> None:
        if not isinstance(slots, int) or slots <= 0:
            raise ConfigError(f"decode slots={slots!r} must be a positive integer")
        if wait_s < 0:
            raise ConfigError(f"decode wait={wait_s!r} s must be zero or more")
        self.slots = slots
        self.wait_s = wait_s
        self._sem = threading.BoundedSemaphore(slots)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Hold one slot for the block (the decode and everything that keeps its pixels)."""
        if not self._sem.acquire(timeout=self.wait_s):
            raise BusyError(
                f"{self.slots} image decode(s) already running in this process and none "
                f"finished within {self.wait_s:g} s; retry shortly (or raise "
                "GARDEFOU_MAX_DECODES if the server has memory to spare)",
                retry_after=max(1.0, self.wait_s),
            )
        try:
            yield
        finally:
            self._sem.release()
