"""Every scalar claim's default net at the extremes of float64 (issue 15, item 7): ±1e18, ±1e300, ±the largest
float, -0.0 and ±5e-324, against the exact target (the clipped continuation where the lemma defines the net on
all of R^d), within ε plus the float64 allowance τ = S eps64 V; and the float-robust clips keep the F.5 / F.6
domain property F(x) = F(clip(x; -R, R)) at those inputs."""

import numpy as np
import pytest

from verify.checks import allowance
from verify.claims.common import EXTREMES, extreme_points
from verify.registry import load_all

REG = load_all()
FMAX = float(np.finfo(np.float64).max)


def _default(cid):
    p = REG[cid].defaults()
    return REG[cid].build(p), p


def _assert_within(c, P, target, eps, V):
    with np.errstate(over="ignore", invalid="ignore"):
        err = np.abs(c.net(P)[:, 0] - target(P))
    tau = allowance(c.net, V)
    assert np.all(np.isfinite(err)), P[~np.isfinite(err)]
    assert err.max() <= eps + tau, (P[int(np.argmax(err))], err.max(), eps + tau)


def test_extreme_points_include_every_extreme():
    P = extreme_points(1, -FMAX, FMAX, 0.0)
    for v in EXTREMES:
        assert np.any((P[:, 0] == v) & (np.signbit(P[:, 0]) == np.signbit(v)))
    assert extreme_points(3, -1.0, 1.0, 0.0).shape[1] == 3


def test_clip():
    c, p = _default("lemma-F.2-clip")
    a, b = p["a"], p["b"]
    P = extreme_points(c.net.d_in, -FMAX, FMAX, 0.0)
    err = np.abs(c.net(P) - np.clip(P, a, b)).max()
    assert err <= 8 * 2.0 ** -53 * max(abs(a), abs(b), 1.0)


def test_square():
    c, p = _default("lemma-F.3-square")
    P = extreme_points(1, -FMAX, FMAX, 0.5)
    _assert_within(c, P, lambda X: np.clip(X[:, 0], 0, 1) ** 2, 2.0 ** (-2 * p["m"] - 2), 1.0)


@pytest.mark.parametrize("cid", ["lemma-F.3-mult", "lemma-F.3-prod"])
def test_products(cid):
    c, p = _default(cid)
    C = p.get("M", p.get("C"))
    d = c.net.d_in
    P = extreme_points(d, -FMAX, FMAX, 0.5 * C)
    _assert_within(c, P, lambda X: np.prod(np.clip(X, -C, C), axis=1), p["eps"], C ** d)
    # an exact zero stays exactly zero wherever the others are
    Z = P.copy()
    Z[:, 0] = 0.0
    assert np.all(c.net(Z)[:, 0] == 0.0)


def test_exp():
    c, p = _default("lemma-F.3-exp")
    P = extreme_points(1, -FMAX, FMAX, 1.0)
    _assert_within(c, P, lambda X: np.exp(-np.maximum(X[:, 0], 0.0)), p["eps"], 1.0)
    assert np.all(c.net(np.array([[1e18], [1e300], [FMAX]]))[:, 0] < 2 * p["eps"])  # the reported 1.0 is gone


def test_rec():
    c, p = _default("lemma-F.3-rec")
    xm, aP = c.params["x_min"], c.params["a_P"]
    P = extreme_points(1, -FMAX, FMAX, 1.0)
    _assert_within(c, P, lambda X: 1.0 / np.clip(X[:, 0], xm, aP), p["eps"], 1.0 / xm)


def test_cos():
    c, p = _default("lemma-F.3-cos")
    al, be = c.notes["alpha"], c.notes["beta"]

    def target(X):
        t = al * X[:, 0] + be
        return np.where((t >= 0) & (t <= 1), np.cos(p["a"] * X[:, 0] - p["b"]), 1.0)

    _assert_within(c, extreme_points(1, -FMAX, FMAX, 0.0), target, p["eps"], c.notes["V"])


def test_quotient():
    c, p = _default("lemma-F.4-quotient")
    A, bm, aP = p["A"], p["b_min"], c.params["a_P"]
    P = extreme_points(2, -FMAX, FMAX, [0.5 * A, bm])
    _assert_within(c, P, lambda X: np.clip(X[:, 0], -A, A) / np.clip(X[:, 1], bm, aP), p["eps"], A / bm)


def test_ratio_on_the_wedge_extremes():
    c, p = _default("lemma-F.4-ratio")
    C, bm, bM = p["C"], p["b_min"], p["b_max"]
    bs = np.array([bm, np.nextafter(bm, np.inf), 1.0, bM])
    P = np.concatenate([np.stack([s * C * bs, bs], 1) for s in (1.0, -1.0)]
                       + [np.stack([np.full(4, v), bs], 1) for v in (0.0, -0.0, 5e-324, -5e-324)])
    _assert_within(c, P, lambda X: X[:, 0] / X[:, 1], p["eps"], C)


@pytest.mark.parametrize("cid", ["lemma-F.5-network", "lemma-F.6-network"])
def test_kernel_feature_domain_property_at_the_extremes(cid):
    c, p = _default(cid)
    R, d = p["R"], c.net.d_in
    P = extreme_points(d, -FMAX, FMAX, 0.5 * R)
    dev = np.abs(c.net(P) - c.net(np.clip(P, -R, R))).max()
    assert dev <= c.notes["tau_factor"]
