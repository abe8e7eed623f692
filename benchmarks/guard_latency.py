"""Latency of Guard.check_request on one core: text only, and text + one 1024x768 image.

    .venv/bin/python benchmarks/guard_latency.py [--n 300] [--cpu 0]

The process is pinned to one CPU and BLAS/OpenMP to one thread. Prompts are the dev and held-out
requests (benign and sexual mixed). "text + image": a 1024x768 JPEG photo with a real face (the
bundled ORL portrait pasted on a BSDS-sized benign background) is decoded from bytes on every
call (no cache reuse), for a benign prompt (image signals skipped), a sexual prompt pointing at
the person ("put him in a bikini": refused without the image signals, GuardConfig.image_signals
="needed"), a sexual prompt with no person word ("make it nsfw": faces + age run, the worst
case) and the same sexual prompt with image_signals="always". Baselines measured in the same
process: a keyword test, one sentence-encoder call, and the image decode alone. The machine is
shared with other busy workers, so the tails are pessimistic.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
# every onnxruntime session (faces, age) with intra_op_num_threads=1 (signals/_models.py): the
# runtime's default pool (one thread per core) on one pinned core only adds switching
os.environ.setdefault("GARDEFOU_THREADS", "1")

import argparse
import io
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: the shared data sets: $GARDEFOU_SHARED or ../shared beside the clone (as the tests)
SHARED_ROOT = Path(os.environ.get("GARDEFOU_SHARED", REPO.parent / "shared"))
sys.path.insert(0, str(REPO / "src"))


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def timeit(fn: Callable[[int], object], n: int) -> dict[str, float]:
    ts, cs = [], []  # wall and CPU (this process) per call: CPU is steadier on a loaded machine
    for i in range(n):
        t0, c0 = time.perf_counter(), time.process_time()
        fn(i)
        ts.append((time.perf_counter() - t0) * 1000)
        cs.append((time.process_time() - c0) * 1000)
    return {"p50_ms": round(statistics.median(ts), 2), "p99_ms": round(pct(ts, 99), 2),
            "mean_ms": round(statistics.fmean(ts), 2),
            "cpu_p50_ms": round(statistics.median(cs), 2), "cpu_p99_ms": round(pct(cs, 99), 2),
            "n": n}  # fmt: skip


def test_image() -> bytes:
    from PIL import Image, ImageFilter

    face = Image.open(REPO / "tests/fixtures/guard/portrait-orl-s4-1.png").convert("RGB")
    bg = Image.open(REPO / "tests/fixtures/guard/object-houses.jpg").convert("RGB")
    canvas = bg.resize((1024, 768)).filter(ImageFilter.GaussianBlur(2))
    canvas.paste(face.resize((276, 336)), (374, 200))
    buf = io.BytesIO()
    canvas.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=300, help="calls per measurement")
    ap.add_argument("--n-image", type=int, default=60, help="calls with the sexual prompt+image")
    ap.add_argument("--cpu", type=int, default=0, help="CPU to pin to")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})

    from gardefou.guard import Guard, GuardConfig
    from gardefou.guard.semantic import default_model
    from gardefou.media import load_media

    prompts = []
    for f in (SHARED_ROOT / "data/guard/dev.jsonl",
              REPO / "tests/fixtures/guard/heldout.jsonl",
              REPO / "tests/fixtures/guard/heldout2.jsonl"):  # fmt: skip
        if f.exists():
            prompts += [json.loads(x)["prompt"] for x in f.read_text().splitlines() if x]
    img = test_image()
    g = Guard()
    g_always = Guard(GuardConfig(image_signals="always"))
    t0 = time.perf_counter()
    g.check_request("warm up the encoder", images=[img])
    g.check_request("put him in a bikini", images=[img])  # loads the face and age models
    # and every path timed below once: a first call that loads or compiles something (2.6 s CPU
    # seen on the no-person-word path) must not become the p99 of a short run
    g.check_request("make it nsfw", images=[img])
    g_always.check_request("put him in a bikini", images=[img])
    warm = (time.perf_counter() - t0) * 1000
    enc = default_model()
    out = {
        "cold_start_ms": round(warm, 1),
        "text_only": timeit(lambda i: g.check_request(prompts[i % len(prompts)]), args.n),
        "text_only_with_semantic": timeit(
            lambda i: g.check_request(prompts[i % len(prompts)], context=["a previous request"]),
            args.n,
        ),
        "text_image_benign": timeit(
            lambda i: g.check_request("put a party hat on him", images=[img]), args.n
        ),
        "text_image_sexual": timeit(
            lambda i: g.check_request("put him in a bikini", images=[img]), args.n
        ),
        "text_image_sexual_no_person_word": timeit(
            lambda i: g.check_request("make it nsfw", images=[img]), args.n_image
        ),
        "text_image_sexual_always_signals": timeit(
            lambda i: g_always.check_request("put him in a bikini", images=[img]), args.n_image
        ),
        "baseline_keyword": timeit(lambda i: "bikini" in prompts[i % len(prompts)].lower(), args.n),
        "baseline_encoder_call": timeit(lambda i: enc.score(prompts[i % len(prompts)]), args.n),
        "baseline_decode_1024x768": timeit(lambda i: load_media(img), args.n),
    }
    for k, v in out.items():
        print(f"{k:28} {v}")
    print("one core (pinned); shared machine with other busy workers: tails are pessimistic")
    print("rerun: .venv/bin/python benchmarks/guard_latency.py " + " ".join(sys.argv[1:]))
    print(json.dumps(out))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_env beside this file
    from bench_env import run

    run(main, "guard_latency")
