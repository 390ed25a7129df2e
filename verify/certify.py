"""Certified sup-norm error of a low-dimensional network: branch-and-bound over boxes (issue 6,
docs/certification.md).

``certify_fnn(net, target_enclosure, lo, hi, eps, budget)`` proves

    sup_{x ∈ [lo, hi]} |f(x) - g(x)| <= bound (<= eps)

for the EXACT-arithmetic network f on the stored float64 weights (the stored weights are the weights; the float64
forward pass is a different, rounded function, covered by the float64 allowance elsewhere) and a target g
given only through a sound enclosure ``target_enclosure(box_lo, box_hi) -> (g_lo, g_hi)``: float arrays with
g_lo <= g(x) <= g_hi for every x in each box (vectorised over boxes).  On a box, ``verify.interval`` gives
f_lo <= f <= f_hi, so |f - g| <= max(f_hi - g_lo, g_hi - f_lo), rounded up.  Boxes whose bound exceeds eps are
bisected along their relatively widest side; each sweep evaluates up to ``chunk`` boxes in one vectorised pass
(the worst first).  The outcome is CERTIFIED (every leaf bound <= eps; the certified bound is the largest leaf
bound) or, when ``budget`` boxes have been evaluated, the best bound reached (the largest bound over the leaves
and the boxes still pending) beside the sampled maximum (f at the centres of the worst boxes, float64, against
the target's enclosure midpoint there).

1-D networks also have (docs/certification.md items 5-6): ``pl_breakpoints`` (the float64 kinks, a heuristic
seed: ``certify_fnn(..., seed_points=)`` starts from the boxes between them; the boxes always cover the domain,
so the seed cannot affect soundness) and ``certify_pl_exact`` (an EXACT rational certificate: the net is proven
affine on every piece of a partition by sign checks of every neuron at the piece ends, and the target's sup error
is computed exactly per piece), with ``depends_only_on`` (structural, coordinate-wise nets) and
``affine_on_ray`` (both directions) for the rays outside a bounded domain.

Target enclosures provided here (all sound, vectorised): ``enclose_square`` (x^2), ``enclose_product``
(Π x_i, from the corner products rounded outward), ``enclose_exp_neg`` (e^{-x}, python-flint arb at the
box ends, e^{-x} decreasing), ``enclose_clip`` (clip(x; a, b), exact), ``enclose_monotone_arb`` for any
monotone function given by an arb expression, and ``enclose_taylor_cells`` (k smooth 1-D targets from
python-flint ``arb_series`` once per cell, then vectorised per box with every rounding bounded).  Several outputs
can be certified in one branch-and-bound (``output=[...]``; ``CertResult.bounds``).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from fractions import Fraction

import numpy as np
from flint import arb, arb_series, ctx, fmpq

from constructions.affine import Affine
from constructions.fnn import FNN

from .interval import TINY, U64, IntervalNet, _down, _up, box_centre
from .result import Check

DEFAULT_BUDGET = 200_000
DEFAULT_CHUNK = 8192


@dataclass
class CertResult:
    """The outcome of ``certify_fnn``; ``bound`` is a proven upper bound of the sup error (it is inf when the
    budget ran out before the first sweep; ``bound_is_sound`` is False then)."""

    certified: bool
    bound: float
    eps: float
    boxes: int  # boxes evaluated (the budget counts these)
    leaves: int  # final partition size (certified leaves + boxes still pending)
    sweeps: int
    seconds: float
    sampled_max: float  # max |f(centre) - g(centre)| over the worst boxes: a (float64) lower estimate of the sup
    worst_box: list = field(default_factory=list)
    budget: int = DEFAULT_BUDGET
    budget_exhausted: bool = False
    bound_is_sound: bool = True
    outputs: list = field(default_factory=list)  # the outputs certified together (several: ``bounds`` per output)
    bounds: list = field(default_factory=list)  # the proven bound of each output (same order)
    sampled_maxes: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def certify_fnn(net: FNN, target_enclosure, lo, hi, eps, budget: int = DEFAULT_BUDGET,
                output=0, chunk: int = DEFAULT_CHUNK, init_splits: int | None = None,
                seed_points=None, stop_above=None) -> CertResult:
    """Branch-and-bound certification of sup_{x ∈ [lo, hi]} |net(x)_output - g(x)| <= eps (see the module
    docstring).  ``lo``, ``hi``: the domain box (sequences of length d_in); ``budget``: the largest number of
    boxes evaluated; ``init_splits``: the domain is first cut into this many equal pieces per axis.
    ``seed_points`` (1-D only, e.g. ``pl_breakpoints``): the initial partition is instead the boxes between
    the sorted distinct seed points inside [lo, hi] and the two ends.  The seed only chooses where the boxes
    are cut: the boxes always cover [lo, hi] exactly, so it cannot affect soundness, only speed.

    Several outputs at once: ``output`` a sequence of k indices, ``eps`` a scalar or k values, and
    ``target_enclosure`` returning arrays of shape (n, k) (slope: (n, k, d)); a box is done when every output's
    bound is <= its eps, and ``CertResult.bounds`` holds each output's proven bound (``bound`` their max).

    ``stop_above`` (scalar or per output): stop after the sweep in which the sampled error (float64, at box
    centres) of some output exceeds it: a counterexample far beyond float64 noise (callers pass 2 eps), so no
    certificate is coming; the result is not certified and its bound is still sound."""
    lo = np.atleast_1d(np.asarray(lo, dtype=np.float64))
    hi = np.atleast_1d(np.asarray(hi, dtype=np.float64))
    d = net.d_in
    if lo.shape != (d,) or hi.shape != (d,):
        raise ValueError(f"domain ends must have shape ({d},), got {lo.shape} and {hi.shape}")
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))) or np.any(lo > hi):
        raise ValueError("the domain must be a finite box with lo <= hi")
    multi = not np.isscalar(output)
    outs = [int(o) for o in np.atleast_1d(output)]
    if not outs:
        raise ValueError("output must name at least one output")
    eps_v = np.broadcast_to(np.asarray(eps, dtype=np.float64), (len(outs),)).copy()
    if not (np.all(np.isfinite(eps_v)) and np.all(eps_v > 0)):
        raise ValueError(f"eps must be positive finite numbers, got {eps!r}")
    if int(budget) != budget or budget < 1 or int(chunk) != chunk or chunk < 1:
        raise ValueError("budget and chunk must be positive integers")
    for o in outs:
        if not 0 <= o < net.d_out:
            raise ValueError(f"output index {o} out of range for a network with {net.d_out} outputs")
    t0 = time.perf_counter()
    inet = IntervalNet(net)
    span = np.where(hi > lo, hi - lo, 1.0)
    k = int(init_splits or (64 if d == 1 else 8 if d == 2 else 2))
    grids = [np.linspace(lo[j], hi[j], k + 1) if hi[j] > lo[j] else np.array([lo[j], hi[j]]) for j in range(d)]
    if seed_points is not None:
        if d != 1:
            raise ValueError("seed_points needs a network with one input")
        sp = np.asarray(seed_points, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(sp)):
            raise ValueError("seed_points contain NaN or inf")
        sp = sp[(sp > lo[0]) & (sp < hi[0])]
        grids = [np.unique(np.concatenate([lo, sp, hi]))] if hi[0] > lo[0] else grids
    idx = np.stack(np.meshgrid(*[np.arange(len(g) - 1) for g in grids], indexing="ij"), -1).reshape(-1, d)
    P_lo = np.stack([grids[j][idx[:, j]] for j in range(d)], 1)
    P_hi = np.stack([grids[j][idx[:, j] + 1] for j in range(d)], 1)
    P_lo[:, :] = np.maximum(P_lo, lo)  # linspace ends are exact, but keep the cover inside [lo, hi] explicitly
    P_hi[:, :] = np.minimum(P_hi, hi)
    P_lo[idx == 0] = np.broadcast_to(lo, P_lo.shape)[idx == 0]
    last = np.array([len(g) - 2 for g in grids])
    P_hi[idx == last] = np.broadcast_to(hi, P_hi.shape)[idx == last]
    k = len(outs)
    P_bound = np.full((len(P_lo), k), np.inf)  # priority: the parent's bounds (the largest ratio to eps first)
    done_max, boxes, sweeps = np.zeros(k), 0, 0
    worst = (None, None, -np.inf)
    sampled = np.zeros(k)
    S_lo, S_bound = [], []
    while len(P_lo) and boxes < budget:
        take = min(chunk, budget - boxes, len(P_lo))
        order = np.argsort(-np.max(P_bound / eps_v, axis=1), kind="stable")
        sel, rest = order[:take], order[take:]
        b_lo, b_hi = P_lo[sel], P_hi[sel]
        R_lo, R_hi, R_bound = P_lo[rest], P_hi[rest], P_bound[rest]
        bound = _box_bounds(inet, target_enclosure, b_lo, b_hi, outs)  # (take, k)
        boxes += take
        sweeps += 1
        ratio = np.max(bound / eps_v, axis=1)
        ok = ratio <= 1.0
        if ok.any():
            done_max = np.maximum(done_max, bound[ok].max(axis=0))
        j = int(np.argmax(ratio))
        if ratio[j] > worst[2] or worst[0] is None:
            worst = (b_lo[j].copy(), b_hi[j].copy(), float(ratio[j]))
        # sampled error at the centres of the (up to 64) worst boxes of this sweep
        top = np.argsort(-ratio)[:64]
        cm = b_lo[top] + 0.5 * (b_hi[top] - b_lo[top])
        enc = target_enclosure(cm, cm)
        gm = 0.5 * (np.asarray(enc[0], float).reshape(len(cm), k) + np.asarray(enc[1], float).reshape(len(cm), k))
        sampled = np.maximum(sampled, np.max(np.abs(net(cm)[:, outs] - gm), axis=0))
        stop = stop_above is not None and bool(np.any(sampled > np.asarray(stop_above, dtype=np.float64)))
        bad = ~ok
        s_lo, s_hi, s_b = b_lo[bad], b_hi[bad], bound[bad]
        if len(s_lo):
            w = (s_hi - s_lo) / span
            ax = np.argmax(w, axis=1)
            rows = np.arange(len(s_lo))
            mid = s_lo[rows, ax] + 0.5 * (s_hi[rows, ax] - s_lo[rows, ax])
            # a box too narrow to bisect in float64 that still fails stays a leaf with its bound
            stuck = (mid <= s_lo[rows, ax]) | (mid >= s_hi[rows, ax])
            if stuck.any():
                S_lo.append(s_lo[stuck])
                S_bound.append(s_b[stuck])
                keep = ~stuck
                s_lo, s_hi, s_b, ax, mid = s_lo[keep], s_hi[keep], s_b[keep], ax[keep], mid[keep]
                rows = np.arange(len(s_lo))
            left_hi = s_hi.copy()
            left_hi[rows, ax] = mid
            right_lo = s_lo.copy()
            right_lo[rows, ax] = mid
            P_lo = np.concatenate([R_lo, s_lo, right_lo])
            P_hi = np.concatenate([R_hi, left_hi, s_hi])
            P_bound = np.concatenate([R_bound, s_b, s_b])
        else:
            P_lo, P_hi, P_bound = R_lo, R_hi, R_bound
        if stop:
            break
    stuck_bound = np.concatenate(S_bound) if S_bound else np.zeros((0, k))
    pending = len(P_lo) + len(stuck_bound)
    certified = pending == 0
    if certified:
        best = done_max
    else:
        # pending boxes carry their parent's bound (a sound bound for the child), or inf if never evaluated
        best = np.maximum(done_max, np.max(np.concatenate([P_bound, stuck_bound]), axis=0))
    return CertResult(certified=bool(certified), bound=float(best.max()), eps=float(eps_v.max()), boxes=int(boxes),
                      leaves=int(pending + 0), sweeps=sweeps, seconds=time.perf_counter() - t0,
                      sampled_max=float(sampled.max()),
                      worst_box=[worst[0].tolist(), worst[1].tolist()] if worst[0] is not None else [],
                      budget=int(budget), budget_exhausted=not certified,
                      bound_is_sound=bool(np.all(np.isfinite(best))), outputs=outs if multi else [],
                      bounds=best.tolist() if multi else [], sampled_maxes=sampled.tolist() if multi else [])


def pl_breakpoints(net: FNN, lo: float, hi: float, max_points: int = 4_000_000, output: int = 0, axis: int = 0,
                   base=None, direction=None) -> np.ndarray:
    """The breakpoints of a 1-input ReLU network on [lo, hi], computed in float64 (a HEURISTIC seed for
    ``certify_fnn``'s partition, never a proof): the values of every neuron are kept at a sorted point array
    X (every neuron of the current layer is affine between consecutive points, as X holds the kinks of all
    earlier layers); each ReLU layer inserts the zero crossings of its pre-activations (linear interpolation
    between the neighbouring points, all neurons interpolated there) and the layer's ReLU is applied.
    Vectorised: (width x len(X)) arrays per layer.  With ``base`` and ``axis`` the network is restricted to the
    line base + t e_axis, or base + t·direction (only the kinks of ``output`` matter then, but all are returned).
    Returns the sorted distinct points, lo and hi included; ValueError if more than ``max_points`` would be
    needed."""
    if base is None and net.d_in != 1:
        raise ValueError("pl_breakpoints needs a network with one input (or a base point and an axis)")
    lo, hi = float(lo), float(hi)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"need finite lo < hi, got {lo!r}, {hi!r}")
    X = np.array([lo, hi])
    base = np.zeros(net.d_in) if base is None else np.asarray(base, dtype=np.float64).reshape(-1)
    H = np.repeat(base[:, None], 2, axis=1)
    if direction is None:
        H[axis] = X
    else:
        H = H + np.asarray(direction, dtype=np.float64).reshape(-1)[:, None] * X[None, :]
    maps = net.affine_maps()
    for i, ((r, c, v), b, shape) in enumerate(maps):
        Z = Affine.from_coo(r, c, v, shape).apply_T(H) + np.asarray(b, dtype=np.float64)[:, None]
        if i == len(maps) - 1:
            break
        z0, z1 = Z[:, :-1], Z[:, 1:]
        k, j = np.nonzero(((z0 < 0) & (z1 > 0)) | ((z0 > 0) & (z1 < 0)))
        if len(j):
            t = z0[k, j] / (z0[k, j] - z1[k, j])
            xn = X[j] + t * (X[j + 1] - X[j])
            key = np.unique(np.stack([j, xn], 1), axis=0)
            jn, xn = key[:, 0].astype(np.int64), key[:, 1]
            tn = (xn - X[jn]) / (X[jn + 1] - X[jn])
            Zn = Z[:, jn] + tn * (Z[:, jn + 1] - Z[:, jn])
            Xa, Za = np.concatenate([X, xn]), np.concatenate([Z, Zn], 1)
            o = np.argsort(Xa, kind="stable")
            X, Z = Xa[o], Za[:, o]
            keep = np.concatenate([[True], np.diff(X) > 0])
            X, Z = X[keep], Z[:, keep]
            if len(X) > max_points:
                raise ValueError(f"more than {max_points} breakpoints")
        H = np.maximum(Z, 0.0)
    return X


def _box_bounds(inet: IntervalNet, target_enclosure, b_lo, b_hi, outs) -> np.ndarray:
    """Sound upper bounds of sup_box |f_o - g_o| for each box and each output o of ``outs``: (n, len(outs))
    (see the module docstring).  The enclosure returns (n,) arrays for one output, (n, k) for several."""
    n, k = len(b_lo), len(outs)
    f_lo, f_hi, (a, c, e, m, r) = inet.propagate(b_lo, b_hi, return_forms=True)
    f_lo, f_hi, a, c, e = f_lo[:, outs], f_hi[:, outs], a[:, outs, :], c[:, outs], e[:, outs]
    enc = target_enclosure(b_lo, b_hi)
    h_lo = np.asarray(enc[0], dtype=np.float64).reshape(n, k)
    h_hi = np.asarray(enc[1], dtype=np.float64).reshape(n, k)
    if len(enc) == 2:  # interval enclosure of g
        bound = _up(np.maximum(_up(f_hi - h_lo), _up(h_hi - f_lo)))
    else:  # g(x) = s·(x - m) + h(x), h ∈ [h_lo, h_hi]; f(x) ∈ a·(x - m) + c ± e
        d = a.shape[2]
        s = np.asarray(enc[2], dtype=np.float64).reshape(n, k, d)
        D = _up(np.sum(np.abs(a - s) * r[:, None, :], axis=2) * (1 + 4 * (d + 2) * U64))
        K = np.maximum(_up(c - h_lo), _up(h_hi - c))
        bound = _up(_up(D + K) + e)
        # the plain interval bound is sometimes better (large boxes): take the smaller of two sound bounds
        S = _up(np.sum(np.abs(s) * r[:, None, :], axis=2) * (1 + 4 * (d + 2) * U64))
        bound = np.minimum(bound, _up(np.maximum(_up(f_hi - _down(h_lo - S)), _up(_up(h_hi + S) - f_lo))))
    return np.where(np.isnan(bound), np.inf, bound)


def cert_check(name: str, res: CertResult, claim_bound: float | None = None, certifies_claim: bool = True) -> Check:
    """The Check of one certification: PASS (``certified`` = ``certifies_claim``) when the bound is proven
    <= eps; INCONCLUSIVE when the budget ran out (the best bound and the sampled maximum are reported); FAIL
    when the sampled maximum already exceeds eps (a float64 counterexample beyond the float64 noise is left
    to the sampled checks, which decide it with the allowance)."""
    det = res.as_dict()
    det["method"] = ("interval branch-and-bound, affine forms with outward rounding (verify/interval.py), bounds "
                     "the exact-arithmetic network on the stored float64 weights; target enclosed soundly")
    if claim_bound is not None:
        det["claim_bound"] = claim_bound
    if res.certified:
        chk = Check(name, True, res.bound, res.eps, det)
        chk.certified = certifies_claim
        return chk
    if res.sampled_max > res.eps:
        return Check(name, False, res.sampled_max, res.eps, det,
                     {"box": res.worst_box, "sampled_error": res.sampled_max})
    det["reason"] = (f"budget of {res.budget} boxes ran out: best bound {res.bound:.6g}, sampled max "
                     f"{res.sampled_max:.6g}, eps {res.eps:.6g}")
    return Check(name, None, res.bound, res.eps, det)


# ----------------------------------------------------------------------------------------- enclosures
# An enclosure returns (g_lo, g_hi) with g_lo <= g <= g_hi on each box, or (h_lo, h_hi, s): g(x) = s·(x - m) + h(x)
# with h_lo <= h <= h_hi on the box, m = interval.box_centre(lo, hi), s any float slopes (n, d).  The second form
# lets the certifier cancel the common slope of net and target (error bound O(r^2) near a maximum, not O(r)).
def _centre_radius(lo, hi):
    m = box_centre(lo, hi)
    r = _up(np.maximum(hi - m, m - lo))
    return m, r


def enclose_square(lo, hi):
    """x^2 on 1-D boxes: x^2 = 2m (x - m) + m^2 + (x - m)^2, so h ∈ [m^2, m^2 + r^2]; IEEE products are
    correctly rounded, pushed one ulp outward."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    m, r = _centre_radius(lo, hi)
    m2 = m[:, 0] * m[:, 0]
    return _down(m2), _up(_up(m2) + _up(r[:, 0] * r[:, 0])), 2.0 * m


def enclose_product(lo, hi):
    """Π_i x_i.  d = 2: xy = m_y (x - m_x) + m_x (y - m_y) + m_x m_y + (x - m_x)(y - m_y), h ∈ m_x m_y ± r_x r_y.
    d > 2: the corner products (a multilinear function takes its extremes at corners), each of d factors with
    relative error <= (d-1) u, widened by (1 ± 2d u) and one ulp."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    n, d = lo.shape
    if d == 2:
        m, r = _centre_radius(lo, hi)
        p = m[:, 0] * m[:, 1]
        rr = _up(r[:, 0] * r[:, 1])
        return _down(_down(p) - rr), _up(_up(p) + rr), m[:, ::-1].copy()
    corners = np.array(np.meshgrid(*[[0, 1]] * d, indexing="ij")).reshape(d, -1).T  # (2^d, d)
    P = np.ones((n, len(corners)))
    for j in range(d):
        P = P * np.where(corners[None, :, j] == 1, hi[:, j:j + 1], lo[:, j:j + 1])
    mn, mx = P.min(1), P.max(1)
    return _down(mn - np.abs(mn) * 2 * d * U64), _up(mx + np.abs(mx) * 2 * d * U64)


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
        return _down(h_lo), _up(h_hi), s[:, None]
    return enc


def enclose_taylor_cells(series_fn, lo: float, hi: float, cells: int = 1024, prec: int = 80):
    """Vectorised slope-form enclosure of k smooth 1-D targets on [lo, hi] (any box count, no per-box arb).

    ``series_fn(x)`` maps an arb_series x (the variable at a point or ball) to a list of k arb_series (the
    targets' Taylor series, python-flint).  Once per cell [X_j, X_j+1] of ``cells`` equal cells, in arb: the
    cubic p_j(t) = Σ_{i<=3} a_i t^i (float a_i) about the cell centre M_j, and E_j >= Σ_i |g^(i)(M_j)/i! - a_i| w^i
    + max_cell |g^(4)/4!| w^4 (w the half-width; the last from the series on the ball of the cell), so that
    g(x) ∈ p_j(x - M_j) ± E_j on the cell (Taylor's theorem).  For a box inside cell j with centre m and
    radius r (those of ``verify.interval``), τ = m - M_j and t = x - M_j:
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
    hw = _up(np.maximum(edges[1:] - M, M - edges[:-1]))
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
    E = _up(np.array(E))  # (cells, k)
    k = A.shape[1]
    absA = np.abs(A)
    w1 = hw[:, None]
    P1max = _up((absA[:, :, 1] + 2 * absA[:, :, 2] * w1 + 3 * absA[:, :, 3] * w1 ** 2) * (1 + 16 * U64))
    P2max = _up((2 * absA[:, :, 2] + 6 * absA[:, :, 3] * w1) * (1 + 16 * U64))
    Q2 = _up((absA[:, :, 2] + 3 * absA[:, :, 3] * w1) * (1 + 16 * U64))

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
        r = _up(np.maximum(x_hi - m, m - x_lo))
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
        rad = _up(_up(rad * (1 + 32 * U64)) + TINY)
        h_lo, h_hi = _down(p - rad), _up(p + rad)
        for i in np.flatnonzero(~inside):
            for q, (lo_i, hi_i, s_i) in enumerate(slow(float(m[i]), float(r[i]))):
                h_lo[i, q], h_hi[i, q], s[i, q] = lo_i, hi_i, s_i
        h_lo, h_hi = _down(h_lo), _up(h_hi)
        if k == 1:
            return h_lo[:, 0], h_hi[:, 0], s
        return h_lo, h_hi, s[:, :, None]

    return enc, edges


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
        L, H = _down(L), _up(H)
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


# ------------------------------------------------------------------------------ Gaussian kernel expansion
def certify_gauss_expansion(expansion, R: float, eps: float, prec: int = 320) -> Check:
    """Certified sup error of a truncated expansion Σ_{α ∈ S} φ_α(x) φ_α(y), φ_α(x) = e^{-‖x‖²} c_α x^α, over
    ‖x‖, ‖y‖ <= R (Lemmas F.5 / F.6 item 2), in exact arithmetic on the STORED coefficients c_α.

    With s = x·y, K = max_{α∈S} |α| + 1 and F_K = {|α| < K}, the multinomial theorem gives
    Σ_{α∈F_K} (2^{|α|}/α!) (x∘y)^α = Σ_{k<K} (2s)^k/k!, hence exactly

        e^{-‖x-y‖²} - Σ_S φ_α(x)φ_α(y) = e^{-‖x‖²-‖y‖²} [ Σ_{k>=K} (2s)^k/k!
                                          + Σ_{α ∈ F_K \\ S} (2^{|α|}/α!) (x∘y)^α + Σ_{α∈S} (2^{|α|}/α! - c_α²) (x∘y)^α ].

    Since ‖x‖² + ‖y‖² >= 2|s|, |s| <= R² and λ -> e^{-λ} Σ_{k>=K} λ^k/k! = P[Poisson(λ) >= K] increases, the first
    part is at most P[Poisson(2R²) >= K] (attained at x = y, ‖x‖ = R).  For the other two, with
    u_i = (x_i² + y_i²)/2 ∈ [0, R²]: |x_i y_i| <= u_i and e^{-‖x‖²-‖y‖²} = Π_i e^{-2u_i}, so
    e^{-‖x‖²-‖y‖²} |(x∘y)^α| <= Π_i max_{0<=u<=R²} e^{-2u} u^{α_i} = Π_i e^{-2u*} u*^{α_i}, u* = min(α_i/2, R²).  The three numbers are computed in arb (``prec`` bits), so the bound is sound; no
    branch-and-bound is needed.  PASS (certified) when the bound is <= ε; otherwise INCONCLUSIVE (an upper
    bound above ε proves nothing; the sampled checks decide FAIL)."""
    if not (R > 0 and np.isfinite(R)) or not (eps > 0 and np.isfinite(eps)):
        raise ValueError(f"need R > 0 and eps > 0, got R={R!r}, eps={eps!r}")
    t0 = time.perf_counter()
    al = np.asarray(expansion.alphas, dtype=np.int64)
    coef = np.asarray(expansion.coef, dtype=np.float64)
    K = int(al.sum(axis=1).max()) + 1 if len(al) else 0
    d = al.shape[1]
    old = ctx.prec
    ctx.prec = prec
    try:
        lam = 2 * arb(float(R)) ** 2
        R2 = arb(float(R)) ** 2
        part = arb(0)
        term = arb(1)
        for k in range(K):
            if k:
                term = term * lam / k
            part += term
        tail = 1 - (-lam).exp() * part  # P[Poisson(2R²) >= K]
        present = {tuple(a) for a in al.tolist()}
        peak = {}

        def weight(a):  # Π_i max_{0<=u<=R²} e^{-2u} u^{a_i}
            w = arb(1)
            for ai in a:
                if ai:
                    if ai not in peak:
                        # the peak of e^{-2u} u^a is at u = a/2; exact comparison with R² (Fractions)
                        u = arb(ai) / 2 if Fraction(ai, 2) <= Fraction(float(R)) ** 2 else R2
                        peak[ai] = (-2 * u).exp() * u ** ai
                    w = w * peak[ai]
            return w
        missing = arb(0)
        # F_K \ S: enumerate F_K (C(K-1+d, d) indices; fine at the sizes the claims use)
        def rec(prefix, left):
            if len(prefix) == d:
                yield tuple(prefix)
                return
            for a in range(left + 1):
                yield from rec(prefix + [a], left - a)
        n_missing = 0
        for a in rec([], K - 1):
            if a not in present:
                n_missing += 1
                w = arb(2) ** sum(a)
                for ai in a:
                    w = w / arb.fac_ui(ai)
                missing += w * weight(a)
        coef_err = arb(0)
        for a, c in zip(al.tolist(), coef.tolist()):
            w = arb(2) ** sum(a)
            for ai in a:
                w = w / arb.fac_ui(ai)
            coef_err += abs(w - arb(c) ** 2) * weight(a)
        total = tail + missing + coef_err
        up = float(np.nextafter(float(total.upper()), np.inf))
        parts = {"tail_P[Poisson(2R^2)>=K]": float(tail.upper()), "missing_terms": float(missing.upper()),
                 "n_missing_terms": n_missing, "coefficient_rounding": float(coef_err.upper())}
        ok = bool(total <= arb(float(eps)))
    finally:
        ctx.prec = old
    det = {"K": K, "d": d, "terms": int(len(al)), **parts, "seconds": time.perf_counter() - t0,
           "method": "multinomial identity + monotone Poisson tail, evaluated in arb (sound); exact arithmetic "
                     "on the stored coefficients", "precision": f"arb {prec} bits"}
    if not ok:
        det["reason"] = f"certified upper bound {up:.6g} > ε = {eps:.6g}: not a proof of failure"
    chk = Check(f"certified: sup over ‖x‖, ‖y‖ <= R of the expansion error <= ε (bound {up:.6g})",
                True if ok else None, up, float(eps), det)
    chk.certified = ok
    return chk


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


# --------------------------------------------------------------------- exact 1-D piecewise-linear certificate
def _q(x) -> fmpq:
    """A float64 (or Fraction / int / fmpq) as an exact fmpq."""
    if isinstance(x, fmpq):
        return x
    n, d = Fraction(x).as_integer_ratio()
    return fmpq(n, d)


class ExactLine:
    """The pre-activations of a network restricted to the line x = base + t·e_axis, evaluated in exact rational
    arithmetic (python-flint fmpq; every stored float64 converts exactly)."""

    def __init__(self, net: FNN, output: int = 0, axis: int = 0, base=None, direction=None):
        if not 0 <= axis < net.d_in or not 0 <= output < net.d_out:
            raise ValueError("axis / output index out of range")
        self.net, self.output, self.axis = net, output, axis
        base = np.zeros(net.d_in) if base is None else np.asarray(base, dtype=np.float64).reshape(-1)
        if base.shape != (net.d_in,) or not np.all(np.isfinite(base)):
            raise ValueError(f"base must be a finite vector of length {net.d_in}")
        self.base = [_q(float(v)) for v in base]
        self.direction = None
        if direction is not None:
            dv = np.asarray(direction, dtype=np.float64).reshape(-1)
            if dv.shape != (net.d_in,) or not np.all(np.isfinite(dv)):
                raise ValueError(f"direction must be a finite vector of length {net.d_in}")
            self.direction = [_q(float(v)) for v in dv]
        self.maps = [([(int(r), int(c), _q(float(v))) for r, c, v in zip(*rcv) if v != 0],
                      [_q(float(bb)) for bb in b], shape[0]) for rcv, b, shape in net.affine_maps()]

    def pre_activations(self, t) -> list[list[fmpq]]:
        """[z_1, ..., z_L]: the pre-activation vectors of every layer at base + t e_axis (z_L = the output)."""
        if self.direction is None:
            h = list(self.base)
            h[self.axis] = _q(t)
        else:
            tq = _q(t)
            h = [b + tq * dv for b, dv in zip(self.base, self.direction)]
        zs = []
        for i, (w, b, _) in enumerate(self.maps):
            z = list(b)
            for r, c, v in w:
                if h[c]:
                    z[r] += v * h[c]
            zs.append(z)
            h = [x if x > 0 else fmpq(0) for x in z]
        return zs


def depends_only_on(net: FNN, output: int, axis: int) -> bool:
    """True when no path of nonzero weights joins an input other than ``axis`` to ``output``: then, in exact
    arithmetic, net(x)_output is a function of x_axis alone (a neuron unreachable from x_i does not depend on
    x_i).  A structural, exact test."""
    reach = np.zeros(net.d_in, dtype=bool)
    reach[[i for i in range(net.d_in) if i != axis]] = True
    for (r, c, v), _, shape in net.affine_maps():
        nz = v != 0
        nxt = np.zeros(shape[0], dtype=bool)
        nxt[r[nz][reach[c[nz]]]] = True
        reach = nxt
    return not bool(reach[output])


@dataclass
class ExactPLResult:
    """``certify_pl_exact``: ``sup`` is the EXACT sup of |f - g| over [lo, hi] (an fmpq) when ``proved``."""

    proved: bool
    sup: object  # fmpq, or None
    sup_upper: float  # a float >= sup (rounded up)
    argmax: float
    pieces: int  # affine pieces of the final partition
    refinements: int  # exact zero crossings inserted beyond the seed points
    seconds: float
    reason: str = ""
    signed_range: tuple | None = None  # (min, max) of f - g (fmpq), when piece_error returns (min, max) pairs


def certify_pl_exact(net: FNN, piece_error, lo: float, hi: float, seed_points=(), output: int = 0, axis: int = 0,
                     base=None, max_pieces: int = 20_000, direction=None) -> ExactPLResult:
    """Exact certificate of sup_{t ∈ [lo, hi]} |f(base + t e_axis)_output - g(t)| for a ReLU network, in rational
    arithmetic, on a partition seeded by ``seed_points`` (e.g. ``pl_breakpoints``, plus the target's own kinks).

    Lemma.  Let p < q and suppose every neuron's pre-activation z satisfies z(p) z(q) >= 0 (exact values),
    checked layer by layer.  By induction over the layers every pre-activation is affine on [p, q] (the ReLUs
    before it act as the identity or as 0 on the whole of [p, q], since an affine z with z(p), z(q) >= 0 is >= 0
    in between), so f is affine on [p, q] and equals the line through (p, f(p)), (q, f(q)).  If some neuron of
    layer k (the first such layer) has z(p) z(q) < 0, z is still affine on [p, q] and its exact zero
    t* = p + z(p)(q - p) / (z(p) - z(q)) is inserted; this repeats until every piece passes (or ``max_pieces``).
    ``piece_error(p, q, fp, fq)`` (fmpq arguments) returns the exact sup over [p, q] of |L - g| for the line L
    through (p, fp), (q, fq) (an fmpq; e.g. ``square_piece_error``), or the exact (min, max) of L - g there, and
    then the result also carries the exact signed range.  The seed only chooses where the pieces start: a wrong
    seed costs refinements, never soundness."""
    t0 = time.perf_counter()
    lo_q, hi_q = _q(lo), _q(hi)
    if not lo_q < hi_q:
        raise ValueError("need lo < hi")
    line = ExactLine(net, output, axis, base, direction)
    seeds = sorted({_q(float(s)) for s in np.asarray(seed_points, dtype=np.float64).reshape(-1)
                    if np.isfinite(s)} | {lo_q, hi_q})
    pts = [s for s in seeds if lo_q <= s <= hi_q]
    vals = {p: line.pre_activations(p) for p in pts}
    stack = list(zip(pts[:-1], pts[1:]))[::-1]
    best, arg, pieces, refine = fmpq(0), lo_q, 0, 0
    rng = None
    while stack:
        p, q = stack.pop()
        zp, zq = vals[p], vals[q]
        split = None
        for k in range(len(zp) - 1):
            for j, (a, b) in enumerate(zip(zp[k], zq[k])):
                if (a > 0 and b < 0) or (a < 0 and b > 0):
                    split = p + a * (q - p) / (a - b)
                    break
            if split is not None:
                break
        if split is None:
            fp, fq = zp[-1][output], zq[-1][output]
            err = piece_error(p, q, fp, fq)
            if isinstance(err, tuple):
                rng = err if rng is None else (min(rng[0], err[0]), max(rng[1], err[1]))
                err = max(abs(err[0]), abs(err[1]))
            pieces += 1
            if err > best:
                best, arg = err, p
            continue
        refine += 1
        if pieces + len(stack) + 2 > max_pieces:
            return ExactPLResult(False, None, float("inf"), float(arg), pieces, refine, time.perf_counter() - t0,
                                 f"more than {max_pieces} pieces needed")
        vals[split] = line.pre_activations(split)
        stack.append((split, q))
        stack.append((p, split))
    return ExactPLResult(True, best, _fmpq_float_up(best), float(_fmpq_float_up(arg)), pieces, refine, time.perf_counter() - t0,
                         "every piece of the partition is affine (exact sign check of every neuron at both ends)",
                         rng)


def _fmpq_float_up(x: fmpq) -> float:
    """A float >= x (x an fmpq): the nearest float, pushed up when below."""
    f = float(Fraction(int(x.p), int(x.q)))
    return f if _q(f) >= x else float(np.nextafter(f, np.inf))


def square_piece_error(p, q, fp, fq):
    """Exact sup over [p, q] of |L(t) - t^2| for the line L through (p, fp), (q, fq): L - t^2 is a concave
    parabola, so the sup of its absolute value is at an end or at the vertex t = slope/2 (if inside)."""
    s = (fq - fp) / (q - p)
    e = lambda t: fp + s * (t - p) - t * t  # noqa: E731
    cand = [abs(e(p)), abs(e(q))]
    v = s / 2
    if p < v < q:
        cand.append(abs(e(v)))
    return max(cand)


def clip_piece_error(a: float, b: float):
    """|L - clip(t; a, b)| on a piece [p, q] that does not contain a or b in its interior (``a``, ``b`` are
    seed points): both are affine there, so the sup is at an end (exact)."""
    aq, bq = _q(a), _q(b)

    def err(p, q, fp, fq):
        if p < aq < q or p < bq < q:
            raise ValueError("the kinks a, b of clip must be partition points")
        c = lambda t: aq if t < aq else bq if t > bq else t  # noqa: E731
        return max(abs(fp - c(p)), abs(fq - c(q)))
    return err
