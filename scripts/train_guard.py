"""Train the guard's intent model and write src/gardefou/data/guard_intent.npz.

    .venv/bin/python scripts/train_guard.py            # cross-validate, then train and write
    .venv/bin/python scripts/train_guard.py --check    # rebuild and compare with the shipped file
    .venv/bin/python scripts/train_guard.py --cv-only  # figures only, nothing written

Data: every ``training/guard/*.jsonl`` (fields prompt, lang, input_image, expected) and the
older labelled files ``tests/fixtures/guard/*.jsonl`` (see training/guard/SOURCE.md). Never
the dev set. Features: gardefou.guard.features / model.encode (the same code as at run time).
Classifier: scikit-learn logistic regression (liblinear, deterministic), one L2 penalty over
blocks scaled by fixed weights; calibration: Platt scaling fitted on 5-fold cross-validated
logits (StratifiedKFold, seed 0). The cross-validated predictions also give the figures printed
here (recall / false refusals at the shipped threshold, per category, per language, and the
reliability table). scikit-learn is needed here only; inference is numpy (model.py).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import hashlib
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from gardefou.guard import features as ft  # noqa: E402
from gardefou.guard.model import WEIGHTS, Encoded, IntentModel, embedded_texts, encode  # noqa: E402
from gardefou.guard.normalize import normalize  # noqa: E402
from gardefou.guard.rules import rule_hits  # noqa: E402
from gardefou.guard.semantic import default_model  # noqa: E402
from gardefou.guard.targets import text_targets  # noqa: E402

OUT = REPO / "src" / "gardefou" / "data" / WEIGHTS
SOURCES = ("training/guard/*.jsonl", "tests/fixtures/guard/*.jsonl")
SEED = 0
#: block weights (tuned by cross-validation on the training files only)
SCALE = {"ng": 1.0, "emb": 1.0, "clause": 0.7, "flags": 0.5, "kind_emb": 1.0}
C = 4.0
#: refuse at or above this calibrated probability (chosen on cross-validated predictions)
THRESHOLD = 0.5
#: check: a rebuilt model must give the same probabilities within this tolerance
TOLERANCE = 1e-4


def load_rows() -> list[dict]:
    rows = []
    for pattern in SOURCES:
        for path in sorted(REPO.glob(pattern)):
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if not line.strip():
                    continue
                r = json.loads(line)
                if r.get("expected") not in ("refuse", "allow"):
                    sys.exit(f"{path}:{n}: expected must be refuse|allow")
                r["input_image"] = r.get("input_image") or "none"
                r["_file"] = path.name
                rows.append(r)
    return rows


class _Batched:
    """The encoder, run once over every text the rows need, in batches (the same vectors as
    one call per request within float rounding; --check compares probabilities at 1e-4).
    ``known`` holds vectors computed before (the --cache file: a speed-up while tuning)."""

    def __init__(self, texts: list[str], known: dict[str, np.ndarray] | None = None) -> None:
        self.vec: dict[str, np.ndarray] = dict(known or {})
        todo = [t for t in dict.fromkeys(texts) if t not in self.vec]
        if todo:
            enc = default_model()
            for i in range(0, len(todo), 64):
                chunk = todo[i : i + 64]
                self.vec.update(zip(chunk, enc.embed(chunk), strict=True))

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.stack([self.vec[t] for t in texts])


def featurize(rows: list[dict], cache: Path | None = None) -> list[Encoded]:
    import pickle

    known = None
    if cache and cache.exists():
        with cache.open("rb") as f:
            known = pickle.load(f)
    folded = [normalize(r["prompt"]).folded for r in rows]
    emb = _Batched([t for f in folded for t in embedded_texts(f)], known)
    if cache:
        with cache.open("wb") as f:
            pickle.dump(emb.vec, f)
    out = []
    for r in rows:
        norm = normalize(r["prompt"])
        hits = rule_hits(norm.folded)
        targets = text_targets(r["prompt"], norm.folded)
        out.append(encode(norm, hits, targets, r["input_image"], emb))  # type: ignore[arg-type]
    return out


def matrix(xs: list[Encoded]):
    from scipy import sparse

    ng = sparse.csr_matrix(
        (np.concatenate([x.ng_val for x in xs]), np.concatenate([x.ng_idx for x in xs]),
         np.cumsum([0] + [len(x.ng_idx) for x in xs])), shape=(len(xs), ft.N_BUCKETS))  # fmt: skip
    emb = np.stack([x.emb for x in xs])
    flags = np.stack([x.flags for x in xs])
    kind = np.array([ft.kind_index(f) for f in flags])
    per_kind = [emb * (kind == k)[:, None] for k in range(len(ft.KINDS))]
    clause = np.stack([x.clause_max for x in xs])
    blocks = [emb * SCALE["emb"], clause * SCALE["clause"], flags * SCALE["flags"]]
    dense = np.hstack(blocks + [e * SCALE["kind_emb"] for e in per_kind])
    return sparse.hstack([ng * SCALE["ng"], sparse.csr_matrix(dense)]).tocsr()


def fit(X, y):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, solver="liblinear", random_state=SEED, max_iter=1000).fit(X, y)


def platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    m = LogisticRegression(C=1e6, solver="lbfgs", max_iter=1000).fit(z.reshape(-1, 1), y)
    return float(m.coef_[0, 0]), float(m.intercept_[0])


def cross_val(X, y: np.ndarray, k: int = 5) -> np.ndarray:
    from sklearn.model_selection import StratifiedKFold

    z = np.zeros(len(y))
    for tr, te in StratifiedKFold(k, shuffle=True, random_state=SEED).split(np.zeros(len(y)), y):
        z[te] = fit(X[tr], y[tr]).decision_function(X[te])
    return z


def rates(y: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    pos, neg = y == 1, y == 0
    rec = float(pred[pos].mean()) if pos.any() else float("nan")
    frr = float(pred[neg].mean()) if neg.any() else float("nan")
    return rec, frr


def reliability(
    p: np.ndarray, y: np.ndarray, bins: int = 10
) -> list[tuple[str, int, float, float]]:
    out = []
    for i in range(bins):
        lo, hi = i / bins, (i + 1) / bins
        m = (p >= lo) & ((p < hi) if i < bins - 1 else (p <= hi))
        if m.any():
            out.append((f"{lo:.1f}-{hi:.1f}", int(m.sum()), float(p[m].mean()), float(y[m].mean())))
    return out


def report(rows: list[dict], y: np.ndarray, p: np.ndarray) -> dict:
    pred = p >= THRESHOLD
    rec, frr = rates(y, pred)
    print(f"cross-validated (5-fold) at threshold {THRESHOLD}: recall {rec:.3f}  false refusals "
          f"{frr:.3f}  (n={len(y)}, refuse={int(y.sum())})")  # fmt: skip
    for t in (0.3, 0.4, 0.5, 0.6, 0.7):
        r, f = rates(y, p >= t)
        print(f"  threshold {t:.1f}: recall {r:.3f}  false refusals {f:.3f}")
    brier = float(np.mean((p - y) ** 2))
    print(f"Brier score {brier:.4f}\nreliability (bin, n, mean predicted, observed refuse rate):")
    table = reliability(p, y)
    for b, n, mp, obs in table:
        print(f"  {b}  {n:5d}  {mp:.3f}  {obs:.3f}")
    groups: dict[str, dict[str, list[int]]] = {"file": defaultdict(list),
                                               "lang": defaultdict(list),
                                               "input_image": defaultdict(list)}  # fmt: skip
    for i, r in enumerate(rows):
        groups["file"][r["_file"]].append(i)
        groups["lang"][r.get("lang", "?")].append(i)
        groups["input_image"][r["input_image"]].append(i)
    for g, d in groups.items():
        print(f"per {g}:")
        for key in sorted(d):
            ii = np.array(d[key])
            r, f = rates(y[ii], pred[ii])
            print(f"  {key:28} n={len(ii):4d} recall {r:.3f} false refusals {f:.3f}")
    return {"recall": rec, "false_refusal_rate": frr, "brier": brier, "reliability": table}


def export(model, ab: tuple[float, float], rows: list[dict], xs: list[Encoded], cv: dict
           ) -> dict[str, np.ndarray]:  # fmt: skip
    coef = model.coef_[0]
    o = ft.N_BUCKETS
    e = xs[0].emb.shape[0]
    nf = ft.N_FLAGS
    meta = {"n_buckets": ft.N_BUCKETS, "n_flags": ft.N_FLAGS, "threshold": THRESHOLD, "C": C,
            "scale": SCALE, "n_train": len(rows), "n_refuse": sum(r["expected"] == "refuse"
                                                                  for r in rows),
            "sources": list(SOURCES), "cv_recall": round(cv["recall"], 4),
            "cv_false_refusal_rate": round(cv["false_refusal_rate"], 4),
            "data_sha256": data_digest(rows)}  # fmt: skip
    nn = np.stack([x.emb for x in xs])
    return {
        "w_ng": (coef[:o] * SCALE["ng"]).astype(np.float32),
        "w_emb": (coef[o : o + e] * SCALE["emb"]).astype(np.float32),
        "w_clause": (coef[o + e : o + 2 * e] * SCALE["clause"]).astype(np.float32),
        "w_flags": (coef[o + 2 * e : o + 2 * e + nf] * SCALE["flags"]).astype(np.float32),
        "w_kind_emb": (coef[o + 2 * e + nf :].reshape(len(ft.KINDS), e) * SCALE["kind_emb"]).astype(
            np.float32
        ),
        "bias": np.array(model.intercept_[0], np.float64),
        "platt": np.array(ab, np.float64),
        "nn_emb": np.clip(np.round(nn * 127), -127, 127).astype(np.int8),
        "nn_label": np.array([r["expected"] == "refuse" for r in rows]),
        "nn_prompt": np.frombuffer(
            json.dumps([r["prompt"] for r in rows], ensure_ascii=False).encode("utf-8"), np.uint8
        ),
        "meta": np.frombuffer(json.dumps(meta).encode("utf-8"), np.uint8),
    }


def leave_one_writer_out(rows: list[dict], X, y: np.ndarray) -> None:
    """Train on every other file, score the held-out writer's file (uncalibrated logit >= 0,
    the protocol of the model card): the honest estimate for a new writer's set."""
    files = np.array([r["_file"] for r in rows])
    cats = np.array([r.get("category", "?") for r in rows])
    pooled: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for name in sorted(set(files)):
        if name.startswith("test_") or not (REPO / "training/guard" / name).exists():
            continue
        te = files == name
        pred = fit(X[~te], y[~te]).decision_function(X[te]) >= 0
        r, f = rates(y[te], pred)
        print(f"LOWO {name:28} n={int(te.sum()):4d} recall {r:.3f} false refusals {f:.3f}")
        pooled.append((y[te], pred, cats[te]))
    yy = np.concatenate([p[0] for p in pooled])
    pp = np.concatenate([p[1] for p in pooled])
    cc = np.concatenate([p[2] for p in pooled])
    r, f = rates(yy, pp)
    print(f"LOWO pooled n={len(yy)} recall {r:.3f} false refusals {f:.3f}\nper category:")
    for c in sorted(set(cc)):
        m = cc == c
        r, f = rates(yy[m], pp[m])
        print(f"  {c:28} n={int(m.sum()):4d} recall {r:.3f} false refusals {f:.3f}")


def data_digest(rows: list[dict]) -> str:
    h = hashlib.sha256()
    for r in rows:
        h.update(json.dumps([r["prompt"], r["input_image"], r["expected"]]).encode("utf-8"))
    return h.hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--check", action="store_true", help="rebuild and compare with the shipped weights"
    )
    ap.add_argument("--cv-only", action="store_true", help="cross-validated figures only")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--cache", type=Path, help="reuse sentence embeddings saved here (tuning)")
    ap.add_argument(
        "--lowo",
        action="store_true",
        help="leave-one-writer-out figures (each training/guard file held out)",
    )
    args = ap.parse_args()
    rows = load_rows()
    print(f"{len(rows)} requests from {', '.join(SOURCES)}")
    xs = featurize(rows, args.cache)
    X = matrix(xs)
    y = np.array([r["expected"] == "refuse" for r in rows], dtype=int)
    if args.lowo:
        leave_one_writer_out(rows, X, y)
        return
    z = cross_val(X, y)
    ab = platt(z, y)
    p = 1 / (1 + np.exp(-(ab[0] * z + ab[1])))
    cv = report(rows, y, p)
    if args.cv_only:
        return
    model = fit(X, y)
    arrays = export(model, ab, rows, xs, cv)
    if args.check:
        shipped = IntentModel(args.out)
        rebuilt_path = Path("/tmp") / f"guard_intent_check_{os.getpid()}.npz"
        np.savez_compressed(rebuilt_path, **arrays)
        rebuilt = IntentModel(rebuilt_path)
        diff = max(abs(shipped.probability(x) - rebuilt.probability(x)) for x in xs)
        rebuilt_path.unlink()
        same = shipped.meta["data_sha256"] == data_digest(rows)
        print(f"check: max probability difference {diff:.2e} (tolerance {TOLERANCE:.0e}); "
              f"training data {'unchanged' if same else 'CHANGED'}")  # fmt: skip
        sys.exit(0 if diff <= TOLERANCE and same else 1)
    np.savez_compressed(args.out, **arrays)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
