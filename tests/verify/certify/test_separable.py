"""The exact separable certificate (verify/certify/separable.py): nets proven to be b + Σ_j G_j(ℓ_j·x) on a box get an
exact signed error range; it equals the builder's attained bound for the product nets, is never exceeded, and
refuses nets that are not separable or not accurate."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from constructions.affine import Affine
from constructions.fnn import FNN
from lemmas import mult as lmult
from verify.certify import highprec as hp
from verify import mutants as mu
from verify.checks import allowance
from verify.certify.separable import NotSeparable, certify_separable_quadratic, decompose

XY = [[0.0, 0.5], [0.5, 0.0]]


@pytest.mark.parametrize("M,eps", [(1.0, 1e-2), (2.0, 1e-6), (3.0, 1e-4)])
def test_product_certificate_is_the_attained_bound_and_holds(M, eps):
    c = lmult.build_mult(M, eps)
    res = certify_separable_quadratic(c.net, XY, [-M, -M], [M, M])
    bound = M * M * 2.0 ** (-2 * c.params["m"])
    assert res.proved and len(res.terms) == 3
    assert abs(res.sup_upper - bound) <= 1e-9 * bound  # exact ranges: the builder's bound, attained
    rng = np.random.default_rng(2)
    X = rng.uniform(-M, M, (100_000, 2))
    assert np.max(np.abs(c.net(X)[:, 0] - X[:, 0] * X[:, 1])) <= res.sup_upper + allowance(c.net, M * M)
    a = M * 2.0 ** (-c.params["m"])  # the attained point x = y = M 2^-m, in exact rational arithmetic
    v = hp.net_exact(c.net, np.array([a, a]))[0]
    assert abs(v - Fraction(a) * Fraction(a)) <= Fraction(res.sup_upper)
    assert abs(v - Fraction(a) * Fraction(a)) >= Fraction(bound) * Fraction(999_999, 1_000_000)


def _random_separable(rng, widths=(3, 4)):
    """x, y in [-1, 1]^2 -> a stable shift layer, then 3 components reading (x+y)/2, x/2, y/2 (random 1-D ReLU
    nets of the given widths), summed with weights 2, -2, -2 plus a bias: xy = 2[((x+y)/2)^2 - (x/2)^2 - (y/2)^2]
    holds for the forms, so the targets are well defined; the nets themselves are arbitrary."""
    forms = [np.array([0.5, 0.5]), np.array([0.5, 0.0]), np.array([0.0, 0.5])]
    maps = [Affine.dense(np.eye(2), np.full(2, 4.0))]  # h = (x + 4, y + 4) > 0 on the box
    blocks = []
    for ell in forms:
        w = [int(rng.integers(2, 5))] + list(widths)
        first = rng.normal(size=w[0])
        A1 = np.outer(first, ell)
        b1 = rng.normal(size=w[0]) - A1 @ np.full(2, 4.0)
        Ws = [(rng.normal(size=(w[i + 1], w[i])), rng.normal(size=w[i + 1])) for i in range(len(w) - 1)]
        blocks.append((A1, b1, Ws, rng.normal(size=w[-1]) * 0.3))
    rows = [b[0] for b in blocks]
    maps.append(Affine.dense(np.concatenate(rows), np.concatenate([b[1] for b in blocks])))
    for li in range(len(widths)):
        W = np.zeros((sum(b[2][li][0].shape[0] for b in blocks), sum(b[2][li][0].shape[1] for b in blocks)))
        bb, r0, c0 = [], 0, 0
        for b in blocks:
            Wi, bi = b[2][li]
            W[r0:r0 + Wi.shape[0], c0:c0 + Wi.shape[1]] = Wi
            r0, c0 = r0 + Wi.shape[0], c0 + Wi.shape[1]
            bb.append(bi)
        maps.append(Affine.dense(W, np.concatenate(bb)))
    out = np.concatenate([s * b[3] for s, b in zip((2.0, -2.0, -2.0), blocks)])
    maps.append(Affine.dense(out[None, :], np.array([rng.normal()])))
    return FNN(maps)


@given(st.integers(0, 2**31))
def test_separable_range_contains_the_exact_error_of_random_separable_nets(seed):
    rng = np.random.default_rng(seed)
    net = _random_separable(rng)
    res = certify_separable_quadratic(net, XY, [-1.0, -1.0], [1.0, 1.0])
    assert res.proved, res.reason
    for x in rng.uniform(-1, 1, (12, 2)).tolist() + [[1.0, 1.0], [-1.0, 1.0], [0.0, 0.0]]:
        v = hp.net_exact(net, np.array(x))[0]
        assert abs(v - Fraction(x[0]) * Fraction(x[1])) <= Fraction(res.sup_upper)


def test_cross_talk_or_a_second_form_is_not_separable():
    c = lmult.build_mult(2.0, 1e-4)
    maps = c.net.affine_maps()
    (r, col, v), b, shape = maps[4]  # (maps 0, 1: the float-robust clip; 2: the rq layer; 3: sawtooth state 1)
    # units 0-2 carry the sawtooth state of (x + y)/2, 3-5 of x/2, 6-8 of y/2; a weight from unit 3 into
    # unit 0 joins two components: no longer a sum of 1-D nets of one linear form each
    other = 3
    r2, c2, v2 = np.append(r, 0), np.append(col, other), np.append(v, 1e-3)
    bad = FNN([Affine.from_coo(*m[0], m[2], m[1]) for m in maps[:4]] + [Affine.from_coo(r2, c2, v2, shape, b)]
              + [Affine.from_coo(*m[0], m[2], m[1]) for m in maps[5:]])
    res = certify_separable_quadratic(bad, XY, [-2.0, -2.0], [2.0, 2.0])
    assert not res.proved and "independent" in res.reason
    with pytest.raises(NotSeparable):
        decompose(bad, [-2.0, -2.0], [2.0, 2.0])


def test_perturbed_product_weight_changes_the_exact_bound():
    c = lmult.build_mult(2.0, 1e-6)
    base = certify_separable_quadratic(c.net, XY, [-2.0, -2.0], [2.0, 2.0]).sup_upper
    for layer in (1, 5, -1):
        bad = mu.perturb_weight(c.net, layer, None, 1e-3)
        res = certify_separable_quadratic(bad, XY, [-2.0, -2.0], [2.0, 2.0])
        assert base <= 1e-6
        if not res.proved:  # a first-layer row of a component no longer a multiple of its form
            assert "independent" in res.reason and layer == 1
            continue
        assert res.sup_upper > 1e-6  # the mutant is not certified at ε = 1e-6
        X = np.random.default_rng(0).uniform(-2, 2, (20_000, 2))
        assert np.max(np.abs(bad(X)[:, 0] - X[:, 0] * X[:, 1])) <= res.sup_upper + allowance(bad, 4.0)
