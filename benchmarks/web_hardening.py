"""Measurements behind the web hardening (issue 13): the three numbers docs/web.md quotes.

1. limiter: the in-process rate limiter with N distinct callers (default 200,000): fill time,
   then p50/p99/max of one check (the previous limiter took ~21 ms a check past 100,000).
2. pins: a wrong PIN against an unknown case number, over HTTP (TestClient, SQLite): the
   medians must be alike (the previous code answered an unknown case ~10x faster).
3. revoke: `gardefou serve --workers 2` on loopback; a key used 12 times, revoked with
   DELETE /v1/keys/{id}, then used 12 more times: how many still got 200 (must be 0).

    .venv/bin/python benchmarks/web_hardening.py              # all three
    .venv/bin/python benchmarks/web_hardening.py limiter -n 50000

The machine is shared with other jobs: timings are indicative; the counts are not.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path


def limiter(n: int) -> None:
    from gardefou.web.limits import RateLimiter

    lim = RateLimiter()
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(n):
        lim.hit(f"ip:10.{i >> 16}.{(i >> 8) & 255}.{i & 255}", 60)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    lat = []
    for i in range(5000):
        t = time.perf_counter()
        lim.hit(f"ip:192.0.2.{i % 250}:{i}", 60)
        lat.append(time.perf_counter() - t)
    lat.sort()
    print(
        f"limiter: {n:,} callers filled in {wall:.1f} s wall ({cpu:.1f} s CPU); one check: "
        f"p50 {lat[2500] * 1e6:.1f} us, p99 {lat[4950] * 1e6:.1f} us, max {lat[-1] * 1e3:.1f} ms"
    )


def pins() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from gardefou.web import Settings, create_app

    app = create_app(Settings(db=str(Path(tempfile.mkdtemp()) / "p.db"), rates={"public": 10**6}))
    c = TestClient(app)
    body = {
        "signature": {"name": "A. Person"},
        "locations": ["https://social.example/p/1"],
        "good_faith_statement": "published without consent",
        "contact": {"email": "a@example.org"},
    }
    filed = [c.post("/v1/takedown", json=body).json() for _ in range(6)]

    def took(case: str, pin: str) -> float:
        t = time.perf_counter()
        r = c.post("/v1/takedown/status", json={"case_number": case, "pin": pin})
        assert r.status_code == 401, r.text
        return (time.perf_counter() - t) * 1000

    # 4 wrong PINs per case: under the lockout's 5 free ones
    wrong = [took(f["case_number"], str((int(f["pin"]) + 1) % 10**8).zfill(8)) for f in filed * 4]
    unknown = [took(f"TD-NONE{i:04d}", "12345678") for i in range(24)]
    print(
        f"pins: wrong PIN median {statistics.median(wrong):.1f} ms, unknown case median "
        f"{statistics.median(unknown):.1f} ms (24 each)"
    )
    app.state.services.db.close()


def revoke() -> None:
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "GARDEFOU_DB": str(Path(tempfile.mkdtemp()) / "s.db"),
        "GARDEFOU_ADMIN_KEY": "bench-admin-key",
    }
    cmd = "from gardefou.cli.main import main; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", cmd, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        time.sleep(2)  # both workers up
        admin = {"X-API-Key": "bench-admin-key"}
        key = httpx.post(
            base + "/v1/keys", json={"name": "p", "role": "platform"}, headers=admin
        ).json()
        h = {"X-API-Key": key["key"]}
        before = [httpx.get(base + "/v1/me", headers=h).status_code for _ in range(12)]
        httpx.delete(base + f"/v1/keys/{key['id']}", headers=admin)
        after = [httpx.get(base + "/v1/me", headers=h).status_code for _ in range(12)]
        print(
            f"revoke (2 workers): {before.count(200)}/12 OK before; "
            f"{after.count(200)}/12 still 200 after the DELETE"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", nargs="*", help="limiter, pins, revoke (default: all three)")
    ap.add_argument("-n", type=int, default=200_000, help="limiter: distinct callers")
    args = ap.parse_args()
    for what in args.what or ["limiter", "pins", "revoke"]:
        if what not in ("limiter", "pins", "revoke"):
            ap.error(f"unknown measurement {what!r}; choose limiter, pins or revoke")
        if what == "limiter":
            limiter(args.n)
        elif what == "pins":
            pins()
        else:
            revoke()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_env beside this file
    from bench_env import run

    run(main, "web_hardening")
