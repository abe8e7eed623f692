"""Exact and score intervals, in pure Python (no SciPy): Wilson and Clopper–Pearson for
proportions, Garwood for Poisson counts, and the regularized incomplete beta and gamma functions
they rest on (continued fractions, Numerical Recipes 6.2/6.4; quantiles by bisection).

Checked against published values in tests/test_prevalence.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float
    method: str
    confidence: float = 0.95

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def scaled(self, factor: float) -> Interval:
        return Interval(self.estimate * factor, self.low * factor, self.high * factor,
                        self.method, self.confidence)  # fmt: skip

    def to_dict(self) -> dict[str, float | str]:
        return {"estimate": self.estimate, "low": self.low, "high": self.high,
                "method": self.method, "confidence": self.confidence}  # fmt: skip


def _check(x: int, n: int) -> None:
    if n < 0 or x < 0 or x > n:
        raise ValueError(f"need 0 <= successes <= trials, got {x} of {n}")


def wilson(x: int, n: int, confidence: float = 0.95) -> Interval:
    """Wilson score interval for a binomial proportion."""
    _check(x, n)
    if n == 0:
        return Interval(float("nan"), 0.0, 1.0, "wilson", confidence)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = x / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if x == 0 else max(0.0, centre - half)
    high = 1.0 if x == n else min(1.0, centre + half)
    return Interval(p, low, high, "wilson", confidence)


def clopper_pearson(x: int, n: int, confidence: float = 0.95) -> Interval:
    """Exact (Clopper–Pearson) interval: guaranteed coverage, somewhat conservative."""
    _check(x, n)
    if n == 0:
        return Interval(float("nan"), 0.0, 1.0, "clopper-pearson", confidence)
    a = (1 - confidence) / 2
    low = 0.0 if x == 0 else beta_ppf(a, x, n - x + 1)
    high = 1.0 if x == n else beta_ppf(1 - a, x + 1, n - x)
    return Interval(x / n, low, high, "clopper-pearson", confidence)


def garwood(k: int, exposure: float = 1.0, confidence: float = 0.95) -> Interval:
    """Exact Poisson interval for a rate: ``k`` events in ``exposure`` units (e.g. hours)."""
    if k < 0 or exposure <= 0:
        raise ValueError(f"need k >= 0 events and exposure > 0, got {k} in {exposure}")
    a = (1 - confidence) / 2
    low = 0.0 if k == 0 else gamma_ppf(a, k)
    high = gamma_ppf(1 - a, k + 1)
    return Interval(k / exposure, low / exposure, high / exposure, "garwood", confidence)


# -- special functions ---------------------------------------------------------------------------

_EPS = 1e-15
_TINY = 1e-300


def _betacf(a: float, b: float, x: float) -> float:
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = 1.0, 1 - qab * x / qap
    d = 1 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 10000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > _TINY else _TINY)
        c = 1 + aa / c
        c = c if abs(c) > _TINY else _TINY
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > _TINY else _TINY)
        c = 1 + aa / c
        c = c if abs(c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1) < _EPS:
            break
    return h


def beta_cdf(x: float, a: float, b: float) -> float:
    """Regularized incomplete beta I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    lbt = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    lbt += a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1) / (a + b + 2):
        return math.exp(lbt) * _betacf(a, b, x) / a
    return 1 - math.exp(lbt) * _betacf(b, a, 1 - x) / b


def gamma_cdf(x: float, a: float) -> float:
    """Regularized lower incomplete gamma P(a, x)."""
    if x <= 0:
        return 0.0
    gln = math.lgamma(a)
    if x < a + 1:  # series
        ap, total = a, 1 / a
        delta = total
        for _ in range(100000):
            ap += 1
            delta *= x / ap
            total += delta
            if abs(delta) < abs(total) * _EPS:
                break
        return total * math.exp(-x + a * math.log(x) - gln)
    b = x + 1 - a  # continued fraction for Q
    c, d = 1 / _TINY, 1 / b
    h = d
    for i in range(1, 100000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = 1 / (d if abs(d) > _TINY else _TINY)
        c = b + an / c
        c = c if abs(c) > _TINY else _TINY
        delta = d * c
        h *= delta
        if abs(delta - 1) < _EPS:
            break
    return 1 - math.exp(-x + a * math.log(x) - gln) * h


def _bisect(f, target: float, lo: float, hi: float) -> float:
    """Root of the increasing f(x) = target in [lo, hi]: Illinois regula falsi (superlinear,
    ~10 evaluations), falling back to bisection steps when it stalls."""
    flo, fhi = f(lo) - target, f(hi) - target
    if flo >= 0:
        return lo
    if fhi <= 0:
        return hi
    side = 0
    for i in range(200):
        x = (lo * fhi - hi * flo) / (fhi - flo) if i % 8 != 7 else (lo + hi) / 2
        if not lo < x < hi:
            x = (lo + hi) / 2
        fx = f(x) - target
        if fx < 0:
            lo, flo = x, fx
            if side == -1:
                fhi /= 2
            side = -1
        else:
            hi, fhi = x, fx
            if side == 1:
                flo /= 2
            side = 1
        if hi - lo <= 1e-12 * max(1.0, abs(hi)) or abs(fx) < 1e-14:
            return x
    return (lo + hi) / 2


def beta_ppf(q: float, a: float, b: float) -> float:
    return _bisect(lambda x: beta_cdf(x, a, b), q, 0.0, 1.0)


def gamma_ppf(q: float, a: float) -> float:
    hi = a + 10 * math.sqrt(a) + 10
    while gamma_cdf(hi, a) < q:
        hi *= 2
    return _bisect(lambda x: gamma_cdf(x, a), q, 0.0, hi)
