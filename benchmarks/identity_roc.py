"""Identity ROC on the ORL faces (40 people x 10 photos): calibrates identity.DEFAULT_THRESHOLD.

Every image goes through the real pipeline (intake -> faces signal -> identity embedding on the
detected box and landmarks; when no face is found the whole 92x112 crop is used and counted).
All 79,800 pairs are scored: 1,800 same-person, 78,000 different-person. Prints the ROC, the
true-accept rate (TAR) at 0.1% and 1% false-accept rate (FAR), the equal-error rate, and the same
figures for a baseline measured in the same process (Euclidean distance of 23x28 raw pixels).

    .venv/bin/python benchmarks/identity_roc.py [--data ../shared/data/faces-orl] [--csv out.csv]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
#: the shared data sets: $GARDEFOU_SHARED or ../shared beside the clone (as the tests)
SHARED_ROOT = Path(os.environ.get("GARDEFOU_SHARED", REPO.parent / "shared"))
sys.path.insert(0, str(REPO / "src"))

from gardefou.media import load_media  # noqa: E402
from gardefou.signals import get_signal  # noqa: E402
from gardefou.signals.identity import DEFAULT_THRESHOLD  # noqa: E402


def load_set(root: Path) -> tuple[list[int], list[np.ndarray], list[bytes]]:
    people, arrays, pngs = [], [], []
    for d in sorted(root.glob("s*"), key=lambda p: int(p.name[1:])):
        for f in sorted(d.glob("*.pgm"), key=lambda p: int(p.stem)):
            img = Image.open(f).convert("L")
            buf = io.BytesIO()
            img.save(buf, "PNG")
            people.append(int(d.name[1:]))
            arrays.append(np.asarray(img, dtype=np.float64))
            pngs.append(buf.getvalue())
    return people, arrays, pngs


def pair_distances(emb: np.ndarray, people: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sq = (emb**2).sum(axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * emb @ emb.T, 0)
    iu = np.triu_indices(len(people), k=1)
    same = people[iu[0]] == people[iu[1]]
    return np.sqrt(d2[iu]), same


def rates(dist: np.ndarray, same: np.ndarray, t: float) -> tuple[float, float]:
    gen, imp = dist[same], dist[~same]
    return float((gen <= t).mean()), float((imp <= t).mean())


def tar_at_far(dist: np.ndarray, same: np.ndarray, far: float) -> tuple[float, float]:
    """(threshold, TAR) at the largest threshold whose FAR does not exceed ``far``."""
    imp = np.sort(dist[~same])
    k = int(np.floor(far * len(imp)))  # at most k impostor pairs accepted
    t = float(imp[k] - 1e-9) if k < len(imp) else float(imp[-1])
    return t, rates(dist, same, t)[0]


def eer(dist: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    best = (1.0, 0.0)
    for t in np.unique(np.quantile(dist, np.linspace(0, 1, 2001))):
        tar, far = rates(dist, same, float(t))
        gap = abs((1 - tar) - far)
        if gap < best[0]:
            best = (gap, float(t))
    t = best[1]
    tar, far = rates(dist, same, t)
    return t, ((1 - tar) + far) / 2


def report(label: str, dist: np.ndarray, same: np.ndarray) -> dict[str, float]:
    t3, tar3 = tar_at_far(dist, same, 0.001)
    t2, tar2 = tar_at_far(dist, same, 0.01)
    te, e = eer(dist, same)
    print(f"{label:34} TAR@FAR0.1% {tar3:7.2%} (t={t3:.4f})  TAR@FAR1% {tar2:7.2%} "
          f"(t={t2:.4f})  EER {e:6.2%} (t={te:.4f})")  # fmt: skip
    return {"t_far_0.1": t3, "tar_far_0.1": tar3, "t_far_1": t2, "tar_far_1": tar2, "eer": e}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(SHARED_ROOT / "data" / "faces-orl"))
    ap.add_argument("--csv", default=None, help="write the ROC table (threshold, TAR, FAR) here")
    args = ap.parse_args()
    root = Path(args.data)
    if not root.exists():
        sys.exit(f"{root} not found: pass --data pointing at the ORL faces (s1..s40/*.pgm)")
    people_l, arrays, pngs = load_set(root)
    people = np.array(people_l)
    faces, identity = get_signal("faces"), get_signal("identity")
    embs, fallback, start = [], 0, time.perf_counter()
    for png in pngs:
        media = load_media(png)
        found = faces.detect(media)  # type: ignore[attr-defined]
        fallback += not found  # the whole crop is embedded
        embs.append(identity.embed_crop(media, found))  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - start
    emb = np.array(embs, dtype=np.float64)
    print(f"ORL: {len(pngs)} images, {len(set(people_l))} people; faces detected in "
          f"{len(pngs) - fallback}, whole-crop fallback for {fallback}; detect+embed "
          f"{elapsed / len(pngs) * 1000:.1f} ms/image (threads: GARDEFOU_THREADS="
          f"{os.environ.get('GARDEFOU_THREADS', 'default')}; shared machine)")  # fmt: skip
    dist, same = pair_distances(emb, people)
    print(f"pairs: {int(same.sum())} same-person, {int((~same).sum())} different-person")
    print("\nROC (distance threshold -> TAR, FAR):")
    print(" threshold     TAR      FAR")
    rows = []
    for t in np.arange(0.30, 0.701, 0.025):
        tar, far = rates(dist, same, float(t))
        rows.append((float(t), tar, far))
        mark = "  <- DEFAULT_THRESHOLD" if abs(t - DEFAULT_THRESHOLD) < 1e-9 else ""
        print(f"   {t:.3f}   {tar:7.2%}  {far:7.3%}{mark}")
    print()
    ours = report("dlib ResNet (identity signal)", dist, same)
    base_emb = np.array([np.asarray(Image.fromarray(a.astype(np.uint8)).resize((23, 28)),
                                    dtype=np.float64).ravel() / 255.0 for a in arrays])  # fmt: skip
    report("baseline: raw 23x28 pixels", *pair_distances(base_emb, people))
    tar, far = rates(dist, same, DEFAULT_THRESHOLD)
    print(f"\nDEFAULT_THRESHOLD {DEFAULT_THRESHOLD}: TAR {tar:.2%}, FAR {far:.3%} on ORL")
    suggested = np.floor(ours["t_far_0.1"] * 100) / 100
    print(f"suggested DEFAULT_THRESHOLD (FAR <= 0.1% on ORL): {suggested:.2f}")
    if args.csv:
        with open(args.csv, "w") as fh:
            fh.write("threshold,tar,far\n")
            for t, tar, far in rows:
                fh.write(f"{t:.3f},{tar:.6f},{far:.6f}\n")
    print("\nrerun: .venv/bin/python benchmarks/identity_roc.py")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_env beside this file
    from bench_env import run

    run(main, "identity_roc")
