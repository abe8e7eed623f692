"""Shared plumbing for the model-backed signals: lazy imports, ONNX sessions, dlib models.

Every heavy import happens here, on first use, and a missing package or weight file becomes one
``ModelUnavailableError`` that names the package and the extra to install. Thread counts come
from ``GARDEFOU_THREADS`` (0 or unset: one per CPU the process may use), so a benchmark or a
worker pool can pin each model to one core.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from gardefou.errors import ModelUnavailableError

# The ONNX session helper and the lazy import live in ``_onnx`` (a leaf the model loaders import);
# they stay importable from here, where the signals have always found them.
from gardefou.signals._onnx import (
    INSTALL_HINT,
    allowed_cpus,
    onnx_session,
    require,
    session_threads,
    threads,
)

__all__ = [
    "DLIB_LOCK",
    "INSTALL_HINT",
    "DlibModels",
    "allowed_cpus",
    "dlib_encoder_models",
    "dlib_face_models",
    "dlib_reference_encoder",
    "onnx_session",
    "oriented_array",
    "require",
    "session_threads",
    "shared",
    "threads",
]

_lock = threading.RLock()
_shared: dict[str, Any] = {}
#: dlib's detector, shape predictor and DNN keep scratch buffers inside the model objects and are
#: not documented as thread-safe; calls through the shared instances are serialised with this
#: lock (worker processes, not threads, are the way to scale these signals)
DLIB_LOCK = threading.Lock()


def shared(key: str, factory: Any) -> Any:
    """One instance per process of a loaded model shared by several signals (dlib models)."""
    if key not in _shared:
        with _lock:
            if key not in _shared:
                _shared[key] = factory()
    return _shared[key]


@dataclass(frozen=True)
class DlibModels:
    """dlib's HOG face detector, 5-point landmark model and the face-recognition ResNet
    (``_identity_encoder.Encoder``, None until the identity signal loads it)."""

    detector: Any
    shape5: Any
    encoder: Any | None


def _model_file(frm: ModuleType, attr: str) -> str:
    path = str(getattr(frm, attr)())
    if not os.path.exists(path):
        raise ModelUnavailableError(
            f"face-recognition-models is installed but {path} is missing; reinstall it with "
            f"`pip install --force-reinstall face-recognition-models==0.3.0`"
        )
    return path


def _load_dlib() -> DlibModels:
    dlib = require("dlib", "dlib-bin")
    frm = require("face_recognition_models", "face-recognition-models")
    try:
        detector = dlib.get_frontal_face_detector()
        shape5 = dlib.shape_predictor(_model_file(frm, "pose_predictor_five_point_model_location"))
    except ModelUnavailableError:
        raise
    except Exception as exc:  # noqa: BLE001 - a corrupt weight file must not crash the scan
        raise ModelUnavailableError(
            f"cannot load the dlib face models ({type(exc).__name__}: {exc}); reinstall "
            f"dlib-bin and face-recognition-models with `{INSTALL_HINT}`"
        ) from None
    return DlibModels(detector, shape5, None)


def _load_encoder() -> DlibModels:
    from gardefou.signals._dlib_resnet import load_ranges, load_weights, precision_setting
    from gardefou.signals._identity_encoder import Encoder

    frm = require("face_recognition_models", "face-recognition-models")
    base = dlib_face_models()
    path = _model_file(frm, "face_recognition_model_location")
    weights = load_weights(path)
    precision = precision_setting()
    ranges = load_ranges(_sha256(path)) if precision == "int8" else None
    return DlibModels(base.detector, base.shape5, Encoder(weights, precision, ranges))


def _sha256(path: str) -> str:
    import hashlib

    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def dlib_face_models() -> DlibModels:
    """HOG detector + 5-point landmarks (shared by faces, age and identity)."""
    return shared("dlib.faces", _load_dlib)


def dlib_encoder_models() -> DlibModels:
    """Adds the face-recognition ResNet (``_identity_encoder.Encoder``: dlib's weights on
    onnxruntime); only the identity signal pays for loading it."""
    return shared("dlib.encoder", _load_encoder)


def dlib_reference_encoder() -> Any:
    """dlib's own ResNet (``face_recognition_model_v1``): the reference ``_dlib_resnet`` is
    tested against; ~10x slower because the dlib-bin wheel has no BLAS."""

    def make() -> Any:
        dlib = require("dlib", "dlib-bin")
        frm = require("face_recognition_models", "face-recognition-models")
        return dlib.face_recognition_model_v1(_model_file(frm, "face_recognition_model_location"))

    return shared("dlib.reference_encoder", make)


def oriented_array(media: Any) -> Any:
    """The EXIF-oriented RGB image as one shared, read-only, C-contiguous uint8 array.

    ``np.asarray(PIL image)`` copies on every call (about 1 ms per megapixel); the nudity,
    faces, age, identity and watermark code all read the same array, so it is made once."""

    def make() -> Any:
        import numpy as np

        if media.oriented() is media.rgb():
            return media.rgb_array()  # no EXIF rotation: the same pixels as the hashes read
        arr = np.ascontiguousarray(np.asarray(media.oriented()))
        arr.flags.writeable = False
        return arr

    return media.cached("oriented_array", make)
