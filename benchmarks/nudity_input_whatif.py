"""What-if: NudeNet on a smaller input than the shipped square 320 px. NOT decision-neutral.

The shipped pre-processing pads every image to a square, then resizes to 320x320: a 1024x768
photo fills 320x240 and the model spends a quarter of its time on padding. This script runs
the shipped path and the alternatives on the same benign photos and counts what changes:

* ``rect``: resize the long side to 320 first, then pad right/bottom to a multiple of 32 only
  (1024x768 -> 320x256, 3:2 photos -> 320x224; the 640-px second pass likewise);
* ``sq256``: the shipped square padding, at 256 px (and 512 for the second pass).

For each: NudeNet CPU ms per image (one thread, interleaved with the shipped path), nudity
levels that differ from the shipped path's, and images whose NudeNet face count differs (those
faces feed the faces, age and identity signals). Only benign sets exist here (BSDS500, the
clothed street photos, the flood_faces photos at 1024 px): a change of recall on sexual
imagery cannot be measured, so any variant lowering scores on these sets may lower
protection, and is reported as such.

    .venv/bin/python benchmarks/nudity_input_whatif.py [--limit N] [--flood-dir DIR]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "GARDEFOU_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

import bench_env  # noqa: E402

from gardefou.media import load_media  # noqa: E402
from gardefou.signals import get_signal  # noqa: E402
from gardefou.signals._models import oriented_array  # noqa: E402
from gardefou.signals.nudity import decode_output, merge_detections, preprocess  # noqa: E402
from gardefou.signals.nudity_levels import is_borderline, level_from_detections  # noqa: E402

SHARED = bench_env.shared_dir() / "data"


def rect_input(rgb: np.ndarray, long_side: int) -> np.ndarray:
    """Resize the long side to ``long_side`` (aspect kept), pad right/bottom to a multiple of
    32 (the detector's stride), BGR float CHW /255 as the shipped path."""
    import cv2

    h, w = rgb.shape[:2]
    f = long_side / max(h, w)
    nw, nh = max(1, round(w * f)), max(1, round(h * f))
    small = cv2.resize(np.ascontiguousarray(rgb), (nw, nh), interpolation=cv2.INTER_LINEAR)
    pw, ph = -(-nw // 32) * 32, -(-nh // 32) * 32
    canvas = np.zeros((ph, pw, 3), np.uint8)
    canvas[:nh, :nw] = small
    return (canvas[:, :, ::-1].transpose(2, 0, 1) / np.float32(255.0)).astype(np.float32)


def run(session, rgb: np.ndarray, variant: str, size: int, sig) -> tuple[list, float]:
    x = rect_input(rgb, size) if variant == "rect" else preprocess(rgb, size)
    c = time.thread_time()
    out = session.run(None, {session.get_inputs()[0].name: x[None]})[0]
    ms = (time.thread_time() - c) * 1000
    h, w = rgb.shape[:2]
    return decode_output(out[0], w, h, size, sig.thresholds), ms


def judge(session, rgb: np.ndarray, variant: str, sig) -> tuple[str, int, float, bool]:
    first, second = {"shipped": (320, 640), "rect": (320, 640), "sq256": (256, 512)}[variant]
    dets, ms = run(session, rgb, variant, first, sig)
    t = sig.thresholds
    level, _, _ = level_from_detections(dets, t)
    passed = False
    if is_borderline(dets, level, t):
        more, ms2 = run(session, rgb, variant, second, sig)
        dets, ms, passed = merge_detections(dets, more), ms + ms2, True
        level, _, _ = level_from_detections(dets, t)
    faces = sum(1 for d in dets if d["label"].startswith("FACE_") and d["score"] >= 0.5)
    return level, faces, ms, passed


def flood_faces(folder: str | None) -> list[Path]:
    """pipeline_bench's flood_faces photos: those with a face, resized to a 1024-px long side."""
    import tempfile

    import pipeline_bench as pb

    work = Path(folder or tempfile.mkdtemp(prefix="gf-nudity-whatif-"))
    work.mkdir(parents=True, exist_ok=True)
    return pb.resized(work, pb.face_photos([]), 1024)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--limit", type=int, default=0, help="images per set [all]")
    ap.add_argument(
        "--flood-dir",
        default=None,
        help="a folder for the 1024-px flood_faces copies (made there once) [a temporary one]",
    )
    args = ap.parse_args()
    sig = get_signal("nudity")
    session = sig.model()
    sets = {
        "bsds": sorted((SHARED / "photos").glob("*/*.jpg")),
        "clothed": sorted((SHARED / "clothed-street-ccp" / "clothed").glob("*.jpg")),
        "flood_faces_1024": flood_faces(args.flood_dir),
    }
    variants = ("shipped", "rect", "sq256")
    for name, paths in sets.items():
        paths = paths[: args.limit] if args.limit else paths
        if not paths:
            print(f"{name}: no images; skipped")
            continue
        ms = {v: 0.0 for v in variants}
        levels = {v: Counter() for v in variants}
        changed = {v: Counter() for v in variants}
        face_diff = {v: 0 for v in variants}
        passes = {v: 0 for v in variants}
        for p in paths:
            rgb = oriented_array(load_media(p))
            base = None
            for v in variants:
                level, faces, t, passed = judge(session, rgb, v, sig)
                ms[v] += t
                passes[v] += passed
                levels[v][level] += 1
                if base is None:
                    base = (level, faces)
                else:
                    if level != base[0]:
                        changed[v][f"{base[0]}->{level}"] += 1
                    face_diff[v] += faces != base[1]
        n = len(paths)
        print(f"\n{name}: {n} images")
        for v in variants:
            print(
                f"  {v:8} NudeNet CPU {ms[v] / n:6.1f} ms/image (second passes {passes[v]}); "
                f"levels {dict(levels[v])}; changed vs shipped {dict(changed[v]) or 0}; "
                f"NudeNet face count differs on {face_diff[v]}",
                flush=True,
            )


if __name__ == "__main__":
    bench_env.run(main, "nudity_input_whatif", pin=True)
