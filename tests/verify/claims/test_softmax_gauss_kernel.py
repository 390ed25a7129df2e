"""Appendix F claims on softmax (F.1) and the Gaussian kernel (F.5, F.6): they PASS on the real statements and
constructions, FAIL on broken ones (a wrong bound, an expansion term removed, a factor network perturbed), and
report HYPOTHESIS VIOLATED on inputs outside the hypotheses."""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from verify import reference as ref
from verify.claims import softmax as fs
from verify.registry import load_all, run_claim

REG = load_all()


def _bad(r):
    return [(c.name, c.status, c.measured, c.bound) for c in r.checks if c.status != "PASS"]


# ------------------------------------------------------------------------------------------------- F.1
@pytest.mark.parametrize("cid", ["lemma-F.1-softmax", "lemma-F.1-swish"])
def test_f1_claims_pass(cid):
    r = run_claim(REG[cid], seed=1)
    assert r.verdict == "PASS", _bad(r)


def test_f1_wrong_concentration_bound_fails():
    """(n-2) in place of (n-1): the tight configuration exceeds it."""
    wrong = lambda n, d, lam=1.0: fs.concentration_bound(n - 1, d, lam)  # noqa: E731
    r = fs.run_softmax(REG["lemma-F.1-softmax"].defaults(), np.random.default_rng(0), {"concentration": wrong})
    assert r.verdict == "FAIL"
    failed = {c.name for c in r.checks if c.status == "FAIL"}
    assert any(n.startswith("(a) tight") for n in failed)
    assert any("local search" in n for n in failed)


def test_f1_bound_without_denominator_is_not_attained():
    """(n-1)e^{-λδ} alone is a valid but not attained bound: the 'attains the bound' check must fail on it."""
    loose = lambda n, d, lam=1.0: (n - 1) * (mpmath.exp(-lam * d) if isinstance(d, mpmath.mpf) else np.exp(-lam * d))  # noqa
    c = fs.check_tight_attained(8, [1.0, 2.0], 1.0, "t", loose)
    assert c.status == "FAIL"
    x = fs.sample_gap_inputs(np.random.default_rng(0), 200, 8, 1.0)
    assert fs.check_concentration(x, 1.0, 1.0, "r", loose).status == "PASS"


def test_f1_wrong_value_bound_fails():
    """V(n-1)e^{-λδ} (a factor 2 short) is beaten by v_j = -v_i* at a large gap."""
    wrong = lambda n, d, V, lam=1.0: fs.value_bound(n, d, V, lam) / 2  # noqa: E731
    c = fs.check_values_tight(8, 3, 1.5, [2.0, 30.0], 1.0, "c", wrong)
    assert c.status == "FAIL"
    assert fs.check_values_tight(8, 3, 1.5, [2.0, 30.0], 1.0, "c").status == "PASS"


def test_f1_swish_gap_form_too_strong_fails():
    """Half the gap-form bound (n-1) t0 e^(-λ t0) is broken: the symmetric family at t = t0 reaches
    1/(1 + (n-1)e^(-λ t0)) of the bound (0.98 at n = 2, λδ = 4)."""
    half = lambda n, delta, lam=1.0: fs.swish_gap_bound(n, delta, lam) / 2  # noqa: E731
    r = fs.run_swish(REG["lemma-F.1-swish"].defaults(), np.random.default_rng(0), {"swish_gap": half})
    failed = [c.name for c in r.checks if c.status == "FAIL"]
    assert r.verdict == "FAIL" and failed and all(n.startswith("gap form") for n in failed)


def test_f1_swish_gap_form_decays_exponentially():
    """The gap form is (n-1) δ e^(-λδ) once λδ >= 1, far below the gap-free (n-1)/(eλ)."""
    assert fs.swish_gap_bound(8, 2.0, 2.0) == pytest.approx(7 * 2.0 * np.exp(-4.0), rel=1e-15)
    assert fs.swish_gap_bound(8, 0.1, 2.0) == pytest.approx(fs.swish_bound(8, 2.0), rel=1e-15)  # δ < 1/λ: t0 = 1/λ
    assert fs.swish_gap_bound(8, 10.0, 2.0) < 1e-6 * fs.swish_bound(8, 2.0)


def test_f1_wrong_swish_bound_fails():
    """Half the bound: the symmetric configuration at n = 2 reaches 0.757 of the true bound."""
    wrong = lambda n, lam=1.0: fs.swish_bound(n, lam) / 2  # noqa: E731
    r = fs.run_swish(REG["lemma-F.1-swish"].defaults(), np.random.default_rng(0), {"swish": wrong})
    assert r.verdict == "FAIL"
    assert any(c.status == "FAIL" and c.name.startswith("gap-free corollary, adversarial") for c in r.checks)


def test_f1_gap_violation_is_reported_not_judged():
    x = np.array([[0.0, -1.0, -2.0], [0.0, -0.5, -3.0]])  # second row: gap 0.5 < δ = 1
    c = fs.check_concentration(x, 1.0, 1.0, "a")
    assert c.status == "HYPOTHESIS VIOLATED" and c.violated and c.counterexample["gap"] == 0.5
    tie = np.array([[1.0, 1.0, 0.0]])
    assert fs.check_concentration(tie, 1e-3, 1.0, "a").status == "HYPOTHESIS VIOLATED"
    v = np.zeros((2, 3, 2))
    assert fs.check_values(x, v, 1.0, 1.0, 1.0, "c").status == "HYPOTHESIS VIOLATED"
    # a value above V also violates the hypothesis
    v2 = np.zeros((1, 3, 2))
    v2[0, 1, 0] = 2.0
    assert fs.check_values(x[:1], v2, 1.0, 1.0, 1.0, "c").status == "HYPOTHESIS VIOLATED"


def test_f1_exact_gap_decision():
    """A gap that is δ minus one ulp is a violation; exactly δ is not (decided with rationals)."""
    d = 0.1
    x = np.array([[0.3, 0.3 - d, 0.0]])
    exact_ok = fs.gap_violations(x, d).size == 0
    from fractions import Fraction
    assert exact_ok == (Fraction(0.3) - Fraction(0.3 - d) >= Fraction(d))
    y = np.array([[1.0, np.nextafter(1.0 - 0.5, 1.0), 0.0]])
    assert fs.gap_violations(y, 0.5).size == 1


@given(arrays(np.float64, st.integers(2, 9), elements=st.floats(-30, 30)), st.floats(0.05, 20))
def test_f1_property_concentration_and_swish(x, lam):
    g = float(ref.min_gap(x))
    while g > 0 and fs.gap_violations(x[None], g).size:  # float64 rounded the gap up (e.g. 1 - 1e-311 -> 1)
        g = float(np.nextafter(g, 0.0))
    if g > 0:
        c = fs.check_concentration(x[None], g, lam, "a")
        assert c.status == "PASS", (c.measured, c.detail)
        v = np.ones((1, x.size, 1)) * np.where(np.arange(x.size) % 2 == 0, 1.0, -1.0)[None, :, None]
        assert fs.check_values(x[None], v, g, 1.0, lam, "c").status == "PASS"
    assert fs.check_swish_upper(x[None], lam, "u").status == "PASS"
    assert fs.check_swish_lower(x[None], lam, "l").status == "PASS"


def test_f1_float64_undecidable_points_go_to_mpmath():
    """At the tight configuration float64 cannot separate 1 - s_i* from the bound: mpmath decides, a tie."""
    x = fs.tight_inputs(8, 2.0)[None]
    c = fs.check_concentration(x, 2.0, 1.0, "a")
    assert c.status == "PASS" and c.detail["n_mpmath"] == 1 and c.detail["ties_to_45_digits"] == 1


# ------------------------------------------------------------------------------------- F.5 / F.6 (item 2)
from lemmas import gauss_kernel as gk  # noqa: E402
from lemmas.base import Construction  # noqa: E402
from verify.claims import gauss_kernel as fk  # noqa: E402


@pytest.mark.parametrize("cid", ["lemma-F.5-expansion", "lemma-F.6-expansion"])
def test_expansion_claims_pass(cid):
    r = run_claim(REG[cid], seed=2)
    assert r.verdict == "CERTIFIED", _bad(r)
    assert r.counts["terms"] == math.comb(r.counts["K"] - 1 + r.counts["d"], r.counts["d"])


def test_multi_indices_count_and_coefficients():
    for d in (1, 2, 3, 4):
        for K in (1, 2, 5, 9):
            al = gk.multi_indices(K, d)
            assert len(al) == gk.n_terms(K, d) == len({tuple(a) for a in al})
            assert al.sum(axis=1).max() == K - 1
    al = gk.multi_indices(4, 2)
    assert np.allclose(gk.coefficients(al) ** 2, [2.0 ** a.sum() / math.prod(math.factorial(int(t)) for t in a) for a in al])


def _mutant(c, net):
    return Construction(net, c.formula, c.params, c.notes)


def _fails(checks, prefix=""):
    return [ch.name for ch in checks if ch.status == "FAIL" and ch.name.startswith(prefix)]


@pytest.mark.parametrize("d", [1, 2])
def test_expansion_dropped_term_is_caught(d):
    c = gk.build_expansion(d, 1.0, 1e-6)
    rng = np.random.default_rng(0)
    T = len(c.net.alphas)
    # the constant term, and the highest pure term α = (K-1, 0, ..)
    pure = [i for i, a in enumerate(c.net.alphas) if a[0] == a.sum() == c.net.alphas.sum(1).max()][0]
    for i in (0, pure):
        checks = fk.check_expansion(_mutant(c, c.net.without(i)), 1.0, 1e-6, rng, 500, d)
        assert _fails(checks, "terms = C"), i  # one term short of the formula
        assert _fails(checks, "x = y"), i  # and the error at the worst case exceeds ε
    if d == 1:  # every single-term removal in d = 1 breaks the ε bound (pmf(k) > ε - tail for all k < K)
        for i in range(T):
            m = _mutant(c, c.net.without(i))
            m = Construction(m.net, {"terms": T - 1, "K": m.net.counts()["K"]}, c.params)  # formula adjusted: error checks alone
            checks = fk.check_expansion(m, 1.0, 1e-6, rng, 500, d)
            assert _fails(checks), i


def test_expansion_truncated_too_early_is_caught():
    """K one below the minimal K for ε: the worst case x = y = R exceeds ε."""
    eps = 1e-6
    K = gk.minimal_K(1.0, eps)
    c = gk.build_expansion(1, 1.0, eps, K=K - 1)
    checks = fk.check_expansion(c, 1.0, eps, np.random.default_rng(0), 1000, 1)
    assert _fails(checks, "x = y") and _fails(checks, "grid")


def test_expansion_wrong_coefficient_is_caught():
    c = gk.build_expansion(2, 1.0, 1e-6)
    coef = c.net.coef.copy()
    coef[5] *= 1 + 1e-3
    bad = gk.GaussExpansion(c.net.alphas, coef)
    checks = fk.check_expansion(_mutant(c, bad), 1.0, 1e-6, np.random.default_rng(0), 2000, 2)
    assert _fails(checks)


def test_expansion_wrong_count_formula_is_caught():
    c = gk.build_expansion(2, 1.0, 1e-4)
    K = c.formula["K"]
    wrong = Construction(c.net, {"terms": math.comb(K + 2, 2), "K": K}, c.params)
    assert _fails(fk.check_expansion(wrong, 1.0, 1e-4, np.random.default_rng(0), 100, 2), "terms")


def test_sufficient_K_rule_meets_eps():
    for R in (0.3, 1.0, 2.0):
        for e in (1e-2, 1e-7, 1e-13):
            K = gk.sufficient_K(R, e)
            assert gk.minimal_K(R, e) <= K
            assert ref.poisson_tail_mp(2 * R * R, K) <= ref.poisson_tail_upper(2 * R * R, K) <= e


@given(st.integers(1, 3), st.floats(0.1, 2.0), st.integers(1, 12))
def test_poisson_tail_two_routes_agree(d, R, k):
    rate = 2 * R * R  # one float64 rate for both routes
    a = gk.poisson_tail(rate, k)
    b = ref.poisson_tail_mp(rate, k)
    assert abs(a - b) <= 1e-30 * b
