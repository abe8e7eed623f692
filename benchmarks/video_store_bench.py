"""Video banks in the store at scale: N clips of 15 distinct frame hashes written to a SQLite
file, then a fresh process's index built from the table, one query, and peak RSS.

    .venv/bin/python benchmarks/video_store_bench.py              # 100,000 clips
    .venv/bin/python benchmarks/video_store_bench.py --clips 20000

Random hashes stand for frame hashes (benign; no video is decoded). The query is one banked
clip with 8 bits of noise on each frame hash, which must be found. CPU seconds of this process,
pinned to one core.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", type=int, default=100_000)
    ap.add_argument("--cpu", type=int, default=0, help="core to pin to")
    args = ap.parse_args()
    os.sched_setaffinity(0, {args.cpu})
    import numpy as np

    from gardefou.banks.index import words_to_hexes
    from gardefou.banks.video_store import VideoBankStore
    from gardefou.signals.vpdq import VpdqFeature
    from gardefou.store import connect

    words = np.random.default_rng(8).integers(0, 2**63, (args.clips * 15, 4), dtype=np.uint64)
    hexes = words_to_hexes(words)

    def clip(i: int) -> list[VpdqFeature]:
        return [VpdqFeature(h, 100, float(k), k) for k, h in enumerate(hexes[i * 15 : i * 15 + 15])]

    with tempfile.TemporaryDirectory() as tmp:
        url = str(Path(tmp) / "bench.db")
        writer = VideoBankStore(connect(url))
        writer.ensure_bank("big")
        t = time.process_time()
        for start in range(0, args.clips, 5_000):
            rows = [{"features": clip(i)} for i in range(start, min(args.clips, start + 5_000))]
            writer.add_many("big", rows)
        write = time.process_time() - t
        writer.db.close()
        hexes.clear()  # the reader below knows only the table
        reader = VideoBankStore(connect(url))
        t = time.process_time()
        reader.index().build()
        build = time.process_time() - t
        target = VideoBankStore(connect(url)).entries("big")[args.clips // 2]
        rng = random.Random(9)

        def noisy(h: str) -> str:
            v = int(h, 16)
            for b in rng.sample(range(256), 8):
                v ^= 1 << b
            return f"{v:064x}"

        query = [VpdqFeature(noisy(f.pdq_hex), 100, f.timestamp) for f in target.features]
        reader.match([VpdqFeature("0" * 64, 100, 0.0)])  # compiles the search kernel
        t = time.process_time()
        found = reader.match(query)
        q = time.process_time() - t
        size = Path(url).stat().st_size
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ok = [m.entry_id for m in found] == [target.id]
    print(f"clips {args.clips:,} ({args.clips * 15:,} index rows), SQLite file {size / 1e6:.0f} MB")
    print(f"write (add_many, 5,000 a transaction): {write:.1f} CPU s")
    print(f"index built from the table:           {build:.1f} CPU s")
    print(f"one query (15 frames, 8 bits noise):  {q * 1000:.1f} CPU ms, found: {ok}")
    print(f"peak RSS: {rss:.0f} MB; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
