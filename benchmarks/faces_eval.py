"""Face detector configurations compared on benign photos: faces found, CPU time, identity ROC.

For each configuration of the `faces` signal (scanner yunet|hog, scan fallback|always):

  BSDS500 (300 photos, 481x321, ../shared/data/photos): images with a face, faces, CPU ms per
  image for face detection (NudeNet's pass is computed first and not counted: the nudity signal
  pays for it), and the faces the default configuration misses that another one finds;
  ORL (400 crops, 92x112, one face each): faces found, and the identity TAR at 0.1% FAR and at
  the default threshold with the largest face of each image (whole crop when none is found).

``--small-faces`` shrinks the ORL faces (to ~36, ~22 and ~15 px, on a grey 240x240 canvas) and
reports, per size, how many YuNet finds, the identity TAR/FAR at the default threshold and how
far the age estimate moves from the full-size one: the basis of faces.MIN_AGE_FACE_PX and
MIN_IDENTITY_FACE_PX.

No face labels exist for BSDS: ``--sheet out.png`` writes a contact sheet of the faces that one
configuration finds and the default does not, or the reverse, to be judged by eye.

    .venv/bin/python benchmarks/faces_eval.py [--sheet extra.png --sheet-config hog-always]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "GARDEFOU_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
#: the shared data sets: $GARDEFOU_SHARED or ../shared beside the clone (as the tests)
SHARED_ROOT = Path(os.environ.get("GARDEFOU_SHARED", REPO.parent / "shared"))
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "benchmarks"))

from identity_roc import load_set, pair_distances, rates, tar_at_far  # noqa: E402

from gardefou.media import Media, load_media  # noqa: E402
from gardefou.signals import get_signal  # noqa: E402
from gardefou.signals.faces import Face, FacesSignal, box_iou  # noqa: E402
from gardefou.signals.identity import DEFAULT_THRESHOLD  # noqa: E402

SHARED = SHARED_ROOT / "data"
CONFIGS = {
    "yunet-fallback (default)": FacesSignal(scanner="yunet", scan="fallback"),
    "yunet-always": FacesSignal(scanner="yunet", scan="always"),
    "hog-fallback": FacesSignal(scanner="hog", scan="fallback"),
    "hog-always": FacesSignal(scanner="hog", scan="always"),
}
DEFAULT = "yunet-fallback (default)"


def timed_detect(sig: FacesSignal, blob: bytes) -> tuple[Media, list[Face], float]:
    """(media, faces, CPU seconds of face detection); NudeNet's pass runs first, untimed."""
    media = load_media(blob)
    get_signal("nudity").detect_batch([media])  # type: ignore[attr-defined]
    start = time.process_time()
    faces = sig.detect(media)
    return media, faces, time.process_time() - start


def orl_set(what: str) -> tuple[np.ndarray, list[np.ndarray], list[bytes]] | None:
    """(person of each image, greyscale arrays, PNG bytes) of ORL, or None when absent."""
    root = SHARED / "faces-orl"
    if not root.exists():
        print(f"{what} skipped: {root} not found")
        return None
    people, arrays, pngs = load_set(root)
    return np.array(people), arrays, pngs


def detect_all(blobs: list[bytes]) -> tuple[dict[str, list[list[Face]]], dict[str, float]]:
    found: dict[str, list[list[Face]]] = {k: [] for k in CONFIGS}
    cpu: dict[str, float] = {k: 0.0 for k in CONFIGS}
    for blob in blobs:
        for name, sig in CONFIGS.items():
            _, faces, seconds = timed_detect(sig, blob)
            found[name].append(faces)
            cpu[name] += seconds
    return found, cpu


def missing(a: list[list[Face]], b: list[list[Face]]) -> list[tuple[int, Face]]:
    """Faces of ``a`` that overlap no face of ``b`` (IoU <= 0.3), with their image index."""
    return [
        (i, f)
        for i, (fa, fb) in enumerate(zip(a, b, strict=True))
        for f in fa
        if not any(box_iou(f.box, g.box) > 0.3 for g in fb)
    ]


def sheet(path: str, blobs: list[bytes], faces: list[tuple[int, Face]]) -> None:
    from PIL import Image, ImageDraw

    tiles = []
    for i, f in faces:
        img = load_media(blobs[i]).oriented()
        x, y, w, h = f.box
        crop = img.crop((x - w // 3, y - h // 3, x + w + w // 3, y + h + h // 3)).resize((96, 96))
        ImageDraw.Draw(crop).text((2, 2), f"{i} {f.score:.2f} {w}px", fill=(255, 0, 0))
        tiles.append(crop)
    cols = 12
    out = Image.new("RGB", (cols * 98, max(1, (len(tiles) + cols - 1) // cols) * 98), "white")
    for k, t in enumerate(tiles):
        out.paste(t, ((k % cols) * 98, (k // cols) * 98))
    out.save(path)
    print(f"contact sheet of {len(tiles)} faces: {path}")


def bsds(args: argparse.Namespace) -> None:
    files = sorted((SHARED / "photos").glob("*/*.jpg"))
    if not files:
        print(f"BSDS500 skipped: {SHARED / 'photos'} not found")
        return
    blobs = [f.read_bytes() for f in files]
    found, cpu = detect_all(blobs)
    print(f"\nBSDS500: {len(files)} photos (no face labels: counts, not recall)")
    print(f"{'configuration':26} {'images':>7} {'faces':>6} {'ms/img':>7} {'not in default':>15}")
    for name in CONFIGS:
        extra = len(missing(found[name], found[DEFAULT]))
        print(
            f"{name:26} {sum(bool(x) for x in found[name]):7d} "
            f"{sum(len(x) for x in found[name]):6d} {1000 * cpu[name] / len(files):7.1f} "
            f"{extra:15d}"
        )
    if args.sheet:
        other = found[args.sheet_config]
        faces = (
            missing(found[DEFAULT], other) if args.sheet_reverse else missing(other, found[DEFAULT])
        )
        sheet(args.sheet, blobs, faces)


def orl() -> None:
    orl_data = orl_set("ORL")
    if orl_data is None:
        return
    people, _, pngs = orl_data
    identity = get_signal("identity")
    print(f"\nORL: {len(pngs)} crops, {len(set(people.tolist()))} people")
    cols = ("found", 6), ("ms/img", 7), ("TAR@0.1%FAR", 12), ("TAR@t", 7), ("FAR@t", 7)
    print(f"{'configuration':26} " + " ".join(f"{c:>{w}}" for c, w in cols))
    for name, sig in CONFIGS.items():
        embs, n_found, cpu = [], 0, 0.0
        for png in pngs:
            media, faces, seconds = timed_detect(sig, png)
            cpu += seconds
            n_found += bool(faces)
            embs.append(identity.embed_crop(media, faces))  # type: ignore[attr-defined]
        dist, same = pair_distances(np.array(embs, float), people)
        _, tar1 = tar_at_far(dist, same, 0.001)
        tar, far = rates(dist, same, DEFAULT_THRESHOLD)
        print(
            f"{name:26} {n_found:6d} {1000 * cpu / len(pngs):7.1f} {tar1:12.2%} {tar:7.2%} "
            f"{far:7.3%}"
        )
    print(f"(t = DEFAULT_THRESHOLD = {DEFAULT_THRESHOLD})")


def small_faces() -> None:
    import io

    import cv2
    from PIL import Image

    orl_data = orl_set("small faces")
    if orl_data is None:
        return
    people, arrays, _ = orl_data
    identity, age = get_signal("identity"), get_signal("age")
    scan = FacesSignal(use_nudenet=False, scanner="yunet", scan="always")
    print("\nORL faces shrunk on a 240x240 grey canvas (YuNet scan, largest face):")
    cols = ("face px", 8), ("found", 6), ("TAR@t", 7), ("FAR@t", 7), ("age shift p50", 14)
    print(f"{'scale':>5} " + " ".join(f"{c:>{w}}" for c, w in cols) + f" {'p90':>5}")
    base: list[float | None] = []
    for scale in (1.0, 0.5, 0.3, 0.2):
        embs, ages, widths = [], [], []
        for a in arrays:
            g = a.astype(np.uint8)
            if scale != 1.0:
                size = (max(4, round(g.shape[1] * scale)), max(4, round(g.shape[0] * scale)))
                g = cv2.resize(g, size, interpolation=cv2.INTER_AREA)
            canvas = np.full((240, 240), 128, np.uint8)
            canvas[20 : 20 + g.shape[0], 20 : 20 + g.shape[1]] = g
            buf = io.BytesIO()
            Image.fromarray(canvas).save(buf, "PNG")
            media = load_media(buf.getvalue())
            faces = scan.detect(media)
            if not faces:
                embs.append(None)
                ages.append(None)
                continue
            best = max(faces, key=lambda f: f.box[2])
            widths.append(best.box[2])
            embs.append(identity.embed(media, [best])[0])  # type: ignore[attr-defined]
            ages.append(age.estimate(media, [best.box], [best.landmarks])[0][0])  # type: ignore[attr-defined]
        if scale == 1.0:
            base = ages
        ok = [i for i, e in enumerate(embs) if e is not None]
        tar = far = float("nan")
        if len(ok) > 20:
            dist, same = pair_distances(np.array([embs[i] for i in ok], float), people[ok])
            tar, far = rates(dist, same, DEFAULT_THRESHOLD)
        shift = [
            abs(x - y) for x, y in zip(ages, base, strict=True) if x is not None and y is not None
        ]
        p50, p90 = (np.percentile(shift, 50), np.percentile(shift, 90)) if shift else (0.0, 0.0)
        print(
            f"{scale:5.2f} {np.median(widths) if widths else 0:8.0f} {len(ok):6d} {tar:7.2%} "
            f"{far:7.3%} {p50:14.1f} {p90:5.1f}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sheet", help="write a contact sheet of faces found by --sheet-config only")
    ap.add_argument("--sheet-config", default="hog-always", choices=list(CONFIGS))
    ap.add_argument("--sheet-reverse", action="store_true", help="... or found by the default only")
    ap.add_argument("--skip-orl", action="store_true")
    ap.add_argument("--small-faces", action="store_true", help="only the shrunk-ORL table")
    args = ap.parse_args()
    print(f"load average {os.getloadavg()} (shared machine); one thread per model")
    if args.small_faces:
        small_faces()
        return
    bsds(args)
    if not args.skip_orl:
        orl()
    print("rerun: .venv/bin/python benchmarks/faces_eval.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_env beside this file
    from bench_env import run

    run(main, "faces_eval")
