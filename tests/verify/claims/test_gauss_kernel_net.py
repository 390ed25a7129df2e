"""Lemmas F.5 / F.6 items 1 and 3 (``lemmas.gauss_kernel_net``, claims lemma-F.5-network / lemma-F.6-network):
the claims PASS at their defaults; counts equal the formula; every check FAILS on a broken construction
(a feature term removed, a perturbed weight, a factor net built for a larger ε or η, K one too small, a
non-clipping net, a too-small rounding allowance); hypothesis property tests of the bounds."""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from constructions import algebra
from lemmas import gauss_kernel as gk
from lemmas import gauss_kernel_net as gn
from lemmas.base import Construction
from verify.certify import highprec as hp
from verify import mutants as mu
from verify import reference as ref
from verify.checks import EPS64, counts_of
from verify.claims import gauss_kernel_net as kn
from verify.registry import load_all, run_claim

REG = load_all()
FAST = settings(derandomize=True, deadline=None, max_examples=12)


def _bad(r):
    return [(c.name, c.status, c.measured, c.bound) for c in r.checks if c.status != "PASS"]


def _failed(checks):
    return {c.name for c in checks if c.status == "FAIL"}


def _has(names, *parts):
    return any(all(p in n for p in parts) for n in names)


_CACHE = {}


def _built(d, R, eps, item):
    key = (d, R, eps, item)
    if key not in _CACHE:
        _CACHE[key] = gn.build_kernel_features(d, R, eps, item)
    return _CACHE[key]


@pytest.mark.slow
@pytest.mark.parametrize("cid", ["lemma-F.5-network", "lemma-F.6-network"])
def test_claims_pass(cid):
    r = run_claim(REG[cid], seed=3)
    # d = 1 (F.5): per-factor branch-and-bound; d = 2 (F.6): leaf cut + product-tree cascade (docs/certification.md)
    assert r.verdict == "CERTIFIED", _bad(r)
    for item in ("item1", "item3"):
        assert r.counts[item] == r.formula[item]
    d = 1 if cid == "lemma-F.5-network" else int(r.params["d"])
    R = r.params["R"]
    rng = np.random.default_rng(5)
    for item in (1, 3):
        chk = next(c for c in r.checks if c.name.startswith(f"item {item}: certified"))
        assert chk.certified and chk.measured <= r.params["eps"]
        c = gn.build_kernel_features(d, R, r.params["eps"], item)
        delta = np.array(chk.detail["factor_bounds_delta_alpha"])
        assert np.all(delta <= c.params["eta"])
        # every factor's certified bound holds on 10^5 float64 points (allowance τ) and 20 points in arb
        X = rng.uniform(-R, R, (100_000, d))
        F, Fr = gn.feature_matrices(c, X)
        assert np.all(np.abs(F - Fr).max(axis=0) <= delta + kn.factor_tau(c))
        Y = rng.uniform(-R, R, (20, d))
        lo, hi, _ = hp.fnn_arb(c.net, Y, prec=120)
        for y, a_row, b_row in zip(Y, lo, hi):
            exact = c.notes["expansion"].features_mp(list(y), dps=50)
            for j, t in enumerate(exact):
                assert max(abs(mpmath.mpf(float(a_row[j])) - t), abs(mpmath.mpf(float(b_row[j])) - t)) <= delta[j]
        # and the composed kernel bound holds on random pairs of the ball ‖x‖, ‖y‖ <= R (the statement's domain)
        P, Q = rng.uniform(-1, 1, (2, 20_000, d)) * R
        P /= np.maximum(1.0, np.linalg.norm(P, axis=1, keepdims=True) / R)
        Q /= np.maximum(1.0, np.linalg.norm(Q, axis=1, keepdims=True) / R)
        err = np.abs(gn.kernel_pairs(c, P, Q) - ref.gauss_kernel(P, Q))
        assert err.max() <= chk.measured + kn.kernel_tau(c)


def test_kernel_certificate_refuses_a_broken_factor():
    c = gn.build_kernel_features(1, 0.5, 1e-2, 1)
    chk = kn.certificate_check(c, "")
    assert chk.certified and chk.passed
    bad = Construction(mu.perturb_weight(c.net, -1, 2, 1e-2), c.formula, c.params, c.notes)
    chk = kn.certificate_check(bad, "")
    assert not chk.certified and chk.passed is not True


@pytest.mark.parametrize("d,R,eps,item", [(1, 0.5, 1e-2, 1), (1, 2.0, 1e-3, 3), (2, 0.7, 1e-2, 3), (2, 1.5, 1e-3, 1),
                                          (3, 1.0, 1e-2, 1), (3, 0.4, 1e-3, 3), (4, 0.5, 1e-2, 1)])
def test_counts_equal_formula(d, R, eps, item):
    c = gn.build_kernel_features(d, R, eps, item)
    m = kn.measured_counts(c)
    assert all(m[k] == c.formula[k] for k in ("L", "W", "S", "B", "T", "K")), (m, c.formula)
    assert m["T"] == math.comb(m["K"] - 1 + d, d)
    assert c.notes["truncation_bound"] + c.notes["network_bound"] <= eps


# ------------------------------------------------------------------------------------------ mutants
def _run_mut(cid, mutate, item=1, **over):
    p = REG[cid].defaults()
    p.update({"item": item, "growth_eps": 0, "rounding": 0, **over})
    return REG[cid].run(p, np.random.default_rng(0), mutate)


def _drop_term(i):
    def mut(c):
        T = c.net.d_out
        keep = np.eye(T)[np.arange(T) != i]
        return Construction(algebra.linear(c.net, keep), c.formula, c.params,
                            {**c.notes, "expansion": c.notes["expansion"].without(i)})
    return mut


@pytest.mark.slow
@pytest.mark.parametrize("cid,item", [("lemma-F.5-network", 1), ("lemma-F.5-network", 3), ("lemma-F.6-network", 3)])
def test_dropped_term_fails(cid, item):
    c = _built(1 if cid.endswith("F.5-network") else 2, 1.0, REG[cid].params["eps"], item)
    al = c.notes["expansion"].alphas
    top = [i for i, a in enumerate(al) if a[0] == a.sum() == al.sum(1).max()][0]
    for i in (0, top):  # the constant term and the highest pure term
        r = _run_mut(cid, _drop_term(i), item)
        f = _failed(r.checks)
        assert r.verdict == "FAIL" and _has(f, "counts"), i
        assert _has(f, "kernel <= ε", "x = y"), (i, f)  # the error at the worst case exceeds ε, too


@pytest.mark.slow
@pytest.mark.parametrize("layer,k", [(0, None), (5, None), (-2, 0), (-1, None)])
def test_perturbed_weight_fails(layer, k):
    """A weight times 1.01 (k None: the largest of the map).  Not every perturbation must break the lemma: a
    weight of a deep sawtooth level enters with 4^{-level} and may stay below η (e.g. the largest weight of
    map -2 in d = 1); these four do break it."""
    def mut(c):
        return Construction(mu.perturb_weight(c.net, layer, k, 1e-2), c.formula, c.params, c.notes)
    for cid in ("lemma-F.5-network", "lemma-F.6-network"):
        r = _run_mut(cid, mut, 3)
        f = _failed(r.checks)
        assert r.verdict == "FAIL" and _has(f, "per factor"), (cid, layer, f)


@pytest.mark.slow
def test_perturbed_weight_in_the_exp_stage_fails():
    c = _built(1, 1.0, 1e-4, 1)
    L1 = c.params["m_s"] + 3  # + 1 for the float-robust clip of x that now opens the net

    def mut(c):  # map L1 - 1 is N1's read-out merged with the exp net's first map (it reads s' = Σ squares)
        return Construction(mu.perturb_weight(c.net, L1 - 1, None, 1e-3), c.formula, c.params, c.notes)
    r = _run_mut("lemma-F.5-network", mut, 1)
    assert r.verdict == "FAIL" and _has(_failed(r.checks), "per factor")


@pytest.mark.slow
def test_factor_net_for_larger_eta_fails():
    """Same K, factor nets built for 1000 η: the per-factor checks fail (and the counts)."""
    for cid, d in (("lemma-F.5-network", 1), ("lemma-F.6-network", 2)):
        eps = REG[cid].params["eps"]

        def mut(c):
            coarse = gn.build_kernel_features(d, 1.0, eps, c.params["item"], eta=1000 * c.notes["eta"])
            return Construction(coarse.net, c.formula, c.params, c.notes)
        r = _run_mut(cid, mut, 1)
        f = _failed(r.checks)
        assert _has(f, "counts") and _has(f, "per factor", "grid") and _has(f, "per factor", "random"), (cid, f)


def test_net_built_for_larger_eps_fails():
    def mut(c):
        return Construction(gn.build_kernel_features(1, 1.0, 100 * c.params["eps"], c.params["item"]).net, c.formula,
                            c.params, c.notes)
    r = _run_mut("lemma-F.5-network", mut, 1)
    f = _failed(r.checks)
    assert r.verdict == "FAIL" and _has(f, "counts") and _has(f, "outputs match")


@pytest.mark.slow
def test_K_one_too_small_fails():
    for item in (1, 3):
        def mut(c):
            return gn.build_kernel_features(1, 1.0, c.params["eps"], item, K=c.params["K"] - 1)
        r = _run_mut("lemma-F.5-network", mut, item)
        f = _failed(r.checks)
        assert _has(f, "budget") and _has(f, "x = y") and _has(f, "grid of the ball"), f  # its own formula: counts agree


@pytest.mark.slow
def test_non_clipping_net_fails_domain_check():
    def mut(c):
        T, d = c.net.d_out, c.net.d_in
        leak = algebra.affine(np.full((T, d), 1e-6))
        return Construction(algebra.sum_nets(c.net, leak), c.formula, c.params, c.notes)
    r = _run_mut("lemma-F.5-network", mut, 1)
    assert _has(_failed(r.checks), "domain")


def test_rounding_check_fails_with_too_small_allowance():
    c = _built(1, 1.0, 1e-4, 1)
    bad = Construction(c.net, c.formula, c.params, {**c.notes, "tau_alpha": c.notes["tau_alpha"] * 1e-4})
    ok = kn.rounding_check(c, np.random.default_rng(0), "")
    assert ok.status == "PASS" and ok.measured < 0.05
    assert kn.rounding_check(bad, np.random.default_rng(0), "").status == "FAIL"


def test_rounding_allowance_covers_float64_d2():
    """d = 2, item 3: float64 vs 60 digits is far inside τ_α (measured ratio reported, < 5%)."""
    c = gn.build_kernel_features(2, 0.5, 1e-2, 3)
    ch = kn.rounding_check(c, np.random.default_rng(1), "")
    assert ch.status == "PASS" and ch.measured < 0.05


def test_growth_check_fails_on_wrong_counts(monkeypatch):
    real = gn.build_kernel_features

    def wrong(*a, **k):
        c = real(*a, **k)
        return Construction(c.net, {**c.formula, "S": c.formula["S"] + 1}, c.params, c.notes)
    monkeypatch.setattr(kn.gn, "build_kernel_features", wrong)
    ch = kn.growth_check(1, 1.0, 1, [1e-1, 1e-2], "")
    assert ch.status == "FAIL"


def test_growth_below_float64_floor_is_inconclusive():
    ch = kn.growth_check(1, 1.0, 1, [1e-2, 1e-11], "")
    assert ch.status == "INCONCLUSIVE"
    assert ch.detail["table"][-1]["status"] == "INCONCLUSIVE"


def test_err_check_inconclusive_below_allowance():
    """At ε = 1e-8 (d = 2) the kernel allowance makes ε < 1000 τ: the kernel checks say INCONCLUSIVE."""
    c = gn.build_kernel_features(2, 0.5, 1e-8, 3)
    assert 1e-8 < 1000 * kn.kernel_tau(c)
    checks = kn.kernel_checks(c, np.random.default_rng(0), 50, "")
    assert all(ch.status == "INCONCLUSIVE" for ch in checks)


# ------------------------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("args", [(0, 1.0, 1e-3, 1), (1, -1.0, 1e-3, 1), (1, 1.0, 0.0, 1), (1, 1.0, 1.0, 1),
                                  (1, 1.0, float("nan"), 1), (1, float("inf"), 1e-3, 1), (1, 1.0, 1e-3, 2),
                                  (1.5, 1.0, 1e-3, 1), (1, 1.0, 1e-12, 1)])
def test_bad_inputs_raise(args):
    with pytest.raises(ValueError):
        gn.build_kernel_features(*args)


@pytest.mark.parametrize("over", [{"item": 2}, {"eps": 2.0}, {"eps": 0.0}, {"R": -1.0}])
def test_claim_rejects_bad_params(over):
    p = {**REG["lemma-F.5-network"].defaults(), **over}
    with pytest.raises(ValueError):
        REG["lemma-F.5-network"].run(p, np.random.default_rng(0))


def test_helpers_shapes_and_errors():
    c = _built(2, 1.0, 1e-3, 3)
    X = np.array([[0.1, 0.2], [0.3, -0.4], [0.0, 0.0]])
    F, Fr = gn.feature_matrices(c, X)
    assert np.array_equal(F, gn.feature_matrix(c, X)) and np.array_equal(Fr, gn.reference_features(c, X))
    assert F.shape == Fr.shape == (3, c.params["T"])
    assert np.allclose(Fr, gk.build_expansion(2, 1.0, 1e-3, K=c.params["K"]).net.features(X))
    with pytest.raises(ValueError):
        gn.feature_matrix(c, np.zeros((3, 3)))
    with pytest.raises(ValueError):
        gn.feature_matrix(c, np.array([[np.nan, 0.0]]))
    with pytest.raises(ValueError):
        gn.kernel_pairs(c, X, X[:2])


# ------------------------------------------------------------------------------- property tests
def _ball(v, R):
    v = np.asarray(v, dtype=np.float64)
    n = np.linalg.norm(v)
    return v if n <= R * (1 - 4 * EPS64) else v * (R * (1 - 4 * EPS64) / n)


@FAST
@given(st.lists(st.floats(-1.0, 1.0), min_size=4, max_size=4), st.sampled_from([1, 3]))
def test_property_kernel_and_factor_bounds_d2(v, item):
    c = _built(2, 1.0, 1e-3, item)
    x, y = _ball(v[:2], 1.0)[None], _ball(v[2:], 1.0)[None]
    err = kn.kernel_error(c, x, y)[0]
    assert err <= 1e-3 + kn.kernel_tau(c)
    assert kn.factor_error(c, np.concatenate([x, y])).max() <= c.notes["eta"] + kn.factor_tau(c)


@FAST
@given(st.floats(-3.0, 3.0), st.floats(-3.0, 3.0))
def test_property_d1_item1_and_clip(x, y):
    c = _built(1, 1.0, 1e-4, 1)
    X = np.array([[x], [y]])
    Xc = np.clip(X, -1.0, 1.0)
    assert np.max(np.abs(c.net(X) - c.net(Xc))) <= c.notes["tau_factor"] * 3
    if abs(x) <= 1 and abs(y) <= 1:
        assert kn.kernel_error(c, X[:1], X[1:])[0] <= 1e-4 + kn.kernel_tau(c)
        assert abs(gn.kernel_pairs(c, X[:1], X[1:])[0] - ref.gauss_kernel(X[0], X[1])) <= 1e-4 + kn.kernel_tau(c)


@settings(derandomize=True, deadline=None, max_examples=6)
@given(st.sampled_from([1, 2]), st.floats(0.3, 1.5), st.integers(1, 3), st.sampled_from([1, 3]))
def test_property_formula_equals_counts(d, R, k, item):
    c = gn.build_kernel_features(d, R, 10.0 ** -k, item)
    m = counts_of(c.net)
    assert all(m[key] == c.formula[key] for key in ("L", "W", "S", "B"))
    assert c.net.d_out == c.formula["T"] == gk.n_terms(c.formula["K"], d)
