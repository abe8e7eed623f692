"""The video bank entry API on a bank of 5,000 clips (20 frame hashes each), SQLite, in process
(FastAPI's TestClient): a page of 1,000 entries without and with their frame hash lists, a
page far into the bank, and a removal followed by the next match (the store's refresh finds
the removal and drops the entry from the index).

    .venv/bin/python benchmarks/video_bank_api.py [--entries 5000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from gardefou.signals.vpdq import VpdqFeature
from gardefou.web import Settings, create_app
from gardefou.web.video import video_store

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ADMIN = "bench-admin-key"


def clip(rng: random.Random, n: int = 20) -> list[VpdqFeature]:
    return [VpdqFeature(f"{rng.getrandbits(256):064x}", 100, float(i), i) for i in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=5000)
    args = ap.parse_args()
    app = create_app(Settings(db=str(Path(tempfile.mkdtemp()) / "b.db"), admin_key=ADMIN))
    c = TestClient(app)
    admin = {"X-API-Key": ADMIN}
    store = video_store(app.state.services)
    store.create_bank("b")
    rng = random.Random(0)
    store.add_many("b", [dict(features=clip(rng)) for _ in range(args.entries)])
    last = max(0, args.entries - 1000)
    for query in ("limit=1000", f"limit=1000&offset={last}", "limit=1000&frames=true"):
        times = []
        for _ in range(5):
            t = time.perf_counter()
            r = c.get(f"/v1/video-banks/b/entries?{query}", headers=admin)
            times.append(time.perf_counter() - t)
            assert r.status_code == 200, r.text
        ms = statistics.median(times) * 1000
        print(f"GET entries?{query}: median {ms:.0f} ms, {len(r.content) / 1e3:.0f} kB")
    ids = [e.id for e in store.entries("b")][:21]
    store.match(clip(rng))  # the index is built before the timed removals
    times = []
    for eid in ids:
        t = time.perf_counter()
        assert c.delete(f"/v1/video-banks/entries/{eid}", headers=admin).status_code == 200
        store.match(clip(rng))
        times.append(time.perf_counter() - t)
    print(f"DELETE + next match: median {statistics.median(times) * 1000:.0f} ms")
    app.state.services.db.close()


if __name__ == "__main__":
    main()
