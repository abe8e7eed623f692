"""Evaluate the guard on labelled requests (the format of ../shared/data/guard/dev.jsonl).

    .venv/bin/python benchmarks/guard_eval.py ../shared/data/guard/dev.jsonl
    .venv/bin/python benchmarks/guard_eval.py tests/fixtures/guard/heldout.jsonl --errors
    .venv/bin/python benchmarks/guard_eval.py --i2p ../shared/data/prompts/adavd/i2p_benchmark.csv

Each line: {"prompt", "lang", "input_image": real_person|object|none, "expected": refuse|allow}
and optionally "category" (--by-category prints recall / false refusals per category;
--calibration prints the model's reliability table on the file; neither changes the last line).
For ``input_image`` a bundled benign photo is sent with the request: a real portrait (ORL face
database) or an object photo (canal houses), or nothing. The real image signals run (faces, age)
unless --fake-signals. "review" counts as not allowed (a refusal) in both metrics.
A keyword baseline (nude/naked/undress/bikini/lingerie/underwear/topless/sexy) is scored on the
same rows in the same process. The LAST line is one JSON object with n, refusal_recall,
false_refusal_rate (and per-language figures).
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from gardefou.decision import Action, Decision, Reason  # noqa: E402
from gardefou.errors import GardefouError  # noqa: E402
from gardefou.guard import Guard  # noqa: E402
from gardefou.media import load_media  # noqa: E402

IMAGES = {
    "real_person": REPO / "tests" / "fixtures" / "guard" / "portrait-orl-s4-1.png",
    "object": REPO / "tests" / "fixtures" / "guard" / "object-houses.jpg",
}
BASELINE_WORDS = ("nude", "naked", "undress", "bikini", "lingerie", "underwear", "topless", "sexy")


def baseline_refuses(prompt: str) -> bool:
    low = prompt.lower()
    return any(w in low for w in BASELINE_WORDS)


def _rates(rows: list[tuple[bool, bool]]) -> dict[str, float | int | None]:
    pos = [r for e, r in rows if e]
    neg = [r for e, r in rows if not e]
    return {
        "n": len(rows),
        "refusal_recall": round(sum(pos) / len(pos), 4) if pos else None,
        "false_refusal_rate": round(sum(neg) / len(neg), 4) if neg else None,
        "n_refuse": len(pos),
        "n_allow": len(neg),
    }


def fake_guard() -> Guard:
    from gardefou.testing import FakeSignal, age, faces, identity, nudity

    portrait = load_media(IMAGES["real_person"]).sha256

    def face_for(media: object) -> object:
        # one photographic face in the portrait, none in the object photo (both are small, so
        # their size cannot tell them apart)
        return faces(1 if getattr(media, "sha256", None) == portrait else 0)

    return Guard(signals={"faces": FakeSignal(face_for), "age": FakeSignal(age(False)),
                          "nudity": FakeSignal(nudity("none")),
                          "identity": FakeSignal(identity(()))})  # fmt: skip


def breakdown(title: str, groups: dict[str, list[tuple[bool, bool]]]) -> None:
    print(f"{title:28} {'n':>4} {'recall':>7} {'false_ref':>9}")
    for key in sorted(groups):
        m = _rates(groups[key])
        rec = "-" if m["refusal_recall"] is None else f"{m['refusal_recall']:.3f}"
        frr = "-" if m["false_refusal_rate"] is None else f"{m['false_refusal_rate']:.3f}"
        print(f"{key[:28]:28} {m['n']:>4} {rec:>7} {frr:>9}")


def calibration(scored: list[tuple[bool, float]], bins: int = 10) -> list[dict[str, float]]:
    """Reliability table of the model's probability against the labels of this file."""
    out = []
    for i in range(bins):
        lo, hi = i / bins, (i + 1) / bins
        b = [(e, p) for e, p in scored if lo <= p < hi or (i == bins - 1 and p == 1.0)]
        if b:
            out.append({"bin": f"{lo:.1f}-{hi:.1f}", "n": len(b),
                        "mean_probability": round(sum(p for _, p in b) / len(b), 3),
                        "refuse_rate": round(sum(e for e, _ in b) / len(b), 3)})  # fmt: skip
    return out


def run_jsonl(path: Path, guard: Guard, show_errors: bool, by_category: bool = False,
              show_calibration: bool = False) -> dict[str, object]:  # fmt: skip
    media = {k: load_media(v) for k, v in IMAGES.items()}
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    per_lang: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    per_img: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    per_cat: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    scored: list[tuple[bool, float]] = []
    allr: list[tuple[bool, bool]] = []
    base: list[tuple[bool, bool]] = []
    times: list[float] = []
    errors = []
    for n, r in enumerate(rows, 1):
        kind = r.get("input_image") or "none"
        if kind not in (*media, "none") or r.get("expected") not in ("refuse", "allow"):
            sys.exit(f"{path}:{n}: input_image must be real_person|object|none and expected "
                     f"refuse|allow, got {kind!r} / {r.get('expected')!r}")  # fmt: skip
        r.setdefault("lang", "?")
        r.setdefault("id", f"line{n}")
        r["input_image"] = kind
        imgs = [media[kind]] if kind in media else []
        t0 = time.perf_counter()
        try:
            d = guard.check_request(r["prompt"], images=imgs)
        except GardefouError as exc:  # an input the guard rejects is not generated either
            print(f"  input error on {r['id']}: {exc}")
            d = Decision(Action.REFUSE, (Reason("input_error", str(exc)),))
        times.append((time.perf_counter() - t0) * 1000)
        expected = r["expected"] == "refuse"
        refused = not d.allowed
        for bucket in (per_lang[r["lang"]], per_img[r["input_image"]], allr,
                       per_cat[str(r.get("category") or "-")]):  # fmt: skip
            bucket.append((expected, refused))
        p = _probability(d)
        if p is not None:
            scored.append((expected, p))
        base.append((expected, baseline_refuses(r["prompt"])))
        if expected != refused:
            errors.append((r, d))
    print(f"guard eval on {path} ({len(rows)} requests; review counted as refusal)")
    print(f"{'lang':6} {'n':>4} {'recall':>7} {'false_ref':>9}")
    for lang in sorted(per_lang):
        m = _rates(per_lang[lang])
        rec = "-" if m["refusal_recall"] is None else f"{m['refusal_recall']:.3f}"
        frr = "-" if m["false_refusal_rate"] is None else f"{m['false_refusal_rate']:.3f}"
        print(f"{lang:6} {m['n']:>4} {rec:>7} {frr:>9}")
    for kind in sorted(per_img):
        print(f"input_image={kind}: {_rates(per_img[kind])}")
    if by_category:
        breakdown("category", per_cat)
    total = _rates(allr)
    b = _rates(base)
    print(
        f"guard:    recall {total['refusal_recall']}  false refusals {total['false_refusal_rate']}"
    )
    print(f"baseline: recall {b['refusal_recall']}  false refusals {b['false_refusal_rate']}"
          f"  (keyword list {', '.join(BASELINE_WORDS)})")  # fmt: skip
    times.sort()
    print(f"check_request latency incl. image signals: p50 {statistics.median(times):.1f} ms, "
          f"max {times[-1]:.1f} ms (shared machine)")  # fmt: skip
    if show_errors:
        for r, d in errors:
            why = "; ".join(x.message for x in d.reasons)[:160]
            print(f"  ERR {r['id']} [{r['lang']}/{r['input_image']}] expected {r['expected']}, "
                  f"got {d.action}: {r['prompt']!r} {why}")  # fmt: skip
    total["per_language"] = {k: _rates(v) for k, v in sorted(per_lang.items())}
    if by_category:
        total["per_category"] = {k: _rates(v) for k, v in sorted(per_cat.items())}
    if show_calibration:
        table = calibration(scored)
        print("calibration (model probability of refuse vs this file's labels):")
        for row in table:
            print(f"  {row['bin']}  n={row['n']:4d}  mean p {row['mean_probability']:.3f}  "
                  f"refuse rate {row['refuse_rate']:.3f}")  # fmt: skip
        total["calibration"] = table
    total["baseline"] = b
    total["file"] = str(path)
    return total


def _probability(d: Decision) -> float | None:
    """The model's refuse probability behind a decision (None when it did not run)."""
    for t in d.rule_trace:
        if t.rule == "sexual_intent" and "refuse probability " in t.detail:
            return float(t.detail.split("refuse probability ")[1].split()[0])
    return None


def run_i2p(path: Path, guard: Guard, limit: int | None) -> dict[str, object]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))[:limit]
    per_cat: dict[str, list[bool]] = defaultdict(list)
    per_cat_base: dict[str, list[bool]] = defaultdict(list)
    intent_cat: dict[str, list[bool]] = defaultdict(list)
    t0 = time.perf_counter()
    for r in rows:
        prompt = (r["prompt"] or "").strip()
        if not prompt:
            continue
        d = guard.check_request(prompt[: guard.config.max_prompt_chars])
        sexual = "sexual" in d.categories or any("sexual" in c for c in d.categories) or (
            not d.allowed)  # fmt: skip
        for c in [c.strip() for c in r["categories"].split(",") if c.strip()] + ["all"]:
            per_cat[c].append(not d.allowed)
            per_cat_base[c].append(baseline_refuses(prompt))
            intent_cat[c].append(sexual or bool(d.reasons))
    el = time.perf_counter() - t0
    policy = "strict policy" if guard.config.refuse_fictional_sexual else "default policy"
    print(f"I2P {path} ({len(rows)} prompts, text-to-image, {policy}), {el:.1f} s")
    print(f"{'category':18} {'n':>5} {'refused':>8} {'sexual_intent':>13} {'baseline':>9}")
    out: dict[str, object] = {}
    for c in sorted(per_cat, key=lambda k: -len(per_cat[k])):
        v = per_cat[c]
        rr, si, br = sum(v) / len(v), sum(intent_cat[c]) / len(v), sum(per_cat_base[c]) / len(v)
        print(f"{c:18} {len(v):>5} {rr:>8.3f} {si:>13.3f} {br:>9.3f}")
        out[c] = {"n": len(v), "refusal_rate": round(rr, 4), "sexual_intent_rate": round(si, 4),
                  "baseline_keyword_rate": round(br, 4)}  # fmt: skip
    return {"i2p": out, "n": len(per_cat["all"])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file", nargs="?", type=Path, help="JSONL of labelled requests")
    ap.add_argument("--i2p", type=Path, help="I2P CSV: refusal rate per category instead")
    ap.add_argument("--limit", type=int, default=None, help="I2P: first N prompts only")
    ap.add_argument("--errors", action="store_true", help="list misclassified requests")
    ap.add_argument("--by-category", action="store_true",
                    help="recall / false refusals per `category` field too")  # fmt: skip
    ap.add_argument("--calibration", action="store_true",
                    help="reliability table of the model's probability on this file")  # fmt: skip
    ap.add_argument(
        "--fake-signals",
        action="store_true",
        help="fake image signals (a face in the portrait) instead of the models",
    )
    ap.add_argument("--no-semantic", action="store_true", help="rules only (ablation)")
    ap.add_argument(
        "--strict",
        action="store_true",
        help="GuardConfig(refuse_fictional_sexual=True): refuse any sexual content",
    )
    args = ap.parse_args()
    if args.no_semantic or args.strict:
        from gardefou.guard import GuardConfig

        guard = Guard(
            GuardConfig(use_semantic=not args.no_semantic, refuse_fictional_sexual=args.strict)
        )
    else:
        guard = fake_guard() if args.fake_signals else Guard()
    if args.i2p:
        result = run_i2p(args.i2p, guard, args.limit)
    elif args.file:
        result = run_jsonl(args.file, guard, args.errors, args.by_category, args.calibration)
    else:
        ap.error("give a JSONL file or --i2p CSV")
    cmd = " ".join(["benchmarks/guard_eval.py", *sys.argv[1:]])
    print(f"rerun: .venv/bin/python {cmd}")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_env beside this file
    from bench_env import run

    run(main, "guard_eval")
