"""Record the intent classifier's verdicts on every labelled request, to prove a speed-up neutral.

    .venv/bin/python scripts/record_guard_intent.py [--out FILE]

Reads the labelled requests (training/guard/, tests/fixtures/guard*/,
../shared/data/guard/dev.jsonl) and the first long text-to-image prompts of
../shared/data/prompts/adavd/i2p_benchmark.csv, runs ``IntentClassifier.classify`` on each
(applied to its labelled kind of input) and writes, per request keyed by a hash of (kind, text):
the verdict, categories, score and nearest refused training requests. FILE defaults to
tests/fixtures/guard/intent_recorded.json, which tests/test_guard_speed.py compares the current
code with: re-record only when the model itself changes on purpose (new weights, new features),
never to absorb a drift.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("GARDEFOU_SHARED", REPO.parent / "shared"))
#: long prompts read from the i2p set (the shared data set; the tests skip them when absent)
N_LONG = 300


def labelled_requests() -> list[tuple[str, str]]:
    """(text, kind) of every labelled request found, repository first, in a fixed order."""
    files = sorted((REPO / "training/guard").glob("*.jsonl"))
    files += sorted((REPO / "tests/fixtures/guard").glob("*.jsonl"))
    files += sorted((REPO / "tests/fixtures/guard-eval").glob("*.jsonl"))
    files += [SHARED / "data/guard/dev.jsonl"]
    out = []
    for f in files:
        if f.exists():
            for line in f.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    out.append((row["prompt"], row.get("input_image", "real_person")))
    return out


def long_prompts(n: int = N_LONG) -> list[tuple[str, str]]:
    path = SHARED / "data/prompts/adavd/i2p_benchmark.csv"
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [(r["prompt"], "none") for r in rows[:n]]


def key(text: str, kind: str) -> str:
    return hashlib.sha256(f"{kind}\0{text}".encode()).hexdigest()[:20]


def record(texts: list[tuple[str, str]]) -> dict[str, list[object]]:
    from gardefou.guard.intent import IntentClassifier

    clf = IntentClassifier()
    out: dict[str, list[object]] = {}
    for text, kind in texts:
        it = clf.classify(text, kind=kind)
        near = [[n.prompt, round(n.similarity, 6)] for n in it.neighbours]
        out[key(text, kind)] = [it.sexual, list(it.categories), round(it.score, 8), near]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=REPO / "tests/fixtures/guard/intent_recorded.json")
    args = ap.parse_args()
    rec = record(labelled_requests() + long_prompts())
    args.out.write_text(json.dumps(rec, ensure_ascii=False, sort_keys=True, indent=0) + "\n",
                        encoding="utf-8")  # fmt: skip
    print(f"{len(rec)} requests recorded in {args.out}")


if __name__ == "__main__":
    main()
