"""Lemma F.2: the clipping function, |x| and max(x, y) as exact ReLU networks.

Statement verified (``lemma-F.2-clip``).  For a < b (finite reals) and d >= 1, the network

    clip(x; a, b) = min(b, max(x, a)) = b - ρ((b - a) - ρ(x - a))          (coordinate-wise on R^d)

has depth L = 3, width W = d,
    S = 4d + d [a != 0] + d [b != 0]          (weights I, -I, -I: 3d; biases -a: d[a!=0], b - a: d, b: d[b!=0]),
    B = max(|a|, |b|, b - a, 1),
and equals clip exactly on all of R^d (error 0 in exact arithmetic); it is 1-Lipschitz in ‖.‖_∞.
Proof: x <= a: ρ(x - a) = 0, output b - (b - a) = a; a <= x <= b: b - (b - a - (x - a)) = x; x >= b: the inner
ρ is 0, output b.
Float-robust form (issue 15, item 7).  The spec's one-hidden-layer form ρ(x - a) - ρ(x - b) + a is a difference
of two unbounded ramps: merged into the next layer it cancels in float64 (at x = 1e18, fl(x - a) - fl(x - b) is
0 or a power of two, not b - a).  Here the second ReLU saturates instead: for x >= b + (b - a) the rounded
(b - a) - fl(x - a) is <= 0, so ρ gives exactly 0 and the output is exactly b; for x <= a, ρ(x - a) = 0 exactly
and the output is b - fl(b - a).  Every value after the first layer lies in [0, b - a], so the float64 error
of the net is at most 8 u max(|a|, |b|, 1) on all of R (three roundings of values of size at most |x - a|,
b - a + |x - a|, |b| + b - a; outside [a, b] at most u |a|), for every float x up to the largest
(``verify.certify.float64`` proves it per claim).  Depth 3 instead of the spec's 2.

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
    return {"L": 3, "W": d, "S": 4 * d + d * (a != 0) + d * (b != 0), "B": max(abs(a), abs(b), b - a, 1.0)}


def build_clip(d: int = 1, a: float = 0.0, b: float = 1.0) -> Construction:
    """clip(x; a, b) coordinate-wise on R^d, exact (see the module docstring)."""
    d, a, b = _dim(d), check_finite("a", a), check_finite("b", b)
    if not a < b:
        raise ValueError(f"clip needs a < b, got a={a}, b={b}")
    if not np.isfinite(b - a):
        raise ValueError(f"clip needs b - a finite in float64, got a={a}, b={b}")
    eye = np.eye(d)
    l1 = Affine.dense(eye, np.full(d, -a))
    l2 = Affine.dense(-eye, np.full(d, b - a))
    l3 = Affine.dense(-eye, np.full(d, b))
    net = FNN([l1, l2, l3])
    return Construction(net, clip_formula(d, a, b), {"d": d, "a": a, "b": b},
                        {"exact": True, "min_eps_float64": 0.0,
                         "precision": "exact function; float-robust (no cancelling ramps): float64 rounding <= "
                                      "8 u max(|a|, |b|, 1) on all of R (u = 2^-53)"})


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
