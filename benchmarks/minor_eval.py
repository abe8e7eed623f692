"""minor_risk per age band on ordinary, age-labelled face photos (UTKFace-style file names).

Reads the images from a directory given on the command line (nothing is downloaded, nothing is
copied into the repository): files named ``<age>_<gender>_<race>_<date>.jpg[.chip.jpg]``, as in
UTKFace's aligned-and-cropped faces (source and licence: benchmarks/SOURCE.md). Every image goes
through the real signal (intake -> faces -> age). Per band 0-12, 13-15, 16-17, 18-24, 25+ it
prints: images, faces found, the share flagged ``minor_risk`` at today's thresholds (recall
under 18, false flags at 18+), and, for a grid of (minor-probability threshold, caution age),
the same figures, with the grid choice made on one half of the images (even index) and
reported on the other half, so a "calibrated" figure is never the one it was chosen on.

    .venv/bin/python benchmarks/minor_eval.py --data DIR [--per-band 300] [--csv out.csv]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from gardefou.media import load_media  # noqa: E402
from gardefou.signals import get_signal  # noqa: E402
from gardefou.signals.age import CAUTION_AGE, MINOR_PROBABILITY_THRESHOLD  # noqa: E402

BANDS = [("0-12", 0, 12), ("13-15", 13, 15), ("16-17", 16, 17), ("18-24", 18, 24), ("25+", 25, 999)]
GOALS = {"0-12": ">= 0.95 flagged", "13-15": ">= 0.95 flagged", "16-17": ">= 0.85 flagged",
         "18-24": "(no goal)", "25+": "<= 0.10 flagged"}  # fmt: skip


def band_of(age: int) -> str:
    return next(name for name, lo, hi in BANDS if lo <= age <= hi)


def labelled(root: Path) -> list[tuple[Path, int]]:
    out = []
    for f in sorted(root.iterdir()):
        head = f.name.split("_", 1)[0]
        if f.suffix.lower() in {".jpg", ".jpeg", ".png"} and head.isdigit():
            out.append((f, int(head)))
    return out


def sample(items: list[tuple[Path, int]], per_band: int, seed: int) -> list[tuple[Path, int]]:
    rng, chosen = random.Random(seed), []
    for name, _, _ in BANDS:
        in_band = [it for it in items if band_of(it[1]) == name]
        rng.shuffle(in_band)
        chosen += sorted(in_band[:per_band])
    return chosen


def flagged(ages: np.ndarray, probs: np.ndarray, t: float, caution: float) -> np.ndarray:
    """An image is flagged when any face has P(under 18) >= t or age < caution (age.assess);
    an image without a face is never flagged (as the signal)."""
    return (probs >= t) | (ages < caution)


def table(label: str, bands: np.ndarray, hit: np.ndarray, face: np.ndarray) -> dict[str, float]:
    print(f"\n{label}")
    print(" band    images  faces  flagged  share   goal")
    shares = {}
    for name, _, _ in BANDS:
        m = bands == name
        n = int(m.sum())
        share = float(hit[m].mean()) if n else float("nan")
        shares[name] = share
        print(f" {name:6} {n:7} {int(face[m].sum()):6} {int(hit[m].sum()):8}  {share:6.1%}  "
              f"{GOALS[name]}")  # fmt: skip
    return shares


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="directory of <age>_*.jpg face photos")
    ap.add_argument("--per-band", type=int, default=300, help="images per age band (sampled)")
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--csv", default=None, help="write per-image results here")
    args = ap.parse_args()
    root = Path(args.data)
    if not root.is_dir():
        sys.exit(f"{root} is not a directory: pass --data DIR of <age>_<...>.jpg face photos")
    items = sample(labelled(root), args.per_band, args.seed)
    if not items:
        sys.exit(f"no <age>_*.jpg file in {root}")
    age_signal = get_signal("age")
    rows, start = [], time.perf_counter()
    for path, age in items:
        res = age_signal.extract(load_media(path.read_bytes()))
        faces = res.value["faces"]
        rows.append((path.name, age, band_of(age), len(faces),
                     min((f["age"] for f in faces), default=np.inf),
                     max((f["minor_probability"] for f in faces), default=-1.0),
                     bool(res.value["minor_risk"])))  # fmt: skip
    elapsed = time.perf_counter() - start
    if args.csv:
        with open(args.csv, "w") as fh:
            fh.write("file,age,band,faces,min_age,max_minor_probability,minor_risk\n")
            for r in rows:
                fh.write(",".join(str(v) for v in r) + "\n")
    bands = np.array([r[2] for r in rows])
    face = np.array([r[3] > 0 for r in rows])
    ages = np.array([r[4] for r in rows], dtype=np.float64)
    probs = np.array([r[5] for r in rows], dtype=np.float64)
    risk = np.array([r[6] for r in rows])
    print(f"{len(rows)} images from {root} ({args.per_band} per band at most, seed {args.seed}); "
          f"faces found in {int(face.sum())}; {elapsed / len(rows) * 1000:.0f} ms/image "
          "(shared machine)")  # fmt: skip
    t0, c0 = MINOR_PROBABILITY_THRESHOLD, CAUTION_AGE
    # the signal decides on unrounded estimates, the value carries rounded ones: a face within
    # 0.05 years of the caution age or 5e-5 of the threshold can re-score the other way
    differ = int((flagged(ages, probs, t0, c0) != risk).sum())
    print(f"re-scoring the rounded values at today's thresholds differs from the signal on "
          f"{differ} image(s)")  # fmt: skip
    table(f"today: P(under 18) >= {t0:.2f} or age < {c0:.0f} (all images)", bands, risk, face)
    table("today, faces found only", bands[face], risk[face], face[face])

    # calibration: choose on the even half, report on the odd half
    idx = np.arange(len(rows))
    fit, held = idx % 2 == 0, idx % 2 == 1
    adult = np.isin(bands, ["25+"])
    under16, mid = np.isin(bands, ["0-12", "13-15"]), bands == "16-17"
    best = None
    for t in np.round(np.arange(0.02, 0.61, 0.02), 2):
        for c in (0.0, 18.0, 20.0, 22.0, 24.0, 25.0, 26.0, 28.0, 30.0):
            hit = flagged(ages, probs, float(t), c)
            r16, r17 = hit[fit & under16].mean(), hit[fit & mid].mean()
            ff = hit[fit & adult].mean()
            ok = r16 >= 0.95 and r17 >= 0.85
            key = (ok, -ff if ok else r16 + r17 - ff)
            if best is None or key > best[0]:
                best = (key, float(t), c, r16, r17, ff)
    _, tb, cb, r16, r17, ff = best
    print(f"\ncalibrated on the even half: P >= {tb:.2f} or age < {cb:.0f} (fit half: under-16 "
          f"{r16:.1%}, 16-17 {r17:.1%}, 25+ flagged {ff:.1%})")  # fmt: skip
    table("calibrated, held-out odd half", bands[held],
          flagged(ages, probs, tb, cb)[held], face[held])  # fmt: skip
    table("today, same held-out odd half", bands[held], risk[held], face[held])

    print("\ntrade-off: per caution age, the largest P threshold meeting both recall goals on "
          "the even half, scored on the odd half")  # fmt: skip
    print(" caution  P>=   under-16  16-17   18-24   25+ (25-29 / 30+)")
    true_age = np.array([r[1] for r in rows])
    young_adult, older = held & (true_age >= 25) & (true_age < 30), held & (true_age >= 30)
    for c in (0.0, 18.0, 20.0, 22.0, 24.0, 25.0, 26.0, 28.0, 30.0):
        ok_t = [
            float(t)
            for t in np.round(np.arange(0.02, 0.61, 0.02), 2)
            if flagged(ages, probs, float(t), c)[fit & under16].mean() >= 0.95
            and flagged(ages, probs, float(t), c)[fit & mid].mean() >= 0.85
        ]
        if not ok_t:
            print(f" {c:5.0f}    none reaches the recall goals on the even half")
            continue
        hit = flagged(ages, probs, max(ok_t), c)
        print(f" {c:5.0f}   {max(ok_t):.2f}   {hit[held & under16].mean():6.1%}  "
              f"{hit[held & mid].mean():6.1%}  {hit[held & (bands == '18-24')].mean():6.1%}  "
              f"{hit[held & adult].mean():6.1%} ({hit[young_adult].mean():.1%} / "
              f"{hit[older].mean():.1%})")  # fmt: skip
    print(f"\nrerun: .venv/bin/python benchmarks/minor_eval.py --data {root} "
          f"--per-band {args.per_band} --seed {args.seed}")  # fmt: skip


if __name__ == "__main__":
    main()
