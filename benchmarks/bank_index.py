"""Exact PDQ radius search at scale: gardefou's HashIndex against faiss-cpu, side by side.

Data: N 256-bit hashes, 70% uniformly random and 30% in clusters of 2-20 near-duplicates
0-40 bits from their centre (re-encodes, crops and edits of one image). Queries: half are
stored hashes moved 0-40 bits (many match, some just past the threshold), half random (the
usual upload, matching nothing). Threshold 31 (PDQ's customary match distance).

Each method runs in its own process (one thread: OMP/BLAS pinned to 1), so resident memory is
its own: RSS after build (or load) and all queries, minus RSS before. Recall is against faiss
IndexBinaryFlat (exact), itself checked against a numpy brute force on the first queries.
gardefou's index is built, written to disk and then timed from a fresh process that memory-maps
it (the restart path). Also measured: add 10,000 hashes incrementally, then query.

    .venv/bin/python benchmarks/bank_index.py                      # 1M hashes, a few minutes
    .venv/bin/python benchmarks/bank_index.py --n 10000000         # the 10M acceptance run
    .venv/bin/python benchmarks/bank_index.py --methods gardefou   # just ours
    .venv/bin/python benchmarks/bank_index.py --n 10000000 --methods gardefou,gardefou-numpy \
        --work /tmp/bank10m --reuse      # compiled plan vs numpy plan, data and index kept

The machine running it may be shared: latencies are wall-clock per query, one query at a time,
and CPU time per query (``cpu``), which preemption by other jobs distorts less. Each worker is
pinned to one CPU with one thread (``bench_env``). ``gardefou-numpy`` is the same index with the
numpy query plan (no numba): the in-run anchor for the compiled plan. The memory-mapped index is
paged in (``HashIndex.warm``, timed apart) before the queries.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

THRESHOLD = 31


def rss_mb() -> dict[str, float]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


def flip_bits(words: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Copy of ``words`` with ``counts[i]`` random distinct bits flipped in row i."""
    out = words.copy()
    n = len(words)
    kmax = int(counts.max()) if n else 0
    if kmax == 0:
        return out
    # distinct bit positions per row: the first k of a random permutation key
    keys = rng.random((n, 256)).argsort(axis=1)[:, :kmax]
    for j in range(kmax):
        rows = np.nonzero(counts > j)[0]
        bit = keys[rows, j]
        out[rows, bit // 64] ^= np.uint64(1) << (np.uint64(63) - (bit % 64).astype(np.uint64))
    return out


def make_data(n: int, nq: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)
    n_clustered = int(n * 0.3)
    sizes = rng.integers(2, 21, size=n_clustered // 2)
    sizes = sizes[np.cumsum(sizes) <= n_clustered]
    centres = np.repeat(np.arange(len(sizes)), sizes)  # cluster member -> centre row
    start = n - len(centres)
    step = 200_000
    for a in range(0, len(centres), step):  # bounded temporaries at 10M
        c = centres[a : a + step]
        data[start + a : start + a + len(c)] = flip_bits(
            data[c], rng.integers(0, 41, size=len(c)), rng
        )
    half = nq // 2
    near = flip_bits(data[rng.integers(0, n, size=half)], rng.integers(0, 41, size=half), rng)
    far = rng.integers(0, 2**64, size=(nq - half, 4), dtype=np.uint64)
    queries = np.concatenate([near, far])
    return data, queries[rng.permutation(nq)]


def as_bytes(words: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(words.astype(">u8")).view(np.uint8).reshape(len(words), 32)


# -- one method per process ----------------------------------------------------------------------
def run_method(method: str, work: Path, out_path: Path) -> None:
    before = rss_mb()
    data = np.load(work / "data.npy", mmap_mode="r")
    queries = np.load(work / "queries.npy")
    result: dict = {"method": method}
    hits: list[list[int]] = []
    lat: list[float] = []
    cpu: list[float] = []  # CPU time: less distorted than wall-clock on a loaded machine
    if method == "gardefou-build":
        from gardefou.banks.index import HashIndex

        t = time.perf_counter()
        index = HashIndex.build(np.arange(len(data)), np.asarray(data))
        result["build_s"] = time.perf_counter() - t
        t = time.perf_counter()
        index.save(work / "gf-index")
        result["save_s"] = time.perf_counter() - t
        result["rss_after_build"] = rss_mb()
        Path(out_path).write_text(json.dumps(result))
        return
    if method in ("gardefou", "gardefou-numpy"):
        from gardefou.banks.index import HashIndex

        t = time.perf_counter()
        index = HashIndex.load(work / "gf-index")
        if method == "gardefou-numpy":  # the numpy plan on the same files: the in-run anchor
            index.kernel = "numpy"
        result["load_s"] = time.perf_counter() - t
        t = time.perf_counter()
        index.warm()
        result["warm_s"] = time.perf_counter() - t
        index.search(queries[:1], THRESHOLD)  # compiles (or loads) the query plan
        for q in queries:
            t, c = time.perf_counter(), time.process_time()
            h = index.search(q[None, :], THRESHOLD)
            lat.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
            hits.append(sorted(h.key.tolist()))
        # incremental: 10,000 new hashes go to the delta, no rebuild
        rng = np.random.default_rng(1)
        extra = rng.integers(0, 2**64, size=(10_000, 4), dtype=np.uint64)
        t = time.perf_counter()
        index.add(np.arange(len(data), len(data) + 10_000), extra)
        result["add_10k_s"] = time.perf_counter() - t
        lat2 = []
        for q in np.concatenate([extra[:100], queries[:100]]):
            t = time.perf_counter()
            h = index.search(q[None, :], THRESHOLD)
            lat2.append(time.perf_counter() - t)
        result["after_add_found_new"] = all(
            len(index.search(e[None, :], 0)) == 1 for e in extra[:100]
        )
        result["after_add_p99_ms"] = float(np.percentile(lat2, 99) * 1000)
    else:
        import faiss

        faiss.omp_set_num_threads(1)
        xb = as_bytes(np.array(data))  # a private copy, freed after add: RSS is faiss's own
        del data
        xq = as_bytes(queries)
        t = time.perf_counter()
        if method == "faiss-flat":
            index = faiss.IndexBinaryFlat(256)
        else:  # 16 maps of 16 bits, 1 flipped bit per map: exact at radius 31 by pigeonhole
            index = faiss.IndexBinaryMultiHash(256, 16, 16)
            index.nflip = 1
        index.add(xb)
        del xb
        result["build_s"] = time.perf_counter() - t
        for i in range(len(xq)):
            t, c = time.perf_counter(), time.process_time()
            lims, _, ids = index.range_search(xq[i : i + 1], THRESHOLD + 1)  # faiss: d < radius
            lat.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
            hits.append(sorted(ids[lims[0] : lims[1]].tolist()))
    after = rss_mb()
    result["rss_mb"] = after["VmRSS"] - before["VmRSS"]
    result["rss_anon_mb"] = after.get("RssAnon", 0) - before.get("RssAnon", 0)
    result["rss_file_mb"] = after.get("RssFile", 0) - before.get("RssFile", 0)
    result["median_ms"] = float(np.median(lat) * 1000)
    result["p99_ms"] = float(np.percentile(lat, 99) * 1000)
    result["mean_ms"] = float(np.mean(lat) * 1000)
    result["cpu_median_ms"] = float(np.median(cpu) * 1000)
    result["cpu_p99_ms"] = float(np.percentile(cpu, 99) * 1000)
    result["hits"] = hits
    Path(out_path).write_text(json.dumps(result))


def spawn(method: str, work: Path) -> dict:
    out = work / f"{method}.json"
    cmd = [sys.executable, __file__, "--worker", method, "--work", str(work), "--out", str(out)]
    subprocess.run(cmd, check=True)
    return json.loads(out.read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="stored hashes [1,000,000]")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--methods", default="gardefou,faiss-flat,faiss-mih")
    ap.add_argument("--work", default=None, help="scratch folder [a temporary one]")
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the data and built index in --work when they match --n/--queries/--seed",
    )
    ap.add_argument("--brute", type=int, default=50, help="queries checked by brute force [50]")
    ap.add_argument("--json-out", default=None, help="also write the results table here (JSON)")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        run_method(args.worker, Path(args.work), Path(args.out))
        return
    if any(m.startswith("faiss") for m in args.methods.split(",")):
        try:
            import faiss  # noqa: F401
        except ImportError:
            sys.exit(
                "faiss-cpu is not installed: `pip install 'gardefou[bench]'`, or run with "
                "--methods gardefou"
            )
    work = Path(args.work or tempfile.mkdtemp(prefix="gardefou-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    stamp = {"n": args.n, "queries": args.queries, "seed": args.seed}
    reuse = args.reuse and (work / "stamp.json").exists()
    reuse = reuse and json.loads((work / "stamp.json").read_text()) == stamp
    reuse = reuse and (work / "gf-index" / "manifest.json").exists()
    t = time.perf_counter()
    if reuse:
        queries = np.load(work / "queries.npy")
        print(f"data and index reused from {work} ({args.n:,} hashes, seed {args.seed})")
    else:
        (work / "stamp.json").unlink(missing_ok=True)
        data, queries = make_data(args.n, args.queries, args.seed)
        np.save(work / "data.npy", data)
        np.save(work / "queries.npy", queries)
        del data
    print(
        f"data: {args.n:,} hashes, {args.queries} queries, threshold {THRESHOLD} "
        f"({time.perf_counter() - t:.1f}s to generate or load; scratch {work})"
    )
    methods = args.methods.split(",")
    results = {}
    if any(m.startswith("gardefou") for m in methods):
        if reuse:
            results["gardefou-build"] = json.loads((work / "gardefou-build.json").read_text())
        else:
            results["gardefou-build"] = spawn("gardefou-build", work)
            (work / "stamp.json").write_text(json.dumps(stamp))
    for m in methods:
        results[m] = spawn(m, work)
        print(f"  {m}: done", flush=True)
    truth_method = "faiss-flat" if "faiss-flat" in results else methods[0]
    truth = results[truth_method]["hits"]
    # independent check of the reference on the first 50 queries (numpy brute force)
    from gardefou.banks.index import brute_force

    data = np.load(work / "data.npy", mmap_mode="r")
    nb = min(args.brute, len(queries))
    bf = brute_force(data, queries[:nb], THRESHOLD)
    for i in range(nb):
        assert sorted(bf.key[bf.query == i].tolist()) == truth[i], f"reference wrong on query {i}"
    n_true = sum(len(h) for h in truth)
    print(
        f"reference: {truth_method} ({n_true} true hits over {len(truth)} queries; "
        f"checked against numpy brute force on {nb} queries: "
        f"{sum(len(truth[i]) for i in range(nb))} hits, all found)\n"
    )
    header = (
        f"{'method':<12} {'recall':>8} {'median ms':>10} {'p99 ms':>8} {'cpu med':>8} "
        f"{'cpu p99':>8} {'build s':>8} {'RSS MB':>8} {'(anon/file)':>13}"
    )
    print(header)
    print("-" * len(header))
    for m in methods:
        r = results[m]
        found = sum(len(set(a) & set(b)) for a, b in zip(r["hits"], truth, strict=True))
        extra = sum(len(set(a) - set(b)) for a, b in zip(r["hits"], truth, strict=True))
        recall = found / n_true if n_true else 1.0
        build = results["gardefou-build"]["build_s"] if m.startswith("gardefou") else r["build_s"]
        print(
            f"{m:<12} {recall:>8.2%} {r['median_ms']:>10.2f} {r['p99_ms']:>8.2f} "
            f"{r['cpu_median_ms']:>8.2f} {r['cpu_p99_ms']:>8.2f} {build:>8.1f} "
            f"{r['rss_mb']:>8.0f} {r['rss_anon_mb']:>6.0f}/{r['rss_file_mb']:<6.0f}"
            + (f"  ({extra} false hits!)" if extra else "")
        )
    if args.json_out:
        table = {m: {k: v for k, v in results[m].items() if k != "hits"} for m in methods}
        for m in methods:
            pairs = zip(results[m]["hits"], truth, strict=True)
            found = sum(len(set(a) & set(b)) for a, b in pairs)
            table[m]["recall"] = found / n_true if n_true else 1.0
        Path(args.json_out).write_text(json.dumps({"brute_checked": nb, "methods": table}))
    if "gardefou" in results:
        g, b = results["gardefou"], results["gardefou-build"]
        print(
            f"\ngardefou: save {b['save_s']:.1f}s, restart (memory-map) "
            f"{g['load_s'] * 1000:.0f} ms + warm (page in) {g['warm_s'] * 1000:.0f} ms, "
            f"add 10k incrementally {g['add_10k_s'] * 1000:.0f} ms, then p99 "
            f"{g['after_add_p99_ms']:.2f} ms, new hashes found: {g['after_add_found_new']}"
        )
    print(
        f"\nrerun: .venv/bin/python benchmarks/bank_index.py --n {args.n} "
        f"--queries {args.queries} --seed {args.seed}  (shared machine: other jobs were running)"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_env beside this file
    from bench_env import run, setup

    if "--worker" in sys.argv:  # one method per process: one thread, one pinned CPU
        setup(threads=1, pin=True)
        main()
    else:
        run(main, "bank_index")
