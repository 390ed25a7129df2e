"""Exact certificate for networks that are sums of 1-D networks of linear forms on a box (issue 6, 2-D claims;
docs/certification.md, method 9).

Structure proven from the stored weights, in exact rational arithmetic (python-flint fmpq):

1. **Affine prefix.**  Layers 1..k-1 whose every pre-activation keeps one sign on the box [lo, hi] (exact range of
   an affine function over a box) act affinely there: z_k(x) = A x + a exactly on the box, A, a rational.
2. **Components.**  The hidden units of layers k..L-1 split into connected components of the graph of nonzero
   weights between consecutive hidden layers.  Each component's units of layer k read rows of A that are
   multiples c_i ℓ_j of one rational vector ℓ_j (checked exactly); a component with no unit in layer k is a
   constant.  With sub_j the network made of layers 1..k-1, component j from layer k on and the output weights
   of component j (no output bias),

       net(x) = b_out + Σ_j sub_j(x)      for every x (the components partition the units),
       sub_j(x) = G_j(ℓ_j · x)            on the box (prefix affine, rows c_i ℓ_j).

3. **Lines.**  ℓ_j · x takes every value of its range on the box along the segment from the corner minimising
   it to the corner maximising it, so sup_box |sub_j(x) - g_j(ℓ_j · x)| is a 1-D sup on that segment, certified
   exactly by ``certify_pl_exact`` along the segment's direction.

A claim supplies the per-component targets g_j (``separable_quadratic_targets`` solves Σ_j c_j (ℓ_j·x)^2 = x^T Q x
exactly for a quadratic target such as xy); then sup_box |net - g| <= |b_out - g_0| + Σ_j sup |sub_j - g_j| with
every term exact.  Nothing here trusts the builder: a net that is not of this form is reported as such.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from flint import fmpq, fmpq_mat

from constructions.affine import Affine
from constructions.fnn import FNN

from .certify import _fmpq_float_up, _q, certify_pl_exact, pl_breakpoints


class NotSeparable(ValueError):
    """The network is not a sum of 1-D networks of linear forms on the box (the reason says where it fails)."""


@dataclass
class Part:
    """One component: ``sub`` (an FNN on the full input), the rational form ℓ (list of fmpq), the segment
    [c_min, c_max] (float corners of the box) along which ℓ·x covers its range on the box."""

    sub: FNN
    ell: list
    c_min: np.ndarray
    c_max: np.ndarray
    units: int


@dataclass
class Decomposition:
    bias: fmpq
    prefix_layers: int  # k - 1 layers proven affine on the box
    parts: list = field(default_factory=list)
    output: int = 0


def _affine_range(row, const, lo, hi):
    """Exact (min, max) of row·x + const over the box (fmpq)."""
    mn = mx = const
    for w, a, b in zip(row, lo, hi):
        if w > 0:
            mn, mx = mn + w * a, mx + w * b
        elif w < 0:
            mn, mx = mn + w * b, mx + w * a
    return mn, mx


def decompose(net: FNN, lo, hi, output: int = 0) -> Decomposition:
    """Prove (exactly) that output ``output`` of ``net`` is b + Σ_j G_j(ℓ_j·x) on the box [lo, hi] (module
    docstring); raise NotSeparable otherwise."""
    lo = [_q(float(v)) for v in np.asarray(lo, dtype=np.float64).reshape(-1)]
    hi = [_q(float(v)) for v in np.asarray(hi, dtype=np.float64).reshape(-1)]
    d = net.d_in
    if len(lo) != d or len(hi) != d or any(a > b for a, b in zip(lo, hi)):
        raise ValueError(f"the box needs {d} coordinates with lo <= hi")
    if not 0 <= output < net.d_out:
        raise ValueError("output index out of range")
    maps = net.affine_maps()
    L = len(maps)
    # affine map of the current layer's *inputs*: h = H x + h0 (start: the identity)
    H = [[fmpq(int(i == j)) for j in range(d)] for i in range(d)]
    h0 = [fmpq(0)] * d
    k = 0
    while k < L - 1:
        (r, c, v), b, shape = maps[k]
        A = [[fmpq(0)] * d for _ in range(shape[0])]
        a = [_q(float(x)) for x in b]
        for ri, ci, vi in zip(r, c, v):
            if vi == 0:
                continue
            w = _q(float(vi))
            a[ri] += w * h0[ci]
            for j in range(d):
                if H[ci][j]:
                    A[ri][j] += w * H[ci][j]
        rng = [_affine_range(A[i], a[i], lo, hi) for i in range(shape[0])]
        if any(mn < 0 < mx for mn, mx in rng):
            break  # layer k has a unit that changes sign on the box: the components start here
        keep = [mn >= 0 and mx > 0 for mn, mx in rng]  # >= 0 on the box: identity; <= 0: zero
        H = [A[i] if keep[i] else [fmpq(0)] * d for i in range(shape[0])]
        h0 = [a[i] if keep[i] else fmpq(0) for i in range(shape[0])]
        k += 1
    if k == L - 1:
        raise NotSeparable("every hidden layer is affine on the box: use the exact affine map instead")
    # z_k = A x + a: rows of layer k in terms of x
    (r, c, v), b, shape = maps[k]
    A = [[fmpq(0)] * d for _ in range(shape[0])]
    for ri, ci, vi in zip(r, c, v):
        if vi != 0:
            for j in range(d):
                if H[ci][j]:
                    A[ri][j] += _q(float(vi)) * H[ci][j]
    # components over the hidden layers k..L-2 (union-find on (layer, unit))
    offs = np.cumsum([0] + [maps[i][2][0] for i in range(k, L - 1)])
    parent = list(range(int(offs[-1])))

    def find(u):
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    for li in range(k + 1, L - 1):
        (r, c, v), _, _ = maps[li]
        for ri, ci, vi in zip(r, c, v):
            if vi != 0:
                x, y = find(int(offs[li - k] + ri)), find(int(offs[li - 1 - k] + ci))
                if x != y:
                    parent[x] = y
    roots = {}
    for u in range(int(offs[-1])):
        roots.setdefault(find(u), []).append(u)
    (r_out, c_out, v_out), b_out, _ = maps[L - 1]
    bias = _q(float(b_out[output]))
    parts = []
    for units in roots.values():
        first = [u for u in units if u < offs[1]]
        rows = [A[u] for u in first if any(A[u])]
        ell = rows[0] if rows else [fmpq(0)] * d
        for row in rows[1:]:
            j0 = next(j for j in range(d) if ell[j] != 0)
            ratio = row[j0] / ell[j0]
            if any(row[j] != ratio * ell[j] for j in range(d)):
                raise NotSeparable(f"a component reads two independent linear forms of x in layer {k + 1}")
        # the sub-network: prefix, then this component only, output weights of this component for `output`
        sub_maps = [Affine.from_coo(*maps[i][0], maps[i][2], maps[i][1]) for i in range(k)]
        uset = set(units)
        for li in range(k, L - 1):
            (r, c, v), b, shape = maps[li]
            keep_r = np.array([int(offs[li - k] + x) in uset for x in r], dtype=bool)
            bb = np.array([b[x] if int(offs[li - k] + x) in uset else 0.0 for x in range(shape[0])])
            sub_maps.append(Affine.from_coo(r[keep_r], c[keep_r], v[keep_r], shape, bb))
        last = L - 2
        keep_o = np.array([ro == output and int(offs[last - k] + co) in uset for ro, co in zip(r_out, c_out)],
                          dtype=bool)
        if not keep_o.any():
            continue  # the component does not reach this output
        sub_maps.append(Affine.from_coo(np.zeros(int(keep_o.sum()), dtype=np.int64), c_out[keep_o], v_out[keep_o],
                                        (1, maps[L - 1][2][1]), np.zeros(1)))
        c_min = np.array([float(a) if w > 0 else float(b_) for w, a, b_ in zip(ell, lo, hi)])
        c_max = np.array([float(b_) if w > 0 else float(a) for w, a, b_ in zip(ell, lo, hi)])
        parts.append(Part(FNN(sub_maps), ell, c_min, c_max, len(units)))
    return Decomposition(bias, k, parts, output)


def separable_quadratic_targets(parts: list, Q) -> list:
    """Rational c_j with Σ_j c_j (ℓ_j·x)^2 = x^T Q x exactly (Q symmetric, rational entries), or NotSeparable.
    Solved exactly (fmpq_mat) on the upper-triangle equations; every equation is then checked."""
    d = len(parts[0].ell)
    Qq = [[_q(float(Q[i][j])) for j in range(d)] for i in range(d)]
    eqs = [(i, j) for i in range(d) for j in range(i, d)]
    n = len(parts)
    M = fmpq_mat(len(eqs), n, [p.ell[i] * p.ell[j] for (i, j) in eqs for p in parts])
    rhs = fmpq_mat(len(eqs), 1, [Qq[i][j] for (i, j) in eqs])
    if len(eqs) != n:
        raise NotSeparable(f"{n} components for {len(eqs)} quadratic coefficients")
    try:
        sol = M.solve(rhs)
    except ZeroDivisionError:
        raise NotSeparable("the squares of the components' linear forms are linearly dependent") from None
    cs = [sol[i, 0] for i in range(n)]
    for (i, j) in eqs:
        if sum((cj * p.ell[i] * p.ell[j] for cj, p in zip(cs, parts)), fmpq(0)) != Qq[i][j]:
            raise NotSeparable("no exact quadratic identity")
    return cs


def quadratic_piece_error(s0, ds, c):
    """piece_error for certify_pl_exact along a segment t ∈ [0, 1], s = s0 + t ds: the exact (min, max) over
    [p, q] of L(t) - c s(t)^2 (L the line through (p, fp), (q, fq)): a parabola in t, extreme at the ends or at
    its vertex."""
    def err(p, q, fp, fq):
        sl = (fq - fp) / (q - p)
        e = lambda t: fp + sl * (t - p) - c * (s0 + t * ds) ** 2  # noqa: E731
        cand = [e(p), e(q)]
        a2 = c * ds * ds
        if a2 != 0:
            v = (sl - 2 * c * s0 * ds) / (2 * a2)
            if p < v < q:
                cand.append(e(v))
        return min(cand), max(cand)
    return err


@dataclass
class SeparableResult:
    proved: bool
    sup_upper: float  # >= |b - g0| + Σ_j sup_j (each exact)
    terms: list  # per component: exact sup (as float, rounded up), pieces
    seconds: float
    reason: str = ""


def certify_separable_quadratic(net: FNN, Q, lo, hi, output: int = 0, max_pieces: int = 200_000) -> SeparableResult:
    """Certificate of sup over the box of |net(x)_output - x^T Q x| for a net of the separable form (module
    docstring).  Each component's error e_j = sub_j - c_j (ℓ_j·x)^2 has an exact signed range [m_j, M_j] on the
    box (``certify_pl_exact`` on its segment, fmpq); the components' arguments vary independently at most, so
    net - x^T Q x = b + Σ_j e_j ∈ [b + Σ m_j, b + Σ M_j] and the bound is the larger end in absolute value
    (exact; it equals the sup when the extremes of the parts can be reached together, as for the polarised
    product, where the builder's bound 2^{-2m} M^2 is attained)."""
    t0 = time.perf_counter()
    try:
        dec = decompose(net, lo, hi, output)
        cs = separable_quadratic_targets(dec.parts, Q)
    except NotSeparable as exc:
        return SeparableResult(False, float("inf"), [], time.perf_counter() - t0, str(exc))
    lo_sum = hi_sum = dec.bias
    terms = []
    for part, cj in zip(dec.parts, cs):
        cmin = [_q(float(x)) for x in part.c_min]
        cmax = [_q(float(x)) for x in part.c_max]
        s0 = sum((w * x for w, x in zip(part.ell, cmin)), fmpq(0))
        ds = sum((w * (b - a) for w, a, b in zip(part.ell, cmin, cmax)), fmpq(0))
        direction = np.array([float(b - a) for a, b in zip(cmin, cmax)])
        if any(_q(float(b - a)) != b - a for a, b in zip(cmin, cmax)):
            return SeparableResult(False, float("inf"), terms, time.perf_counter() - t0,
                                   "segment direction not exactly representable")
        seeds = pl_breakpoints(part.sub, 0.0, 1.0, base=part.c_min, direction=direction)
        res = certify_pl_exact(part.sub, quadratic_piece_error(s0, ds, cj), 0.0, 1.0, seeds, base=part.c_min,
                               direction=direction, max_pieces=max_pieces)
        if not res.proved:
            return SeparableResult(False, float("inf"), terms, time.perf_counter() - t0, res.reason)
        mn, mx = res.signed_range
        terms.append({"units": part.units, "coefficient": float(cj), "min": -_fmpq_float_up(-mn),
                      "max": _fmpq_float_up(mx), "pieces": res.pieces})
        lo_sum += mn
        hi_sum += mx
    total = max(abs(lo_sum), abs(hi_sum))
    return SeparableResult(True, _fmpq_float_up(total), terms, time.perf_counter() - t0,
                           f"{len(dec.parts)} components after {dec.prefix_layers} affine layer(s); exact per part")
