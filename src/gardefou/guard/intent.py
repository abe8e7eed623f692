"""The sexualization-intent classifier: normalization, then rules, then semantic similarity.

``IntentClassifier().classify(text) -> Intent``. The rules (rules.py) decide most requests and
say exactly which words fired; the semantic layer (semantic.py) catches phrasings the lexicons
miss, and only fires with a clear margin over the nearest benign prototype. A follow-up in a
conversation ("now make it smaller") is judged together with the earlier requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gardefou.errors import GardefouError
from gardefou.guard import lexicon as lx
from gardefou.guard.normalize import Normalized, normalize
from gardefou.guard.rules import RuleHit, rule_hits
from gardefou.guard.semantic import SemanticModel, SemanticScore, default_model

# Words that make a request a continuation of the previous one.
CONTINUATION = [
    "smaller", "shorter", "tighter", "skimpier", "less$", "more$", "even more", "further",
    "again", "the rest", "all the way", "it off", "them off", "remove it", "without it",
    "lower", "higher", "same but", "keep going", "go further", "plus petit", "plus court",
    "encore", "moins", "mas pequeno", "mas corto", "mas$", "menos", "kleiner", "kurzer",
    "mehr$", "noch", "weniger", "menor", "mais$", "piu$", "meno$", "meer$", "kleiner",
    "bardziej", "mniej", "daha", "ещё", "еще", "больше", "меньше", "もっと", "더", "更",
    "أكثر", "اكثر", "और", "lebih",
]  # fmt: skip


@dataclass(frozen=True)
class Intent:
    sexual: bool
    score: float
    categories: tuple[str, ...]
    hits: tuple[RuleHit, ...] = ()
    semantic: SemanticScore | None = None
    semantic_error: str | None = None
    via_context: bool = False
    normalized: Normalized | None = field(default=None, repr=False)

    def explain(self) -> str:
        if self.hits:
            spans = ", ".join(sorted({f"{h.category}: '{h.span}'" for h in self.hits}))
            return f"rules fired: {spans}"
        if self.semantic and self.sexual:
            return (f"close to the sexualizing request '{self.semantic.nearest_sexual}' "
                    f"(similarity {self.semantic.sexual_sim:.2f}, margin "
                    f"{self.semantic.margin:+.2f} over the nearest benign request)")  # fmt: skip
        return "no sexualization cue found"


class IntentClassifier:
    version = "guard-intent-1"

    def __init__(self, semantic: SemanticModel | None = None, use_semantic: bool = True,
                 margin: float = 0.20, min_sim: float = 0.62) -> None:  # fmt: skip
        self.semantic = semantic or default_model()
        self.use_semantic = use_semantic
        self.margin = margin
        self.min_sim = min_sim

    def classify(self, text: str, history: tuple[str, ...] = (), semantic: bool = True,
                 normalized: Normalized | None = None) -> Intent:  # fmt: skip
        """Judge one request (with its conversation history, oldest first). ``semantic=False``
        skips the encoder when the caller knows its answer cannot change the decision;
        ``normalized`` reuses normalize(text) when the caller already has it."""
        norm = normalized if normalized is not None else normalize(text)
        intent = self._classify_one(norm, semantic)
        if intent.sexual or not history:
            return intent
        if not lx.find(CONTINUATION, norm.folded):
            return intent
        for prev in reversed(history[-3:]):
            prev_intent = self._classify_one(normalize(prev), semantic)
            if prev_intent.sexual:
                cats = ("escalation", *prev_intent.categories)
                return Intent(True, prev_intent.score * 0.95, cats, prev_intent.hits,
                              prev_intent.semantic, None, True, norm)  # fmt: skip
        return intent

    def _classify_one(self, norm: Normalized, semantic: bool = True) -> Intent:
        hits = tuple(rule_hits(norm.folded))
        sem: SemanticScore | None = None
        err: str | None = None
        if hits:  # the rules are decisive and say why; the encoder is not needed
            cats = tuple(dict.fromkeys(h.category for h in hits))
            return Intent(True, 0.97, cats, hits, None, None, normalized=norm)
        if self.use_semantic and semantic:
            try:
                sem = self.semantic.score(norm.folded)
            except GardefouError as exc:
                err = str(exc)
        if sem is not None and sem.margin >= self.margin and sem.sexual_sim >= self.min_sim:
            score = min(0.95, 0.5 + sem.margin * 2)
            return Intent(True, score, ("semantic",), (), sem, err, normalized=norm)
        score = max(0.0, min(0.49, 0.25 + (sem.margin if sem else 0.0)))
        return Intent(False, score, (), (), sem, err, normalized=norm)
