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
from constructions.algebra import restrict
from constructions.fnn import FNN

from .piecewise import certify_pl_exact, pl_breakpoints
from .rational import fmpq_float_up, to_fmpq


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
    centre: object = None  # fmpq o when two units of the component's first layer are ρ(λ(ℓ·x - o)), ρ(-λ(ℓ·x - o))


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
    lo = [to_fmpq(float(v)) for v in np.asarray(lo, dtype=np.float64).reshape(-1)]
    hi = [to_fmpq(float(v)) for v in np.asarray(hi, dtype=np.float64).reshape(-1)]
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
        a = [to_fmpq(float(x)) for x in b]
        for ri, ci, vi in zip(r, c, v):
            if vi == 0:
                continue
            w = to_fmpq(float(vi))
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
    a_k = [to_fmpq(float(x)) for x in b]
    for ri, ci, vi in zip(r, c, v):
        if vi != 0:
            a_k[ri] += to_fmpq(float(vi)) * h0[ci]
            for j in range(d):
                if H[ci][j]:
                    A[ri][j] += to_fmpq(float(vi)) * H[ci][j]
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
    bias = to_fmpq(float(b_out[output]))
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
        # the centre of an absolute value: units λ ℓ·x + a and -λ ℓ·x - a (zero at ℓ·x = -a/λ)
        centre = None
        if rows:
            j0 = next(j for j in range(d) if ell[j] != 0)
            lam = {u: A[u][j0] / ell[j0] for u in first if any(A[u])}
            for u in lam:
                if any(lam[w] == -lam[u] and a_k[w] == -a_k[u] for w in lam):
                    centre = -a_k[u] / lam[u]
                    break
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
        # the component's own units only (the other components' rows are zero in sub_maps): exact evaluation
        # along the segment then costs the component's size, not the whole net's
        parts.append(Part(restrict(FNN(sub_maps), [0], list(range(d))), ell, c_min, c_max, len(units), centre))
    return Decomposition(bias, k, parts, output)


def separable_quadratic_targets(parts: list, Q) -> list:
    """Rational c_j with Σ_j c_j (ℓ_j·x)^2 = x^T Q x exactly (Q symmetric, rational entries), or NotSeparable.
    Solved exactly (fmpq_mat; the normal equations when there are more equations than parts; with fewer parts or
    dependent squares, each part's fitted coefficient ``_fitted_square`` corrected by the exact least-norm
    projection) on the upper-triangle equations; every equation is then checked.  Parts with ℓ_j = 0 (constants) get c_j = 0."""
    d = len(parts[0].ell)
    Qq = [[to_fmpq(Q[i][j]) for j in range(d)] for i in range(d)]
    eqs = [(i, j) for i in range(d) for j in range(i, d)]
    live = [k for k, p in enumerate(parts) if any(p.ell)]
    n = len(live)
    cs = [fmpq(0)] * len(parts)
    if n:
        M = fmpq_mat(len(eqs), n, [parts[k].ell[i] * parts[k].ell[j] for (i, j) in eqs for k in live])
        rhs = fmpq_mat(len(eqs), 1, [Qq[i][j] for (i, j) in eqs])
        sol = None
        if n <= len(eqs):  # unique when the squares are independent
            try:
                sol = M.solve(rhs) if len(eqs) == n else (M.transpose() * M).solve(M.transpose() * rhs)
            except ZeroDivisionError:
                sol = None
        if sol is None or M * sol != rhs:
            # more parts than coefficients, or dependent squares (parts reading proportional forms): start from
            # each part's fitted coefficient; parts fitted 0 (carried values) keep c = 0 when the others solve
            # exactly, else the exact least-norm correction on the equations that any part reaches
            ct = [_fitted_square(parts[k]) for k in live]
            sq = [i for i, c in enumerate(ct) if c != 0]
            sol = None
            if 0 < len(sq) <= len(eqs):
                Ms = fmpq_mat(len(eqs), len(sq), [M[e, i] for e in range(len(eqs)) for i in sq])
                try:
                    xs = Ms.solve(rhs) if len(sq) == len(eqs) else (Ms.transpose() * Ms).solve(Ms.transpose() * rhs)
                    sol = fmpq_mat(n, 1, [fmpq(0)] * n)
                    for idx, i in enumerate(sq):
                        sol[i, 0] = xs[idx, 0]
                    if M * sol != rhs:
                        sol = None
                except ZeroDivisionError:
                    sol = None
            if sol is None:
                rows = [e for e in range(len(eqs)) if any(M[e, i] for i in range(n))]
                if not rows:
                    raise NotSeparable("no component reads x")
                Mr = fmpq_mat(len(rows), n, [M[e, i] for e in rows for i in range(n)])
                rr = fmpq_mat(len(rows), 1, [rhs[e, 0] for e in rows])
                ctm = fmpq_mat(n, 1, ct)
                try:
                    sol = ctm + Mr.transpose() * (Mr * Mr.transpose()).solve(rr - Mr * ctm)
                except ZeroDivisionError:
                    raise NotSeparable("the squares of the components' linear forms are linearly dependent") from None
        for idx, k in enumerate(live):
            cs[k] = sol[idx, 0]
    for (i, j) in eqs:
        if sum((cj * p.ell[i] * p.ell[j] for cj, p in zip(cs, parts)), fmpq(0)) != Qq[i][j]:
            raise NotSeparable("no exact quadratic identity")
    return cs


def round24(x: float) -> fmpq:
    mant, ex = np.frexp(x)
    return to_fmpq(float(np.ldexp(np.round(np.ldexp(mant, 24)), int(ex) - 24)))


def _fitted_square(p) -> fmpq:
    """The least-squares coefficient of (ℓ·x)^2 in sub(x) along the part's segment (float64, 257 points), 0 when
    negligible (a carried value), else rounded to 24 significant bits: a heuristic that only affects tightness."""
    tau = np.linspace(0.0, 1.0, 257)
    X = p.c_min[None, :] + tau[:, None] * (p.c_max - p.c_min)[None, :]
    z = X @ np.array([float(v) for v in p.ell])
    if np.ptp(z) == 0:
        return fmpq(0)
    y = p.sub(X)[:, 0]
    c2 = float(np.polyfit(z, y, 2)[0])
    if abs(c2) * np.max(z * z) <= 1e-9 * max(np.max(np.abs(y)), 1e-300):
        return fmpq(0)
    return round24(c2)


def separable_linear_targets(parts: list, cs: list, q, lo, hi) -> list:
    """Rational d_j with Σ_j d_j ℓ_j = q exactly, close to each part's own slope: for a part whose first layer holds
    ρ(λ(ℓ_j·x - o)), ρ(-λ(ℓ_j·x - o)) (the |·| of a sawtooth square centred at o, ``Part.centre``) the natural
    d̃_j = -2 c_j o (its target is c_j (ℓ_j·x - o)^2 + const); otherwise the least-squares slope d̃_j of
    sub_j - c_j (ℓ_j·x)^2 against ℓ_j·x along the part's segment (float64, 257 points, rounded to 24 significant
    bits so that a slope such as -32 comes out exact: a heuristic that only affects tightness), then the exact least-norm correction d = d̃ + M^T (M M^T)^{-1} (q - M d̃), M = [ℓ_j]."""
    d = len(parts[0].ell)
    qq = [to_fmpq(v) for v in q]
    live = [k for k, p in enumerate(parts) if any(p.ell)]
    ds = [fmpq(0)] * len(parts)
    if not live:
        if any(qq):
            raise NotSeparable("a linear target but no component reads x")
        return ds
    tau = np.linspace(0.0, 1.0, 257)
    dt = []
    for k in live:
        p = parts[k]
        if p.centre is not None and cs[k] != 0:
            dt.append(-2 * cs[k] * p.centre)  # c (z - o)^2 = c z^2 - 2 c o z + c o^2: the natural slope
            continue
        X = p.c_min[None, :] + tau[:, None] * (p.c_max - p.c_min)[None, :]
        z = X @ np.array([float(v) for v in p.ell])
        y = p.sub(X)[:, 0] - float(cs[k]) * z * z
        dt.append(round24(float(np.polyfit(z, y, 1)[0])) if np.ptp(z) > 0 else fmpq(0))
    M = fmpq_mat(d, len(live), [parts[k].ell[i] for i in range(d) for k in live])
    dv = fmpq_mat(len(live), 1, dt)
    res = fmpq_mat(d, 1, qq) - M * dv
    G = M * M.transpose()
    try:
        z = G.solve(res)
    except ZeroDivisionError:
        # some direction of x is read by no component: solve on the directions that are
        rows = [i for i in range(d) if any(parts[k].ell[i] for k in live)]
        if any(res[i, 0] for i in range(d) if i not in rows):
            raise NotSeparable("the linear target reads a direction no component reads") from None
        Ms = fmpq_mat(len(rows), len(live), [parts[k].ell[i] for i in rows for k in live])
        try:
            zs = (Ms * Ms.transpose()).solve(fmpq_mat(len(rows), 1, [res[i, 0] for i in rows]))
        except ZeroDivisionError:
            raise NotSeparable("the components' linear forms are linearly dependent") from None
        corr = Ms.transpose() * zs
    else:
        corr = M.transpose() * z
    for idx, k in enumerate(live):
        ds[k] = dv[idx, 0] + corr[idx, 0]
    for i in range(d):
        if sum((dj * p.ell[i] for dj, p in zip(ds, parts)), fmpq(0)) != qq[i]:
            raise NotSeparable("no exact linear identity")
    return ds


def quadratic_piece_error(s0, ds, c, dl=fmpq(0)):
    """piece_error for certify_pl_exact along a segment t ∈ [0, 1], s = s0 + t ds: the exact (min, max) over
    [p, q] of L(t) - (c s(t)^2 + dl s(t)) (L the line through (p, fp), (q, fq)): a parabola in t, extreme at the
    ends or at its vertex."""
    def err(p, q, fp, fq):
        sl = (fq - fp) / (q - p)
        e = lambda t: fp + sl * (t - p) - c * (s0 + t * ds) ** 2 - dl * (s0 + t * ds)  # noqa: E731
        cand = [e(p), e(q)]
        a2 = c * ds * ds
        if a2 != 0:
            v = (sl - dl * ds - 2 * c * s0 * ds) / (2 * a2)
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
    """Certificate of sup over the box of |net(x)_output - x^T Q x| (``certify_separable_poly`` without the
    linear and constant terms)."""
    return certify_separable_poly(net, Q, None, 0, lo, hi, output, max_pieces)


def certify_separable_poly(net: FNN, Q, q, q0, lo, hi, output: int = 0, max_pieces: int = 200_000) -> SeparableResult:
    """Certificate of sup over the box of |net(x)_output - (x^T Q x + q·x + q0)| for a net of the separable form
    (module docstring); Q, q, q0 exact rationals (floats, Fractions or fmpq).  Each component's error
    e_j = sub_j - c_j (ℓ_j·x)^2 - d_j (ℓ_j·x) has an exact signed range [m_j, M_j] on the box
    (``certify_pl_exact`` on its segment, fmpq), where Σ_j c_j (ℓ_j·x)^2 = x^T Q x and Σ_j d_j ℓ_j = q exactly
    (``separable_quadratic_targets``, ``separable_linear_targets``); the components' arguments vary
    independently at most, so net - target = (b - q0) + Σ_j e_j ∈ [b - q0 + Σ m_j, b - q0 + Σ M_j] and the bound
    is the larger end in absolute value (exact; it equals the sup when the extremes of the parts can be reached
    together, as for the polarised product, where the builder's bound 2^{-2m} M^2 is attained)."""
    t0 = time.perf_counter()
    try:
        dec = decompose(net, lo, hi, output)
        cs = separable_quadratic_targets(dec.parts, Q)
        dls = (separable_linear_targets(dec.parts, cs, q, lo, hi) if q is not None and any(to_fmpq(v) for v in q)
               else [fmpq(0)] * len(dec.parts))
    except NotSeparable as exc:
        return SeparableResult(False, float("inf"), [], time.perf_counter() - t0, str(exc))
    lo_sum = hi_sum = dec.bias - to_fmpq(q0)
    terms = []
    for part, cj, dj in zip(dec.parts, cs, dls):
        cmin = [to_fmpq(float(x)) for x in part.c_min]
        cmax = [to_fmpq(float(x)) for x in part.c_max]
        s0 = sum((w * x for w, x in zip(part.ell, cmin)), fmpq(0))
        ds = sum((w * (b - a) for w, a, b in zip(part.ell, cmin, cmax)), fmpq(0))
        direction = np.array([float(b - a) for a, b in zip(cmin, cmax)])
        if any(to_fmpq(float(b - a)) != b - a for a, b in zip(cmin, cmax)):
            return SeparableResult(False, float("inf"), terms, time.perf_counter() - t0,
                                   "segment direction not exactly representable")
        seeds = pl_breakpoints(part.sub, 0.0, 1.0, base=part.c_min, direction=direction)
        res = certify_pl_exact(part.sub, quadratic_piece_error(s0, ds, cj, dj), 0.0, 1.0, seeds, base=part.c_min,
                               direction=direction, max_pieces=max_pieces)
        if not res.proved:
            return SeparableResult(False, float("inf"), terms, time.perf_counter() - t0, res.reason)
        mn, mx = res.signed_range
        terms.append({"units": part.units, "coefficient": float(cj), "linear": float(dj), "min": -fmpq_float_up(-mn),
                      "max": fmpq_float_up(mx), "pieces": res.pieces})
        lo_sum += mn
        hi_sum += mx
    total = max(abs(lo_sum), abs(hi_sum))
    return SeparableResult(True, fmpq_float_up(total), terms, time.perf_counter() - t0,
                           f"{len(dec.parts)} components after {dec.prefix_layers} affine layer(s); exact per part")
