"""The identity network's runner (``Encoder``), and which precision it runs in on this CPU:
int8 only if it is accurate here.

An int8 kernel's accuracy depends on the CPU: onnxruntime's u8s8 convolution saturates int16
pair sums on x86 CPUs without VNNI (an embedding moved by 0.136 instead of ~0.04 on an AVX2
EPYC). The shipped network stores its weights as uint8 (``_dlib_resnet.to_onnx``'s "u8u8"),
which onnxruntime multiplies exactly everywhere; and at load, before any decision uses it, the
int8 network is compared with the float one on reference chips cut from the bundled sample
photos. If any embedding moves by more than ``INT8_MAX_DRIFT`` (the accuracy contract stated in
``tests/test_identity_fast.py``), the float network runs instead, with a logged warning; the
signal's explanation and ``precision`` detail say which one ran. So a decision never depends on
the CPU model beyond that bound.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from gardefou.signals import _dlib_resnet as resnet

log = logging.getLogger(__name__)

#: largest L2 distance allowed between an int8 and a float embedding of the same chip (the
#: same-person threshold is 0.50; the int8 network's error measured on ORL is ~0.035, max 0.052)
INT8_MAX_DRIFT = 0.07
#: benign sample photos shipped in gardefou/data/samples, resized to chips (no face needed: the
#: check compares two versions of one network on the same input)
REFERENCE_PHOTOS = ("q0122.jpg", "q0291.jpg", "q0746.jpg", "q1050.jpg")


@dataclass(frozen=True)
class Choice:
    session: Any
    precision: str  # "int8" or "fp32"
    drift: float | None  # what the self-check measured (None: not run)
    note: str = ""


def reference_chips() -> np.ndarray:
    """(4, 150, 150, 3) uint8 chips from the bundled sample photos."""
    from PIL import Image

    chips = []
    folder = resources.files("gardefou.data") / "samples"
    for name in REFERENCE_PHOTOS:
        with (folder / name).open("rb") as fh, Image.open(fh) as img:
            size = (resnet.CHIP_SIZE, resnet.CHIP_SIZE)
            chips.append(np.asarray(img.convert("RGB").resize(size, Image.Resampling.BILINEAR)))
    return np.stack(chips)


def drift(int8: Any, fp32: Any, chips: np.ndarray) -> float:
    """Largest L2 distance between the two sessions' embeddings of ``chips``."""
    x = resnet.normalise(chips)
    a = np.asarray(int8.run(None, {"x": x})[0], np.float64)
    b = np.asarray(fp32.run(None, {"x": x})[0], np.float64)
    return float(np.linalg.norm(a - b, axis=1).max())


def int8_or_fp32(
    weights: resnet.ResNetWeights,
    ranges: Mapping[str, Sequence[float]],
    max_drift: float | None = None,
    scheme: str = "u8u8",
) -> Choice:
    """The int8 session if it stays within ``max_drift`` (default ``INT8_MAX_DRIFT``) of the
    float one on this CPU, else the float session (and a warning saying why)."""
    from gardefou.signals._models import onnx_session

    max_drift = INT8_MAX_DRIFT if max_drift is None else max_drift
    int8 = onnx_session(resnet.to_onnx(weights, ranges, scheme=scheme), "face-recognition int8")
    fp32 = onnx_session(resnet.to_onnx(weights), "face-recognition ResNet")
    moved = drift(int8, fp32, reference_chips())
    if moved <= max_drift:
        return Choice(int8, "int8", round(moved, 4))
    note = (
        f"int8 identity network moved an embedding by {moved:.3f} on this CPU (limit "
        f"{max_drift}); running float32 instead (slower; the reference embeddings)"
    )
    log.warning(note)
    return Choice(fp32, "fp32", round(moved, 4), note)


class Encoder:
    """The network behind one call: onnxruntime when ``onnx`` is installed (int8 when
    ``precision`` is int8, ``ranges`` are given and the int8 network passes its load-time
    self-check on this CPU, else float32), else numpy (float32). ``precision`` says which ran;
    ``int8_drift`` is what the self-check measured; ``note`` why int8 was not used."""

    def __init__(
        self,
        weights: resnet.ResNetWeights,
        precision: str = "fp32",
        ranges: Mapping[str, Sequence[float]] | None = None,
    ) -> None:
        self.weights = weights
        self.session: Any = None
        self.precision = "fp32"
        self.int8_drift: float | None = None
        self.note = ""
        try:
            import onnx  # noqa: F401
        except ImportError:
            return
        if precision == "int8" and ranges is not None:
            choice = int8_or_fp32(weights, ranges)
            self.session, self.precision = choice.session, choice.precision
            self.int8_drift, self.note = choice.drift, choice.note
        else:
            from gardefou.signals._models import onnx_session

            self.session = onnx_session(resnet.to_onnx(weights), "face-recognition ResNet")

    @property
    def backend(self) -> str:
        return f"onnxruntime-{self.precision}" if self.session is not None else "numpy"

    def __call__(self, chips: np.ndarray) -> np.ndarray:
        if self.session is None:
            return resnet.forward(self.weights, chips)
        return np.asarray(self.session.run(None, {"x": resnet.normalise(chips)})[0])
