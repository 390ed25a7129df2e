"""Unbounded 1-D domains: exact proofs that a network is affine on a ray, and the certified error of a
decreasing target's tail there (docs/certification.md)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from flint import arb, ctx

from constructions.fnn import FNN


# ------------------------------------------------------------------------------------ unbounded 1-D tail
def affine_on_ray(net: FNN, X: float, output: int = 0, direction: int = 1, axis: int = 0, base=None):
    """Exact-rational proof that a network is affine on the ray {base + t e_axis : t >= X} (``direction`` = 1)
    or {t <= X} (``direction`` = -1); with the defaults, a 1-input network on [X, ∞).  With t = direction·u,
    u >= direction·X, propagate each neuron's pre-activation p(u) = α u + β (Fractions, the stored weights
    exactly); a ReLU whose sign is fixed on the ray (α >= 0 and p(u0) >= 0, or α <= 0 and p(u0) <= 0) is the
    identity or zero there, so the next layer is affine again.  Returns (α, β) of the output as a function of u,
    exact, or None when some ReLU changes sign on the ray."""
    if direction not in (1, -1):
        raise ValueError("direction must be 1 or -1")
    if base is None and net.d_in != 1:
        raise ValueError("affine_on_ray needs a network with one input (or a base point and an axis)")
    if not 0 <= axis < net.d_in:
        raise ValueError("axis out of range")
    base = np.zeros(net.d_in) if base is None else np.asarray(base, dtype=np.float64).reshape(-1)
    Xf = direction * Fraction(float(X))
    h = [(Fraction(0), Fraction(float(v))) for v in base]
    h[axis] = (Fraction(direction), Fraction(0))
    maps = net.affine_maps()
    for i, ((r, c, v), b, (d_out, _)) in enumerate(maps):
        out = [(Fraction(0), Fraction(float(bb))) for bb in b]
        for rr, cc, vv in zip(r.tolist(), c.tolist(), v.tolist()):
            a0, b0 = h[cc]
            if a0 or b0:
                w = Fraction(vv)
                out[rr] = (out[rr][0] + w * a0, out[rr][1] + w * b0)
        if i == len(maps) - 1:
            return out[output]
        h = []
        for a1, b1 in out:
            pX = a1 * Xf + b1
            if a1 >= 0 and pX >= 0:
                h.append((a1, b1))
            elif a1 <= 0 and pX <= 0:
                h.append((Fraction(0), Fraction(0)))
            else:
                return None
    return None


def certify_decreasing_tail(net: FNN, X: float, g_at, g_inf: float, eps: float, output: int = 0) -> dict:
    """sup_{x >= X} |f(x) - g(x)| for a target g decreasing from g(X) to the limit g_inf, when ``affine_on_ray``
    proves f constant (= β) on [X, ∞): then g(x) ∈ (g_inf, g(X)] and the sup is at most
    max(|β - g(X)|, |β - g_inf|), evaluated in arb (``g_at(arb) -> arb``).  Returns {"proved", "bound", ...}."""
    ab = affine_on_ray(net, X, output)
    if ab is None or ab[0] != 0:
        return {"proved": False, "reason": "the network is not provably constant on [X, inf)", "X": X}
    beta = ab[1]
    old = ctx.prec
    ctx.prec = 200
    try:
        bb = arb(beta.numerator) / arb(beta.denominator)
        gX = g_at(arb(float(X)))
        bound = max(float(abs(bb - gX).upper()), float(abs(bb - arb(float(g_inf))).upper()))
    finally:
        ctx.prec = old
    bound = float(np.nextafter(bound, np.inf))
    return {"proved": bound <= eps, "bound": bound, "X": X, "constant_value": float(beta),
            "reason": "network exactly constant on [X, inf) (exact rational check of the ReLU pattern)"}
