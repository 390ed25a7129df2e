"""Lemma F.4: the quotient a / b as a ReLU network (rec of ``lemmas.rec`` times a, by the product block of
``lemmas.mult``; spec 02, "F.4 Quotient").

Statement verified (``lemma-F.4-quotient``).  For A > 0, 0 < b_min < b_max and ε > 0 the network φ on R^2 below
satisfies, for every |a| <= A, b ∈ [b_min, b_max] and every (a', b') ∈ R^2,

    |φ(a', b') - a/b| <= ε + |a' - a| / b_min + A |b' - b| / b_min^2,

i.e. Lip_a = 1/b_min and Lip_b = A/b_min^2, the Lipschitz constants of a/b itself on the box (the product adds no
factor: it is taken on the normalised inputs a/A and b_min/b in [-1, 1], see below).

Construction.  ε_r = ε / (2A); the rec layers of ``lemmas.rec`` (``emit_rec``) on b for [b_min, b_max] with
accuracy ε_r (degree n, H = n - 1 product levels, P pieces, depth m_r), with a/A clipped to [-1, 1] and carried
alongside (two units in rec's layer A, one in layer B, one carry per level); then one pairwise product level
(``lemmas.mult.level``, depth m_q >= 2 the smallest with (A / b_min) 2^{-2 m_q} <= ε/2) on
    α' = clip(a'/A; -1, 1)  and  y = b_min r̂,   r̂ = rec(b') ≈ 1/clip(b'; b_min, a_P),
and the output φ = (A / b_min) · product.  This is the composition (A/b_min) · build_mult(1, ·)∘(clip(a/A), b_min rec(b))
of the spec's recipe; it is emitted with ``Circuit`` rather than ``constructions.algebra.compose/parallel`` so
that a/A rides along in the rec layers as one carried unit per layer (algebra's identity padding costs two units
and more nonzeros per layer) and the counts have a closed form; the test
``test_quotient_equals_algebra_composition`` checks the two give the same function.
Proof of the bound.  Let α = a/A, β = b_min/b ∈ (0, 1], ψ the product block on [-1, 1]^2 (it clips its inputs;
|ψ(s, t) - st| <= 2^{-2m_q} there), cα = clip(α'), cy = clip(y).  Then
    |φ - a/b| = (A/b_min) |ψ(α', y) - αβ| <= (A/b_min) [2^{-2m_q} + |cα - α| |cy| + |α| |cy - β|]
             <= (A/b_min) 2^{-2m_q} + |a' - a| / b_min + |a| |r̂ - 1/b|,
and |r̂ - 1/b| <= ε_r + |b' - b| / b_min^2 (rec's perturbed-input form), so the bound holds with
ε_q := (A/b_min) 2^{-2 m_q} + A · (rec's exact-arithmetic bound) <= ε/2 + ε/2 (``error_bound``).
Counts (rec counts of ``lemmas.rec`` with P, H, m = m_r; clip costs of ``lemmas.mult``):
    L = H (m_r + 1) + m_q + 4,
    W = 10 P + 1 (H >= 2),  9 P + 1 (H = 1),
    S = P [20 + 26 (H - 1) + (24 m_r + 11) H + (m_r + 1)(H - 1)] + 1 - (9P + 1)   (rec without its output map)
        + 4 + H (m_r + 4)                                   (carry of a: the float-robust clip ρ(a/A + 1),
                                                             ρ(2 - ·) in layers A, B; one carry per level)
        + 18 P + 5 + 24 m_q + 11 + 9                        (product level: c(y) = 18P + 2, c(α') = 3; output)
      = P [29 + 26 (H - 1) + (24 m_r + 11) H + (m_r + 1)(H - 1)] + H (m_r + 4) + 24 m_q + 29,
    B = max(4, a_P, 2/Δ_0, 1/A, 2A/b_min).
Float64: the output is of size A/b_min; the verifier's allowance τ = S eps64 A / b_min; ε below 1000 τ is
INCONCLUSIVE there.  The builder refuses ε_r b_min < 1e-13 (``lemmas.rec.MIN_REL``).

The ratio form of the same lemma lives in ``lemmas/ratio.py`` (claim ``lemma-F.4-ratio``): |φ(a, b) - a/b| <= ε on
the wedge |a| <= C b, b ∈ [b_min, b_max], with per-piece relative accuracy only — what Lemma 3.3 uses.
"""

from __future__ import annotations


from constructions.circuit import Circuit
from constructions.validate import check_eps, check_positive

from .base import Construction
from .mult import level
from . import rec as lrec
from .rec import check_interval, emit_rec, rec_params


def quotient_params(A: float, b_min: float, b_max: float, eps: float) -> dict:
    eps_r = eps / (2.0 * A)
    p = rec_params(b_min, b_max, eps_r)
    mq = 2
    while (A / b_min) * 2.0 ** (-2 * mq) > eps / 2:
        mq += 1
    return {**p, "eps_r": eps_r, "m_q": mq, "bound_q": (A / b_min) * 2.0 ** (-2 * mq) + A * p["bound"]}


def quotient_formula(A: float, b_min: float, p: dict) -> dict:
    P, H, m, mq = p["P"], p["H"], p["m"], p["m_q"]
    S = P * (29 + 26 * (H - 1) + (24 * m + 11) * H + (m + 1) * (H - 1)) + H * (m + 4) + 24 * mq + 29
    return {"L": H * (m + 1) + mq + 4, "W": 10 * P + 1 if H >= 2 else 9 * P + 1, "S": S,
            "B": max(4.0, p["a"][-1], 2.0 / p["D"][0], 1.0 / A, 2.0 * (A / b_min))}


def build_quotient(A: float, b_min: float, b_max: float, eps: float) -> Construction:
    """φ(a, b) ≈ a/b for |a| <= A, b ∈ [b_min, b_max], with |φ(a', b') - a/b| <= ε + |a' - a|/b_min +
    A |b' - b|/b_min^2 for all (a', b') (module docstring)."""
    A, eps = check_positive("A", A), check_eps(eps)
    b_min, b_max = check_positive("b_min", b_min), check_positive("b_max", b_max)
    if not b_min < b_max:
        raise ValueError(f"quotient needs 0 < b_min < b_max, got b_min={b_min}, b_max={b_max}")
    check_interval(b_min, b_max, eps / (2.0 * A))
    p = quotient_params(A, b_min, b_max, eps)
    c = Circuit(2)
    a, b = c.inputs()
    r, (ca,) = emit_rec(c, b, p, extras=(a * (1.0 / A),))
    (prod,) = level(c, [("mult", ca, r * b_min)], p["m_q"])
    net = c.net([prod * (A / b_min)])
    return Construction(net, quotient_formula(A, b_min, p),
                        {"A": A, "b_min": b_min, "b_max": b_max, "eps": eps, "P": p["P"], "n": p["n"], "H": p["H"],
                         "m": p["m"], "m_q": p["m_q"], "eps_r": p["eps_r"], "a_P": p["a"][-1]},
                        {"error_bound": p["bound_q"], "lip_a": 1.0 / b_min, "lip_b": A / b_min ** 2,
                         "domain_b": (b_min, p["a"][-1]), "min_eps_float64": 2.0 * A * lrec.MIN_REL / b_min, "break_points": list(p["a"]), "V": A / b_min,
                         "claimed": "F.4 as reconstructed: product of a with rec(b), perturbed-input form carried through",
                         "precision": "float64"})
