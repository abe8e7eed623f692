"""What deciding returns: per image (``ItemResult``), per event before it is stored
(``Decided``) and after (``StoredDecision``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gardefou.decision import Decision
from gardefou.events import Event
from gardefou.media import Media
from gardefou.thread import MediaFacts, ThreadPost


@dataclass
class ItemResult:
    """One image (or clip) of an event: its signals, context facts and decision."""

    label: str
    signals: Mapping[str, Any]
    context: dict[str, Any]
    decision: Decision
    facts: MediaFacts
    skipped: frozenset[str] = frozenset()


@dataclass
class Decided:
    """``decide``'s result: the decision plus what ``record`` stores."""

    event: Event
    decision: Decision
    items: list[ItemResult]
    thread_post: ThreadPost
    poster: str | None
    requester: str | None
    #: the judged images and, for a generation, its inputs: what a moderator is shown
    media: tuple[Media, ...] = ()
    parent_images: tuple[Media, ...] = ()


@dataclass(frozen=True)
class StoredDecision:
    event_id: str
    decision: Decision
    case_id: int | None
    created: bool  # False: the event had been decided before; nothing was done again
