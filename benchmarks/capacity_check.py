"""The three capacity acceptance measurements, three runs each, one at a time, in one table.

    .venv/bin/python benchmarks/capacity_check.py                 # ~1 h on a quiet 2-vCPU machine
    .venv/bin/python benchmarks/capacity_check.py --runs 1 --bank-n 1000000   # a quick look

1. flood_faces at 1024 px, cheap-first (``pipeline_bench.py --cheap-first --cheap-first-events
   150 --photo-side 1024 --mixes flood_faces``): CPU ms per image + its request post on one pinned
   core, one thread; headroom = images per second one core decides / 1.86 (the January 2026
   flood). Goal >= 10x.
2. The guard's image path, faces + age (``guard_latency.py``, the sexual prompt with no person
   word, so both image models run on a 1024x768 photo with a face): p99 per call, one pinned
   core, one onnxruntime thread. Goal <= 100 ms.
3. The bank index at 10M hashes (``bank_index.py --n 10000000 --methods gardefou``): p99 per
   query, recall against faiss or a numpy brute force. Goal <= 5 ms with 100% recall. The data
   and the index are built once (``--bank-work``) and reused by every run.

Each run is its own process, started after the previous one ended. The table gives every run
with the load average before and after it, and the figure to quote: the WORST of the runs (the
lowest headroom, the highest p99), never the best. Wall-clock p99 is what the goals are about;
CPU time is printed beside it because on a loaded machine wall time measures the other jobs.
Quote the figures with the CPU line printed at the top.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_env  # noqa: E402


def _run(cmd: list[str]) -> tuple[str, tuple[float, float]]:
    """Run one benchmark process; returns its stdout and the 1-min load before/after."""
    before = os.getloadavg()[0]
    env = dict(os.environ)
    src = str(HERE.parent / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    after = os.getloadavg()[0]
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc.stdout, (before, after)


def _last_json(stdout: str) -> dict:
    lines = [x for x in stdout.splitlines() if x.startswith("{")]
    if not lines:
        raise SystemExit(f"no JSON line in the benchmark output:\n{stdout[-2000:]}")
    return json.loads(lines[-1])


#: the actions of the 150 flood_faces events at 1024 px since the second release: a speed-up
#: that changes them is not decision-neutral, and the run says so instead of quoting a headroom
FLOOD_ACTIONS_150 = {"allow": 117, "remove_escalate": 33}


def flood(args: argparse.Namespace) -> dict:
    cmd = [sys.executable, str(HERE / "pipeline_bench.py"), "--cheap-first", "--json"]
    cmd += ["--cheap-first-events", str(args.flood_events), "--photo-side", "1024"]
    cmd += ["--mixes", "flood_faces"]
    stdout, load = _run(cmd)
    res = _last_json(stdout)["F_cheap_first"]
    r = res["flood_faces_cheap_first"]
    if args.flood_events == 150:
        for path in ("flood_faces_eager", "flood_faces_cheap_first"):
            if res[path]["actions"] != FLOOD_ACTIONS_150:
                sys.exit(
                    f"{path}: actions {res[path]['actions']}, expected {FLOOD_ACTIONS_150}: "
                    "the decisions on the flood set changed (find the change before quoting)"
                )
    return {
        "value": r["flood_headroom_cpu_x"],  # CPU time on one pinned core: already per-core
        "cpu": r["flood_headroom_cpu_x"],
        "detail": f"{r['cpu_ms_per_image_event']:.1f} ms/image + "
        f"{r['cpu_ms_per_request_event']:.1f} ms/request (CPU); actions {r['actions']}",
        "load": load,
    }


def guard(args: argparse.Namespace) -> dict:
    cmd = [sys.executable, str(HERE / "guard_latency.py"), "--n", "30"]
    cmd += ["--n-image", str(args.guard_calls)]
    stdout, load = _run(cmd)
    r = _last_json(stdout)["text_image_sexual_no_person_word"]
    return {
        "value": r["p99_ms"],
        "cpu": r["cpu_p99_ms"],
        "detail": f"wall p50 {r['p50_ms']:.1f} ms; CPU p50 {r['cpu_p50_ms']:.1f} / "
        f"p99 {r['cpu_p99_ms']:.1f} ms over {r['n']} calls",
        "load": load,
    }


def bank(args: argparse.Namespace) -> dict:
    out = Path(args.bank_work) / "capacity.json"
    cmd = [sys.executable, str(HERE / "bank_index.py"), "--n", str(args.bank_n)]
    cmd += ["--methods", args.bank_methods, "--work", args.bank_work, "--reuse"]
    cmd += ["--brute", str(args.bank_brute), "--json-out", str(out)]
    _, load = _run(cmd)
    res = json.loads(out.read_text())
    r = res["methods"]["gardefou"]
    return {
        "value": r["p99_ms"],
        "cpu": r["cpu_p99_ms"],
        "detail": f"wall p50 {r['median_ms']:.2f} ms; CPU p50 {r['cpu_median_ms']:.2f} / "
        f"p99 {r['cpu_p99_ms']:.2f} ms; recall {r['recall']:.2%} against "
        f"{'faiss flat' if 'faiss-flat' in res['methods'] else 'itself'}, and every hit of "
        f"{res['brute_checked']} queries equal to a numpy brute force (else the run aborts)",
        "recall": r["recall"],
        "load": load,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="flood,guard,bank", help="measurements to run [all three]")
    ap.add_argument("--flood-events", type=int, default=150)
    ap.add_argument("--guard-calls", type=int, default=100)
    ap.add_argument("--bank-n", type=int, default=10_000_000)
    ap.add_argument("--bank-brute", type=int, default=100, help="queries checked by brute force")
    ap.add_argument(
        "--bank-methods",
        default="gardefou",
        help="add faiss-flat for recall on all 1,000 queries and an in-run anchor (~1 min more)",
    )
    ap.add_argument("--bank-work", default="/tmp/gardefou-capacity-bank", help="kept between runs")
    args = ap.parse_args()
    header = bench_env.report("capacity_check")
    Path(args.bank_work).mkdir(parents=True, exist_ok=True)
    # name, unit, goal, worse-is: "low" = the lowest value is the worst run
    plan = {
        "flood": ("flood_faces 1024 px, cheap-first: headroom", "x", ">= 10", "low", flood),
        "guard": ("guard image path (faces + age): wall p99", "ms", "<= 100", "high", guard),
        "bank": (f"bank {args.bank_n:,}: wall p99 per query", "ms", "<= 5", "high", bank),
    }
    results: dict[str, list[dict]] = {}
    for key in [k for k in args.only.split(",") if k]:
        title, unit, goal, worse, fn = plan[key]
        results[key] = []
        for i in range(args.runs):
            t = time.perf_counter()
            r = fn(args)
            r["s"] = time.perf_counter() - t
            results[key].append(r)
            print(
                f"{title} run {i + 1}: {r['value']:.2f} {unit}  ({r['detail']}; load "
                f"{r['load'][0]:.2f} -> {r['load'][1]:.2f}; {r['s']:.0f} s)",
                flush=True,
            )
    print("\n" + header.splitlines()[0])
    print(
        f"{'measure':48} {'goal':>8} {'runs':>24} {'quote (worst)':>14} {'CPU (worst)':>12}"
        "  load before -> after"
    )
    ok = True
    for key, runs in results.items():
        title, unit, goal, worse, _ = plan[key]
        values = [r["value"] for r in runs]
        quote = min(values) if worse == "low" else max(values)
        cpus = [r["cpu"] for r in runs]
        cpu_quote = min(cpus) if worse == "low" else max(cpus)
        met = quote >= 10 if key == "flood" else quote <= (100 if key == "guard" else 5)
        if key == "bank":
            met = met and all(r["recall"] == 1.0 for r in runs)
        ok = ok and met
        loads = ", ".join(f"{r['load'][0]:.1f}->{r['load'][1]:.1f}" for r in runs)
        shown = " / ".join(f"{v:.1f}" if unit == "x" else f"{v:.2f}" for v in values)
        print(
            f"{title:48} {goal:>8} {shown:>24} {quote:>10.2f} {unit:<3} {cpu_quote:>8.2f} {unit:<3}"
            f"{'' if met else ' MISSED'}  {loads}"
        )
    print(bench_env.load_line("at the end"))
    print("every goal met" if ok else "some goal missed (see MISSED); quote the worst run")


if __name__ == "__main__":
    bench_env.setup(threads=1, pin=False)  # each benchmark pins itself (one core, one thread)
    main()
