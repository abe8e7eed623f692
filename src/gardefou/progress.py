"""Progress of long jobs (a bank import, a backfill): the library calls ``progress(done, total)``
as work completes; the CLI shows it (``gardefou.cli.progress``), other callers may log it."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
ProgressFn = Callable[[int, int], None]


def reporting(items: Sequence[T], progress: ProgressFn, every: int = 1000) -> Iterator[T]:
    """Yield ``items``, calling ``progress`` before the first and after every ``every``-th and
    the last has been consumed (a consumer that writes each item before asking for the next
    is thus reported after the write)."""
    total = len(items)
    progress(0, total)
    for i, item in enumerate(items, 1):
        yield item
        if i % every == 0 or i == total:
            progress(i, total)
