"""``gardefou serve`` purges the review images no moderator needs any more: once at start-up,
then every ``PURGE_INTERVAL_S`` in a background task (``gardefou.cases.review_media``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from gardefou.cases.review_media import PURGE_INTERVAL_S, PurgeSchedule


async def _every(schedule: PurgeSchedule, db: Any) -> None:
    while True:
        await asyncio.sleep(schedule.interval)
        await asyncio.to_thread(schedule.maybe, db)


@contextlib.asynccontextmanager
async def purge_lifespan(app: Any, interval: float = PURGE_INTERVAL_S) -> AsyncIterator[None]:
    """FastAPI lifespan: one purge before serving, then one every ``interval`` seconds."""
    db = app.state.services.db
    schedule = PurgeSchedule(interval)
    await asyncio.to_thread(schedule.maybe, db)
    task = asyncio.create_task(_every(schedule, db))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
