"""Train the advisory AI-generated head shipped in src/gardefou/data/ai_generated_head.json.

    PYTHONPATH=src .venv/bin/python scripts/train_ai_generated.py --data ../shared/data

Data: ai-vs-real-ml72 (50 generated: GAN and four diffusion generations, 50 real photos; the
generator is the file-name prefix) and, as extra real photos, BSDS500, the clothed street photos
and the PACS person photos: 70% of those (sha256(name) mod 10 >= 3) are always in training, the
other 30% only ever scored (false positives on real photos nobody trained on).

Evaluation (3 x stratified 10-fold on ml72, seeds 0-2, out-of-fold probabilities averaged):
AUROC of each generator family against ml72's real photos, the operating threshold at which at
most 5% of ml72's real photos are flagged, and at that threshold the share of each family
caught and the share of the held-out extra real photos flagged. The shipped head is then fitted
on everything in training, with Platt calibration on the out-of-fold logits.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

from gardefou.media import load_media
from gardefou.signals._models import oriented_array
from gardefou.signals.ai_generated import HEAD_FILE, features
from gardefou.signals.photo_style import Head

C = 1.0
MAX_FPR = 0.05
FAMILIES = ("gan", "diffusion1", "diffusion2", "diffusion3", "diffusion4")


def load(data: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(features, label, group, held-out extra) for every image, sorted by path."""
    xs, ys, groups, held = [], [], [], []
    spec = [("ai-vs-real-ml72/ai/*.jpg", 1, None), ("ai-vs-real-ml72/real/*.jpg", 0, "real"),
            ("photos/*/*.jpg", 0, "bsds"), ("clothed-street-ccp/clothed/*.jpg", 0, "ccp"),
            ("photo-vs-drawing-pacs/photo/*.jpg", 0, "pacs_photo")]  # fmt: skip
    for pattern, label, group in spec:
        for f in sorted(data.glob(pattern)):
            xs.append(features(oriented_array(load_media(f))))
            ys.append(label)
            groups.append(group or f.name.split("_")[0])
            extra = group not in (None, "real")
            name = f"{group}/{f.name}"
            held.append(extra and int(hashlib.sha256(name.encode()).hexdigest(), 16) % 10 < 3)
    return np.asarray(xs), np.asarray(ys), np.asarray(groups), np.asarray(held)


def fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    clf = LogisticRegression(C=C, max_iter=10000, class_weight="balanced")
    clf.fit((x - mean) / scale, y)
    return mean, scale, clf.coef_[0], float(clf.intercept_[0])


def logit(model: tuple[np.ndarray, np.ndarray, np.ndarray, float], x: np.ndarray) -> np.ndarray:
    mean, scale, coef, b = model
    return ((x - mean) / scale) @ coef + b


def main() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="../shared/data", type=Path)
    ap.add_argument("--out", type=Path, default=Path("src/gardefou/data") / HEAD_FILE)
    args = ap.parse_args()
    x, y, groups, held = load(args.data)
    ml72 = np.isin(groups, (*FAMILIES, "real"))
    extra_train = ~ml72 & ~held
    idx = np.flatnonzero(ml72)
    oof, held_z = np.zeros(len(y)), np.zeros(len(y))
    for seed in range(3):
        for tr, te in StratifiedKFold(10, shuffle=True, random_state=seed).split(idx, y[idx]):
            train = np.zeros(len(y), bool)
            train[idx[tr]] = True
            train |= extra_train
            model = fit(x[train], y[train])
            oof[idx[te]] += logit(model, x[idx[te]]) / 3
            held_z[held] += logit(model, x[held]) / 30
    real = groups == "real"
    report: dict = {"auroc": {}, "caught_at_threshold": {}}
    report["auroc"]["all_ml72"] = round(roc_auc_score(y[ml72], oof[ml72]), 4)
    for fam in FAMILIES:
        m = (groups == fam) | real
        report["auroc"][fam] = round(roc_auc_score(y[m], oof[m]), 4)
    threshold_z = float(np.quantile(oof[real], 1 - MAX_FPR, method="higher")) + 1e-9
    for fam in FAMILIES:
        report["caught_at_threshold"][fam] = round(
            float((oof[groups == fam] > threshold_z).mean()), 3
        )
    report["fpr_ml72_real"] = round(float((oof[real] > threshold_z).mean()), 3)
    for g in ("bsds", "ccp", "pacs_photo"):
        m = held & (groups == g)
        report[f"fpr_heldout_{g}"] = round(float((held_z[m] > threshold_z).mean()), 3)
        report[f"n_heldout_{g}"] = int(m.sum())
    m = held
    report["fpr_heldout_all"] = round(float((held_z[m] > threshold_z).mean()), 3)
    train = ml72 | extra_train
    oof_all = np.where(ml72, oof, 0.0)
    platt = LogisticRegression(C=1e6, max_iter=10000).fit(oof_all[ml72][:, None], y[ml72])
    a, b = float(platt.coef_[0][0]), float(platt.intercept_[0])
    mean, scale, coef, icpt = fit(x[train], y[train])
    head = Head("ai-generated-pixels/1", mean, scale, coef, icpt, a, b)
    threshold = float(1 / (1 + np.exp(-(a * threshold_z + b))))
    report["threshold"] = round(threshold, 4)
    print(json.dumps(report, indent=1))
    doc = {
        "about": "advisory AI-generated head on forensic + photo-style pixel statistics; "
        "scripts/train_ai_generated.py; docs/model-cards/ai-generated.md",
        "head": head.to_dict(),
        "threshold": round(threshold, 4),
        "evaluation": report,
    }
    args.out.write_text(json.dumps(doc, indent=0) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
