"""Statistical verdicts for probabilistic claims (docs/tasks/statistics.md).

A probabilistic claim says "the failure probability is at most p".  We observe x failures in n independent
trials and compute exact one-sided Clopper–Pearson bounds at confidence 1 - α (default 99%):

    upper U(x, n): the p with P[Bin(n, p) <= x] = α   (U = 1 when x = n), i.e. the (1-α) quantile of Beta(x+1, n-x);
    lower L(x, n): the p with P[Bin(n, p) >= x] = α   (L = 0 when x = 0), i.e. the α quantile of Beta(x, n-x+1).

Both are found by bisection on mpmath's regularized incomplete beta function at 40 significant digits (no normal
approximation).  Verdict: PASS when U < p (the data rule out a rate >= p at level α), FAIL when L > p (the data
rule out a rate <= p), INCONCLUSIVE otherwise.  ``samples_needed(p)`` is the smallest n at which zero failures
give U < p: (1 - p)^n < α  ⟺  n > ln α / ln(1 - p).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import mpmath

from .result import FAIL, INCONCLUSIVE, PASS, Check

_DPS = 40


def _check_counts(x: int, n: int) -> tuple[int, int]:
    if isinstance(x, bool) or isinstance(n, bool) or int(x) != x or int(n) != n:
        raise ValueError(f"failures and trials must be integers, got {x!r}, {n!r}")
    x, n = int(x), int(n)
    if n < 1 or not 0 <= x <= n:
        raise ValueError(f"need n >= 1 and 0 <= failures <= n, got failures={x}, n={n}")
    return x, n


def _check_conf(conf: float) -> float:
    conf = float(conf)
    if not (math.isfinite(conf) and 0.0 < conf < 1.0):
        raise ValueError(f"confidence must lie in (0, 1), got {conf!r}")
    return conf


def _beta_quantile(a: int, b: int, q) -> mpmath.mpf:
    """The q-quantile of Beta(a, b) (a, b >= 1) by bisection on the regularized incomplete beta."""
    lo, hi = mpmath.mpf(0), mpmath.mpf(1)
    for _ in range(90):  # 2^-90: far below a float64 ulp of the bounds we report
        mid = (lo + hi) / 2
        if mpmath.betainc(a, b, 0, mid, regularized=True) < q:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def cp_upper(failures: int, n: int, conf: float = 0.99) -> float:
    """Exact one-sided Clopper–Pearson upper bound at confidence ``conf``, rounded up to a float."""
    x, n = _check_counts(failures, n)
    conf = _check_conf(conf)
    if x == n:
        return 1.0
    with mpmath.workdps(_DPS):
        if x == 0:  # closed form 1 - α^(1/n)
            u = 1 - mpmath.power(1 - mpmath.mpf(conf), mpmath.mpf(1) / n)
        else:
            u = _beta_quantile(x + 1, n - x, mpmath.mpf(conf))
        return _round_up(u)


def cp_lower(failures: int, n: int, conf: float = 0.99) -> float:
    """Exact one-sided Clopper–Pearson lower bound at confidence ``conf``, rounded down to a float."""
    x, n = _check_counts(failures, n)
    conf = _check_conf(conf)
    if x == 0:
        return 0.0
    with mpmath.workdps(_DPS):
        if x == n:  # closed form α^(1/n)
            lo = mpmath.power(1 - mpmath.mpf(conf), mpmath.mpf(1) / n)
        else:
            lo = _beta_quantile(x, n - x + 1, 1 - mpmath.mpf(conf))
        return _round_down(lo)


def _round_up(v) -> float:
    f = float(v)
    return f if mpmath.mpf(f) >= v else math.nextafter(f, math.inf)


def _round_down(v) -> float:
    f = float(v)
    return f if mpmath.mpf(f) <= v else math.nextafter(f, -math.inf)


def samples_needed(rate: float, conf: float = 0.99) -> int:
    """Smallest n with (1 - rate)^n < 1 - conf: zero failures in n trials then give an upper bound below ``rate``."""
    rate = float(rate)
    if not (math.isfinite(rate) and 0.0 < rate < 1.0):
        raise ValueError(f"rate must lie in (0, 1), got {rate!r}")
    conf = _check_conf(conf)
    with mpmath.workdps(_DPS):
        n = int(mpmath.floor(mpmath.log(1 - mpmath.mpf(conf)) / mpmath.log(1 - mpmath.mpf(rate)))) + 1
    while n > 1 and (1 - rate) ** (n - 1) < 1 - conf:  # guard the float rounding of the formula
        n -= 1
    while (1 - rate) ** n >= 1 - conf:
        n += 1
    return n


@dataclass(frozen=True)
class StatVerdict:
    failures: int
    n: int
    rate: float  # the claimed failure probability
    conf: float
    lower: float
    upper: float
    verdict: str  # PASS / FAIL / INCONCLUSIVE
    samples_needed_zero_failures: int  # n at which 0 failures would give upper < rate

    def as_dict(self) -> dict:
        return asdict(self)


def stat_verdict(failures: int, n: int, rate: float, conf: float = 0.99) -> StatVerdict:
    """PASS iff the upper bound is below ``rate``; FAIL iff the lower bound is above it; else INCONCLUSIVE."""
    x, n = _check_counts(failures, n)
    rate = float(rate)
    if not (math.isfinite(rate) and 0.0 < rate < 1.0):
        raise ValueError(f"rate must lie in (0, 1), got {rate!r}")
    lo, up = cp_lower(x, n, conf), cp_upper(x, n, conf)
    v = PASS if up < rate else FAIL if lo > rate else INCONCLUSIVE
    return StatVerdict(x, n, rate, float(conf), lo, up, v, samples_needed(rate, conf))


def stat_check(name: str, failures: int, n: int, rate: float, conf: float = 0.99, **detail) -> Check:
    """The verdict as a ``Check``: measured = upper bound, bound = rate, detail = every number."""
    sv = stat_verdict(failures, n, rate, conf)
    passed = {PASS: True, FAIL: False, INCONCLUSIVE: None}[sv.verdict]
    return Check(name, passed, sv.upper, rate, {**sv.as_dict(), **detail})
