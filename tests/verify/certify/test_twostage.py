"""The two-stage certificate (verify/certify/twostage.py, verify/certify/lemma_quotient.py, verify/certify/lemma_ratio.py): the split is exact, the certified bounds
of the F.4 quotient and ratio nets are never exceeded, and broken nets are not certified."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from constructions.affine import Affine
from constructions.fnn import FNN
from lemmas import mult as lmult
from lemmas import quotient as lq
from lemmas import ratio as lr
from verify.certify import highprec as hp
from verify import mutants as mu
from verify.certify.lemma_quotient import certify_quotient
from verify.certify.lemma_ratio import certify_ratio
from verify.checks import allowance
from verify.certify.separable import certify_separable_poly
from verify.certify.twostage import NotSplittable, restrict_1d, split

QARGS = (2.0, 0.25, 4.0, 1e-2)
RARGS = (1.0, 1e-2, 2.0, 1e-2)


@pytest.fixture(scope="module")
def quotient():
    return lq.build_quotient(*QARGS)


@pytest.fixture(scope="module")
def ratio():
    return lr.build_ratio(*RARGS)


def _wedge(rng, C, b_min, b_max, n):
    b = np.exp(rng.uniform(np.log(b_min), np.log(b_max), n))
    return np.stack([C * b * rng.uniform(-1, 1, n), b], 1)


@pytest.mark.parametrize("which", ["quotient", "ratio"])
def test_split_is_exact_in_rational_arithmetic(which, request):
    c = request.getfixturevalue(which)
    sp = split(c.net)
    rng = np.random.default_rng(3)
    X = _wedge(rng, 1.0, 0.3, 3.0, 6)
    for x in X:
        y = hp.net_exact(sp.stage1, x)
        assert hp.net_exact(sp.stage2, y) == hp.net_exact(c.net, x)
        for g, dep in enumerate(sp.deps):
            assert len(dep) == 1
            assert hp.net_exact(restrict_1d(sp.stage1, [g], dep[0]), [Fraction(float(x[dep[0]]))]) == [y[g]]
        for g, rg in enumerate(sp.ranges):  # proven clip-pair ranges hold
            assert rg is not None and 0 <= y[g] <= Fraction(int(rg[1].p), int(rg[1].q))


def test_split_refuses_a_unit_that_reads_both_inputs(quotient):
    maps = quotient.net.affine_maps()
    (r, col, v), b, shape = maps[0]
    # the carried a (rows of map 0 that read input 0) also reads b: y_1 is no longer a function of a alone
    ra = int(r[(col == 0) & (v != 0)][0])
    bad = FNN([Affine.from_coo(np.append(r, ra), np.append(col, 1), np.append(v, 1e-6), shape, b)]
              + [Affine.from_coo(*m[0], m[2], m[1]) for m in maps[1:]])
    sp = split(bad, layer=split(quotient.net).layer)
    assert (0, 1) in sp.deps
    res = certify_quotient(bad, *QARGS)
    assert not res["proved"] and not res["certified"] and "one input coordinate" in res["reason"]
    with pytest.raises(NotSplittable):
        restrict_1d(sp.stage1, [sp.deps.index((0, 1))], 0)


def _worst_exact(net, X, bound, k=12):
    """The exact-arithmetic error at the k worst float64 points never exceeds the certified bound."""
    e = np.abs(net(X)[:, 0] - X[:, 0] / X[:, 1])
    for x in X[np.argsort(-e)[:k]]:
        v = hp.net_exact(net, x)[0]
        assert abs(v - Fraction(float(x[0])) / Fraction(float(x[1]))) <= Fraction(bound)
    return float(e.max())


def test_quotient_certificate_holds_and_is_tight(quotient):
    A, b_min, b_max, eps = QARGS
    res = certify_quotient(quotient.net, *QARGS)
    assert res["proved"] and res["certified"], res
    assert res["bound"] <= eps
    # never exceeded: 10^5 float64 points (allowance τ) and the worst of them exactly
    rng = np.random.default_rng(0)
    X = np.stack([rng.uniform(-A, A, 100_000), np.exp(rng.uniform(np.log(b_min), np.log(b_max), 100_000))], 1)
    X = np.concatenate([X, [[A, b_min], [-A, b_min], [A * 2.0 ** -quotient.params["m_q"], b_min]]])
    worst = _worst_exact(quotient.net, X, res["bound"])
    assert worst <= res["bound"] + allowance(quotient.net, A / b_min)
    # the stage-2 bound is the product block's exact bound K 2^-2m_q (attained)
    assert res["E2"] == pytest.approx(A / b_min * 2.0 ** (-2 * quotient.params["m_q"]), rel=1e-9)
    assert worst > 0.3 * res["bound"]  # the certificate is not wildly loose


def test_ratio_certificate_holds(ratio):
    C, b_min, b_max, eps = RARGS
    res = certify_ratio(ratio.net, *RARGS, ratio.notes["break_points"])
    assert res["proved"] and res["certified"], res
    rng = np.random.default_rng(1)
    X = _wedge(rng, C, b_min, b_max, 100_000)
    t = np.array(ratio.notes["break_points"])
    X = np.concatenate([X, np.stack([C * t, t], 1), np.stack([-C * t, t], 1)])
    worst = _worst_exact(ratio.net, X, res["bound"])
    assert worst <= res["bound"] + allowance(ratio.net, C)
    assert len(res["cells"]) == ratio.params["P"]


@pytest.mark.parametrize("layer", [3, -1])
def test_quotient_certificate_fails_on_a_perturbed_weight(quotient, layer):
    """A weight of stage 1 (the rec layers) or of stage 2 (the output map) perturbed by 1%, which breaks the bound
    (a float64 counterexample exists): not certified."""
    A, b_min, b_max, eps = QARGS
    bad = mu.perturb_weight(quotient.net, layer, None, 1e-2)
    rng = np.random.default_rng(2)
    X = np.stack([rng.uniform(-A, A, 20000), np.exp(rng.uniform(np.log(b_min), np.log(b_max), 20000))], 1)
    assert np.max(np.abs(bad(X)[:, 0] - X[:, 0] / X[:, 1])) > eps
    res = certify_quotient(bad, *QARGS)
    assert not res["certified"]


def test_quotient_certificate_fails_on_an_undersized_net():
    A, b_min, b_max, eps = QARGS
    small = lq.build_quotient(A, b_min, b_max, 30 * eps)
    assert not certify_quotient(small.net, *QARGS)["certified"]


def test_ratio_certificate_fails_on_broken_nets(ratio):
    C, b_min, b_max, eps = RARGS
    t = ratio.notes["break_points"]
    rng = np.random.default_rng(4)
    X = _wedge(rng, C, b_min, b_max, 20000)
    for bad in (mu.perturb_weight(ratio.net, 0, None, 1e-2), mu.perturb_weight(ratio.net, 10, None, 1e-1),
                mu.perturb_weight(ratio.net, -1, None, 1e-2),
                lr.build_ratio(C, b_min, b_max, 30 * eps).net):
        assert np.max(np.abs(bad(X)[:, 0] - X[:, 0] / X[:, 1])) > eps  # each breaks the bound
        assert not certify_ratio(bad, *RARGS, t)["certified"]
    # wrong break points (another partition of [b_min, b_max]): the identity no longer matches the net
    wrong = [b_min] + [x * 1.01 for x in t[1:-1]] + [b_max]
    assert not certify_ratio(ratio.net, *RARGS, wrong)["certified"]


XY = [[0.0, 0.5], [0.5, 0.0]]


@given(st.integers(0, 2**31))
def test_separable_poly_with_linear_terms_contains_the_exact_error(seed):
    """The product block against xy + q·x + q0: the bound contains the exact error at random points."""
    rng = np.random.default_rng(seed)
    c = lmult.build_mult(1.0, 1e-3)
    q = [float(v) for v in rng.choice([-1.0, 0.5, 0.0, 0.25, 2.0], 2)]
    q0 = float(rng.choice([0.0, -0.75, 1.5]))
    # the product net plus q·x + q0, carried as ρ(x + 2), ρ(y + 2) (positive on the box) to the output
    maps = c.net.affine_maps()
    (r0, c0, v0), b0, s0 = maps[0]
    n0 = s0[0]
    layers = [Affine.from_coo(np.concatenate([r0, [n0, n0 + 1]]), np.concatenate([c0, [0, 1]]),
                              np.concatenate([v0, [1.0, 1.0]]), (n0 + 2, 2), np.concatenate([b0, [2.0, 2.0]]))]
    prev = n0
    for (r, col, v), b, shape in maps[1:-1]:
        layers.append(Affine.from_coo(np.concatenate([r, shape[0] + np.arange(2)]),
                                      np.concatenate([col, prev + np.arange(2)]),
                                      np.concatenate([v, np.ones(2)]), (shape[0] + 2, shape[1] + 2),
                                      np.concatenate([b, np.zeros(2)])))
        prev = shape[0]
    (r, col, v), b, shape = maps[-1]
    layers.append(Affine.from_coo(np.concatenate([r, np.zeros(2, dtype=np.int64)]),
                                  np.concatenate([col, prev + np.arange(2)]),
                                  np.concatenate([v, q]), (1, shape[1] + 2), b + q0 - 2 * (q[0] + q[1])))
    net = FNN(layers)
    res = certify_separable_poly(net, XY, q, q0, [-1.0, -1.0], [1.0, 1.0])
    assert res.proved, res.reason
    assert res.sup_upper == pytest.approx(2.0 ** (-2 * c.params["m"]), rel=1e-6)
    for x in rng.uniform(-1, 1, (10, 2)).tolist() + [[2.0 ** -c.params["m"]] * 2, [1.0, -1.0]]:
        v = hp.net_exact(net, np.array(x))[0]
        fx, fy = Fraction(x[0]), Fraction(x[1])
        assert abs(v - (fx * fy + Fraction(q[0]) * fx + Fraction(q[1]) * fy + Fraction(q0))) <= Fraction(res.sup_upper)
    # a wrong linear target is not certified within the product bound
    off = certify_separable_poly(net, XY, [q[0] + 1e-3, q[1]], q0, [-1.0, -1.0], [1.0, 1.0])
    assert not off.proved or off.sup_upper > 2 * res.sup_upper
