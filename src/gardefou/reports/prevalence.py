"""Prevalence of sexualized non-consensual images in a stream, from a labelled sample.

Design: the stream is stratified by hour. In hour h the platform produced N_h images (known from
its logs, or n_h / f for a known sampling fraction f); a uniform sample of n_h was classified and
x_h came out positive. The classifier's sensitivity and specificity were measured on a labelled
validation set (tp, fn, tn, fp).

Per hour we report the apparent share x_h/n_h (Wilson and Clopper–Pearson), the Rogan–Gladen
corrected share (p + Sp - 1)/(Se + Sp - 1) and the estimated count N_h x share, and the rate of
flagged images per hour (exact Poisson, Garwood, scaled by the sampling fraction). Overall we
report the stratified share and the corrected rate of images per hour.

Corrected intervals come from a bootstrap over exact confidence distributions: for the lower
bound, each hour's p is drawn from Beta(x, n-x+1), Se from Beta(tp+1, fn) and Sp from
Beta(tn, fp+1) (the draws that push the estimate down, whose quantiles are the Clopper–Pearson
bounds); the upper bound mirrors them. This keeps the uncertainty of Se and Sp in the interval
and is conservative near 0 and 1 where percentile bootstraps under-cover.
benchmarks/prevalence_coverage.py measures the coverage by simulation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gardefou.errors import ConfigError
from gardefou.reports.stats import Interval, clopper_pearson, garwood, wilson


@dataclass(frozen=True)
class Accuracy:
    """Validation counts of the classifier against ground truth."""

    tp: int
    fn: int
    tn: int
    fp: int

    @property
    def sensitivity(self) -> float:
        return self.tp / (self.tp + self.fn)

    @property
    def specificity(self) -> float:
        return self.tn / (self.tn + self.fp)

    def __post_init__(self) -> None:
        if min(self.tp, self.fn, self.tn, self.fp) < 0 or not (
            self.tp + self.fn and self.tn + self.fp
        ):
            raise ConfigError(f"validation counts need positives and negatives: {self}")
        if self.sensitivity + self.specificity <= 1:
            raise ConfigError(
                f"sensitivity {self.sensitivity:.3f} + specificity {self.specificity:.3f} <= 1: "
                "the classifier is no better than chance, its output cannot be corrected"
            )

    @classmethod
    def perfect(cls) -> Accuracy:
        return cls(1, 0, 1, 0)

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[bool, bool]]) -> Accuracy:
        """From (truth, classifier label) pairs."""
        c = {(True, True): 0, (True, False): 0, (False, False): 0, (False, True): 0}
        for truth, label in pairs:
            c[(bool(truth), bool(label))] += 1
        return cls(c[(True, True)], c[(True, False)], c[(False, False)], c[(False, True)])


def rogan_gladen(p: float, se: float, sp: float) -> float:
    """True prevalence from apparent prevalence p, clipped to [0, 1]."""
    return min(1.0, max(0.0, (p + sp - 1) / (se + sp - 1)))


@dataclass(frozen=True)
class HourSample:
    hour: str
    sampled: int
    positive: int
    population: int | None = None  # images produced in that hour


@dataclass
class HourEstimate:
    hour: str
    sampled: int
    positive: int
    population: int | None
    apparent: Interval
    apparent_exact: Interval
    corrected: Interval
    count: Interval | None
    flagged_per_hour: Interval | None


@dataclass
class PrevalenceReport:
    hours: list[HourEstimate]
    share: Interval  # corrected, stratified
    apparent_share: Interval
    rate_per_hour: Interval | None  # corrected images per hour
    accuracy: Accuracy | None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def iv(x: Interval | None) -> Any:
            return x.to_dict() if x is not None else None

        return {
            "share": iv(self.share), "apparent_share": iv(self.apparent_share),
            "rate_per_hour": iv(self.rate_per_hour),
            "sensitivity": self.accuracy.sensitivity if self.accuracy else None,
            "specificity": self.accuracy.specificity if self.accuracy else None,
            "notes": self.notes,
            "hours": [{"hour": h.hour, "sampled": h.sampled, "positive": h.positive,
                       "population": h.population, "apparent": iv(h.apparent),
                       "apparent_exact": iv(h.apparent_exact), "corrected": iv(h.corrected),
                       "count": iv(h.count), "flagged_per_hour": iv(h.flagged_per_hour)}
                      for h in self.hours],
        }  # fmt: skip


def _lower_upper_draws(rng: np.random.Generator, x: np.ndarray, n: np.ndarray, size: int
                       ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Draws from the lower and upper exact confidence distributions of x/n (shape size x k)."""
    k = len(x)
    lo = np.zeros((size, k))
    hi = np.ones((size, k))
    pos = x > 0
    if pos.any():
        lo[:, pos] = rng.beta(x[pos], n[pos] - x[pos] + 1, size=(size, int(pos.sum())))
    notall = x < n
    if notall.any():
        hi[:, notall] = rng.beta(
            x[notall] + 1, n[notall] - x[notall], size=(size, int(notall.sum()))
        )
    return lo, hi


def _corrected_draws(
    rng: np.random.Generator, x: np.ndarray, n: np.ndarray, acc: Accuracy | None, n_boot: int
) -> tuple[np.ndarray, np.ndarray]:
    """Draws (n_boot x hours) of the corrected share that bound it from below and above."""
    p_lo, p_hi = _lower_upper_draws(rng, x, n, n_boot)
    if acc is None:
        se_lo = se_hi = sp_lo = sp_hi = np.ones(n_boot)
    else:
        se_d = _lower_upper_draws(rng, np.array([acc.tp]), np.array([acc.tp + acc.fn]), n_boot)
        sp_d = _lower_upper_draws(rng, np.array([acc.tn]), np.array([acc.tn + acc.fp]), n_boot)
        se_lo, se_hi = se_d[0][:, 0], se_d[1][:, 0]
        sp_lo, sp_hi = sp_d[0][:, 0], sp_d[1][:, 0]

    def rg(p: np.ndarray, se: np.ndarray, sp: np.ndarray) -> np.ndarray:
        denom = se + sp - 1
        with np.errstate(divide="ignore", invalid="ignore"):
            out = (p + sp[:, None] - 1) / denom[:, None]
        return np.clip(np.nan_to_num(out, nan=0.0), 0.0, 1.0)

    # low: small p, high Se, low Sp; high: the mirror image
    return rg(p_lo, se_hi, sp_lo), rg(p_hi, se_lo, sp_hi)


def measure(samples: Iterable[HourSample], accuracy: Accuracy | None = None,
            sampling_fraction: float | None = None, confidence: float = 0.95,
            n_boot: int = 4000, seed: int = 0) -> PrevalenceReport:  # fmt: skip
    """Estimate per-hour and overall prevalence (see the module docstring)."""
    hs = sorted(samples, key=lambda s: s.hour)
    if not hs:
        raise ConfigError("no sampled items: nothing to measure")
    if sampling_fraction is not None and not 0 < sampling_fraction <= 1:
        raise ConfigError(f"sampling fraction {sampling_fraction} must be in (0, 1]")
    for h in hs:
        if h.sampled <= 0 or not 0 <= h.positive <= h.sampled:
            raise ConfigError(f"hour {h.hour}: {h.positive} positives of {h.sampled} sampled")
    rng = np.random.default_rng(seed)
    a = (1 - confidence) / 2
    se = accuracy.sensitivity if accuracy else 1.0
    sp = accuracy.specificity if accuracy else 1.0
    notes = []
    pops: list[float | None] = []
    for h in hs:
        if h.population is not None:
            pops.append(float(h.population))
        elif sampling_fraction:
            pops.append(h.sampled / sampling_fraction)
        else:
            pops.append(None)
    known = all(p is not None for p in pops)
    if not known:
        notes.append("population per hour unknown: hours weighted by sample size and no rate "
                     "per hour given (pass population counts or a sampling fraction)")  # fmt: skip
    x = np.array([h.positive for h in hs], dtype=float)
    n = np.array([h.sampled for h in hs], dtype=float)
    low_d, high_d = _corrected_draws(rng, x, n, accuracy, n_boot)
    lows, highs = np.quantile(low_d, a, axis=0), np.quantile(high_d, 1 - a, axis=0)
    out: list[HourEstimate] = []
    for i, (h, pop) in enumerate(zip(hs, pops, strict=True)):
        est = rogan_gladen(h.positive / h.sampled, se, sp)
        corrected = Interval(est, float(lows[i]), float(highs[i]),
                             "rogan-gladen, exact-bootstrap", confidence)  # fmt: skip
        count = corrected.scaled(pop) if pop is not None else None
        flagged = None
        if pop is not None:  # flagged images per hour in the stream: Poisson, scaled by N/n
            flagged = garwood(h.positive, 1.0, confidence).scaled(pop / h.sampled)
        out.append(HourEstimate(h.hour, h.sampled, h.positive, h.population,
                                wilson(h.positive, h.sampled, confidence),
                                clopper_pearson(h.positive, h.sampled, confidence),
                                corrected, count, flagged))  # fmt: skip
    w = np.array(pops if known else n, dtype=float)
    w = w / w.sum()
    apparent = float((x / n) @ w)
    if accuracy is None:
        a_low, a_high = low_d, high_d
    else:
        a_low, a_high = _corrected_draws(rng, x, n, None, n_boot)
    apparent_share = Interval(apparent, float(np.quantile(a_low @ w, a)),
                              float(np.quantile(a_high @ w, 1 - a)),
                              "stratified, exact-bootstrap", confidence)  # fmt: skip
    share = Interval(rogan_gladen(apparent, se, sp), float(np.quantile(low_d @ w, a)),
                     float(np.quantile(high_d @ w, 1 - a)),
                     "stratified rogan-gladen, exact-bootstrap", confidence)  # fmt: skip
    rate = None
    if known:
        total = float(sum(p for p in pops if p is not None))
        rate = share.scaled(total / len(hs))
    return PrevalenceReport(out, share, apparent_share, rate, accuracy, notes)


def samples_from_items(
    items: Iterable[Mapping[str, Any]],
    population: Mapping[str, int] | None = None,
    sample_per_hour: int | None = None,
    seed: int = 0,
) -> list[HourSample]:
    """Group items ``{"hour": "2026-01-05T13", "label": true}`` by hour.

    With ``sample_per_hour`` the items are the whole stream: each hour's population is its item
    count, and a uniform sample of that many items (without replacement, seeded) is measured;
    the labels of the other items are not used (use this when labels come from people who can
    only look at a sample, or to check the sampling design on a labelled stream).
    """
    by_hour: dict[str, list[bool]] = {}
    for i, item in enumerate(items):
        try:
            hour = str(item["hour"])[:13]
            label = item["label"]
        except KeyError as exc:
            raise ConfigError(f"sample item {i} lacks {exc}; need 'hour' and 'label'") from None
        if not isinstance(label, bool):
            raise ConfigError(f"sample item {i}: label must be true or false, got {label!r}")
        by_hour.setdefault(hour, []).append(label)
    out = []
    rng = np.random.default_rng(seed)
    for h, labels in sorted(by_hour.items()):
        pop = (population or {}).get(h)
        if sample_per_hour is not None:
            pop = len(labels)
            if sample_per_hour < len(labels):
                pick = rng.choice(len(labels), size=sample_per_hour, replace=False)
                labels = [labels[j] for j in pick]
        out.append(HourSample(h, len(labels), sum(labels), pop))
    return out


def plot(report: PrevalenceReport, path: str, title: str = "") -> str:
    """Hourly corrected share (and count when known) with interval bands, as PNG/SVG."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ConfigError("plots need matplotlib: `pip install 'gardefou[reports]'`") from None
    hours = [h.hour for h in report.hours]
    xs = np.arange(len(hours))
    has_count = all(h.count is not None for h in report.hours)
    fig, axes = plt.subplots(2 if has_count else 1, 1, figsize=(10, 6 if has_count else 3.5),
                             sharex=True, squeeze=False)  # fmt: skip
    ax = axes[0][0]
    ax.fill_between(
        xs,
        [h.corrected.low for h in report.hours],
        [h.corrected.high for h in report.hours],
        alpha=0.3,
        label="95% interval",
    )
    ax.plot(xs, [h.corrected.estimate for h in report.hours], marker="o", label="corrected share")
    ax.plot(xs, [h.apparent.estimate for h in report.hours], ls="--", color="grey",
            label="classifier share (uncorrected)")  # fmt: skip
    ax.set_ylabel("share of images")
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left", fontsize=8)
    if has_count:
        ax2 = axes[1][0]
        ax2.fill_between(xs, [h.count.low for h in report.hours if h.count],
                         [h.count.high for h in report.hours if h.count], alpha=0.3)  # fmt: skip
        ax2.plot(xs, [h.count.estimate for h in report.hours if h.count], marker="o")
        ax2.set_ylabel("images per hour")
    last = axes[-1][0]
    step = max(1, math.ceil(len(hours) / 12))
    last.set_xticks(xs[::step], [h[5:].replace("T", " ") + "h" for h in hours[::step]],
                    rotation=45, fontsize=8)  # fmt: skip
    fig.suptitle(title or "Sexualized non-consensual images: hourly prevalence")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
