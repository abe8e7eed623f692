"""Copy detection on real photos: recall per edit and false matches, for three matching modes.

Originals: the 300 BSDS500 photos in ../shared/data/photos/ plus the distinct PDQ reference
images (near-duplicates among them, e.g. the same bridge twice, are dropped; so are hashes of
quality < 50, as banks drop them). Each original is banked; each is then edited 17 ways and
every edited copy is matched against the whole bank at the default threshold (31).

Modes (what the bank stores / what the query hashes):
  plain     one PDQ per original / one PDQ of the copy (what HMA does today)
  dihedral  one PDQ per original / the copy's 8 rotations+flips
  default   one PDQ per original / 8 dihedral + 8 dihedral of the copy with uniform bands
            (borders, padding, screenshot bars, caption banners) peeled off, when it has any:
            what `gardefou match FILE` does, and all a hash-only submission allows
  crop-res  + the original trimmed and its central 90%/80% crops (needs the image when banking:
            `gardefou bank add --crop-resilient`) / as default

A true match: the copy is within 31 bits of its own original (any stored hash of it, any query
hash). A false match: within 31 bits of any other original. Crops remove X% of the width and
X% of the height around the centre (crop_10%_offset: at a random, seeded offset). Centred
10% and 20% crops are exactly what the crop-resilient bank variants anticipate; crop_15% and the
off-centre crop show what happens between and beside them (PDQ moves ~25 bits for a 1% shift).

    .venv/bin/python benchmarks/copy_detection.py            # ~4 minutes on one core
    .venv/bin/python benchmarks/copy_detection.py --limit 50  # quick look
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

from gardefou.banks.index import hexes_to_words
from gardefou.banks.robust import central_crop, crop_variants, trimmed
from gardefou.media import load_media
from gardefou.signals.pdq_core import pdq_dihedral, pdq_hash

THRESHOLD = 31
MIN_QUALITY = 50
_DEFAULT_SHARED = Path(__file__).resolve().parents[2] / "shared"
SHARED = Path(os.environ.get("GARDEFOU_SHARED", _DEFAULT_SHARED)) / "data"
REFERENCE_ORIGINALS = (
    "bridge-mods/aaa-orig.jpg",
    "misc-images/modes/original.jpg",
    "misc-images/small.jpg",
    "misc-images/wee.jpg",
    "reg-test-input/exif-rotn/exif-rotn-1.jpg",
    *(
        f"reg-test-input/labelme-subset/q{n}.jpg"
        for n in ("0003", "0004", "0122", "0291", "0746", "1050", "2821")
    ),
)


def jpeg(img: Image.Image, q: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=q)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def crop_random(img: Image.Image, frac: float, rng: random.Random) -> Image.Image:
    w, h = img.size
    dw, dh = round(w * frac), round(h * frac)
    left, top = rng.randint(0, dw), rng.randint(0, dh)
    return img.crop((left, top, w - (dw - left), h - (dh - top)))


def banner(img: Image.Image, frac: float) -> Image.Image:
    w, h = img.size
    bh = round(h * frac)
    out = Image.new("RGB", (w, h + bh), "white")
    draw = ImageDraw.Draw(out)
    rng = random.Random(w * h)
    x = 8
    while x < w - 30:  # caption-like words: ~35% ink on the text line
        word = rng.randint(10, 40)
        draw.rectangle((x, bh // 3, x + word, 2 * bh // 3), fill="black")
        x += word + rng.randint(40, 70)
    out.paste(img, (0, bh))
    return out


def screenshot(img: Image.Image) -> Image.Image:
    """Shrink onto a phone-shaped canvas with status and toolbar bars, then re-encode."""
    w, h = img.size
    cw = 720
    scale = cw / w
    small = img.resize((cw, max(1, round(h * scale))), Image.Resampling.BILINEAR)
    canvas = Image.new("RGB", (cw, max(1280, small.height + 300)), (245, 245, 245))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, cw, 60), fill=(30, 30, 30))
    draw.rectangle((0, canvas.height - 110, cw, canvas.height), fill=(255, 255, 255))
    canvas.paste(small, (0, (canvas.height - small.height) // 2))
    return jpeg(canvas.resize((cw // 2, canvas.height // 2), Image.Resampling.BILINEAR), 80)


def transforms(rng: random.Random) -> dict[str, Callable[[Image.Image], Image.Image]]:
    return {
        "jpeg_q30": lambda im: jpeg(im, 30),
        "jpeg_q50": lambda im: jpeg(im, 50),
        "resize_1/4": lambda im: im.resize(
            (max(1, im.width // 4), max(1, im.height // 4)), Image.Resampling.BILINEAR
        ),
        "blur": lambda im: im.filter(ImageFilter.GaussianBlur(2)),
        "brightness+30%": lambda im: ImageEnhance.Brightness(im).enhance(1.3),
        "greyscale": lambda im: ImageOps.grayscale(im).convert("RGB"),
        "banner_15%": lambda im: banner(im, 0.15),
        "crop_10%": lambda im: central_crop(im, 0.90),
        "crop_20%": lambda im: central_crop(im, 0.80),
        "crop_15%": lambda im: central_crop(im, 0.85),
        "crop_10%_offset": lambda im: crop_random(im, 0.10, rng),
        "border": lambda im: ImageOps.expand(im, border=max(4, im.width // 12), fill="black"),
        "mirror": ImageOps.mirror,
        "rotate_90": lambda im: im.transpose(Image.Transpose.ROTATE_90),
        "rotate_180": lambda im: im.transpose(Image.Transpose.ROTATE_180),
        "rotate_270": lambda im: im.transpose(Image.Transpose.ROTATE_270),
        "rotate_5deg": lambda im: im.rotate(5, resample=Image.Resampling.BILINEAR),
        "screenshot": screenshot,
        "mirror+jpeg_q50": lambda im: jpeg(ImageOps.mirror(im), 50),
    }


def originals(limit: int | None) -> list[tuple[str, Image.Image]]:
    photos = SHARED / "photos"
    if not photos.exists():
        sys.exit(f"{photos} not found: this benchmark needs the shared data set beside the clone")
    paths = sorted((photos / "train").glob("*.jpg")) + sorted((photos / "val").glob("*.jpg"))
    paths += [SHARED / "pdq-reference" / "images" / p for p in REFERENCE_ORIGINALS]
    paths = paths[:limit] if limit else paths
    return [(p.name, load_media(p).oriented()) for p in paths if p.exists()]


def min_dist(query: np.ndarray, bank: np.ndarray) -> np.ndarray:
    """(n_bank_images,) smallest distance between any query row and any hash of each image.
    query: (q, 4); bank: (n, v, 4)."""
    d = np.bitwise_count(bank[:, :, None, :] ^ query[None, None, :, :]).sum(axis=-1)
    return d.min(axis=(1, 2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--limit", type=int, default=None, help="use only the first N originals")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    names: list[str] = []
    images: list[Image.Image] = []
    bank_plain: list[np.ndarray] = []
    bank_crops: list[list[str]] = []
    dropped_quality = dropped_dup = 0
    for name, img in originals(args.limit):
        hashes, quality = pdq_dihedral(img)
        if quality < MIN_QUALITY:
            dropped_quality += 1
            continue
        w = hexes_to_words([hashes[0]])
        if bank_plain and min_dist(w, np.stack(bank_plain)).min() <= THRESHOLD:
            dropped_dup += 1  # the same picture twice in the sources
            continue
        names.append(name)
        images.append(img)
        bank_plain.append(w)
        bank_crops.append([hashes[0], *crop_variants(img)])
    width = max(len(v) for v in bank_crops)  # pad with repeats: same minimum distance
    crops = np.stack([hexes_to_words(v + [v[0]] * (width - len(v))) for v in bank_crops])
    plain = np.stack(bank_plain)
    n = len(names)
    print(
        f"originals: {n} banked ({dropped_quality} dropped for quality < {MIN_QUALITY}, "
        f"{dropped_dup} near-duplicates of another source image)"
    )
    modes = ("plain", "dihedral", "default", "crop-res")
    found: dict[str, dict[str, list[bool]]] = {m: {} for m in modes}
    false = dict.fromkeys(modes, 0)
    closest_unrelated = dict.fromkeys(modes, 256)
    hash_time = dict.fromkeys(modes, 0.0)
    tf = transforms(rng)
    for i, img in enumerate(images):
        for tname, fn in tf.items():
            copy = fn(img)
            t = time.perf_counter()
            dih, _ = pdq_dihedral(copy)
            t_dih = time.perf_counter() - t
            t = time.perf_counter()
            extra = [pdq_hash(inner)[0] for inner in trimmed(copy)]
            t_trim = time.perf_counter() - t
            hash_time["plain"] += t_dih / 8  # one of the 8 transforms of the same pass
            hash_time["dihedral"] += t_dih
            hash_time["default"] += t_dih + t_trim
            hash_time["crop-res"] += t_dih + t_trim
            queries = {
                "plain": (hexes_to_words(dih[:1]), plain),
                "dihedral": (hexes_to_words(dih), plain),
                "default": (hexes_to_words(dih + extra), plain),
                "crop-res": (hexes_to_words(dih + extra), crops),
            }
            for mode, (q, bank) in queries.items():
                d = min_dist(q, bank)
                found[mode].setdefault(tname, []).append(bool(d[i] <= THRESHOLD))
                others = np.delete(d, i)
                false[mode] += int((others <= THRESHOLD).sum())
                closest_unrelated[mode] = min(closest_unrelated[mode], int(others.min()))
        if (i + 1) % 50 == 0:
            print(f"  {i + 1}/{n} originals ({time.perf_counter() - t0:.0f}s)", file=sys.stderr)
    print(f"\nrecall at threshold {THRESHOLD} ({n} originals x {len(tf)} edits)\n")
    print(f"{'edit':<18}" + "".join(f"{m:>10}" for m in modes))
    for tname in tf:
        print(f"{tname:<18}" + "".join(f"{np.mean(found[m][tname]):>10.1%}" for m in modes))
    pairs = n * (n - 1) * len(tf)
    print(
        f"\n{'false matches':<18}"
        + "".join(f"{false[m]:>10}" for m in modes)
        + f"   (over {pairs:,} unrelated copy/original pairs)"
    )
    print(
        f"{'closest unrelated':<18}"
        + "".join(f"{closest_unrelated[m]:>10}" for m in modes)
        + "   (bits; the margin above the threshold)"
    )
    copies = n * len(tf)
    print(
        f"{'hash ms / copy':<18}" + "".join(f"{hash_time[m] / copies * 1000:>10.1f}" for m in modes)
    )
    rows = sum(len(v) for v in bank_crops) / n
    print(f"{'index rows/image':<18}{1:>10}{1:>10}{1:>10}{rows:>10.1f}")
    print(f"{'hashes/query':<18}{1:>10}{8:>10}{'8-16':>10}{'8-16':>10}")
    print(
        f"\ntotal {time.perf_counter() - t0:.0f}s on a shared machine; rerun: "
        f".venv/bin/python benchmarks/copy_detection.py --seed {args.seed}"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_env beside this file
    from bench_env import run

    run(main, "copy_detection")
