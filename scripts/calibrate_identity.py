"""Calibrate the int8 identity network: writes src/gardefou/data/dlib_resnet_int8.json.

The int8 network (``gardefou.signals._dlib_resnet.to_onnx(weights, ranges)``) needs the range of
every activation site. They are measured here on the float network over the face chips that the
faces and identity signals cut from the BSDS500 photos in ../shared/data/photos (no ORL face is
used, so ORL stays a held-out check), then ORL is scored with both networks: true-accept and
false-accept rates at the default threshold, how many of the 79,800 pair decisions differ, how
far the embeddings move, and the CPU time per face on one core.

    .venv/bin/python scripts/calibrate_identity.py [--photos DIR] [--orl DIR] [--check]
    .venv/bin/python scripts/calibrate_identity.py --measure [--scheme u8u8|u8s8]

``--measure`` skips the calibration and scores ORL with the shipped ranges (nothing written);
``--scheme`` picks how the int8 weights are stored (``u8u8``, the default, or ``u8s8``, whose
kernel saturates on x86 CPUs without VNNI). ``--check`` only compares the shipped ranges with
fresh ones (exit 1 if any differs by more than ``CHECK_RTOL``, relative: float32 rounding
differs between CPUs in the 6th decimal).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("GARDEFOU_THREADS", "1")

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

from gardefou.media import load_media  # noqa: E402
from gardefou.signals import _dlib_resnet as resnet  # noqa: E402
from gardefou.signals import get_signal  # noqa: E402
from gardefou.signals._models import _sha256, onnx_session, require  # noqa: E402
from gardefou.signals.identity import DEFAULT_THRESHOLD  # noqa: E402

#: --check: largest relative difference between shipped and fresh ranges that still matches
CHECK_RTOL = 1e-4


def photo_chips(root: Path) -> np.ndarray:
    faces, identity = get_signal("faces"), get_signal("identity")
    chips = []
    for p in sorted(root.glob("*/*.jpg")):
        media = load_media(p)
        found = faces.detect(media)  # type: ignore[attr-defined]
        if found:
            chips.append(identity.chips(media, found))  # type: ignore[attr-defined]
    if not chips:
        sys.exit(f"no face found in {root}/*/*.jpg: pass --photos with photos of people")
    return np.concatenate(chips)


def orl_chips(root: Path) -> tuple[np.ndarray, np.ndarray]:
    from identity_roc import load_set

    faces, identity = get_signal("faces"), get_signal("identity")
    people, _, pngs = load_set(root)
    chips = []
    for png in pngs:
        media = load_media(png)
        found = faces.detect(media)  # type: ignore[attr-defined]
        chips.append(identity.crop_chip(media, found)[0])  # type: ignore[attr-defined]
    return np.stack(chips), np.array(people)


def embed(session: object, chips: np.ndarray) -> tuple[np.ndarray, float]:
    run = session.run  # type: ignore[attr-defined]
    run(None, {"x": resnet.normalise(chips[:1])})  # warm
    start = time.process_time()
    out = [run(None, {"x": resnet.normalise(chips[i : i + 1])})[0] for i in range(len(chips))]
    ms = (time.process_time() - start) * 1000 / len(chips)
    return np.concatenate(out).astype(np.float64), ms


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--photos", default=str(REPO.parent / "shared" / "data" / "photos"))
    ap.add_argument("--orl", default=str(REPO.parent / "shared" / "data" / "faces-orl"))
    ap.add_argument("--check", action="store_true", help="compare with the shipped file only")
    ap.add_argument("--measure", action="store_true", help="ORL with the shipped ranges only")
    ap.add_argument("--scheme", default="u8u8", choices=["u8u8", "u8s8"])
    args = ap.parse_args()
    os.environ.setdefault("GARDEFOU_THREADS", "1")  # before any model loads
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core for the timings
    frm = require("face_recognition_models", "face-recognition-models")
    path = frm.face_recognition_model_location()
    weights = resnet.load_weights(path)
    if args.measure:
        shipped = resnet.load_ranges(_sha256(path))
        if shipped is None:
            sys.exit(f"no shipped ranges for {path}: run without --measure first")
        return score_orl(Path(args.orl), weights, shipped, args.scheme)
    cal = photo_chips(Path(args.photos))
    ranges = resnet.calibrate(weights, cal)
    doc = {
        "about": "activation ranges (min, max) of dlib's face-recognition ResNet at the int8 "
        "network's quantization sites; scripts/calibrate_identity.py",
        "weights": "dlib_face_recognition_resnet_model_v1.dat (face-recognition-models 0.3.0)",
        "weights_sha256": _sha256(path),
        "calibration": f"{len(cal)} face chips from the BSDS500 photos (faces signal + identity "
        "alignment); MinMax",
        "ranges": ranges,
    }
    print(f"calibrated on {len(cal)} face chips from {args.photos}")
    if args.check:
        shipped = json.loads(resnet.INT8_RANGES.read_text())
        # float32 convolutions round differently on different CPUs (AVX2 vs AVX-512 kernels):
        # a fresh calibration's 6th decimal moves, so compare within a relative tolerance
        old = shipped["ranges"]
        worst = max(
            abs(a - b) / max(abs(b), 1e-6)
            for site in resnet.SITES
            for a, b in zip(ranges[site], old.get(site, [np.inf, np.inf]), strict=True)
        )
        same = worst <= CHECK_RTOL and shipped["weights_sha256"] == doc["weights_sha256"]
        print(
            "shipped ranges " + ("match" if same else "DIFFER from") + " a fresh calibration "
            f"(largest relative difference {worst:.1e}, tolerance {CHECK_RTOL:.0e})"
        )
        sys.exit(0 if same else 1)
    resnet.INT8_RANGES.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {resnet.INT8_RANGES.relative_to(REPO)}")
    score_orl(Path(args.orl), weights, ranges, args.scheme)


def score_orl(orl: Path, weights: resnet.ResNetWeights, ranges: dict, scheme: str) -> None:
    if not orl.exists():
        print(f"{orl} not found: ORL check skipped (pass --orl)")
        return
    from identity_roc import pair_distances, rates, report

    chips, people = orl_chips(orl)
    fp32 = onnx_session(resnet.to_onnx(weights), "fp32")
    int8 = onnx_session(resnet.to_onnx(weights, ranges, scheme=scheme), "int8")
    e32, ms32 = embed(fp32, chips)
    e8, ms8 = embed(int8, chips)
    print(
        f"\nORL ({len(chips)} faces, held out), one core: fp32 {ms32:.2f} ms/face, "
        f"int8 ({scheme}) {ms8:.2f} ms/face ({ms32 / ms8:.1f}x)"
    )
    d32, same = pair_distances(e32, people)
    d8, _ = pair_distances(e8, people)
    report("fp32", d32, same)
    report("int8", d8, same)
    for name, d in (("fp32", d32), ("int8", d8)):
        tar, far = rates(d, same, DEFAULT_THRESHOLD)
        print(f"{name} at DEFAULT_THRESHOLD {DEFAULT_THRESHOLD}: TAR {tar:.2%}, FAR {far:.3%}")
    moved = np.linalg.norm(e8 - e32, axis=1)
    flips = int(((d8 <= DEFAULT_THRESHOLD) != (d32 <= DEFAULT_THRESHOLD)).sum())
    change = abs(d8 - d32)
    print(
        f"embedding moved by median {np.median(moved):.4f}, max {moved.max():.4f} (L2); pair "
        f"distance changed by p99 {np.quantile(change, 0.99):.4f}, max {change.max():.4f}; "
        f"{flips} of {len(d8)} same-person decisions differ"
    )
    print("\nrerun: .venv/bin/python scripts/calibrate_identity.py")


if __name__ == "__main__":
    main()
