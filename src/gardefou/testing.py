"""Fakes of gardefou's interfaces for tests and notebooks (as httpx ships MockTransport).

Signal results here are hand-made values in the shape the real signals return (no model runs,
no imagery): ``nudity("suggestive", 0.9)``, ``faces(1)``, ``identity([emb])``, ...
``person_embedding(seed)`` gives a stable 128-d unit vector per "person" and ``jitter`` a
same-person variant, so identity logic can be tested without faces.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gardefou.signals.base import SignalResult

#: the content signals the default policy reads
POLICY_SIGNALS = ("nudity", "faces", "age", "identity", "provenance")


def nudity(level: str = "none", score: float = 0.9, available: bool = True) -> SignalResult:
    if not available:
        return SignalResult("nudity", "fake", None, None, "model unavailable", False)
    return SignalResult("nudity", "fake", level, score, f"fake nudity level {level}")


def faces(
    count: int = 1,
    photo_likelihood: float | None = 0.95,
    score: float = 0.9,
    available: bool = True,
) -> SignalResult:
    if not available:
        return SignalResult("faces", "fake", None, None, "model unavailable", False)
    boxes = [{"box": [10 + 40 * i, 10, 40 + 40 * i, 50], "score": score} for i in range(count)]
    return SignalResult(
        "faces",
        "fake",
        boxes,
        score if count else 0.0,
        f"{count} fake faces",
        True,
        {"count": count, "photo_likelihood": photo_likelihood},
    )


def age(minor_risk: bool = False, score: float = 0.9, available: bool = True) -> SignalResult:
    if not available:
        return SignalResult("age", "fake", None, None, "model unavailable", False)
    return SignalResult("age", "fake", {"minor_risk": minor_risk}, score, "fake age estimate")


def identity(embeddings: Sequence[Sequence[float]] = (), available: bool = True) -> SignalResult:
    if not available:
        return SignalResult("identity", "fake", None, None, "model unavailable", False)
    value = [{"box": [0, 0, 10, 10], "embedding": [float(x) for x in e]} for e in embeddings]
    return SignalResult("identity", "fake", value, None, f"{len(value)} fake embeddings")


def provenance(ai_generated: bool | None = None) -> SignalResult:
    return SignalResult(
        "provenance", "fake", {"ai_generated": ai_generated, "c2pa": {}}, None, "fake provenance"
    )


def signal_set(*results: SignalResult) -> dict[str, SignalResult]:
    """Results keyed by name; the policy signals not given are filled with clean values."""
    out = {
        "nudity": nudity("none", 0.95),
        "faces": faces(0),
        "age": age(False),
        "identity": identity(()),
        "provenance": provenance(None),
    }
    out.update({r.name: r for r in results})
    return out


def person_embedding(seed: int) -> list[float]:
    """A stable 128-d unit vector standing for one person's face template."""
    import numpy as np

    v = np.random.default_rng(seed).normal(size=128)
    return [float(x) for x in v / np.linalg.norm(v) * 0.5]


def jitter(embedding: Sequence[float], amount: float = 0.05, seed: int = 0) -> list[float]:
    """The same person in another photo: a small perturbation (distance ~ amount)."""
    import numpy as np

    e = np.asarray(embedding, dtype=float)
    noise = np.random.default_rng(seed).normal(size=e.shape)
    return [float(x) for x in e + noise / np.linalg.norm(noise) * amount]


class FakeBankService:
    """``match(hashes, quality=)`` like BankService.match: one hex, a list, or a {label: hex}
    mapping (the pdq_dihedral value); answers from a dict of hex -> list of match dicts
    (``{"bank", "entry_id", "distance", "source", "actionable"}``)."""

    def __init__(self, matches: dict[str, Iterable[dict[str, Any]]] | None = None) -> None:
        self.matches = {k: list(v) for k, v in (matches or {}).items()}
        self.calls = 0

    def match(self, hashes: Any, **_: Any) -> list[dict[str, Any]]:
        self.calls += 1
        if isinstance(hashes, str):
            hashes = [hashes]
        elif isinstance(hashes, Mapping):
            hashes = list(hashes.values())
        return [m for h in hashes for m in self.matches.get(str(h), [])]


def pdq_dihedral(hex_hash: str, quality: int = 100) -> SignalResult:
    """A pdq_dihedral result whose 8 hashes are all ``hex_hash`` (enough for bank fakes)."""
    names = (
        "original",
        "rotate90",
        "rotate180",
        "rotate270",
        "flipx",
        "flipy",
        "flipplus",
        "flipminus",
    )
    return SignalResult(
        "pdq_dihedral",
        "fake",
        {n: hex_hash for n in names},
        quality / 100,
        "fake dihedral hashes",
        True,
        {"quality": quality},
    )


def fake_intent(text: str) -> Any:
    """A request-intent classifier for tests (Services.intent): 'undress' or 'bikini'."""
    from gardefou.decide.intent import RequestIntent

    hit = any(w in text.lower() for w in ("undress", "bikini"))
    return RequestIntent(hit, 0.9 if hit else 0.0, "fake", "fake intent")


class FakeSignal:
    """A stand-in for a Signal: ``extract`` returns the given result (or raises ``error``).

    ``FakeSignal(faces(1))`` answers every image with one photographic face; a callable
    ``result(media)`` answers per image. ``calls`` counts extractions (to test laziness).
    """

    def __init__(self, result: Any = None, error: Exception | None = None) -> None:
        self._result = result
        self._error = error
        self.calls = 0
        self.name = getattr(result, "name", "fake")

    def extract(self, media: Any, context: Any = None) -> SignalResult:
        self.calls += 1
        if self._error is not None:
            raise self._error
        return self._result(media) if callable(self._result) else self._result
