"""Lemma F.3 (rec, cos, sin) and F.4 (quotient): bounds, perturbed inputs, counts vs formulas, float64 rounding
against 60-digit evaluation, bad input; and (below) the claims with mutants that must FAIL."""

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lemmas import quotient as lq
from lemmas import rec as lrec
from verify import checks as ck
from verify.certify import highprec as hp

FAST = settings(derandomize=True, deadline=None, max_examples=15)


# ------------------------------------------------------------------------------------------------ rec
@pytest.mark.parametrize("eps", [0.5, 0.1, 1e-2])
def test_rec_bound_counts(eps):
    c = lrec.build_rec(eps)
    assert ck.counts_of(c.net) == c.formula
    assert c.notes["error_bound"] <= eps
    x = np.concatenate([np.geomspace(eps, 1 / eps, 4001), c.notes["break_points"]])
    x = x[x <= 1 / eps]
    err = np.abs(c.net(x[:, None])[:, 0] - 1 / x)
    assert err.max() <= c.notes["error_bound"] + ck.allowance(c.net, 1 / eps)
    # the construction bound is not loose by orders of magnitude: the worst case (x = x_min) sits near it
    assert err.max() >= 0.25 * c.notes["error_bound"]


@FAST
@given(st.floats(1e-3, 10.0), st.floats(1.001, 1e3), st.floats(1e-6, 1e-1), st.integers(0, 2 ** 31))
def test_rec_interval_bound_perturbed_counts(x_min, ratio, eps, seed):
    x_max = x_min * ratio
    if eps * x_min < 1e-9 or lrec.rec_formula(lrec.rec_params(x_min, x_max, eps))["S"] > 40000:
        return  # keep the property test fast; large nets are covered by the claim
    c = lrec.build_rec_interval(x_min, x_max, eps)
    assert ck.counts_of(c.net) == c.formula
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.uniform(x_min, x_max, 200), [x_min, x_max]])
    tau = ck.allowance(c.net, 1 / x_min)
    assert np.max(np.abs(c.net(x[:, None])[:, 0] - 1 / x)) <= eps + tau
    xp = x + rng.normal(size=x.size) * np.exp(rng.uniform(-12, 6, x.size)) * x_max
    lhs = np.abs(c.net(xp[:, None])[:, 0] - 1 / x)
    assert np.all(lhs <= eps + np.abs(xp - x) / x_min ** 2 + tau)


def test_rec_far_inputs_are_exact_clips():
    """φ(x') = φ(clip(x'; x_min, a_P)) even for |x'| huge: the piece clipping has no cancellation."""
    c = lrec.build_rec(1e-3)
    far = c.net(np.array([[1e15], [1e3], [-1e12], [1e-3], [0.0]]))[:, 0]
    assert far[0] == far[1] and far[2] == far[3] == far[4]


def test_rec_float64_rounding_far_below_allowance():
    """The measured float64-vs-60-digit deviation is ~1 eps64 / x_min, far below τ = S eps64 / x_min."""
    c = lrec.build_rec(1e-2)
    dev = 0.0
    for x in (1e-2, 0.0137, 0.5, 3.3, 77.0, 100.0):
        dev = max(dev, abs(float(hp.net_mp(c.net, [x])[0] - mpmath.mpf(float(c.net(np.array([[x]]))[0, 0])))))
    assert dev <= 64 * ck.EPS64 / 1e-2
    assert dev <= ck.allowance(c.net, 1 / 1e-2) / 1000


def test_rec_formula_growth_polylog():
    """Counts of the formula over ε = 1e-1..1e-8 (no nets built): L = O(log^2), W = O(log), S = O(log^3)."""
    rows = [lrec.rec_formula(lrec.rec_params(e, 1 / e, e)) for e in ck.SWEEP_EPS]
    lg = [math.log(1 / e) for e in ck.SWEEP_EPS]
    for k, p in (("L", 2.0), ("W", 1.0), ("S", 3.0)):
        ratio = [r[k] / lg[i] ** p for i, r in enumerate(rows)]
        assert max(ratio[3:]) <= 1.05 * ratio[2], (k, ratio)  # count / log^p stops growing from ε = 1e-3 on
        if k != "W":  # and the next power is really too much (the ratio against log^(p-1) keeps growing)
            assert rows[-1][k] / lg[-1] ** (p - 1) > 1.5 * rows[2][k] / lg[2] ** (p - 1), k


def test_rec_invalid_inputs_raise():
    for bad in (0.0, -1e-3, float("nan"), float("inf"), "x", 1.0, 2.0):
        with pytest.raises(ValueError):
            lrec.build_rec(bad)
    with pytest.raises(ValueError):
        lrec.build_rec_interval(2.0, 1.0, 1e-3)
    with pytest.raises(ValueError):
        lrec.build_rec_interval(0.0, 1.0, 1e-3)
    with pytest.raises(ValueError):
        lrec.build_rec_interval(1e-6, 1.0, 1e-9)  # ε x_min below float64 resolution
    with pytest.raises(ValueError):
        lrec.build_rec(1e-7)


# ------------------------------------------------------------------------------------------- quotient
@pytest.mark.parametrize("A,b_min,b_max,eps", [(1.0, 0.5, 2.0, 1e-3), (3.0, 0.1, 1.0, 1e-2), (2.0, 1.0, 1.001, 1e-6)])
def test_quotient_bound_counts(A, b_min, b_max, eps):
    c = lq.build_quotient(A, b_min, b_max, eps)
    assert ck.counts_of(c.net) == c.formula
    assert c.notes["error_bound"] <= eps
    rng = np.random.default_rng(0)
    a = np.concatenate([rng.uniform(-A, A, 3000), [A, -A, A, -A, 0.0]])
    b = np.concatenate([rng.uniform(b_min, b_max, 3000), [b_min, b_min, b_max, b_max, b_min]])
    err = np.abs(c.net(np.stack([a, b], 1))[:, 0] - a / b)
    assert err.max() <= eps + ck.allowance(c.net, A / b_min)


@FAST
@given(st.floats(0.1, 5.0), st.floats(0.05, 2.0), st.floats(1.01, 50.0), st.floats(1e-6, 1e-1), st.integers(0, 2 ** 31))
def test_quotient_perturbed_counts(A, b_min, ratio, eps, seed):
    b_max = b_min * ratio
    p = lq.quotient_params(A, b_min, b_max, eps)
    if lq.quotient_formula(A, b_min, p)["S"] > 30000:
        return
    c = lq.build_quotient(A, b_min, b_max, eps)
    assert ck.counts_of(c.net) == c.formula
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(-A, A, 200), rng.uniform(b_min, b_max, 200)
    ap = a + rng.normal(size=a.size) * np.exp(rng.uniform(-12, 2, a.size)) * A
    bp = b + rng.normal(size=b.size) * np.exp(rng.uniform(-12, 2, b.size)) * b_max
    lhs = np.abs(c.net(np.stack([ap, bp], 1))[:, 0] - a / b)
    rhs = eps + np.abs(ap - a) / b_min + A * np.abs(bp - b) / b_min ** 2 + ck.allowance(c.net, A / b_min)
    assert np.all(lhs <= rhs)


def test_quotient_invalid_inputs_raise():
    for args in [(1.0, 0.5, 2.0, 0.0), (1.0, 0.5, 2.0, -1.0), (1.0, 0.5, 2.0, float("nan")), (1.0, 0.0, 2.0, 1e-3),
                 (1.0, -0.5, 2.0, 1e-3), (1.0, 2.0, 2.0, 1e-3), (1.0, 3.0, 2.0, 1e-3), (0.0, 0.5, 2.0, 1e-3),
                 (-1.0, 0.5, 2.0, 1e-3), (float("inf"), 0.5, 2.0, 1e-3)]:
        with pytest.raises(ValueError):
            lq.build_quotient(*args)


# --------------------------------------------------------------------------------------- claims, mutants
from constructions.affine import Affine  # noqa: E402
from constructions.algebra import sum_nets  # noqa: E402
from constructions.fnn import FNN  # noqa: E402
from lemmas.base import Construction  # noqa: E402
from constructions.circuit import Circuit  # noqa: E402
from verify import mutants as mu  # noqa: E402
from verify.claims import cos as ccos  # noqa: E402
from verify.claims import quotient as cquot  # noqa: E402
from verify.claims import rec as crec  # noqa: E402
from verify.registry import load_all, run_claim  # noqa: E402

from conftest import assert_never_exceeded, certified_bound  # noqa: E402

REG = load_all()


def _bad(r):
    return [(c.name, c.status, c.measured, c.bound) for c in r.checks if c.status != "PASS"]


def _failed(r):
    return {c.name.split(" ")[0] for c in r.checks if c.status == "FAIL"}


def _weight_mutant(layer, rel=1e-2, k=None):
    def mut(c):
        return Construction(mu.perturb_weight(c.net, layer, k, rel), c.formula, c.params, c.notes)
    return mut


def _swap(build):
    return lambda c: Construction(build().net, c.formula, c.params, c.notes)


def _outside_kick(x_hi, K, d_in=1, col=0):
    """A mutant equal to the net on the domain but growing like K (x_col - x_hi) beyond it."""
    W = np.zeros((1, d_in))
    W[0, col] = 1.0
    kick = FNN([Affine.dense(W, np.array([-x_hi])), Affine.dense(np.array([[K]]))])
    return lambda c: Construction(sum_nets(c.net, kick), c.formula, c.params, c.notes)


REC_P = {"eps": 1e-3, "x_min": 0.1, "x_max": 10.0, "samples": 1500, "growth_to": 1e-1}


@pytest.mark.slow
@pytest.mark.parametrize("cid", ["lemma-F.3-rec", "lemma-F.4-quotient"])
def test_claims_pass(cid):
    r = run_claim(REG[cid], seed=3)
    if cid == "lemma-F.4-quotient":  # 2-D: the two-stage certificate (docs/certification.md, method 10)
        assert r.verdict == "CERTIFIED", _bad(r)
        bound = certified_bound(r)
        A, b_min, b_max, eps = (r.params[k] for k in ("A", "b_min", "b_max", "eps"))
        assert bound <= eps
        c = lq.build_quotient(A, b_min, b_max, eps)
        rng = np.random.default_rng(5)
        X = np.stack([rng.uniform(-A, A, 100_000), np.exp(rng.uniform(np.log(b_min), np.log(b_max), 100_000))], 1)
        e = np.abs(c.net(X)[:, 0] - X[:, 0] / X[:, 1])
        assert e.max() <= bound + ck.allowance(c.net, A / b_min)
        for x in X[np.argsort(-e)[:10]]:  # the worst points, exactly
            assert abs(hp.net_exact(c.net, x)[0] - Fraction(float(x[0])) / Fraction(float(x[1]))) <= Fraction(bound)
        return
    # rec: certified at its own default ε = 1e-2 on [ε, 1/ε] (L = 75, W = 140), and the bound holds
    assert r.verdict == "CERTIFIED", _bad(r)
    eps = r.params["eps"]
    bound = certified_bound(r)
    assert bound <= eps
    c = lrec.build_rec(eps)
    rng = np.random.default_rng(5)
    X = np.exp(rng.uniform(np.log(eps), -np.log(eps), (100_000, 1)))
    Y = np.exp(rng.uniform(np.log(eps), -np.log(eps), (60, 1)))
    assert_never_exceeded(c.net, lambda x: 1 / x, lambda x: 1 / x, X, Y, bound, 1 / eps)


@pytest.mark.slow
def test_rec_claim_interval_passes():
    # [x_min, x_max] = [0.1, 10], ε = 1e-3: certified over that interval at its own parameters
    r = crec.run_rec(dict(REC_P), np.random.default_rng(0))
    assert r.verdict == "CERTIFIED", _bad(r)
    assert any(c.certified and "[0.1, 10]" in c.name for c in r.checks)


@pytest.mark.slow
@pytest.mark.parametrize("layer", [0, 1, -1])
def test_rec_weight_mutant_fails(layer):
    # Not every weight is a useful mutant: a 1% change in the first product level (map 2) enters g_0 damped by
    # ρ^(H-1) <= 3^-(H-1) and leaves the error below ε, i.e. that net still satisfies the lemma and PASS is right.
    r = crec.run_rec(dict(REC_P), np.random.default_rng(0), _weight_mutant(layer, 1e-2))
    assert r.verdict == "FAIL"
    assert {"dense", "random,", "known", "local", "perturbed", "60-digit"} <= _failed(r)


@pytest.mark.slow
def test_rec_larger_eps_net_and_dropped_term_fail():
    r = crec.run_rec(dict(REC_P), np.random.default_rng(0), _swap(lambda: lrec.build_rec_interval(0.1, 10.0, 1e-1)))
    assert r.verdict == "FAIL" and {"counts", "dense", "known", "60-digit"} <= _failed(r)

    def drop(c):  # the same pieces and sawtooth depth, two Horner terms fewer (T_{n-2} > 3ε/2; with one term
        p = lrec.rec_params(0.1, 10.0, 1e-3)  # fewer the measured error stays below ε: n is chosen from a bound)
        p = {**p, "n": p["n"] - 2, "H": p["H"] - 2}
        circ = Circuit(1)
        phi, _ = lrec.emit_rec(circ, circ.inputs()[0], p)
        return Construction(circ.net([phi]), c.formula, c.params, c.notes)
    r = crec.run_rec(dict(REC_P), np.random.default_rng(0), drop)
    assert r.verdict == "FAIL" and {"counts", "dense", "known"} <= _failed(r)


@pytest.mark.slow
def test_rec_perturbed_check_catches_growth_outside_domain():
    r = crec.run_rec(dict(REC_P), np.random.default_rng(0), _outside_kick(10.0, 2.0 / 0.1 ** 2))
    # on the domain the net is unchanged; the float64 check's extreme inputs (outside the domain) see the kick too
    assert r.verdict == "FAIL" and _failed(r) == {"counts", "perturbed", "float64"}


@pytest.mark.slow
def test_rec_growth_below_floor_inconclusive():
    assert crec.REC_FLOOR == 1e-3
    r = crec.run_rec({**REC_P, "growth_to": 1e-5}, np.random.default_rng(0))
    g = [c for c in r.checks if c.name.startswith("growth on [")][0]
    assert g.status == "INCONCLUSIVE" and r.verdict == "INCONCLUSIVE"


Q_P = {"A": 2.0, "b_min": 0.25, "b_max": 4.0, "eps": 1e-3, "samples": 1500}


@pytest.mark.slow
@pytest.mark.parametrize("layer", [0, 1, 3, "product clip", -1])
def test_quotient_weight_mutant_fails(layer):
    # "product clip": the map where rec's output b_min r̂ enters the final product; a deep sawtooth weight of that
    # product (e.g. map -2, influence 4^-m_q) is not a useful mutant: the net still satisfies the lemma.
    if layer == "product clip":
        layer = -(lq.quotient_params(2.0, 0.25, 4.0, 1e-3)["m_q"] + 2)
    r = cquot.run_quotient(dict(Q_P), np.random.default_rng(0), _weight_mutant(layer, 1e-2))
    assert r.verdict == "FAIL"
    assert {"dense", "random,", "local", "perturbed", "60-digit"} <= _failed(r)


def test_quotient_larger_eps_net_fails():
    r = cquot.run_quotient(dict(Q_P), np.random.default_rng(0), _swap(lambda: lq.build_quotient(2.0, 0.25, 4.0, 3e-2)))
    assert r.verdict == "FAIL" and {"counts", "dense", "60-digit"} <= _failed(r)


def test_quotient_perturbed_check_catches_growth_outside_domain():
    r = cquot.run_quotient(dict(Q_P), np.random.default_rng(0), _outside_kick(2.0, 4.0 / 0.25, d_in=2, col=0))
    # on the domain the net is unchanged; the float64 check's extreme inputs (outside the domain) see the kick too
    assert r.verdict == "FAIL" and _failed(r) == {"counts", "perturbed", "float64"}


# ------------------------------------------------------------------------------------------------ cos
from lemmas import cos as lcos  # noqa: E402

COS_P = {"a": 3.0, "b": 0.5, "D": 2.0, "eps": 1e-6, "samples": 3000}


@FAST
@given(st.floats(-1e3, 1e3), st.floats(-10, 10), st.floats(0.01, 20), st.floats(1e-9, 0.5), st.booleans(),
       st.integers(0, 2 ** 31))
def test_cos_sin_bound_counts(a, b, D, eps, sin, seed):
    if abs(a) < 1e-3:
        return
    s_fold = lcos.cos_params(a, b + (math.pi / 2 if sin else 0.0), D, eps)["s"]
    if eps < max(lcos.MIN_EPS, 1e4 * 2.0 ** s_fold * ck.EPS64):
        with pytest.raises(ValueError):  # below the float64 floor the builder refuses
            (lcos.build_sin if sin else lcos.build_cos)(a, b, D, eps)
        return
    c = (lcos.build_sin if sin else lcos.build_cos)(a, b, D, eps)
    assert ck.counts_of(c.net) == c.formula
    assert c.notes["error_bound"] <= eps
    x = np.random.default_rng(seed).uniform(-D, D, 500)
    tgt = (np.sin if sin else np.cos)(a * x - b)
    assert np.max(np.abs(c.net(x[:, None])[:, 0] - tgt)) <= eps + ck.allowance(c.net, c.notes["V"])


def test_cos_folding_identity_exact():
    """cos(π g_s(t)) = cos(2^s π t): the folding layers alone compute g_s exactly on dyadic t (rational check)."""
    p = lcos.cos_params(1.0, 0.0, 20.0, 1e-3)
    circ = Circuit(1)
    (x,) = circ.inputs()
    t = x * 1.0
    u = circ.layer([t, t - 0.5, t - 1.0])
    g = 2.0 * u[0] - 4.0 * u[1] + 2.0 * u[2]
    for _ in range(p["s"] - 1):
        A, B = circ.layer([g, g - 0.5])
        g = 2.0 * A - 4.0 * B
    net = circ.net([g])
    for k in range(0, 257, 7):
        tk = k / 256
        val = hp.net_exact(net, [tk])[0]
        frac = (2 ** (p["s"] - 1) * tk) % 1.0  # g_s(t) = 1 - |2 frac(2^{s-1} t) - 1|
        assert val == 1 - abs(2 * frac - 1)
        assert math.isclose(math.cos(math.pi * float(val)), math.cos(2 ** p["s"] * math.pi * tk), abs_tol=1e-12)


@pytest.mark.slow
def test_cos_claim_passes():
    # certified at its own default ε = 1e-6 (2.8e5 pieces), cos and sin; the bounds hold
    r = run_claim(REG["lemma-F.3-cos"], seed=3)
    assert r.verdict == "CERTIFIED", _bad(r)
    a, b, D, eps = (r.params[k] for k in ("a", "b", "D", "eps"))
    rng = np.random.default_rng(5)
    for fn, build, g, gmp in (("cos", lcos.build_cos, np.cos, mpmath.cos), ("sin", lcos.build_sin, np.sin, mpmath.sin)):
        bound = max(c.measured for c in r.checks if c.certified and f"φ_{fn}" in c.name)
        assert bound <= eps
        net = build(a, b, D, eps)
        assert_never_exceeded(net.net, lambda x: g(a * x - b), lambda x: gmp(a * x - b),
                              rng.uniform(-D, D, (100_000, 1)), rng.uniform(-D, D, (100, 1)), bound, net.notes["V"])


@pytest.mark.slow
@pytest.mark.parametrize("layer", [0, 1, -1])
def test_cos_weight_mutant_fails(layer):
    r = ccos.run_cos(dict(COS_P), np.random.default_rng(0), _weight_mutant(layer, 1e-3))
    assert r.verdict == "FAIL"
    failed = {c.name.split(":")[0] + ":" + c.name.split(":")[1].split()[0] for c in r.checks if c.status == "FAIL"}
    assert {f"{t}:{k}" for t in ("cos", "sin") for k in ("dense", "random,", "known", "local", "60-digit")} <= failed


@pytest.mark.slow
def test_cos_dropped_fold_and_larger_eps_fail():
    def drop(c):  # same scaling t = (θ - θ_0)/(2^s π), one folding layer fewer: computes cos((θ - θ_0)/2)
        p = lcos.cos_params(c.params["a"], c.params["b"] if c.params.get("phase") != "sin" else c.params["b"]
                            + math.pi / 2, c.params["D"], c.params["eps"])
        p["folds"] -= 1
        circ = Circuit(1)
        return Construction(circ.net([lcos.emit_cos(circ, circ.inputs()[0], p)]), c.formula, c.params, c.notes)
    r = ccos.run_cos(dict(COS_P), np.random.default_rng(0), drop)
    names = {x.name for x in r.checks if x.status == "FAIL"}
    assert r.verdict == "FAIL" and any(n.startswith("cos: dense") for n in names)
    assert any(n.startswith("cos: counts") for n in names) and any(n.startswith("sin: known") for n in names)
    r = ccos.run_cos(dict(COS_P), np.random.default_rng(0), _swap(lambda: lcos.build_cos(3.0, 0.5, 2.0, 1e-3)))
    names = {x.name for x in r.checks if x.status == "FAIL"}
    assert r.verdict == "FAIL" and any(n.startswith("cos: dense") for n in names)
    assert any(n.startswith("cos: 60-digit") for n in names)


def test_cos_invalid_inputs_raise():
    for args in [(0.0, 0.0, 1.0, 1e-3), (1.0, 0.0, 0.0, 1e-3), (1.0, 0.0, -1.0, 1e-3), (1.0, 0.0, 1.0, 0.0),
                 (1.0, 0.0, 1.0, 1.5), (1.0, float("nan"), 1.0, 1e-3), (float("inf"), 0.0, 1.0, 1e-3),
                 (1.0, 0.0, 1.0, 1e-13), (1e6, 0.0, 1.0, 1e-10)]:
        with pytest.raises(ValueError):
            lcos.build_cos(*args)
    with pytest.raises(ValueError):
        lcos.build_sin(1.0, "x", 1.0, 1e-3)


def test_quotient_equals_algebra_composition():
    """The Circuit-emitted quotient is the function (A/b_min) · mult_1 ∘ (clip(a/A), b_min rec(b)) built with
    constructions.algebra (same rec, same product depth), to float64 rounding; ours has fewer nonzeros."""
    from constructions.algebra import affine, compose, linear, parallel, scale
    from lemmas import mult as lmult
    A, b_min, b_max, eps = 2.0, 0.25, 4.0, 1e-4
    c = lq.build_quotient(A, b_min, b_max, eps)
    r = lrec.build_rec_interval(b_min, b_max, c.params["eps_r"])
    g = parallel(affine(np.array([[1.0 / A]])), linear(r.net, np.array([[b_min]])), shared_input=False)
    alg = scale(compose(lmult.build_mult(1.0, 1.0, m=c.params["m_q"]).net, g), A / b_min)
    rng = np.random.default_rng(0)
    X = np.stack([rng.uniform(-3 * A, 3 * A, 2000), rng.uniform(-1.0, 2 * b_max, 2000)], 1)
    assert np.max(np.abs(alg(X) - c.net(X))) <= 1e3 * ck.EPS64 * A / b_min
    assert alg.counts().S > c.net.counts().S


@pytest.mark.slow
def test_construction_bound_checks_fail_on_wrong_notes():
    """The 'construction bound <= ε' checks read the builder's bound: a net whose notes carry a bound above ε fails."""
    def loose(c):
        return Construction(c.net, c.formula, c.params, {**c.notes, "error_bound": 2 * c.params["eps"]})
    for run, p in ((crec.run_rec, REC_P), (cquot.run_quotient, Q_P), (ccos.run_cos, COS_P)):
        r = run(dict(p), np.random.default_rng(0), loose)
        assert r.verdict == "FAIL"
        assert [c.name for c in r.checks if c.status == "FAIL" and "construction bound" in c.name], run


@pytest.mark.slow
def test_cos_depth_check_fails_when_a_fold_is_missing(monkeypatch):
    """The depth-in-aD check builds its own nets: a builder that drops a fold for a >= 16 (its formula follows the
    emitted layers, so only the depth law and the error reveal it) makes the check FAIL."""
    real = lcos.cos_params

    def short(a, b, D, eps):
        p = real(a, b, D, eps)
        if abs(a) >= 16:
            p["folds"] = p["s"] - 1
        return p
    monkeypatch.setattr(lcos, "cos_params", short)
    r = ccos.run_cos(dict(COS_P), np.random.default_rng(0))
    depth = [c for c in r.checks if c.name.startswith("depth over a D")][0]
    assert depth.status == "FAIL"
