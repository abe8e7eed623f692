"""Exchange fetch-and-index rate and HMA-mode /m/lookup latency, on this machine.

1. Fetch --n hashes from the fake StopNCII server (same process, loopback HTTP, the documented
   pages of --page-size records) into a SQLite bank: records/s and peak RSS (the fake server's
   pages are generated on the fly, so they add little).
2. Build the bank index from the rows (what the first query after a sync does).
3. Serve the HMA-compatible API (uvicorn, one worker, in a thread) and time --lookups
   ``GET /m/lookup?signal_type=pdq&signal=...`` over HTTP keep-alive: half near-duplicates of
   banked hashes (8 bits flipped: a match), half random hashes (no match). p50 / p99 / mean.

    .venv/bin/python benchmarks/exchange_bench.py --n 100000          # ~1-2 minutes
    .venv/bin/python benchmarks/exchange_bench.py                     # 1M hashes

HMA publishes targets, not measurements (website/content/hma/goals.md, roadmap.md): a single
box fetches, stores and indexes 10M PDQ hashes in under 8 GB, and serves >1 qps of image
lookups; a multi-instance deployment aims at 4k lookups/s over 10M hashes.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from gardefou.banks import BankService
from gardefou.exchanges import ExchangeService
from gardefou.store import connect
from gardefou.testing.fake_stopncii import FakeStopNCII, fake_pdq


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def flip(hex_hash: str, bits: int, rng: random.Random) -> str:
    value = int(hex_hash, 16)
    for b in rng.sample(range(256), bits):
        value ^= 1 << b
    return f"{value:064x}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--page-size", type=int, default=1000)
    ap.add_argument("--lookups", type=int, default=2000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="gardefou-exbench-"))
    db_path = str(tmp / "bench.db")

    fake = FakeStopNCII(args.n)
    url = fake.start()
    os.environ["GARDEFOU_EXCHANGE_BENCH_CREDENTIALS"] = fake.credentials
    banks = BankService(connect(db_path), index_dir=tmp / "idx")
    ex = ExchangeService(banks)
    ex.add("bench", kind="stopncii", bank="victim-bench", url=url,
           config={"page_size": args.page_size})  # fmt: skip
    rss0 = peak_rss_mb()
    t0, c0 = time.perf_counter(), cpu_s()
    report = ex.fetch("bench")
    fetch_s, fetch_cpu = time.perf_counter() - t0, cpu_s() - c0
    fake.stop()
    assert report.complete and report.added == args.n, report
    print(f"fetch+store: {args.n:,} hashes in {fetch_s:.1f} s = {args.n / fetch_s:,.0f} hashes/s "
          f"({report.pages} pages of {args.page_size}); process CPU {fetch_cpu:.1f} s = "
          f"{args.n / fetch_cpu:,.0f} hashes per CPU-second (server thread included); "
          f"peak RSS {peak_rss_mb():,.0f} MB (before {rss0:,.0f} MB)")  # fmt: skip

    t0 = time.perf_counter()
    banks.index.refresh()
    index_s = time.perf_counter() - t0
    print(f"index build from rows: {index_s:.1f} s ({len(banks.index.index):,} hashes); "
          f"peak RSS {peak_rss_mb():,.0f} MB")  # fmt: skip
    banks.db.close()

    import httpx
    import uvicorn

    os.environ.update({"GARDEFOU_HMA_API": "1", "GARDEFOU_DB": db_path,
                       "GARDEFOU_BANK_INDEX_DIR": str(tmp / "idx"),
                       "GARDEFOU_ADMIN_KEY": "bench-admin"})  # fmt: skip
    from gardefou.web import create_app

    app = create_app()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    threading.Thread(target=server.run, daemon=True).start()
    rng = random.Random(16)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                      headers={"X-API-Key": "bench-admin"}) as client:  # fmt: skip
        for _ in range(600):
            if not server.started or client.get("/status").status_code != 200:
                time.sleep(0.1)
        queries = []
        for i in range(args.lookups):
            hit = i % 2 == 0
            h = (
                flip(fake_pdq(rng.randrange(args.n)), 8, rng)
                if hit
                else f"{rng.getrandbits(256):064x}"
            )
            queries.append((hit, h))
        for _, h in queries[:50]:  # warm-up
            client.get("/m/lookup", params={"signal_type": "pdq", "signal": h})
        times, found = [], 0
        for hit, h in queries:
            t = time.perf_counter()
            r = client.get("/m/lookup", params={"signal_type": "pdq", "signal": h})
            times.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, r.text
            found += bool(r.json()) == hit
    server.should_exit = True
    q = statistics.quantiles(times, n=100)
    print(f"/m/lookup over HTTP ({args.lookups} queries, {args.n:,} hashes): "
          f"p50 {q[49]:.2f} ms, p99 {q[98]:.2f} ms, mean {statistics.fmean(times):.2f} ms; "
          f"{found}/{args.lookups} answered as expected (hit or miss)")  # fmt: skip
    print(f"peak RSS overall {peak_rss_mb():,.0f} MB")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_env beside this file
    from bench_env import run

    run(main, "exchange_bench")
