"""minor_risk per age band with the faces signal's boxes (shipped) against YuNet's boxes
re-shaped to HOG's convention (the identity alignment that reached 94.4% TAR at FAR 0.1% on LFW,
docs/model-cards/identity.md): the age benchmark the identity card asks for before that box
could ship, on the same images as ``benchmarks/minor_eval.py``.

For each image: the shipped faces (``faces.detect``) and YuNet's own faces with the box mapped
to HOG's convention (centre +0.9% of the width and +3.9% of the height, width x1.130, height
x0.905: the medians fitted on LFW folds 1-3) and dlib's 5 landmarks found in it; when YuNet finds
no face, the shipped faces are kept. The age model then runs on each, and an image is flagged
when any face has P(under 18) >= the threshold or an expected age under the caution age
(today's, as the signal).

    .venv/bin/python benchmarks/age_boxes.py --data /tmp/utk/data/images [--per-band 200]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from minor_eval import BANDS, GOALS, band_of, labelled, sample

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
from gardefou.media import load_media  # noqa: E402
from gardefou.signals import get_signal  # noqa: E402
from gardefou.signals._models import DLIB_LOCK, oriented_array, require  # noqa: E402
from gardefou.signals.age import CAUTION_AGE, MINOR_PROBABILITY_THRESHOLD  # noqa: E402
from gardefou.signals.faces import MIN_AGE_FACE_PX, Face, model_faces  # noqa: E402

#: YuNet box -> HOG's convention, fitted on LFW folds 1-3 (docs/model-cards/identity.md)
REBOX = {"dx": 0.00877, "dy": 0.03896, "sw": 1.13043, "sh": 0.90541}


def rebox(box: tuple[int, int, int, int], w: int, h: int) -> tuple[int, int, int, int]:
    x, y, bw, bh = box
    cx, cy = x + bw / 2 + REBOX["dx"] * bw, y + bh / 2 + REBOX["dy"] * bh
    nw, nh = REBOX["sw"] * bw, REBOX["sh"] * bh
    x0, y0 = max(0, round(cx - nw / 2)), max(0, round(cy - nh / 2))
    x1, y1 = min(w, round(cx + nw / 2)), min(h, round(cy + nh / 2))
    return (x0, y0, x1 - x0, y1 - y0)


def yunet_faces(faces_signal: object, media: object) -> list[Face]:
    dlib = require("dlib", "dlib-bin")
    img = oriented_array(media)  # type: ignore[arg-type]
    h, w = img.shape[:2]
    models = faces_signal.model()  # type: ignore[attr-defined]
    out = []
    for f in faces_signal._yunet(img):  # type: ignore[attr-defined]
        x, y, bw, bh = rebox(f.box, w, h)
        with DLIB_LOCK:
            shape = models.shape5(img, dlib.rectangle(x, y, x + bw - 1, y + bh - 1))
        pts = tuple((shape.part(i).x, shape.part(i).y) for i in range(shape.num_parts))
        out.append(Face((x, y, bw, bh), f.score, pts, "yunet-rebox"))
    return out


def flagged(estimates: list[tuple[float, float]]) -> bool:
    return any(p >= MINOR_PROBABILITY_THRESHOLD or a < CAUTION_AGE for a, p in estimates)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="directory of <age>_*.jpg face photos")
    ap.add_argument("--per-band", type=int, default=200)
    ap.add_argument("--seed", type=int, default=19)
    args = ap.parse_args()
    items = sample(labelled(Path(args.data)), args.per_band, args.seed)
    faces_signal, age = get_signal("faces"), get_signal("age")
    rows, start, kept = [], time.perf_counter(), 0
    for path, years in items:
        media = load_media(path.read_bytes())
        shipped = model_faces(faces_signal.detect(media), MIN_AGE_FACE_PX)  # type: ignore[attr-defined]
        alt = model_faces(yunet_faces(faces_signal, media), MIN_AGE_FACE_PX) or shipped
        kept += alt is shipped
        res = []
        for faces in (shipped, alt):
            est = age.estimate(media, [list(f.box) for f in faces], [f.landmarks for f in faces])  # type: ignore[attr-defined]
            res.append((flagged(est), min((a for a, _ in est), default=np.nan)))
        rows.append((band_of(years), years, *res[0], *res[1]))
    ms = (time.perf_counter() - start) / len(rows) * 1000
    print(f"{len(rows)} images ({args.per_band} per band at most, seed {args.seed}); YuNet found "
          f"no face in {kept} (shipped faces kept); {ms:.0f} ms/image")  # fmt: skip
    print(f"flagged minor_risk at P >= {MINOR_PROBABILITY_THRESHOLD} or age < {CAUTION_AGE}")
    print(" band    images  shipped  YuNet re-boxed  changed  mean |age diff|  goal")
    for name, _, _ in BANDS:
        b = [r for r in rows if r[0] == name]
        if not b:
            continue
        s = np.mean([r[2] for r in b])
        y = np.mean([r[4] for r in b])
        changed = sum(r[2] != r[4] for r in b)
        diff = np.nanmean([abs(r[3] - r[5]) for r in b])
        print(f" {name:6} {len(b):7}  {s:6.1%}   {y:6.1%}        {changed:6}   {diff:6.2f}         "
              f"{GOALS[name]}")  # fmt: skip


if __name__ == "__main__":
    main()
