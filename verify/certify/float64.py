"""A sound bound E_fl on |float64 net(x) - exact net(x)| over a whole domain, up to the largest float (issue 15, 7).

A certificate of ``verify.certify`` bounds the EXACT-arithmetic network on its stored weights; the float64 forward
pass that a user runs is another function.  This module bounds their difference for every float input x of a
box domain (unbounded domains end at ±np.finfo(float).max), so that ``certificate bound + E_fl <= ε`` is a proof
about the float64 evaluation (docs/certification.md, "Float64 evaluation").

Rounding model (Higham 2002, §2.2, 3.1).  Every row of a map is computed as a sum of its nonzero products w_j ĥ_j
and its bias, in an order we do not fix: the per-layer path sums by BLAS (any order, FMA or not), the compiled
plan (``constructions.plan``) by slots, shared sums or small gemms, then adds the bias.  Whatever the order, with
u = 2^-53, k rounding operations per row and η = 2^-1074 per inexact product (underflow: fl(ab) = ab(1 + θ) + η),

    |fl(Σ_j w_j ĥ_j + b) - (Σ_j w_j ĥ_j + b)| <= γ_k (Σ_j |w_j| |ĥ_j| + |b|) + p η,     γ_k = k u / (1 - k u),

k = (number of terms - 1) + [some product is inexact], p the number of inexact products; a product by ±1 is
exact, a zero weight is neither stored nor summed (0·x = 0 and s + 0 = s are exact).  ReLU is exact and
1-Lipschitz.  So, per unit, with [l, h] the range of the exact pre-activation z on a box and e a bound on |ẑ - z|:

    e_k = Σ_j |w_kj| e_j + γ_k (Σ_j |w_kj| (H_j + e_j) + |b_k|) + p_k η,       H_j = max|exact unit j| on the box,
    after ReLU: e stays, except e = 0 where h + e <= 0 (then ẑ <= 0 and z <= 0: both ReLUs give exactly 0).

Relational errors (monotone chains).  The error of a unit is split as s ξ_G + η: ξ_G is shared by the rows equal
up to sign (bias ignored), η is the row's own rounding.  Through a ReLU the shared part passes with a slope in
[0, 1] that is nonincreasing in the bias along rows of one sign, so the next row's coefficient of ξ is at most
the largest |prefix sum| of its weights along that order (between the last unit known active and the first
known dead): 2 for a sawtooth tooth 2ρ(g) - 4ρ(g - 1/2), not 6, which keeps deep product nets from a 6^m blow-up.

Ranges.  Plain interval arithmetic in extended precision (``np.longdouble``, 64-bit significand, exponent range
to 1e4932) on every box, each end widened by the rounding of its own extended sum, so values near the largest
float are represented and compared with the overflow threshold 2^1024 - 2^970 without overflowing
(``affine=True`` also intersects the affine-form bounds of ``verify.certify.interval`` on moderate boxes).  Float
ranges are tracked beside them: where all inputs of a row but one are exactly 0 on a box, its float value is
fl(fl(w ĥ) + b) (or an FMA), monotone in ĥ, so its range is read off the input's float range; a row whose float
range is <= 0 is exactly 0 after its ReLU (and an overflow to -inf there is harmless).  This decides the
saturating rows of the float-robust clips (``lemmas.clip``) on a whole tail cell, after which the rest of the net
sees points.

Overflow.  A row whose computed value could reach 2^1024 - 2^970 in magnitude (its single rounding, or any
partial sum bounded by (Σ|w||ĥ| + |b|)(1 + γ)) makes the bound infinite, unless that row is dead as above.

Boxes.  Per coordinate: ``n_central`` equal cells of the central interval, then either dyadic bands to the domain
end (``bands=True``) or a thin cell and one cell to each end (``bands=False``, what the claims use); boxes are
the Cartesian product.  Vectorised over boxes: 0.01-1.6 s per claim's net here.  Needs ``np.longdouble`` with
at least 63 significand bits (x86-64); elsewhere it refuses with a clear error rather than give an unsound bound.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from constructions.fnn import FNN

from .interval import IntervalNet, row_groups

LD = np.longdouble
U64 = 2.0 ** -53  # unit roundoff of float64
ETA = 2.0 ** -1074  # absolute underflow error of one float64 product (>= 2^-1075)
FMAX = float(np.finfo(np.float64).max)
OVF = LD(2.0) ** 1024 - LD(2.0) ** 970  # round-to-nearest overflows at or above this magnitude
UL = LD(2.0) ** -60  # > the unit roundoff 2^-64 of the extended-precision bound arithmetic, with room to spare
TINY_L = LD("1e-4900")
AFFINE_MAX = 2.0 ** 60  # boxes inside |x| <= this also get the affine-form ranges of verify.certify.interval


def _check_longdouble() -> None:
    if np.finfo(LD).nmant < 63:
        raise RuntimeError("verify.certify.float64 needs np.longdouble with a 64-bit significand (x86-64); "
                           f"this platform has {np.finfo(LD).nmant + 1} bits")


def gamma(k) -> np.ndarray:
    """γ_k = k u / (1 - k u), u = 2^-53, rounded up (extended precision)."""
    k = np.asarray(k, dtype=LD)
    return k * LD(U64) / (1 - k * LD(U64)) * (1 + 8 * UL)


@dataclass
class _Map:
    rows: np.ndarray  # (nnz,) sorted
    cols: np.ndarray
    w: np.ndarray  # longdouble weights
    b: np.ndarray  # longdouble bias (d_out,)
    d_out: int
    starts: np.ndarray  # segment starts of non-empty rows
    nonempty: np.ndarray  # the rows that have at least one weight
    g: np.ndarray  # γ_k per row (float64 model)
    eta: np.ndarray  # p_k η per row
    single: np.ndarray  # rows with at most one rounding (overflow iff the rounded value itself overflows)
    n: np.ndarray  # terms per row (for the extended-precision rounding bound)
    groups: _Groups
    b_f: np.ndarray  # float64 bias
    nmax: int  # the most nonzeros of a row
    absw: np.ndarray  # (nnz, 1) |w|, max(w, 0), min(w, 0); (d_out, 1) |b| and b
    wpos: np.ndarray
    wneg: np.ndarray
    babs: np.ndarray
    bcol: np.ndarray
    one_weight: np.ndarray = None  # (d_out, 1): rows with exactly one nonzero weight
    exact_sum: np.ndarray = None  # (d_out, 1): rows w x with w = ±1 and no bias (computed exactly)
    chains: "_Chains | None" = None

    def seg_sum(self, P: np.ndarray) -> np.ndarray:
        """Row sums Σ_{j in row} P[j] of a (nnz, n_boxes) array; rows without weights give 0."""
        out = np.zeros((self.d_out, P.shape[1]), dtype=LD)
        if self.rows.size:
            out[self.nonempty] = np.add.reduceat(P, self.starts, axis=0)
        return out


_CACHE: dict = {}


def _prepare(net: FNN) -> list[_Map]:
    """The maps of ``net`` prepared for ``bound_boxes`` (the last few nets are cached, held with the net)."""
    hit = _CACHE.get(id(net))
    if hit is not None and hit[0] is net:
        return hit[1]
    maps = []
    for (r, c, v), b, (d_out, _) in net.affine_maps():
        keep = v != 0.0
        r, c, v = r[keep], c[keep], v[keep]
        order = np.lexsort((c, r))
        r, c, v = r[order], c[order], v[order]
        b = np.asarray(b, dtype=np.float64)
        nnz = np.bincount(r, minlength=d_out)
        inexact = np.bincount(r, weights=(np.abs(v) != 1.0).astype(float), minlength=d_out)
        terms = nnz + (b != 0.0)
        k = np.maximum(terms - 1, 0) + (inexact > 0)
        nonempty = np.flatnonzero(nnz > 0)
        maps.append(_Map(r, c, v.astype(LD), b.astype(LD), d_out, np.searchsorted(r, nonempty), nonempty,
                         gamma(k)[:, None], (LD(ETA) * inexact.astype(LD))[:, None], (k <= 1)[:, None],
                         terms.astype(LD)[:, None], _groups(r, c, v, d_out), b, int(nnz.max()) if nnz.size else 0,
                         np.abs(v).astype(LD)[:, None], np.maximum(v, 0).astype(LD)[:, None],
                         np.minimum(v, 0).astype(LD)[:, None], np.abs(b).astype(LD)[:, None], b.astype(LD)[:, None]))
        maps[-1].one_weight = (nnz == 1)[:, None]
        maps[-1].exact_sum = ((terms <= 1) & (inexact == 0))[:, None]
        if len(maps) > 1:
            maps[-1].chains = _chains(maps[-1].groups, maps[-2].groups, maps[-2].b_f)
    if len(_CACHE) >= 4:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[id(net)] = (net, maps)
    return maps


@dataclass
class Float64Bound:
    """E_fl = sup over the domain's float inputs of |float64 net - exact net| (per output, and its max)."""

    E_fl: float
    per_output: list
    overflow: bool
    boxes: int
    seconds: float
    worst_box: tuple
    domain: tuple
    detail: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"E_fl": self.E_fl, "per_output": self.per_output, "overflow": self.overflow, "boxes": self.boxes,
                "seconds": round(self.seconds, 4), "worst_box": self.worst_box, "domain": self.domain, **self.detail}


def axis_cells(lo: float, hi: float, central: tuple[float, float], n_central: int, bands: bool = True,
               thin: bool = True) -> np.ndarray:
    """Cell edges of one coordinate of [lo, hi]: ``n_central`` equal cells on ``central`` ∩ [lo, hi], then
    dyadic bands outward (ratios 2 eight times, then 2^40) to the domain ends; ``bands=False``: a thin cell
    (1/256 of the central end's size), then one cell to each end (enough for the float-robust clips, whose saturating rows are decided from the
    float range of their single nonzero input, see ``bound_boxes``)."""
    lo, hi = float(lo), float(hi)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
        raise ValueError(f"domain ends must be finite floats with lo <= hi, got {lo!r}, {hi!r}")
    c0, c1 = max(lo, float(central[0])), min(hi, float(central[1]))
    if c0 >= c1:
        c0, c1 = lo, hi
    edges = [np.linspace(c0, c1, max(1, n_central) + 1)]
    for end, sgn, start in ((hi, 1.0, c1), (lo, -1.0, c0)):
        s = sgn * start  # walk outward from the central interval
        base = max(abs(s), 1.0)
        e = sgn * end
        pts, j = [], 1
        if not bands and thin and s + base / 256 < e:  # a thin cell first: saturating rows are then strictly negative
            pts.append(sgn * (s + base / 256))
        while bands:
            k = j if j <= 8 else 8 + 40 * (j - 8)
            t = float(np.ldexp(base, k)) if np.log2(base) + k < 1024 else np.inf
            if not np.isfinite(t) or t >= e:
                break
            if t > s:
                pts.append(sgn * t)
            j += 1
        if e > s:
            pts.append(sgn * e)
        edges.append(np.asarray(pts))
    return np.unique(np.concatenate(edges))


def domain_boxes(lo, hi, central_lo, central_hi, n_central: int = 64, max_boxes: int = 60000, bands: bool = True):
    """(blo, bhi), arrays (n_boxes, d): the Cartesian product of the per-coordinate cells (``axis_cells``);
    ``n_central`` shrinks until the product holds at most ``max_boxes`` boxes (ValueError if it cannot); the thin
    cells of ``axis_cells`` only for d = 1 (for d >= 2 the central box should reach beyond the clip's kinks)."""
    lo, hi = np.atleast_1d(np.asarray(lo, float)), np.atleast_1d(np.asarray(hi, float))
    cl, ch = np.atleast_1d(np.asarray(central_lo, float)), np.atleast_1d(np.asarray(central_hi, float))
    d = lo.size
    nc = n_central
    while True:
        axes = [axis_cells(lo[i], hi[i], (cl[i], ch[i]), nc, bands, thin=d == 1) for i in range(d)]
        total = int(np.prod([a.size - 1 for a in axes], dtype=float))
        if total <= max_boxes:
            break
        if nc <= 1:
            raise ValueError(f"{total} boxes needed at the coarsest partition (cap {max_boxes}); "
                             "use bands=False or a smaller domain")
        nc = max(1, nc // 2)
    grids = np.meshgrid(*[np.arange(a.size - 1) for a in axes], indexing="ij")
    idx = [g.ravel() for g in grids]
    blo = np.stack([axes[i][idx[i]] for i in range(d)], 1)
    bhi = np.stack([axes[i][idx[i] + 1] for i in range(d)], 1)
    return blo, bhi


def _affine_ranges(net: FNN, blo: np.ndarray, bhi: np.ndarray) -> list | None:
    """Per-layer pre-activation ranges from the affine forms of ``verify.certify.interval`` on the boxes inside
    |x| <= AFFINE_MAX (None for the others)."""
    sel = np.flatnonzero(np.all((np.abs(blo) <= AFFINE_MAX) & (np.abs(bhi) <= AFFINE_MAX), axis=1))
    if sel.size == 0:
        return None
    rec: list = []
    IntervalNet(net).propagate(blo[sel], bhi[sel], layer_bounds=rec)
    return [(sel, lb, ub) for lb, ub in rec]


def float64_error(net: FNN, lo, hi, central_lo=None, central_hi=None, n_central: int = 64,
                  max_boxes: int = 20000, affine: bool = False, bands: bool = True) -> Float64Bound:
    """The bound E_fl of the module docstring over the box domain [lo, hi] (per coordinate; ±np.finfo(float).max
    for an unbounded side).  ``central_lo/hi``: where the network has its features (uniform cells there)."""
    _check_longdouble()
    if not isinstance(net, FNN):
        raise TypeError(f"float64_error needs an FNN, got {type(net).__name__}")
    t0 = time.perf_counter()
    lo = np.broadcast_to(np.asarray(lo, float), (net.d_in,))
    hi = np.broadcast_to(np.asarray(hi, float), (net.d_in,))
    central_lo = lo if central_lo is None else np.broadcast_to(np.asarray(central_lo, float), (net.d_in,))
    central_hi = hi if central_hi is None else np.broadcast_to(np.asarray(central_hi, float), (net.d_in,))
    blo, bhi = domain_boxes(lo, hi, central_lo, central_hi, n_central, max_boxes, bands)
    E, overflow, worst = bound_boxes(net, blo, bhi, affine)
    per = [float(x) for x in E.max(axis=1)] if not overflow else [float("inf")] * net.d_out
    Efl = max(per)
    return Float64Bound(Efl, per, bool(overflow), blo.shape[0], time.perf_counter() - t0,
                        (blo[worst].tolist(), bhi[worst].tolist()), (lo.tolist(), hi.tolist()))


def _up(x) -> np.ndarray:
    """A float64 upper bound of a nonnegative extended-precision array (inf where it exceeds the float range)."""
    x = np.asarray(x, dtype=LD) * (1 + 4 * UL)
    return np.nextafter(np.where(x < LD(FMAX), x, LD(np.inf)).astype(np.float64), np.inf)


@dataclass
class _Chains:
    """The ξ-coefficients of one map, grouped for the monotone bound (module docstring, "Relational errors"):
    for every pair p = (row group G of this map, row group g of the previous map) and sign family s, the members
    i of g with sign s sorted by bias descending, their coefficients c_i = R_Gi s_i, and the prefix sums."""

    e_pos: np.ndarray  # position of each member in its chain (members sorted by chain, then position)
    e_unit: np.ndarray
    starts: np.ndarray  # first member of each chain
    length: np.ndarray  # members per chain
    t_seq: np.ndarray  # prefix table: chain, position j (0..len) and prefix sum P_j
    t_pos: np.ndarray
    t_P: np.ndarray
    t_starts: np.ndarray
    absum: np.ndarray  # Σ|c| per chain
    chain_pair: np.ndarray  # pair of each chain
    n_pairs: int
    pair_src: np.ndarray  # previous group of each pair
    pair_starts: np.ndarray  # pairs are sorted by group: first pair of each group that has one
    pair_groups: np.ndarray  # the groups that have pairs


@dataclass
class _Groups:
    """Rows of one map equal up to sign (bias ignored): group and sign per row, |representative rows|."""

    group: np.ndarray
    sign: np.ndarray
    n: int
    rep_rows: np.ndarray  # COO of the representative rows, sorted by group
    rep_cols: np.ndarray
    rep_vals: np.ndarray
    rep_starts: np.ndarray
    rep_nonempty: np.ndarray

    def abs_sum(self, F: np.ndarray) -> np.ndarray:
        """Σ_i |R_Gi| F_i per group (float64, not yet rounded up)."""
        out = np.zeros((self.n, F.shape[1]))
        if self.rep_rows.size:
            out[self.rep_nonempty] = np.add.reduceat(np.abs(self.rep_vals)[:, None] * F[self.rep_cols],
                                                     self.rep_starts, axis=0)
        return out


def _groups(r, c, v, d_out) -> _Groups:
    group, sign, reps = row_groups(r, c, v, d_out)
    lens = np.array([len(cc) for cc, _ in reps], dtype=np.int64)
    rr = np.repeat(np.arange(len(reps)), lens)
    rc = np.concatenate([cc for cc, _ in reps]).astype(np.int64) if rr.size else np.zeros(0, np.int64)
    rv = np.concatenate([vv for _, vv in reps]) if rr.size else np.zeros(0)
    ne = np.flatnonzero(lens > 0)
    return _Groups(group, sign, len(reps), rr, rc, rv, np.searchsorted(rr, ne), ne)


def _chains(g: _Groups, prev: _Groups, prev_b: np.ndarray) -> _Chains | None:
    if g.rep_rows.size == 0:
        return None
    G, i, R = g.rep_rows, g.rep_cols, g.rep_vals
    pg, ps = prev.group[i], prev.sign[i]
    fam = (ps < 0).astype(np.int64)
    order = np.lexsort((-prev_b[i], fam, pg, G))
    G, i, cv, pg, fam = G[order], i[order], (R * ps)[order], pg[order], fam[order]
    pkey = G * (prev.n + 1) + pg
    upk, pidx = np.unique(pkey, return_inverse=True)
    key = pidx * 2 + fam
    uk, starts, length = np.unique(key, return_index=True, return_counts=True)
    pos = np.arange(G.size) - np.repeat(starts, length)
    t_len = length + 1
    t_seq = np.repeat(np.arange(uk.size), t_len)
    t_pos = np.arange(t_len.sum()) - np.repeat(np.cumsum(t_len) - t_len, t_len)
    Pj = np.zeros(uk.size)
    t_P = np.zeros(t_len.sum())
    t_start = np.cumsum(t_len) - t_len
    for j in range(1, int(length.max()) + 1):  # prefix sums chain by chain (rounding: _pair_coefficients)
        has = length >= j
        Pj = np.where(has, Pj + np.where(has, cv[np.minimum(starts + j - 1, cv.size - 1)], 0.0), Pj)
        t_P[t_start[has] + j] = Pj[has]
    absum = np.add.reduceat(np.abs(cv), starts)
    pair_G = upk // (prev.n + 1)
    ug, pstarts = np.unique(pair_G, return_index=True)
    return _Chains(pos, i, starts, length, t_seq, t_pos, t_P, np.cumsum(t_len) - t_len, absum, uk // 2,
                   upk.size, upk % (prev.n + 1), pstarts, ug)


def _pair_coefficients(ch: _Chains, active: np.ndarray, dead: np.ndarray) -> np.ndarray:
    """Per pair and box, a bound on |Σ_i c_i D_i| over the slopes D_i ∈ [0, 1] that are nonincreasing along each
    chain (a unit with a larger bias is at least as active) and equal 1 (active) or 0 (dead) where known: the
    extreme values are prefix sums P_j with j between the last known-active position + 1 and the first
    known-dead one."""
    nb = active.shape[1]
    A1 = active[ch.e_unit]
    A0 = dead[ch.e_unit]
    pos = ch.e_pos[:, None].astype(float)
    j1 = np.maximum.reduceat(np.where(A1, pos + 1, 0.0), ch.starts, axis=0)
    n_el = np.repeat(ch.length, ch.length)[:, None].astype(float)
    j0 = np.minimum.reduceat(np.where(A0, pos, n_el), ch.starts, axis=0)
    tp = ch.t_pos[:, None].astype(float)
    valid = (tp >= j1[ch.t_seq]) & (tp <= j0[ch.t_seq])
    P = ch.t_P[:, None]
    lo = np.minimum.reduceat(np.where(valid, P, np.inf), ch.t_starts, axis=0)
    hi = np.maximum.reduceat(np.where(valid, P, -np.inf), ch.t_starts, axis=0)
    bad = ~np.isfinite(lo) | ~np.isfinite(hi)  # inconsistent knowledge (cannot happen in truth): no monotonicity
    lo = np.where(bad, -ch.absum[:, None], lo)
    hi = np.where(bad, ch.absum[:, None], hi)
    # the rounding of the prefix sums (P_0 = 0 is exact)
    sl = np.where(np.maximum(np.abs(lo), np.abs(hi)) > 0, (ch.absum * (ch.length + 2) * U64 * 1.01)[:, None], 0.0)
    plo = np.zeros((ch.n_pairs, nb))
    phi = np.zeros((ch.n_pairs, nb))
    np.add.at(plo, ch.chain_pair, lo - sl)
    np.add.at(phi, ch.chain_pair, hi + sl)
    return np.maximum(np.abs(plo), np.abs(phi)) * (1 + 4 * U64)


def bound_boxes(net: FNN, blo: np.ndarray, bhi: np.ndarray, affine: bool = False):
    """(E (d_out, n_boxes) float64 upper bounds of |float64 net - exact net| on each box, overflow flag, index of
    the worst box).  Errors are propagated relationally (module docstring, "Relational errors")."""
    _check_longdouble()
    blo, bhi = np.asarray(blo, float), np.asarray(bhi, float)
    maps = _prepare(net)
    aff = _affine_ranges(net, blo, bhi) if affine else None
    nb = blo.shape[0]
    lb, ub = blo.T.astype(LD), bhi.T.astype(LD)  # exact ranges of the current units
    Flo, Fhi = lb.copy(), ub.copy()  # ranges of their float64 values
    E = F = np.zeros((net.d_in, nb))  # group-shared inherited errors (per row group) and own errors (per unit)
    active = np.ones((net.d_in, nb), dtype=bool)
    dead = np.zeros((net.d_in, nb), dtype=bool)
    overflow = False
    last = len(maps) - 1
    FM = LD(FMAX)
    for i, mp in enumerate(maps):
        # |float values| <= Hf (floats: no overflow so far)
        Hf = np.minimum(np.maximum(np.abs(Flo), np.abs(Fhi)), FM)
        mag = (mp.seg_sum(mp.absw * Hf[mp.cols]) + mp.babs) * (1 + (mp.n + 2) * UL)  # >= Σ|w||ĥ| + |b|
        lg, ug = lb[mp.cols], ub[mp.cols]
        tlo, thi = mp.wpos * lg + mp.wneg * ug, mp.wpos * ug + mp.wneg * lg  # the terms of each end
        # each end widened by the rounding of its own extended-precision sum (γ of its terms' magnitudes)
        zlo = mp.seg_sum(tlo) + mp.bcol
        zlo = zlo - (UL * (mp.n + 2) * (mp.seg_sum(np.abs(tlo)) + mp.babs) + TINY_L) * ~mp.exact_sum
        zhi = mp.seg_sum(thi) + mp.bcol
        zhi = zhi + (UL * (mp.n + 2) * (mp.seg_sum(np.abs(thi)) + mp.babs) + TINY_L) * ~mp.exact_sum
        if aff is not None:
            sel, alb, aub = aff[0][0], aff[i][1], aff[i][2]
            zlo[:, sel] = np.maximum(zlo[:, sel], alb.astype(LD))
            zhi[:, sel] = np.minimum(zhi[:, sel], aub.astype(LD))
        # inherited error, relationally: ξ_G = Σ_i R_Gi ε_i with ε_i = D_i s_i ξ_g(i) + η_i (|ξ_g| <= E_g, |η_i| <= F_i)
        ch = mp.chains
        Eg = mp.groups.abs_sum(F)
        if ch is not None:
            C = _pair_coefficients(ch, active, dead)
            C = np.where(C > 0, C * E[ch.pair_src], 0.0)  # (0 · inf: a dead unit whose error is unbounded)
            Eg[ch.pair_groups] += np.add.reduceat(C, ch.pair_starts, axis=0)
        Eg = Eg * (1 + (mp.nmax + 4) * 2 * U64)
        inherited = Eg[mp.groups.group]
        Fk = _up(mp.g * mag + mp.eta)  # this row's own rounding
        ez = (inherited + Fk) * (1 + 2 * U64)
        ezL = ez.astype(LD)
        # float range of each row: within ez of the exact one; and where all inputs but one are exactly 0 on the box,
        # the row is fl(fl(w ĥ) + b) (or fl(w ĥ + b) with an FMA), monotone in ĥ: its range is read off the ends
        flo, fhi = zlo - ezL, zhi + ezL
        nz = ((Flo != 0) | (Fhi != 0))[mp.cols]
        one = mp.seg_sum(nz.astype(LD)) <= 1
        if np.any(one):
            wsel = mp.seg_sum(np.where(nz, mp.w[:, None], 0)).astype(np.float64)
            ends = [np.clip(mp.seg_sum(np.where(nz, X[mp.cols], LD(0))), -FM, FM).astype(np.float64)
                    for X in (Flo, Fhi)]  # (float values: within the float range)
            b64 = mp.b_f[:, None]
            with np.errstate(over="ignore", invalid="ignore"):
                cands = []
                for a_ in ends:
                    cands.append((wsel * a_) + b64)  # two roundings
                    cands.append((wsel.astype(LD) * a_.astype(LD) + mp.bcol).astype(np.float64))  # FMA (+1 ulp)
                c_lo = np.nextafter(np.minimum.reduce(cands), -np.inf).astype(LD)
                c_hi = np.nextafter(np.maximum.reduce(cands), np.inf).astype(LD)
            okc = one & ~np.isnan(c_lo) & ~np.isnan(c_hi)
            flo = np.where(okc, np.maximum(flo, c_lo), flo)
            fhi = np.where(okc, np.minimum(fhi, c_hi), fhi)
            dead_f = okc & (c_hi <= 0) & (i < last)  # float value <= 0 (or -inf): its ReLU is exactly 0
        else:
            dead_f = np.zeros(ez.shape, dtype=bool)
        # overflow: a single rounding overflows iff the value it rounds does (|.| <= Σ|w||ĥ| + |b|); otherwise
        # bound the partial sums by (Σ|w||ĥ| + |b|)(1 + γ); harmless where the row is dead by its float range
        reach = np.where(mp.single, mag, mag * (1 + mp.g))
        if np.any((reach >= OVF) & ~dead_f) or not np.all(np.isfinite(ez) | dead_f):
            overflow = True
        if i == last:
            Eout = ez
            break
        ezL = np.where(dead_f, LD(0), ezL)
        dead = (zhi + ezL <= 0) | dead_f  # float and exact pre-activations both <= 0: both ReLUs give exactly 0
        active = zlo - ezL >= 0  # both >= 0: the error passes with slope 1
        E, F = np.where(np.isfinite(Eg), Eg, np.inf), np.where(dead, 0.0, Fk)
        lb, ub = np.maximum(zlo, 0), np.maximum(zhi, 0)
        Flo = np.where(dead, LD(0), np.maximum(flo, 0))
        Fhi = np.where(dead, LD(0), np.maximum(fhi, 0))
    Ef = np.where(np.isfinite(Eout), Eout, np.inf)
    if overflow:
        Ef = np.full_like(Ef, np.inf)
    worst = int(np.argmax(Ef.max(axis=0))) if Ef.size else 0
    return Ef, overflow, worst


def _g64(n: int) -> float:
    """γ_{n+2} with a 1 % margin: the float64 rounding of the error sums computed here (as in ``interval``)."""
    nu = (n + 2) * U64
    return 1.01 * nu / (1.0 - nu)


# ------------------------------------------------------------------------------- saturating input clips
@dataclass
class TailReduction:
    """Outcome of ``clip_tail_reduction``: ``proved`` means that for every float x ∈ R^d (finite) the float64 net
    and the exact net both satisfy net(x) = net(clamp(x; lo, hi)), so that every sup over R^d of a function of
    (float64 net, exact net) equals its sup over the float points of the box [lo, hi]."""

    proved: bool
    reason: str
    tails: list = field(default_factory=list)


def _fl_candidates(w: float, x: float, b: float) -> list[float]:
    """The float64 values fl(fl(w x) + b) (two roundings) and fl(w x + b) (one rounding, FMA) of a one-term row;
    inf where they overflow (NaN never: x, w, b finite)."""
    from fractions import Fraction

    with np.errstate(over="ignore", invalid="ignore"):
        two = float(np.float64(w) * np.float64(x) + np.float64(b))
    try:
        fma = float(Fraction(w) * Fraction(x) + Fraction(b))
    except OverflowError:
        fma = float("inf") if Fraction(w) * Fraction(x) + Fraction(b) > 0 else float("-inf")
    return [two, fma]


def clip_tail_reduction(net: FNN, lo, hi) -> TailReduction:
    """Prove that the input clips of ``net`` saturate in float64 AND in exact arithmetic (issue 15, item 7).

    Lemma.  Let the first map read each coordinate separately (every row of A_1 has at most one nonzero, in
    column c(k)), and fix a coordinate i and a side s = +1 (tail x_i >= t = hi_i) or s = -1 (x_i <= t = lo_i).
    Call a first-layer unit k of coordinate i (pre-activation v x_i + c) *dead* when v x_i + c <= 0 at both ends
    x_i = t and x_i = s·max float (exact rationals; linear, so on the whole tail, and fl keeps the sign, so its
    float value is 0 too), else *varying*.  A varying unit must stay finite in float64 at the far end (checked
    on both fl(fl(v x) + c) and the FMA fl(v x + c)); its float value ρ(fl(v x_i + c)) and its exact value are
    nondecreasing outward iff s v > 0 (fl is monotone).  Suppose every second-layer row that reads a varying
    unit k of coordinate i (weight w, bias β) reads no other nonzero unit except dead ones (exact zeros, whose
    products and sums are exact), that w s v < 0 (the row's value is nonincreasing outward, in float64 too:
    fl(w ĥ + β) is monotone in ĥ whatever the rounding path), and that at x_i = t its exact value w ρ(v t + c) + β
    and each float candidate (both ĥ candidates, both row candidates) are <= 0.  Then on the whole tail that row is
    <= 0 in both arithmetics, so its ReLU gives exactly 0, as at x_i = t; every dead unit is 0 there, as at t; no
    other second-layer row reads coordinate i.  So every second-layer activation, float64 and exact, is the same at
    x and at x with x_i replaced by t, and so is everything after it (later maps read only the layer before).
    Applying this to each coordinate and side: net(x) = net(clamp(x; lo, hi)) in both arithmetics for every
    finite float x.  (Needs at least three maps, so that the second map is followed by a ReLU.)

    The float-robust clip b - ρ((b - a) - ρ(x - a)) of ``lemmas.clip`` satisfies it with t = a, b; the spec's
    cancelling clip ρ(x - a) - ρ(x - b) + a does not (a row reads two varying units), and a first-layer weight
    that overflows at the largest float does not either (the reason says which)."""
    from fractions import Fraction

    maps = net.affine_maps()
    d = net.d_in
    lo = np.broadcast_to(np.asarray(lo, float), (d,))
    hi = np.broadcast_to(np.asarray(hi, float), (d,))
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) and np.all(lo <= hi)):
        raise ValueError(f"the box must have finite ends with lo <= hi, got {lo}, {hi}")
    if len(maps) < 3:
        return TailReduction(False, "fewer than three maps: the second map is not followed by a ReLU")
    (r1, c1, v1), b1, (n1, _) = maps[0]
    keep = v1 != 0.0
    r1, c1, v1 = r1[keep], c1[keep], v1[keep]
    nnz = np.bincount(r1, minlength=n1)
    if np.any(nnz > 1):
        k = int(np.flatnonzero(nnz > 1)[0])
        return TailReduction(False, f"first-layer row {k} reads {int(nnz[k])} inputs: the clips are not "
                                    "coordinate-wise")
    coord = np.full(n1, -1)
    wv = np.zeros(n1)
    coord[r1], wv[r1] = c1, v1
    (r2, c2, v2), b2, _ = maps[1]
    keep = v2 != 0.0
    r2, c2, v2 = r2[keep], c2[keep], v2[keep]
    tails = []
    for i in range(d):
        units = np.flatnonzero(coord == i)
        for s, t in ((1.0, float(hi[i])), (-1.0, float(lo[i]))):
            far = s * FMAX
            varying = []
            for k in units:
                v, c = float(wv[k]), float(b1[k])
                ends = [Fraction(v) * Fraction(x) + Fraction(c) for x in (t, far)]
                if all(e <= 0 for e in ends):
                    continue  # dead on the whole tail, in both arithmetics
                if not all(np.isfinite(_fl_candidates(v, far, c))):
                    return TailReduction(False, f"first-layer unit {k} (weight {v:g}) overflows at x_{i} = "
                                                f"{far:.4g}: its float value is inf", tails)
                varying.append(int(k))
            vset = set(varying)
            rows = np.unique(r2[np.isin(c2, varying)])
            for r in rows:
                sel = r2 == r
                cols, ws = c2[sel], v2[sel]
                var_in = [j for j in cols if int(j) in vset]
                others = [int(j) for j in cols if int(j) not in vset]
                if len(var_in) != 1:
                    return TailReduction(False, f"second-layer row {int(r)} reads {len(var_in)} varying units of "
                                                f"x_{i} (a cancelling clip?): not decided", tails)
                bad_other = [j for j in others if coord[j] != i or j in vset]
                if bad_other:
                    return TailReduction(False, f"second-layer row {int(r)} reads units of other coordinates or "
                                                f"constants besides x_{i}'s: not decided", tails)
                # the other inputs are dead units of coordinate i (exact zeros on the tail)
                k = int(var_in[0])
                w = float(ws[list(cols).index(k)])
                v, c, beta = float(wv[k]), float(b1[k]), float(b2[r])
                if not w * s * v < 0:
                    return TailReduction(False, f"second-layer row {int(r)} grows outward along x_{i} (side "
                                                f"{'+' if s > 0 else '-'}): its clip does not saturate", tails)
                u_ex = max(Fraction(v) * Fraction(t) + Fraction(c), Fraction(0))
                z_ex = Fraction(w) * u_ex + Fraction(beta)
                z_fl = [zz for u in _fl_candidates(v, t, c) for zz in _fl_candidates(w, max(u, 0.0), beta)]
                if z_ex > 0 or max(z_fl) > 0:
                    return TailReduction(False, f"second-layer row {int(r)} is not <= 0 at x_{i} = {t!r} "
                                                f"(exact {float(z_ex):.3g}, float {max(z_fl):.3g})", tails)
            tails.append({"coordinate": i, "side": "+" if s > 0 else "-", "t": t, "varying_units": len(varying),
                          "dead_rows": int(rows.size)})
    return TailReduction(True, "every input clip saturates at the box ends in float64 and in exact arithmetic "
                               "(clip_tail_reduction)", tails)
