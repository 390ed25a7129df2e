"""Lemma F.4 in ratio form (``lemmas.ratio.build_ratio``, claim ``lemma-F.4-ratio``): bound on the wedge
|a| <= C b, counts vs formula, float safety far outside, 60-digit agreement, bad input, and mutants that FAIL."""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lemmas import ratio as lq
from lemmas.base import Construction
from verify import checks as ck
from verify.certify import highprec as hp
from verify import mutants as mu
from verify.certify.lemma_ratio import certify_ratio
from verify.claims import ratio as afq
from verify.registry import load_all, run_claim

from conftest import certified_bound

REG = load_all()
P_FAST = {"C": 1.0, "b_min": 1e-3, "b_max": 2.0, "eps": 1e-3, "samples": 1500, "growth_to": 1e-2, "range_growth": 0}


def _wedge(c, n, seed=0):
    return afq.wedge_points(c.params["C"], c.params["b_min"], c.params["b_max"], np.random.default_rng(seed), n)


def _failed(r):
    return {c.name.split(" ")[0] for c in r.checks if c.status == "FAIL"}


def _bad(r):
    return [(c.name, c.status, c.measured, c.bound) for c in r.checks if c.status != "PASS"]


# ------------------------------------------------------------------------------------------- the builder
@pytest.mark.parametrize("method", ["horner", "chord"])
@pytest.mark.parametrize("C, b_min, b_max, eps", [(1.0, 0.25, 4.0, 1e-3), (1.1, 1e-6, 1.0, 2.5e-2),
                                                  (2.0, 1.0, 3.0, 1e-6), (1.0, 0.5, 0.55, 1e-2),
                                                  (0.3, 1e-3, 1e3, 1e-5), (10.0, 0.5, 1e3, 0.1)])
def test_counts_equal_formula_and_bound(C, b_min, b_max, eps, method):
    """(10, [0.5, 1e3], 0.1): B is the output weight C (r_j - 1) (chord: r ≈ 12.6, pair outputs ±1)."""
    c = lq.build_ratio(C, b_min, b_max, eps, method)
    assert c.params["method"] == method
    assert ck.counts_of(c.net) == c.formula
    assert c.notes["error_bound"] <= eps
    X = _wedge(c, 20000)
    e = np.abs(c.net(X)[:, 0] - X[:, 0] / X[:, 1])
    assert e.max() <= c.notes["error_bound"] + ck.allowance(c.net, C)
    assert e.max() >= 0.05 * c.notes["error_bound"]  # the bound is not loose by orders of magnitude


@settings(derandomize=True, deadline=None, max_examples=15)
@given(st.floats(0.1, 10.0), st.floats(1e-4, 10.0), st.floats(1.01, 1e6), st.floats(1e-6, 1e-1),
       st.integers(0, 2 ** 31))
def test_ratio_property(C, b_min, ratio, eps, seed):
    b_max = b_min * ratio
    p = lq.ratio_params(C, b_min, b_max, eps)
    if lq.ratio_formula(C, p)["S"] > 40000:
        return  # keep it fast; large nets are covered by the claim
    c = lq.build_ratio(C, b_min, b_max, eps)
    assert ck.counts_of(c.net) == c.formula
    X = _wedge(c, 400, seed)
    X = np.concatenate([X, [[C * b_min, b_min], [-C * b_max, b_max], [0.0, b_min]]])
    assert np.max(np.abs(c.net(X)[:, 0] - X[:, 0] / X[:, 1])) <= eps + ck.allowance(c.net, C)


def test_auto_takes_the_piece_method_with_fewer_nonzeros():
    """auto = the smaller S of the two exact formulas: chord pieces at Lemma 3.3's coarse ε (19x fewer nonzeros
    than Horner) and on a tiny range (one piece, one segment; Horner widens it to [1, 1.25]), Horner pieces where
    the chord segments would grow like ε^{-1/2} (small ε over a wide range)."""
    for args, want in (((1.02, 1.0 / 2 ** 16, 1.0, 0.0125), "chord"), ((1.0, 1e-3, 2.0, 1e-3), "chord"),
                       ((1.0, 1e-3, 2.0, 1e-8), "horner"), ((0.5, 1.0, 1.0001, 1e-8), "chord")):
        S = {m: lq.ratio_formula(args[0], lq.ratio_params(*args, method=m))["S"] for m in ("horner", "chord")}
        c = lq.build_ratio(*args)
        assert c.params["method"] == want == min(S, key=S.get) and c.formula["S"] == min(S.values())
    S = {m: lq.build_ratio(1.02, 1.0 / 2 ** 16, 1.0, 0.0125, m).formula["S"] for m in ("horner", "chord")}
    assert 15 * S["chord"] < S["horner"]
    c = lq.build_ratio(1.02, 1.0 / 2 ** 16, 1.0, 0.0125)
    assert c.params["P"] < lq.ratio_params(1.02, 1.0 / 2 ** 16, 1.0, 0.0125, "horner")["P"]  # wider chord pieces


def test_chord_error_is_the_chord_bound_on_one_piece():
    """One piece [1, 2] (C = 1): the measured worst error of the chord pieces is within 10% of the bound
    T + η K, and T is the closed form (1 - r^{-1/2}) / ((1 + r^{-1/2}) K^2) (r - 1) C."""
    c = lq.build_ratio(1.0, 1.0, 2.0, 1e-3, "chord")
    (K,) = c.params["K_j"]
    assert c.notes["T"] == pytest.approx(lq.chord_error(2.0, K), rel=1e-12)
    b = np.linspace(1.0, 2.0, 200001)
    X = np.stack([b, b], 1)  # a = C b: the worst |α| = 1
    e = np.abs(c.net(X)[:, 0] - 1.0)
    assert c.notes["T"] * 0.9 <= e.max() <= c.notes["error_bound"]


@pytest.mark.slow
def test_chord_refuses_too_many_segments():
    with pytest.raises(ValueError, match="chord segments"):
        lq.build_ratio(1.0, 1e-3, 2.0, 1.5e-11, "chord")  # Σ K_j ≈ 1.1e6 > 2^20
    with pytest.raises(ValueError, match="method"):
        lq.build_ratio(1.0, 1e-3, 2.0, 1e-3, "newton")


@pytest.mark.slow
def test_horner_pieces_certified():
    """The Horner pieces keep their two-stage certificate (the claim's default now emits chord pieces)."""
    c = lq.build_ratio(1.0, 1e-3, 2.0, 1e-3, "horner")
    res = certify_ratio(c.net, 1.0, 1e-3, 2.0, 1e-3, c.notes["break_points"])
    assert res["certified"] and res["bound"] <= 1e-3


def test_far_inputs_are_float_safe():
    """|a| astronomically outside the wedge (pieces below b) and b far outside the range give finite outputs;
    b beyond b_max is the clip b_max (the pieces clip without cancellation)."""
    c = lq.build_ratio(1.0, 1e-4, 1.0, 1e-3)
    y = c.net(np.array([[1e15, 0.5], [-1e15, 0.5], [0.5, 1e15], [0.5, 1.0], [0.5, -1e12]]))[:, 0]
    assert np.all(np.isfinite(y)) and y[2] == y[3]


@pytest.mark.parametrize("method", ["horner", "chord"])
def test_float64_vs_60_digits(method):
    c = lq.build_ratio(1.0, 1e-4, 1.0, 1e-3, method)
    X = _wedge(c, 6, 3)
    with mpmath.workdps(60):
        dev = max(abs(hp.net_mp(c.net, x)[0] - mpmath.mpf(float(y))) for x, y in zip(X, c.net(X)[:, 0]))
    # a few eps64 B C (measured 10 eps64 for Horner, B = 104; 32 eps64 for the chord pieces, B = 33), far below τ
    B = c.formula["B"]
    assert float(dev) <= 8 * B * ck.EPS64 and float(dev) <= 0.05 * ck.allowance(c.net, 1.0)


def test_fewer_pieces_than_the_absolute_quotient():
    """Same range and accuracy as Lemma 3.3 needs (b ∈ [1/(2N), 2]): the ratio net is several times smaller."""
    N = 2 ** 16
    r = lq.build_ratio(1.02, 1.0 / (2 * N), 2.0, 0.025)
    from lemmas import quotient as lquot
    q = lquot.quotient_formula(2.0, 1.0 / (2 * N), lquot.quotient_params(2.0, 1.0 / (2 * N), 2.0, 0.025))
    assert r.formula["S"] * 3 < q["S"] and r.formula["B"] ** 2 < q["B"]


@pytest.mark.parametrize("args", [(0.0, 1.0, 2.0, 1e-3), (1.0, 0.0, 2.0, 1e-3), (1.0, 2.0, 1.0, 1e-3),
                                  (1.0, 1.0, 2.0, 0.0), (1.0, 1.0, 2.0, float("nan")), (1.0, 1.0, 2.0, 1e-14),
                                  ("x", 1.0, 2.0, 1e-3), (1.0, 1e-70, 1e-5, 1e-3)])
def test_bad_input_raises(args):
    with pytest.raises(ValueError):
        lq.build_ratio(*args)


# -------------------------------------------------------------------------------------- claim, mutants
@pytest.mark.slow  # `python -m verify` runs the defaults; test_small_configs runs a small configuration
def test_claim_passes_at_defaults():
    r = run_claim(REG["lemma-F.4-ratio"], seed=0)
    assert r.verdict == "CERTIFIED", _bad(r)  # two-stage certificate (docs/certification.md, method 10)
    assert certified_bound(r) <= r.params["eps"]
    info = [c for c in r.checks if c.name.startswith("dense")][0].detail["outside_wedge_not_claimed"]
    assert info["fraction_above_eps"] > 0  # outside the wedge the net is not a/b: reported, not claimed


def test_outside_points_are_reported_as_violated():
    r = afq.run_ratio({**P_FAST, "outside": 1}, np.random.default_rng(0))
    assert r.verdict == "HYPOTHESIS VIOLATED"
    assert [c.status for c in r.checks if c.name.startswith("outside")] == ["HYPOTHESIS VIOLATED"]


def _weight_mutant(layer, rel=1e-2, k=None):
    def mut(c):
        return Construction(mu.perturb_weight(c.net, layer, k, rel), c.formula, c.params, c.notes)
    return mut


@pytest.mark.parametrize("layer", [0, pytest.param(1, marks=pytest.mark.slow), "psi clip",
                                   pytest.param(-1, marks=pytest.mark.slow)])
def test_weight_mutants_fail(layer):
    if layer == "psi clip":  # the map where β̂_j and α_j enter the last product level
        layer = -(lq.ratio_params(1.0, 1e-3, 2.0, 1e-3)["m"] + 2)
    r = afq.run_ratio(dict(P_FAST), np.random.default_rng(0), _weight_mutant(layer, 1e-2, None))
    assert r.verdict == "FAIL"
    assert {"dense", "random,", "local", "60-digit"} <= _failed(r)


@pytest.mark.parametrize("j", [0, -1])
def test_dropped_piece_fails(j):
    r = afq.run_ratio(dict(P_FAST), np.random.default_rng(0), afq.drop_piece(j))
    assert r.verdict == "FAIL" and {"counts", "dense", "random,", "known", "60-digit"} <= _failed(r)


def test_larger_eps_net_fails():
    swap = lambda c: Construction(lq.build_ratio(1.0, 1e-3, 2.0, 3e-2).net, c.formula, c.params, c.notes)  # noqa: E731
    r = afq.run_ratio(dict(P_FAST), np.random.default_rng(0), swap)
    assert r.verdict == "FAIL" and {"counts", "dense", "60-digit"} <= _failed(r)


@pytest.mark.slow
def test_growth_below_floor_inconclusive():
    fl = afq.ratio_floor(1.0, 1e-3, 2.0)
    assert 1e-8 < fl <= 1e-5
    r = afq.run_ratio({**P_FAST, "growth_to": 1e-8}, np.random.default_rng(0))
    g = [c for c in r.checks if c.name.startswith("growth over")][0]
    assert g.status == "INCONCLUSIVE" and r.verdict == "INCONCLUSIVE"


def test_range_growth_counts_linear_in_log_range():
    chk = afq.range_growth(1.0, 1e-2, np.random.default_rng(0))
    assert chk.status == "PASS" and math.isfinite(chk.measured) and chk.measured <= 1.5


def test_self_test_catches_the_claims_own_mutants():
    own = afq.own_mutants(REG["lemma-F.4-ratio"].defaults())
    for name, _, mut in own:
        r = afq.run_ratio(dict(P_FAST), np.random.default_rng(0), mut)
        assert r.verdict == "FAIL", name
