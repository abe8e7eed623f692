"""The pipeline's Decider protocol (``gardefou.pipeline.deciders``) over ``gardefou.decide``.

``decide(event, media)`` reads only (signals, thread store, consent registry, policy);
``record(db, event, media, decision)`` writes inside the runner's commit transaction, so a
redelivered message has no second effect. ``bind(db)`` gives ``decide`` the worker's store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from gardefou.cases.review_media import PurgeSchedule
from gardefou.decide import Decided, Services, decide, record, services_for
from gardefou.decision import Decision
from gardefou.events import parse_event
from gardefou.media import Media


class PlatformDecider:
    """The pipeline's Decider protocol over this module (see gardefou.pipeline.deciders)."""

    def __init__(self, services_factory: Callable[[Any], Services] | None = None) -> None:
        self._factory = services_factory or services_for
        self._services: dict[int, Services] = {}
        self._pending: dict[str, Decided] = {}
        self._db: Any = None
        # workers also purge the review images no moderator needs any more (docs/web.md)
        self._purge = PurgeSchedule()

    def bind(self, db: Any) -> PlatformDecider:
        """The database ``decide`` reads thread facts and the consent registry from (the
        protocol's ``decide`` gets none); default: the first ``record`` db, else $GARDEFOU_DB."""
        self._db = db
        return self

    def services(self, db: Any) -> Services:
        if id(db) not in self._services:
            self._services[id(db)] = self._factory(db)
        return self._services[id(db)]

    def _split(self, event: Any, media: Sequence[Media]) -> dict[str, list[Media]]:
        out: dict[str, list[Media]] = {}
        for ref, m in zip(event.media_refs, media, strict=True):
            out.setdefault(ref.role, []).append(m)
        return out

    def decide_with(self, db: Any, event: Any, media: Sequence[Media]) -> Decision:
        self._purge.maybe(db)  # outside the event's commit transaction: it never fails the event
        ev = parse_event(event.payload)
        decided = decide(ev, self._split(event, media), self.services(db))
        if len(self._pending) > 10_000:  # record() was never called for some: forget them
            self._pending.clear()
        self._pending[ev.id] = decided
        return decided.decision

    def decide(self, event: Any, media: Sequence[Media]) -> Decision:
        if self._db is None:
            if self._services:
                self._db = next(iter(self._services.values())).db
            else:
                from gardefou.store import connect

                self._db = connect()
        return self.decide_with(self._db, event, media)

    def record(self, db: Any, event: Any, media: Sequence[Media], decision: Decision) -> None:
        decided = self._pending.pop(str(event.id), None)
        services = self.services(db)
        if decided is None:
            decided = decide(parse_event(event.payload), self._split(event, media), services)
        record(db, decided, services)


def platform_decider() -> PlatformDecider:
    """Factory for ``--decider gardefou.decide:platform_decider``."""
    return PlatformDecider()
