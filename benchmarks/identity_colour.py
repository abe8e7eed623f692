"""Identity on colour photographs: TAR at FAR 0.1% and 1% on a public colour face-pair set.

Reads the images from a directory given on the command line and the labelled pairs from a CSV
with columns ``file_x,file_y,Decision`` (Decision ``Yes`` = same person), as deepface's
tests/unit/dataset/master.csv (source and licence: benchmarks/SOURCE.md). Nothing is
downloaded or copied into the repository. Every image goes through the shipped path: intake ->
faces signal (boxes and 5-point landmarks) -> identity embedding of the largest face (dlib's
aligned chip; the whole image when no face is found, counted).

Two pair sets are scored: (a) the CSV's listed pairs as labelled; (b) every pair among the
images of the people with at least two photos (people = connected "Yes" pairs), assuming two
such groups are different people (a "No" pair inside one group is reported as a conflict).
For each: TAR and FAR at the shipped threshold, TAR at FAR 0.1% and 1% with the threshold that
gives them, and how many impostor pairs those FARs resolve (with few impostor pairs FAR 0.1%
is one pair or none: the figure is then as coarse as that).

    .venv/bin/python benchmarks/identity_colour.py --data DIR --pairs DIR/master.csv
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from identity_roc import REPO, rates, tar_at_far

sys.path.insert(0, str(REPO / "src"))
from gardefou.media import load_media
from gardefou.signals import get_signal
from gardefou.signals.identity import DEFAULT_THRESHOLD


def read_pairs(path: Path) -> list[tuple[str, str, bool]]:
    with path.open(newline="") as fh:
        return [
            (r["file_x"], r["file_y"], r["Decision"].strip() == "Yes") for r in csv.DictReader(fh)
        ]


def groups(pairs: list[tuple[str, str, bool]]) -> dict[str, int]:
    """Person id per image from the "Yes" pairs (union-find)."""
    parent: dict[str, str] = {}

    def find(a: str) -> str:
        while parent.setdefault(a, a) != a:
            a = parent[a]
        return a

    for a, b, same in pairs:
        if same:
            parent[find(a)] = find(b)
    roots = sorted({find(a) for a in parent})
    return {a: roots.index(find(a)) for a in parent}


def summary(label: str, dist: np.ndarray, same: np.ndarray) -> None:
    n_imp = int((~same).sum())
    tar, far = rates(dist, same, DEFAULT_THRESHOLD)
    print(f"\n{label}: {int(same.sum())} same-person, {n_imp} different-person pairs")
    accepted = int((dist[~same] <= DEFAULT_THRESHOLD).sum())
    print(f"  shipped threshold {DEFAULT_THRESHOLD}: TAR {tar:.2%}, FAR {far:.3%} "
          f"({accepted} impostor pair(s) accepted)")  # fmt: skip
    for target in (0.001, 0.01):
        t, tar_t = tar_at_far(dist, same, target)
        allowed = int(np.floor(target * n_imp))
        print(f"  FAR <= {target:.1%} (at most {allowed} impostor pair(s)): threshold {t:.4f}, "
              f"TAR {tar_t:.2%}")  # fmt: skip
    gen = np.sort(dist[same])
    imp = np.sort(dist[~same])
    print(f"  same-person distances: max {gen[-1]:.4f}, 95th pct {np.quantile(gen, 0.95):.4f}; "
          f"different-person: min {imp[0]:.4f}, 5th pct {np.quantile(imp, 0.05):.4f}")  # fmt: skip
    misses = int((gen > DEFAULT_THRESHOLD).sum())
    print(f"  same-person pairs missed at {DEFAULT_THRESHOLD}: {misses}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="directory of the images")
    ap.add_argument("--pairs", required=True, help="CSV file_x,file_y,Decision (Yes/No)")
    args = ap.parse_args()
    root, pairs = Path(args.data), read_pairs(Path(args.pairs))
    names = sorted({a for a, _, _ in pairs} | {b for _, b, _ in pairs})
    missing = [n for n in names if not (root / n).exists()]
    if missing:
        sys.exit(f"{len(missing)} image(s) of the pairs not in {root}, e.g. {missing[:3]}")
    faces, identity = get_signal("faces"), get_signal("identity")
    emb, fallback, start = {}, [], time.perf_counter()
    for n in names:
        media = load_media((root / n).read_bytes())
        found = faces.detect(media)  # type: ignore[attr-defined]
        if not found:
            fallback.append(n)
        emb[n] = np.array(identity.embed_crop(media, found), dtype=np.float64)  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - start
    print(f"{len(names)} images from {root}; no face found (whole image embedded) in "
          f"{len(fallback)} {fallback}; detect+embed {elapsed / len(names) * 1000:.0f} ms/image "
          "(shared machine)")  # fmt: skip

    d = np.array([np.linalg.norm(emb[a] - emb[b]) for a, b, _ in pairs])
    s = np.array([same for _, _, same in pairs])
    summary(f"(a) listed pairs of {Path(args.pairs).name}", d, s)

    person = groups(pairs)
    conflicts = [(a, b) for a, b, same in pairs if not same and a in person and b in person
                 and person[a] == person[b]]  # fmt: skip
    imgs = sorted(person)
    ids = np.array([person[n] for n in imgs])
    e = np.stack([emb[n] for n in imgs])
    iu = np.triu_indices(len(imgs), k=1)
    d2 = np.linalg.norm(e[iu[0]] - e[iu[1]], axis=1)
    s2 = ids[iu[0]] == ids[iu[1]]
    summary(f"(b) all pairs among {len(imgs)} images of {len(set(ids))} people "
            f"(conflicting 'No' pairs inside a group: {conflicts or 'none'})", d2, s2)  # fmt: skip
    print(f"\nrerun: .venv/bin/python benchmarks/identity_colour.py --data {root} "
          f"--pairs {args.pairs}")  # fmt: skip


if __name__ == "__main__":
    main()
