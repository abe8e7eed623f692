"""Request intent: does a post's text or a generation's prompt ask to undress or sexualize
someone ("@imgbot put her in a bikini")?

``request_intent`` is the one narrow function the decision layer depends on (``Services.intent``):
the guard's intent classifier when it can load, else its rule layer, else a minimal lexicon.
``rules_intent`` is the model-free variant (fast; tests, replays). The verdict is kept with the
post (``gardefou.thread.ThreadPost``) so a bot's later answer is judged as answering it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gardefou.errors import GardefouError


@dataclass(frozen=True)
class RequestIntent:
    """The verdict on a request's text (a post that mentions an account, a generation's
    prompt): does it ask to undress or sexualize someone? Not the guard's ``Intent``, which
    says what a generation request wants (``gardefou.guard``)."""

    sexualizing: bool
    score: float
    source: str  # which classifier answered
    explanation: str = ""


# MINIMAL FALLBACK LEXICON: used only when the guard's classifier (gardefou.guard) is missing.
# English and French stems only; it does not handle obfuscation, other languages or context
# ("remove the background" is fine here only because "background" is not a garment).
_FALLBACK = re.compile(
    r"\b(undress\w*|naked|nude\w*|topless|bikini\w*|lingerie|underwear|bra\b|panties|"
    r"swimsuit|swimwear|see[- ]?through|nsfw|d[ée]shabill\w*|nue?s?\b|maillot de bain|"
    r"sous[- ]v[êe]tements?)|\b(take|strip|remove)\s+(off\s+)?(her|his|their)\s+"
    r"(clothes|shirt|top|dress|skirt)\b",
    re.IGNORECASE,
)


def _guard_rules(text: str) -> RequestIntent | None:
    try:
        from gardefou.guard.normalize import normalize
        from gardefou.guard.rules import rule_hits
    except ImportError:
        return None
    hits = rule_hits(normalize(text).folded)
    if not hits:
        return RequestIntent(False, 0.0, "guard.rules", "no sexualization cue")
    cats = sorted({h.category for h in hits})
    return RequestIntent(True, 0.9, "guard.rules", f"cues: {', '.join(cats)}")


_classifier: Any = None


def _guard_classifier() -> Any:
    """The guard's IntentClassifier (rules + multilingual semantic model), created once."""
    global _classifier
    if _classifier is None:
        from gardefou.guard.intent import IntentClassifier

        _classifier = IntentClassifier()
    return _classifier


def request_intent(text: str) -> RequestIntent:
    """Does this request ask to undress or sexualize someone?

    The one narrow function the thread logic depends on: the guard's intent classifier
    (``gardefou.guard.intent``) when it is installed, else its rule layer alone, else the
    minimal lexicon above."""
    if not text or not text.strip():
        return RequestIntent(False, 0.0, "empty")
    try:
        r = _guard_classifier().classify(text)
    except ImportError:
        r = None
    except GardefouError:  # a model failed to load: the rules still answer below
        r = None
    if r is not None:
        return RequestIntent(bool(r.sexual), float(r.score), "guard.intent", r.explain())
    return rules_intent(text)


def rules_intent(text: str) -> RequestIntent:
    """Model-free variant: the guard's rule layer, else the minimal lexicon (fast; tests,
    replays, and deployments that cannot load the guard's sentence encoder)."""
    if not text or not text.strip():
        return RequestIntent(False, 0.0, "empty")
    found = _guard_rules(text)
    if found is not None:
        return found
    m = _FALLBACK.search(text)
    if m:
        return RequestIntent(True, 0.7, "fallback-lexicon", f"matched {m.group(0)!r}")
    return RequestIntent(False, 0.0, "fallback-lexicon")
