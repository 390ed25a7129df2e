"""Two-stage certificate for networks whose last product level multiplies 1-D pieces (issue 6: the F.4 quotient
and ratio; docs/certification.md, method 10).

**Split at a hidden layer k** (exact, proven from the stored weights).  Group the units of layer k by their
columns in map k + 1: unit i joins group g when its column is λ_i times the column of the group's first unit
(exactly, λ_i a float64 so the stage-1 weights are exact).  Then, with h_k the ReLU outputs of layer k,

    y_g = Σ_{i∈g} λ_i h_{k,i},        S1 = maps 1..k+1, then h_k ↦ y    (R^d -> R^r),
    S2 = map k+2 with one column per group (the group's first column), then maps k+3..    (R^r -> R^out),

and net = S2 ∘ S1 as real functions (map k + 2 reads Σ_i W[:, i] h_i = Σ_g W[:, g] y_g; units whose column is
zero are not read at all).  For a product level (``lemmas.mult.level``) at its clip layer, the pairs
ρ(v + β_+), ρ(v + β_-) are read through their difference, so each group is one clipped input
y = clip(v; -β_+, -β_-) + β_+ ≈ clip(v; -1, 1) + 1, and r is the number of multiplied or carried values.

**Coordinates.**  A unit depends on input x_i only through a path of nonzero weights from x_i (structural, exact).
When every y_g depends on one coordinate, y_g(x) = y_g(x_{a(g)}) is a 1-D network (``restrict_1d``: the units
that feed the chosen outputs, the one input column), certified by the 1-D methods (exact piecewise-affine
certificate, or branch-and-bound).

**Composition.**  With enclosures y_g(x) ∈ [lo_g, hi_g] and stage-1 errors |y_g - τ_g(x)| <= δ_g, the stage-2 net
is certified on the box Π[lo_g, hi_g] against a polynomial G of degree <= 2 by the separable certificate
(``verify.certify.separable.certify_separable_poly``: exact), so |S2(y) - G(y)| <= E2 there, and for the target g

    |net(x) - g(x)| <= E2 + |G(y(x)) - G(τ(x))| + |G(τ(x)) - g(x)|,

the last two terms bounded by the claim from δ and the identity G(τ) = g (e.g. quotient: G = K(y_1 - 1)(y_2 - 1),
τ = (a/A + 1, b_min/b + 1)).  Nothing here trusts the builder: a net that does not split is reported as such.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from flint import arb, fmpq

from constructions.affine import Affine
from constructions.algebra import restrict
from constructions.fnn import FNN

from ..result import Check
from .bnb import certify_fnn
from .enclosures import enclose_taylor_cells
from .piecewise import certify_pl_exact, pl_breakpoints
from .rational import fmpq_float_up, to_fmpq


class NotSplittable(ValueError):
    """The network does not split at the requested layer (the reason says why)."""


@dataclass
class Split:
    layer: int  # hidden layer k (0-based: the output of map k)
    stage1: FNN  # x -> y (r outputs)
    stage2: FNN  # y -> net(x)
    groups: list  # per group: list of (unit, λ)
    deps: list  # per group: sorted tuple of the input coordinates y_g depends on
    ranges: list  # per group: (0, Δ) (fmpq) when y_g = ρ(z) - ρ(z - Δ) is a clip pair (proven), else None


def unit_dependencies(net: FNN) -> list[np.ndarray]:
    """Per hidden layer, a boolean (units x d_in) matrix: which inputs reach each unit by nonzero weights."""
    D = np.eye(net.d_in, dtype=bool)
    out = []
    for (r, c, v), _, shape in net.affine_maps()[:-1]:
        nz = v != 0
        N = np.zeros((shape[0], net.d_in), dtype=bool)
        np.logical_or.at(N, r[nz], D[c[nz]])
        out.append(N)
        D = N
    return out


def _columns(rcv, n_cols: int) -> list[dict]:
    cols = [dict() for _ in range(n_cols)]
    for r, c, v in zip(*rcv):
        if v != 0:
            cols[int(c)][int(r)] = float(v)
    return cols


def column_groups(maps, k: int) -> list[list]:
    """The units of hidden layer k grouped by their columns in map k + 1 (module docstring): a list of groups, each
    a list of (unit, λ) with the unit's column exactly λ times the group's first column (λ a float64)."""
    width = maps[k][2][0]
    cols = _columns(maps[k + 1][0], width)
    groups: list[list] = []
    reps: list[dict] = []
    by_rows: dict = {}
    for i, col in enumerate(cols):
        if not col:
            continue  # not read by map k + 2
        key = tuple(sorted(col))
        placed = False
        for g in by_rows.get(key, []):
            rep = reps[g]
            r0 = key[0]
            lam = to_fmpq(col[r0]) / to_fmpq(rep[r0])
            lam_f = float(lam.p) / float(lam.q)
            if to_fmpq(lam_f) == lam and all(to_fmpq(col[r]) == lam * to_fmpq(rep[r]) for r in key):
                groups[g].append((i, lam_f))
                placed = True
                break
        if not placed:
            by_rows.setdefault(key, []).append(len(groups))
            groups.append([(i, 1.0)])
            reps.append(col)
    return groups


def split(net: FNN, layer: int | None = None) -> Split:
    """Split ``net`` at hidden layer ``layer`` (default: the last hidden layer whose every unit depends on at most
    one input coordinate and that is not the last hidden layer), see the module docstring."""
    maps = net.affine_maps()
    n = len(maps)
    if n < 3:
        raise NotSplittable("a split needs at least two hidden layers")
    deps = unit_dependencies(net)
    if layer is None:
        cand = [k for k in range(n - 2) if np.all(deps[k].sum(axis=1) <= 1)]
        if not cand:
            raise NotSplittable("no hidden layer whose units each depend on one input coordinate")
        layer = cand[-1]
    k = int(layer)
    if not 0 <= k < n - 2:
        raise NotSplittable(f"layer must be in [0, {n - 3}], got {layer}")
    groups = column_groups(maps, k)
    width = maps[k][2][0]
    if not groups:
        raise NotSplittable(f"no unit of layer {k} is read by the next map")
    r = len(groups)
    s1 = [Affine.from_coo(*maps[i][0], maps[i][2], maps[i][1]) for i in range(k + 1)]
    rows = [g for g, grp in enumerate(groups) for _ in grp]
    ucol = [i for grp in groups for i, _ in grp]
    vals = [lam for grp in groups for _, lam in grp]
    s1.append(Affine.from_coo(rows, ucol, vals, (r, width), np.zeros(r)))
    (rr, cc, vv), b1, shape1 = maps[k + 1]
    rep_of = {grp[0][0]: g for g, grp in enumerate(groups)}
    keep = np.array([int(c) in rep_of for c in cc], dtype=bool)
    newc = np.array([rep_of[int(c)] for c in cc[keep]], dtype=np.int64)
    s2 = [Affine.from_coo(rr[keep], newc, vv[keep], (shape1[0], r), b1)]
    s2 += [Affine.from_coo(*maps[i][0], maps[i][2], maps[i][1]) for i in range(k + 2, n)]
    rws = row_dicts(maps[k])
    ranges = [_pair_range(maps[k], grp, rws) for grp in groups]
    gdeps = [tuple(int(j) for j in np.flatnonzero(np.any(deps[k][[i for i, _ in grp]], axis=0))) for grp in groups]
    return Split(k, FNN(s1), FNN(s2), groups, gdeps, ranges)


def row_dicts(mk) -> list[dict]:
    (r, c, v), _, shape = mk
    rows = [dict() for _ in range(shape[0])]
    for rr, cc, vv in zip(r.tolist(), c.tolist(), v.tolist()):
        if vv != 0:
            rows[rr][cc] = vv
    return rows


def pair_kind(mk, grp, rows=None):
    """How a group {(i, 1), (i', -1)} of units of map ``mk`` transfers its value (exact, from the weights):
    ("clip", Δ) when rows i, i' have the same weights and biases b_i - b_i' = Δ > 0: y = ρ(z) - ρ(z - Δ)
    = clip(z; 0, Δ) with z the pre-activation of unit i; ("ident", 0) when row i' = -row i and b_i' = -b_i:
    y = ρ(z) - ρ(-z) = z; None otherwise."""
    if len(grp) != 2 or sorted(lam for _, lam in grp) != [-1.0, 1.0]:
        return None
    rows = row_dicts(mk) if rows is None else rows
    b = mk[1]
    i = next(u for u, lam in grp if lam == 1.0)
    j = next(u for u, lam in grp if lam == -1.0)
    delta = to_fmpq(float(b[i])) - to_fmpq(float(b[j]))
    if rows[i] == rows[j] and delta > 0:
        return ("clip", delta)
    if rows[i] and rows[j] == {c: -v for c, v in rows[i].items()} and float(b[j]) == -float(b[i]):
        return ("ident", fmpq(0))
    return None


def _pair_range(mk, grp, rows=None):
    """(0, Δ) for a clip pair (``pair_kind``), else None."""
    kind = pair_kind(mk, grp, rows)
    return (fmpq(0), kind[1]) if kind is not None and kind[0] == "clip" else None


def restrict_1d(net: FNN, outputs, axis: int) -> FNN:
    """The 1-input network t ↦ net(x)[outputs] with x_axis = t (``constructions.algebra.restrict``: the units
    that feed ``outputs`` only); NotSplittable if one of them reads another input."""
    try:
        return restrict(net, outputs, [axis])
    except ValueError as exc:
        raise NotSplittable(str(exc)) from None


def pl_target_error(target, kinks):
    """piece_error for ``certify_pl_exact`` against a piecewise-affine target: ``target(t)`` (fmpq -> fmpq) affine
    between consecutive ``kinks`` (fmpq); on a piece [p, q] the error L - target is piecewise affine with breaks
    only at the kinks inside, so its exact (min, max) is over p, q and those kinks."""
    ks = sorted(to_fmpq(k) for k in kinks)

    def err(p, q, fp, fq):
        sl = (fq - fp) / (q - p)
        vals = [fp + sl * (t - p) - target(t) for t in [p, q] + [k for k in ks if p < k < q]]
        return min(vals), max(vals)
    return err


def clip_q(x: fmpq, lo: fmpq, hi: fmpq) -> fmpq:
    return lo if x < lo else hi if x > hi else x


# ------------------------------------------------------------------- stage-1 certificates and the verdict
CELLS = 256  # Taylor cells of a smooth stage-1 target per interval, at least (more when lo is small: see ``bnb_stage``)
BUDGET_PER_PIECE = 4  # branch-and-bound budget: this many boxes per seed piece (at least 20 000)


def arb_of(x: fmpq) -> arb:
    return arb(x.p) / arb(x.q)


def dyadic_out(lo: float, hi: float, bits: int = 30) -> tuple[float, float]:
    """[lo, hi] widened outward to multiples of 2^-bits, one more step on each side (so that box sides are exact
    floats and a float lo, hi rounded inward by the arithmetic that made them is still covered)."""
    s = 2.0 ** bits
    return float((np.floor(lo * s) - 1) / s), float((np.ceil(hi * s) + 1) / s)


def pl_stage(net1, target, kinks, lo: float, hi: float) -> dict:
    """Exact signed range of y(t) - target(t) on [lo, hi] for a 1-D stage-1 net (piecewise affine target)."""
    seeds = np.concatenate([pl_breakpoints(net1, lo, hi), [float(k) for k in kinks]])
    res = certify_pl_exact(net1, pl_target_error(target, kinks), lo, hi, seeds, max_pieces=200_000)
    if not res.proved:
        raise NotSplittable(f"stage-1 piecewise-affine certificate failed: {res.reason}")
    mn, mx = res.signed_range
    return {"min": mn, "max": mx, "delta": max(abs(mn), abs(mx)), "pieces": res.pieces, "seconds": res.seconds}


def bnb_stage(net1, series_fn, lo: float, hi: float, eps: float, smooth: bool) -> dict:
    """Sound bound of sup_{[lo, hi]} |y - g| for a 1-D stage-1 net by branch-and-bound seeded with its float64
    breakpoints; ``series_fn`` gives g as an arb_series (``enclose_taylor_cells``).  The bound is sound whether
    or not it reaches ``eps`` (a budget stop, or a sampled error above 2 eps, reports the best bound)."""
    seeds = pl_breakpoints(net1, lo, hi)
    # the targets here are c/x-like: their 4th-order Taylor remainder over a cell of half-width h near x is
    # ~ (h/x)^4, so the cells are made <= lo/32 wide (at most 16384 of them)
    cells = int(min(16384, max(CELLS, np.ceil(32 * (hi - lo) / lo)))) if smooth else 1
    enc, edges = enclose_taylor_cells(series_fn, lo, hi, cells=cells)
    seeds = np.concatenate([seeds, edges])
    res = certify_fnn(net1, enc, [lo], [hi], eps, budget=max(20_000, BUDGET_PER_PIECE * len(seeds)),
                      seed_points=seeds, stop_above=2 * eps)
    return {"bound": res.bound, "certified": res.certified, "boxes": res.boxes, "sampled": res.sampled_max,
            "seconds": res.seconds, "sound": res.bound_is_sound}


def box_ranges(sp, approx: list) -> tuple[list, list]:
    """The stage-2 box: per group the claimed range ``approx[g]`` = (lo, hi) intersected with the group's proven
    clip-pair range [0, Δ], widened outward to a dyadic grid."""
    lo, hi = [], []
    for g, (a, b) in enumerate(approx):
        rg = sp.ranges[g]
        if rg is not None:
            a, b = max(a, 0.0), min(b, float(rg[1]))  # y ∈ [0, Δ] always (exact), so this only shrinks soundly
        a, b = dyadic_out(a, b)
        if rg is not None:  # y ∈ [0, Δ] exactly: the box needs no more (a float >= Δ: the box covers [0, Δ])
            a = max(a, 0.0)
            b = min(b, fmpq_float_up(rg[1]))
        lo.append(a)
        hi.append(b)
    return lo, hi


def twostage_check(name: str, res: dict, eps: float) -> Check:
    """The Check of a two-stage certificate: PASS and ``certified`` when the composed bound is <= ε;
    INCONCLUSIVE with the bound (or the reason the net did not split) otherwise: a bound above ε is not a proof
    that the claim fails (the sampled checks decide that)."""
    det = {k: v for k, v in res.items() if k not in ("box",)}
    if res.get("certified"):
        chk = Check(name, True, res["bound"], eps, det)
        chk.certified = True
        return chk
    if res.get("proved"):
        det["reason"] = f"composed bound {res['bound']:.6g} > ε (a bound, not a proof of failure)"
        return Check(name, None, res["bound"], eps, det)
    det["reason"] = f"not certified: {res.get('reason')}"
    return Check(name, None, None, eps, det)
