"""Identity on LFW by face box and alignment, and by embedding (raw, mirror-averaged, fixed
length), all on the same images and pairs (docs/model-cards/identity.md, "/5").

Variants of the chip: the faces signal's box and dlib landmarks ("shipped"); YuNet's box then
dlib's landmarks ("yunet"); YuNet's box moved to HOG's box convention by a map fitted on folds
1-3 ("yunet_rebox"); a similarity transform from YuNet's own 5 landmarks to their median place
in shipped chips, fitted on folds 1-3 ("yunet_lmk"). Each chip is embedded by the int8 network
as is and mirrored. The people of LFW's pairs.txt folds 1-3 serve every fit and the FAR-0.1%
threshold; the figures are on all pairs among the images of the people of folds 4-10.
Slow (~4 network runs x 2 per image; ~30 min on a busy 2-core machine); ``--limit N`` takes
the first N images for a quick look.

    .venv/bin/python benchmarks/identity_alignment.py --data LFW/images --lfw-pairs LFW/pairs.txt
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from identity_colour import all_pairs, centre_face, read_lfw_pairs
from identity_roc import REPO, tar_at_far

sys.path.insert(0, str(REPO / "src"))
from gardefou.media import load_media
from gardefou.signals import faces as F
from gardefou.signals import get_signal
from gardefou.signals._models import oriented_array, shared

VARIANTS = ("shipped", "yunet", "yunet_rebox", "yunet_lmk")
CHIP_CENTRE = 74.5  # dlib's chip pixel centre (150 px), as its extract_image_chip samples


def umeyama(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The least-squares similarity (2x3) taking points ``src`` to ``dst``."""
    ms, md = src.mean(0), dst.mean(0)
    s0, d0 = src - ms, dst - md
    u, sv, vt = np.linalg.svd(d0.T @ s0 / len(src))
    d = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[1, 1] = -1
    r = u @ d @ vt
    scale = np.trace(np.diag(sv) @ d) / s0.var(0).sum()
    m = np.zeros((2, 3))
    m[:, :2], m[:, 2] = scale * r, md - scale * r @ ms
    return m


def chip_matrix(dlib: object, shape: object) -> np.ndarray:
    """The image -> chip similarity of dlib's get_face_chip for a 5-point shape."""
    d = dlib.get_face_chip_details(shape, 150, 0.25)  # type: ignore[attr-defined]
    r = d.rect
    s = 150 / (r.right() - r.left())
    c, si = np.cos(d.angle) * s, np.sin(d.angle) * s
    m = np.array([[c, si, 0.0], [-si, c, 0.0]])
    m[:, 2] = CHIP_CENTRE - m[:, :2] @ [(r.left() + r.right()) / 2, (r.top() + r.bottom()) / 2]
    return m


def chip_from_matrix(dlib: object, img: np.ndarray, m: np.ndarray) -> np.ndarray:
    """dlib's chip extractor on the rotated square that ``m`` maps onto the chip."""
    s, angle = float(np.hypot(m[0, 0], m[0, 1])), float(np.arctan2(m[0, 1], m[0, 0]))
    c = np.linalg.solve(m[:, :2], np.array([CHIP_CENTRE, CHIP_CENTRE]) - m[:, 2])
    h = 75 / s
    rect = dlib.drectangle(c[0] - h, c[1] - h, c[0] + h, c[1] + h)  # type: ignore[attr-defined]
    details = dlib.chip_details(rect, dlib.chip_dims(150, 150), angle)  # type: ignore[attr-defined]
    return np.asarray(dlib.extract_image_chip(img, details))  # type: ignore[attr-defined]


def main() -> None:
    import dlib

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--lfw-pairs", required=True)
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()
    root = Path(args.data)
    pairs = read_lfw_pairs(Path(args.lfw_pairs))
    fold: dict[str, int] = {}
    for i, (a, b, _) in enumerate(pairs):
        for n in (a, b):
            fold.setdefault(n.split("/")[0], i // 600)
    names = sorted({a for a, _, _ in pairs} | {b for _, b, _ in pairs})
    names = names[: args.limit] if args.limit else names
    faces, ident = get_signal("faces"), get_signal("identity")
    models = ident.model()
    yunet = shared("yunet.onnx", F._load_yunet_onnx)

    def shape(img: np.ndarray, box: tuple, pts: object = None) -> object:
        x, y, w, h = (int(v) for v in box)
        rect = dlib.rectangle(x, y, x + w - 1, y + h - 1)
        if pts is not None:
            return dlib.full_object_detection(rect, [dlib.point(int(a), int(b)) for a, b in pts])
        return models.shape5(img, rect)

    det: dict[str, dict] = {}
    for n in names:  # detections: shipped path, YuNet (box, landmarks) and HOG's box for it
        media = load_media((root / n).read_bytes())
        img = np.ascontiguousarray(oriented_array(media))
        h, w = img.shape[:2]
        rec: dict = {"img": img}
        found = faces.detect(media)  # type: ignore[attr-defined]
        if found:
            f = centre_face(found, w, h)
            rec["shipped"] = (f.box, f.landmarks, f.source)  # type: ignore[attr-defined]
        ys = [(b, p) for b, p in yunet.detect_landmarks(img) if b[4] / 100 >= F.YUNET_MIN_SCORE]
        if ys:
            box, pts = min(ys, key=lambda t: (t[0][0] + t[0][2] / 2 - w / 2) ** 2
                           + (t[0][1] + t[0][3] / 2 - h / 2) ** 2)  # fmt: skip
            hog = faces._refine(img, F.Face(tuple(box[:4]), 1.0, None, "nudenet"))  # type: ignore[attr-defined]
            rec["yunet"] = (tuple(box[:4]), pts, hog.box if hog.source.endswith("+hog") else None)
        det[n] = rec
    train = [n for n in names if fold[n.split("/")[0]] < 3]
    both = [det[n]["yunet"] for n in train if "yunet" in det[n] and det[n]["yunet"][2]]
    xs, hs = np.array([b[0] for b in both], float), np.array([b[2] for b in both], float)
    fit = (
        np.median((hs[:, 0] + hs[:, 2] / 2 - xs[:, 0] - xs[:, 2] / 2) / xs[:, 2]),
        np.median((hs[:, 1] + hs[:, 3] / 2 - xs[:, 1] - xs[:, 3] / 2) / xs[:, 3]),
        np.median(hs[:, 2] / xs[:, 2]),
        np.median(hs[:, 3] / xs[:, 3]),
    )
    placed = []
    for n in train:
        r = det[n]
        if "yunet" in r and "shipped" in r and "hog" in r["shipped"][2]:
            m = chip_matrix(dlib, shape(r["img"], r["shipped"][0], r["shipped"][1]))
            placed.append(r["yunet"][1] @ m[:, :2].T + m[:, 2])
    template = np.median(np.array(placed), axis=0)
    print(f"box map on {len(xs)} train faces (dx, dy, sw, sh) = {np.round(fit, 4).tolist()}; "
          f"landmark template on {len(placed)}: {template.round(2).tolist()}")  # fmt: skip

    def rebox(b: tuple) -> tuple:
        x, y, w, h = b
        cx, cy, bw, bh = x + w / 2 + fit[0] * w, y + h / 2 + fit[1] * h, fit[2] * w, fit[3] * h
        return (round(cx - bw / 2), round(cy - bh / 2), round(bw), round(bh))

    keep = [n for n in names if "shipped" in det[n] and "yunet" in det[n]]
    print(f"{len(names)} images; shipped and YuNet faces both found in {len(keep)} (scored)")
    chips: dict[str, list] = {v: [] for v in VARIANTS}
    for n in keep:
        r = det[n]
        img, (ybox, ypts, _) = r["img"], r["yunet"]
        chips["shipped"].append(dlib.get_face_chip(img, shape(img, *r["shipped"][:2]), 150, 0.25))
        chips["yunet"].append(dlib.get_face_chip(img, shape(img, ybox), 150, 0.25))
        chips["yunet_rebox"].append(dlib.get_face_chip(img, shape(img, rebox(ybox)), 150, 0.25))
        chips["yunet_lmk"].append(chip_from_matrix(dlib, img, umeyama(ypts, template)))
    person = {n: n.split("/")[0] for n in keep}
    is_train = np.array([fold[person[n]] < 3 for n in keep])
    net = models.encoder
    for v in VARIANTS:
        c = np.stack([np.asarray(x) for x in chips[v]])
        raw = np.concatenate([net(c[i : i + 64]) for i in range(0, len(c), 64)]).astype(np.float64)
        mir = np.concatenate([net(np.ascontiguousarray(c[i : i + 64, :, ::-1]))
                              for i in range(0, len(c), 64)]).astype(np.float64)  # fmt: skip
        unit = lambda e: e / np.linalg.norm(e, axis=1, keepdims=True)  # noqa: E731
        for label, e in (("raw", raw), ("mirror", (raw + mir) / 2), ("length", unit(raw)),
                         ("mirror+length", unit(raw + mir) * np.sqrt(2))):  # fmt: skip
            emb = dict(zip(keep, e, strict=True))
            tr = [n for n, t in zip(keep, is_train, strict=True) if t]
            te = [n for n, t in zip(keep, is_train, strict=True) if not t]
            dtr, strn, _, _ = all_pairs(emb, person, tr)
            dte, ste, n_img, n_ppl = all_pairs(emb, person, te)
            t01, _ = tar_at_far(dtr, strn, 0.001)
            _, tar1 = tar_at_far(dte, ste, 0.01)
            print(f"{v:12} {label:14} threshold {t01:.4f} (folds 1-3, FAR 0.1%) -> folds 4-10: "
                  f"TAR {(dte[ste] <= t01).mean():.2%}, FAR {(dte[~ste] <= t01).mean():.3%}; "
                  f"TAR at FAR 1% {tar1:.2%} ({int(ste.sum())} same, {int((~ste).sum())} "
                  f"different pairs, {n_img} images of {n_ppl} people)", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
