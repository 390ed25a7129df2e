"""The positive-feature route of Lemma 3.3 (lemmas/attention_positive.py): exact counts, the error budget, the
float64 run under the margin-only hypothesis (τ = δ - 1) on tight inputs, float64 against long double, and
broken constructions that must fail."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from constructions.affine import Affine
from constructions.fnn import FNN
from lemmas import attention_positive as ap
from lemmas.attention import lam_for


def tight(rng, N, d, d_v, delta, pos, s_top=None):
    """Margin exactly δ, every other key at s* - δ, top score at the margin-only floor s* = δ - 1 (the smallest
    denominator the hypothesis allows), keys on the unit sphere (d >= 2), values ±1 with v* opposite to the rest."""
    s_top = delta - 1.0 if s_top is None else s_top
    q = rng.normal(size=d)
    q /= np.linalg.norm(q)
    s = np.full(N, s_top - delta)
    s[pos] = s_top
    if d == 1:
        K = (s / q[0])[:, None]
    else:
        u = rng.normal(size=(N, d))
        u -= np.outer(u @ q, q)
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        K = s[:, None] * q[None] + np.sqrt(np.maximum(0.0, 1 - s ** 2))[:, None] * u
    vt = rng.choice([-1.0, 1.0], size=d_v)
    V = np.tile(-vt, (N, 1))
    V[pos] = vt
    return np.concatenate([K, V, np.tile(q, (N, 1))], axis=1)


def errors(c, X, lam=None):
    """(‖F_N - Attn_λ‖∞, ‖F_N - v*‖∞) of one sequence; Attn in float64 (exact to ~1e-15 here: log-sum-exp)."""
    d, d_v = c.params["d"], c.params["d_v"]
    lam = c.notes["lam"] if lam is None else lam
    K, V, q = X[:, :d], X[:, d:d + d_v], X[-1, d + d_v:]
    s = K @ q
    w = np.exp(lam * (s - s.max()))
    att = w @ V / w.sum()
    out = c.net.last(X)
    return float(np.max(np.abs(out - att))), float(np.max(np.abs(out - V[int(np.argmax(s))])))


@pytest.fixture(scope="module")
def block1024():
    return ap.build_attention_positive(1, 1, 1024, 0.5, 0.1)


def test_counts_equal_formula():
    for args in [(1, 2, 64, 0.5, 0.1, None), (1, 1, 256, 0.5, 0.2, 1.0), (2, 1, 16, 1.5, 0.3, None)]:
        c = ap.build_attention_positive(*args)
        got = c.net.counts()
        for part in ("f1", "f2"):
            assert got[part] == c.formula[part], (args, part)
        for k in ("D", "state_total", "ssm_nnz", "total_nonzeros", "running_sum_channels", "identity_channels"):
            assert got[k] == c.formula[k], (args, k)


def test_budget_meets_eps():
    for N in (64, 1024, 2 ** 14):
        for d in (1, 2):
            b = ap.budget(N, d, 1, 0.5, 0.1, None)
            assert b["bound_r"] + b["float_bound"] <= 0.1 / 4
            # the pieces the bound is made of, recomputed
            assert ap.quadrature_errors(b["lam"], b["h_t"], b["J0"] * b["h_t"] - 1.0)[0] <= b["mu"] / (2 * d)
            assert math.expm1(ap.seg_error(b["h_e"])) <= b["rho"] * (1 + 1e-12)
            assert ap.seg_error(b["h_l"]) <= b["rho"]
            assert b["lam"] == lam_for(N, 0.1, 0.5)


def test_pieces_match_their_error_bounds():
    """exp pieces: relative error in [0, ρ_e] on the knot range; ln pieces: absolute error in [-ρ, 0]."""
    rho = 2e-3
    h = ap.step_for(math.log1p(rho))
    knots, _ = ap.exp_knots(30.0, 0.0, h)
    u = np.linspace(-30.0, 0.0, 200001)
    vals = np.exp(knots - 30.0)
    pwl = np.interp(u + 30.0, knots, vals)
    rel = pwl / np.exp(u) - 1
    assert rel.min() >= -1e-12 and rel.max() <= rho * (1 + 1e-9)
    assert rel.max() >= 0.9 * rho  # the bound is attained, not loose
    kl = ap.ln_knots(1e-20, 1.0, ap.step_for(rho))
    b, a = ap.ln_coefficients(kl)
    x = np.exp(np.linspace(math.log(1e-20), 0.0, 100001))
    ln_hat = b + np.sum(a[None, :] * np.maximum(kl[None, :] - x[:, None], 0.0), axis=1)
    err = ln_hat - np.log(x)
    assert err.max() <= 1e-9 and err.min() >= -rho * (1 + 1e-9)
    assert abs(b + np.sum(a * np.maximum(kl - 1e-30, 0)) - math.log(1e-20)) < 1e-9  # flat below x_0


def test_features_are_positive_sums(block1024):
    """The maps that add many terms add positive ones: f_1's feature outputs and f_2's Ŵ, Â⁺ layer."""
    c = block1024
    f1, f2 = c.net.f1, c.net.f2
    P = c.net.g.H - c.net.d
    r, _, v = f1.layers[-1].coo()  # coo may list explicit zeros of dense blocks
    assert np.all(v[r < P] >= 0) and np.count_nonzero(v[r < P]) == P * (c.notes["knot_counts"]["exp1"] - 1)
    assert np.all(f1.layers[-1].b[:P] > 0)
    _, _, v4 = f2.layers[3].coo()
    assert np.all(v4 >= 0) and np.count_nonzero(v4) == (1 + c.params["d_v"]) * len(c.net.nodes) * (
        c.notes["knot_counts"]["exp2"] - 1)


def test_margin_only_N1024_tight_float64(block1024):
    """The block at the paper's hypothesis (τ = δ - 1), N = 1024, evaluated in float64, meets ε on tight inputs
    (top key first/middle/last, s* at its floor δ - 1, w_min = e^{-λ(2-δ)}/N ≈ 1.4e-17)."""
    c = block1024
    assert c.notes["w_min"] < 1e-16
    rng = np.random.default_rng(3)
    for pos in (0, 511, 1023):
        X = tight(rng, 1024, 1, 1, 0.5, pos)
        e_att, e_v = errors(c, X)
        assert e_att <= 0.1 / 2 and e_v <= 0.1
        assert e_att <= 2 * (c.notes["bound_r"] + c.notes["float_bound"])


def test_float64_against_long_double():
    c = ap.build_attention_positive(1, 1, 256, 0.5, 0.1)
    rng = np.random.default_rng(5)
    X = tight(rng, 256, 1, 1, 0.5, 255)
    a = c.net.last(X)
    e = ap.last_extended(c.net, X).astype(np.float64)
    assert np.max(np.abs(a - e)) <= 2 * c.notes["float_bound"]
    # the running sums are sums of positive terms: float64 keeps them to relative error ~N u, even the ones far
    # below w_min's absolute scale (the polynomial routes would need absolute error ~1e-19 there)
    P = c.net.g.H - c.net.d
    S64 = c.net.features(X)[1][-1, :P]
    Sld = np.sum(ap.fnn_extended(c.net.f1, X)[:, :P], axis=0)
    assert np.all(S64 > 0) and S64.min() < 1e-17
    rel = np.abs(S64 - Sld.astype(np.float64)) / S64
    assert rel.max() <= c.notes["float_bound"]  # the a-priori relative bound (module docstring), ~1e-8


def test_tau_variant_and_random_inputs():
    c = ap.build_attention_positive(1, 2, 256, 0.5, 0.2, tau=1.0)
    rng = np.random.default_rng(7)
    X = tight(rng, 256, 1, 2, 0.5, 17, s_top=1.0)
    e_att, e_v = errors(c, X)
    assert e_att <= 0.1 and e_v <= 0.2
    # random values and keys below the margin (the hypothesis holds by construction)
    X[:, 1:3] = rng.uniform(-1, 1, (256, 2))
    q = X[-1, 3]
    X[:, 0] = rng.uniform(-1, 1.0 - 0.5, 256) / q
    X[17, 0] = 1.0 / q
    e_att, e_v = errors(c, X)
    assert e_att <= 0.1 and e_v <= 0.2


def _zero_f1_rows(net: FNN, rows) -> FNN:
    last = net.layers[-1]
    r, cc, v = last.coo()
    keep = ~np.isin(r, rows)
    b = last.b.copy()
    b[rows] = 0.0
    lay = Affine.from_coo(r[keep], cc[keep], v[keep], (last.d_out, last.d_in), b)
    return FNN(list(net.layers[:-1]) + [lay])


def test_broken_constructions_fail(block1024):
    """A quadrature node dropped (its running sums zeroed), or a block built for 4δ (λ four times too small),
    must miss the bounds on tight inputs."""
    c = block1024
    rng = np.random.default_rng(11)
    X = tight(rng, 1024, 1, 1, 0.5, 1023)
    q = X[-1, 2]
    m = (X[1023, 0] + q) / 2  # the quadrature integrand of the top token peaks at t = (k* + q)/2
    j = int(np.argmin(np.abs(c.net.nodes[:, 0] - m)))
    J = len(c.net.nodes)
    broken = dataclasses.replace(c, net=dataclasses.replace(c.net, f1=_zero_f1_rows(c.net.f1, [j, J + j])))
    e_att, _ = errors(broken, X)
    assert e_att > 0.1 / 2
    small = ap.build_attention_positive(1, 1, 1024, 2.0, 0.1)  # λ for margin 2 = 4δ
    e_att, e_v = errors(small, X, lam=c.notes["lam"])
    assert e_v > 0.1


def test_bad_input_rejected():
    with pytest.raises(ValueError):
        ap.build_attention_positive(1, 1, 64, 0.5, 0.0)
    with pytest.raises(ValueError):
        ap.build_attention_positive(1, 1, 64, 0.5, float("nan"))
    with pytest.raises(ValueError):
        ap.build_attention_positive(1, 1, 1, 0.5, 0.1)
    with pytest.raises(ValueError):
        ap.build_attention_positive(1, 1, 64, 0.5, 0.1, tau=-0.9)  # τ < δ - 1
    with pytest.raises(ValueError, match="exponent"):
        ap.build_attention_positive(1, 1, 1024, 0.02, 0.1)  # λ(1-τ) ≈ 1050: beyond float64's exponent range
    c = ap.build_attention_positive(1, 1, 8, 0.5, 0.3)
    with pytest.raises(ValueError):
        c.net.last(np.full((8, 3), np.nan))
    with pytest.raises(ValueError):
        ap.last_extended(c.net, np.zeros((1, 8, 3)))


def test_sums_interface_and_model():
    """``sums`` gives (Â⁺, Ŵ) with Ŵ ≈ W = (1/N)Σ e^{λ(s_i - 1)} to the budget's relative error, and
    2 Â⁺/Ŵ - 1 ≈ the block's output; ``as_model`` counts the same nonzeros."""
    c = ap.build_attention_positive(1, 1, 64, 0.5, 0.2)
    rng = np.random.default_rng(2)
    X = tight(rng, 64, 1, 1, 0.5, 9)
    A, W = c.net.sums(X)
    s = X[:, 0] * X[-1, 2]
    W_true = np.mean(np.exp(c.notes["lam"] * (s - 1)))
    assert abs(W / W_true - 1) <= c.notes["rho_W"]
    assert abs((2 * A / W - 1) - c.net.last(X)[0]) <= 2 * c.notes["bound_r"]
    m = c.net.as_model()
    assert np.allclose(m(X)[-1], c.net.last(X), rtol=0, atol=1e-12)
