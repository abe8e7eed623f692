"""Image facts the guard needs, read from the shared signals (faces, age, identity, nudity).

Every reader returns what it found plus the names of signals that could not run, so the guard
can fail closed: a missing model is never read as "no person" or "not sexual".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gardefou.errors import ConfigError, GardefouError
from gardefou.media import Media
from gardefou.signals.base import Signal, SignalResult
from gardefou.signals.nudity_levels import LEVEL_RANK

NUDITY_LEVEL = LEVEL_RANK
PHOTO_THRESHOLD = 0.5  # photo_likelihood at or above: a photograph, not a drawing


@dataclass
class ImageFacts:
    faces: int | None = None  # None: unknown (signal unavailable)
    photo_likelihood: float | None = None
    minor_risk: bool | None = None
    minor_probability: float | None = None
    nudity: str | None = None
    embeddings: list[list[float]] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def real_face(self) -> bool | None:
        """A photographic face: a real person (None when the face signal could not run)."""
        if self.faces is None:
            return None
        if self.faces == 0:
            return False
        return (self.photo_likelihood if self.photo_likelihood is not None else 1.0) >= (
            PHOTO_THRESHOLD
        )


SignalGetter = Callable[[str], Signal]


def _default_getter(name: str) -> Signal:
    from gardefou.signals import get_signal

    return get_signal(name)


class ImageReader:
    def __init__(self, signals: Mapping[str, Signal] | None = None,
                 getter: SignalGetter | None = None) -> None:  # fmt: skip
        self._overrides = dict(signals or {})
        self._getter = getter or _default_getter

    def _run(self, name: str, media: Media, facts: ImageFacts) -> SignalResult | None:
        try:
            sig = self._overrides.get(name) or self._getter(name)
            res = media.cached(f"guard:{name}", lambda: sig.extract(media))
        except (ConfigError, GardefouError, ImportError, OSError) as exc:
            facts.unavailable.append(name)
            facts.notes.append(f"{name} signal unavailable: {exc}")
            return None
        if not res.available:
            facts.unavailable.append(name)
            facts.notes.append(f"{name} signal unavailable: {res.explanation}")
            return None
        return res

    def people(self, media: Media, with_age: bool = True) -> ImageFacts:
        facts = ImageFacts()
        res = self._run("faces", media, facts)
        if res is not None:
            details: Mapping[str, Any] = res.details or {}
            boxes = res.value or []
            facts.faces = int(details.get("count", len(boxes)))
            pl = details.get("photo_likelihood")
            facts.photo_likelihood = None if pl is None else float(pl)
        if with_age and facts.faces:
            age = self._run("age", media, facts)
            if age is not None and isinstance(age.value, Mapping):
                facts.minor_risk = bool(age.value.get("minor_risk"))
                probs = [float(f.get("minor_probability", 0.0)) for f in age.value.get("faces", [])]
                facts.minor_probability = max(probs) if probs else None
        return facts

    def nudity(self, media: Media, facts: ImageFacts) -> None:
        res = self._run("nudity", media, facts)
        if res is not None:
            level = str(res.value)
            facts.nudity = level if level in NUDITY_LEVEL else "none"

    def identity(self, media: Media, facts: ImageFacts) -> None:
        res = self._run("identity", media, facts)
        if res is not None:
            facts.embeddings = [list(f["embedding"]) for f in (res.value or [])]


def default_compare() -> Callable[[Any, Any], Any]:
    """gardefou.signals.identity.compare; ImportError when the identity signal is absent."""
    from gardefou.signals.identity import compare  # type: ignore[import-not-found,unused-ignore]

    return compare  # type: ignore[no-any-return,unused-ignore]


def same_person(a: list[list[float]], b: list[list[float]],
                compare: Callable[[Any, Any], Any]) -> tuple[bool, float | None]:  # fmt: skip
    """True when any face in a matches any face in b."""
    best: float | None = None
    for ea in a:
        for eb in b:
            r = compare(ea, eb)
            best = r.distance if best is None else min(best, r.distance)
            if r.same:
                return True, float(r.distance)
    return False, best
