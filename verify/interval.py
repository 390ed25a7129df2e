"""Sound bounds of an emitted ReLU network over many input boxes at once (issue 6).

What is bounded.  The *exact-arithmetic* network on the stored float64 weights (the stored weights are the
weights): for every box [lo_i, hi_i] of the batch and every output j, ``propagate`` returns floats
lb[i, j] <= min_{x in box} f_j(x) and ub[i, j] >= max_{x in box} f_j(x), although every operation runs in
float64 numpy.

Method: affine forms with an error radius (symbolic intervals, a zonotope whose new noise symbols are folded
into one radius).  On box i with centre m and half-width r every neuron z is kept as

    z(x) ∈ a · (x - m) + c + [-e, e]        for all x in the box       (a ∈ R^d, c ∈ R, e >= 0),

so a neuron that is affine on the box (all ReLUs before it stable) is represented *exactly*: the dependency
problem of plain interval arithmetic (each sawtooth level multiplies the width by 4 instead of 2) disappears
once boxes are small enough that the ReLUs are stable.  Its range is c ± (|a|·r + e).

  affine map    a' = W a, c' = W c + b, e' = |W| e  (+ the rounding slack below);
  ReLU, stable  lb >= 0: unchanged; ub <= 0: 0;
  ReLU, unstable (lb < 0 < ub): for any λ ∈ [0, 1], λ z <= ρ(z) <= λ z + μ on [lb, ub] with
                μ = max(-λ lb, (1 - λ) ub); we take λ = ub / (ub - lb) and keep ρ(z) ∈ λ z + μ/2 ± μ/2, i.e.
                a' = λ a, c' = λ c + μ/2, e' = λ e + μ/2.  The inequality holds for the *computed* λ, so
                rounding in λ costs tightness, never soundness.

Outward rounding.  Every float64 result x̂ of a sum of n products satisfies |x̂ - x| <= γ_n Σ|terms| with
γ_n = n u / (1 - n u), u = 2^-53, whatever the summation order or FMA use of the BLAS (Higham 2002, §3.1).
After each affine map and each ReLU relaxation we add to e the slack

    s = 1.01 · γ_{n+2} · (|W| (|c| + |a|·r + e) + |b|) + n · 2^-1022,      n = max nonzeros of a row of W,

which covers the rounding of c', of a'·r (an error δa in a coefficient moves the value by at most |δa|·r) and
of e' itself (the factor 1.01 covers the rounding of s; the last term covers underflow).  Sums that must be
upper bounds (e', the radius |a|·r + e) are followed by ``np.nextafter(·, +inf)``, and lb/ub by one ulp outward
more.  Inputs: the box ends are floats, the centre m is any float in the box and the half-width
r = nextafter(max(fl(hi - m), fl(m - lo)), +inf), so [m - r, m + r] contains the box exactly.  Nothing here relies on the rounding mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from constructions.affine import Affine
from constructions.fnn import FNN

U64 = 2.0 ** -53
TINY = 2.0 ** -1022


def _gamma(n: int) -> float:
    nu = (n + 2) * U64
    return 1.01 * nu / (1.0 - nu)


def _up(x):
    return np.nextafter(x, np.inf)


def _down(x):
    return np.nextafter(x, -np.inf)


def box_centre(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The float centre m = lo + (hi - lo)/2 used for the affine forms (clipped into the box); target
    enclosures with a slope (verify/certify.py) expand around the same m."""
    return np.clip(lo + 0.5 * (hi - lo), lo, hi)


@dataclass
class _Layer:
    W: Affine  # A without bias
    Wabs: Affine  # |A| without bias
    b: np.ndarray
    babs: np.ndarray
    n: int  # max nonzeros in a row (the length of the longest dot product)


class IntervalNet:
    """A network prepared for bound propagation (the sparse maps split once into A and |A|)."""

    def __init__(self, net: FNN):
        if not isinstance(net, FNN):
            raise TypeError(f"IntervalNet needs an FNN, got {type(net).__name__}")
        self.net = net
        self.layers = []
        for (r, c, v), b, shape in net.affine_maps():
            keep = v != 0
            r, c, v = r[keep], c[keep], v[keep]
            n = int(np.bincount(r, minlength=shape[0]).max()) if r.size else 0
            self.layers.append(_Layer(Affine.from_coo(r, c, v, shape), Affine.from_coo(r, c, np.abs(v), shape),
                                      np.asarray(b, dtype=np.float64), np.abs(b), n + 1))

    @property
    def d_in(self) -> int:
        return self.net.d_in

    def propagate(self, lo, hi, return_forms: bool = False):
        """Sound bounds (lb, ub), each (n_boxes, d_out), of the exact-arithmetic network over the boxes
        [lo_i, hi_i] (arrays (n_boxes, d_in), lo <= hi).  With ``return_forms`` also (a, c, e, m, r) of the
        outputs: a (n, d_out, d_in), c and e (n, d_out), centre m and half-width r (n, d_in)."""
        lo = np.asarray(lo, dtype=np.float64)
        hi = np.asarray(hi, dtype=np.float64)
        if lo.ndim != 2 or lo.shape != hi.shape or lo.shape[1] != self.d_in:
            raise ValueError(f"boxes must be arrays of shape (n, {self.d_in}), got {lo.shape} and {hi.shape}")
        if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
            raise ValueError("box ends contain NaN or inf")
        if np.any(lo > hi):
            raise ValueError("every box needs lo <= hi")
        nb, d = lo.shape
        m = box_centre(lo, hi)
        # fl(t) < nextafter(fl(t), +inf) and t <= that for any real t: r >= hi - m and r >= m - lo exactly
        r = _up(np.maximum(hi - m, m - lo))
        # forms, neuron-major: a (k, nb, d), c (k, nb), e (k, nb); the input x_j = m_j + 1·(x_j - m_j)
        a = np.zeros((d, nb, d))
        a[np.arange(d), :, np.arange(d)] = 1.0
        c = np.ascontiguousarray(m.T)
        e = np.zeros((d, nb))
        rT = r.T  # (d, nb)
        L = len(self.layers)
        for li, lay in enumerate(self.layers):
            k_in = c.shape[0]
            mag = _up(np.abs(c) + _up(np.einsum("knd,dn->kn", np.abs(a), rT) * (1 + 4 * (d + 1) * U64)) + e)
            a = lay.W.apply_T(a.reshape(k_in, nb * d)).reshape(-1, nb, d)
            c = lay.W.apply_T(c) + lay.b[:, None]
            slack = _gamma(lay.n) * (lay.Wabs.apply_T(mag) + lay.babs[:, None]) + lay.n * TINY
            e = _up(_up(lay.Wabs.apply_T(e) * (1 + _gamma(lay.n))) + _up(slack))
            if li == L - 1:
                break
            rad = _up((np.einsum("knd,dn->kn", np.abs(a), rT) + e) * (1 + 4 * (d + 2) * U64))
            lb, ub = _down(c - rad), _up(c + rad)
            dead = ub <= 0
            unstable = (lb < 0) & ~dead
            if unstable.any():
                lam = np.where(unstable, ub / np.where(unstable, ub - lb, 1.0), 1.0)
                lam = np.clip(lam, 0.0, 1.0)
                mu = np.where(unstable, _up(np.maximum(-lam * lb, (1.0 - lam) * ub) * (1 + 4 * U64)), 0.0)
                half = _up(0.5 * mu)
                amag = np.einsum("knd,dn->kn", np.abs(a), rT)
                a = a * lam[:, :, None]
                c = lam * c + half
                slack = 4 * U64 * 1.01 * (np.abs(c) + amag + e + mu) + TINY
                e = np.where(unstable, _up(_up(lam * e * (1 + 2 * U64)) + half + slack), e)
            if dead.any():
                a[dead] = 0.0
                c = np.where(dead, 0.0, c)
                e = np.where(dead, 0.0, e)
        rad = _up((np.einsum("knd,dn->kn", np.abs(a), rT) + e) * (1 + 4 * (d + 2) * U64))
        lb, ub = _down(c - rad).T, _up(c + rad).T
        if return_forms:
            return lb, ub, (np.transpose(a, (1, 0, 2)), c.T, e.T, m, r)
        return lb, ub


def interval_bounds(net: FNN, lo, hi) -> tuple[np.ndarray, np.ndarray]:
    """Sound (lb, ub) of the exact-arithmetic network over each box (see ``IntervalNet.propagate``)."""
    return IntervalNet(net).propagate(lo, hi)
