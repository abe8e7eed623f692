"""Deciding an event end to end: ``decide_event`` for a library caller or the web service, and
``PlatformDecider``, the pipeline's Decider protocol (``gardefou.pipeline.deciders``).

``decide_event`` = load the media, ``judge.decide`` (reads only), then ``record.record`` (one
transaction). Deciding an event a second time returns the stored decision and does nothing else.

``PlatformDecider.decide(event, media)`` reads only (signals, thread store, consent registry,
policy); ``record(db, event, media, decision)`` writes inside the runner's commit transaction, so
a redelivered message has no second effect. ``bind(db)`` gives ``decide`` the worker's store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gardefou.cases.review_media import PurgeSchedule
from gardefou.decide.judge import decide
from gardefou.decide.record import get_decision, record
from gardefou.decide.results import Decided, StoredDecision
from gardefou.decide.services import Services, services_for
from gardefou.decision import Decision
from gardefou.events import Event, GenerationEvent, MediaRef, Post, parse_event
from gardefou.media import Media
from gardefou.store import connect


def _load(refs: Sequence[MediaRef], services: Services) -> list[Any]:
    """Images as ``Media``, clips (MP4, MOV, WebM, MKV) as probed ``media.video.Video``."""
    return [r.load(services.limits, services.base_dir, services.video_limits) for r in refs]


def decide_event(event: Event | Mapping[str, Any], services: Services) -> StoredDecision:
    """Decide one event once. Raises PipelineEventError / MediaError for a bad event (the
    runner's dead-letter store takes it); a replay returns the stored decision."""
    ev = event if isinstance(event, Post | GenerationEvent) else parse_event(dict(event))
    stored = get_decision(services.db, ev.id)
    if stored is not None:
        return stored
    media = {role: _load(refs, services) for role, refs in _by_role(ev.media_refs).items()}
    return record(services.db, decide(ev, media, services), services)


def _by_role(refs: Sequence[Any], media: Sequence[Any] | None = None) -> dict[str, list[Any]]:
    """``media`` (default: the references themselves) grouped by their reference's role."""
    out: dict[str, list[Any]] = {}
    for ref, m in zip(refs, refs if media is None else media, strict=True):
        out.setdefault(ref.role, []).append(m)
    return out


class PlatformDecider:
    """The pipeline's Decider protocol over this package (see gardefou.pipeline.deciders)."""

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

    def decide_with(self, db: Any, event: Any, media: Sequence[Media]) -> Decision:
        self._purge.maybe(db)  # outside the event's commit transaction: it never fails the event
        decided = decide(event.event, _by_role(event.media_refs, media), self.services(db))
        if len(self._pending) > 10_000:  # record() was never called for some: forget them
            self._pending.clear()
        self._pending[event.id] = decided
        return decided.decision

    def decide(self, event: Any, media: Sequence[Media]) -> Decision:
        if self._db is None:
            if self._services:
                self._db = next(iter(self._services.values())).db
            else:
                self._db = connect()
        return self.decide_with(self._db, event, media)

    def record(self, db: Any, event: Any, media: Sequence[Media], decision: Decision) -> None:
        decided = self._pending.pop(str(event.id), None)
        services = self.services(db)
        if decided is None:
            decided = decide(event.event, _by_role(event.media_refs, media), services)
        record(db, decided, services)


def platform_decider() -> PlatformDecider:
    """Factory for ``--decider gardefou.decide:platform_decider``."""
    return PlatformDecider()
