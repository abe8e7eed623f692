"""Prevalence statistics: exact intervals against published values, Rogan-Gladen correction,
stratification, and a small coverage simulation (the full one is benchmarks/)."""

from __future__ import annotations

import numpy as np
import pytest

from gardefou.errors import ConfigError
from gardefou.reports.prevalence import (
    Accuracy,
    HourSample,
    measure,
    plot,
    rogan_gladen,
    samples_from_items,
)
from gardefou.reports.stats import beta_cdf, clopper_pearson, gamma_cdf, garwood, wilson


@pytest.mark.parametrize(("x", "n", "low", "high"), [
    (0, 10, 0.0, 0.308497), (5, 10, 0.187086, 0.812914), (10, 10, 0.691503, 1.0),
    (650, 1000, 0.619530, 0.679584), (1, 100, 0.000253, 0.054460),
])  # fmt: skip
def test_clopper_pearson_reference(x: int, n: int, low: float, high: float) -> None:
    iv = clopper_pearson(x, n)
    assert iv.low == pytest.approx(low, abs=2e-6) and iv.high == pytest.approx(high, abs=2e-6)


def test_wilson_reference() -> None:
    iv = wilson(5, 10)
    assert (iv.low, iv.high) == (
        pytest.approx(0.236593, abs=1e-6),
        pytest.approx(0.763407, abs=1e-6),
    )
    assert wilson(0, 20).low == 0.0


@pytest.mark.parametrize(("k", "low", "high"), [
    (0, 0.0, 3.688879), (1, 0.025318, 5.571643), (5, 1.623486, 11.668332),
    (100, 81.363991, 121.626794),
])  # fmt: skip
def test_garwood_reference(k: int, low: float, high: float) -> None:
    iv = garwood(k)
    assert iv.low == pytest.approx(low, abs=2e-6) and iv.high == pytest.approx(high, abs=2e-6)
    assert garwood(k, exposure=4.0).high == pytest.approx(high / 4)


def test_special_functions() -> None:
    assert beta_cdf(0.5, 2, 2) == pytest.approx(0.5)
    assert beta_cdf(0.3, 1, 1) == pytest.approx(0.3)
    assert gamma_cdf(1.0, 1.0) == pytest.approx(1 - np.exp(-1))
    # P(Poisson(30) >= 25) summed directly: 0.8427579727616084
    assert gamma_cdf(30.0, 25.0) == pytest.approx(0.8427579727616084, rel=1e-12)


def test_rogan_gladen() -> None:
    assert rogan_gladen(0.5, 1.0, 1.0) == 0.5
    # true 0.6, Se 0.9, Sp 0.95: apparent 0.6*0.9 + 0.4*0.05 = 0.56
    assert rogan_gladen(0.56, 0.9, 0.95) == pytest.approx(0.6)
    assert rogan_gladen(0.01, 0.9, 0.95) == 0.0  # clipped
    with pytest.raises(ConfigError, match="no better than chance"):
        Accuracy(50, 50, 40, 60)


def test_measure_flood_like_day(tmp_path) -> None:
    rng = np.random.default_rng(1)
    se, sp = 0.92, 0.96
    hours = []
    truth = []
    for h in range(24):
        pi = 0.45 + 0.35 * h / 23
        pos = rng.binomial(200, pi)
        flagged = rng.binomial(pos, se) + rng.binomial(200 - pos, 1 - sp)
        hours.append(HourSample(f"2026-01-05T{h:02d}", 200, int(flagged), 190_000))
        truth.append(pi)
    acc = Accuracy(276, 24, 288, 12)
    rep = measure(hours, acc, n_boot=2000)
    assert rep.share.low < np.mean(truth) < rep.share.high
    assert rep.share.high - rep.share.low < 0.1
    assert rep.rate_per_hour is not None
    assert rep.rate_per_hour.estimate == pytest.approx(rep.share.estimate * 190_000)
    assert rep.apparent_share.estimate < rep.share.estimate  # Se < 1 hides positives
    for h in rep.hours:
        assert h.corrected.low <= h.corrected.estimate <= h.corrected.high
        assert h.apparent_exact.low <= h.apparent.estimate <= h.apparent_exact.high
        assert h.flagged_per_hour is not None and h.count is not None
    d = rep.to_dict()
    assert len(d["hours"]) == 24 and d["sensitivity"] == pytest.approx(0.92)
    png = plot(rep, str(tmp_path / "p.png"))
    assert (tmp_path / "p.png").stat().st_size > 10_000 and png.endswith(".png")


def test_measure_without_population_or_accuracy() -> None:
    items = [{"hour": f"2026-01-05T{h:02d}:13:00Z", "label": i % 3 == 0}
             for h in range(3) for i in range(30)]  # fmt: skip
    samples = samples_from_items(items)
    got = [(s.hour, s.sampled, s.positive) for s in samples]
    assert got == [(f"2026-01-05T0{h}", 30, 10) for h in range(3)]
    rep = measure(samples)
    assert rep.rate_per_hour is None and rep.notes
    assert rep.share.estimate == pytest.approx(1 / 3)
    rep2 = measure(samples, sampling_fraction=0.01)
    assert rep2.rate_per_hour is not None
    assert rep2.rate_per_hour.estimate == pytest.approx(1000)
    with pytest.raises(ConfigError, match="label"):
        samples_from_items([{"hour": "2026-01-05T00", "label": "yes"}])


def test_accuracy_from_pairs() -> None:
    acc = Accuracy.from_pairs(
        [(True, True)] * 9 + [(True, False)] + [(False, False)] * 19 + [(False, True)]
    )
    assert (acc.sensitivity, acc.specificity) == (0.9, 0.95)


def test_small_coverage_simulation() -> None:
    """200 trials of the flood scenario (seeded): the 95% interval covers the truth >= 93%."""
    rng = np.random.default_rng(7)
    hits = 0
    trials = 200
    for t in range(trials):
        N = rng.poisson(50_000, 6)
        pi = np.linspace(0.5, 0.7, 6)
        K = rng.binomial(N, pi)
        pos = rng.hypergeometric(K, N - K, 150)
        flagged = rng.binomial(pos, 0.9) + rng.binomial(150 - pos, 0.05)
        tp, tn = int(rng.binomial(200, 0.9)), int(rng.binomial(200, 0.95))
        rep = measure([HourSample(f"h{h}", 150, int(flagged[h]), int(N[h])) for h in range(6)],
                      Accuracy(tp, 200 - tp, tn, 200 - tn), n_boot=1000, seed=t)  # fmt: skip
        hits += rep.share.contains(K.sum() / N.sum())
    assert hits / trials >= 0.93
