"""Coverage of gardefou's prevalence intervals, by simulation with known true rates.

Each trial draws a 24-hour stream with known per-hour image counts and a known (varying) true
share of sexualized non-consensual images, samples n images per hour without replacement,
passes them through a noisy classifier (sensitivity/specificity known to the simulation, but
estimated by the method from a finite validation set), runs gardefou.reports.prevalence.measure
and records whether each 95% interval contains the truth. Baseline in the same process: the
naive interval (Wald on the classifier's raw share, no correction), which is what a dashboard
of "flagged / sampled" would show.

    .venv/bin/python benchmarks/prevalence_coverage.py            # 1,000 trials per scenario
    .venv/bin/python benchmarks/prevalence_coverage.py --trials 200 --scenario flood
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from gardefou.reports.prevalence import Accuracy, HourSample, measure
from gardefou.reports.stats import clopper_pearson, garwood, wilson


@dataclass(frozen=True)
class Scenario:
    name: str
    images_per_hour: int
    share_low: float
    share_high: float
    sample_per_hour: int
    sensitivity: float
    specificity: float
    validation_pos: int
    validation_neg: int


SCENARIOS = {
    # Jan 5-6 2026: ~190k generated images/hour, ~65% sexualized (ramping 45% -> 80%)
    "flood": Scenario("flood", 190_000, 0.45, 0.80, 200, 0.92, 0.96, 300, 300),
    # the early phase: ~1 sexualized image per minute among ~30k images/hour (~0.2%)
    "trickle": Scenario("trickle", 30_000, 0.001, 0.003, 2_000, 0.90, 0.995, 300, 2_000),
}


def trial(s: Scenario, rng: np.random.Generator, n_boot: int, seed: int) -> dict[str, bool]:
    hours = 24
    N = rng.poisson(s.images_per_hour, hours)
    pi = np.linspace(s.share_low, s.share_high, hours)
    K = rng.binomial(N, pi)  # the truth: sexualized images produced in each hour
    pos_in_sample = rng.hypergeometric(K, N - K, s.sample_per_hour)
    neg_in_sample = s.sample_per_hour - pos_in_sample
    flagged = rng.binomial(pos_in_sample, s.sensitivity) + rng.binomial(
        neg_in_sample, 1 - s.specificity
    )
    tp = int(rng.binomial(s.validation_pos, s.sensitivity))
    tn = int(rng.binomial(s.validation_neg, s.specificity))
    acc = Accuracy(tp, s.validation_pos - tp, tn, s.validation_neg - tn)
    samples = [
        HourSample(f"2026-01-05T{h:02d}", s.sample_per_hour, int(flagged[h]), int(N[h]))
        for h in range(hours)
    ]
    rep = measure(samples, acc, n_boot=n_boot, seed=seed)
    true_share = K.sum() / N.sum()
    true_rate = K.sum() / hours
    hour_cov = np.mean([h.corrected.contains(K[i] / N[i]) for i, h in enumerate(rep.hours)])
    hour_count_cov = np.mean([h.count.contains(K[i]) for i, h in enumerate(rep.hours) if h.count])
    # baseline: Wald interval on the raw flagged share, no correction, no stratification
    p = flagged.sum() / (hours * s.sample_per_hour)
    half = 1.96 * math.sqrt(p * (1 - p) / (hours * s.sample_per_hour))
    # the apparent (classifier-level) share each hour: Wilson and Clopper-Pearson
    app_true = pi * s.sensitivity + (1 - pi) * (1 - s.specificity)
    wil = np.mean(
        [wilson(int(flagged[h]), s.sample_per_hour).contains(app_true[h]) for h in range(hours)]
    )
    cp = np.mean(
        [
            clopper_pearson(int(flagged[h]), s.sample_per_hour).contains(app_true[h])
            for h in range(hours)
        ]
    )
    return {
        "share": rep.share.contains(true_share),
        "rate": rep.rate_per_hour is not None and rep.rate_per_hour.contains(true_rate),
        "hour_share": hour_cov,
        "hour_count": hour_count_cov,
        "baseline_share": p - half <= true_share <= p + half,
        "wilson_apparent": wil,
        "cp_apparent": cp,
        "width": rep.share.high - rep.share.low,
    }


def garwood_coverage() -> dict[float, float]:
    """Exact coverage of the Garwood interval: sum of Poisson(mu) probabilities of the counts
    whose interval contains mu (no simulation noise)."""
    out = {}
    for mu in (0.5, 3.0, 20.0, 137.0, 6700.0):
        hi = int(mu + 12 * math.sqrt(mu) + 30)
        lo = max(0, int(mu - 12 * math.sqrt(mu)) - 30)
        total = 0.0
        for k in range(lo, hi + 1):
            if garwood(k).contains(mu):
                total += math.exp(k * math.log(mu) - mu - math.lgamma(k + 1))
        out[mu] = total
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--boot", type=int, default=2000, help="bootstrap draws per interval")
    ap.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    ap.add_argument("--seed", type=int, default=20260105)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    print(
        f"prevalence interval coverage, {args.trials} trials per scenario, 95% intervals, "
        f"{args.boot} bootstrap draws (shared machine: timings are indicative)"
    )
    worst = 1.0
    for name in names:
        s = SCENARIOS[name]
        t0 = time.perf_counter()
        res = [trial(s, rng, args.boot, seed=i) for i in range(args.trials)]
        dt = time.perf_counter() - t0
        cov = {k: float(np.mean([r[k] for r in res])) for k in res[0]}
        worst = min(worst, cov["share"], cov["rate"])
        print(
            f"\nscenario {name}: {s.images_per_hour:,} images/h, true share "
            f"{s.share_low:.3%}..{s.share_high:.3%}, sample {s.sample_per_hour}/h, "
            f"Se {s.sensitivity}, Sp {s.specificity}, validation {s.validation_pos}+"
            f"{s.validation_neg}  ({dt:.1f} s)"
        )
        print(
            f"  overall share, corrected (gardefou)   coverage {cov['share']:.3f}  "
            f"mean width {cov['width']:.4f}"
        )
        print(f"  images per hour, corrected (gardefou) coverage {cov['rate']:.3f}")
        print(f"  per-hour share, corrected             coverage {cov['hour_share']:.3f}")
        print(f"  per-hour count, corrected             coverage {cov['hour_count']:.3f}")
        print(f"  per-hour classifier share, Wilson     coverage {cov['wilson_apparent']:.3f}")
        print(f"  per-hour classifier share, C-P exact  coverage {cov['cp_apparent']:.3f}")
        print(f"  BASELINE raw flagged share, Wald      coverage {cov['baseline_share']:.3f}")
    g = garwood_coverage()
    print(
        "\nGarwood exact Poisson interval, exact coverage (computed, not simulated): "
        + ", ".join(f"mean {mu:g}: {c:.4f}" for mu, c in g.items())
    )
    print(
        f"\nworst corrected overall coverage: {worst:.3f} "
        f"({'meets' if worst >= 0.95 else 'BELOW'} the 0.95 target)"
    )
    print("rerun: .venv/bin/python benchmarks/prevalence_coverage.py")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_env beside this file
    from bench_env import run

    run(main, "prevalence_coverage")
