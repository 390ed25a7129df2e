"""Lemma F.3 (cos): cos(a x - b) and sin(a x - b) on [-D, D] (Perekrestenko et al. 2018, Corollary 4.2, as
reconstructed in spec 02; the product block of ``lemmas.mult``).

Statement verified (``lemma-F.3-cos``).  For a ≠ 0, b ∈ R, D > 0 and 0 < ε < 1 the network φ below satisfies

    |φ(x) - cos(a x - b)| <= ε   for every x ∈ [-D, D]        (``build_cos``),

and ``build_sin(a, b, D, ε)`` = ``build_cos(a, b + π/2, D, ε)`` gives |φ(x) - sin(a x - b)| <= ε on [-D, D]
(sin θ = cos(θ - π/2); the phase b + π/2 is rounded to float64, an error <= ulp(b + π/2) added to the bound).
The statement is on the domain only: outside [-D, D] the network is a clipped continuation, not cos.

Construction.  θ = a x - b ∈ [θ_lo, θ_hi] = [-|a| D - b, |a| D - b];  θ_0 = 2π ⌊θ_lo / 2π⌋;  s >= 1 the smallest with
2^s π >= θ_hi - θ_0;  t = (θ - θ_0) / (2^s π) ∈ [0, 1] (an affine function of x: t = α x + β).
  1. Exact folding.  With the tooth g(t) = 2ρ(t) - 4ρ(t - 1/2) + 2ρ(t - 1) (= 1 - |2t - 1| on [0, 1]),
     cos(π g(t)) = -cos(π |2t - 1|) = cos(2π t), so by induction cos(π g_s(t)) = cos(2^s π t) = cos(θ - θ_0) = cos θ.
     g_s is emitted exactly: layers 1-2 = (ρ(2t - 1), ρ(1 - 2t)), g_1 = ρ(1 - ρ(2t - 1) - ρ(1 - 2t)) (the tooth in its
     float-robust form: the spec's 2ρ(t) - 4ρ(t - 1/2) + 2ρ(t - 1) cancels in float64 for huge t, so the float
     net was not its own exact continuation outside [-D, D]), then s - 1 layers (ρ(g_k), ρ(g_k - 1/2)), g_{k+1} =
     2ρ(g_k) - 4ρ(g_k - 1/2) (g_k ∈ [0, 1]).
  2. On u = g_s ∈ [0, 1], w = 2u - 1 ∈ [-1, 1]:  cos(π u) = -sin(π w / 2) = -w Q(w^2),
     Q(z) = Σ_{k=0}^{K} c_k z^k,  c_k = (-1)^k (π/2)^{2k+1} / (2k+1)!,  truncation <= T_K = (π/2)^{2K+3} / (2K+3)!
     (alternating series with decreasing terms on |w| <= 1).  Products by the block φ_m of ``lemmas.mult`` on
     [-1, 1]^2 (error η = 2^{-2m}): z = φ_m(w, w) (w carried), Horner on h'_j = Q_j / 2 (so |h'_j| <= π/4 < 1):
     h'_{K-1} = c_{K-1}/2 + (c_K/2) z (affine), h'_j = c_j/2 + φ_m(z, h'_{j+1}) (j = K-2..0; K - 1 levels, z and w
     carried), and φ = -2 φ_m(w, h'_0).
  Error (exact arithmetic): e_z <= η; e_{K-1} <= η/2; e_j <= η + η + e_{j+1} (clipping is 1-Lipschitz, |h'|, |z| <= 1);
  the last product adds η; so |φ - cos θ| <= T_K + 2(η + e_0) <= T_K + (4K - 1) η  (``error_bound``).  K >= 1 the
  smallest with T_K <= ε/2, m >= 2 the smallest with (4K - 1) 2^{-2m} <= ε/2.
Counts (clip costs c(f) of ``lemmas.mult``; N = K - 1 Horner levels; k_w = 1 if s = 1 else 2 weights in w = 2g_s - 1):
    L = s + (K + 1)(m + 1) + 2,
    W = 11 (N >= 2: z and w carried beside a product), 10 (N <= 1),
    S = [2 + 2 n_β] + 3                                    (layers 1-2; n_β = [2β - 1 != 0])
        + [s >= 2] (3 + 5 (s - 2))                         (folding layers)
        + 3 (2 k_w + 1) + (24m + 11) + (m + 1)             (level z = φ(w, w), carry w)
        + [N >= 1] (43 + 23 (N - 1) + 3 (N - 1) + [N >= 2] (20 + 3 (N - 2)) + (24m + 11) N + (m + 1)(2N - 1))
        + 23 + (24m + 11)                                  (level φ(w, h'_0))
        + 9                                                (output -2 · product),
    B = max(8 [s >= 2] or 4 [s = 1], 2|α|, |1 - 2β|),  |α| = |a| / (2^s π)    (4: the sawtooth; 8: w = 2 g_s - 1 = 4ρ(g_{s-1}) - 8ρ(g_{s-1} - 1/2) - 1 enters the clip
                                              layer of the first product level).
  (Horner level i reads z (20 at i = 1: 9 weights, no bias; 3 later), h' (20: 9 weights, bias c_j/2), carries z while
  i < N (20 at i = 1, 3 later) and w (3).)
Growth: s = max(1, ⌈log2((θ_hi - θ_0)/π)⌉) < log2(2|a| D / π + 2) + 1 (as θ_hi - θ_0 < 2|a| D + 2π),
K ~ ln(1/ε)/ln ln(1/ε), m ~ log2(1/ε)/2, so
L = O(log^2 1/ε + log(a D)), W = 11, S = O(log^2 1/ε + log(a D)), B = max(8, |α|) (|α| <= 1/(2D)).
The spec's "width <= 9, B <= 1" (Perekrestenko et al. as reconstructed) is not met by this construction: our
product block has width 9 plus carried values, the sawtooth needs the weight 4 and w = 2 g_s - 1 the weight 8 (B <= 1 would need
splitting every weight over extra layers); the depth and growth orders are as claimed.
Float64: the folding multiplies the rounding of t (~eps64) by the Lipschitz constant 2^s of g_s, so the error of
φ in float64 is ~ 2^s π eps64 (|a| D eps64); the verifier's allowance is τ = S · eps64 · 2^s.  The builder
refuses ε < 1e-11 and ε < 1e4 · 2^s eps64 (``min_eps_float64``).
"""

from __future__ import annotations

import math

from constructions.circuit import Circuit, Fn
from constructions.validate import EPS64, check_eps, check_finite

from .base import Construction
from .mult import level

MIN_EPS = 1e-11




def cos_params(a: float, b: float, D: float, eps: float) -> dict:
    th_lo, th_hi = -abs(a) * D - b, abs(a) * D - b
    th0 = 2.0 * math.pi * math.floor(th_lo / (2.0 * math.pi))
    s = 1
    while 2.0 ** s * math.pi < th_hi - th0:
        s += 1
    scale = 2.0 ** s * math.pi
    alpha, beta = a / scale, (-b - th0) / scale
    c = [(-1) ** k * (math.pi / 2) ** (2 * k + 1) / math.factorial(2 * k + 1) for k in range(40)]
    T = lambda K: (math.pi / 2) ** (2 * K + 3) / math.factorial(2 * K + 3)  # noqa: E731
    K = 1
    while T(K) > eps / 2:
        K += 1
    m = 2
    while (4 * K - 1) * 2.0 ** (-2 * m) > eps / 2:
        m += 1
    return {"s": s, "folds": s, "theta0": th0, "alpha": alpha, "beta": beta, "K": K, "m": m, "c": c[:K + 1],
            "bound": T(K) + (4 * K - 1) * 2.0 ** (-2 * m)}


def cos_formula(p: dict) -> dict:
    s, K, m, beta = p["folds"], p["K"], p["m"], p["beta"]
    N = K - 1
    kw = 1 if s == 1 else 2
    S = 2 + 2 * (2.0 * beta - 1.0 != 0) + 3
    if s >= 2:
        S += 3 + 5 * (s - 2)
    S += 3 * (2 * kw + 1) + (24 * m + 11) + (m + 1)
    if N >= 1:
        S += 43 + 23 * (N - 1) + 3 * (N - 1) + (20 + 3 * (N - 2) if N >= 2 else 0) + (24 * m + 11) * N \
            + (m + 1) * (2 * N - 1)
    S += 23 + (24 * m + 11) + 9
    return {"L": s + (K + 1) * (m + 1) + 2, "W": 11 if N >= 2 else 10, "S": S,
            "B": max(8.0 if s >= 2 else 4.0, 2.0 * abs(p["alpha"]), abs(1.0 - 2.0 * beta))}


def emit_cos(c: Circuit, x: Fn, p: dict) -> Fn:
    """Emit the folding layers and the polynomial levels on the input functional x; returns φ ≈ cos(a x - b)."""
    t = x * p["alpha"] + p["beta"]
    v = c.layer([2.0 * t - 1.0, 1.0 - 2.0 * t])
    (g,) = c.layer([1.0 - v[0] - v[1]])  # the tooth ρ(1 - |2t - 1|), float-robust (no cancelling ramps)
    for _ in range(p["folds"] - 1):
        A, B = c.layer([g, g - 0.5])
        g = 2.0 * A - 4.0 * B
    w = 2.0 * g - 1.0
    K, m, cc = p["K"], p["m"], p["c"]
    z, w = level(c, [("mult", w, w), ("carry", w)], m)
    h = z * (cc[K] / 2) + cc[K - 1] / 2
    for j in range(K - 2, -1, -1):
        ops = [("mult", z, h)] + ([("carry", z)] if j > 0 else []) + [("carry", w)]
        out = level(c, ops, m)
        h = out[0] + cc[j] / 2
        if j > 0:
            z = out[1]
        w = out[-1]
    (prod,) = level(c, [("mult", w, h)], m)
    return prod * -2.0


def build_cos(a: float, b: float, D: float, eps: float) -> Construction:
    """φ(x) ≈ cos(a x - b) on [-D, D] within ε (module docstring)."""
    a, b, D, eps = check_finite("a", a), check_finite("b", b), check_finite("D", D), check_eps(eps)
    if a == 0:
        raise ValueError("cos needs a != 0 (cos(-b) is a constant)")
    if not D > 0:
        raise ValueError(f"D must be > 0, got {D}")
    if not eps < 1:
        raise ValueError(f"cos needs 0 < eps < 1, got {eps}")
    if abs(a) * D > 1e9 or abs(b) > 1e9:
        raise ValueError(f"|a| D = {abs(a) * D:.3g} or |b| = {abs(b):.3g} too large for float64 folding (at most 1e9)")
    p = cos_params(a, b, D, eps)
    floor = max(MIN_EPS, 1e4 * 2.0 ** p["s"] * EPS64)
    if eps < floor:
        raise ValueError(f"eps={eps} is below what float64 can verify here ({floor:.3g}: the folding amplifies "
                         f"rounding by 2^s = {2 ** p['s']})")
    c = Circuit(1)
    (x,) = c.inputs()
    net = c.net([emit_cos(c, x, p)])
    return Construction(net, cos_formula(p), {"a": a, "b": b, "D": D, "eps": eps, "s": p["s"], "K": p["K"],
                                              "m": p["m"], "theta0": p["theta0"]},
                        {"error_bound": p["bound"], "min_eps_float64": floor, "V": 2.0 ** p["s"],
                         "alpha": p["alpha"], "beta": p["beta"], "folds": p["folds"],
                         "claimed": "L = O(log^2 1/ε + log(aD)), W <= 9, B <= 1 (Perekrestenko et al. as reconstructed)",
                         "precision": "float64 (rounding ~ 2^s eps64)"})


def build_sin(a: float, b: float, D: float, eps: float) -> Construction:
    """φ(x) ≈ sin(a x - b) = cos(a x - (b + π/2)) on [-D, D] within ε."""
    b = check_finite("b", b)
    c = build_cos(a, b + math.pi / 2, D, eps)
    return Construction(c.net, c.formula, {**c.params, "b": b, "phase": "sin"}, c.notes)
