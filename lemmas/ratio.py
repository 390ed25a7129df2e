"""Lemma F.4, ratio form (``lemma-F.4-ratio``; what Lemma 3.3 needs; docs/lemmas/lemma-F.4-ratio.md).

Statement verified.  For C > 0, 0 < b_min < b_max and ε > 0 the network φ on R^2 below satisfies

    |φ(a, b) - a/b| <= ε     for every b ∈ [b_min, b_max] and |a| <= C b      (the wedge),

and, perturbed-input form, for (a, b) in the C_0-wedge (C_0 < C, b ∈ [b_min, b_max]) and every (a', b') with
b' ∈ [b_min, b_max] and |a' - a| + C_0 |b' - b| <= (C - C_0) b':

    |φ(a', b') - a/b| <= ε + (|a' - a| + C_0 |b' - b|) / b'

(then |a'| <= C_0 b + |a' - a| <= C b', so (a', b') is in the C-wedge, and |a'/b' - a/b| <= |a' - a|/b' +
|a| |b - b'|/(b b')).  Nothing is claimed outside the wedge.  Unlike ``build_quotient`` (absolute error on a
box |a| <= A, which forces 1/b to the relative accuracy ε b_min / A), every piece here only needs RELATIVE
accuracy, and the error is independent of b_max / b_min except through the number P of pieces.

Construction.  Break points t_0 = b_min < t_1 < ... < t_P = b_max of ``lemmas.rec.pieces`` (P = ⌈log2(b_max /
b_min)⌉, ratio r_j = t_{j+1}/t_j ∈ (1, 2], Δ_j = t_{j+1} - t_j, ρ_j = Δ_j / (t_j + t_{j+1})).  Telescoping (as
in ``lemmas.rec``), for b ∈ [t_0, t_P] and with h_j(b) = t_j / clip(b; t_j, t_{j+1}) - 1/r_j ∈ [0, 1 - 1/r_j]:

    a / b = a / t_P + Σ_j (a / t_j) h_j(b) = C α_P + Σ_j C (r_j - 1) α_j β_j,
    α_j = a / (C r_j t_j) (j < P),  α_P = a / (C t_P),  β_j = h_j(b) / (1 - 1/r_j) ∈ [0, 1].

Let b lie in piece k (t_k <= b <= t_{k+1}).  For j >= k, |α_j| <= b / (r_j t_j) <= t_{k+1} / t_{j+1} <= 1; for
j < k, h_j(b) = 0 (the piece is clipped at its top) while α_j may be as large as b_max / b_min: the network
uses clip(α_j; -1, 1), which changes nothing in exact arithmetic since it multiplies 0.  So a/b =
C clip(α_P) + Σ_j C (r_j - 1) clip(α_j) β_j exactly on the wedge, and the network forms
    * α_j, clip(α_j; -1, 1) by the float-safe two-layer clip ρ(2 - ω_j ρ(1/ω_j - ω_j a)) - 1, ω_j = (C r_j t_j)^{-1/2}
      (ω_P = (C t_P)^{-1/2}): exact for every huge |a| (no cancellation), weights split as √ between the layers;
    * v_j = 2 ρ(1 - σ_j ρ(σ_j t_{j+1} - σ_j b)) - 1 = (2 clip(b; t_j, t_{j+1}) - t_j - t_{j+1}) / Δ_j,
      σ_j = Δ_j^{-1/2} (rec's float-safe piece clip, weight split as √; v_j = 1 exactly for b >= t_{j+1});
    * ĝ_j ≈ t_j / clip(b; t_j, t_{j+1}) = (1 - ρ_j) Σ_k (-ρ_j v_j)^k by rec's Horner recursion (degree n,
      H = n - 1 product levels, each ``lemmas.mult.level`` of depth m), with clip(α_j) carried alongside;
    * one more level: ψ_j = φ_m(clip(α_j), β̂_j), β̂_j = (ĝ_j - 1/r_j) / (1 - 1/r_j) (clip(α_P) carried);
    * output φ = C clip(α_P) + Σ_j C (r_j - 1) ψ_j.
Error (exact arithmetic; η = 2^{-2m}).  Rec's per-piece bound: |ĝ_j - t_j/c| <= ρ_j^{n+1} |v_j|^{n+1} (1 - ρ_j) /
(1 + ρ_j v_j) + η ρ_j / (1 - ρ_j); at v_j = 1 (pieces below b) the truncation part is ρ_j^{n+1} / r_j.  The product
block clips its inputs and errs by <= η, so piece j contributes
    j < k:   C (r_j - 1) [η + |β̂_j|] <= C (r_j - 1) η + C ρ_j^{n+1} + C r_j η ρ_j / (1 - ρ_j),
    j >= k:  C (r_j - 1) [η + |α_j| |β̂_j - β_j|] <= C (r_j - 1) η + (t_{k+1}/t_{j+1}) C r_j [ρ_j^{n+1} + η ρ_j/(1 - ρ_j)],
and the bound is, maximised over the piece k of b,
    T_n + η K,   T_n = C max_k [Σ_{j<k} ρ_j^{n+1} + Σ_{j>=k} (t_{k+1}/t_{j+1}) r_j ρ_j^{n+1}],
                 K = C Σ_j [(r_j - 1) + r_j ρ_j / (1 - ρ_j)]   (``error_bound``);
n >= 2 the smallest with T_n <= ε/2, m >= 2 the smallest with η K <= ε/2.  For r_j = 2: K = 2 C P and
T_n <= C ρ^{n+1} (P + 4): the cost grows like P · n · m = O(log(b_max/b_min) log^2(C P / ε)).
Counts (level rule of ``lemmas.mult``: c = 3 for v_j = 2V - 1 and carried values, 4 for g_{n-1}, 20 for a pair
output read through an affine map; the ψ level reads β̂_j (20) and the carried α (3)):
    L = (H + 1)(m + 1) + 3,     W = 11 P + 1 (H >= 2),  10 P + 1 (H = 1),
    S = 50 P + 12 + (H - 1)(29 P + 3) + (24 m + 11)(H + 1) P + (m + 1)[(2H - 1) P + H + 1],
      (layers A, B: 4P + 2 each; Horner levels: Σ c = 10P + 3 + (H - 1)(29P + 3), P products and
       P [level < H] + P + 1 carries each; ψ level: Σ c = 23P + 3, P products, 1 carry; output 9P + 2)
    B = max(4, 2 C max_j (r_j - 1), C, max_j σ_j t_{j+1}, max_j σ_j, max_j ω_j, max_j 1/ω_j)
      (so B ~ (b_min (r_0 - 1))^{-1/2}: the √-split keeps it at the square root of rec's 2/Δ_0).
Chord pieces (``method="chord"``; ``"auto"``, the default, takes whichever of the two has fewer nonzeros by the
exact formulas).  The same clips and ψ level, but β̂_j is the chord interpolant of β_j on the piece instead of
rec's Horner series, and the pieces are geometric with a ratio of their own, t_j = b_min r^j, t_P = b_max,
r = (b_max / b_min)^{1/P} (``geometric_pieces``; no r_j <= 2 is needed below): every P from ⌈log_16(b_max/b_min)⌉
(``CHORD_MAX_RATIO``) to rec's P is priced and the cheapest kept (wider pieces: fewer products, more segments).  With z_j = clip((b - t_j)/Δ_j; 0, 1) = ρ(1 - σ_j UA_j) (layer B, as v_j = 2 z_j - 1) and
K_j segments [z_{i}, z_{i+1}] whose ends have √(t_j / b) equally spaced,
    β̂_j = 1 + s_0 z_j + Σ_{0<i<K_j} (s_i - s_{i-1}) ρ(z_j - z_i),     s_i the chord slope of β_j on segment i;
the units ρ(z_j - z_i) = ρ(1 - z_i - σ_j UA_j) sit in layer B beside z_j (z_i > 0, so the inner clip at 0
changes nothing): no Horner levels at all.  β_j = (t_j/b - 1/r_j)/(1 - 1/r_j) is convex in b and the chord of
c/x on [x_a, x_b] errs by at most c (x_a^{-1/2} - x_b^{-1/2})^2, so every segment errs by
    e(r_j, K_j) = (1 - r_j^{-1/2}) / ((1 + r_j^{-1/2}) K_j^2)      (``chord_error``; attained at √(x_a x_b)).
The interpolant is exact at both ends (β̂_j = 1 at z = 0, 0 at z = 1), so for b in piece k only piece k errs:
pieces j < k see z_j = 1 (β̂_j = β_j = 0), pieces j > k see z_j = 0 (β̂_j = β_j = 1, |α_j| <= 1).  Hence
    |φ - a/b| <= T + η K_η,   T = C max_k (r_k - 1) e(r_k, K_k),   K_η = C Σ_j (r_j - 1),   η = 2^{-2m-2}
(the ψ level is one ``lemmas.mult.pair_level`` of two-square products, error in [-η, η]); the builder takes,
over m >= 2, the K_j = the smallest with C (r_j - 1) e(r_j, K_j) <= ε - η K_η and keeps the (m, K_j) with the
fewest nonzeros.  K_j ~ ε^{-1/2}: the
chord pieces are cheaper for moderate ε (ε_q = 0.0125 on [1.5e-5, 1], the range Lemma 3.3 used before it bounded
W by the margin: S = 1156 with P = 5 pieces of ratio 9.3 and K_j = 21, against Horner's 22 376; on its present
range [1.502e-5, 1.588e-5] at N = 2^16 one piece and one segment, S = 96; at this claim's defaults 1570 against
24 479), Horner's
polylog pieces for small ε (1e-8 at b ∈ [1e-3, 2]: Horner 100 879, chord 185 577); the growth statement is the Horner pieces', and "auto" is never above it.
Counts (chord; level rule of ``pair_level``, 16m + 32 per product, c(β̂_j) = 2 K_j + 1 with K_j weights and bias 1):
    L = m + 4,   W = max(8P + 1, P + 1 + Σ_j K_j, 4P + 2),   S = (16 m + 48) P + 4 Σ_j K_j + m + 10
      (A: 4P + 2; B: 2P + 2 + 2 Σ K_j; ψ level: Σ c = 4P + 3 + 2 Σ K_j, (16m + 32) P + m + 1; output 6P + 2),
    B = the Horner variant's B with C max (r_j - 1) for 2C max (r_j - 1) (a two-square output has weights ±1), and
    the chord weights |s_0|, |s_i - s_{i-1}| (all <= r_j: |β_j'(z)| <= r_j).
Float64.  Every piece works on values in [-1, 1]; the output is of size C; the measured float64-vs-60-digit
deviation is a few eps64 · C (tests).  The verifier's allowance τ = S eps64 C; the builder refuses ε < 1e-12 C P
(``RATIO_MIN_REL``: the product blocks' own floor, P of them).
"""

from __future__ import annotations

import math

from constructions.circuit import Circuit
from constructions.validate import check_eps, check_positive

from .base import Construction
from .mult import level, pair_level
from . import rec as lrec
from .rec import horner_levels
from .square import square_error_bound


RATIO_MIN_REL = 1e-12
RATIO_METHODS = ("auto", "horner", "chord")
CHORD_MAX_UNITS = 1 << 20  # Σ_j K_j above this: the chord pieces are refused (Horner is far cheaper there)
CHORD_MAX_RATIO = 16.0  # the widest chord piece priced: t_{j+1} / t_j <= 16


def _horner_params(C: float, pc: dict, eps: float) -> dict:
    """Horner pieces: degree n, depth m and the exact-arithmetic bound T_n + η K (the module docstring)."""
    P, t, rho = pc["P"], pc["a"], pc["rho"]
    r = [t[j + 1] / t[j] for j in range(P)]

    def T(n):
        best = 0.0
        for k in range(P):
            s = sum(rho[j] ** (n + 1) for j in range(k))
            s += sum(t[k + 1] / t[j + 1] * r[j] * rho[j] ** (n + 1) for j in range(k, P))
            best = max(best, s)
        return C * best

    K = C * sum((r[j] - 1.0) + r[j] * rho[j] / (1.0 - rho[j]) for j in range(P))
    n = 2
    while T(n) > eps / 2:
        n += 1
        if n > 200:
            raise ValueError(f"ratio: Horner degree above 200 needed (eps={eps}, C={C})")
    m = 2
    while 2.0 ** (-2 * m) * K > eps / 2:
        m += 1
    return {"method": "horner", "r_j": r, "n": n, "H": n - 1, "m": m, "K": K, "T_n": T(n),
            "bound": T(n) + 2.0 ** (-2 * m) * K}


def chord_error(r: float, K: int) -> float:
    """sup over a piece of ratio r of |β̂ - β| for the chord interpolant with K segments (the module docstring, chord
    pieces): (1 - r^{-1/2}) / ((1 + r^{-1/2}) K^2)."""
    s = r ** -0.5
    return (1.0 - s) / ((1.0 + s) * K * K)


def chord_knots(r: float, K: int) -> tuple[list[float], list[float]]:
    """Knots z_0 = 0 < ... < z_K = 1 (position in the piece, b = t_j + z Δ_j) with √(t_j / b) equally spaced, and
    β at the knots: β(z) = (1/(1 + (r - 1) z) - 1/r) / (1 - 1/r)."""
    s = r ** -0.5
    u = [1.0 - i * (1.0 - s) / K for i in range(K + 1)]
    z = [0.0] + [(u[i] ** -2 - 1.0) / (r - 1.0) for i in range(1, K)] + [1.0]
    beta = [1.0] + [(u[i] ** 2 - 1.0 / r) / (1.0 - 1.0 / r) for i in range(1, K)] + [0.0]
    return z, beta


def _chord_S(P: int, Ks: list[int], m: int) -> int:
    return (16 * m + 48) * P + 4 * sum(Ks) + m + 10


def _chord_params(C: float, pc: dict, eps: float) -> dict:
    """Chord pieces: depth m and segments K_j minimising S subject to T + η K_η <= ε (the module docstring)."""
    P, t = pc["P"], pc["a"]
    r = [t[j + 1] / t[j] for j in range(P)]
    K_eta = C * sum(rj - 1.0 for rj in r)
    e1 = [C * (rj - 1.0) * chord_error(rj, 1) for rj in r]  # piece j's term is e1_j / K_j^2
    best = None
    for m in range(2, 64):
        eta_part = square_error_bound(m) * K_eta  # two-square products (``pair_level``)
        R = eps - eta_part
        if R <= 0:
            continue
        Ks = []
        for e in e1:
            k = max(1, math.ceil(math.sqrt(e / R)))
            while e / (k * k) > R:
                k += 1
            while k > 1 and e / ((k - 1) ** 2) <= R:
                k -= 1
            Ks.append(k)
        S = _chord_S(P, Ks, m)
        if best is None or S < best[0]:
            best = (S, m, Ks)
        if eta_part < eps * 2.0 ** -20:
            break
    _, m, Ks = best
    T = max(e / (k * k) for e, k in zip(e1, Ks))
    return {"method": "chord", "r_j": r, "m": m, "K_j": Ks, "K": K_eta, "T_chord": T,
            "bound": T + square_error_bound(m) * K_eta}


def ratio_params(C: float, b_min: float, b_max: float, eps: float, method: str = "auto") -> dict:
    """Pieces, √-split scales and the piece method's parameters (Horner: n, H, m; chord: m, K_j) with the
    exact-arithmetic bound; ``method="auto"`` takes the one with fewer nonzeros (``ratio_formula``)."""
    if method not in RATIO_METHODS:
        raise ValueError(f"method must be one of {RATIO_METHODS}, got {method!r}")
    cands = []
    if method in ("auto", "horner"):
        pc = lrec.pieces(b_min, b_max)
        try:
            cands.append({**_scales(C, pc), **_horner_params(C, pc, eps)})
        except ValueError:
            if method == "horner":
                raise
    if method in ("auto", "chord"):
        # the chord pieces may be wider than rec's (ratio up to CHORD_MAX_RATIO): fewer products, more segments;
        # every piece count from the widest to rec's own is priced and the cheapest kept
        P_hi = lrec.pieces(b_min, b_max)["P"]
        P_lo = max(1, math.ceil(math.log(b_max / b_min) / math.log(CHORD_MAX_RATIO) - 1e-12))
        best = None
        for P in range(P_lo, max(P_lo, P_hi) + 1):
            pc = geometric_pieces(b_min, b_max, P)
            p = {**_scales(C, pc), **_chord_params(C, pc, eps)}
            if best is None or ratio_formula(C, p)["S"] < ratio_formula(C, best)["S"]:
                best = p
        if sum(best["K_j"]) > CHORD_MAX_UNITS:
            if method == "chord" or not cands:
                raise ValueError(f"ratio: {sum(best['K_j'])} chord segments needed (eps={eps}); use the Horner pieces")
        else:
            cands.append(best)
    return min(cands, key=lambda p: ratio_formula(C, p)["S"])


def geometric_pieces(b_min: float, b_max: float, P: int) -> dict:
    """P pieces t_j = b_min r^j, t_P = b_max, r = (b_max / b_min)^{1/P} (the chord pieces' break points)."""
    r = (b_max / b_min) ** (1.0 / P)
    a = [b_min * r ** j for j in range(P)] + [b_max]
    D = [a[j + 1] - a[j] for j in range(P)]
    return {"P": P, "r": r, "a": a, "D": D, "rho": [D[j] / (a[j] + a[j + 1]) for j in range(P)], "widened": False}


def _scales(C: float, pc: dict) -> dict:
    """The pieces with their √-split scales σ_j = Δ_j^{-1/2}, ω_j = (C r_j t_j)^{-1/2}, ω_P = (C t_P)^{-1/2}."""
    P, t = pc["P"], pc["a"]
    r = [t[j + 1] / t[j] for j in range(P)]
    return {**pc, "sigma": [pc["D"][j] ** -0.5 for j in range(P)],
            "omega": [(C * r[j] * t[j]) ** -0.5 for j in range(P)] + [(C * t[P]) ** -0.5]}


def ratio_formula(C: float, p: dict) -> dict:
    P, m = p["P"], p["m"]
    t, r, sg, om = p["a"], p["r_j"], p["sigma"], p["omega"]
    B = [4.0, C] + [sg[j] * t[j + 1] for j in range(P)] + sg + om + [1.0 / w for w in om]
    if p["method"] == "chord":  # output weights C (r_j - 1) times a pair output's ±1
        B.append(C * max(rj - 1.0 for rj in r))
        Ks = p["K_j"]
        for j in range(P):  # the weights of β̂_j: its slopes s_0 and slope changes s_i - s_{i-1}
            B += [abs(w) for w in chord_weights(r[j], Ks[j])[1]]
        return {"L": m + 4, "W": max(8 * P + 1, P + 1 + sum(Ks), 4 * P + 2), "S": _chord_S(P, Ks, m), "B": max(B)}
    B.append(2.0 * C * max(rj - 1.0 for rj in r))  # output weights C (r_j - 1) times a three-square output's 2
    H = p["H"]
    S = (50 * P + 12 + (H - 1) * (29 * P + 3) + (24 * m + 11) * (H + 1) * P
         + (m + 1) * ((2 * H - 1) * P + H + 1))
    return {"L": (H + 1) * (m + 1) + 3, "W": 11 * P + 1 if H >= 2 else 10 * P + 1, "S": S, "B": max(B)}


def chord_weights(r: float, K: int) -> tuple[list[float], list[float]]:
    """(interior knots z_1..z_{K-1}, weights [s_0, s_1 - s_0, ..., s_{K-1} - s_{K-2}]) of the chord interpolant
    β̂(z) = 1 + s_0 z + Σ_{i>=1} (s_i - s_{i-1}) ρ(z - z_i), s_i the slope on [z_i, z_{i+1}]."""
    z, beta = chord_knots(r, K)
    s = [(beta[i + 1] - beta[i]) / (z[i + 1] - z[i]) for i in range(K)]
    return z[1:K], [s[0]] + [s[i] - s[i - 1] for i in range(1, K)]


def build_ratio(C: float, b_min: float, b_max: float, eps: float, method: str = "auto") -> Construction:
    """φ(a, b) ≈ a/b with |φ(a, b) - a/b| <= ε on the wedge b ∈ [b_min, b_max], |a| <= C b (the module docstring);
    ``method``: "horner" or "chord" pieces, or "auto" (the one with fewer nonzeros, by the exact formulas)."""
    C, eps = check_positive("C", C), check_eps(eps)
    b_min, b_max = check_positive("b_min", b_min), check_positive("b_max", b_max)
    if not b_min < b_max:
        raise ValueError(f"ratio needs 0 < b_min < b_max, got b_min={b_min}, b_max={b_max}")
    if b_max / b_min > 2.0 ** 200:
        raise ValueError(f"b_max / b_min = {b_max / b_min:.3g} is too large (at most 2^200)")
    p0 = lrec.pieces(b_min, b_max)
    if eps < RATIO_MIN_REL * C * p0["P"]:
        raise ValueError(f"eps={eps} is below what float64 can verify here (eps >= {RATIO_MIN_REL} C P = "
                         f"{RATIO_MIN_REL * C * p0['P']:.3g} needed)")
    p = ratio_params(C, b_min, b_max, eps, method)
    P, t, rho, r, m = p["P"], p["a"], p["rho"], p["r_j"], p["m"]
    sg, om = p["sigma"], p["omega"]
    c = Circuit(2)
    a, b = c.inputs()
    UA = c.layer([(t[j + 1] - b) * sg[j] for j in range(P)] + [(1.0 / om[j]) - a * om[j] for j in range(P + 1)])
    if p["method"] == "horner":
        H = p["H"]
        UB = c.layer([1.0 - UA[j] * sg[j] for j in range(P)] + [2.0 - UA[P + j] * om[j] for j in range(P + 1)])
        v = [UB[j] * 2.0 - 1.0 for j in range(P)]
        g = [(1.0 - rho[j]) - v[j] * (rho[j] * (1.0 - rho[j])) for j in range(P)]
        al = [UB[P + j] - 1.0 for j in range(P + 1)]
        g, al = horner_levels(c, v, g, rho, H, m, al)
        beta = [(g[j] - 1.0 / r[j]) * (1.0 / (1.0 - 1.0 / r[j])) for j in range(P)]
        shape = {"n": p["n"], "H": H}
    else:
        # layer B: z_j = clip((b - t_j)/Δ_j; 0, 1) = ρ(1 - σ_j UA_j), the chord units ρ(z_j - z_i) =
        # ρ(1 - z_i - σ_j UA_j) (interior knots z_i > 0, so the inner clip at 0 changes nothing), the α units
        kw = [chord_weights(r[j], p["K_j"][j]) for j in range(P)]
        units = [1.0 - UA[j] * sg[j] for j in range(P)]
        for j in range(P):
            units += [(1.0 - zi) - UA[j] * sg[j] for zi in kw[j][0]]
        units += [2.0 - UA[P + j] * om[j] for j in range(P + 1)]
        UB = c.layer(units)
        beta, q = [], P
        for j in range(P):
            zs, ws = kw[j]
            f = UB[j] * ws[0] + 1.0
            for i in range(len(zs)):
                f = f + UB[q + i] * ws[i + 1]
            q += len(zs)
            beta.append(f)
        al = [UB[q + j] - 1.0 for j in range(P + 1)]
        shape = {"K_j": list(p["K_j"])}
    prod = level if p["method"] == "horner" else pair_level
    out = prod(c, [("mult", al[j], beta[j]) for j in range(P)] + [("carry", al[P])], m)
    phi = out[P] * C
    for j in range(P):
        phi = phi + out[j] * (C * (r[j] - 1.0))
    net = c.net([phi])
    return Construction(net, ratio_formula(C, p),
                        {"C": C, "b_min": b_min, "b_max": b_max, "eps": eps, "P": P, "m": m,
                         "method": p["method"], **shape},
                        {"error_bound": p["bound"], "T": p.get("T_n", p.get("T_chord")), "K": p["K"],
                         "break_points": list(t), "V": C, "min_eps_float64": RATIO_MIN_REL * C * P,
                         "claimed": "F.4 in ratio form (|a| <= C b): cost O(log(b_max/b_min) log^2(CP/ε)) (Horner "
                                    "pieces; chord pieces are taken where they have fewer nonzeros); "
                                    "the paper states a size for F.4 whose formula was lost in extraction",
                         "precision": "float64"})


build_ratio.__doc__ += "\n\n" + __doc__
