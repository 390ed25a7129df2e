"""The product-tree cascade (verify/certify/cascade.py) and the d >= 2 feature-net certificate (verify/certify/lemma_gauss_kernel_net.py):
certified bounds are never exceeded (float64 with the allowance, and exactly at the worst points), they match the
builders' own bounds where those are exact, and broken nets are not certified."""

from fractions import Fraction

import mpmath
import numpy as np
import pytest
from flint import fmpq

from constructions.algebra import compose, drop_copies, identity
from lemmas import gauss_kernel_net as gn
from lemmas.mult import build_prod, prod_error_bound, tree_shape
from verify.certify import highprec as hp
from verify import mutants as mu
from verify.certify.cascade import Value, certify_cascade
from verify.certify.lemma_gauss_kernel_net import certify_kernel_factors
from verify.certify.twostage import NotSplittable


def _leaves(d):
    return [Value(fmpq(0), 0, -1.0, 1.0)] * d


@pytest.mark.parametrize("d, eps", [(2, 1e-4), (3, 1e-4), (5, 1e-4)])
def test_cascade_bounds_prod_trees_and_holds(d, eps):
    c = build_prod(d, 1.0, eps)
    res = certify_cascade(c.net, _leaves(d), fmpq(1))
    delta = float(res["delta"])
    assert delta <= prod_error_bound(d, 1.0, c.params["m"])  # never above the builder's (2^k - 1) 2^-2m
    # one cut per later level's clip layer (the first level's float-robust clip has no clip pairs: the first stage
    # runs from the leaves to the second level's clip layer)
    assert res["levels"] == len(tree_shape(d)) - 1
    rng = np.random.default_rng(d)
    X = rng.uniform(-1, 1, (20000, d))
    X[:50] = 2.0 ** -c.params["m"] * rng.choice([-1.0, 1.0], (50, d))  # near the attained worst case of a block
    e = np.abs(c.net(X)[:, 0] - np.prod(X, 1))
    assert e.max() <= delta + 1e-12
    for x in X[np.argsort(-e)[:8]]:
        exact = Fraction(1)
        for v in x:
            exact *= Fraction(float(v))
        assert abs(hp.net_exact(c.net, x)[0] - exact) <= Fraction(delta)
    if d == 2:  # one block: the exact attained bound 2^-2m
        assert delta == 2.0 ** (-2 * c.params["m"])


def test_cascade_refuses_a_perturbed_tree_beyond_its_bound():
    c = build_prod(4, 1.0, 1e-4)
    base = float(certify_cascade(c.net, _leaves(4), fmpq(1))["delta"])
    bad = mu.perturb_weight(c.net, -1, None, 1e-3)  # the read-out scaled by 1 + 1e-3: errors up to 1e-3
    try:
        worse = float(certify_cascade(bad, _leaves(4), fmpq(1))["delta"])
    except NotSplittable:
        return
    assert worse > 1e-3 > base


def test_drop_copies_keeps_the_function():
    c = build_prod(3, 1.0, 1e-3)
    padded = compose(identity(1, 5), c.net)
    slim = drop_copies(padded)
    assert slim.depth < padded.depth
    X = np.random.default_rng(0).uniform(-1, 1, (500, 3))
    assert np.array_equal(slim(X), padded(X)) or np.allclose(slim(X), padded(X), rtol=0, atol=1e-15)


@pytest.fixture(scope="module")
def f6():
    c = gn.build_kernel_features(2, 1.0, 1e-3, 1)
    ex = c.notes["expansion"]
    res = certify_kernel_factors(c.net, 1.0, ex.alphas, ex.coef, c.params["eta"] / 8)
    return c, res


@pytest.mark.slow
def test_f6_factor_certificate_holds(f6):
    c, res = f6
    assert res["proved"], res
    deltas = np.array(res["deltas"])
    assert np.all(deltas <= c.params["eta"])
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.uniform(-1, 1, (20000, 2)), [[1, 1], [-1, 1], [0, 0], [1, 0], [0.5, -0.25]]])
    E = np.abs(gn.feature_matrix(c, X) - gn.reference_features(c, X))
    tau = c.notes["tau_factor"]
    assert np.all(E <= deltas[None, :] + tau)
    # the worst point of the worst factor, exactly (rational net, 50-digit target)
    j = int(np.argmax(E.max(0) / deltas))
    x = X[int(np.argmax(E[:, j]))]
    a = c.notes["expansion"].alphas[j]
    cf = float(c.notes["expansion"].coef[j])
    v = hp.net_exact(c.net, x)[j]
    with mpmath.workdps(50):
        t = mpmath.mpf(cf) * mpmath.exp(-(mpmath.mpf(x[0]) ** 2 + mpmath.mpf(x[1]) ** 2)) \
            * mpmath.mpf(x[0]) ** int(a[0]) * mpmath.mpf(x[1]) ** int(a[1])
        assert abs(mpmath.mpf(v.numerator) / v.denominator - t) <= deltas[j]


@pytest.mark.slow
def test_f6_factor_certificate_fails_on_broken_nets(f6):
    """Nets whose factor error exceeds η (a float64 counterexample exists) are not certified: the read-out or a
    square's weight perturbed by 1%, a product block's weight perturbed by 1%, the net built for 30 η."""
    c, good = f6
    ex = c.notes["expansion"]
    eta = c.params["eta"]
    X = np.random.default_rng(1).uniform(-1, 1, (20000, 2))
    bads = [mu.perturb_weight(c.net, layer, None, 1e-2) for layer in (-1, 5, 220)]
    bads.append(gn.build_kernel_features(2, 1.0, 1e-3, 1, eta=30 * eta).net)
    for bad in bads:
        assert np.abs(bad(X) - gn.reference_features(c, X)).max() > eta  # the mutant breaks the bound
        res = certify_kernel_factors(bad, 1.0, ex.alphas, ex.coef, eta / 8)
        assert not res["proved"] or max(res["deltas"]) > eta
    # the targets of another expansion order (outputs no longer match): refused
    res = certify_kernel_factors(c.net, 1.0, ex.alphas[:-1], ex.coef[:-1], eta / 8)
    assert not res["proved"]


# ------------------------------------------------------------------------------- Lemma 3.3 f_1 features
@pytest.fixture(scope="module")
def small_block():
    from lemmas import attention as la
    return la.build_attention(1, 1, 64, 1.0, 0.3, 1.0, "chebyshev")


def test_f1_feature_certificate_holds(small_block):
    from verify.certify.lemma_attention import certify_features, feature_targets
    blk = small_block.net
    res = certify_features(blk.f1, blk.alphas, 1, 1, 64)
    assert res["proved"], res
    deltas = np.array(res["deltas"])
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.uniform(-1, 1, (20000, 3)), [[1, 1, 1], [-1, 1, -1], [2.0 ** -9] * 3]])
    F = blk.f1(X)
    for j, (name, mono, scale) in enumerate(feature_targets(blk.alphas, 1, 1, 64)):
        target = float(scale) * np.prod(X ** np.array(mono), axis=1)
        e = np.abs(F[:, j] - target)
        assert e.max() <= deltas[j] + 1e-14, name
        x = X[int(np.argmax(e))]  # the worst point, exactly
        exact = Fraction(int(scale.p), int(scale.q))
        for v, k in zip(x, mono):
            exact *= Fraction(float(v)) ** int(k)
        assert abs(hp.net_exact(blk.f1, x)[j] - exact) <= Fraction(deltas[j])


def test_f1_feature_certificate_fails_on_broken_nets(small_block):
    from verify.certify.lemma_attention import certify_features, feature_targets
    blk = small_block.net
    good = certify_features(blk.f1, blk.alphas, 1, 1, 64)
    X = np.random.default_rng(1).uniform(-1, 1, (20000, 3))
    T = feature_targets(blk.alphas, 1, 1, 64)
    ref_f = np.stack([float(s) * np.prod(X ** np.array(m), axis=1) for _, m, s in T], 1)
    for layer in (0, 10, -1):
        bad = mu.perturb_weight(blk.f1, layer, None, 1e-2)
        worst = np.abs(bad(X) - ref_f).max(0)
        assert np.any(worst > np.array(good["deltas"]) + 1e-12)  # the mutant moves some feature beyond its bound
        res = certify_features(bad, blk.alphas, 1, 1, 64)
        assert not res["proved"] or np.any(np.array(res["deltas"]) >= worst - 1e-15)
        assert not res["proved"] or res["deltas"] != good["deltas"]
    # the exponents are checked: the same net read against the monomials of a shifted term list is refused
    shifted = tuple(tuple(int(v) + 1 for v in a) for a in blk.alphas)
    assert not certify_features(blk.f1, shifted, 1, 1, 64)["proved"]


def test_f1_feature_check_of_the_claim_does_not_pass_a_broken_f1(small_block):
    """The claim-level check (verify/claims/attention.features_check): PASS on the built block, not PASS when a
    weight of f_1 is perturbed by 1% (its certified δ_j exceed the builder's shares)."""
    import dataclasses

    from lemmas.base import Construction
    from verify.claims.attention import features_check
    c = small_block
    assert features_check(c).passed is True
    # layer m + 2: the rq layer of f_1's second level (a perturbed sawtooth input is no longer separable)
    for layer, why in ((5, "exceeds"), (-1, "exceeds"), (c.notes["m"] + 2, "not certified")):
        bad_blk = dataclasses.replace(c.net, f1=mu.perturb_weight(c.net.f1, layer, None, 1e-2))
        chk = features_check(Construction(bad_blk, c.formula, c.params, c.notes))
        assert chk.passed is not True and why in chk.detail["reason"], (layer, chk.detail)
