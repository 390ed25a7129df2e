"""Lemma F.3 (rec): 1/x on [x_min, x_max] (Oko et al. 2023, Lemma F.7 as reconstructed; spec 02, "F.3 (rec)").

Statement verified (``lemma-F.3-rec``).  For 0 < x_min < x_max and ε > 0 the network φ below satisfies, for every
x ∈ [x_min, x_max] and every x' ∈ R,

    |φ(x') - 1/x| <= ε + |x' - x| / x_min^2,

and ``build_rec(ε)`` is the case [x_min, x_max] = [ε, 1/ε] of the lemma: |φ(x') - 1/x| <= ε + |x' - x| / ε^2.
Precisely: φ(x') = φ(clip(x'; x_min, a_P)) (a_P >= x_max the last break point, below), |φ(t) - 1/t| <= ε on
[x_min, a_P], and 1/t is 1/x_min^2-Lipschitz there while clipping is 1-Lipschitz and fixes x; so
|φ(x') - 1/x| <= |φ(c) - 1/c| + |1/c - 1/x| <= ε + |x' - x| / x_min^2 with c = clip(x'; x_min, a_P).

Construction (the spec's telescoping recipe on geometric pieces, each evaluated by Horner with approximate
products).  P = max(1, ⌈log2(x_max / x_min)⌉) pieces with ratio r = (x_max / x_min)^{1/P} ∈ (1, 2] (for P = 1,
r = max(x_max / x_min, 5/4): a too thin single piece is widened, which only enlarges the domain):
    a_j = x_min r^j (j < P),  a_P = x_max (or 5/4 x_min when widened),  Δ_j = a_{j+1} - a_j,
    c_j = (a_j + a_{j+1}) / 2,  ρ_j = Δ_j / (a_j + a_{j+1}) = (r - 1)/(r + 1) ∈ [1/9, 1/3].
Exact identity (telescoping; for t in piece k the pieces j < k give 1/a_{j+1} - 1/a_{j+1} = 0, the pieces j > k
give 1/a_j - 1/a_{j+1}, and the sum collapses):
    1/clip(t; a_0, a_P) = 1/a_P + Σ_j [ 1/clip(t; a_j, a_{j+1}) - 1/a_{j+1} ].
On piece j write clip(t; a_j, a_{j+1}) = c_j (1 + ρ_j v_j), v_j ∈ [-1, 1], so 1/clip = (1/c_j) Σ_k (-ρ_j v_j)^k.
With g = (1 - ρ) h (so that every Horner value lies in [1 - 2ρ, 1] ⊂ [-1, 1], the range of the product block):
    g_n = 1 - ρ,  g_k = (1 - ρ) - ρ φ_m(v, g_{k+1})  (k = n - 1 .. 0),  and 1/clip = g_0^{exact} / a_j
(since c_j (1 - ρ_j) = a_j); g_{n-1} = (1 - ρ) - ρ(1 - ρ) v is affine, so H = n - 1 product levels are needed.
Error of one piece (exact arithmetic; φ_m the pairwise block of ``lemmas.mult`` on [-1, 1]^2, η = 2^{-2m}):
    truncation (1 - ρ) |ρ v|^{n+1} / (1 + ρ v) <= ρ^{n+1};  products e_k <= ρ (η + e_{k+1}), e_{n-1} = 0, so
    e_0 <= η ρ / (1 - ρ).  Hence, on [a_0, a_P],
    |φ(t) - 1/t| <= Σ_j [ρ_j^{n+1} + η ρ_j / (1 - ρ_j)] / a_j =: T_n + η K   (``error_bound``),
n >= 2 the smallest with T_n <= ε/2 and m >= 2 the smallest with 2^{-2m} K <= ε/2.
Float-safe piece clipping.  clip(t; a_j, a_{j+1}) - a_j = ρ(Δ_j - ρ(a_{j+1} - t)) (two ReLU layers) is exact for
every t >= a_{j+1} (the inner ReLU is 0) and has no cancellation of a large t against a small a_j, unlike
ρ(t - a_j) - ρ(t - a_{j+1}) (which loses everything when t >> a_j: for ε = 1e-4 that would already break the
bound at t = 1/ε).
Layers (``Circuit``): A (P units) ρ(a_{j+1} - x); B (P units) V_j = ρ(Δ_j - A_j), v_j = (2/Δ_j) V_j - 1; then H levels
of ``lemmas.mult.level`` with ops mult(v_j, g_j) and carry(v_j) (no carry in the last level); output
    φ = Σ_j g_{0,j} / a_j - Σ_{j=1}^{P-1} 1/a_j,    g_{0,j} = (1 - ρ_j) - ρ_j · (product output j).
Counts (clip costs c(f) of ``lemmas.mult``: level 1 reads v (3), g_{n-1} (4: one weight, bias 1 - ρ^2), carried v
(3); later levels read the carried v (3), g (9 weights and bias 1 - ρ: 20), carry (3); per piece Σ c =
7 + 26 (H - 1)):
    L = H (m + 1) + 3,   W = 10 P (H >= 2), 9 P (H = 1),
    S = P [20 + 26 (H - 1) + (24 m + 11) H + (m + 1)(H - 1)] + 1     (A: 2P, B: 2P, output 9P + 1 bias),
    B = max(4, a_P, 2/Δ_0).
Growth for [ε, 1/ε]: P = ⌈2 log2(1/ε)⌉, n ≈ log3(4/ε^2), m ≈ log2(1/ε), so L = O(log^2 1/ε), W = O(log 1/ε),
S = O(log^3 1/ε), B = O(1/ε) (the paper's source claims L = O(log^2), W = O(log^3), S = O(log^4); ours is smaller
in W and S).
Float64.  The target 1/x is as large as 1/x_min and the bound ε is absolute, so the net must be accurate to the
relative ε x_min (ε^2 for [ε, 1/ε]).  Every piece works on values in [-1, 1] and is then scaled by 1/a_j, so the
float64 rounding is about 1 eps64 / x_min (measured against 60 digits, tests/verify/claims/test_rec_cos_quotient.py); the
verifier's allowance rule (τ = S eps64 / x_min, a bound below 1000 τ INCONCLUSIVE) resolves ε >= 1e-3 on [ε, 1/ε]
(ε = 1e-4 is INCONCLUSIVE; ``verify.claims.rec.REC_FLOOR``) and every ε >= 1e-8 on [1/2, 2].  The builder
refuses ε x_min < 1e-13 (``min_eps_float64`` = 1e-13 / x_min: the output's own resolution).
"""

from __future__ import annotations


from constructions.circuit import Circuit, Fn
from constructions.validate import check_eps, check_positive

from .base import Construction
from .mult import level

MIN_REL = 1e-13  # ε · x_min below this: the output's own float64 resolution (1/x_min · 1e-16 · ~1e3) is too coarse




def horner_levels(c: Circuit, v: list, g: list, rho, H: int, m: int, carry: list) -> tuple[list, list]:
    """H Horner levels of the per-piece geometric series, g_j <- (1 - ρ_j) - ρ_j (v_j g_j), one approximate product
    (``mult.level`` at depth m) per piece and level; v_j is carried to the next level (not after the last) and so
    is every unit of ``carry``.  Returns the final (g, carry).  Shared by ``build_rec_interval`` and the ratio
    quotient (lemmas/quotient.py)."""
    P = len(v)
    v, g = list(v), list(g)
    for lev in range(H):
        last = lev == H - 1
        ops = []
        for j in range(P):
            ops.append(("mult", v[j], g[j]))
            if not last:
                ops.append(("carry", v[j]))
        ops += [("carry", e) for e in carry]
        out = level(c, ops, m)
        k = 0
        for j in range(P):
            g[j] = (1.0 - rho[j]) - out[k] * rho[j]
            k += 1
            if not last:
                v[j] = out[k]
                k += 1
        carry = out[k:]
    return g, carry


def pieces(x_min: float, x_max: float) -> dict:
    """Break points a_0 = x_min < ... < a_P (>= x_max), widths Δ_j and the ratios ρ_j of the P pieces."""
    P = 1
    while x_min * 2.0 ** P < x_max:
        P += 1
    r = (x_max / x_min) ** (1.0 / P)
    widened = P == 1 and r < 1.25
    if widened:
        r = 1.25
    a = [x_min * r ** j for j in range(P)] + [x_min * 1.25 if widened else x_max]
    D = [a[j + 1] - a[j] for j in range(P)]
    rho = [D[j] / (a[j] + a[j + 1]) for j in range(P)]
    return {"P": P, "r": r, "a": a, "D": D, "rho": rho, "widened": widened}


def rec_params(x_min: float, x_max: float, eps: float) -> dict:
    """Pieces, Horner degree n, sawtooth depth m and the exact-arithmetic bound T_n + 2^{-2m} K."""
    pc = pieces(x_min, x_max)
    a, rho = pc["a"], pc["rho"]
    T = lambda n: sum(rho[j] ** (n + 1) / a[j] for j in range(pc["P"]))  # noqa: E731
    K = sum(rho[j] / (1.0 - rho[j]) / a[j] for j in range(pc["P"]))
    n = 2
    while T(n) > eps / 2:
        n += 1
    m = 2
    while 2.0 ** (-2 * m) * K > eps / 2:
        m += 1
    return {**pc, "n": n, "H": n - 1, "m": m, "K": K, "bound": T(n) + 2.0 ** (-2 * m) * K}


def rec_formula(p: dict) -> dict:
    P, H, m = p["P"], p["H"], p["m"]
    S = P * (20 + 26 * (H - 1) + (24 * m + 11) * H + (m + 1) * (H - 1)) + 1
    return {"L": H * (m + 1) + 3, "W": 10 * P if H >= 2 else 9 * P, "S": S,
            "B": max(4.0, p["a"][-1], 2.0 / p["D"][0])}


def emit_rec(c: Circuit, x: Fn, p: dict, extras: tuple = ()) -> tuple[Fn, list[Fn]]:
    """Emit the rec layers on the input functional ``x``; every functional in ``extras`` is clipped to [-1, 1]
    and carried alongside (1 unit in layer A, 1 in layer B: the float-robust clip 1 - ρ(2 - ρ(e + 1)); one carry
    per level).  Returns the functional
    φ(x) ≈ 1/clip(x; a_0, a_P) of the last layer and the carried clip(e; -1, 1)."""
    P, a, D, rho, H, m = p["P"], p["a"], p["D"], p["rho"], p["H"], p["m"]
    unitsA = [a[j + 1] - x for j in range(P)]
    unitsA += [e + 1.0 for e in extras]  # float-robust clip (lemmas.clip): ρ(2 - ρ(e + 1)) = 1 - clip(e; -1, 1)
    UA = c.layer(unitsA)
    unitsB = [D[j] - UA[j] for j in range(P)] + [2.0 - UA[P + i] for i in range(len(extras))]
    UB = c.layer(unitsB)
    v = [UB[j] * (2.0 / D[j]) - 1.0 for j in range(P)]
    g = [(1.0 - rho[j]) - v[j] * (rho[j] * (1.0 - rho[j])) for j in range(P)]
    car = [1.0 - UB[P + i] for i in range(len(extras))]
    g, car = horner_levels(c, v, g, rho, H, m, car)
    phi = Fn()
    for j in range(P):
        phi = phi + g[j] * (1.0 / a[j])
    phi = phi - sum(1.0 / a[j] for j in range(1, P))
    return phi, car


def check_interval(x_min, x_max, eps) -> tuple[float, float, float]:
    x_min, x_max, eps = check_positive("x_min", x_min), check_positive("x_max", x_max), check_eps(eps)
    if not x_min < x_max:
        raise ValueError(f"rec needs 0 < x_min < x_max, got x_min={x_min}, x_max={x_max}")
    if x_max / x_min > 2.0 ** 200:
        raise ValueError(f"x_max / x_min = {x_max / x_min:.3g} is too large (at most 2^200)")
    if eps * x_min < MIN_REL:
        raise ValueError(f"eps={eps} is below what float64 can represent here (eps * x_min >= {MIN_REL} needed; "
                         f"1/x reaches {1 / x_min:.3g})")
    return x_min, x_max, eps


def build_rec_interval(x_min: float, x_max: float, eps: float) -> Construction:
    """φ(x') with |φ(x') - 1/x| <= ε + |x' - x| / x_min^2 for x ∈ [x_min, x_max], x' ∈ R (module docstring)."""
    x_min, x_max, eps = check_interval(x_min, x_max, eps)
    p = rec_params(x_min, x_max, eps)
    c = Circuit(1)
    (x,) = c.inputs()
    phi, _ = emit_rec(c, x, p)
    net = c.net([phi])
    return Construction(net, rec_formula(p), {"x_min": x_min, "x_max": x_max, "eps": eps, "P": p["P"], "n": p["n"],
                                              "H": p["H"], "m": p["m"], "a_P": p["a"][-1]},
                        {"error_bound": p["bound"], "lipschitz": 1.0 / x_min ** 2, "domain": (x_min, p["a"][-1]),
                         "min_eps_float64": MIN_REL / x_min,
                         "break_points": list(p["a"]), "V": 1.0 / x_min,
                         "claimed": "L = O(log^2 1/ε), W = O(log^3 1/ε), S = O(log^4 1/ε) (Oko F.7, on [ε, 1/ε])",
                         "precision": "float64"})


def build_rec(eps: float) -> Construction:
    """Lemma F.3 (rec): |φ(x') - 1/x| <= ε + |x' - x| / ε^2 for x ∈ [ε, 1/ε], x' ∈ R; needs 0 < ε < 1."""
    eps = check_eps(eps)
    if not eps < 1:
        raise ValueError(f"rec needs 0 < eps < 1 (the domain [eps, 1/eps]), got {eps}")
    c = build_rec_interval(eps, 1.0 / eps, eps)
    return Construction(c.net, c.formula, {**c.params}, {**c.notes})
