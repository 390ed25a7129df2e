"""Squaring by sawtooth functions (the engine of Lemma F.3; Yarotsky 2017, Oko et al. 2023 Lemma F.6).

Statement verified (``lemma-F.3-square``).  Let the tooth be g(x) = 2ρ(x) - 4ρ(x - 1/2) + 2ρ(x - 1) (on [0, 1]
the hat 1 - |2x - 1|, zero outside [0, 1]), g_s = g∘...∘g (s times) and

    f_m(x) = t - Σ_{s=1}^m g_s(t) / 4^s,      t = clip(x; 0, 1).

Then f_m interpolates t^2 linearly on the grid k 2^{-m} (k = 0..2^m), so f_m(t) >= t^2 and

    sup_{x ∈ [0,1]} |f_m(x) - x^2| = 2^{-2m-2},   attained exactly at the grid midpoints (2k + 1) 2^{-m-1}

(on one cell of width h = 2^{-m} the chord of t^2 lies above it by at most h^2/4, reached at the midpoint).

Construction (m >= 1).  Hidden layer k + 1 carries three functionals of its units: α_k = ρ(g_{k-1}),
β_k = ρ(g_{k-1} - 1/2) and the accumulator γ_k = y_{k-1} = t - Σ_{s<k} g_s / 4^s (>= t^2 >= 0, so it passes ReLU),
with g_k = 2α_k - 4β_k and y_k = γ_k - g_k / 4^k:
    layer 1 (1 -> 1): r = ρ(x);  layer 2 (1 -> 2): q = (ρ(1 - r), ρ(1/2 - r)) = (1 - t, ρ(1/2 - t)), t = clip(x; 0, 1);
    α_1 = 1 - q_0 = t, β_1 = 1/2 - q_0 + q_1 = ρ(t - 1/2), γ_1 = 1 - q_0 = t   (the float-robust clip of
    ``lemmas.clip``: the spec's ρ(x), ρ(x - 1/2), ρ(x - 1) with α_1 = u_0 - u_2 cancels in float64 for huge x);
    layer k+2 (3 -> 3), k = 1..m-1: A = ρ(2α_k - 4β_k), B = ρ(2α_k - 4β_k - 1/2), C = ρ(γ_k - (2α_k - 4β_k)/4^k);
    output: y_m = γ_m - (2α_m - 4β_m)/4^m.
Counts (every coefficient below is nonzero):
    L = m + 2,  W = 3 (2 for m = 1),
    S = 1 + 4 + 3 = 8                             (m = 1: r 1 weight; q 2 weights + 2 biases; output 1 - 3q_0/2 + q_1),
    S = 1 + 4 + 8 + 8 (m - 2) + 3 = 8m           (m >= 2: the transition out of layer 2 reads q_0, q_1:
                                                  A = 2q_0 - 4q_1 2, B 2 + 1 bias, C = 1 - 3q_0/2 + q_1 3; later 2, 3, 3),
    B = 3/2 (m = 1: output coefficient -3/2),  B = 4 (m >= 2: the -4 of 2α - 4β).
Choice of m for an accuracy ε: the smallest m >= 1 with 2^{-2m-2} <= ε, i.e. m = max(1, ⌈(log2(1/ε) - 2)/2⌉).
Float64: every weight is dyadic; rounding in g_k grows like 2^k eps but enters with weight 4^{-k}, so the
float64 error of f_m is within a few eps of the exact one: ε down to 1e-13 is resolvable
(``min_eps_float64``).

``sawtooth_step`` and ``sawtooth_out`` (one transition above, the output) are shared with the product levels of
``lemmas.mult``; the network is written with ``constructions.circuit``.
"""

from __future__ import annotations


import numpy as np

from constructions.circuit import Circuit, Fn
from constructions.validate import check_eps

from .base import Construction


def sawtooth_step(alpha: Fn, beta: Fn, gamma: Fn, k: int) -> list[Fn]:
    """The three units of the transition out of state k: ρ(g_k), ρ(g_k - 1/2), ρ(y_k), g_k = 2α - 4β."""
    g = 2.0 * alpha - 4.0 * beta
    return [g, g - 0.5, gamma - g * (1.0 / 4.0 ** k)]


def sawtooth_out(alpha: Fn, beta: Fn, gamma: Fn, m: int) -> Fn:
    """y_m = γ_m - (2α_m - 4β_m) / 4^m."""
    return gamma - (2.0 * alpha - 4.0 * beta) * (1.0 / 4.0 ** m)


# ------------------------------------------------------------------------------------------- the lemma
def m_for_eps(eps: float) -> int:
    """The smallest m >= 1 with 2^{-2m-2} <= ε."""
    m = 1
    while square_error_bound(m) > eps:
        m += 1
    return m


def square_formula(m: int) -> dict:
    return {"L": m + 2, "W": 2 if m == 1 else 3, "S": 8 * m, "B": 1.5 if m == 1 else 4.0}


def square_error_bound(m: int) -> float:
    """η(m) = 2^{-2m-2}: the sup error of f_m on [0, 1] (attained); also the error of every product level built
    from m sawtooth steps (``lemmas.mult.level``, ``pair_level``) on its normalised inputs."""
    return 2.0 ** (-2 * m - 2)



def build_square(eps: float | None = None, m: int | None = None) -> Construction:
    """f_m(clip(x; 0, 1)) ≈ x^2 on [0, 1] with sup error exactly 2^{-2m-2}; give either m or ε (then m =
    ``m_for_eps(ε)``)."""
    if (eps is None) == (m is None):
        raise ValueError("give exactly one of eps and m")
    if m is None:
        eps = check_eps(eps)
        if eps < 1e-13:
            raise ValueError(f"eps={eps} is below what float64 can verify for the squaring net (1e-13)")
        m = m_for_eps(eps)
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1 or m > 24:
        raise ValueError(f"m must be an integer in [1, 24], got {m!r}")
    m = int(m)
    c = Circuit(1)
    (x,) = c.inputs()
    (r,) = c.layer([x])
    q = c.layer([1.0 - r, 0.5 - r])  # q_0 = 1 - t, q_1 = ρ(1/2 - t): bounded, t = clip(x; 0, 1) = 1 - q_0
    alpha, beta, gamma = 1.0 - q[0], 0.5 - q[0] + q[1], 1.0 - q[0]
    for k in range(1, m):
        alpha, beta, gamma = c.layer(sawtooth_step(alpha, beta, gamma, k))
    net = c.net([sawtooth_out(alpha, beta, gamma, m)])
    return Construction(net, square_formula(m), {"m": m, "eps": eps},
                        {"error_bound": square_error_bound(m), "attained_at": "(2k+1) 2^{-m-1}",
                         "min_eps_float64": 1e-13, "precision": "float64 (dyadic weights)"})
