"""Identity: 128-d face embeddings (dlib ResNet, face-recognition-models) and a calibrated
same-person comparison.

Embeddings are computed on the faces signal's boxes and 5-point landmarks (cached on the media)
in the EXIF-oriented image: dlib cuts the aligned 150x150 face chip and dlib's ResNet runs in
onnxruntime (``_dlib_resnet``; same network outputs as dlib's own, ~10x faster than the BLAS-less
dlib wheel). The embedding is the mean of the network's outputs on the chip and on its mirror
image, scaled to length ``EMBEDDING_NORM`` (``encode``): on LFW's colour photos this raised TAR
at FAR 0.1% from 89.5% to 92.1% on identities held out from every choice, and on ORL from 98.8%
to 99.2% (docs/model-cards/identity.md), for one more network run per face.
``compare(a, b)`` uses Euclidean distance against
``DEFAULT_THRESHOLD``, calibrated by ``benchmarks/identity_roc.py`` on the ORL faces (40 people x
10 photos); see docs/model-cards/identity.md for the ROC and what it does not cover.

Value: ``[{"box": [x, y, w, h], "embedding": [128 floats]}]``; score: None (an embedding is not
a finding).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gardefou.errors import ConfigError
from gardefou.media import Media
from gardefou.signals._dlib_resnet import CHIP_PADDING, CHIP_SIZE
from gardefou.signals._models import DLIB_LOCK, dlib_encoder_models, oriented_array, require
from gardefou.signals.base import Signal, SignalResult
from gardefou.signals.faces import MIN_IDENTITY_FACE_PX, model_faces

EMBEDDING_SIZE = 128
#: length of every embedding. dlib's raw outputs vary in length (1.27-1.61 on LFW, median 1.42)
#: and that length carries no identity: fixing it raised TAR at FAR 0.1% on LFW. sqrt(2) keeps
#: distances on the scale of the raw outputs (so thresholds, and templates stored by /4, stay
#: comparable), and makes distance^2 = 2 * (2 - 2 * cosine).
EMBEDDING_NORM = math.sqrt(2.0)
#: distance at or below which two faces are called the same person. Calibrated by
#: benchmarks/identity_roc.py on ORL (1,800 same / 78,000 different pairs): the largest
#: threshold with FAR <= 0.1%, rounded down (/5: 0.506 -> 0.50; /4 was 0.51 on the raw
#: outputs). On LFW's colour photos (benchmarks/identity_colour.py, identities not used for any
#: choice) 0.50 gives TAR 85.9%, FAR 0.024%; LFW's own FAR-0.1% threshold (~0.535) would give
#: ORL a FAR above 0.1%, so the encoder, not this threshold, is the limit on colour photos
#: (docs/model-cards/identity.md).
DEFAULT_THRESHOLD = 0.50
#: width of the logistic that maps distance to the ``score`` of a comparison
SCORE_SOFTNESS = 0.05


@dataclass(frozen=True)
class SameResult:
    same: bool
    distance: float
    score: float  # 0.5 at the threshold, towards 1 as faces get closer; monotone, not a probability


def _vector(emb: Sequence[float] | np.ndarray, which: str) -> np.ndarray:
    v = np.asarray(emb, dtype=np.float64).ravel()
    if v.shape != (EMBEDDING_SIZE,) or not np.isfinite(v).all():
        raise ConfigError(
            f"embedding {which} has shape {v.shape} (or non-finite values); "
            f"expected {EMBEDDING_SIZE} finite floats from the identity signal"
        )
    return v


def compare(
    emb_a: Sequence[float] | np.ndarray,
    emb_b: Sequence[float] | np.ndarray,
    threshold: float = DEFAULT_THRESHOLD,
) -> SameResult:
    """Same person? Euclidean distance between two identity embeddings against ``threshold``."""
    d = float(np.linalg.norm(_vector(emb_a, "a") - _vector(emb_b, "b")))
    z = max(-60.0, min(60.0, (d - threshold) / SCORE_SOFTNESS))
    return SameResult(d <= threshold, round(d, 6), round(1.0 / (1.0 + math.exp(z)), 6))


def flip_average(network: Any, chips: np.ndarray) -> np.ndarray:
    """``network``'s (B, 128) outputs averaged over each chip and its left-right mirror, each
    row scaled to ``EMBEDDING_NORM``. A mirror is the same person, and averaging cancels part of
    the network's response to pose and lighting from one side; the length is dropped because it
    carries no identity (the measured gains are in docs/model-cards/identity.md)."""
    chips = np.asarray(chips)
    both = np.asarray(network(np.concatenate([chips, chips[:, :, ::-1]])), np.float64)
    mean = (both[: len(chips)] + both[len(chips) :]) / 2.0
    length = np.linalg.norm(mean, axis=1, keepdims=True)
    # a zero output cannot be scaled and stays zero (never seen: lengths are 1.27-1.61 on LFW)
    return mean * (EMBEDDING_NORM / np.where(length > 0, length, 1.0))


def distances(query: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    """Distances from one embedding to each row of ``gallery`` (vectorized compare)."""
    return np.linalg.norm(np.asarray(gallery, float) - np.asarray(query, float)[None, :], axis=1)


class IdentitySignal(Signal):
    #: /4: the int8 network stores weights as uint8 (exact on CPUs without VNNI, where /3's int8
    #: weights saturated) and falls back to float32 where its load-time self-check fails.
    #: /5: the mean of the chip's and its mirror's outputs, scaled to EMBEDDING_NORM (encode)
    version = "dlib-resnet-v1/5"
    extra = "models"
    needs_model = True

    def load_model(self) -> Any:
        return dlib_encoder_models()

    def embed(self, media: Media, faces: Sequence[Any]) -> list[list[float]]:
        """Embeddings for faces (objects with ``box`` and 5-point ``landmarks``)."""
        if not faces:
            return []
        vectors = self.encode(self.chips(media, faces))
        return [[round(float(v), 6) for v in vec] for vec in vectors]

    def encode(self, chips: np.ndarray) -> np.ndarray:
        """Embeddings of (B, 150, 150, 3) chips: the network's mean output on each chip and its
        mirror image (one batch of 2B), scaled to ``EMBEDDING_NORM``."""
        return flip_average(self.model().encoder, chips)

    def chips(self, media: Media, faces: Sequence[Any]) -> np.ndarray:
        """dlib's aligned (B, 150, 150, 3) face chips for faces (the network's input)."""
        models = self.model()
        dlib = require("dlib", "dlib-bin")
        img = oriented_array(media)
        shapes = dlib.full_object_detections()
        for f in faces:
            x, y, w, h = f.box
            rect = dlib.rectangle(int(x), int(y), int(x + w - 1), int(y + h - 1))
            if f.landmarks:
                shapes.append(
                    dlib.full_object_detection(
                        rect, [dlib.point(int(px), int(py)) for px, py in f.landmarks]
                    )
                )
            else:
                with DLIB_LOCK:
                    shapes.append(models.shape5(img, rect))
        return self._chips(img, shapes)

    def _chips(self, img: np.ndarray, shapes: Any) -> np.ndarray:
        """dlib's aligned chips (padding 0.25, as compute_face_descriptor)."""
        dlib = require("dlib", "dlib-bin")
        chips = dlib.get_face_chips(img, shapes, CHIP_SIZE, CHIP_PADDING)
        return np.stack([np.asarray(c) for c in chips])

    def embed_array(self, rgb: np.ndarray, box: Sequence[int] | None = None) -> list[float]:
        """Embedding of one face in an RGB array; the whole array is the face box when None
        (used for tightly cropped face sets such as ORL)."""
        return [float(v) for v in self.encode(self.array_chips(rgb, box))[0]]

    def array_chips(self, rgb: np.ndarray, box: Sequence[int] | None = None) -> np.ndarray:
        """The aligned (1, 150, 150, 3) chip of one face in an RGB array (landmarks found by
        dlib's 5-point model in ``box``; the whole array when None)."""
        models = self.model()
        dlib = require("dlib", "dlib-bin")
        img = np.ascontiguousarray(rgb)
        x, y, w, h = box if box is not None else (0, 0, img.shape[1], img.shape[0])
        rect = dlib.rectangle(int(x), int(y), int(x + w - 1), int(y + h - 1))
        shapes = dlib.full_object_detections()
        with DLIB_LOCK:
            shapes.append(models.shape5(img, rect))
        return self._chips(img, shapes)

    def crop_chip(self, media: Media, faces: Sequence[Any]) -> np.ndarray:
        """The (1, 150, 150, 3) chip of a tightly cropped face photo (face sets such as ORL):
        its largest detected face, or the whole image when none was detected."""
        if faces:
            return self.chips(media, [max(faces, key=lambda f: f.box[2] * f.box[3])])
        return self.array_chips(np.asarray(media.oriented().convert("RGB")))

    def embed_crop(self, media: Media, faces: Sequence[Any]) -> list[float]:
        """The embedding of ``crop_chip`` (rounded as ``embed``'s)."""
        return [round(float(v), 6) for v in self.encode(self.crop_chip(media, faces))[0]]

    def extract(self, media: Media, context: Mapping[str, Any] | None = None) -> SignalResult:
        from gardefou.signals import get_signal

        self.model()  # fail fast (ModelUnavailableError) before paying for face detection
        found = get_signal("faces").detect(media)  # type: ignore[attr-defined]
        faces = model_faces(found, MIN_IDENTITY_FACE_PX)
        embeddings = self.embed(media, faces)
        value = [
            {"box": list(f.box), "embedding": e} for f, e in zip(faces, embeddings, strict=True)
        ]
        small = len(found) - len(faces)
        why = (
            f"{len(value)} face embedding(s) (dlib ResNet, 128-d, chip and mirror averaged); "
            "compare with "
            f"identity.compare(), same person at distance <= {DEFAULT_THRESHOLD}"
            if value
            else "no face to embed"
        )
        if small:
            why += f"; {small} face(s) under {MIN_IDENTITY_FACE_PX} px not embedded (unreliable)"
        encoder = self.model().encoder
        if value:
            why += f"; {encoder.precision} network"
            if encoder.note:
                why += f" ({encoder.note})"
        return self.result(
            value,
            None,
            why,
            threshold=DEFAULT_THRESHOLD,
            dimensions=EMBEDDING_SIZE,
            small_faces_skipped=small,
            precision=encoder.precision,
            int8_drift=encoder.int8_drift,
        )
