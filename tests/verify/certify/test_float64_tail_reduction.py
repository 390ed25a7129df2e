"""verify.certify.float64.clip_tail_reduction: the input clips saturate in float64 and in exact arithmetic, so a
net's E_fl over R^d is its E_fl over the clip box (issue 15, item 7); cancelling clips and overflowing weights are
refused."""

import numpy as np

from constructions import algebra
from constructions.affine import Affine
from constructions.fnn import FNN
from lemmas import clip as lclip
from lemmas import gauss_kernel_net as gn
from verify.certify.float64 import clip_tail_reduction
from verify.certify.highprec import net_exact

FMAX = float(np.finfo(np.float64).max)
HUGE = [1e18, -1e18, 1e300, -1e300, FMAX, -FMAX, 1.0 + 2.0 ** -52, -1.0 - 2.0 ** -52, 3.0, -7.5]


def _net(*maps):
    return FNN([Affine.dense(np.array(A, float), np.array(b, float)) for A, b in maps])


def cancelling_clip(d: int, R: float) -> FNN:
    """The spec's clip ρ(x + R) - ρ(x - R) - R (a difference of two unbounded ramps), coordinate-wise."""
    eye = np.eye(d)
    return FNN([Affine.dense(np.vstack([eye, eye]), np.concatenate([np.full(d, R), np.full(d, -R)])),
                Affine.dense(np.hstack([eye, -eye]), np.full(d, -R))])


def test_robust_clip_net_reduces_to_its_box_in_both_arithmetics():
    a, b = -0.5, 1.25
    c = lclip.build_clip(2, a, b)
    r = clip_tail_reduction(algebra.compose(_net(([[1.0, 2.0]], [0.0]), ([[1.0]], [0.0])), c.net), a, b)
    assert r.proved, r.reason
    assert {t["side"] for t in r.tails} == {"+", "-"} and len(r.tails) == 4
    net = algebra.compose(_net(([[1.0, 2.0]], [0.0]), ([[1.0]], [0.0])), c.net)
    for x in HUGE:
        X = np.array([[x, -x]])
        Xc = np.clip(X, a, b)
        assert np.array_equal(net(X), net(Xc))  # float64: identical
        assert net_exact(net, X[0]) == net_exact(net, Xc[0])  # exact rationals: identical


def test_feature_net_F6_reduces_and_a_box_inside_the_clip_does_not():
    c = gn.build_kernel_features(2, 1.0, 1e-2, 1)
    r = clip_tail_reduction(c.net, -1.0, 1.0)
    assert r.proved, r.reason
    r2 = clip_tail_reduction(c.net, -0.9, 0.9)  # the clip saturates at ±1, not before
    assert not r2.proved and "not <= 0" in r2.reason
    X = np.array([[x, y] for x in HUGE for y in (0.3, 1e300)])
    assert np.array_equal(c.net(X), c.net(np.clip(X, -1.0, 1.0)))


def test_cancelling_clip_inside_the_F6_net_is_refused_and_really_breaks():
    c = gn.build_kernel_features(2, 1.0, 1e-2, 1)
    bad = algebra.compose(c.net, cancelling_clip(2, 1.0))  # exact arithmetic: the same function
    r = clip_tail_reduction(bad, -1.0, 1.0)
    assert not r.proved and "2 varying units" in r.reason
    X = np.array([[1e18, 0.25]])
    assert np.max(np.abs(bad(X) - c.net(X))) > 1e-3  # float64: the cancelling clip returns -R instead of R


def test_overflowing_first_weight_is_refused():
    s = 2.0 ** 600  # exact in rationals: the net is the clip; in float64 s * FMAX overflows
    net = _net(([[s]], [s]), ([[-1.0 / s]], [2.0]), ([[-1.0]], [1.0]), ([[1.0]], [0.0]))
    r = clip_tail_reduction(net, -1.0, 1.0)
    assert not r.proved and "overflows" in r.reason
    ok = clip_tail_reduction(_net(([[1.0]], [1.0]), ([[-1.0]], [2.0]), ([[-1.0]], [1.0]), ([[1.0]], [0.0])), -1.0, 1.0)
    assert ok.proved, ok.reason


def test_row_growing_outward_and_mixed_rows_are_refused():
    # second row grows with x (w s v > 0): no saturation
    up = _net(([[1.0]], [1.0]), ([[1.0]], [-2.0]), ([[1.0]], [0.0]))
    r = clip_tail_reduction(up, -1.0, 1.0)
    assert not r.proved and "grows outward" in r.reason
    # second row mixes two coordinates: not decided coordinate-wise
    mix = _net(([[1.0, 0.0], [0.0, 1.0]], [1.0, 1.0]), ([[-1.0, -1.0]], [2.0]), ([[1.0]], [0.0]))
    r = clip_tail_reduction(mix, -1.0, 1.0)
    assert not r.proved
    # a first-layer row reading two inputs
    two = _net(([[1.0, 1.0]], [1.0]), ([[-1.0]], [2.0]), ([[1.0]], [0.0]))
    assert "reads 2 inputs" in clip_tail_reduction(two, -1.0, 1.0).reason
    # too shallow
    assert not clip_tail_reduction(_net(([[1.0]], [1.0]), ([[1.0]], [0.0])), -1.0, 1.0).proved


def test_bad_box_is_refused():
    import pytest

    c = lclip.build_clip(1, 0.0, 1.0)
    with pytest.raises(ValueError):
        clip_tail_reduction(c.net, 1.0, 0.0)
    with pytest.raises(ValueError):
        clip_tail_reduction(c.net, -np.inf, 0.0)
