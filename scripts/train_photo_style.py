"""Train the photo-or-drawing heads shipped in src/gardefou/data/photo_style_head.json.

    PYTHONPATH=src .venv/bin/python scripts/train_photo_style.py \
        --data ../shared/data --pacs-git /path/to/Homework3-PACS/.git --cache /tmp/ps.npz

Photographs (label 1): PACS person photos (office face shots), BSDS500, the real half of
ai-vs-real-ml72, the clothed street photos, ORL faces (greyscale; images 1, 3, 5, 7 of each
person). Drawings (label 0): PACS person paintings, cartoons and sketches. With ``--pacs-git``
(github:MachineLearning2020/Homework3-PACS at d586a6cf), a fixed random sample (seed 20261203) of
PACS's *other* categories (dog, elephant, giraffe, guitar, horse, house) is added on both sides:
photos of animals, objects and houses, and their paintings, cartoons and sketches, so that the
heads do not learn "a frontal face shot is a photo". PACS person images are never taken from the
repository (its other half is held out elsewhere).

Split: an image is held out for testing when sha256(source/filename) mod 10 < 3; the test split
is scored once with the configuration fixed before any tuning (recorded in the model card), and
once more with the shipped heads. AI-generated images are scored but never trained on.

The face head is trained on the faces NudeNet's FACE_* classes find (score >= 0.5) in the same
images, pooled over the face box grown by ``FACE_MARGIN``. Both heads: standardized features,
L2 logistic regression (C fixed below), Platt calibration on 5-fold out-of-fold logits of the
training split. Deterministic: fixed seeds, sorted inputs.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from gardefou.media import load_media
from gardefou.signals import get_signal
from gardefou.signals._models import oriented_array
from gardefou.signals.photo_style import HEAD_FILE, Head, face_features, image_features

SEED = 20261203
C = 1.0
FACE_MIN = 0.5
REGIONS = 3
PACS_OTHER = {
    "photo": (["dog", "elephant", "giraffe", "guitar", "horse", "house"], 45),
    "cartoon": (["dog", "elephant", "giraffe", "horse", "house"], 30),
    "sketch": (["dog", "elephant", "giraffe", "guitar", "horse", "house"], 15),
    "art_painting": (["dog", "elephant", "giraffe", "house"], 25),
}


def shared_items(data: Path) -> list[tuple[str, int, str, bytes]]:
    """(name, label, source, bytes) of the shared sets; label -1: scored, never trained on."""
    spec = [
        ("photo-vs-drawing-pacs/photo/*.jpg", 1, "pacs_person_photo"),
        ("photo-vs-drawing-pacs/drawing/art_painting_*.jpg", 0, "pacs_person_art_painting"),
        ("photo-vs-drawing-pacs/drawing/cartoon_*.jpg", 0, "pacs_person_cartoon"),
        ("photo-vs-drawing-pacs/drawing/sketch_*.jpg", 0, "pacs_person_sketch"),
        ("photos/*/*.jpg", 1, "bsds"),
        ("ai-vs-real-ml72/real/*.jpg", 1, "ml72_real"),
        ("ai-vs-real-ml72/ai/*.jpg", -1, "ml72_ai"),
        ("clothed-street-ccp/clothed/*.jpg", 1, "ccp"),
        ("faces-orl/s*/[1357].pgm", 1, "orl"),
    ]
    out = []
    for pattern, label, source in spec:
        for f in sorted(data.glob(pattern)):
            out.append((f"{source}/{f.parent.name}_{f.name}", label, source, f.read_bytes()))
    return out


def pacs_other_items(git_dir: str) -> list[tuple[str, int, str, bytes]]:
    """A fixed sample of PACS's non-person categories, read straight from the git objects."""

    def git(*args: str) -> bytes:
        return subprocess.run(["git", "--git-dir", git_dir, *args], check=True,
                              capture_output=True).stdout  # fmt: skip

    names = git("ls-tree", "-r", "--name-only", "HEAD").decode().split()
    rng = random.Random(SEED)
    out = []
    for domain, (cats, n) in PACS_OTHER.items():
        for cat in cats:
            files = sorted(x for x in names if x.startswith(f"PACS/{domain}/{cat}/"))
            for f in rng.sample(files, min(n, len(files))):
                im = Image.open(io.BytesIO(git("show", f"HEAD:{f}")))
                if im.mode in ("RGBA", "LA", "P"):  # transparent clip-art: on white
                    im = im.convert("RGBA")
                    bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
                    bg.alpha_composite(im)
                    im = bg
                buf = io.BytesIO()
                im.convert("RGB").save(buf, "JPEG", quality=90)
                label = 1 if domain == "photo" else 0
                source = f"pacs_other_{domain}"
                out.append((f"{source}/{cat}_{Path(f).stem}.jpg", label, source, buf.getvalue()))
    return out


def random_regions(name: str, width: int, height: int) -> list[list[int]]:
    """REGIONS square boxes (a fifth to a half of the short side) at seeded places: NudeNet finds
    few faces in drawings, so the face head also learns from regions of every image."""
    rng = random.Random(f"{SEED}:{name}")
    out = []
    for _ in range(REGIONS):
        side = max(4, round(min(width, height) * rng.uniform(0.2, 0.5)))
        out.append([rng.randrange(0, width - side + 1), rng.randrange(0, height - side + 1),
                    side, side])  # fmt: skip
    return out


def extract(items: list[tuple[str, int, str, bytes]]) -> dict[str, np.ndarray]:
    nudity = get_signal("nudity")
    img_x, img_meta, face_x, face_meta = [], [], [], []
    t0 = time.perf_counter()
    for k, (name, label, source, data) in enumerate(items):
        im = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
        buf = io.BytesIO()
        im.save(buf, "PNG")
        media = load_media(buf.getvalue(), label=name)
        maps = nudity.feature_maps(media)  # type: ignore[attr-defined]
        if maps is None:
            sys.exit("NudeNet's backbone maps are unavailable: install onnx (gardefou[models])")
        rgb = oriented_array(media)
        img_x.append(image_features(rgb, maps))
        img_meta.append((name, label, source))
        boxes = [
            (d["box"], "face")
            for d in media._cache["nudenet"]
            if d["label"] in ("FACE_FEMALE", "FACE_MALE") and d["score"] >= FACE_MIN
        ]
        boxes += [(b, "region") for b in random_regions(name, rgb.shape[1], rgb.shape[0])]
        for box, kind in boxes:
            face_x.append(face_features(rgb, maps, box))
            face_meta.append((name, label, source, kind))
        if k % 200 == 0:
            print(f"  {k}/{len(items)} images, {time.perf_counter() - t0:.0f} s", flush=True)
    return {
        "img_x": np.asarray(img_x),
        "img_meta": np.asarray(img_meta, dtype=str),
        "face_x": np.asarray(face_x),
        "face_meta": np.asarray(face_meta, dtype=str),
    }


def held_out(names: np.ndarray) -> np.ndarray:
    return np.array([int(hashlib.sha256(n.encode()).hexdigest(), 16) % 10 < 3 for n in names])


def fit(x: np.ndarray, y: np.ndarray, version: str) -> Head:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    def train(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        mean, scale = xs.mean(axis=0), xs.std(axis=0) + 1e-9
        clf = LogisticRegression(C=C, max_iter=10000).fit((xs - mean) / scale, ys)
        return mean, scale, clf.coef_[0], float(clf.intercept_[0])

    oof = np.zeros(len(y))
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=SEED).split(x, y):
        mean, scale, coef, b = train(x[tr], y[tr])
        oof[te] = ((x[te] - mean) / scale) @ coef + b
    platt = LogisticRegression(C=1e6, max_iter=10000).fit(oof[:, None], y)
    mean, scale, coef, b = train(x, y)
    return Head(version, mean, scale, coef, b, float(platt.coef_[0][0]),
                float(platt.intercept_[0]))  # fmt: skip


def report(head: Head, x: np.ndarray, meta: np.ndarray, test: np.ndarray, what: str) -> dict:
    from sklearn.metrics import roc_auc_score

    y = meta[:, 1].astype(int)
    src = meta[:, 2]
    p = head.predict(x)
    lab = test & (y >= 0)
    out: dict = {
        "what": what,
        "test_n": int(lab.sum()),
        "auroc": round(roc_auc_score(y[lab], p[lab]), 4),
    }
    person = lab & np.char.startswith(src, "pacs_person")
    if len(set(y[person])) == 2:
        out["auroc_pacs_person"] = round(roc_auc_score(y[person], p[person]), 4)
    bins = np.clip((p[lab] * 10).astype(int), 0, 9)
    ece = sum(abs(p[lab][bins == i].mean() - y[lab][bins == i].mean()) * (bins == i).sum()
              for i in range(10) if (bins == i).any()) / lab.sum()  # fmt: skip
    out["ece"] = round(float(ece), 4)
    if meta.shape[1] > 3:
        for kind in sorted(set(meta[:, 3])):
            k = lab & (meta[:, 3] == kind)
            if len(set(y[k])) == 2:
                out[f"auroc_{kind}"] = round(roc_auc_score(y[k], p[k]), 4)
    out["per_source"] = {
        s: {"n": int((test & (src == s)).sum()),
            "below_0.5": round(float((p[test & (src == s)] < 0.5).mean()), 3),
            "mean": round(float(p[test & (src == s)].mean()), 3)}
        for s in sorted(set(src)) if (test & (src == s)).any()
    }  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="../shared/data", type=Path)
    ap.add_argument("--pacs-git", help="git dir of github:MachineLearning2020/Homework3-PACS")
    ap.add_argument("--cache", type=Path, help="features npz (read if present, else written)")
    ap.add_argument("--out", type=Path, default=Path("src/gardefou/data") / HEAD_FILE)
    args = ap.parse_args()
    if args.cache and args.cache.exists():
        feats = dict(np.load(args.cache))
    else:
        items = shared_items(args.data)
        if args.pacs_git:
            items += pacs_other_items(args.pacs_git)
        print(f"{len(items)} images")
        feats = extract(items)
        if args.cache:
            np.savez_compressed(args.cache, **feats)
    heads, metrics = {}, []
    for kind in ("img", "face"):
        x, meta = feats[f"{kind}_x"], feats[f"{kind}_meta"]
        test = held_out(meta[:, 0])  # a face is held out with its image
        y = meta[:, 1].astype(int)
        train = ~test & (y >= 0)
        head = fit(x[train], y[train], f"photo-style-{kind}/1")
        heads["image" if kind == "img" else "face"] = head
        metrics.append(report(head, x, meta, test, kind))
    print(json.dumps(metrics, indent=1))
    doc = {k: v.to_dict() for k, v in heads.items()}
    doc["about"] = ("photo-or-drawing heads on NudeNet 320n backbone maps + pixel statistics; "
                    "scripts/train_photo_style.py; docs/model-cards/photo-style.md")  # fmt: skip
    doc["test"] = metrics
    args.out.write_text(json.dumps(doc, indent=0) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
