"""Evidence log throughput and proof costs, on one core.

Measures, in one process (the machine is shared with other busy jobs: numbers are indicative):
  1. BASELINE: plain SQLite inserts of the same rows, one transaction each, no tree, no proof;
  2. EvidenceLog.append: one transaction per entry, each returning its inclusion proof;
  3. EvidenceLog.append_many: batches of 100 entries, a proof for each;
  4. EvidenceStore.preserve: AES-GCM blob written and fsynced, indexed, logged, proof returned;
  5. the in-memory Merkle tree alone (append + proof);
  6. proof sizes at 10M entries, computed analytically (exact, from the RFC 9162 structure);
  7. proof generation and verification time on a tree of --tree-size leaves (default 10M);
  8. offline verification of an exported bundle.

    .venv/bin/python benchmarks/evidence_bench.py                 # ~2-4 minutes
    .venv/bin/python benchmarks/evidence_bench.py --tree-size 1000000 --appends 5000
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from gardefou.evidence import EvidenceKeys, EvidenceStore, export_bundle, verify_bundle
from gardefou.evidence.log import EvidenceLog, canonical_json
from gardefou.evidence.merkle import (
    MerkleTree,
    _decomp_incl_proof,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from gardefou.store import connect


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}/s ({seconds * 1e6 / n:,.1f} µs each)"


def fields(i: int) -> dict:
    return {"sha256": f"{i:064x}", "evidence_kind": "media", "byte_size": 123456,
            "actor": "mod-17", "reason": "case c-41", "account": "acct-9f3"}  # fmt: skip


def inclusion_size(index: int, size: int) -> int:
    inner, border = _decomp_incl_proof(index, size)
    return inner + border


def consistency_size(m: int, n: int) -> int:
    if m in (0, n):
        return 0
    inner, border = _decomp_incl_proof(m - 1, n)
    shift = (m & -m).bit_length() - 1
    return (0 if m == 1 << shift else 1) + inner - shift + border


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--appends", type=int, default=20000)
    ap.add_argument("--tree-size", type=int, default=10_000_000)
    ap.add_argument("--proofs", type=int, default=10000)
    args = ap.parse_args()
    print(f"evidence benchmark (one core; shared machine: other jobs running)  pid {os.getpid()}")
    tmp = Path(tempfile.mkdtemp(prefix="gardefou-evbench-"))
    n = args.appends

    # 1-3, interleaved in rounds so the baseline and the log see the same machine load
    db0 = connect(tmp / "base.db")
    db = connect(tmp / "log.db")
    keys = EvidenceKeys.generate()
    log = EvidenceLog(db, keys.signer)
    rounds = 5
    per = n // rounds
    t_base = t_log = t_batch = 0.0
    seq = 0
    for _ in range(rounds):
        t = time.perf_counter()
        for i in range(seq, seq + per):
            body = canonical_json({**fields(i), "kind": "preserve", "seq": i, "time": "t"})
            db0.execute(
                "INSERT INTO evidence_entries (seq, leaf_hash, kind, subject, body, created_at) "
                "VALUES (?,?,?,?,?,?)",
                (i, leaf_hash(body.encode()), "preserve", None, body, "t"),
            )
        t_base += time.perf_counter() - t
        t = time.perf_counter()
        for i in range(seq, seq + per):
            log.append("preserve", fields(i), None)
        t_log += time.perf_counter() - t
        t = time.perf_counter()
        for b in range(seq, seq + per, 100):
            log.append_many([("preserve", fields(i), None) for i in range(b, b + 100)])
        t_batch += time.perf_counter() - t
        seq += per
    m_all = per * rounds
    print(f"\n1. BASELINE plain SQLite insert, 1 txn each:     {rate(m_all, t_base)}")
    print(f"2. EvidenceLog.append + inclusion proof:         {rate(m_all, t_log)}"
          f"  [{t_base / t_log:.0%} of baseline rate]")  # fmt: skip
    print(f"3. EvidenceLog.append_many(100) + proofs:        {rate(m_all, t_batch)}")
    r = log.append("preserve", fields(n), None)
    t = time.perf_counter()
    verify_inclusion(r.seq, r.tree_size, r.leaf_hash, list(r.proof), r.root)
    print(
        f"   receipt verification: {(time.perf_counter() - t) * 1e6:.0f} µs, "
        f"{len(r.proof)} hashes = {len(r.proof) * 32} bytes at size {r.tree_size:,}"
    )
    t = time.perf_counter()
    cp = log.checkpoint()
    print(f"   signed checkpoint at {cp.tree_size:,}: {(time.perf_counter() - t) * 1e3:.2f} ms")
    t = time.perf_counter()
    check = log.verify()
    print(f"   full log self-check ({check['entries']:,} entries): {time.perf_counter() - t:.2f} s")
    db.close()
    db0.close()

    # 4. preserve (blob encrypt + fsync)
    db = connect(tmp / "store.db")
    store = EvidenceStore(db, tmp / "blobs", keys)
    m = max(200, n // 20)
    payload = os.urandom(64 * 1024)
    t = time.perf_counter()
    for i in range(m):
        store.preserve(payload[:-8] + i.to_bytes(8, "big"), "media", "mod-17", "bench")
    dt = time.perf_counter() - t
    print(f"4. EvidenceStore.preserve 64 KB, fsync each:     {rate(m, dt)}")

    # 8. bundle verification
    out = tmp / "bundle"
    t = time.perf_counter()
    info = export_bundle(store, out, "bench", "bench")
    te = time.perf_counter() - t
    t = time.perf_counter()
    rep = verify_bundle(out)
    tv = time.perf_counter() - t
    print(
        f"8. bundle of {info['entries']:,} entries + {info['blobs']} blobs: export "
        f"{te:.2f} s, offline verify {tv:.2f} s, ok={rep.ok}"
    )
    db.close()

    # 5. tree alone
    tree = MerkleTree()
    leaves = [leaf_hash(str(i).encode()) for i in range(200_000)]
    t = time.perf_counter()
    for lh in leaves:
        tree.append(lh)
        tree.inclusion_proof(tree.size - 1)
    dt = time.perf_counter() - t
    print(f"5. MerkleTree.append + proof (in memory):        {rate(len(leaves), dt)}")

    # 6. analytic proof sizes at 10M
    N = 10_000_000
    rnd = random.Random(1)
    sizes = [inclusion_size(rnd.randrange(N), N) for _ in range(100_000)]
    csizes = [consistency_size(rnd.randrange(1, N), N) for _ in range(100_000)]
    print(f"\n6. proof sizes at {N:,} entries (exact, from the tree shape; 32 bytes per hash):")
    print(
        f"   inclusion:   max {max(sizes)} hashes = {max(sizes) * 32} B, "
        f"mean {statistics.mean(sizes):.1f} hashes = {statistics.mean(sizes) * 32:.0f} B"
    )
    print(
        f"   consistency: max {max(csizes)} hashes = {max(csizes) * 32} B, "
        f"mean {statistics.mean(csizes):.1f} hashes = {statistics.mean(csizes) * 32:.0f} B"
    )

    # 7. a real tree of --tree-size leaves
    T = args.tree_size
    t = time.perf_counter()
    big = MerkleTree()
    append = big.append
    seed = leaf_hash(b"bench")
    for i in range(T):
        append(leaf_hash(seed + i.to_bytes(8, "big")))
    tb = time.perf_counter() - t
    t = time.perf_counter()
    root = big.root()
    tr = time.perf_counter() - t
    print(f"\n7. tree of {T:,} leaves built in {tb:.1f} s ({T / tb:,.0f} leaves/s), "
          f"root in {tr * 1e6:.0f} µs, "
          f"{sum(len(r) for r in big._levels) / 1e6:,.0f} MB of hashes")  # fmt: skip
    idx = [rnd.randrange(T) for _ in range(args.proofs)]
    t = time.perf_counter()
    proofs = [big.inclusion_proof(i) for i in idx]
    tg = time.perf_counter() - t
    t = time.perf_counter()
    for i, p in zip(idx, proofs, strict=True):
        verify_inclusion(i, T, big.leaf(i), p, root)
    tv = time.perf_counter() - t
    print(f"   inclusion proof: generate {tg / len(idx) * 1e6:.1f} µs, verify "
          f"{tv / len(idx) * 1e6:.1f} µs, {statistics.mean(len(p) for p in proofs):.1f} hashes "
          f"(max {max(len(p) for p in proofs)})")  # fmt: skip
    olds = [rnd.randrange(1, T) for _ in range(min(2000, args.proofs))]
    t = time.perf_counter()
    cps = [big.consistency_proof(o) for o in olds]
    tg = time.perf_counter() - t
    oroots = [big.root(o) for o in olds]
    t = time.perf_counter()
    for o, p, r0 in zip(olds, cps, oroots, strict=True):
        verify_consistency(o, T, p, r0, root)
    tv = time.perf_counter() - t
    print(
        f"   consistency proof: generate {tg / len(olds) * 1e6:.1f} µs, verify "
        f"{tv / len(olds) * 1e6:.1f} µs, {statistics.mean(len(p) for p in cps):.1f} hashes"
    )
    shutil.rmtree(tmp, ignore_errors=True)
    print("\nrerun: .venv/bin/python benchmarks/evidence_bench.py")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_env beside this file
    from bench_env import run

    run(main, "evidence_bench")
