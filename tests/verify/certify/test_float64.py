"""verify.certify.float64: a sound bound E_fl on |float64 net - exact net| up to the largest float (issue 15, 7)."""

from fractions import Fraction

import numpy as np
import pytest

from constructions.affine import Affine
from constructions.fnn import FNN
from lemmas import clip as lclip
from lemmas import exp as lexp
from lemmas import mult as lmult
from lemmas import square as lsq
from verify.certify.float64 import axis_cells, float64_error
from verify.certify.highprec import net_exact

FMAX = float(np.finfo(np.float64).max)
EXTREMES = [1e18, -1e18, 1e300, -1e300, FMAX, -FMAX, 0.0, -0.0, 5e-324, -5e-324, 0.3, 1.0, 2.5]


def _net(*maps):
    return FNN([Affine.dense(np.array(A, float), np.array(b, float)) for A, b in maps])


def _exact_dev(net, X):
    """max |float64 net - exact net| over the rows of X (exact: rationals on the stored weights)."""
    f = net(X)
    return max(abs(Fraction(float(f[i, j])) - net_exact(net, X[i])[j]) for i in range(len(X)) for j in range(net.d_out))


def old_cancelling_clip(A: float) -> FNN:
    """The spec's clip ρ(x) - ρ(x - A) merged into the next layer (the form the float-robust clip replaces):
    t = clip(x; 0, A), then ρ(t/A - 1/2) and 2 · that."""
    return _net(([[1.0], [1.0]], [0.0, -A]), ([[1.0 / A, -1.0 / A]], [-0.5]), ([[2.0]], [0.0]))


def robust_clip(A: float) -> FNN:
    """The same function through the float-robust clip t = A - ρ(A - ρ(x))."""
    return _net(([[1.0]], [0.0]), ([[-1.0]], [A]), ([[-1.0 / A]], [0.5]), ([[2.0]], [0.0]))


def test_old_cancelling_clip_is_caught_and_robust_clip_is_not():
    A = 3.0
    old, new = old_cancelling_clip(A), robust_clip(A)
    X = np.array([[1e18], [1e300], [FMAX]])
    assert np.all(new(X)[:, 0] == 1.0)  # t = A: 2 ρ(1/2) = 1
    assert np.any(old(X)[:, 0] != 1.0)  # the cancelling form is wrong in float64 at huge x
    r_old = float64_error(old, -FMAX, FMAX, -2 * A, 2 * A)
    r_new = float64_error(new, -FMAX, FMAX, -2 * A, 2 * A)
    assert r_old.E_fl > 1.0  # the analysis sees it: no bound below the output's size
    assert r_new.E_fl < 1e-14 and not r_new.overflow
    for x in EXTREMES:  # and the robust bound holds against exact arithmetic
        assert _exact_dev(new, np.array([[x]])) <= r_new.E_fl


@pytest.mark.parametrize("a,b", [(0.0, 1.0), (-0.5, 1.25), (-3.0, -1.0), (0.5, 4.0)])
def test_clip_bound_holds_at_extremes(a, b):
    c = lclip.build_clip(1, a, b)
    r = float64_error(c.net, -FMAX, FMAX, a - (b - a), b + (b - a))
    assert np.isfinite(r.E_fl) and r.E_fl <= 8 * 2.0 ** -53 * max(abs(a), abs(b), 1.0)
    X = np.array([[x] for x in EXTREMES + [a, b, (a + b) / 2]])
    assert _exact_dev(c.net, X) <= r.E_fl


def test_square_and_mult_bounds_hold_on_random_and_extreme_points():
    rng = np.random.default_rng(0)
    c = lsq.build_square(m=10)
    r = float64_error(c.net, -FMAX, FMAX, -0.5, 1.5)
    X = np.concatenate([rng.uniform(-0.2, 1.2, (30, 1)), np.array([[x] for x in EXTREMES])])
    assert 0 < r.E_fl < 1e-12 and _exact_dev(c.net, X) <= r.E_fl
    m = lmult.build_mult(2.0, 1e-4)
    r = float64_error(m.net, -FMAX, FMAX, -4.0, 4.0, n_central=8, bands=False)
    X = np.concatenate([rng.uniform(-3, 3, (20, 2)), np.array([[x, y] for x in EXTREMES[:8] for y in (1.5, -FMAX)])])
    assert r.E_fl < 1e-11 and _exact_dev(m.net, X) <= r.E_fl


def test_deep_net_stays_bounded_by_the_monotone_chains():
    """exp (200+ layers of sawtooth levels): without the relational bound the errors would grow like 1000 per
    level; with it E_fl stays far below ε, and the net agrees with exact arithmetic within it."""
    c = lexp.build_exp(1e-4)
    r = float64_error(c.net, -FMAX, FMAX, 0.0, 2 * c.params["A"], bands=False)
    assert r.E_fl < 1e-7
    X = np.array([[0.0], [0.7], [3.3], [c.params["A"]], [1e18], [FMAX]])
    assert _exact_dev(c.net, X) <= r.E_fl


def test_overflow_is_detected_and_harmless_overflow_is_not():
    grow = _net(([[4.0]], [0.0]), ([[1.0]], [0.0]))  # 4x overflows for |x| > max/4
    assert float64_error(grow, -FMAX, FMAX, -1.0, 1.0).overflow
    assert np.isinf(float64_error(grow, -FMAX, FMAX, -1.0, 1.0).E_fl)
    # ρ(1 - 4x) reaches -inf for x > max/4, where its ReLU is exactly 0 (one weight): harmless; on x < 0 it is +inf
    dead = _net(([[-4.0]], [1.0]), ([[1.0]], [0.0]))
    assert not float64_error(dead, 0.0, FMAX, 0.0, 1.0).overflow
    assert float64_error(dead, -FMAX, 0.0, -1.0, 0.0).overflow


def test_plan_and_chunked_paths_agree_within_the_bound():
    """Both evaluation paths (compiled plan from 2048 tokens on, per-layer blocks below) sum the same products in
    different orders; the bound covers any order, so they differ by at most 2 E_fl."""
    c = lmult.build_prod(3, 1.5, 1e-3)
    rng = np.random.default_rng(1)
    X = np.concatenate([rng.uniform(-3, 3, (3000, 3)), np.array(EXTREMES[:6])[rng.integers(0, 6, (100, 3))]])
    r = float64_error(c.net, -FMAX, FMAX, -3.0, 3.0, n_central=1, bands=False)
    big = c.net(X)  # plan
    small = np.concatenate([c.net(X[i:i + 500]) for i in range(0, len(X), 500)])  # chunked
    assert np.max(np.abs(big - small)) <= 2 * r.E_fl


def test_nan_and_inf_inputs_are_refused():
    c = lexp.build_exp(1e-2)
    for bad in (np.nan, np.inf, -np.inf):
        with pytest.raises(ValueError, match="NaN or inf"):
            c.net(np.array([[bad]]))
    with pytest.raises(ValueError):
        float64_error(c.net, -np.inf, FMAX)


def test_axis_cells_cover_the_domain():
    e = axis_cells(-FMAX, FMAX, (-2.0, 3.0), 5)
    assert e[0] == -FMAX and e[-1] == FMAX and np.all(np.diff(e) > 0)
    assert np.any(np.isclose(e, -2.0)) and np.any(np.isclose(e, 3.0))
    e = axis_cells(0.0, FMAX, (0.0, 10.0), 4, bands=False)
    assert e[0] == 0.0 and e[-1] == FMAX and len(e) == 7
