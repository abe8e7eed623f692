"""Image judgement on the shared benign sets, through the shipped signals end to end.

  --photo   photo_likelihood (faces signal: the policy fact and the image head) on
            photo-vs-drawing-pacs: AUROC photo vs drawing, per drawing domain; and the share of
            real photos read as drawings (below 0.5) on BSDS500, the clothed street photos, the
            ml72 real photos and ORL, with the ml72 AI images' scores for information.
  --nudity  nudity levels on the clothed street photos, BSDS500 and ORL: counts per level, the
            images that are not "none" with the detection that decided, and the covered-part
            score distribution (what a threshold change trades).
  --ai      ai_generated on ai-vs-real-ml72 per generator family (AUROC; share caught and real
            photos flagged at the operating threshold), and flags on the other real photos.
            ml72 is the training set of the shipped head: these figures are in-sample; the
            cross-validated ones are in docs/model-cards/ai-generated.md.

    .venv/bin/python benchmarks/image_judgement_eval.py --photo --nudity --ai [--data DIR]

Point ``--data`` at another copy (e.g. the held-out halves) with the same layout.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "GARDEFOU_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from gardefou.media import Media, load_media  # noqa: E402
from gardefou.signals import get_signal  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
COVERED = ("FEMALE_BREAST_COVERED", "BUTTOCKS_COVERED", "FEMALE_GENITALIA_COVERED", "BELLY_EXPOSED")


def auroc(pos: list[float], neg: list[float]) -> float:
    """P(a positive scores above a negative), ties counted half."""
    p, n = np.asarray(pos)[:, None], np.asarray(neg)[None, :]
    return float(((p > n).sum() + 0.5 * (p == n).sum()) / (p.size * n.size))


def files(data: Path, pattern: str) -> list[Path]:
    return sorted(data.glob(pattern))


def load(path: Path) -> Media:
    """The media of a file; ORL's PGM files (not an upload format) go through PNG first."""
    if path.suffix != ".pgm":
        return load_media(path)
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.open(path).save(buf, "PNG")
    return load_media(buf.getvalue(), label=str(path))


def photo(data: Path) -> None:
    faces = get_signal("faces")
    pacs = data / "photo-vs-drawing-pacs"
    fact: dict[str, list[float]] = {}
    image: dict[str, list[float]] = {}
    sets = {
        "photo": files(pacs, "photo/*.jpg"),
        **{d: files(pacs, f"drawing/{d}_*.jpg") for d in ("art_painting", "cartoon", "sketch")},
        "bsds": files(data, "photos/*/*.jpg"),
        "clothed": files(data, "clothed-street-ccp/clothed/*.jpg"),
        "ml72_real": files(data, "ai-vs-real-ml72/real/*.jpg"),
        "ml72_ai": files(data, "ai-vs-real-ml72/ai/*.jpg"),
        "orl": files(data, "faces-orl/s*/*.pgm"),
    }
    drawings = ("art_painting", "cartoon", "sketch")
    for name, paths in sets.items():
        for p in paths:
            r = faces.extract(load(p))
            fact.setdefault(name, []).append(_or_one(r.details["photo_likelihood"]))
            image.setdefault(name, []).append(_or_one(r.details["image_photo_likelihood"]))
        if name == "sketch":
            _pacs_auroc(fact, image, [d for d in drawings if fact.get(d)])
            print("real photos read as drawings (policy fact below 0.5):")
            _false_drawings("photo", fact)
        elif name not in (*drawings, "photo"):
            _false_drawings(name, fact)


def _false_drawings(name: str, fact: dict) -> None:
    v = np.asarray(fact.get(name, []))
    if v.size:
        print(f"  {name}: {int((v < 0.5).sum())} of {v.size} ({np.mean(v < 0.5):.3f}); "
              f"median {np.median(v):.3f}", flush=True)  # fmt: skip


def _pacs_auroc(fact: dict, image: dict, drawings: list[str]) -> None:
    print("photo_likelihood on photo-vs-drawing-pacs (photo vs drawing):")
    for label, v in (("policy fact (max of image and faces)", fact), ("image head", image)):
        all_d = [s for d in drawings for s in v[d]]
        per = ", ".join(f"{d} {auroc(v['photo'], v[d]):.4f}" for d in drawings)
        print(f"  {label}: AUROC {auroc(v['photo'], all_d):.4f} ({per}); drawings below 0.5: "
              f"{np.mean(np.asarray(all_d) < 0.5):.3f} of {len(all_d)}", flush=True)  # fmt: skip


def _or_one(v: float | None) -> float:
    return 1.0 if v is None else float(v)


def nudity(data: Path, only: str | None = None) -> None:
    sig = get_signal("nudity")
    sets = {
        "clothed": files(data, "clothed-street-ccp/clothed/*.jpg"),
        "bsds": files(data, "photos/*/*.jpg"),
        "orl": files(data, "faces-orl/s*/*.pgm"),
    }
    for name, paths in sets.items():
        if only and name != only:
            continue
        levels: Counter[str] = Counter()
        tops: dict[str, list[float]] = {k: [] for k in COVERED}
        for p in paths:
            r = sig.extract(load(p))
            levels[r.value] += 1
            for k in COVERED:
                tops[k].append(max((d["score"] for d in r.details["detections"]
                                    if d["label"] == k), default=0.0))  # fmt: skip
            if r.value != "none":
                print(f"  {name}/{p.name}: {r.value} - {r.explanation}")
        n = len(paths)
        print(f"{name}: {n} images: " + ", ".join(f"{k} {v} ({v / max(n, 1):.3f})"
                                                  for k, v in sorted(levels.items())))  # fmt: skip
        for k, v in tops.items():
            a = np.asarray(v)
            counts = ", ".join(f">={t} {int((a >= t).sum())}" for t in (0.5, 0.65, 0.7, 0.85))
            print(f"    {k}: {counts}, max {a.max():.2f}")


def ai(data: Path) -> None:
    sig = get_signal("ai_generated")
    groups: dict[str, list[float]] = {}
    likely: dict[str, list[bool]] = {}
    sets = [(p, p.name.split("_")[0]) for p in files(data, "ai-vs-real-ml72/ai/*.jpg")]
    sets += [(p, "ml72_real") for p in files(data, "ai-vs-real-ml72/real/*.jpg")]
    sets += [(p, "bsds") for p in files(data, "photos/*/*.jpg")]
    sets += [(p, "clothed") for p in files(data, "clothed-street-ccp/clothed/*.jpg")]
    for p, g in sets:
        r = sig.extract(load(p))
        groups.setdefault(g, []).append(float(r.value["probability"]))
        likely.setdefault(g, []).append(bool(r.value["likely"]))
    real = groups.get("ml72_real", [])
    print("ai_generated (in-sample on ml72: it is the head's training set):")
    for g in sorted(groups):
        line = f"  {g}: n={len(groups[g])}, flagged {np.mean(likely[g]):.3f}"
        if g not in ("ml72_real", "bsds", "clothed") and real:
            line += f", AUROC vs ml72 real {auroc(groups[g], real):.4f}"
        print(line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=SHARED)
    ap.add_argument("--photo", action="store_true")
    ap.add_argument("--nudity", action="store_true")
    ap.add_argument("--ai", action="store_true")
    ap.add_argument("--only", help="with --nudity: one set (clothed, bsds or orl)")
    args = ap.parse_args()
    if not (args.photo or args.nudity or args.ai):
        args.photo = args.nudity = args.ai = True
    if args.photo:
        photo(args.data)
    if args.nudity:
        nudity(args.data, args.only)
    if args.ai:
        ai(args.data)


if __name__ == "__main__":
    main()
