"""The ONNX session helper and the lazy import every model-backed signal uses.

A leaf module: the model loaders (``_models``, ``_dlib_resnet``, ``_identity_encoder``, ``age``,
``nudity``) import it and it imports none of them. Thread counts come from ``GARDEFOU_THREADS``
(0 or unset: one per CPU the process may use), so a benchmark or a worker pool can pin each
model to one core.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Any

from gardefou.errors import ModelUnavailableError

INSTALL_HINT = "pip install 'gardefou[models]'"


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
