"""Decode + PDQ throughput on one core: gardefou beside raw `pdqhash` in the same run.

    .venv/bin/python benchmarks/pdq_throughput.py [--seconds 3] [--reference DIR]

gardefou = load_media (safe intake: sniff, limits, decode, RGB) + reference 512-px downsample +
pdqhash.compute. Raw = PIL open + RGB + numpy + pdqhash.compute on the full-size array (no
intake checks, and not reference-compatible above 512 px). The reference C++ does ~50 images/s
on a 1 MP JPEG on this kind of machine.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
#: the shared data sets: $GARDEFOU_SHARED or ../shared beside the clone (as the tests)
SHARED_ROOT = Path(os.environ.get("GARDEFOU_SHARED", REPO.parent / "shared"))
sys.path.insert(0, str(REPO / "src"))

from gardefou.media import load_media  # noqa: E402
from gardefou.signals.pdq_core import pdq_hash  # noqa: E402


def raw(data: bytes) -> None:
    import pdqhash

    img = Image.open(io.BytesIO(data)).convert("RGB")
    pdqhash.compute(np.asarray(img))


def ours(data: bytes) -> None:
    pdq_hash(load_media(data).rgb())


def rate(fn, items: list[bytes], seconds: float) -> tuple[float, float]:
    """(images/s, median ms) over repeated passes for about `seconds`."""
    times = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(times) < len(items):
        for data in items:
            t0 = time.perf_counter()
            fn(data)
            times.append(time.perf_counter() - t0)
    return len(times) / sum(times), statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--reference", type=Path, default=SHARED_ROOT / "data/pdq-reference")
    args = ap.parse_args()
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    except (AttributeError, OSError):
        pass
    ref_dir = args.reference / "images"
    if not ref_dir.exists():
        ref_dir = REPO / "tests/fixtures/pdq/images"
    refs = [p.read_bytes() for p in sorted(ref_dir.rglob("*")) if p.is_file()]
    src = Image.open(REPO / "tests/fixtures/pdq/images/bridge-mods/aaa-orig.jpg").convert("RGB")
    buf = io.BytesIO()
    src.resize((1024, 768), Image.Resampling.LANCZOS).save(buf, "JPEG", quality=90)
    mp1 = [buf.getvalue()]
    print(
        f"one core; {len(refs)} reference images from {ref_dir}; 1024x768 JPEG "
        f"{len(mp1[0]):,} bytes"
    )
    print(
        f"{'set':22} {'gardefou img/s':>15} {'raw pdqhash img/s':>18} {'ratio':>7}"
        f" {'gardefou ms':>12} {'raw ms':>8}"
    )
    for name, items in (("reference images", refs), ("1024x768 JPEG", mp1)):
        r_ours, ms_ours = rate(ours, items, args.seconds)
        r_raw, ms_raw = rate(raw, items, args.seconds)
        print(
            f"{name:22} {r_ours:15.1f} {r_raw:18.1f} {r_ours / r_raw:7.2f} {ms_ours:12.2f}"
            f" {ms_raw:8.2f}"
        )
    print("goal: >= 40 images/s/core on the 1024x768 JPEG (reference C++: ~50/s)")
    print("rerun: .venv/bin/python benchmarks/pdq_throughput.py")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_env beside this file
    from bench_env import run

    run(main, "pdq_throughput")
