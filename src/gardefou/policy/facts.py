"""The facts a policy can test, and how they are read from signals and context.

A policy names facts as ``namespace.attribute``. Two kinds exist:

* **signal facts** (``nudity.level``, ``faces.count``, ...): read from the SignalResult of a
  registered signal. A signal must be registered (``gardefou.signals.available_signals()``) for a
  policy to name it. Each signal class declares its typed facts (``Signal.facts``) and the
  registry derives the table from them (``signal_fact_table()``); every registered signal also
  offers ``<name>.score``, ``<name>.value`` and ``<name>.available``.
* **context facts** (``bank.victim_match``, ``thread.sexualized_edit``, ``consent.match``, ...):
  derived by the decision layer (banks, thread, consent registry) and passed in ``context``.

A fact whose signal did not run or could not run is UNKNOWN, never a silent "no": the engine
then treats the rule as undecided and the decision goes to review instead of allow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# the fact vocabulary is shared with the signals (which declare their facts); it stays
# importable from here
from gardefou.fact_spec import ANY, BOOL, LIST, NUMBER, STRING, UNKNOWN, FactSpec

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
    attrs = _signal_facts(ns)
    if attr not in attrs:
        return f"signal {ns!r} has no fact {attr!r}; known: {', '.join(sorted(attrs))}"
    return attrs[attr]


def _signal_facts(signal: str) -> dict[str, FactSpec]:
    # the registry loads the signal's class (not its model) to read its declarations
    from gardefou.signals import signal_facts

    return signal_facts(signal)


def signal_fact_table() -> dict[str, dict[str, FactSpec]]:
    """attribute -> FactSpec for every registered signal, as the signals declare them."""
    from gardefou.signals import REGISTRY

    return REGISTRY.fact_table()


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


__all__ = [
    "ANY",
    "BOOL",
    "CONTEXT_FACTS",
    "CONTEXT_NAMESPACES",
    "LIST",
    "NUMBER",
    "STRING",
    "UNKNOWN",
    "FactSpec",
    "lookup",
    "resolve",
    "signal_fact_table",
]
