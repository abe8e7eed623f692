"""What every benchmark prints about the machine it ran on, and how it pins itself.

A figure without its CPU is not a capacity figure: the same command gave 48 ms/image on one
machine and 71-89 ms on an AVX2-only EPYC core. Each benchmark therefore starts with
``setup()`` (before numpy or onnxruntime are imported: thread pools read their variables once)
and prints ``report()`` at the start and ``load_line("after")`` at the end:

* the CPU model and the flags that decide kernel speed (avx2, avx512f, avx512_vnni, avx_vnni);
* numpy's SIMD baseline and the dispatched extensions found, and its BLAS (``numpy.show_runtime``
  in one line, through threadpoolctl), onnxruntime's version and execution providers;
* the threads: OMP/OpenBLAS/MKL and ``GARDEFOU_THREADS`` (1: every onnxruntime session in
  ``signals/_models.py`` gets ``intra_op_num_threads=1``), and the CPUs the process may use;
* the load average before and after: on a shared machine a wall-clock figure is only as good
  as the load it was measured under, so ``Clock`` keeps CPU time next to wall time.

The per-core figure is CPU time on one pinned core with one thread: ``setup(pin=True)`` pins
the process to one CPU (``GARDEFOU_BENCH_CPU``, default the last one allowed). Data sets are read
from ``shared_dir()``: ``$GARDEFOU_SHARED`` or ``../shared`` beside the clone, as the tests do.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "GARDEFOU_THREADS")
FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_tile")


def shared_dir() -> Path:
    """The shared data folder: ``$GARDEFOU_SHARED`` or ``../shared`` beside the clone."""
    return Path(os.environ.get("GARDEFOU_SHARED", REPO.parent / "shared"))


def setup(threads: int = 1, pin: bool = True) -> int | None:
    """One thread for every pool (unless the caller's environment already says otherwise) and,
    with ``pin``, one CPU. Call before importing numpy/onnxruntime. Returns the pinned CPU."""
    for var in THREAD_VARS:
        os.environ.setdefault(var, str(threads))
    if not pin or not hasattr(os, "sched_setaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))
    cpu = int(os.environ.get("GARDEFOU_BENCH_CPU", allowed[-1]))
    os.sched_setaffinity(0, {cpu})
    return cpu


def cpu_model() -> tuple[str, list[str]]:
    """(model name, the kernel-relevant flags present) from /proc/cpuinfo (Linux)."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and model in ("", platform.machine(), "x86_64"):
                model = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
    except OSError:
        pass
    return model, [f for f in FLAGS if f in flags]


def numpy_line() -> str:
    """numpy's version, SIMD baseline/dispatch found and BLAS (show_runtime's facts, one line)."""
    import numpy as np

    simd = ""
    try:
        from numpy._core._multiarray_umath import __cpu_baseline__, __cpu_features__

        wanted = ("AVX2", "AVX512F", "AVX512_SKX", "AVX512_ICL")
        found = [k for k in wanted if __cpu_features__.get(k)]
        simd = f"SIMD baseline {'/'.join(__cpu_baseline__)}, found {'/'.join(found) or 'none'}"
    except ImportError:
        simd = "SIMD info unavailable"
    blas = "BLAS unknown (no threadpoolctl)"
    try:
        from threadpoolctl import threadpool_info

        libs = [
            f"{i.get('internal_api')} {i.get('version')} {i.get('architecture', '')} "
            f"x{i.get('num_threads')}"
            for i in threadpool_info()
            if i.get("user_api") in ("blas", "openmp")
        ]
        blas = "; ".join(libs) or "no BLAS/OpenMP pool loaded"
    except ImportError:
        pass
    return f"numpy {np.__version__}: {simd}; {blas}"


def onnxruntime_line() -> str:
    try:
        import onnxruntime as ort
    except ImportError:
        return "onnxruntime not installed"
    return f"onnxruntime {ort.__version__}, providers {', '.join(ort.get_available_providers())}"


def load_line(when: str) -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {when}: {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def report(name: str, cpu: int | None = None) -> str:
    """The header every benchmark prints first (also returned for a results file)."""
    model, flags = cpu_model()
    threads = " ".join(f"{v}={os.environ.get(v, 'default')}" for v in THREAD_VARS)
    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    absent = ", ".join(f for f in FLAGS if f not in flags)
    lines = [
        f"== {name} on {model} [{' '.join(flags) or 'no AVX2'}; absent: {absent or 'none'}]",
        f"   {numpy_line()}",
        f"   {onnxruntime_line()}",
        f"   threads: {threads}; CPUs allowed {allowed}"
        + (f" (pinned to {cpu})" if cpu is not None else ""),
        f"   {load_line('before')}",
        f"   shared data: {shared_dir()}",
    ]
    text = "\n".join(lines)
    print(text, flush=True)
    return text


class Clock:
    """Wall and CPU time of one block: ``with Clock() as c: ...; c.wall, c.cpu, c.thread``
    (seconds). ``cpu`` is the process (all threads), ``thread`` the calling thread only."""

    def __enter__(self) -> Clock:
        self._w, self._c, self._t = time.perf_counter(), time.process_time(), time.thread_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._w
        self.cpu = time.process_time() - self._c
        self.thread = time.thread_time() - self._t


def limit_loaded_pools(threads: int = 1) -> None:
    """Cap BLAS/OpenMP pools already loaded (numpy imported before ``setup``) at ``threads``."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(threads)


def run(main: Any, name: str, threads: int = 1, pin: bool = False) -> Any:
    """Run a benchmark's ``main`` between the machine report and the load after, with its total
    wall and CPU time: ``if __name__ == "__main__": bench_env.run(main, "pipeline_bench")``."""
    cpu = setup(threads, pin)
    limit_loaded_pools(threads)
    report(name, cpu)
    with Clock() as clock:
        result = main()
    print(
        f"== {name}: wall {clock.wall:.1f} s, CPU {clock.cpu:.1f} s (this process; workers it "
        f"spawned count separately); {load_line('after')}",
        flush=True,
    )
    return result
