"""Identity on colour photographs: TAR at FAR 0.1% and 1% on a public colour face-pair set.

Reads the images from a directory given on the command line (sources and licences:
benchmarks/SOURCE.md; nothing is downloaded or copied into the repository) and the labelled pairs
from either
- ``--pairs X.csv``: columns ``file_x,file_y,Decision`` (``Yes`` = same person), as deepface's
  tests/unit/dataset/master.csv, images named relative to ``--data``; or
- ``--lfw-pairs pairs.txt``: the Labeled Faces in the Wild pair lists (pairs.txt,
  pairsDevTest.txt), images at ``--data/<Name>/<Name>_<NNNN>.jpg``.
Every image goes through the shipped path: intake -> faces signal (boxes and 5-point
landmarks) -> identity embedding (dlib's aligned chip) of the face nearest the image centre
(the labelled person in these sets; the whole image when no face is found, counted).

Two pair sets are scored: (a) the listed pairs as labelled; (b) every pair among the same
images, same-person when the names agree (LFW) or when linked by "Yes" pairs (CSV; a "No" pair
inside one group is reported as a conflict), which gives far more different-person pairs, so
that FAR 0.1% is resolved by more than a handful of pairs.
For each: TAR and FAR at the shipped threshold, TAR at FAR 0.1% and 1% with the threshold that
gives them, and how many impostor pairs those FARs resolve (with few impostor pairs FAR 0.1%
is one pair or none: the figure is then as coarse as that).

    .venv/bin/python benchmarks/identity_colour.py --data DIR --pairs DIR/master.csv
    .venv/bin/python benchmarks/identity_colour.py --data LFW/images --lfw-pairs LFW/pairs.txt
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


def read_lfw_pairs(path: Path) -> list[tuple[str, str, bool]]:
    """LFW's pairs.txt: a header line, then ``name i j`` (same) or ``name1 i name2 j``."""

    def f(name: str, i: str) -> str:
        return f"{name}/{name}_{int(i):04d}.jpg"

    out = []
    for line in path.read_text().splitlines()[1:]:
        p = line.split()
        if len(p) == 3:
            out.append((f(p[0], p[1]), f(p[0], p[2]), True))
        elif len(p) == 4:
            out.append((f(p[0], p[1]), f(p[2], p[3]), False))
    return out


def centre_face(faces: list, width: int, height: int) -> object:
    """The detected face whose box centre is nearest the image centre."""
    cx, cy = width / 2, height / 2

    def off(f: object) -> float:
        x, y, w, h = f.box  # type: ignore[attr-defined]
        return (x + w / 2 - cx) ** 2 + (y + h / 2 - cy) ** 2

    return min(faces, key=off)


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


#: LFW's pairs.txt folds (600 lines each, people disjoint between folds) whose people were never
#: used to choose or fit anything (the YuNet box and landmark fits of docs/model-cards/identity.md
#: used folds 1-3); 0-based
HELD_OUT_FOLDS = range(3, 10)


def held_out_people(pairs: list[tuple[str, str, bool]]) -> set[str]:
    fold: dict[str, int] = {}
    for i, (a, b, _) in enumerate(pairs):
        for n in (a, b):
            fold.setdefault(n.split("/")[0], i // 600)
    return {p for p, f in fold.items() if f in HELD_OUT_FOLDS}


def all_pairs(
    emb: dict[str, np.ndarray], person: dict[str, object], imgs: list[str]
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Distances and same-person flags of every pair among ``imgs``."""
    labels = sorted({str(person[n]) for n in imgs})
    ids = np.array([labels.index(str(person[n])) for n in imgs])
    e = np.stack([emb[n] for n in imgs]).astype(np.float32)
    d_parts, s_parts = [], []
    for i in range(len(imgs) - 1):  # row by row: 7,700 images give 30M pairs
        d_parts.append(np.linalg.norm(e[i + 1 :] - e[i], axis=1))
        s_parts.append(ids[i + 1 :] == ids[i])
    return np.concatenate(d_parts), np.concatenate(s_parts), len(imgs), len(labels)


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


def read_cache(cached: object) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Embeddings and box sources by image name from an ``np.load``-ed ``--cache``. Each array
    is read once: indexing an NpzFile reads the whole array again on every access, which for
    LFW's 7,701 rows meant 7,701 reads of a 7.5 MB array (minutes, and memory the OS killed
    the process for when two caches were loaded)."""
    names = cached["names"]  # type: ignore[index]
    vecs, kinds = cached["emb"], cached["source"]  # type: ignore[index]
    return (
        {str(n): vecs[i] for i, n in enumerate(names)},
        {str(n): str(kinds[i]) for i, n in enumerate(names)},
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="directory of the images")
    ap.add_argument("--pairs", help="CSV file_x,file_y,Decision (Yes/No)")
    ap.add_argument("--lfw-pairs", help="LFW pairs.txt / pairsDevTest.txt")
    ap.add_argument("--cache", help="npz of embeddings: written after embedding, read if present")
    args = ap.parse_args()
    if bool(args.pairs) == bool(args.lfw_pairs):
        sys.exit("pass exactly one of --pairs X.csv or --lfw-pairs pairs.txt")
    root = Path(args.data)
    lfw = bool(args.lfw_pairs)
    pairs_file = Path(args.lfw_pairs or args.pairs)
    pairs = read_lfw_pairs(pairs_file) if lfw else read_pairs(pairs_file)
    names = sorted({a for a, _, _ in pairs} | {b for _, b, _ in pairs})
    missing = [n for n in names if not (root / n).exists()]
    if missing:
        sys.exit(f"{len(missing)} image(s) of the pairs not in {root}, e.g. {missing[:3]}")
    faces, identity = get_signal("faces"), get_signal("identity")
    emb, source, fallback, start = {}, {}, [], time.perf_counter()
    cached = np.load(args.cache) if args.cache and Path(args.cache).exists() else None
    for n in names if cached is None else []:
        media = load_media((root / n).read_bytes())
        found = faces.detect(media)  # type: ignore[attr-defined]
        if found:
            w, h = media.oriented().size
            face = centre_face(found, w, h)
            source[n] = face.source  # type: ignore[attr-defined]
            vec = identity.embed(media, [face])[0]  # type: ignore[attr-defined]
        else:
            fallback.append(n)
            source[n] = "none"
            vec = identity.embed_crop(media, found)  # type: ignore[attr-defined]
        emb[n] = np.array(vec, dtype=np.float64)
    if cached is not None:
        emb, source = read_cache(cached)
    elif args.cache:
        np.savez(args.cache, names=np.array(names), emb=np.stack([emb[n] for n in names]),
                 source=np.array([source[n] for n in names]))  # fmt: skip
    elapsed = time.perf_counter() - start
    print(f"{len(names)} images from {root}; no face found (whole image embedded) in "
          f"{len(fallback)} {fallback[:10]}; detect+embed "
          f"{elapsed / len(names) * 1000:.0f} ms/image "
          "(shared machine)")  # fmt: skip

    d = np.array([np.linalg.norm(emb[a] - emb[b]) for a, b, _ in pairs])
    s = np.array([same for _, _, same in pairs])
    summary(f"(a) listed pairs of {pairs_file.name}", d, s)
    kinds = sorted(set(source.values()))
    print("  by the detector that gave the face boxes (both faces of the pair):")
    for k in kinds:
        m = np.array([source[a] == k and source[b] == k for a, b, _ in pairs])
        if (m & s).any():
            tar = float((d[m & s] <= DEFAULT_THRESHOLD).mean())
            print(f"    {k:14} {int((m & s).sum()):5} same-person pairs, TAR at "
                  f"{DEFAULT_THRESHOLD} {tar:.2%}")  # fmt: skip
    print(f"  images per box source: { {k: list(source.values()).count(k) for k in kinds} }")

    person = {n: n.split("/")[0] for n in names} if lfw else groups(pairs)
    conflicts = [(a, b) for a, b, same in pairs if not same and a in person and b in person
                 and person[a] == person[b]]  # fmt: skip
    d2, s2, n_img, n_people = all_pairs(emb, person, sorted(person))
    summary(f"(b) all pairs among {n_img} images of {n_people} people "
            f"(conflicting 'No' pairs inside a group: {conflicts or 'none'})", d2, s2)  # fmt: skip
    if lfw:
        held = held_out_people(pairs)
        d3, s3, n_img, n_people = all_pairs(emb, person, [n for n in sorted(person)
                                                          if person[n] in held])  # fmt: skip
        first = HELD_OUT_FOLDS[0]
        summary(f"(c) as (b), only the {n_people} people of folds {first + 1}-10 "
                f"({n_img} images; folds 1-{first} were used for fits)", d3, s3)  # fmt: skip
    flag = "--lfw-pairs" if lfw else "--pairs"
    print(f"\nrerun: .venv/bin/python benchmarks/identity_colour.py --data {root} "
          f"{flag} {pairs_file}")  # fmt: skip


if __name__ == "__main__":
    main()
