"""The intent classifier: a learned, calibrated model decides; the rules explain and back it up.

``IntentClassifier().classify(text) -> Intent``. The model (model.py) reads the whole request,
its clauses, the rule hits and who it targets, and returns the probability that the request
must be refused under the default policy; ``sexual`` is that probability at or above the
shipped threshold. The rules (rules.py) are features of the model and the words quoted in an
explanation; a refusal the rules did not fire is explained by the score and the nearest
training requests. When the model cannot run (encoder not installed, weights unreadable) the
rules decide alone and ``model_error`` says why (the guard lists it as unavailable).
A follow-up in a conversation ("now make it smaller") is judged with the earlier requests.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from gardefou.errors import GardefouError
from gardefou.guard import lexicon as lx
from gardefou.guard.model import Encoded, IntentModel, Neighbour, default_intent_model, encode
from gardefou.guard.normalize import Normalized, normalize
from gardefou.guard.rules import RuleHit, rule_hits
from gardefou.guard.targets import TextTargets, text_targets

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
#: exact repeats remembered per classifier (about 5 kB each: two 512-d embeddings and the n-grams)
MEMO_SIZE = 4096


@dataclass(frozen=True)
class Intent:
    sexual: bool
    score: float  # calibrated probability of "refuse" (0.97 / 0.03 when only the rules ran)
    categories: tuple[str, ...]
    hits: tuple[RuleHit, ...] = ()
    neighbours: tuple[Neighbour, ...] = ()
    model_error: str | None = None
    via_context: bool = False
    normalized: Normalized | None = field(default=None, repr=False)
    encoded: Encoded | None = field(default=None, repr=False)
    threshold: float = 0.5

    @property
    def semantic_error(self) -> str | None:  # the name used before the learned model
        return self.model_error

    def explain(self) -> str:
        parts = []
        if self.model_error is None and self.encoded is not None:
            parts.append(f"intent model: refuse probability {self.score:.2f} "
                         f"(threshold {self.threshold:.2f})")  # fmt: skip
        if self.hits:
            spans = ", ".join(sorted({f"{h.category}: '{h.span}'" for h in self.hits}))
            parts.append(f"rules fired: {spans}")
        if self.neighbours:
            near = "; ".join(f"'{n.prompt[:80]}' ({n.similarity:.2f})" for n in self.neighbours)
            parts.append(f"nearest refused training requests: {near}")
        if self.via_context:
            parts.append("judged with the earlier requests of the conversation")
        return "; ".join(parts) or "no sexualization cue found"


class IntentClassifier:
    version = "guard-intent-3"

    def __init__(self, model: IntentModel | None = None, use_model: bool = True,
                 threshold: float | None = None, memo_size: int = MEMO_SIZE,
                 **_legacy: object) -> None:  # fmt: skip
        self.model = model or default_intent_model()
        self.use_model = use_model
        self._threshold = threshold
        # a flood repeats the same request text thousands of times: the verdict of an exact
        # repeat (same text, targets and kind) is taken from a bounded per-instance memo
        self.memo_size = max(0, int(memo_size))
        self._memo: OrderedDict[tuple[object, ...], Intent] = OrderedDict()
        self._memo_lock = threading.Lock()

    @property
    def threshold(self) -> float:
        if self._threshold is None:
            try:
                self._threshold = float(self.model.meta["threshold"])
            except GardefouError:
                return 0.5
        return self._threshold

    def classify(self, text: str, history: tuple[str, ...] = (), semantic: bool = True,
                 normalized: Normalized | None = None, targets: TextTargets | None = None,
                 kind: str = "real_person") -> Intent:  # fmt: skip
        """Judge one request (with its conversation history, oldest first) as applied to
        ``kind`` (real_person, object, none). ``semantic=False`` uses the rules only."""
        norm = normalized if normalized is not None else normalize(text)
        if targets is None:
            targets = text_targets(norm.original, norm.folded)
        intent = self.classify_one(norm, targets, kind, semantic)
        if intent.sexual or not history:
            return intent
        if not lx.find(CONTINUATION, norm.folded):
            return intent
        for prev in reversed(history[-3:]):
            pn = normalize(prev)
            prev_intent = self.classify_one(pn, text_targets(prev, pn.folded), kind, semantic)
            if prev_intent.sexual:
                cats = ("escalation", *prev_intent.categories)
                return Intent(True, prev_intent.score * 0.95, cats, prev_intent.hits,
                              prev_intent.neighbours, prev_intent.model_error, True, norm,
                              prev_intent.encoded, prev_intent.threshold)  # fmt: skip
        return intent

    def classify_one(self, norm: Normalized, targets: TextTargets, kind: str,
                     use_model: bool = True) -> Intent:  # fmt: skip
        if not self.memo_size:
            return self._classify_one(norm, targets, kind, use_model)
        # the threshold is fixed per classifier, the model and its weights too
        key = (norm.original, norm.folded, targets, kind, self.use_model and use_model)
        with self._memo_lock:
            hit = self._memo.get(key)
            if hit is not None:
                self._memo.move_to_end(key)
                return hit
        intent = self._classify_one(norm, targets, kind, use_model)
        if intent.model_error is not None and self.use_model and use_model:
            return intent  # a model that failed to run is retried next time, not remembered
        if intent.encoded is not None:  # shared between callers from now on: read-only
            for arr in (intent.encoded.ng_idx, intent.encoded.ng_val, intent.encoded.emb,
                        intent.encoded.clause_max, intent.encoded.flags):  # fmt: skip
                arr.flags.writeable = False
        with self._memo_lock:
            self._memo[key] = intent
            while len(self._memo) > self.memo_size:
                self._memo.popitem(last=False)
        return intent

    def _classify_one(self, norm: Normalized, targets: TextTargets, kind: str,
                      use_model: bool = True) -> Intent:  # fmt: skip
        hits = tuple(rule_hits(norm.folded))
        cats = tuple(dict.fromkeys(h.category for h in hits))
        err: str | None = "the intent model is switched off (rules only)"
        if self.use_model and use_model:
            try:
                x = encode(norm, hits, targets, kind, self.model.embedder)
                p = self.model.probability(x)
                t = self.threshold
                sexual = p >= t
                near = tuple(self.model.nearest(x)) if sexual else ()
                cats = cats if not sexual or cats else ("model",)
                return Intent(sexual, p, cats if sexual else (), hits, near, None, False,
                              norm, x, t)  # fmt: skip
            except GardefouError as exc:
                err = str(exc)
        # the rules alone: what the guard did before the model, kept as the fallback
        return Intent(bool(hits), 0.97 if hits else 0.03, cats, hits, (), err, normalized=norm)

    def rescore(self, intent: Intent, kind: str) -> float | None:
        """The probability for the same request applied to another kind of input."""
        x = intent.encoded
        if x is None:
            return None
        import dataclasses

        from gardefou.guard import features as ft

        return self.model.probability(dataclasses.replace(x, flags=ft.with_kind(x.flags, kind)))
