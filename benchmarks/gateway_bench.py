"""Latency and throughput the gateway adds over calling the (fake) upstream directly.

    .venv/bin/python benchmarks/gateway_bench.py [--n 200] [--gateway-cpu 1] [--client-cpu 0]
        [--signals fake|real] [--seconds 10] [--clients 4] [--sign-algs] [--answer-json]
        [--loop asyncio|uvloop] [--http h11|httptools] [--server-matrix [--rounds R]]

Two processes, one run: the gateway (uvicorn, one worker) alone, pinned to ``--gateway-cpu``;
the fake upstream (gardefou.gateway.fakes, answering a 1024x768 JPEG) and the httpx clients in
this process, pinned to ``--client-cpu``. Calls alternate, direct to the upstream then the same
request through the gateway, so both see the same machine load. Reported:

* client-side p50/p99 of direct, via-gateway, and their difference (the added latency), and the
  ratio gateway/direct at p50, for text-only generations and edits with one 1024x768 image;
* the gateway's own CPU per request (its process's user+system time from /proc, all threads,
  over the requests it served): on a shared, loaded machine the steadier figure;
* the gateway's server-side added latency (request time minus its upstream wait, from its
  ``/metrics``), which leaves out the HTTP hop from the client;
* text-only throughput: ``--clients`` concurrent clients for ``--seconds``; requests/s observed,
  the gateway process's CPU use over that time, and requests per CPU-second of the gateway (what
  one fully available core would serve).

Prompts differ per request (nothing can be served from a cache). ``--signals fake``: the output
check reads faked signals (no model runs): the gateway's own cost. ``--signals real``: the
shipped detectors run on every output image. ``--signals stub``: the service answers a prepared
one-image body without checking or calling anything: the HTTP layer's own cost (use with
``--server-matrix``). ``--sign-algs``: CPU per C2PA signature of the
1024x768 JPEG with Ed25519, ES256 and PS256 test keys, in this process. ``--answer-json``: CPU
to render a one-image answer with ``JSONResponse`` and with the gateway's ``images_response``.
``--loop``/``--http``: uvicorn's event loop and HTTP parser for the gateway (default: the
gateway's own choice, ``gardefou.asgi.uvicorn_options``). ``--server-matrix``: text-only added
latency, CPU per request and throughput for asyncio/uvloop x h11/httptools, one gateway each,
``--rounds`` times in turn. ``--in-process N``: only the gateway's CPU per text request in this
one pinned process, no HTTP (``GatewayService.handle`` with an in-process upstream, then the
answer's JSON), N requests; with ``GARDEFOU_BENCH_SRC=/path/to/other/checkout/src`` the same
loop runs that checkout's code (alternate the two to compare on a loaded machine). Where the
gateway's CPU goes: run with ``--seconds 60`` and, meanwhile,
``py-spy record -p <gateway pid> -r 200 -f raw -o gw.txt`` (the pid is printed first).
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
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
# the code under test: this checkout's, or another's (--src, e.g. a checkout of main, to compare)
SRC = Path(os.environ.get("GARDEFOU_BENCH_SRC", REPO / "src"))
sys.path.insert(0, str(SRC))
CLK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


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


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process, all its threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


# -- the gateway process ------------------------------------------------------------------------
def serve_gateway(
    upstream: str, signals: str, db_path: str, cpu: int, loop: str, http: str
) -> None:
    """Child process: build the gateway, print its port and key, serve until killed. ``loop``
    and ``http``: uvicorn's event loop and HTTP parser, or "default" for what the code under
    test chooses itself (``gardefou.asgi.uvicorn_options`` where it exists)."""
    if cpu >= 0:
        os.sched_setaffinity(0, {cpu})
    import uvicorn

    from gardefou.gateway import GatewayConfig, build_service, create_gateway_app
    from gardefou.gateway.fakes import free_port
    from gardefou.gateway.labels import Labeller
    from gardefou.guard import Guard
    from gardefou.signals.c2pa_sign import generate_test_key
    from gardefou.store import connect
    from gardefou.testing import FakeSignal, age, faces, identity, nudity
    from gardefou.web.auth import KeyStore

    db = connect(db_path)
    _, key = KeyStore(db).create("bench", "platform")
    if signals in ("fake", "stub"):
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
        upstream=upstream + "/v1",
        labels="c2pa",
        retries=0,
        rate_user="1000000/minute",
        rate_global="1000000/minute",
    )
    svc = build_service(
        cfg, db=db, guard=guard, labeller=Labeller(generate_test_key(), "fake upstream")
    )
    if signals == "stub":  # the HTTP layer alone: every request answers one prepared body
        import base64

        image = jpeg(REPO / "tests/fixtures/guard/object-houses.jpg")
        answer = {
            "created": 1,
            "data": [{"b64_json": base64.b64encode(image).decode()}],
            "gardefou": {"decision_id": "gw-1", "requested": 1, "returned": 1, "withheld": []},
        }
        svc.handle = lambda *a, **k: answer  # type: ignore[method-assign]
    server: dict[str, Any] = {}
    try:
        from gardefou.asgi import uvicorn_options

        server.update(uvicorn_options())
    except ImportError:  # code from before the choice: uvicorn's own defaults
        pass
    if loop != "default":
        server["loop"] = loop
    if http != "default":
        server["http"] = http
    port = free_port()
    print(json.dumps({"port": port, "key": key, "server": server}), flush=True)
    uvicorn.run(
        create_gateway_app(svc, KeyStore(db)),
        host="127.0.0.1",
        port=port,
        log_level="error",
        access_log=False,
        lifespan="off",
        **server,
    )


def start_gateway(
    upstream: str, signals: str, tmp: Path, cpu: int, loop: str = "default", http: str = "default"
) -> tuple[Any, str, str, dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "GARDEFOU_BENCH_SRC": str(SRC)}
    proc = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve-gateway",
            upstream,
            signals,
            str(tmp / f"gw-{loop}-{http}.db"),
            str(cpu),
            loop,
            http,
        ],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    url = f"http://127.0.0.1:{info['port']}"
    import httpx

    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(url + "/healthz", timeout=2)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("the gateway process did not start") from None
            time.sleep(0.1)
    return proc, url, info["key"], info["server"]


def server_added_s(client: Any, gw: str, kind: str) -> tuple[float, float]:
    """(sum, count) of the gateway's added-latency histogram for ``kind``."""
    text = client.get(gw + "/metrics").text
    out = [0.0, 0.0]
    for line in text.splitlines():
        if line.startswith("gardefou_gateway_added_latency_seconds_") and f'"{kind}"' in line:
            name, value = line.rsplit(" ", 1)
            if name.split("{")[0].endswith("_sum"):
                out[0] = float(value)
            elif name.split("{")[0].endswith("_count"):
                out[1] = float(value)
    return out[0], out[1]


# -- measurements --------------------------------------------------------------------------------
def call(client: Any, base: str, kind: str, i: int, key: str | None, image: bytes | None) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    url = f"{base}/v1/images/{kind}"
    if image is None:
        prompt = f"a quiet street with houses at dusk, view {i}"
        r = client.post(url, json={"prompt": prompt, "n": 1, "user": "bench"}, headers=headers)
    else:
        r = client.post(
            url,
            data={"prompt": f"add a red door, variant {i}", "n": "1", "user": "bench"},
            files={"image": ("in.jpg", image, "image/jpeg")},
            headers=headers,
        )
    if r.status_code != 200:
        raise SystemExit(f"{base} answered {r.status_code}: {r.text[:300]}")
    return r


def measure(
    client: Any, up: str, gw: str, key: str, pid: int, kind: str, n: int, image: bytes | None
) -> dict[str, Any]:
    for i in range(10):  # warm-up: connections, caches, models
        call(client, up, kind, -i, None, image)
        call(client, gw, kind, -i, key, image)
    direct, gateway = [], []
    s0, c0 = server_added_s(client, gw, kind)
    cpu0 = proc_cpu(pid)
    for i in range(n):
        t0 = time.perf_counter()
        call(client, up, kind, i, None, image)
        t1 = time.perf_counter()
        call(client, gw, kind, i, key, image)
        t2 = time.perf_counter()
        direct.append((t1 - t0) * 1000)
        gateway.append((t2 - t1) * 1000)
    cpu1 = proc_cpu(pid)
    s1, c1 = server_added_s(client, gw, kind)
    diff = [g - d for g, d in zip(gateway, direct, strict=True)]
    return {
        "n": n,
        "direct": summary(direct),
        "via_gateway": summary(gateway),
        "added_client_side": summary(diff),
        "ratio_p50": round(statistics.median(gateway) / statistics.median(direct), 2),
        "gateway_cpu_ms_per_request": round((cpu1 - cpu0) / n * 1000, 2),
        "added_server_side_mean_ms": round((s1 - s0) / max(1.0, c1 - c0) * 1000, 2),
    }


def throughput(gw: str, key: str, pid: int, seconds: float, clients: int) -> dict[str, Any]:
    import httpx

    done, errors = [0], [0]
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def worker(w: int) -> None:
        with httpx.Client(timeout=30) as c:
            call(c, gw, "generations", -1, key, None)  # the connection, before the clock
            start.wait()
            i = 0
            while time.perf_counter() < stop:
                r = c.post(
                    f"{gw}/v1/images/generations",
                    json={"prompt": f"houses, worker {w} take {i}", "user": f"t{w}"},
                    headers={"Authorization": f"Bearer {key}"},
                )
                i += 1
                with lock:
                    done[0] += r.status_code == 200
                    errors[0] += r.status_code != 200

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(clients)]
    stop = float("inf")
    for t in threads:
        t.start()
    stop = time.perf_counter() + seconds
    cpu0, t0 = proc_cpu(pid), time.perf_counter()
    start.wait()
    for t in threads:
        t.join()
    wall, cpu = time.perf_counter() - t0, proc_cpu(pid) - cpu0
    return {
        "clients": clients,
        "seconds": round(wall, 1),
        "ok": done[0],
        "errors": errors[0],
        "requests_per_s": round(done[0] / wall, 1),
        "gateway_cpu_utilisation": round(cpu / wall, 2),
        "requests_per_gateway_cpu_s": round(done[0] / cpu, 1) if cpu else None,
    }


def sign_algs(image: bytes, n: int = 100) -> dict[str, float]:
    """CPU ms per C2PA signature of ``image`` (the gateway's manifest), by key algorithm."""
    from gardefou.gateway.labels import Labeller
    from gardefou.signals.c2pa_sign import generate_test_key

    out = {}
    for alg in ("ed25519", "es256", "ps256"):
        labeller = Labeller(generate_test_key(alg=alg), "fake upstream")
        for _ in range(10):
            labeller.label(image, "generations")
        c0 = time.process_time()
        for _ in range(n):
            labeller.label(image, "generations")
        out[alg] = round((time.process_time() - c0) / n * 1000, 2)
    return out


def answer_json(image: bytes, n: int = 300) -> dict[str, float]:
    """CPU ms to render a one-image answer: JSONResponse vs the gateway's images_response."""
    import base64

    from fastapi.responses import JSONResponse

    from gardefou.gateway.wire import images_response

    body = {
        "created": 1,
        "data": [{"b64_json": base64.b64encode(image).decode()}],
        "gardefou": {"decision_id": "gw-1", "requested": 1, "returned": 1, "withheld": []},
    }
    out = {}
    for name, render in (("JSONResponse", JSONResponse), ("images_response", images_response)):
        for _ in range(20):
            render(body)
        c0 = time.process_time()
        for _ in range(n):
            render(body)
        out[name] = round((time.process_time() - c0) / n * 1000, 2)
    return out


def in_process(n: int, cpu: int) -> dict[str, Any]:
    """CPU ms per text request of the service alone (no HTTP), unique prompts, faked signals."""
    if cpu >= 0:
        os.sched_setaffinity(0, {cpu})
    import gardefou
    from gardefou.gateway import CallableUpstream, GatewayConfig, build_service
    from gardefou.gateway.labels import Labeller
    from gardefou.guard import Guard
    from gardefou.signals.c2pa_sign import generate_test_key
    from gardefou.store import connect
    from gardefou.testing import FakeSignal, age, faces, identity, nudity

    try:
        from gardefou.gateway.wire import images_response as render
    except ImportError:  # code from before images_response
        from fastapi.responses import JSONResponse as render
    image = jpeg(REPO / "tests/fixtures/guard/object-houses.jpg")
    signals = {"faces": faces(1), "age": age(), "nudity": nudity("none"), "identity": identity()}
    guard = Guard(signals={k: FakeSignal(v) for k, v in signals.items()})
    with tempfile.TemporaryDirectory() as tmp:
        svc = build_service(
            GatewayConfig(
                labels="c2pa", rate_user="10000000/minute", rate_global="10000000/minute"
            ),
            db=connect(Path(tmp) / "p.db"),
            guard=guard,
            upstream=CallableUpstream(lambda r: [image]),
            labeller=Labeller(generate_test_key(), "fake"),
        )

        def one(i: int) -> None:
            render(svc.handle("generations", f"a quiet street, view {i}", {"n": 1}, "u", "k"))

        for i in range(20):
            one(-i)
        c0 = time.process_time()
        for i in range(n):
            one(i)
        per = (time.process_time() - c0) / n * 1000
    return {"src": gardefou.__file__, "n": n, "cpu_ms_per_request": round(per, 2)}


def server_matrix(client: Any, up: str, args: Any, tmp: Path) -> list[dict[str, Any]]:
    """Text-only added latency and throughput for each event loop x HTTP parser, one gateway
    process each, in one run (the rounds alternate, so each pair sees the same load)."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for _ in range(args.rounds):
        for loop in ("asyncio", "uvloop"):
            for http in ("h11", "httptools"):
                proc, gw, key, _ = start_gateway(
                    up, args.signals, tmp, args.gateway_cpu, loop, http
                )
                try:
                    m = measure(client, up, gw, key, proc.pid, "generations", args.n, None)
                    t = throughput(gw, key, proc.pid, args.seconds, args.clients)
                finally:
                    proc.terminate()
                    proc.wait(10)
                row = rows.setdefault((loop, http), {"loop": loop, "http": http, "runs": []})
                row["runs"].append(
                    {
                        "added_p50_ms": m["added_client_side"]["p50_ms"],
                        "added_p99_ms": m["added_client_side"]["p99_ms"],
                        "gateway_cpu_ms_per_request": m["gateway_cpu_ms_per_request"],
                        "requests_per_gateway_cpu_s": t["requests_per_gateway_cpu_s"],
                        "requests_per_s": t["requests_per_s"],
                    }
                )
    return list(rows.values())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200, help="requests per measurement")
    ap.add_argument("--gateway-cpu", type=int, default=1, help="CPU of the gateway (-1: any)")
    ap.add_argument("--client-cpu", type=int, default=0, help="CPU of upstream + clients")
    ap.add_argument("--signals", choices=["fake", "real", "stub"], default="fake")
    ap.add_argument("--seconds", type=float, default=10.0, help="throughput run length")
    ap.add_argument("--clients", type=int, default=4, help="concurrent clients (throughput)")
    ap.add_argument("--sign-algs", action="store_true", help="also time C2PA signing by alg")
    ap.add_argument("--answer-json", action="store_true", help="also time the answer's JSON")
    ap.add_argument("--in-process", type=int, default=0, metavar="N", help="service only, no HTTP")
    ap.add_argument("--loop", default="default", choices=["default", "asyncio", "uvloop"])
    ap.add_argument("--http", default="default", choices=["default", "h11", "httptools"])
    ap.add_argument("--server-matrix", action="store_true", help="text only, each --loop x --http")
    ap.add_argument("--rounds", type=int, default=1, help="rounds of --server-matrix")
    args = ap.parse_args()
    if args.in_process:
        print(json.dumps(in_process(args.in_process, args.gateway_cpu)))
        return
    if args.client_cpu >= 0:
        os.sched_setaffinity(0, {args.client_cpu})
    import httpx

    from gardefou.gateway.fakes import fake_upstream_app, serve

    out = jpeg(REPO / "tests/fixtures/guard/object-houses.jpg")
    edit_in = jpeg(REPO / "tests/fixtures/guard/portrait-orl-s4-1.png")
    results: dict[str, Any] = {
        "gateway_cpu": args.gateway_cpu,
        "client_cpu": args.client_cpu,
        "signals": args.signals,
        "image": "1024x768 JPEG in and out",
        "load_avg_before": os.getloadavg(),
    }
    up, _ = serve(fake_upstream_app([out]))
    with tempfile.TemporaryDirectory() as tmp, httpx.Client(timeout=60) as client:
        if args.server_matrix:
            results["server_matrix"] = server_matrix(client, up, args, Path(tmp))
        else:
            proc, gw, key, server = start_gateway(
                up, args.signals, Path(tmp), args.gateway_cpu, args.loop, args.http
            )
            results["server"] = server or "uvicorn defaults"
            print(f"gateway pid {proc.pid}", flush=True)
            try:
                results["text"] = measure(
                    client, up, gw, key, proc.pid, "generations", args.n, None
                )
                results["edit"] = measure(
                    client, up, gw, key, proc.pid, "edits", max(20, args.n // 2), edit_in
                )
                results["throughput_text"] = throughput(
                    gw, key, proc.pid, args.seconds, args.clients
                )
            finally:
                proc.terminate()
                proc.wait(10)
    if args.sign_algs:
        results["c2pa_sign_cpu_ms"] = sign_algs(out)
    if args.answer_json:
        results["answer_json_cpu_ms"] = answer_json(out)
    results["load_avg_after"] = os.getloadavg()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-gateway":
        serve_gateway(*sys.argv[2:5], int(sys.argv[5]), *sys.argv[6:8])
        raise SystemExit(0)
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_env beside this file
    from bench_env import run

    run(main, "gateway_bench")
