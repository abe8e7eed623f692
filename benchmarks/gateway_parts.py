"""Where a text-only request's CPU goes in the gateway, component by component, no profiler.

    .venv/bin/python benchmarks/gateway_parts.py [--n 200] [--cpu 1]

The gateway's service with its real HTTP upstream client against the fake upstream (a 1024x768
JPEG, served from another thread of this process), faked signals, unique prompts. Each stage is
wrapped and timed in CPU time of the calling thread (``time.thread_time``), so the upstream's
own work and the client's waiting are not counted: what is left is what one gateway worker
thread spends per request. The event loop's part (HTTP parsing, ASGI, sending the answer) is not
here: it is the HTTP gateway's CPU per request (``gateway_bench.py``) minus this total.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import collections
import functools
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(os.environ.get("GARDEFOU_BENCH_SRC", REPO / "src"))))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--cpu", type=int, default=1, help="CPU to pin to (-1: any)")
    args = ap.parse_args()
    if args.cpu >= 0:
        os.sched_setaffinity(0, {args.cpu})
    from gateway_bench import jpeg

    import gardefou.gateway.service as service_module
    from gardefou.gateway import GatewayConfig, build_service
    from gardefou.gateway.app import GenerationIn
    from gardefou.gateway.fakes import fake_upstream_app, serve
    from gardefou.gateway.labels import Labeller
    from gardefou.gateway.wire import images_response
    from gardefou.guard import Guard
    from gardefou.signals.c2pa_sign import generate_test_key
    from gardefou.store import connect
    from gardefou.testing import FakeSignal, age, faces, identity, nudity
    from gardefou.web.auth import KeyStore

    image = jpeg(REPO / "tests/fixtures/guard/object-houses.jpg")
    url, stop = serve(fake_upstream_app([image]))
    tmp = tempfile.mkdtemp()
    db = connect(Path(tmp) / "parts.db")
    _, key = KeyStore(db).create("bench", "platform")
    signals = {"faces": faces(1), "age": age(), "nudity": nudity("none"), "identity": identity()}
    svc = build_service(
        GatewayConfig(
            upstream=url + "/v1",
            labels="c2pa",
            retries=0,
            rate_user="1000000/minute",
            rate_global="1000000/minute",
        ),
        db=db,
        guard=Guard(signals={k: FakeSignal(v) for k, v in signals.items()}),
        labeller=Labeller(generate_test_key(), "fake upstream"),
    )
    keys = KeyStore(db)
    spent: collections.Counter[str] = collections.Counter()

    def timed(owner: Any, name: str, label: str) -> None:
        fn = getattr(owner, name)

        @functools.wraps(fn)
        def wrapper(*a: Any, **k: Any) -> Any:
            t = time.thread_time()
            try:
                return fn(*a, **k)
            finally:
                spent[label] += time.thread_time() - t

        setattr(owner, name, wrapper)

    timed(keys, "verify", "API key lookup")
    timed(svc, "admit", "admission (sanctions, rate limits)")
    timed(service_module, "read_inputs", "input images")
    timed(svc.guard, "check_request", "request check (Guard.check_request)")
    timed(svc.upstream, "generate", "upstream client (httpx, JSON, base64 decode)")
    timed(svc.guard, "load_images", "output decode (Guard.load_images)")
    timed(svc.guard, "check_output", "output check (faked signals)")
    timed(svc.labeller, "label", "C2PA signature")
    timed(service_module, "_b64", "base64 encode of the answer")
    timed(svc, "_audit", "audit rows")

    def one(i: int) -> None:
        t = time.thread_time()
        keys.verify(key)
        raw = json.dumps({"prompt": f"a quiet street with houses at dusk, view {i}", "n": 1})
        body = GenerationIn.model_validate(json.loads(raw))
        out = svc.handle("generations", body.prompt, {"n": 1}, "bench", "k")
        t2 = time.thread_time()
        images_response(out)
        spent["the answer's JSON"] += time.thread_time() - t2
        spent["TOTAL"] += time.thread_time() - t

    for i in range(30):
        one(-i)
    spent.clear()
    for i in range(args.n):
        one(i)
    stop()
    total = spent.pop("TOTAL")
    rows = {k: round(v / args.n * 1000, 2) for k, v in spent.most_common()}
    rows["the rest (request parsing, handle's own code, metrics)"] = round(
        (total - sum(spent.values())) / args.n * 1000, 2
    )
    print(
        json.dumps(
            {
                "n": args.n,
                "cpu": args.cpu,
                "load_avg": os.getloadavg(),
                "total_ms": round(total / args.n * 1000, 2),
                "ms_per_request": rows,
                "share": {k: f"{100 * v / (total / args.n * 1000):.1f}%" for k, v in rows.items()},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
