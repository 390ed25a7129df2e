"""Sound target enclosures for the branch-and-bound certificate (``bnb.certify_fnn``), all vectorised over
boxes (docs/certification.md).

``enclose_square`` (x^2), ``enclose_product`` (Π x_i, from the corner products rounded outward),
``enclose_exp_neg`` (e^{-x}, python-flint arb), ``enclose_clip`` (clip(x; a, b), exact), ``enclose_monotone_arb``
for any monotone function given by an arb expression, ``enclose_taylor_arb`` (a C^2 target from arb expressions for
g, g', g'') and ``enclose_taylor_cells`` (k smooth 1-D targets from python-flint ``arb_series`` once per cell, then
vectorised per box with every rounding bounded); ``with_tight`` pairs a fast enclosure with a tighter per-box one
that the branch-and-bound refines lazily.
"""

from __future__ import annotations

import numpy as np
from flint import arb, arb_series, ctx

from .interval import TINY, U64, box_centre, round_down, round_up


# ----------------------------------------------------------------------------------------- enclosures
# An enclosure returns (g_lo, g_hi) with g_lo <= g <= g_hi on each box, or (h_lo, h_hi, s): g(x) = s·(x - m) + h(x)
# with h_lo <= h <= h_hi on the box, m = interval.box_centre(lo, hi), s any float slopes (n, d).  The second form
# lets the certifier cancel the common slope of net and target (error bound O(r^2) near a maximum, not O(r)).
def _centre_radius(lo, hi):
    m = box_centre(lo, hi)
    r = round_up(np.maximum(hi - m, m - lo))
    return m, r


def enclose_square(lo, hi):
    """x^2 on 1-D boxes: x^2 = 2m (x - m) + m^2 + (x - m)^2, so h ∈ [m^2, m^2 + r^2]; IEEE products are
    correctly rounded, pushed one ulp outward."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    m, r = _centre_radius(lo, hi)
    m2 = m[:, 0] * m[:, 0]
    return round_down(m2), round_up(round_up(m2) + round_up(r[:, 0] * r[:, 0])), 2.0 * m


def enclose_product(lo, hi):
    """Π_i x_i.  d = 2: xy = m_y (x - m_x) + m_x (y - m_y) + m_x m_y + (x - m_x)(y - m_y), h ∈ m_x m_y ± r_x r_y.
    d > 2: the corner products (a multilinear function takes its extremes at corners), each of d factors with
    relative error <= (d-1) u, widened by (1 ± 2d u) and one ulp."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    n, d = lo.shape
    if d == 2:
        m, r = _centre_radius(lo, hi)
        p = m[:, 0] * m[:, 1]
        rr = round_up(r[:, 0] * r[:, 1])
        return round_down(round_down(p) - rr), round_up(round_up(p) + rr), m[:, ::-1].copy()
    corners = np.array(np.meshgrid(*[[0, 1]] * d, indexing="ij")).reshape(d, -1).T  # (2^d, d)
    P = np.ones((n, len(corners)))
    for j in range(d):
        P = P * np.where(corners[None, :, j] == 1, hi[:, j:j + 1], lo[:, j:j + 1])
    mn, mx = P.min(1), P.max(1)
    return round_down(mn - np.abs(mn) * 2 * d * U64), round_up(mx + np.abs(mx) * 2 * d * U64)


def enclose_taylor_arb(g, dg, d2g, prec: int = 64):
    """A C^2 target on 1-D boxes from arb expressions for g, g', g'': with t = x - m and s = float(g'(m)),
    g(x) = s t + [g(m) + (g'(m) - s) t + g''(ξ) t^2 / 2], ξ in the box; the bracket is enclosed in arb with
    t ∈ [-r, r] and g'' evaluated on the ball [m ± r] (arb ranges of a ball are sound)."""
    def enc(lo, hi):
        lo, hi = np.asarray(lo, float), np.asarray(hi, float)
        m, r = _centre_radius(lo, hi)
        s = np.empty(len(m))
        h_lo = np.empty(len(m))
        h_hi = np.empty(len(m))
        old = ctx.prec
        ctx.prec = prec
        try:
            for i, (mi, ri) in enumerate(zip(m[:, 0].tolist(), r[:, 0].tolist())):
                x = arb(mi)
                t = arb(0, ri)
                d1 = dg(x)
                si = float(d1.mid())
                h = g(x) + (d1 - si) * t + d2g(arb(mi, ri)) * (t * t) / 2 if ri > 0 else g(x)
                s[i], h_lo[i], h_hi[i] = si, float(h.lower()), float(h.upper())
        finally:
            ctx.prec = old
        return round_down(h_lo), round_up(h_hi), s[:, None]
    return enc


def enclose_quotient(lo, hi, prec: int = 64):
    """a/b on 2-D boxes (columns a, b) with b > 0 on the box: with t = x - m and s = float(∇g(m)),
    a/b = s·t + [g(m) + (∇g(m) - s)·t + ½ tᵀ H(ξ) t], H = [[0, -1/b²], [-1/b², 2a/b³]] at ξ in the box; the bracket
    is enclosed in arb with t in [-r, r], a on its ball and 1/b², 1/b³ from the box ends (Taylor's theorem with the mean-value
    remainder; arb ranges are sound).  Width O(r²/b³) near small b."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    if lo.ndim != 2 or lo.shape[1] != 2:
        raise ValueError(f"enclose_quotient takes boxes of shape (n, 2), got {lo.shape}")
    if not np.all(lo[:, 1] > 0):
        raise ValueError("enclose_quotient needs b > 0 on every box")
    m, r = _centre_radius(lo, hi)
    n = len(m)
    s = np.empty((n, 2))
    h_lo = np.empty(n)
    h_hi = np.empty(n)
    old = ctx.prec
    ctx.prec = prec
    try:
        for i in range(n):
            ma, mb = arb(float(m[i, 0])), arb(float(m[i, 1]))
            ta, tb = arb(0, float(r[i, 0])), arb(0, float(r[i, 1]))
            xa = arb(float(m[i, 0]), float(r[i, 0]))
            bl, bh = arb(float(lo[i, 1])), arb(float(hi[i, 1]))
            ib2 = (1 / (bh * bh)).union(1 / (bl * bl))  # 1/b², 1/b³ on [b_lo, b_hi] by monotonicity (a ball
            ib3 = (1 / (bh * bh * bh)).union(1 / (bl * bl * bl))  # power of the ball would contain 0 when wide)
            ga, gb = 1 / mb, -ma / (mb * mb)
            sa, sb = float(ga.mid()), float(gb.mid())
            h = ma / mb + (ga - sa) * ta + (gb - sb) * tb - ta * tb * ib2 + xa * tb * tb * ib3
            s[i] = sa, sb
            h_lo[i], h_hi[i] = float(h.lower()), float(h.upper())
    finally:
        ctx.prec = old
    return round_down(h_lo), round_up(h_hi), s


def enclose_taylor_cells(series_fn, lo: float, hi: float, cells: int = 1024, prec: int = 80):
    """Vectorised slope-form enclosure of k smooth 1-D targets on [lo, hi] (any box count, no per-box arb).

    ``series_fn(x)`` maps an arb_series x (the variable at a point or ball) to a list of k arb_series (the
    targets' Taylor series, python-flint).  Once per cell [X_j, X_j+1] of ``cells`` equal cells, in arb: the
    cubic p_j(t) = Σ_{i<=3} a_i t^i (float a_i) about the cell centre M_j, and E_j >= Σ_i |g^(i)(M_j)/i! - a_i| w^i
    + max_cell |g^(4)/4!| w^4 (w the half-width; the last from the series on the ball of the cell), so that
    g(x) ∈ p_j(x - M_j) ± E_j on the cell (Taylor's theorem).  For a box inside cell j with centre m and
    radius r (those of ``verify.certify.interval``), τ = m - M_j and t = x - M_j:
        p_j(t) = p_j(τ) + p_j'(τ)(t - τ) + p_j''(τ)/2 (t - τ)^2 + a_3 (t - τ)^3     (exact for a cubic),
    so with s = fl(p_j'(τ̂)) the slope form g = s (x - m) + h has
        h ∈ fl(p_j(τ̂)) ± [ρ_p + |p_j'(τ) - s| r + (|a_2| + 3|a_3| w) r^2 + |a_3| r^3 + E_j],
    where ρ_p covers the float evaluation at τ̂ = fl(m - M_j) (10 u Σ|terms|) and |τ - τ̂| <= u|τ̂|.  Boxes that
    cross a cell edge fall back to per-box arb (g(m), g'(m) at m, g'' on the ball).  Add ``edges`` to the seed
    points so that none does.  Returns (enclosure, edges)."""
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError("the domain must be a finite interval with lo < hi")
    if int(cells) != cells or cells < 1:
        raise ValueError("cells must be a positive integer")
    edges = np.linspace(lo, hi, int(cells) + 1)
    M = box_centre(edges[:-1], edges[1:])
    hw = round_up(np.maximum(edges[1:] - M, M - edges[:-1]))
    old = ctx.prec
    ctx.prec = prec
    try:
        A, E = [], []
        for Mj, wj in zip(M.tolist(), hw.tolist()):
            at = series_fn(arb_series([arb(Mj), 1], prec=4))
            ball = series_fn(arb_series([arb(Mj, wj), 1], prec=5))
            w = arb(wj)
            a_row, e_row = [], []
            for sa, sb in zip(at, ball):
                coef = [sa[i] for i in range(4)]
                a = [float(ci.mid()) for ci in coef]
                err = sum((abs(ci - arb(ai)) * w ** i for i, (ci, ai) in enumerate(zip(coef, a))), arb(0))
                err = err + abs(sb[4]) * w ** 4
                a_row.append(a)
                e_row.append(float(err.upper()))
            A.append(a_row)
            E.append(e_row)
    finally:
        ctx.prec = old
    A = np.array(A)  # (cells, k, 4)
    E = round_up(np.array(E))  # (cells, k)
    k = A.shape[1]
    absA = np.abs(A)
    w1 = hw[:, None]
    P1max = round_up((absA[:, :, 1] + 2 * absA[:, :, 2] * w1 + 3 * absA[:, :, 3] * w1 ** 2) * (1 + 16 * U64))
    P2max = round_up((2 * absA[:, :, 2] + 6 * absA[:, :, 3] * w1) * (1 + 16 * U64))
    Q2 = round_up((absA[:, :, 2] + 3 * absA[:, :, 3] * w1) * (1 + 16 * U64))

    def slow(m_i, r_i):  # per-box arb: g(m) + (g'(m) - s) t + g''(ξ)/2 t^2
        old = ctx.prec
        ctx.prec = prec
        try:
            at = series_fn(arb_series([arb(m_i), 1], prec=2))
            ball = series_fn(arb_series([arb(m_i, r_i), 1], prec=3))
            t = arb(0, r_i)
            out = []
            for sa, sb in zip(at, ball):
                s = float(sa[1].mid())
                h = sa[0] + (sa[1] - s) * t + sb[2] * t * t
                out.append((float(h.lower()), float(h.upper()), s))
            return out
        finally:
            ctx.prec = old

    def enc(b_lo, b_hi):
        x_lo = np.asarray(b_lo, dtype=np.float64)[:, 0]
        x_hi = np.asarray(b_hi, dtype=np.float64)[:, 0]
        m = box_centre(x_lo, x_hi)
        r = round_up(np.maximum(x_hi - m, m - x_lo))
        j = np.clip(np.searchsorted(edges, x_lo, side="right") - 1, 0, len(M) - 1)
        inside = (x_lo >= edges[j]) & (x_hi <= edges[j + 1])
        tau = (m - M[j])[:, None]
        a = A[j]  # (n, k, 4)
        p = a[:, :, 0] + tau * (a[:, :, 1] + tau * (a[:, :, 2] + tau * a[:, :, 3]))
        s = a[:, :, 1] + tau * (2 * a[:, :, 2] + tau * (3 * a[:, :, 3]))
        at = np.abs(tau)
        ab = absA[j]
        rho_p = 10 * U64 * (ab[:, :, 0] + at * (ab[:, :, 1] + at * (ab[:, :, 2] + at * ab[:, :, 3])))
        rho_s = 10 * U64 * (ab[:, :, 1] + at * (2 * ab[:, :, 2] + at * (3 * ab[:, :, 3])))
        dtau = U64 * at
        rr = r[:, None]
        rad = (rho_p + P1max[j] * dtau + (rho_s + P2max[j] * dtau) * rr + Q2[j] * rr * rr
               + ab[:, :, 3] * rr * rr * rr + E[j])
        rad = round_up(round_up(rad * (1 + 32 * U64)) + TINY)
        h_lo, h_hi = round_down(p - rad), round_up(p + rad)
        for i in np.flatnonzero(~inside):
            for q, (lo_i, hi_i, s_i) in enumerate(slow(float(m[i]), float(r[i]))):
                h_lo[i, q], h_hi[i, q], s[i, q] = lo_i, hi_i, s_i
        h_lo, h_hi = round_down(h_lo), round_up(h_hi)
        if k == 1:
            return h_lo[:, 0], h_hi[:, 0], s
        return h_lo, h_hi, s[:, :, None]

    return enc, edges


def with_tight(fast, tight):
    """The enclosure ``fast`` carrying a slower, tighter enclosure ``tight`` of the same target, which
    ``bnb.certify_fnn`` computes lazily, only on the boxes that can set the certified bound (both are sound: the
    certificate takes the smaller bound per box; see ``bnb._box_bounds``)."""
    def enc(lo, hi):
        return fast(lo, hi)
    enc.tight = tight
    return enc


def enclose_monotone_arb(fn, increasing: bool, prec: int = 64):
    """Interval enclosure of a monotone g given as an arb function ``fn(arb) -> arb``: [g(lo), g(hi)] (or
    reversed) from arb balls at the box ends (1-D boxes), their exact ends rounded outward to float."""
    def enc(lo, hi):
        lo, hi = np.asarray(lo, float)[:, 0], np.asarray(hi, float)[:, 0]
        old = ctx.prec
        ctx.prec = prec
        try:
            ends = np.unique(np.concatenate([lo, hi]))
            L = np.empty(len(ends))
            H = np.empty(len(ends))
            for i, x in enumerate(ends.tolist()):
                y = fn(arb(x))
                L[i] = float(y.lower())
                H[i] = float(y.upper())
        finally:
            ctx.prec = old
        L, H = round_down(L), round_up(H)
        il, ih = np.searchsorted(ends, lo), np.searchsorted(ends, hi)
        if increasing:
            return L[il], H[ih]
        return L[ih], H[il]
    return enc


def _neg_exp(x):
    return (-x).exp()


def _exp_neg(x):
    return -((-x).exp())


enclose_exp_neg = enclose_taylor_arb(_neg_exp, _exp_neg, _neg_exp)
enclose_exp_neg.__doc__ = "e^{-x} on 1-D boxes (Taylor form in arb: g' = -e^{-x}, g'' = e^{-x})."


def enclose_clip(a: float, b: float):
    """clip(x; a, b) on 1-D boxes: on a box inside [a, b] it is x = 1·(x - m) + m exactly; on a box inside
    x <= a or x >= b a constant; else the interval [clip(lo), clip(hi)] (max/min round nothing)."""
    def enc(lo, hi):
        lo, hi = np.asarray(lo, float)[:, 0], np.asarray(hi, float)[:, 0]
        m = box_centre(lo[:, None], hi[:, None])[:, 0]
        inside = (lo >= a) & (hi <= b)
        s = np.where(inside, 1.0, 0.0)[:, None]
        h_lo = np.where(inside, m, np.clip(lo, a, b))
        h_hi = np.where(inside, m, np.clip(hi, a, b))
        return h_lo, h_hi, s
    return enc
