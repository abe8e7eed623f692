"""The facts a policy can test, and how they are read from signals and context.

A policy names facts as ``namespace.attribute``. Two kinds exist:

* **signal facts** (``nudity.level``, ``faces.count``, ...): read from the SignalResult of a
  registered signal. A signal must be registered (``gardefou.signals.available_signals()``) for a
  policy to name it. Known signals have typed attributes below; any other registered signal
  offers ``<name>.score``, ``<name>.value`` and ``<name>.available``.
* **context facts** (``bank.victim_match``, ``thread.sexualized_edit``, ``consent.match``, ...):
  derived by the decision layer (banks, thread, consent registry) and passed in ``context``.

A fact whose signal did not run or could not run is UNKNOWN, never a silent "no": the engine
then treats the rule as undecided and the decision goes to review instead of allow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


class _Unknown:
    """A fact that cannot be established (its signal was unavailable or did not run)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        raise TypeError("UNKNOWN has no truth value; test `is UNKNOWN`")


UNKNOWN: Any = _Unknown()

BOOL, NUMBER, STRING, LIST, ANY = "bool", "number", "string", "list", "any"
LEVELS = ("explicit", "suggestive", "none")


@dataclass(frozen=True)
class FactSpec:
    name: str
    type: str
    doc: str
    choices: tuple[str, ...] | None = None
    #: signal facts: how to read the attribute from a SignalResult-like object
    read: Callable[[Any], Any] | None = None
    #: context facts: the value when the context does not provide the fact
    default: Any = None
    #: anyone can make this fact true (an anonymous submission): a rule naming it may only
    #: send to review (or allow); the loader refuses one that restricts content
    review_only: bool = False


def _details(r: Any) -> Mapping[str, Any]:
    return getattr(r, "details", None) or {}


def _faces_count(r: Any) -> int:
    d = _details(r)
    if "count" in d:
        return int(d["count"])
    return len(r.value or [])


def _photo_likelihood(r: Any) -> float:
    # Not measured means "assume a photograph": the cautious reading for a real-person rule.
    v = _details(r).get("photo_likelihood")
    return 1.0 if v is None else float(v)


def _max_face_score(r: Any) -> float:
    return max((float(f.get("score") or 0.0) for f in r.value or []), default=0.0)


def _level(r: Any) -> str:
    v = r.value
    if isinstance(v, Mapping):  # tolerate {"level": ...}
        v = v.get("level")
    if v not in LEVELS:
        raise ValueError(f"nudity level {v!r} is not one of {LEVELS}")
    return str(v)


def _minor_risk(r: Any) -> bool:
    v = r.value
    return bool(v.get("minor_risk")) if isinstance(v, Mapping) else bool(v)


def _ai_generated(r: Any) -> bool:
    # Provenance is positive-only evidence: "no manifest" (None) is not "not generated".
    v = r.value or {}
    return v.get("ai_generated") is True


def _c2pa_present(r: Any) -> bool:
    c2pa = (r.value or {}).get("c2pa") or {}
    return bool(c2pa.get("present", bool(c2pa)))


def _score(r: Any) -> float:
    return UNKNOWN if r.score is None else float(r.score)


SIGNAL_FACTS: dict[str, dict[str, FactSpec]] = {
    "nudity": {
        "level": FactSpec("nudity.level", STRING, "explicit | suggestive | none", LEVELS, _level),
        "score": FactSpec("nudity.score", NUMBER, "confidence of the level, 0..1", read=_score),
        "sexualized": FactSpec(
            "nudity.sexualized",
            BOOL,
            "level is explicit or suggestive",
            read=lambda r: _level(r) != "none",
        ),
        "explicit": FactSpec(
            "nudity.explicit", BOOL, "level is explicit", read=lambda r: _level(r) == "explicit"
        ),
    },
    "faces": {
        "count": FactSpec("faces.count", NUMBER, "number of faces found", read=_faces_count),
        "photo_likelihood": FactSpec(
            "faces.photo_likelihood",
            NUMBER,
            "likelihood the faces are photographic (1.0 when not measured)",
            read=_photo_likelihood,
        ),
        "max_score": FactSpec(
            "faces.max_score", NUMBER, "best face detection score", read=_max_face_score
        ),
    },
    "age": {
        "minor_risk": FactSpec("age.minor_risk", BOOL, "a face may be a minor's", read=_minor_risk),
        "score": FactSpec("age.score", NUMBER, "confidence of minor_risk", read=_score),
    },
    "identity": {
        "count": FactSpec(
            "identity.count", NUMBER, "faces with an embedding", read=lambda r: len(r.value or [])
        ),
    },
    "ai_generated": {
        "likely": FactSpec(
            "ai_generated.likely",
            BOOL,
            "pixel statistics put the image above the AI-generated operating threshold (advisory: "
            "label or review on it, never remove on it alone)",
            read=lambda r: bool((r.value or {})["likely"]),
        ),
        "probability": FactSpec(
            "ai_generated.probability",
            NUMBER,
            "calibrated AI-generated probability from pixels (advisory)",
            read=lambda r: float((r.value or {})["probability"]),
        ),
    },
    "provenance": {
        "ai_generated": FactSpec(
            "provenance.ai_generated",
            BOOL,
            "positive evidence of AI generation (C2PA, IPTC, watermark)",
            read=_ai_generated,
        ),
        "c2pa_present": FactSpec(
            "provenance.c2pa_present", BOOL, "a C2PA manifest is present", read=_c2pa_present
        ),
    },
}

_GENERIC: dict[str, FactSpec] = {
    "score": FactSpec("*.score", NUMBER, "the signal's score", read=_score),
    "value": FactSpec("*.value", ANY, "the signal's raw value", read=lambda r: r.value),
    "available": FactSpec("*.available", BOOL, "the signal ran", read=lambda r: True),
}

CONTEXT_FACTS: dict[str, FactSpec] = {
    s.name: s
    for s in (
        FactSpec("event.kind", STRING, "post | generation", ("post", "generation"), default="post"),
        FactSpec("event.is_reply", BOOL, "the post replies to another post", default=False),
        FactSpec(
            "generation.no_output",
            BOOL,
            "a generation event without output (the generator refused): its input images are "
            "judged with the request",
            default=False,
        ),
        FactSpec(
            "bank.match", BOOL, "a positive hash-bank match (after negative banks)", default=False
        ),
        FactSpec(
            "bank.victim_match",
            BOOL,
            "a match in a victim bank with a hash a moderator or partner vouches for",
            default=False,
        ),
        FactSpec(
            "bank.unconfirmed_match",
            BOOL,
            "a match only with hashes from a submission no moderator has confirmed yet "
            "(anyone can submit hashes): review only, never an automated removal",
            default=False,
            review_only=True,
        ),
        FactSpec(
            "bank.unconfirmed_cases",
            LIST,
            "case numbers of the unconfirmed submissions matched (for the moderator, who "
            "confirms or rejects them)",
            default=(),
            review_only=True,
        ),
        FactSpec("bank.min_distance", NUMBER, "smallest PDQ distance of a bank match", default=256),
        FactSpec(
            "bank.exchanges",
            LIST,
            "names of the hash-sharing exchanges (StopNCII, NCMEC, ...) whose hashes matched",
            default=(),
        ),
        FactSpec(
            "bank.exchange_entries",
            LIST,
            "bank entry ids of the exchange hashes matched (for feedback to the exchange)",
            default=(),
        ),
        FactSpec(
            "bank.entries",
            LIST,
            "the bank entries matched (ids): the review queue groups the cases that share one",
            default=(),
        ),
        FactSpec(
            "thread.parent_same_person",
            BOOL,
            "a face matches a face in the reply parent's "
            "images (or, for a generation, the input images)",
            default=False,
        ),
        FactSpec(
            "thread.more_sexualized_than_parent",
            BOOL,
            "the nudity level is higher than the parent's",
            default=False,
        ),
        FactSpec(
            "thread.sexualized_edit",
            BOOL,
            "same person as the parent and more sexualized: a "
            "sexualized edit of a real person's photo",
            default=False,
        ),
        FactSpec(
            "thread.same_person_score",
            NUMBER,
            "best same-person score against the parent",
            default=0.0,
        ),
        FactSpec(
            "thread.parent_same_author",
            BOOL,
            "the compared parent image was posted by the same account",
            default=False,
        ),
        FactSpec(
            "thread.bot_request",
            BOOL,
            "this post answers a request to sexualize someone that mentioned its author (a bot)",
            default=False,
        ),
        FactSpec(
            "request.sexualizing",
            BOOL,
            "the request text asks to undress or sexualize "
            "(generation prompt, or the request a bot answers)",
            default=False,
        ),
        FactSpec("request.score", NUMBER, "confidence of request.sexualizing", default=0.0),
        FactSpec(
            "consent.match",
            BOOL,
            "a face matches a template in the consent registry "
            "(a person who asked to be protected)",
            default=False,
        ),
        FactSpec(
            "consent.templates",
            LIST,
            "the consent-registry templates matched (ids): the review queue groups their cases",
            default=(),
        ),
        FactSpec(
            "consent.evidence",
            BOOL,
            "evidence that the depicted person consented (e.g. the person posted it themselves)",
            default=False,
        ),
    )
}

CONTEXT_NAMESPACES = frozenset(n.split(".", 1)[0] for n in CONTEXT_FACTS)


def lookup(name: str, signal_names: set[str] | frozenset[str]) -> FactSpec | str:
    """The spec of a fact name, or an error message saying what is known."""
    ns, dot, attr = name.partition(".")
    if not dot or not attr:
        return (
            f"fact {name!r} must be written namespace.attribute (e.g. nudity.level, "
            "bank.victim_match)"
        )
    if ns in CONTEXT_NAMESPACES:
        if name in CONTEXT_FACTS:
            return CONTEXT_FACTS[name]
        known = sorted(n for n in CONTEXT_FACTS if n.startswith(ns + "."))
        return f"unknown context fact {name!r}; known: {', '.join(known)}"
    if ns not in signal_names:
        return (
            f"unknown signal {ns!r} in fact {name!r}; registered signals: "
            f"{', '.join(sorted(signal_names)) or 'none'}; context facts: "
            f"{', '.join(sorted(CONTEXT_NAMESPACES))}"
        )
    attrs = {**_GENERIC, **SIGNAL_FACTS.get(ns, {})}
    if attr not in attrs:
        return f"signal {ns!r} has no fact {attr!r}; known: {', '.join(sorted(attrs))}"
    return attrs[attr]


def resolve(
    name: str, spec: FactSpec, signals: Mapping[str, Any], context: Mapping[str, Any]
) -> Any:
    """The value of one fact, or UNKNOWN."""
    if name in CONTEXT_FACTS:
        return context.get(name, spec.default)
    ns = name.split(".", 1)[0]
    result = signals.get(ns)
    if result is None:
        return UNKNOWN
    if isinstance(result, Mapping):
        result = _AttrView(result)
    if not getattr(result, "available", True):
        return UNKNOWN
    assert spec.read is not None
    try:
        return spec.read(result)
    except (ValueError, TypeError, AttributeError, KeyError):
        # A malformed signal value is treated like a missing signal: undecided, never "clean".
        return UNKNOWN


class _AttrView:
    """Lets a SignalResult serialized to a dict be read like the dataclass."""

    def __init__(self, d: Mapping[str, Any]) -> None:
        self.value = d.get("value")
        self.score = d.get("score")
        self.available = d.get("available", True)
        self.details = d.get("details") or {}
