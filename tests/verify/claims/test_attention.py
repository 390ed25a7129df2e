"""Lemma 3.3: the FNN -> SSM -> FNN attention block.  The claim passes at defaults; broken blocks (a kernel term
dropped, two filter channels swapped, λ too small for the delta, one weight perturbed) FAIL; delta-violating
inputs are HYPOTHESIS VIOLATED; counts equal the formula over random parameters; bad input is refused."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from constructions.ssm import SSMLayer
from lemmas import attention as la
from lemmas.base import Construction
from verify import mutants as mu
from verify import reference as ref
from verify.claims import attention as cl
from verify.registry import load_all, run_claim

REG = load_all()
SMALL = {"d": 1, "d_v": 1, "N": 256, "delta": 0.5, "eps": 0.1, "tau": 1.0, "random": 2, "route": "chebyshev",
         "violate": 0, "with_d2": 0, "d2_N": 256, "d2_delta": 1.5, "growth": 0, "hypothesis": "tau"}


def _failed(r):
    return {c.name for c in r.checks if c.status == "FAIL"}


def _bad(r):
    return [(c.name, c.status, c.measured, c.bound) for c in r.checks if c.status != "PASS"]


@pytest.mark.slow
def test_claim_passes_default():
    r = run_claim(REG["lemma-3.3"], seed=1)
    assert r.verdict == "CERTIFIED", _bad(r)
    routes = {row["route"] for row in r.counts["table"]}
    assert routes == {"chebyshev", "gauss", "positive"}  # route=all (default): the positive route too
    assert any(row.get("d") == 2 for row in r.counts["table"])


def test_small_config_passes():
    r = cl.run_attention(dict(SMALL), np.random.default_rng(0))
    assert r.verdict == "PASS", _bad(r)


# ------------------------------------------------------------------------------------------------ mutants
def _rebuild(**kw):
    def mut(c):
        p = {**c.params, **kw}
        return la.build_attention(p["d"], p["d_v"], p["N"], p["delta"], p["eps"], p["tau"], p["route"])
    return mut


def test_dropped_kernel_term_fails():
    """Dropping the kernel term with the largest |c_α| (degree near λ) breaks the budget chain and the lemma."""
    c = la.build_attention(1, 1, 256, 0.5, 0.1, 1.0, "chebyshev")
    i = int(np.argmax(np.abs(c.net.coef)))
    r = cl.run_attention(dict(SMALL), np.random.default_rng(0), cl.drop_term_mutant(i))
    assert r.verdict == "FAIL"
    f = _failed(r)
    assert any("|Ŵ - W|" in n for n in f) and any("v*" in n for n in f), _bad(r)


def test_local_search_keeps_hypotheses_and_fails_on_mutant():
    p = {**SMALL, "search": 1}
    r = cl.run_attention(p, np.random.default_rng(0))
    ls = [c for c in r.checks if "local search" in c.name]
    assert r.verdict == "PASS" and ls and ls[0].detail["hypotheses_kept"], _bad(r)
    c = la.build_attention(1, 1, 256, 0.5, 0.1, 1.0, "chebyshev")
    i = int(np.argmax(np.abs(c.net.coef)))
    r = cl.run_attention(p, np.random.default_rng(0), cl.drop_term_mutant(i))
    assert any("local search" in n for n in _failed(r))


def test_dropped_last_kernel_term_fails_on_counts():
    """The highest-degree term changes the kernel by |c_n t^n|, within the budget E, so the numerical checks
    rightly hold; the count check still catches the missing read-out entries."""
    c = la.build_attention(1, 1, 256, 0.5, 0.1, 1.0, "chebyshev")
    r = cl.run_attention(dict(SMALL), np.random.default_rng(0), cl.drop_term_mutant(len(c.net.alphas) - 1))
    assert r.verdict == "FAIL", _bad(r)
    assert any("counts" in n for n in _failed(r))


def test_swapped_filter_channels_fail():
    def swap(c):
        g = c.net.g
        T = len(c.net.alphas)
        ch = list(g.channels)
        i = int(np.argmax(np.abs(c.net.coef)))  # the dominant term α_i:
        j = T * (1 + c.params["d_v"]) + i - 1  # its running sum M_α and its identity channel ψ_α
        ch[i], ch[j] = ch[j], ch[i]
        return Construction(dataclasses.replace(c.net, g=SSMLayer(tuple(ch), U=g.U)), c.formula, c.params, c.notes)
    r = cl.run_attention(dict(SMALL), np.random.default_rng(0), swap)
    assert r.verdict == "FAIL"
    f = _failed(r)
    # the sums the proof chain rests on are off by ~1 (ψ_α now reads the running sum of q^α, clipped); the output
    # itself stays within ε on these sets: both Â and Ŵ carry the same distorted term and the chord ratio net
    # saturates at ±C outside its wedge (the Horner ratio net did not, and the output check failed too)
    assert any("|Ŵ - W|" in n for n in f), _bad(r)


def test_lambda_too_small_for_margin_fails():
    """A block built for margin 4δ (λ four times too small) applied to δ-margin inputs: attention with its λ no
    longer selects v* on the tight inputs, and the block does not even track that attention there, since its ratio
    net is built for W <= W_max = (1 + (N - 1) e^{-4λδ}) / N, which the δ-margin keys exceed (the sums check
    fails too).  (While the ratio net covered b up to 1 + E, the block still tracked its own attention.)"""
    r = cl.run_attention(dict(SMALL), np.random.default_rng(0), _rebuild(delta=2.0))
    f = _failed(r)
    assert r.verdict == "FAIL"
    assert any("tight" in n and "v*" in n for n in f)
    assert any("tight" in n and "Attn" in n for n in f)


def test_perturbed_weight_fails():
    def pert(c):
        f1 = mu.perturb_weight(c.net.f1, 3, None, 1e-3)
        return Construction(dataclasses.replace(c.net, f1=f1), c.formula, c.params, c.notes)
    r = cl.run_attention(dict(SMALL), np.random.default_rng(0), pert)
    assert r.verdict == "FAIL"


def test_margin_violation_is_hypothesis_violated():
    r = cl.run_attention({**SMALL, "violate": 1}, np.random.default_rng(0))
    assert r.verdict == "HYPOTHESIS VIOLATED", _bad(r)
    assert not _failed(r)
    v = [c for c in r.checks if c.violated]
    assert v and all(c.detail["min_gap"] < 0.5 for c in v)


def test_float64_insufficient_is_inconclusive(monkeypatch):
    """τ far below 1 makes the denominator tiny: the builder asks for more than 53 bits and, beyond the
    fixed-point path's N <= HP_MAX_N (lowered here below N = 256 to keep the test small), the checks say
    INCONCLUSIVE instead of passing."""
    b = la.budgets(256, 1, 1, 0.5, 0.1, 0.2, "chebyshev")
    assert not b["float64"] and b["precision_bits"] > 53
    monkeypatch.setattr(cl, "HP_MAX_N", 128)
    r = cl.run_attention({**SMALL, "tau": 0.2}, np.random.default_rng(0))
    assert r.verdict == "INCONCLUSIVE", _bad(r)


def test_high_precision_path_passes_and_catches_a_mutant():
    """τ = -0.3 needs 63 bits: the sound fixed-point interval evaluation decides (PASS), and a perturbed f_1
    weight FAILs there too.  (τ = -0.2 was used before the two-square products and the Γ_1 budget made float64
    enough there.)"""
    p = {**SMALL, "N": 32, "eps": 0.2, "tau": -0.3, "random": 1}
    assert not la.budgets(32, 1, 1, 0.5, 0.2, -0.3, "chebyshev")["float64"]
    r = cl.run_attention(p, np.random.default_rng(0))
    assert r.verdict == "PASS", _bad(r)
    assert all("fixed-point" in row["precision"] for row in r.counts["table"])

    def pert(c):
        f1 = mu.perturb_weight(c.net.f1, 3, None, 1e-3)
        return Construction(dataclasses.replace(c.net, f1=f1), c.formula, c.params, c.notes)
    r = cl.run_attention(p, np.random.default_rng(0), pert)
    assert r.verdict == "FAIL"


# ------------------------------------------------------------------------------------------------ formula
@settings(derandomize=True, deadline=None, max_examples=6)
@given(st.integers(1, 2), st.integers(1, 2), st.sampled_from([64, 300, 2048]), st.sampled_from([0.2, 0.05]),
       st.sampled_from([0.8, 1.2]), st.sampled_from(la.ROUTES))
def test_counts_equal_formula(d, d_v, N, eps, delta, route):
    c = la.build_attention(d, d_v, N, delta, eps, 1.0, route)
    assert cl.count_check(c).passed, cl.count_check(c).detail["mismatch"]
    assert c.net.g.counts()["state_max"] == 1 and c.net.g.U == N


def test_budget_formulas():
    b = la.budgets(1024, 1, 1, 0.5, 0.1, 1.0, "gauss")
    assert 2 * 1023 * np.exp(-b["lam"] * 0.5) == pytest.approx(0.05, rel=1e-12)
    assert b["E_trunc"] <= b["E"] / 2 and b["E_trunc"] + b["E_net_bound"] <= b["E"]
    assert b["w_min"] == pytest.approx(1 / 1024) and b["E"] == pytest.approx(0.1 / 1024 / 6.5, rel=1e-15)
    # the quotient chain: 2E/(w_min - E) + ε_q <= ε/2 (budget 3), with the ratio net's share ε/8
    C, b_lo, b_hi, eq = la.quotient_args(b, 0.1)
    assert 2 * b["E"] / (b["w_min"] - b["E"]) + eq <= 0.05 and eq == 0.1 / 8 and C - 1 <= 0.1 / 2.75
    # the gauss route's Γ is 1 - e^{-λ} for d = 1; the chebyshev route's power basis cancels
    tail = float(la.truncation_tails("gauss", b["lam"], b["n"])[b["n"]])
    assert b["Gamma"] == pytest.approx(1 - np.exp(-b["lam"]) - tail, rel=1e-12)
    assert la.budgets(1024, 1, 1, 0.5, 0.1, 1.0, "chebyshev")["Gamma"] > 10


# ------------------------------------------------------------------------------------------------ helpers
def test_token_contributions_concentrate_on_top_key():
    c = la.build_attention(1, 1, 256, 0.5, 0.1, 1.0, "chebyshev")
    X, i = cl.sample_sequence(np.random.default_rng(2), 256, 1, 1, 0.5, 1.0, "random")
    w = la.token_contributions(c.net, X)
    assert w.shape == (256,) and abs(w.sum() - 1) < 1e-12
    s = X[:, 0] * X[-1, 2]
    att = ref.softmax(s, c.notes["lam"])
    assert np.max(np.abs(w - att)) < 1e-3 and int(np.argmax(w)) == i


def test_reference_attention_causal_matches_last():
    rng = np.random.default_rng(0)
    K, V, Q = rng.normal(size=(300, 2)), rng.normal(size=(300, 3)), rng.normal(size=(300, 2))
    full = ref.attention_causal(K, V, Q, 3.0, chunk=64)
    assert np.allclose(full, ref.attention_causal(K, V, Q, 3.0, chunk=300), atol=1e-14)
    assert np.allclose(full[-1], ref.attention_last(K, V, Q[-1], 3.0), atol=1e-14)
    assert np.allclose(full[10], ref.attention_last(K[:11], V[:11], Q[10], 3.0), atol=1e-14)


def test_forward_last_equals_full_forward():
    c = la.build_attention(1, 1, 64, 0.8, 0.2, 1.0, "gauss")
    X, _ = cl.sample_sequence(np.random.default_rng(1), 64, 1, 1, 0.8, 1.0)
    assert np.allclose(c.net.forward(X)[-1], c.net.last(X), rtol=0, atol=1e-13)  # same maps, other BLAS blocking


def test_sampler_meets_hypotheses():
    rng = np.random.default_rng(5)
    for kind in ("random", "tight"):
        for d in (1, 2, 3):
            X, i = cl.sample_sequence(rng, 200, d, 2, 0.3, 0.9 if kind == "random" else 1.0, kind)
            h = cl.hypotheses(X[None], d, 2, 0.3, 0.9)
            assert h["ok_each"].all(), h


@pytest.mark.parametrize("kw", [{"eps": 0.0}, {"eps": float("nan")}, {"delta": 0.0}, {"delta": 2.5},
                                {"N": 1}, {"d": 0}, {"tau": -1.0}, {"route": "taylor"}])
def test_bad_input(kw):
    p = {"d": 1, "d_v": 1, "N": 64, "delta": 0.5, "eps": 0.1, "tau": 1.0, "route": "chebyshev", **kw}
    with pytest.raises(ValueError):
        la.build_attention(**p)


# ------------------------------------------------------------------------------------------ ratio quotient
def test_quotient_inputs_lie_in_the_ratio_wedge():
    """Budget 3: the computed (Â_c, Ŵ) lie in the wedge of the ratio-form F.4 net (Ŵ ∈ [w_min - E, W_max + E],
    W_max = (1 + (N - 1) e^{-λδ}) / N by the delta, |Â_c| <= C Ŵ, C = 1 + 2E/(w_min - E)), on random and tight
    sequences (the tight ones put every other key at the delta: W is near W_max), and f_2's output is that net at
    them."""
    from lemmas import ratio as lq
    c = la.build_attention(1, 2, 256, 0.5, 0.1, 1.0, "chebyshev")
    C, b_min, b_max, eq = la.quotient_args(c.notes, 0.1)
    assert C == pytest.approx(1 + 2 * c.notes["E"] / (c.notes["w_min"] - c.notes["E"]))
    assert (c.notes["quotient_params"]["C"], c.notes["quotient_params"]["b_min"]) == (C, b_min)
    assert b_max == pytest.approx((1 + 0.1 / 4) / 256 + c.notes["E"], rel=1e-9)  # (N - 1) e^{-λδ} = ε/4
    q = lq.build_ratio(C, b_min, b_max, eq)
    rng = np.random.default_rng(4)
    for kind in ("random", "tight"):
        X, _ = cl.sample_sequence(rng, 256, 1, 2, 0.5, 1.0, kind)
        s = c.net.sums(X)
        A, W = s[:2], s[2]
        assert b_min <= W <= b_max and np.all(np.abs(A) <= C * W)
        assert np.allclose(c.net.last(X), q.net(np.stack([A, [W, W]], 1))[:, 0], rtol=0, atol=1e-12)


def test_weight_bound_is_sqrt_scale():
    """B of f_2 is the ratio net's √-split input scale Δ^{-1/2}, Δ = b_max - b_min ≈ (ε/4 + 2ε/6.5)/N at τ = 1 (one
    piece), i.e. ~ (N/ε)^{1/2}, not the old 8N."""
    for N in (256, 4096):
        c = la.build_attention(1, 1, N, 1.0, 0.1, 1.0, "chebyshev")
        B = c.net.counts()["f2"]["B"]
        qp = c.notes["quotient_params"]
        assert B == c.formula["f2"]["B"] == pytest.approx((qp["b_max"] - qp["b_min"]) ** -0.5)
        assert B < 2 * np.sqrt(N / 0.1) and B < 8 * N / 10


def test_ratio_net_with_too_small_wedge_fails():
    """The block with a ratio net built for C = 1/4 (its pieces clip a/(C r t_j) at 1, so |a/b| > ~C is cut):
    attention values near ±1 are lost and the lemma fails.  (A ratio net of accuracy 0.4 instead of ε/4 is not a
    useful mutant: its measured error stays below the block's ε/2 delta, so PASS would be right.)"""
    from lemmas import ratio as lq
    narrow = lambda C, lo, hi, e: lq.build_ratio(0.25, lo, hi, e)  # noqa: E731

    def mut(c):
        p = c.params
        return la.build_attention(p["d"], p["d_v"], p["N"], p["delta"], p["eps"], p["tau"], p["route"],
                                  quotient=narrow)
    r = cl.run_attention({**SMALL, "route": "both"}, np.random.default_rng(0), mut)
    assert r.verdict == "FAIL", _bad(r)
    assert any("v*" in n or "v_{i*}" in n or "Attn" in n for n in _failed(r)), _failed(r)


# ------------------------------------------------------------------------------------------------ speed work
def _pair_net(m):
    from constructions.circuit import Circuit
    c = Circuit(2)
    a, b = c.inputs()
    return c.net(la.pair_level(c, [("mult", a, b)], m))


@pytest.mark.parametrize("m", [2, 3, 5, 8])
def test_pair_level_error_is_2_pow_minus_2m_minus_2_and_attained(m):
    """The two-square product: |φ(a, b) - ab| <= 2^{-2m-2} on [-1, 1]^2, attained at a = b = 2^{-m-1}; one
    sawtooth level fewer (m - 1) breaks the bound (the check can fail)."""
    g = np.linspace(-1, 1, 257)
    A, B = (x.ravel() for x in np.meshgrid(g, g))
    X = np.stack([A, B], 1)
    bound = la.pair_error(m)
    err = np.abs(_pair_net(m)(X)[:, 0] - A * B)
    assert err.max() <= bound * (1 + 1e-9)
    t = 2.0 ** (-m - 1)
    assert abs(_pair_net(m)(np.array([[t, t]]))[0, 0] - t * t) == pytest.approx(bound, rel=1e-9)
    assert np.abs(_pair_net(m)(np.array([[0.3, -0.7], [0.0, 0.5], [2.0, -3.0]]))[:, 0]
                  - np.array([-0.21, 0.0, -1.0])).max() <= bound * (1 + 1e-9)  # inputs clipped to [-1, 1]
    if m > 2:
        X2 = np.vstack([X, [[2 * t, 2 * t]]])
        assert np.abs(_pair_net(m - 1)(X2)[:, 0] - X2[:, 0] * X2[:, 1]).max() > bound


@pytest.mark.slow
def test_budget_gamma1_and_minimal_m():
    for route in la.ROUTES:
        for N, delta in ((256, 0.5), (4096, 1.0), (1 << 16, 1.0)):
            b = la.budgets(N, 1, 1, delta, 0.1, 1.0, route)
            al, c, trunc, Gamma = la.term_coefficients(route, b["lam"], b["n"], 1)
            assert b["Gamma1"] == pytest.approx(sum(2 * a[0] * abs(x) for a, x in zip(al[1:], c[1:])))
            assert b["Gamma1"] <= 2 * b["n"] * Gamma * (1 + 1e-12)
            # E_net <= η(m) Γ_a + η(m2) Γ, Γ_a = Γ_1 - Γ (f_1's share: (2|α| - 1)|c_α|; f_2's products: |c_α|)
            Ga = b["Gamma1"] - b["Gamma"]
            assert b["E_net_bound"] == pytest.approx(Ga * la.pair_error(b["m"]) + b["Gamma"] * la.pair_error(b["m2"]))
            assert trunc <= b["E"] / 2 and b["E_trunc"] + b["E_net_bound"] <= b["E"]
            # m2 is the smallest for the chosen m; m is the smallest that leaves room, or one more
            room = b["E"] - trunc
            assert b["m2"] == 2 or Ga * la.pair_error(b["m"]) + b["Gamma"] * la.pair_error(b["m2"] - 1) > room
            assert b["m"] == 2 or Ga * la.pair_error(b["m"] - 2) >= room
            # n: the cheapest (f_1 + f_2's products) of the admissible degrees n0 .. n0 + DEGREE_SLACK, each at its
            # best (m, m2): brute force over every feasible pair
            n0 = la.degree_for(route, b["lam"], 1, b["E"] / 2)
            assert n0 <= b["n"] <= n0 + la.DEGREE_SLACK

            def cost(n):
                al_, c_, tr_, G_ = la.term_coefficients(route, b["lam"], n, 1)
                ga = sum((2 * a[0] - 1) * abs(x) for a, x in zip(al_[1:], c_[1:]))
                best = None
                for m1 in range(2, 40):
                    for m2 in range(2, 40):
                        if ga * la.pair_error(m1) + G_ * la.pair_error(m2) <= b["E"] - tr_:
                            S1, _, S2p = la.feature_nonzeros(n, 1, 1, m1, int(np.count_nonzero(c_[1:])), m2)
                            best = S1 + S2p if best is None else min(best, S1 + S2p)
                return best
            costs = [cost(n) for n in range(n0, n0 + la.DEGREE_SLACK + 1)]
            nz = int(np.count_nonzero(la.term_coefficients(route, b["lam"], b["n"], 1)[1][1:]))
            chosen = la.feature_nonzeros(b["n"], 1, 1, b["m"], nz, b["m2"])
            assert sum(chosen[::2]) == min(costs)


def test_block_plan_agrees_with_per_layer_evaluation():
    """At N >= 2048 tokens the FNNs run through the compiled plan (``constructions.fnn._Plan``): same maps, only
    float64 additions reassociated.  f_1 agrees to ~1e-15 relative; the ratio nets' outputs (input scale up to
    B ~ 1e2, sawtooth depth ~20) to ~1e-10 absolute, far inside ε; the last output equals ``last`` (f_2 on one
    token, per-layer path)."""
    import constructions.fnn as fnn_mod
    N = 4096
    c = la.build_attention(1, 1, N, 1.0, 0.1, 1.0, "chebyshev")
    X, _ = cl.sample_sequence(np.random.default_rng(4), N, 1, 1, 1.0, 1.0)
    Z = c.net.f1(X)
    G = c.net.g(Z, method="exact")
    Y = c.net.f2(G)
    saved = fnn_mod._PLAN_MIN_TOKENS
    fnn_mod._PLAN_MIN_TOKENS = 1 << 62
    try:
        Z0 = c.net.f1(X)
        Y0 = c.net.f2(G)
    finally:
        fnn_mod._PLAN_MIN_TOKENS = saved
    assert np.max(np.abs(Z - Z0)) <= 1e-14 * np.max(np.abs(Z0))
    assert np.max(np.abs(Y - Y0)) <= 1e-9
    assert np.allclose(Y[-1], c.net.last(X), rtol=0, atol=1e-9)
    assert np.max(np.abs(Y[-1] - ref.attention_last(X[:, :1], X[:, 1:2], X[-1, 2:], c.notes["lam"]))) <= 0.05
