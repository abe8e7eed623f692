"""The learned intent model: a calibrated logistic regression over features.py, numpy only.

Weights ship in ``gardefou/data/guard_intent.npz`` (built by scripts/train_guard.py from the
files in training/guard/, fixed seeds; ``--check`` rebuilds and compares). ``score`` returns
a probability that the request must be refused under the default policy when it is applied to
``kind`` (a photo of a real person, an object photo, or nothing), Platt-calibrated on
cross-validated predictions (docs/model-cards/guard-intent.md has the reliability table).
``nearest`` lists the closest training requests, which explain a refusal the rules did not.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from gardefou.errors import ModelUnavailableError
from gardefou.guard import features as ft
from gardefou.guard.normalize import Normalized
from gardefou.guard.rules import RuleHit
from gardefou.guard.semantic import MAX_CHARS, SemanticModel, default_model
from gardefou.guard.targets import TextTargets

WEIGHTS = "guard_intent.npz"
_lock = threading.Lock()


@dataclass(frozen=True)
class Encoded:
    """One request as the model sees it."""

    ng_idx: np.ndarray
    ng_val: np.ndarray
    emb: np.ndarray  # whole request
    clause_max: np.ndarray  # element-wise max over the clauses' embeddings
    flags: np.ndarray


def encode(norm: Normalized, hits: list[RuleHit] | tuple[RuleHit, ...], targets: TextTargets,
           kind: str, embedder: SemanticModel) -> Encoded:  # fmt: skip
    folded = norm.folded
    idx, val = ft.ngrams(folded)
    vecs = embedder.embed(embedded_texts(folded))
    emb = vecs[0]
    clause_max = vecs[1:].max(axis=0) if len(vecs) > 1 else emb
    return Encoded(idx, val, emb, clause_max, ft.flags(hits, targets, kind, folded))


def embedded_texts(folded: str) -> list[str]:
    """What the encoder reads for one request: the whole text, then each clause if several."""
    parts = ft.clauses(folded)
    return [folded[:MAX_CHARS]] + ([p[:MAX_CHARS] for p in parts] if len(parts) > 1 else [])


@dataclass(frozen=True)
class Neighbour:
    prompt: str
    refuse: bool
    similarity: float


class IntentModel:
    """Loads the shipped weights once per process (thread-safe)."""

    def __init__(self, path: Any = None, embedder: SemanticModel | None = None) -> None:
        self._path = path
        self.embedder = embedder or default_model()
        self._w: dict[str, Any] | None = None

    def load(self) -> dict[str, Any]:
        if self._w is not None:
            return self._w
        with _lock:
            if self._w is None:
                self._w = self._read()
        return self._w

    def _read(self) -> dict[str, Any]:
        try:
            if self._path is None:
                ref = resources.files("gardefou.data").joinpath(WEIGHTS)
                with resources.as_file(ref) as p, np.load(p, allow_pickle=False) as z:
                    raw = {k: z[k] for k in z.files}
            else:
                with np.load(self._path, allow_pickle=False) as z:
                    raw = {k: z[k] for k in z.files}
        except (OSError, ValueError) as exc:
            raise ModelUnavailableError(
                f"guard intent weights {self._path or WEIGHTS} cannot be read ({exc}); "
                "reinstall gardefou or rebuild them with scripts/train_guard.py"
            ) from exc
        meta = json.loads(bytes(raw["meta"]).decode("utf-8"))
        if meta.get("n_buckets") != ft.N_BUCKETS or meta.get("n_flags") != ft.N_FLAGS:
            raise ModelUnavailableError(
                f"guard intent weights were built for other features ({meta}); rebuild them "
                "with scripts/train_guard.py"
            )
        names = ("w_ng", "w_emb", "w_clause", "w_flags", "w_kind_emb")
        w = {k: raw[k].astype(np.float32) for k in names}
        w["bias"] = float(raw["bias"])
        w["platt"] = (float(raw["platt"][0]), float(raw["platt"][1]))
        w["nn_emb"] = raw["nn_emb"].astype(np.float32) / 127.0
        w["nn_label"] = raw["nn_label"].astype(bool)
        w["nn_prompt"] = json.loads(bytes(raw["nn_prompt"]).decode("utf-8"))
        # the rows of each label apart, contiguous: an explanation searches only the refused
        # ones (half the 10 MB matrix-vector product that dominates nearest())
        for label in (True, False):
            rows = np.flatnonzero(w["nn_label"] == label)
            w[f"nn_rows_{label}"] = rows
            w[f"nn_emb_{label}"] = np.ascontiguousarray(w["nn_emb"][rows])
        w["meta"] = meta
        return w

    @property
    def meta(self) -> dict[str, Any]:
        return dict(self.load()["meta"])

    def logit(self, x: Encoded) -> float:
        w = self.load()
        z = w["bias"] + float(w["w_ng"][x.ng_idx] @ x.ng_val)
        z += float(w["w_emb"] @ x.emb) + float(w["w_clause"] @ x.clause_max)
        # the meaning of the request depends on what it is applied to: one embedding weight
        # vector per kind of input on top of the shared one
        z += float(w["w_kind_emb"][ft.kind_index(x.flags)] @ x.emb)
        return z + float(w["w_flags"] @ x.flags)

    def probability(self, x: Encoded) -> float:
        a, b = self.load()["platt"]
        return float(1.0 / (1.0 + np.exp(-(a * self.logit(x) + b))))

    def nearest(self, x: Encoded, k: int = 3, refuse: bool | None = True) -> list[Neighbour]:
        w = self.load()
        if refuse is None:
            rows, sims = np.arange(len(w["nn_label"])), w["nn_emb"] @ x.emb
        else:
            rows, sims = w[f"nn_rows_{refuse}"], w[f"nn_emb_{refuse}"] @ x.emb
        if k < len(sims):
            # the k best without sorting them all; ties at the k-th value all stay candidates
            # so the order below (similarity, then training order) is the full sort's
            kth = np.partition(sims, len(sims) - k)[len(sims) - k]
            cand = np.flatnonzero(sims >= kth)
        else:
            cand = np.arange(len(sims))
        top = cand[np.lexsort((rows[cand], -sims[cand]))][:k]
        return [Neighbour(w["nn_prompt"][rows[i]], bool(w["nn_label"][rows[i]]), float(sims[i]))
                for i in top]  # fmt: skip


_default: IntentModel | None = None


def default_intent_model() -> IntentModel:
    global _default
    if _default is None:
        _default = IntentModel()
    return _default
