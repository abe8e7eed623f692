"""Where the flood_faces path's CPU goes, function by function (cProfile on CPU time).

Runs the same events as ``pipeline_bench.py --cheap-first --photo-side 1024 --mixes
flood_faces`` (the photos in which the faces signal finds a face, resized to a 1024-px long side,
every nudity result forced to a recorded "suggestive"), on one pinned core with one thread per
runtime, under ``cProfile`` with ``time.thread_time`` as its clock, and prints the functions by
own time and by cumulative time. Profiling adds ~10% to pure-Python code, so the totals sit
above ``pipeline_bench.py``'s; the ranking is what this is for.

    .venv/bin/python benchmarks/flood_profile.py [--events 150] [--top 45]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "GARDEFOU_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import cProfile  # noqa: E402
import pstats  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_env  # noqa: E402
import pipeline_bench as pb  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--events", type=int, default=150)
    ap.add_argument("--top", type=int, default=45)
    ap.add_argument("--side", type=int, default=1024, help="long side of the photos [1024]")
    ap.add_argument("--dump", help="also write the raw profile here (pstats; for callers/callees)")
    args = ap.parse_args()
    from gardefou.banks.service import BankService
    from gardefou.decide import PlatformDecider, Services

    work = Path(tempfile.mkdtemp(prefix="gf-flood-profile-"))
    photos = pb.resized(work, pb.face_photos([]), args.side)
    print(f"{len(photos)} photos with a face, {args.side} px")
    url = str(work / "profile.db")
    pb.seed_bank(url)
    db = pb.connect(url)
    signals = pb.BenchSignals(1.0)
    proc = pb.Processor(
        db, PlatformDecider(lambda d: Services(d, banks=BankService(d), extract=signals, lazy=True))
    )
    warm = pb.write_stream(work / "warm.jsonl", 24, "w", photos[::-1])
    pb.run_inline(pb.iter_jsonl([warm]), proc)  # loads every lazily loaded model
    signals.cpu_ms.clear()
    src = pb.write_stream(work / "events.jsonl", args.events, "c", photos)
    prof = cProfile.Profile(time.thread_time)
    cpu = time.thread_time()
    prof.enable()
    pb.run_inline(pb.iter_jsonl([src]), proc)
    prof.disable()
    n_img = sum(1 for i in range(args.events) if i % 10 != 9)
    per_event = (time.thread_time() - cpu) * 1000 / args.events
    print(f"CPU ms per event under the profiler: {per_event:.1f}")
    print(
        "CPU ms per image event by signal:",
        {k: round(v / n_img, 2) for k, v in signals.cpu_ms.items()},
    )
    actions = dict(
        (r["action"], int(r["n"]))
        for r in db.query(
            "SELECT action, COUNT(*) AS n FROM decisions WHERE event_id LIKE 'c-%' GROUP BY action"
        )
    )
    print("actions", actions)
    if args.dump:
        prof.dump_stats(args.dump)
    stats = pstats.Stats(prof)
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    bench_env.run(main, "flood_profile", pin=True)
