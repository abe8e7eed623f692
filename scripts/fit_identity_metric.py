"""Fit and measure a learned metric on identity embeddings (issue 19): within-class whitening.

dlib's network separates LFW's colour pairs at about FAR 1%, not 0.1% (docs/model-cards/
identity.md). Its 128 outputs are not equally useful: some directions vary a lot between photos
of one person (pose, light, age) and little between people. Whitening by the within-person
covariance ``Sw`` (WCCN) shrinks those directions; the result is scaled back to the embedding's
fixed length, so ``compare`` stays a Euclidean distance with one threshold.

Result (docs/model-cards/identity.md, "A learned metric"): no variant beat /5's plain distance
on held-out people, so nothing fitted here ships; the script stays to reproduce that finding.

Fitted only on LFW people outside the held-out folds 4-10 of ``pairs.txt`` (folds' people are
disjoint; checked here), from caches of /5 embeddings written by ``benchmarks/identity_colour.py
--cache`` (the images of the pairs) and by this script's ``--embed`` (LFW's other images of the
same training people and of people in no fold). Measured on every pair among the images of the
people of folds 4-10, and on ORL.

    .venv/bin/python scripts/fit_identity_metric.py --lfw /tmp/lfw --embed /tmp/lfw/images \
        --cache lfw5.npz --out extra.npz
    .venv/bin/python scripts/fit_identity_metric.py --lfw /tmp/lfw --cache lfw5.npz \
        --cache extra.npz --orl ../shared/data/faces-orl [--ridge R] [--no-centre] [--plda] [--cv]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import scipy.linalg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
from identity_colour import HELD_OUT_FOLDS, held_out_people, read_lfw_pairs  # noqa: E402
from identity_roc import pair_distances, rates, tar_at_far  # noqa: E402

NORM = np.sqrt(2.0)


def within_between(x: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, pooled within-person covariance (people with >= 2 images) and between-person
    covariance of the person means."""
    mu = x.mean(axis=0)
    sw = np.zeros((x.shape[1], x.shape[1]))
    means, n_within = [], 0
    for p in np.unique(ids):
        xi = x[ids == p]
        means.append(xi.mean(axis=0))
        if len(xi) >= 2:
            c = xi - xi.mean(axis=0)
            sw += c.T @ c
            n_within += len(xi) - 1
    m = np.array(means) - mu
    return mu, sw / n_within, m.T @ m / len(m)


def fit_wccn(x: np.ndarray, ids: np.ndarray, ridge: float) -> tuple[np.ndarray, np.ndarray]:
    """(mu, W): y = W (x - mu), W = (Sw + ridge * mean eigenvalue * I)^(-1/2)."""
    mu, sw, _ = within_between(x, ids)
    sw = sw + ridge * np.trace(sw) / len(sw) * np.eye(len(sw))
    val, vec = np.linalg.eigh(sw)
    return mu, (vec / np.sqrt(val)) @ vec.T


def apply(
    x: np.ndarray, mu: np.ndarray, w: np.ndarray, centre: bool = True, renorm: bool = True
) -> np.ndarray:
    y = (x - mu if centre else x) @ w.T
    if not renorm:
        return y
    return y * (NORM / np.linalg.norm(y, axis=1, keepdims=True))


def plda_scores(x: np.ndarray, ids: np.ndarray, q: np.ndarray, ids_q: np.ndarray) -> tuple:
    """Two-covariance PLDA log-likelihood ratios of every pair of rows of ``q`` (the upper
    triangle, ordered as identity_roc.pair_distances), negated so that lower = same."""
    mu, sw, sb = within_between(x, ids)
    tot = sw + sb
    inv_tot = np.linalg.inv(tot)
    big = np.linalg.inv(np.block([[tot, sb], [sb, tot]]))
    a = big[: len(sw), : len(sw)]
    b = big[: len(sw), len(sw) :]
    # LLR = x1'Qa x1 + x2'Qa x2 + 2 x1'Qb x2 (+ const), up to a factor 1/2
    return pairs_of(q, ids_q, (mu, inv_tot - a, -b))


def pairs_of(x: np.ndarray, ids: np.ndarray, plda: tuple | None = None) -> tuple:
    """(distances, same) of every pair of rows, in float32 blocks (5,400 rows give 14.5M pairs:
    the full float64 matrix and its index arrays do not fit beside other jobs)."""
    # float64 for PLDA: its quadratic terms are ~1e4 and cancel (float32 ranked pairs at random)
    x = np.asarray(x, np.float32 if plda is None else np.float64)
    d_parts, s_parts = [], []
    if plda is not None:
        mu, qa, qb = plda
        z = x - mu
        quad = np.einsum("ij,jk,ik->i", z, qa, z)
    for i in range(len(x) - 1):
        if plda is None:
            d_parts.append(np.linalg.norm(x[i + 1 :] - x[i], axis=1))
        else:  # negated log-likelihood ratio: lower = same, as a distance
            d_parts.append(-(quad[i] + quad[i + 1 :] + 2 * (z[i + 1 :] @ (qb @ z[i]))))
        s_parts.append(ids[i + 1 :] == ids[i])
    return np.concatenate(d_parts), np.concatenate(s_parts)


def load_caches(paths: list[str]) -> dict[str, np.ndarray]:
    emb: dict[str, np.ndarray] = {}
    for p in paths:
        z = np.load(p)
        vecs = z["emb"]  # read once: each z[...] reads the whole array again
        emb.update({str(n): vecs[i] for i, n in enumerate(z["names"])})
    return emb


def summary(label: str, d: np.ndarray, same: np.ndarray, t_ship: float | None) -> None:
    t3, tar3 = tar_at_far(d, same, 0.001)
    _, tar2 = tar_at_far(d, same, 0.01)
    line = f"{label:44} TAR@FAR0.1% {tar3:7.2%} (t {t3:.4f})  TAR@FAR1% {tar2:7.2%}"
    if t_ship is not None:
        tar, far = rates(d, same, t_ship)
        line += f"  | at {t_ship:.4f}: TAR {tar:.2%} FAR {far:.3%}"
    print(line, flush=True)


RIDGES = (0.0, 0.1, 1.0, 10.0, 1e6)


def cross_validate(x: np.ndarray, person: np.ndarray, ids: np.ndarray, pairs: list) -> None:
    """TAR at FAR 0.1% of each ridge, fitted on two thirds of the training people and scored on
    the other third (folds 1, 2, 3 of pairs.txt; people in no fold spread over the three)."""
    fold: dict[str, int] = {}
    for i, (a, b, _) in enumerate(pairs):
        for n in (a, b):
            fold.setdefault(n.split("/")[0], i // 600)
    people = sorted(set(person))
    part = {p: fold.get(p, k % 3) for k, p in enumerate(people)}
    k_of = np.array([part[p] for p in person])
    rows: dict[str, list[float]] = {}
    for k in range(3):
        fit, val = k_of != k, k_of == k
        d, s = pairs_of(x[val], ids[val])
        rows.setdefault("/5 as shipped", []).append(tar_at_far(d, s, 0.001)[1])
        _, sw_fit, sb_fit = within_between(x[fit], ids[fit])
        for r in RIDGES:
            mu, w = fit_wccn(x[fit], ids[fit], r)
            for keep in (48, 96) if r == 1.0 else ():  # LDA: the keep most discriminant
                lam, vec = scipy.linalg.eigh(sb_fit, sw_fit + np.trace(sw_fit) / 128 * np.eye(128))
                for weighted in (False, True):
                    p = vec[:, -keep:]
                    if weighted:
                        p = p * np.sqrt(lam[-keep:] / (1 + lam[-keep:]))
                    y = x[val] @ p
                    d, s = pairs_of(y * (NORM / np.linalg.norm(y, axis=1, keepdims=True)), ids[val])
                    rows.setdefault(f"LDA keep {keep} weighted {weighted:d}", []).append(
                        tar_at_far(d, s, 0.001)[1]
                    )
            for centre in (True, False):
                for renorm in (True, False):
                    d, s = pairs_of(apply(x[val], mu, w, centre, renorm), ids[val])
                    rows.setdefault(f"WCCN ridge {r} c{centre:d} n{renorm:d}", []).append(
                        tar_at_far(d, s, 0.001)[1]
                    )
    for label, v in rows.items():
        print(f"CV {label:24} TAR@FAR0.1% per fold {' '.join(f'{t:.2%}' for t in v)}"
              f"  mean {np.mean(v):.2%}", flush=True)  # fmt: skip


def orl_embeddings(root: Path) -> dict[str, np.ndarray]:
    """/5 embeddings of ORL as benchmarks/identity_roc.py computes them."""
    sys.path.insert(0, str(REPO / "src"))
    from identity_roc import load_set

    from gardefou.media import load_media
    from gardefou.signals import get_signal

    people, _, pngs = load_set(root)
    faces, identity = get_signal("faces"), get_signal("identity")
    vecs = []
    for png in pngs:
        media = load_media(png)
        vecs.append(identity.embed_crop(media, faces.detect(media)))  # type: ignore[attr-defined]
    return {"people": np.array(people), "emb": np.array(vecs, np.float64)}


def embed_training_images(images: Path, caches: list[str], out: str) -> None:
    """/5 embeddings (the shipped path of benchmarks/identity_colour.py: the face nearest the
    centre) of LFW's images of people outside folds 4-10 that no cache holds yet."""
    sys.path.insert(0, str(REPO / "src"))
    from identity_colour import centre_face

    from gardefou.media import load_media
    from gardefou.signals import get_signal

    pairs = read_lfw_pairs(images.parent / "pairs.txt")
    held = held_out_people(pairs)
    have = load_caches(caches) if caches else {}
    todo = [str(p.relative_to(images)) for p in sorted(images.glob("*/*.jpg"))]
    todo = [n for n in todo if n.split("/")[0] not in held and n not in have]
    faces, identity = get_signal("faces"), get_signal("identity")
    vecs, source = [], []
    for n in todo:
        media = load_media((images / n).read_bytes())
        found = faces.detect(media)  # type: ignore[attr-defined]
        if found:
            w, h = media.oriented().size
            face = centre_face(found, w, h)
            source.append(face.source)
            vecs.append(identity.embed(media, [face])[0])  # type: ignore[attr-defined]
        else:
            source.append("none")
            vecs.append(identity.embed_crop(media, found))  # type: ignore[attr-defined]
    np.savez(out, names=np.array(todo), emb=np.array(vecs, np.float64), source=np.array(source))
    print(f"{len(todo)} training images embedded -> {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lfw", required=True, help="LFW directory holding pairs.txt")
    ap.add_argument("--cache", action="append", default=[], help="npz of /5 embeddings")
    ap.add_argument("--orl", help="the ORL faces directory (s1..s40)")
    ap.add_argument("--ridge", type=float, default=0.0)
    ap.add_argument("--no-centre", action="store_true", help="whiten without subtracting the mean")
    ap.add_argument("--plda", action="store_true", help="also score two-covariance PLDA")
    ap.add_argument(
        "--cv",
        action="store_true",
        help="choose the ridge by 3-fold cross-validation on the training people only",
    )
    ap.add_argument("--embed", help="embed LFW's other training images (LFW/images) into --out")
    ap.add_argument("--out", help="npz written by --embed")
    args = ap.parse_args()
    if args.embed:
        embed_training_images(Path(args.embed), args.cache, args.out or "extra.npz")
        return
    pairs = read_lfw_pairs(Path(args.lfw) / "pairs.txt")
    fold: dict[str, set[int]] = {}
    for i, (a, b, _) in enumerate(pairs):
        for n in (a, b):
            fold.setdefault(n.split("/")[0], set()).add(i // 600)
    spread = [p for p, f in fold.items() if len(f) > 1]
    if spread:
        sys.exit(f"people in more than one fold: {spread[:5]}")
    held = held_out_people(pairs)
    emb = load_caches(args.cache)
    names = sorted(emb)
    person = np.array([n.split("/")[0] for n in names])
    x = np.stack([emb[n] for n in names])
    test = np.isin(person, sorted(held))
    train = ~test
    print(f"train: {int(train.sum())} images of {len(set(person[train]))} people "
          f"({sum(1 for p in set(person[train]) if (person[train] == p).sum() >= 2)} with >= 2); "
          f"test (folds {HELD_OUT_FOLDS[0] + 1}-10): {int(test.sum())} images of "
          f"{len(set(person[test]))} people; none shared: "
          f"{not set(person[train]) & set(person[test])}")  # fmt: skip
    ids = np.unique(person, return_inverse=True)[1]
    xt, it = x[test], ids[test]
    orl = orl_embeddings(Path(args.orl)) if args.orl else None

    def score(label: str, f: object) -> None:
        d, s = pairs_of(f(xt), it)  # type: ignore[operator]
        t_orl = None
        if orl is not None:
            do, so = pair_distances(f(orl["emb"]), orl["people"])  # type: ignore[operator]
            t_orl = float(np.floor(tar_at_far(do, so, 0.001)[0] * 100) / 100)
            summary(f"ORL  {label}", do, so, t_orl)
        summary(f"LFW 4-10 {label}", d, s, t_orl)

    score("/5 as shipped", lambda e: e)
    mu, w = fit_wccn(x[train], ids[train], args.ridge)
    centre = not args.no_centre
    score(f"WCCN ridge {args.ridge} centred {centre}", lambda e: apply(e, mu, w, centre))
    if args.cv:
        cross_validate(x[train], person[train], ids[train], pairs)
        return
    if args.plda:  # reference: the full two-covariance model (not a distance; not shipped)
        summary("LFW 4-10 PLDA two-covariance", *plda_scores(x[train], ids[train], xt, it), None)
        if orl is not None:
            d_o, s_o = plda_scores(x[train], ids[train], orl["emb"], orl["people"])
            summary("ORL  PLDA two-covariance", d_o, s_o, None)


if __name__ == "__main__":
    main()
