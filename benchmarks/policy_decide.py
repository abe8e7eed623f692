"""Cost of the decision layer itself (policy evaluation, thread/consent context, storage),
with the content signals faked and the request-intent check on the guard's rule layer, so model
time is excluded.

    .venv/bin/python benchmarks/policy_decide.py [--n 5000] [--events 2000] [--db URL]

Prints, in one run:
  * evaluate(): the YAML policy engine per image vs a hand-written if-chain of the same rules
    (the floor an interpreter-free implementation would reach);
  * decide_event(): events/s end to end on the store (SQLite by default) for a replay of
    reply threads (a photo, a request to the bot, the bot's edit), vs a bare INSERT of the
    decision rows (the storage floor).
The machine is shared with other busy processes: read the figures as indicative.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

from gardefou import testing as T
from gardefou.decide import Services, decide_event, rules_intent
from gardefou.policy import evaluate, load_default_policy
from gardefou.store import connect

SIGNALS = {*T.POLICY_SIGNALS, "pdq_dihedral"}


def handwritten(sig, ctx):
    """The default policy's main rules as plain Python (no trace, no DSA fields)."""
    level = sig["nudity"].value
    real = (sig["faces"].details.get("count", 0) >= 1) and (
        (sig["faces"].details.get("photo_likelihood") or 1.0) >= 0.5
    )
    minor = sig["age"].value.get("minor_risk")
    if ctx.get("bank.victim_match"):
        return "remove"
    if minor and level != "none":
        return "remove_escalate"
    if ctx.get("thread.sexualized_edit"):
        return "remove"
    if level == "explicit" and real:
        return "remove" if sig["nudity"].score >= 0.8 else "review"
    return "allow"


def bench_evaluate(n: int) -> None:
    policy = load_default_policy(signals=SIGNALS)
    cases = [
        (T.signal_set(T.faces(1)), {}),
        (T.signal_set(T.nudity("suggestive", 0.8), T.faces(1)), {"thread.sexualized_edit": True}),
        (T.signal_set(T.nudity("explicit", 0.9), T.faces(1)), {}),
        (T.signal_set(T.nudity("suggestive"), T.faces(1), T.age(True)), {}),
    ]
    for name, fn in (
        ("evaluate (YAML engine, full trace + DSA)", lambda s, c: evaluate(policy, s, c)),
        ("hand-written if-chain (baseline)", handwritten),
    ):
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            for i in range(n):
                s, c = cases[i % len(cases)]
                fn(s, c)
            times.append((time.perf_counter() - t0) / n * 1e6)
        print(f"  {name:<45} {statistics.median(times):8.1f} us/image")


def bench_decide(events: int, url: str | None) -> None:
    tmp = Path(tempfile.mkdtemp())
    for name, color in (("p.png", (10, 90, 200)), ("e.png", (200, 90, 10))):
        Image.new("RGB", (64, 64), color).save(tmp / name)
    import hashlib

    sha = {hashlib.sha256((tmp / n).read_bytes()).hexdigest(): n for n in ("p.png", "e.png")}
    alice = T.person_embedding(1)
    table = {
        "p.png": [T.nudity("none"), T.faces(1), T.identity([alice])],
        "e.png": [T.nudity("suggestive", 0.8), T.faces(1), T.identity([T.jitter(alice, 0.2)])],
    }

    def extract(media, names):
        return {k: v for k, v in T.signal_set(*table[sha[media.sha256]]).items() if k in names}

    db = connect(url or tmp / "bench.db")
    services = Services(
        db,
        policy=load_default_policy(signals=SIGNALS),
        extract=extract,
        base_dir=tmp,
        exempt_accounts=frozenset({"imgbot"}),
        intent=rules_intent,  # the guard's sentence encoder is measured by the guard benchmarks
    )
    threads = events // 3
    t0 = time.perf_counter()
    lat = []
    for i in range(threads):
        for ev in (
            {"id": f"a{i}", "author": f"u{i}", "media": ["p.png"]},
            {
                "id": f"b{i}",
                "author": f"t{i % 50}",
                "text": "@imgbot put her in a bikini",
                "reply_to": f"a{i}",
            },
            {"id": f"c{i}", "author": "imgbot", "media": ["e.png"], "reply_to": f"b{i}"},
        ):
            s = time.perf_counter()
            decide_event(ev, services)
            lat.append(time.perf_counter() - s)
    dt = time.perf_counter() - t0
    removed = db.query_one("SELECT COUNT(*) AS n FROM decisions WHERE action = 'remove'")["n"]
    lat.sort()
    print(
        f"  decide_event ({db.dialect}, fake signals)           {3 * threads / dt:8.0f} events/s"
        f"  p50 {lat[len(lat) // 2] * 1e3:.2f} ms  p99 {lat[int(len(lat) * 0.99)] * 1e3:.2f} ms"
        f"  ({removed} removals, {threads} threads)"
    )
    t0 = time.perf_counter()
    for i in range(3 * threads):
        db.execute(
            "INSERT INTO decisions (event_id, kind, actor, action, policy, decision_json, "
            "created_at) VALUES (?,?,?,?,?,?,?)",
            (f"z{i}", "post", "u", "allow", "p", "{}", "2026-01-05"),
        )
    dt = time.perf_counter() - t0
    print(f"  bare INSERT of decision rows (storage floor)   {3 * threads / dt:8.0f} rows/s")
    db.close()


def bench_consent(n: int) -> None:
    """Consent-registry match latency with n active templates (rows inserted directly: the
    PBKDF2 of the withdrawal code makes enroll() itself ~50 ms by design)."""
    import json

    import numpy as np

    from gardefou.consent import ConsentRegistry

    db = connect(":memory:")
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(n, 128))
    vecs = vecs / np.linalg.norm(vecs, axis=1, keepdims=True) * 0.5
    db.executemany(
        "INSERT INTO consent_templates (embedding_json, label, code_hash, created_at) "
        "VALUES (?, '', 'x$y', '2026-01-05')",
        [(json.dumps([round(float(x), 6) for x in v]),) for v in vecs],
    )
    reg = ConsentRegistry(db)
    t0 = time.perf_counter()
    reg.match([vecs[0].tolist()])  # loads the matrix once
    load = time.perf_counter() - t0
    queries = [T.jitter(vecs[i % n].tolist(), 0.1, i) for i in range(200)]
    lat = []
    for q in queries:
        s = time.perf_counter()
        hits = reg.match([q])
        lat.append(time.perf_counter() - s)
        assert hits, "a jittered template must match"
    matrix = vecs.astype(np.float64)
    base = []
    for q in queries:
        s = time.perf_counter()
        np.flatnonzero(np.linalg.norm(matrix - np.asarray(q), axis=1) <= 0.51)
        base.append(time.perf_counter() - s)
    print(
        f"  consent match, {n} templates: p50 {statistics.median(lat) * 1e3:.2f} ms"
        f" (first call loads them: {load * 1e3:.0f} ms); naive numpy scan (float64 norm of"
        " differences) p50 "
        f"{statistics.median(base) * 1e3:.2f} ms"
    )
    db.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000, help="evaluations per timing round")
    ap.add_argument("--events", type=int, default=1500, help="events replayed through decide")
    ap.add_argument("--db", default=None, help="store URL (default: a temporary SQLite file)")
    ap.add_argument("--consent", type=int, default=10_000, help="templates in the consent test")
    a = ap.parse_args()
    print("policy evaluation (default NCII policy, 4 alternating cases):")
    bench_evaluate(a.n)
    print("decision layer end to end:")
    bench_decide(a.events, a.db)
    print("consent registry:")
    bench_consent(a.consent)
    print(
        "rerun: .venv/bin/python benchmarks/policy_decide.py "
        f"--n {a.n} --events {a.events} --consent {a.consent}" + (f" --db {a.db}" if a.db else "")
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_env beside this file
    from bench_env import run

    run(main, "policy_decide")
