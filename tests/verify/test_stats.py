
import mpmath
import numpy as np
import pytest

from verify import stats


def binom_cdf(x, n, p):
    with mpmath.workdps(50):
        p = mpmath.mpf(p)
        return sum(mpmath.binomial(n, i) * p ** i * (1 - p) ** (n - i) for i in range(x + 1))


@pytest.mark.parametrize("x,n", [(0, 10), (1, 10), (3, 100), (17, 400), (9, 10)])
def test_cp_bounds_solve_their_defining_equations(x, n):
    u, lo = stats.cp_upper(x, n), stats.cp_lower(x, n)
    assert abs(binom_cdf(x, n, u) - 0.01) < 1e-12  # P[Bin(n, U) <= x] = α
    if x:
        assert abs((1 - binom_cdf(x - 1, n, lo)) - 0.01) < 1e-12  # P[Bin(n, L) >= x] = α
    assert lo <= x / n < u and (lo < x / n or x == 0)


def test_cp_edge_cases():
    assert stats.cp_upper(0, 200) == pytest.approx(1 - 0.01 ** (1 / 200), rel=1e-14)
    assert stats.cp_lower(0, 50) == 0.0 and stats.cp_upper(50, 50) == 1.0
    for bad in ((-1, 5), (6, 5), (0, 0), (1.5, 4)):
        with pytest.raises(ValueError):
            stats.cp_upper(*bad)
    with pytest.raises(ValueError):
        stats.stat_verdict(0, 10, 1.5)
    with pytest.raises(ValueError):
        stats.cp_upper(0, 10, conf=1.0)


def test_samples_needed():
    for rate in (0.5, 0.1, 1 / 32, 1e-3):
        n = stats.samples_needed(rate)
        assert stats.cp_upper(0, n) < rate <= stats.cp_upper(0, n - 1)


@pytest.mark.parametrize("p,expected", [(0.002, "PASS"), (0.05, "FAIL")])
def test_verdicts_on_bernoulli_sources(p, expected):
    # claimed rate 0.01: a source well below it passes, one well above fails
    rng = np.random.default_rng(7)
    x = int(np.sum(rng.random(5000) < p))
    assert stats.stat_verdict(x, 5000, 0.01).verdict == expected


def test_verdict_at_the_threshold_is_inconclusive():
    rng = np.random.default_rng(8)
    x = int(np.sum(rng.random(2000) < 0.01))
    v = stats.stat_verdict(x, 2000, 0.01)
    assert v.verdict == "INCONCLUSIVE" and v.lower <= 0.01 <= v.upper
    c = stats.stat_check("c", x, 2000, 0.01)
    assert c.passed is None and c.status == "INCONCLUSIVE"
    assert stats.stat_check("c", 0, 2000, 0.01).status == "PASS"
    assert stats.stat_check("c", 100, 2000, 0.01).status == "FAIL"
