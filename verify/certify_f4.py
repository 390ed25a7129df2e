"""Certified sup-norm error of the 2-D Lemma F.4 networks (quotient and ratio form) by the two-stage certificate
of ``verify.twostage`` (issue 6; docs/certification.md, method 10).  Targets are written here from their
definitions (a/b and its telescoped form); nothing is read from the builder except the network and, for the
ratio, the break points t_j it claims to use (wrong break points make the certificate fail, never pass).

Quotient (|a| <= A, b ∈ [b_min, b_max], target a/b).  The net splits at the last product level's clip layer into
y_1(a) ≈ a/A + 1, y_2(b) ≈ b_min/b + 1 (each a clip pair: y ∈ [0, Δ] exactly) and S2 ≈ G(y) = K (y_1 - 1)(y_2 - 1),
K = A / b_min.  With u = y - 1, α = a/A ∈ [-1, 1], β = b_min/b ∈ (0, 1], |u_1 - α| <= δ_1, |u_2 - β| <= δ_2,
|u_2| <= U_2:
    |net - a/b| <= |S2(y) - G(y)| + K |u_1 u_2 - α β| <= E2 + K (δ_1 U_2 + δ_2)        (|α| <= 1).
δ_1: exact piecewise-affine certificate (``certify_pl_exact``; the carried a is piecewise affine, target affine);
δ_2: branch-and-bound on [b_min, b_max] seeded with the float64 breakpoints (``certify_fnn``, target enclosed by
``enclose_taylor_cells``); E2: the exact separable certificate of S2 on the box of the y ranges.

Ratio (b ∈ [b_min, b_max], |a| <= C b, target a/b).  With the break points t_0 = b_min < ... < t_P = b_max,
r_j = t_{j+1}/t_j, α_j = a/(C t_{j+1}) (j < P), α_P = a/(C t_P), β_j = h_j(b)/(1 - 1/r_j) ∈ [0, 1],
h_j = t_j / clip(b; t_j, t_{j+1}) - 1/r_j, the identity (``lemmas.quotient.RATIO_DOC``)
    a/b = C α_P + Σ_j C (r_j - 1) clip(α_j; -1, 1) β_j       on the wedge
holds for ANY such t_j (exact telescoping).  The net splits into y_{α_j}(a) ≈ clip(α_j) + 1, y_{β_j}(b) ≈ β_j + 1
and S2 ≈ G(y) = C (y_{α_P} - 1) + Σ_j C (r_j - 1)(y_{α_j} - 1)(y_{β_j} - 1).  For b in the cell I_k = [t_k, t_{k+1}]
(so |a| <= C t_{k+1} and |clip(α_j)| <= A_j(k) = min(1, t_{k+1}/t_{j+1}); the last piece may end beyond b_max
(``lemmas.rec.pieces`` widens a single short piece), and the cells are cut at b_max):
    |net - a/b| <= E2 + C δα_P + Σ_j C (r_j - 1) [δα_j U_j(k) + A_j(k) δβ_j(k)],
δα_j = sup_a |y_{α_j} - 1 - clip(α_j)| (exact, over |a| <= C b_max), δβ_j(k) = sup_{I_k} |y_{β_j} - 1 - β_j|
(branch-and-bound per cell: β_j is constant 0 or 1 off its own cell), U_j(k) >= |y_{β_j} - 1| on I_k.  The box
of y_{β_j} is [1 - w_j, 2 + w_j], w_j = 2^⌈log2(ε / (C (r_j - 1)))⌉ capped at 1 (β̂_j's error enters multiplied by
C (r_j - 1): a piece of ratio 1.0001 may err by 2.5e-5 in β_j and still contribute 1e-9), and every δβ_j must fit it.  The bound
is the max over the cells k.  This is the proof of ``RATIO_DOC`` with every per-piece number certified.
"""

from __future__ import annotations

import time

import numpy as np
from flint import arb, fmpq

from .certify import (_fmpq_float_up, _q, certify_fnn, certify_pl_exact, enclose_taylor_cells, pl_breakpoints)
from .result import Check
from .separable import certify_separable_poly
from .twostage import NotSplittable, clip_q, pl_target_error, restrict_1d, split

CELLS = 256  # Taylor cells of a smooth stage-1 target per interval, at least (more when lo is small: see _cells)
BUDGET_PER_PIECE = 4  # branch-and-bound budget: this many boxes per seed piece (at least 20 000)


def _aq(x: fmpq) -> arb:
    return arb(x.p) / arb(x.q)


def _up(x) -> float:
    return _fmpq_float_up(_q(x))


def _dyadic_out(lo: float, hi: float, bits: int = 30) -> tuple[float, float]:
    """[lo, hi] widened outward to multiples of 2^-bits, one more step on each side (so that box sides are exact
    floats and a float lo, hi rounded inward by the arithmetic that made them is still covered)."""
    s = 2.0 ** bits
    return float((np.floor(lo * s) - 1) / s), float((np.ceil(hi * s) + 1) / s)


def _pl_stage(net1, target, kinks, lo: float, hi: float) -> dict:
    """Exact signed range of y(t) - target(t) on [lo, hi] for a 1-D stage-1 net (piecewise affine target)."""
    seeds = np.concatenate([pl_breakpoints(net1, lo, hi), [float(k) for k in kinks]])
    res = certify_pl_exact(net1, pl_target_error(target, kinks), lo, hi, seeds, max_pieces=200_000)
    if not res.proved:
        raise NotSplittable(f"stage-1 piecewise-affine certificate failed: {res.reason}")
    mn, mx = res.signed_range
    return {"min": mn, "max": mx, "delta": max(abs(mn), abs(mx)), "pieces": res.pieces, "seconds": res.seconds}


def _bnb_stage(net1, series_fn, lo: float, hi: float, eps: float, smooth: bool) -> dict:
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


def _box_ranges(sp, approx: list) -> tuple[list, list]:
    """The stage-2 box: per group the claimed range ``approx[g]`` = (lo, hi) intersected with the group's proven
    clip-pair range [0, Δ], widened outward to a dyadic grid."""
    lo, hi = [], []
    for g, (a, b) in enumerate(approx):
        rg = sp.ranges[g]
        if rg is not None:
            a, b = max(a, 0.0), min(b, float(rg[1]))  # y ∈ [0, Δ] always (exact), so this only shrinks soundly
        a, b = _dyadic_out(a, b)
        if rg is not None:  # y ∈ [0, Δ] exactly: the box needs no more (a float >= Δ: the box covers [0, Δ])
            a = max(a, 0.0)
            b = min(b, _fmpq_float_up(rg[1]))
        lo.append(a)
        hi.append(b)
    return lo, hi


def certify_quotient(net, A: float, b_min: float, b_max: float, eps: float) -> dict:
    """Two-stage certificate of sup |net(a, b) - a/b| over |a| <= A, b ∈ [b_min, b_max] (module docstring)."""
    t0 = time.perf_counter()
    out = {"method": "two-stage: split at the product level's clip layer (verify/twostage.py), 1-D stage-1 "
                     "certificates, exact separable stage 2, composed in rational arithmetic"}
    try:
        sp = split(net)
        if len(sp.groups) != 2 or sp.deps != [(0,), (1,)]:
            raise NotSplittable(f"expected two clipped inputs reading a and b, got deps {sp.deps}")
        Aq, bq = _q(A), _q(b_min)
        K = Aq / bq
        na = restrict_1d(sp.stage1, [0], 0)
        sa = _pl_stage(na, lambda t: t / Aq + 1, [], -A, A)
        d1 = sa["delta"]
        w = 2.0 ** np.ceil(np.log2(eps / A * b_min))  # a-priori width of y_2's box beyond its target range
        lo, hi = _box_ranges(sp, [(-_up(-sa["min"]), 2.0 + _up(sa["max"])), (1.0 + b_min / b_max - w, 2.0 + w)])
        s2 = certify_separable_poly(sp.stage2, [[0, K / 2], [K / 2, 0]], [-K, -K], K, lo, hi)
        if not s2.proved:
            raise NotSplittable(f"stage 2 not separable: {s2.reason}")
        E2 = _q(s2.sup_upper)
        U2 = fmpq(1) + _q(w)
        need = (_q(eps) - E2) / K - d1 * U2
        if need <= 0:
            raise NotSplittable(f"stage 2 alone leaves no room: E2 = {s2.sup_upper:.6g}, ε = {eps:g}")
        nb = restrict_1d(sp.stage1, [1], 1)
        bmq = _aq(bq)
        sb = _bnb_stage(nb, lambda x: [bmq / x + 1], b_min, b_max, min(float(need), w) * (1 - 1e-9), True)
        d2 = _q(sb["bound"]) if sb["sound"] else None
        if d2 is None or d2 > _q(w):
            raise NotSplittable(f"stage-1 bound on b {sb['bound']:.3g} exceeds the box width {w:g}")
        bound = E2 + K * (d1 * U2 + d2)
        out.update(proved=True, bound=_up(bound), certified=bool(bound <= _q(eps)), E2=s2.sup_upper,
                   delta_a=_up(d1), delta_b=sb["bound"], K=float(K), stage2_terms=s2.terms,
                   stage1_a_pieces=sa["pieces"], stage1_b_boxes=sb["boxes"], stage1_b_sampled=sb["sampled"],
                   split_layer=sp.layer, box=[lo, hi])
    except NotSplittable as exc:
        out.update(proved=False, bound=float("inf"), certified=False, reason=str(exc))
    out["seconds"] = time.perf_counter() - t0
    return out


def certify_ratio(net, C: float, b_min: float, b_max: float, eps: float, break_points) -> dict:
    """Two-stage certificate of sup |net(a, b) - a/b| over the wedge b ∈ [b_min, b_max], |a| <= C b (module
    docstring); ``break_points`` t_0 = b_min < ... < t_P >= b_max."""
    t0 = time.perf_counter()
    out = {"method": "two-stage per cell of b: split at the ψ level's clip layer (verify/twostage.py), exact "
                     "1-D certificates for the α_j, branch-and-bound per cell for the β_j, exact separable "
                     "stage 2, composed in rational arithmetic"}
    try:
        t = [_q(float(x)) for x in break_points]
        P = len(t) - 1
        if P < 1 or t[0] != _q(b_min) or t[-1] < _q(b_max) or any(t[j + 1] <= t[j] for j in range(P)):
            raise NotSplittable("break points must run from b_min to at least b_max, increasing")
        Bq = _q(b_max)
        cells = [k for k in range(P) if t[k] < Bq]  # cell k: b ∈ [t_k, min(t_{k+1}, b_max)]
        top = [min(t[k + 1], Bq) for k in range(P)]
        sp = split(net)
        if len(sp.groups) != 2 * P + 1 or sp.deps != [(0,), (1,)] * P + [(0,)]:
            raise NotSplittable(f"expected 2P + 1 = {2 * P + 1} clipped inputs alternating a, b, got deps {sp.deps}")
        Cq = _q(C)
        r = [t[j + 1] / t[j] for j in range(P)]
        g_alpha = [2 * j for j in range(P)] + [2 * P]
        g_beta = [2 * j + 1 for j in range(P)]
        amax = _up(Cq * Bq)  # |a| <= C b_max on the wedge
        # α side: exact
        da, apieces = [], 0
        for j in range(P + 1):
            s = Cq * (t[j + 1] if j < P else t[P])
            tgt = (lambda s_: (lambda x: clip_q(x / s_, fmpq(-1), fmpq(1)) + 1))(s)
            res = _pl_stage(restrict_1d(sp.stage1, [g_alpha[j]], 0), tgt, [-s, s], -amax, amax)
            da.append(res["delta"])
            apieces += res["pieces"]
        # stage 2 on the box: y_α ∈ [0, 2], y_β_j ∈ [1 - w_j, 2 + w_j] (each within its proven clip range); β̂_j's
        # error enters multiplied by C (r_j - 1), so its a-priori room is w_j = 2^⌈log2(ε / (C (r_j - 1)))⌉ (<= 1)
        wj = [min(1.0, 2.0 ** np.ceil(np.log2(eps / (C * float(r[j] - 1))))) for j in range(P)]
        approx = []
        for g in range(2 * P + 1):
            approx.append((0.0, 2.0) if g in g_alpha else (1.0 - wj[(g - 1) // 2], 2.0 + wj[(g - 1) // 2]))
        lo, hi = _box_ranges(sp, approx)
        n = 2 * P + 1
        Q = [[fmpq(0)] * n for _ in range(n)]
        q = [fmpq(0)] * n
        q0 = fmpq(0)
        for j in range(P):
            cj = Cq * (r[j] - 1)
            a_, b_ = g_alpha[j], g_beta[j]
            Q[a_][b_] = Q[b_][a_] = cj / 2
            q[a_] -= cj
            q[b_] -= cj
            q0 += cj
        q[g_alpha[P]] += Cq
        q0 -= Cq
        s2 = certify_separable_poly(sp.stage2, Q, q, q0, lo, hi)
        if not s2.proved:
            raise NotSplittable(f"stage 2 not separable: {s2.reason}")
        E2 = _q(s2.sup_upper)
        # β side: off its own piece β_j is constant (0 above it, 1 below it) and so is the net's β̂_j, so one
        # branch-and-bound per region [b_min, t_j] and [t_{j+1}, b_max] gives every constant cell's bound
        nets_b = [restrict_1d(sp.stage1, [g_beta[j]], 1) for j in range(P)]
        db = [[None] * P for _ in range(P)]  # db[j][k]: bound of |y_β_j - 1 - β_j| on cell k
        boxes, cell_info = 0, []
        for j in range(P):
            below = [k for k in cells if k < j]
            above = [k for k in cells if k > j]
            for ks, const, lo_r, hi_r in ((below, fmpq(2), t[0], t[j]), (above, fmpq(1), t[j + 1], Bq)):
                if not ks:
                    continue
                sb = _bnb_stage(nets_b[j], (lambda c_: (lambda x: [x * 0 + _aq(c_)]))(const), float(lo_r),
                                float(hi_r), wj[j], False)
                boxes += sb["boxes"]
                for k in ks:
                    db[j][k] = sb
        for k in cells:
            Ak = [min(fmpq(1), top[k] / t[j + 1]) for j in range(P)]
            rest = Cq * da[P]
            for j in range(P):
                Uj = 1 + _q(wj[j])
                rest += Cq * (r[j] - 1) * da[j] * Uj
                if j != k:
                    rest += Cq * (r[j] - 1) * Ak[j] * _q(db[j][k]["bound"])
            need = (_q(eps) - E2 - rest) / (Cq * (r[k] - 1) * Ak[k])
            if need <= 0:
                raise NotSplittable(f"cell {k}: no room left for the smooth piece (rest {float(rest):.3g})")
            tk, tk1 = _aq(t[k]), _aq(t[k + 1])
            ser = (lambda tk_, tk1_: (lambda x: [tk_ * (tk1_ - x) / (x * (tk1_ - tk_)) + 1]))(tk, tk1)
            sb = _bnb_stage(nets_b[k], ser, float(t[k]), float(top[k]), min(float(need), wj[k]) * (1 - 1e-9), True)
            boxes += sb["boxes"]
            db[k][k] = sb
            for j in range(P):
                if not db[j][k]["sound"] or _q(db[j][k]["bound"]) > _q(wj[j]):
                    raise NotSplittable(f"β_{j} on cell {k}: bound {db[j][k]['bound']:.3g} exceeds the box width "
                                        f"{wj[j]:g}")
            total = E2 + rest + Cq * (r[k] - 1) * Ak[k] * _q(sb["bound"])
            cell_info.append({"cell": k, "bound": _up(total), "smooth_delta": sb["bound"], "smooth_boxes": sb["boxes"],
                              "smooth_sampled": sb["sampled"]})
        bound = max(_q(ci["bound"]) for ci in cell_info)
        out.update(proved=True, bound=_up(bound), certified=bool(bound <= _q(eps)), E2=s2.sup_upper,
                   delta_alpha_max=_up(max(da)), cells=cell_info, stage1_alpha_pieces=apieces,
                   stage1_beta_boxes=boxes, split_layer=sp.layer, P=P)
    except NotSplittable as exc:
        out.update(proved=False, bound=float("inf"), certified=False, reason=str(exc))
    out["seconds"] = time.perf_counter() - t0
    return out


def f4_check(name: str, res: dict, eps: float) -> Check:
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
