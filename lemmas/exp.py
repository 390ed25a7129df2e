"""Lemma F.3 (exp): e^{-x} for x >= 0 (Oko et al. 2023, Lemma F.12 as reconstructed).

Statement verified (``lemma-F.3-exp``).  For 0 < ε < 1 the network φ below satisfies, for every x >= 0 and every
x' ∈ R,
    |φ(x') - e^{-x}| <= ε + |x' - x|,
with L = (n - 1 + s)(m + 1) + 3 = O(log^2 1/ε), W = 10 (9 when n = 2), S = O(log^2 1/ε), B = max(4, A) = O(log 1/ε).

Construction.  A = ln(2/ε); s = max(0, ⌈log2 A⌉) so that r = A / 2^s <= 1; n >= 2 the smallest degree with
2^s / (n + 1)! <= ε/4; m >= 2 the smallest sawtooth depth with 3 · 2^s · 2^{-2m} <= ε/4.
  1. t = clip(x; 0, A) = A - ρ(A - ρ(x)) (two hidden layers of 1 unit: the float-robust clip of ``lemmas.clip``;
     the spec's ρ(x) - ρ(x - A), merged into the next layer, cancels in float64 and returned 1.0 at x = 1e18),
     z = t / A = 1 - q / A ∈ [0, 1], q = ρ(A - ρ(x)).
  2. Horner for e^{-rz} = Σ_j (-rz)^j / j! + R_n, |R_n| <= r^{n+1}/(n+1)! <= 1/(n+1)!:
     h_{n-1} = 1 - r z / n (affine), h_j = 1 - (r / (j+1)) φ_m(z, h_{j+1}) for j = n-2, ..., 0 (n - 1 product
     levels of ``lemmas.mult.level``; z is carried alongside while still needed).  Exactly h_j ∈ [0, 1], so
     with the product error η = 2^{-2m} (inputs clipped to [-1, 1], 1-Lipschitz), |ĥ_j - h_j| <=
     (r/(j+1)) (η + |ĥ_{j+1} - h_{j+1}|) and |ĥ_0 - e^{-rz}| <= 1/(n+1)! + η (e^r - 1) <= 1/(n+1)! + 2η.
  3. Square s times: v_{i+1} = φ_m(v_i, v_i) ≈ e^{-rz 2^{i+1}}; the true values lie in (0, 1], so
     e_{i+1} <= η + 2 e_i and |v_s - e^{-t}| <= 2^s (1/(n+1)! + 2η) + (2^s - 1) η <= ε/4 + ε/4 = ε/2.
  For x > A, φ(x) = φ(A) and |e^{-A} - e^{-x}| <= e^{-A} = ε/2.  Hence |φ(x) - e^{-x}| <= ε on [0, ∞); since
  φ(x') = φ(clip(x'; 0, A)) and e^{-u} is 1-Lipschitz on [0, ∞), |φ(x') - e^{-x}| <= ε + |x' - x|.
Counts (H = n - 1 product levels of Horner, s squaring levels; ``lemmas.mult`` gives a level's nonzeros as
Σ c(f) + (24m + 11) p + (m + 1) o with clip costs c(f)):
    clip costs: first Horner level c(z) = 3 (z = 1 - q/A), c(h_{n-1}) = 4 (one weight, bias 1 - r/n), carried z 3;
    later Horner levels c(carried z) = 3, c(h_{j+1}) = 2·9 + 1 = 19 (bias 1 makes ρ(h - 1) bias-free), carry 3;
    first squaring level c(h_0) twice = 38; later squaring levels 2·20 = 40.
    S = 3 + [7 + 3[H>1]] + 22 (H - 1) + 3 max(H - 2, 0) + (H - 1)(m + 1) + H (24m + 11)
        + [s >= 1] (38 + 40 (s - 1) + s (24m + 11)) + (9 if s >= 1 else 10),
    L = (H + s)(m + 1) + 3,  W = 10 if H > 1 else 9,  B = max(4, A).
Growth: m ~ (1/2) log2(1/ε), n ~ ln(1/ε)/ln ln(1/ε), s ~ log2 ln(1/ε), so L, S = O(log^2 1/ε), W = O(1).
Float64: values in [0, 1], depth <= ~400 at ε = 1e-10; rounding measured below 1e-13, so ε >= 1e-11 is resolvable.
"""

from __future__ import annotations

import math

from constructions.circuit import Circuit
from constructions.validate import check_eps

from .base import Construction
from .mult import level

MIN_EPS = 1e-11


def exp_params(eps: float) -> dict:
    A = math.log(2.0 / eps)
    s = max(0, math.ceil(math.log2(A)))
    r = A / 2.0 ** s
    n = 2
    while 2.0 ** s / math.factorial(n + 1) > eps / 4:
        n += 1
    m = 2
    while 3 * 2.0 ** s * 2.0 ** (-2 * m) > eps / 4:
        m += 1
    return {"A": A, "s": s, "r": r, "n": n, "m": m}


def exp_formula(eps: float) -> dict:
    p = exp_params(eps)
    H, s, m = p["n"] - 1, p["s"], p["m"]
    S = 3 + 7 + 3 * (H > 1) + 22 * (H - 1) + 3 * max(H - 2, 0) + (H - 1) * (m + 1) + H * (24 * m + 11)
    if s >= 1:
        S += 38 + 40 * (s - 1) + s * (24 * m + 11) + 9
    else:
        S += 10
    return {"L": (H + s) * (m + 1) + 3, "W": 10 if H > 1 else 9, "S": S, "B": max(4.0, p["A"])}


def build_exp(eps: float) -> Construction:
    """φ(x) ≈ e^{-x} on x >= 0 with |φ(x') - e^{-x}| <= ε + |x' - x| (module docstring), 0 < ε < 1."""
    eps = check_eps(eps)
    if eps >= 1:
        raise ValueError(f"exp needs 0 < eps < 1, got {eps}")
    if eps < MIN_EPS:
        raise ValueError(f"eps={eps} is below what float64 can verify for the exp net ({MIN_EPS})")
    p = exp_params(eps)
    A, s, r, n, m = p["A"], p["s"], p["r"], p["n"], p["m"]
    c = Circuit(1)
    (x,) = c.inputs()
    (px,) = c.layer([x])
    (q,) = c.layer([A - px])  # q = A - clip(x; 0, A): the float-robust clip of lemmas.clip
    z = 1.0 - q * (1.0 / A)
    h = 1.0 - z * (r / n)
    for j in range(n - 2, -1, -1):
        ops = [("mult", z, h)] + ([("carry", z)] if j > 0 else [])
        out = level(c, ops, m)
        h = 1.0 - out[0] * (r / (j + 1))
        if j > 0:
            z = out[1]
    v = h
    for _ in range(s):
        (v,) = level(c, [("mult", v, v)], m)
    net = c.net([v])
    return Construction(net, exp_formula(eps), {"eps": eps, **p},
                        {"error_bound": eps, "lipschitz": 1.0, "min_eps_float64": MIN_EPS,
                         "claimed": "L = O(log^2 1/ε), W = O(log 1/ε), S = O(log^2 1/ε), B = O(log 1/ε)",
                         "precision": "float64"})
