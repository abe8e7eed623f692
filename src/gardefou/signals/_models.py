"""Shared plumbing for the model-backed signals: lazy imports, ONNX sessions, dlib models.

Every heavy import happens here, on first use, and a missing package or weight file becomes one
``ModelUnavailableError`` that names the package and the extra to install. Thread counts come
from ``GARDEFOU_THREADS`` (0 or unset: one per CPU the process may use), so a benchmark or a
worker pool can pin each model to one core.
"""

from __future__ import annotations

import importlib
import os
import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from gardefou.errors import ModelUnavailableError

INSTALL_HINT = "pip install 'gardefou[models]'"

_lock = threading.RLock()
_shared: dict[str, Any] = {}
#: dlib's detector, shape predictor and DNN keep scratch buffers inside the model objects and are
#: not documented as thread-safe; calls through the shared instances are serialised with this
#: lock (worker processes, not threads, are the way to scale these signals)
DLIB_LOCK = threading.Lock()


def require(module: str, package: str) -> ModuleType:
    """Import ``module`` or raise ModelUnavailableError naming the pip package and the extra."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ModelUnavailableError(
            f"{package} is not installed ({exc}); install it with `{INSTALL_HINT}` "
            f"or `pip install {package}`"
        ) from None


def threads() -> int:
    """Threads per model from GARDEFOU_THREADS (0 = one per CPU the process may use)."""
    raw = os.environ.get("GARDEFOU_THREADS", "0")
    try:
        value = int(raw)
    except ValueError:
        raise ModelUnavailableError(
            f"GARDEFOU_THREADS={raw!r} is not an integer; set it to 1, 2, ... or unset it"
        ) from None
    return max(0, value)


def allowed_cpus() -> int:
    """CPUs this process may run on (its affinity mask), not the machine's core count."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def session_threads() -> int:
    """Intra-op threads for a session: GARDEFOU_THREADS, else the CPUs this process may use.
    onnxruntime's own default is one thread per physical core whatever the affinity, so a worker
    pinned to one core ran two threads on it: measured with the guard's faces + age path on a
    pinned AVX2 core, 188 CPU ms per image against 56 ms with one thread."""
    return threads() or allowed_cpus()


def onnx_session(model: str | bytes, what: str) -> Any:
    """An onnxruntime CPU session for ``model`` (path or bytes), pinned to ``session_threads()``.

    Idle pool threads do not spin (``session.intra_op.allow_spinning=0``, unless GARDEFOU_SPIN=1):
    a scanning worker shares its core with other workers and signals, and a spinning thread
    burns the CPU time they need (a few microseconds of wake-up per parallel op is the price)."""
    ort = require("onnxruntime", "onnxruntime")
    options = ort.SessionOptions()
    options.intra_op_num_threads = session_threads()
    options.inter_op_num_threads = 1
    spin = os.environ.get("GARDEFOU_SPIN", "0").strip()
    if spin not in ("0", "1"):
        raise ModelUnavailableError(f"GARDEFOU_SPIN={spin!r}; set it to 0 (default) or 1")
    options.add_session_config_entry("session.intra_op.allow_spinning", spin)
    options.add_session_config_entry("session.inter_op.allow_spinning", spin)
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - any loader failure means "model unavailable"
        raise ModelUnavailableError(
            f"cannot load the {what} model ({type(exc).__name__}: {exc}); reinstall it with "
            f"`{INSTALL_HINT}`"
        ) from None


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
