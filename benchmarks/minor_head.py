"""Does a small head on features the signals already compute beat today's minor_risk rule?

Features of the largest face in each image: the age model's class probabilities (log) and the
identity signal's 128-d embedding. A logistic regression (under 18 or not) is fitted on the
even-indexed half of the UTKFace sample (as ``benchmarks/minor_eval.py`` samples it) and its
threshold chosen there (the smallest share of 25+ flagged that still flags >= 95% of under-16s
and >= 85% of 16-17s); the figures are on the odd half, next to today's rule (P(under 18) >=
0.20 or age < 25) and the caution age 28 of the age card on the same images. ORL's 400 photos
(presumed adults, another set) give the false flags outside UTKFace.

    .venv/bin/python benchmarks/minor_head.py --data /tmp/utk/data/images [--per-band 600]
        [--orl ../shared/data/faces-orl] [--cache feats.npz]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from identity_roc import SHARED_ROOT, load_set
from minor_eval import BANDS, band_of, labelled, sample

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
from gardefou.media import load_media  # noqa: E402
from gardefou.signals import get_signal  # noqa: E402
from gardefou.signals._models import oriented_array  # noqa: E402
from gardefou.signals.age import (  # noqa: E402
    CAUTION_AGE,
    MINOR_PROBABILITY_THRESHOLD,
    age_chip,
    expected_age,
    minor_probability,
)


def features(data: list[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(age probabilities, identity embedding, found) of each image's largest face."""
    faces_signal, age, ident = get_signal("faces"), get_signal("age"), get_signal("identity")
    m = age.model()  # type: ignore[attr-defined]
    probs, embs, found = [], [], []
    for raw in data:
        media = load_media(raw)
        faces = faces_signal.detect(media)  # type: ignore[attr-defined]
        if not faces:
            probs.append(np.full(len(m.weights), np.nan))
            embs.append(np.full(128, np.nan))
            found.append(False)
            continue
        f = max(faces, key=lambda f: f.box[2] * f.box[3])
        chip = age_chip(oriented_array(media), f.box, f.landmarks)
        with m.predictor._lock:
            probs.append(np.asarray(m.predictor._engine.age.probabilities([chip]))[0])
        embs.append(np.asarray(ident.embed(media, [f])[0]))  # type: ignore[attr-defined]
        found.append(True)
    return np.array(probs), np.array(embs), np.array(found), m.weights


def design(probs: np.ndarray, embs: np.ndarray, with_identity: bool) -> np.ndarray:
    x = np.log(np.clip(probs, 1e-6, 1.0))
    return np.hstack([x, embs]) if with_identity else x


def choose(score: np.ndarray, bands: np.ndarray) -> float:
    """The highest threshold meeting both recall goals on these images (or the best effort)."""
    u16, mid = np.isin(bands, ["0-12", "13-15"]), bands == "16-17"
    for t in np.sort(np.unique(score))[::-1]:
        hit = score >= t
        if hit[u16].mean() >= 0.95 and hit[mid].mean() >= 0.85:
            return float(t)
    return float(score.min())


def row(label: str, hit: np.ndarray, bands: np.ndarray, orl_hit: np.ndarray | None) -> None:
    cells = "  ".join(f"{hit[bands == b].mean():6.1%}" for b, _, _ in BANDS)
    orl = f"  ORL {orl_hit.mean():6.1%}" if orl_hit is not None else ""
    print(f"{label:40} {cells}{orl}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="directory of <age>_*.jpg face photos")
    ap.add_argument("--per-band", type=int, default=600)
    ap.add_argument("--seed", type=int, default=19)
    ap.add_argument("--orl", default=str(SHARED_ROOT / "data" / "faces-orl"))
    ap.add_argument("--cache", help="npz of the features: written once, read if present")
    args = ap.parse_args()
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV

    items = sample(labelled(Path(args.data)), args.per_band, args.seed)
    if args.cache and Path(args.cache).exists():
        z = np.load(args.cache)
        probs, embs, found, weights = z["probs"], z["embs"], z["found"], z["weights"]
        oprobs, oembs, ofound = z["oprobs"], z["oembs"], z["ofound"]
    else:
        start = time.perf_counter()
        probs, embs, found, weights = features([p.read_bytes() for p, _ in items])
        print(f"{len(items)} images, {(time.perf_counter() - start) / len(items) * 1000:.0f} "
              "ms/image")  # fmt: skip
        oprobs, oembs, ofound, _ = features(load_set(Path(args.orl))[2])
        if args.cache:
            np.savez(args.cache, probs=probs, embs=embs, found=found, weights=weights,
                     oprobs=oprobs, oembs=oembs, ofound=ofound)  # fmt: skip
    ages = np.array([a for _, a in items])
    bands = np.array([band_of(a) for a in ages])[found]
    minor = (ages < 18)[found]
    probs, embs = probs[found], embs[found]
    oprobs, oembs = oprobs[ofound], oembs[ofound]
    idx = np.arange(len(bands))
    fit, held = idx % 2 == 0, idx % 2 == 1
    print(f"UTKFace: {int(found.sum())} images with a face (fit half {int(fit.sum())}, "
          f"measured half {int(held.sum())}); ORL {int(ofound.sum())} with a face")  # fmt: skip
    print(f"{'flagged (measured half)':40} " + "  ".join(f"{b:>6}" for b, _, _ in BANDS))

    def rule(p: np.ndarray, caution: float) -> np.ndarray:
        return (minor_probability(p, weights) >= MINOR_PROBABILITY_THRESHOLD) | (
            expected_age(p, weights) < caution
        )

    row(f"today (P >= 0.20 or age < {CAUTION_AGE:.0f})", rule(probs, CAUTION_AGE)[held],
        bands[held], rule(oprobs, CAUTION_AGE))  # fmt: skip
    row("caution age 28 (age card)", rule(probs, 28.0)[held], bands[held], rule(oprobs, 28.0))
    for tuned in (False, True):
        for with_id in (False, True):
            x, ox = design(probs, embs, with_id), design(oprobs, oembs, with_id)
            if tuned:  # regularisation chosen by 5-fold cross-validation inside the fit half
                head = LogisticRegressionCV(
                    Cs=[1e-3, 1e-2, 0.1, 1.0, 10.0],
                    cv=5,
                    max_iter=4000,
                    scoring="accuracy",
                    l1_ratios=(0.0,),
                    use_legacy_attributes=True,
                )
            else:  # the first pass: sklearn's default C = 1
                head = LogisticRegression(C=1.0, max_iter=2000)
            head.fit(x[fit], minor[fit])
            s, so = head.predict_proba(x)[:, 1], head.predict_proba(ox)[:, 1]
            t = choose(s[fit], bands[fit])
            c = float(np.ravel(head.C_)[0]) if tuned else 1.0
            label = f"head: age probs{' + identity' if with_id else ''} (C {c:g}, t {t:.3f})"
            row(label, (s >= t)[held], bands[held], so >= t)


if __name__ == "__main__":
    main()
