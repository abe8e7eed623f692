"""The decision-neutral cuts on the flood_faces path, each against the path it replaced, in one
process on one pinned core (CPU time): pieces too small for ``pipeline_bench.py`` to resolve on a
shared machine (docs/operations.md, "Capacity").

* review thumbnails: OpenCV's resizes against Pillow's (the path without the models extra,
  forced here by hiding ``cv2``), on BSDS500 photos resized to a 1024-px long side;
* the cheap-first pass's conditions: ``_Evaluator.truth`` against ``cond`` (with the trace
  text), over the default policy's rules, for the facts of a flood image before faces and age.

    .venv/bin/python benchmarks/flood_cuts.py [--photos 30] [--rounds 3]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_env  # noqa: E402


def _per_item(fn: Any, items: list[Any]) -> float:
    t0 = time.process_time()
    for it in items:
        fn(it)
    return (time.process_time() - t0) / len(items) * 1e3


def thumbnails(n: int, rounds: int) -> None:
    from PIL import Image

    from gardefou.media import load_media
    from gardefou.media.thumbnail import review_thumbnails

    photos = sorted((bench_env.shared_dir() / "data").glob("**/*.jpg"))[:n]
    medias = []
    for p in photos:
        im = Image.open(p).convert("RGB")
        f = 1024 / max(im.size)
        buf = io.BytesIO()
        im.resize((round(im.width * f), round(im.height * f))).save(buf, "JPEG", quality=90)
        m = load_media(buf.getvalue())
        m.rgb_array()  # the signals have made it by the time a case keeps the image
        medias.append(m)

    import cv2

    def pillow(m: Any) -> Any:
        sys.modules["cv2"] = None  # type: ignore[assignment]  # `import cv2` -> ImportError
        try:
            return review_thumbnails(m)
        finally:
            sys.modules["cv2"] = cv2

    out: dict[str, list[float]] = {"pillow": [], "opencv": []}
    for r in range(rounds):
        order = [("pillow", pillow), ("opencv", review_thumbnails)]
        for name, fn in order if r % 2 == 0 else order[::-1]:
            out[name].append(_per_item(fn, medias))
    print(f"review thumbnails, {len(medias)} photos at 1024 px, CPU ms per photo per round:")
    for name, v in out.items():
        print(f"  {name:8s} {' '.join(f'{x:.2f}' for x in v)}")


def needs_pass(calls: int, rounds: int) -> None:
    from gardefou import testing as T
    from gardefou.decide import IDENTITY_FACTS
    from gardefou.policy import UNKNOWN, load_default_policy
    from gardefou.policy.engine import _Evaluator

    policy = load_default_policy()
    signals = {"nudity": T.nudity("suggestive", 0.8), "provenance": T.provenance(None)}
    ctx = {"event.kind": "post", "bank.match": False, **{f: UNKNOWN for f in IDENTITY_FACTS}}

    def traced(_: Any) -> Any:
        ev = _Evaluator(policy, signals, ctx)
        return [ev.cond(r.when)[0] for r in policy.rules]

    def plain(_: Any) -> Any:
        ev = _Evaluator(policy, signals, ctx)
        return [ev.truth(r.when) for r in policy.rules]

    assert traced(None) == plain(None)
    items = list(range(calls))
    out: dict[str, list[float]] = {"cond": [], "truth": []}
    for r in range(rounds):
        order = [("cond", traced), ("truth", plain)]
        for name, fn in order if r % 2 == 0 else order[::-1]:
            out[name].append(_per_item(fn, items))
    print(f"every rule of the default policy, {calls} evaluations, CPU ms each per round:")
    for name, v in out.items():
        print(f"  {name:8s} {' '.join(f'{x:.3f}' for x in v)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--photos", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--calls", type=int, default=2000)
    args = ap.parse_args()
    thumbnails(args.photos, args.rounds)
    needs_pass(args.calls, args.rounds)


if __name__ == "__main__":
    bench_env.run(main, "flood_cuts", pin=True)
