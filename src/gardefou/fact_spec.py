"""How a fact a policy can test is described: ``FactSpec``, its value types and ``UNKNOWN``.

A leaf shared by the two sides that declare facts: each signal class declares the facts it
provides (``Signal.facts``: ``nudity.level``, ``faces.count``, ...) and the policy layer
declares the context facts (``policy/facts.py``: ``bank.victim_match``, ...). The signal
registry derives the table of signal facts from the declarations.
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
TYPES = (BOOL, NUMBER, STRING, LIST, ANY)


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


def details(r: Any) -> Mapping[str, Any]:
    """A result's details mapping (empty when it has none)."""
    return getattr(r, "details", None) or {}


def read_score(r: Any) -> Any:
    """The result's score, UNKNOWN when it has none."""
    return UNKNOWN if r.score is None else float(r.score)


def score_fact(signal: str, doc: str = "the signal's score") -> FactSpec:
    """``<signal>.score``, a number read from the result's score."""
    return FactSpec(f"{signal}.score", NUMBER, doc, read=read_score)


__all__ = [
    "ANY",
    "BOOL",
    "LIST",
    "NUMBER",
    "STRING",
    "TYPES",
    "UNKNOWN",
    "FactSpec",
    "details",
    "read_score",
    "score_fact",
]
