"""Doctor's model checks: which models load here, how long they take, and the precision they
run in on this CPU (the identity network runs int8 only where its load-time self-check passes,
``signals/_identity_encoder.py``)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from gardefou.errors import GardefouError, ModelUnavailableError
from gardefou.ops.checks import ERROR, OK, WARNING, Check

#: CPU features the int8 and float kernels depend on (x86 names from /proc/cpuinfo)
CPU_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx_vnni")


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> dict[str, Any]:
    """The CPU model and which of ``CPU_FLAGS`` it has ({} where /proc/cpuinfo is absent)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    model, flags = "", set[str]()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and not model:
            model = value.strip()
        elif key in ("flags", "Features") and not flags:
            flags = set(value.split())
    return {"model": model, "flags": {f: f in flags for f in CPU_FLAGS}}


def check_cpu() -> Check:
    import platform

    from gardefou.signals._models import session_threads

    detail: dict[str, Any] = {"machine": platform.machine(), **cpu_flags()}
    detail["session_threads"] = session_threads()
    try:
        import onnxruntime as ort
    except ImportError:
        detail["onnxruntime"] = None
        return Check(
            "cpu",
            WARNING,
            "onnxruntime is not installed: model signals are unavailable; "
            "`pip install 'gardefou[models]'`",
            detail,
        )
    detail["onnxruntime"] = ort.__version__
    detail["providers"] = list(ort.get_available_providers())
    flags = detail.get("flags", {})
    vnni = flags.get("avx512_vnni") or flags.get("avx_vnni")
    summary = (
        f"{detail.get('model') or detail['machine']}; onnxruntime {ort.__version__} "
        f"({', '.join(detail['providers'])}); {detail['session_threads']} thread(s) a session"
    )
    if flags and not vnni:
        # u8s8 int8 kernels saturate without VNNI; the shipped identity network is u8u8 and is
        # checked at load anyway, so this is information, not a fault
        summary += "; no VNNI (int8 identity is self-checked at load)"
    return Check("cpu", OK, summary, detail)


def check_models(names: tuple[str, ...] | None = None) -> list[Check]:
    """Load each model-backed signal (all registered ones by default) and report how it went."""
    from gardefou.signals import available_signals, get_signal

    checks = []
    for name in names if names is not None else tuple(available_signals()):
        signal = get_signal(name)
        if not signal.needs_model:
            continue
        checks.append(_load(name, signal))
    return checks


def _load(name: str, signal: Any) -> Check:
    started = time.perf_counter()
    try:
        model = signal.model()
    except ModelUnavailableError as exc:
        # not fatal: a policy that needs this signal sends its items to review (fail closed)
        return Check(f"model.{name}", WARNING, f"unavailable: {exc}")
    except GardefouError as exc:
        return Check(f"model.{name}", ERROR, f"failed to load: {exc}")
    except Exception as exc:  # noqa: BLE001 - an unexpected loader failure is an error, reported
        return Check(f"model.{name}", ERROR, f"failed to load: {type(exc).__name__}: {exc}")
    seconds = round(time.perf_counter() - started, 2)
    detail: dict[str, Any] = {"version": signal.version, "load_s": seconds}
    encoder = getattr(model, "encoder", None)
    if encoder is None:
        return Check(f"model.{name}", OK, f"loaded in {seconds} s", detail)
    return _precision(name, encoder, detail)


def _precision(name: str, encoder: Any, detail: dict[str, Any]) -> Check:
    """The identity network: which precision runs here and what its self-check measured."""
    from gardefou.signals._dlib_resnet import precision_setting

    wanted = precision_setting()
    detail.update(
        {
            "backend": encoder.backend,
            "precision": encoder.precision,
            "precision_setting": wanted,
            "int8_drift": encoder.int8_drift,
        }
    )
    drift = "" if encoder.int8_drift is None else f", int8 self-check drift {encoder.int8_drift}"
    summary = f"loaded in {detail['load_s']} s, {encoder.backend}{drift}"
    if wanted == "int8" and encoder.precision != "int8":
        reason = encoder.note or (
            "onnx is not installed (numpy float32 runs instead)"
            if encoder.session is None
            else "no int8 calibration ranges for these weights"
        )
        return Check(f"model.{name}", WARNING, f"{summary}; int8 not used: {reason}", detail)
    return Check(f"model.{name}", OK, summary, detail)
