"""Bounded local load test of the web service: N scan requests from a second process, loopback.

Starts `gardefou serve`-equivalent uvicorn in a child process on 127.0.0.1 (a fresh SQLite
store in a temporary folder, a platform key), then sends N POST /v1/scan requests with a few
client threads from this process, and prints p50/p90/p99 latency, throughput and the error count.
Baseline measured in the same run: the same scans called in-process (no HTTP), to show what
the HTTP layer costs. The machine is shared with other busy jobs: numbers are indicative.

    .venv/bin/python benchmarks/load_test.py                # 2,000 requests, 4 client threads
    .venv/bin/python benchmarks/load_test.py -n 10000 -c 8  # bigger
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from importlib import resources
from pathlib import Path

ADMIN = "load-test-admin-key"


def _serve(db: str, port: int) -> None:
    import uvicorn

    from gardefou.web import Settings, create_app
    from gardefou.web.auth import Role

    rates = {str(role): 10**9 for role in Role}  # rate limits are not under test
    app = create_app(Settings(db=db, admin_key=ADMIN, rates=rates))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", access_log=False)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, round(q / 100 * (len(v) - 1)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("-n", "--requests", type=int, default=2000)
    ap.add_argument("-c", "--concurrency", type=int, default=4)
    ap.add_argument("--json", action="store_true", help="print one JSON line")
    args = ap.parse_args()

    import httpx

    samples = resources.files("gardefou.data") / "samples"
    images = [
        (samples / n).read_bytes()
        for n in ("q0122.jpg", "q0291.jpg", "q0746.jpg", "q1050.jpg", "square-256x256.jpg")
    ]
    folder = Path(tempfile.mkdtemp(prefix="gardefou-load-"))
    port = _port()
    ctx = mp.get_context("spawn")
    server = ctx.Process(target=_serve, args=(str(folder / "load.db"), port), daemon=True)
    server.start()
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as c:
            for _ in range(200):
                try:
                    if c.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            key = c.post(
                "/v1/keys", json={"name": "load", "role": "platform"}, headers={"X-API-Key": ADMIN}
            ).json()["key"]

        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        counter = iter(range(args.requests))

        def worker() -> None:
            with httpx.Client(base_url=base, timeout=60, headers={"X-API-Key": key}) as c:
                for i in counter:
                    img = images[i % len(images)]
                    t0 = time.perf_counter()
                    try:
                        r = c.post("/v1/scan", files={"file": (f"{i}.jpg", img, "image/jpeg")})
                        ok = r.status_code == 200
                        detail = f"HTTP {r.status_code}"
                    except httpx.HTTPError as exc:
                        ok, detail = False, repr(exc)
                    dt = (time.perf_counter() - t0) * 1000
                    with lock:
                        latencies.append(dt)
                        if not ok:
                            errors.append(detail)

        start = time.perf_counter()
        threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
    finally:
        server.terminate()
        server.join(10)

    # Baseline: the same work in-process (decode + pdq + crypto hashes + store), no HTTP.
    from gardefou.media import load_media
    from gardefou.scan import run_signals
    from gardefou.store import MediaRepository, connect

    repo = MediaRepository(connect(folder / "baseline.db"))
    base_ms = []
    for i in range(min(300, args.requests)):
        t0 = time.perf_counter()
        media = load_media(images[i % len(images)])
        repo.save_scan(media, run_signals(media, ["pdq", "pdq_dihedral", "crypto_hash"]))
        base_ms.append((time.perf_counter() - t0) * 1000)

    result = {
        "requests": args.requests,
        "concurrency": args.concurrency,
        "errors": len(errors),
        "wall_s": round(wall, 2),
        "req_per_s": round(args.requests / wall, 1),
        "p50_ms": round(pct(latencies, 50), 2),
        "p90_ms": round(pct(latencies, 90), 2),
        "p99_ms": round(pct(latencies, 99), 2),
        "max_ms": round(max(latencies), 2),
        "baseline_inprocess_p50_ms": round(statistics.median(base_ms), 2),
        "baseline_inprocess_per_s_one_thread": round(1000 / statistics.mean(base_ms), 1),
        "cpus": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"POST /v1/scan over loopback: {args.requests} requests, {args.concurrency} client "
            f"threads, 1 server process (uvicorn), {os.cpu_count()} CPUs shared with other jobs"
        )
        print(f"  errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
        print(
            f"  latency ms: p50 {result['p50_ms']}  p90 {result['p90_ms']}  "
            f"p99 {result['p99_ms']}  max {result['max_ms']}"
        )
        print(f"  throughput: {result['req_per_s']} req/s over {result['wall_s']} s")
        print(
            f"  baseline, same scan in-process without HTTP: p50 "
            f"{result['baseline_inprocess_p50_ms']} ms, "
            f"{result['baseline_inprocess_per_s_one_thread']} scans/s on one thread"
        )
        print("  rerun: .venv/bin/python benchmarks/load_test.py [-n N -c C]")
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_env beside this file
    from bench_env import run

    sys.exit(run(main, "load_test"))
