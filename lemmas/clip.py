"""Lemma F.2: the clipping function, |x| and max(x, y) as exact ReLU networks.

Statement verified (``lemma-F.2-clip``).  For a < b (finite reals) and d >= 1, the network

    clip(x; a, b) = min(b, max(x, a)) = ρ(x - a) - ρ(x - b) + a          (coordinate-wise on R^d)

has depth L = 2, width W = 2d,
    S = 4d + 2d [a != 0] + d [b != 0]         (weights [I; I] and [I, -I]: 4d; biases [-a; -b]: d[a!=0] + d[b!=0];
                                               output bias a: d[a!=0]; the spec's 7d when a, b != 0),
    B = max(|a|, |b|, 1),
and equals clip exactly on all of R^d (error 0 in exact arithmetic; in float64 the only rounding is in
x - a, x - b and the final sums, so the check allows 4 eps max(|x|, |a|, |b|)); it is 1-Lipschitz in ‖.‖_∞.
Proof: x <= a: ρ(x - a) = ρ(x - b) = 0, output a;
a <= x <= b: output (x - a) + a = x; x >= b: (x - a) - (x - b) + a = b.

Also exact, depth 2:
    abs:  |x| = ρ(x) + ρ(-x)                      (d -> d): W = 2d, S = 4d, B = 1;
    max:  max(x, y) = ρ(x - y) + ρ(y) - ρ(-y)      (2 -> 1): W = 3, S = 7 (4 weights in, 3 out), B = 1.
"""

from __future__ import annotations


import numpy as np

from constructions.affine import Affine
from constructions.fnn import FNN
from constructions.validate import check_finite

from .base import Construction




def _dim(d) -> int:
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
        raise ValueError(f"d must be a positive integer, got {d!r}")
    return int(d)


def clip_formula(d: int, a: float, b: float) -> dict:
    return {"L": 2, "W": 2 * d, "S": 4 * d + 2 * d * (a != 0) + d * (b != 0), "B": max(abs(a), abs(b), 1.0)}


def build_clip(d: int = 1, a: float = 0.0, b: float = 1.0) -> Construction:
    """clip(x; a, b) coordinate-wise on R^d, exact (see the module docstring)."""
    d, a, b = _dim(d), check_finite("a", a), check_finite("b", b)
    if not a < b:
        raise ValueError(f"clip needs a < b, got a={a}, b={b}")
    eye = np.eye(d)
    l1 = Affine.dense(np.vstack([eye, eye]), np.concatenate([np.full(d, -a), np.full(d, -b)]))
    l2 = Affine.dense(np.hstack([eye, -eye]), np.full(d, a))
    net = FNN([l1, l2])
    return Construction(net, clip_formula(d, a, b), {"d": d, "a": a, "b": b},
                        {"exact": True, "min_eps_float64": 0.0,
                         "precision": "exact function; float64 rounding <= 4 eps max(|x|, |a|, |b|)"})


def abs_formula(d: int) -> dict:
    return {"L": 2, "W": 2 * d, "S": 4 * d, "B": 1.0}


def build_abs(d: int = 1) -> Construction:
    """|x| = ρ(x) + ρ(-x) coordinate-wise, exact."""
    d = _dim(d)
    eye = np.eye(d)
    net = FNN([Affine.dense(np.vstack([eye, -eye])), Affine.dense(np.hstack([eye, eye]))])
    return Construction(net, abs_formula(d), {"d": d}, {"exact": True, "min_eps_float64": 0.0})


def max_formula() -> dict:
    return {"L": 2, "W": 3, "S": 7, "B": 1.0}


def build_max() -> Construction:
    """max(x, y) = ρ(x - y) + ρ(y) - ρ(-y) on R^2, exact."""
    net = FNN([Affine.dense(np.array([[1.0, -1.0], [0.0, 1.0], [0.0, -1.0]])),
               Affine.dense(np.array([[1.0, 1.0, -1.0]]))])
    return Construction(net, max_formula(), {}, {"exact": True, "min_eps_float64": 0.0})
