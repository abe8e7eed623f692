"""Latency the gateway adds over calling the (fake) upstream directly, on one core.

    .venv/bin/python benchmarks/gateway_bench.py [--n 200] [--cpu 0] [--signals fake|real|both]

One process pinned to one CPU runs the fake upstream (gardefou.gateway.fakes, answering a
1024x768 JPEG), the gateway (uvicorn, in threads) and an httpx client. Calls alternate: direct to
the upstream, then the same request through the gateway, so both see the same machine load; the
difference is what the gateway adds (an extra HTTP hop, the request check, the output check, the
C2PA signature, two audit rows, rate limits, metrics). Reported: client-side p50/p99 of both and of
the difference, the ratio gateway/direct, the gateway's own server-side added latency (request
time minus upstream wait, from its metrics), CPU time per request (process CPU over wall, all
threads) and text-only throughput with 4 concurrent clients.

``--signals fake``: the output check reads faked signals (no model runs): the gateway's own cost.
``--signals real``: the shipped detectors (faces, nudity; identity/age when needed) run on every
output image: the full cost an operator pays. The machine is shared and loaded: tails are
pessimistic.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import io
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def summary(xs: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(xs), 2),
        "p99_ms": round(pct(xs, 99), 2),
        "mean_ms": round(statistics.fmean(xs), 2),
    }


def jpeg(path: Path, size: tuple[int, int] = (1024, 768)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.open(path).convert("RGB").resize(size).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def build(signals: str, tmp: Path, output: bytes) -> tuple[str, str, Any, Any]:
    from gardefou.gateway import GatewayConfig, build_service, create_gateway_app
    from gardefou.gateway.fakes import fake_upstream_app, serve
    from gardefou.gateway.labels import Labeller
    from gardefou.guard import Guard
    from gardefou.signals.c2pa_sign import generate_test_key
    from gardefou.store import connect
    from gardefou.testing import FakeSignal, age, faces, identity, nudity
    from gardefou.web.auth import KeyStore

    up_url, _ = serve(fake_upstream_app([output]))
    db = connect(tmp / f"bench-{signals}.db")
    _, key = KeyStore(db).create("bench", "platform")
    if signals == "fake":
        guard = Guard(
            signals={
                "faces": FakeSignal(faces(1)),
                "age": FakeSignal(age()),
                "nudity": FakeSignal(nudity("none")),
                "identity": FakeSignal(identity()),
            }
        )
    else:
        guard = Guard()
    cfg = GatewayConfig(
        upstream=up_url + "/v1",
        labels="c2pa",
        retries=0,
        rate_user="1000000/minute",
        rate_global="1000000/minute",
    )
    svc = build_service(
        cfg, db=db, guard=guard, labeller=Labeller(generate_test_key(), "fake upstream")
    )
    gw_url, _ = serve(create_gateway_app(svc, KeyStore(db)))
    return up_url, gw_url, key, svc


def measure(
    client: Any, up: str, gw: str, key: str, svc: Any, kind: str, n: int, image: bytes | None
) -> dict[str, Any]:
    hdr = {"Authorization": f"Bearer {key}"}
    prompt = "a quiet street with houses at dusk" if kind == "generations" else "add a red door"

    def call(base: str, headers: dict[str, str]) -> Any:
        url = f"{base}/v1/images/{kind}"
        if image is None:
            r = client.post(url, json={"prompt": prompt, "n": 1, "user": "bench"}, headers=headers)
        else:
            r = client.post(
                url,
                data={"prompt": prompt, "n": "1", "user": "bench"},
                files={"image": ("in.jpg", image, "image/jpeg")},
                headers=headers,
            )
        if r.status_code != 200:
            raise SystemExit(f"{base} answered {r.status_code}: {r.text[:300]}")
        return r

    added = svc.metrics.added_latency.labels(kind)
    for _ in range(10):  # warm-up: models, connections, caches
        call(up, {})
        call(gw, hdr)
    direct, gateway, server = [], [], []
    cpu_direct = cpu_gateway = 0.0
    for _ in range(n):
        c0, t0 = time.process_time(), time.perf_counter()
        call(up, {})
        t1, c1 = time.perf_counter(), time.process_time()
        before = added._sum.get()
        call(gw, hdr)
        t2, c2 = time.perf_counter(), time.process_time()
        server.append((added._sum.get() - before) * 1000)
        direct.append((t1 - t0) * 1000)
        gateway.append((t2 - t1) * 1000)
        cpu_direct += c1 - c0
        cpu_gateway += c2 - c1
    diff = [g - d for g, d in zip(gateway, direct, strict=True)]
    return {
        "n": n,
        "direct": summary(direct),
        "via_gateway": summary(gateway),
        "added_client_side": summary(diff),
        "added_server_side": summary(server),
        "ratio_p50": round(statistics.median(gateway) / statistics.median(direct), 2),
        "cpu_ms_per_request": {
            "direct": round(cpu_direct / n * 1000, 2),
            "via_gateway": round(cpu_gateway / n * 1000, 2),
            "added": round((cpu_gateway - cpu_direct) / n * 1000, 2),
        },
    }


def throughput(gw: str, key: str, seconds: float, clients: int = 4) -> dict[str, Any]:
    import httpx

    done, errors = [0], [0]
    stop = time.perf_counter() + seconds
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(timeout=30) as c:
            while time.perf_counter() < stop:
                r = c.post(
                    f"{gw}/v1/images/generations",
                    json={"prompt": "houses", "user": "t"},
                    headers={"Authorization": f"Bearer {key}"},
                )
                with lock:
                    done[0] += r.status_code == 200
                    errors[0] += r.status_code != 200

    c0, t0 = time.process_time(), time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {
        "clients": clients,
        "seconds": round(wall, 1),
        "ok": done[0],
        "errors": errors[0],
        "requests_per_s": round(done[0] / wall, 1),
        "cpu_utilisation": round((time.process_time() - c0) / wall, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200, help="requests per measurement")
    ap.add_argument("--cpu", type=int, default=0, help="CPU to pin to (-1: no pinning)")
    ap.add_argument("--signals", choices=["fake", "real", "both"], default="both")
    ap.add_argument("--seconds", type=float, default=10.0, help="throughput run length")
    args = ap.parse_args()
    if args.cpu >= 0:
        os.sched_setaffinity(0, {args.cpu})
    import httpx

    out = jpeg(REPO / "tests/fixtures/guard/object-houses.jpg")
    edit_in = jpeg(REPO / "tests/fixtures/guard/portrait-orl-s4-1.png")
    results: dict[str, Any] = {
        "cpu": args.cpu,
        "image": "1024x768 JPEG in and out",
        "load_avg": os.getloadavg(),
    }
    modes = ["fake", "real"] if args.signals == "both" else [args.signals]
    with tempfile.TemporaryDirectory() as tmp, httpx.Client(timeout=60) as client:
        for mode in modes:
            up, gw, key, svc = build(mode, Path(tmp), out)
            res = {
                "text": measure(client, up, gw, key, svc, "generations", args.n, None),
                "edit": measure(client, up, gw, key, svc, "edits", max(20, args.n // 2), edit_in),
            }
            if mode == "fake":
                res["throughput_text"] = throughput(gw, key, args.seconds)
            results[f"signals_{mode}"] = res
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_env beside this file
    from bench_env import run

    run(main, "gateway_bench")
