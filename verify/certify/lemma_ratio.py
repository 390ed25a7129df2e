"""Certified sup-norm error of the Lemma F.4 ratio network (``lemmas/ratio.py``) by the two-stage certificate
of ``twostage.py`` (docs/certification.md, method 10).

Ratio (b ∈ [b_min, b_max], |a| <= C b, target a/b).  With the break points t_0 = b_min < ... < t_P = b_max,
r_j = t_{j+1}/t_j, α_j = a/(C t_{j+1}) (j < P), α_P = a/(C t_P), β_j = h_j(b)/(1 - 1/r_j) ∈ [0, 1],
h_j = t_j / clip(b; t_j, t_{j+1}) - 1/r_j, the identity (``lemmas.ratio``)
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
from flint import fmpq

from .rational import float_up, to_fmpq
from .separable import certify_separable_poly
from .twostage import NotSplittable, arb_of, bnb_stage, box_ranges, clip_q, pl_stage, restrict_1d, split


def certify_ratio(net, C: float, b_min: float, b_max: float, eps: float, break_points, off_tol: float = 1.0) -> dict:
    """Two-stage certificate of sup |net(a, b) - a/b| over the wedge b ∈ [b_min, b_max], |a| <= C b (module
    docstring); ``break_points`` t_0 = b_min < ... < t_P >= b_max.  ``off_tol``: the branch-and-bound of β̂_j off its
    own piece stops at off_tol · w_j (1: at the box width, as before; smaller: a tighter bound of the off-piece
    errors, which sum over the pieces in every cell, for more boxes: Lemma 3.3's 12-piece ratio net needs it)."""
    t0 = time.perf_counter()
    out = {"method": "two-stage per cell of b: split at the ψ level's clip layer (verify/certify/twostage.py), exact "
                     "1-D certificates for the α_j, branch-and-bound per cell for the β_j, exact separable "
                     "stage 2, composed in rational arithmetic"}
    try:
        t = [to_fmpq(float(x)) for x in break_points]
        P = len(t) - 1
        if P < 1 or t[0] != to_fmpq(b_min) or t[-1] < to_fmpq(b_max) or any(t[j + 1] <= t[j] for j in range(P)):
            raise NotSplittable("break points must run from b_min to at least b_max, increasing")
        Bq = to_fmpq(b_max)
        cells = [k for k in range(P) if t[k] < Bq]  # cell k: b ∈ [t_k, min(t_{k+1}, b_max)]
        top = [min(t[k + 1], Bq) for k in range(P)]
        sp = split(net)
        if len(sp.groups) != 2 * P + 1 or sp.deps != [(0,), (1,)] * P + [(0,)]:
            raise NotSplittable(f"expected 2P + 1 = {2 * P + 1} clipped inputs alternating a, b, got deps {sp.deps}")
        Cq = to_fmpq(C)
        r = [t[j + 1] / t[j] for j in range(P)]
        g_alpha = [2 * j for j in range(P)] + [2 * P]
        g_beta = [2 * j + 1 for j in range(P)]
        amax = float_up(Cq * Bq)  # |a| <= C b_max on the wedge
        # α side: exact
        da, apieces = [], 0
        for j in range(P + 1):
            s = Cq * (t[j + 1] if j < P else t[P])
            tgt = (lambda s_: (lambda x: clip_q(x / s_, fmpq(-1), fmpq(1)) + 1))(s)
            res = pl_stage(restrict_1d(sp.stage1, [g_alpha[j]], 0), tgt, [-s, s], -amax, amax)
            da.append(res["delta"])
            apieces += res["pieces"]
        # stage 2 on the box: y_α ∈ [0, 2], y_β_j ∈ [1 - w_j, 2 + w_j] (each within its proven clip range); β̂_j's
        # error enters multiplied by C (r_j - 1), so its a-priori room is w_j = 2^⌈log2(ε / (C (r_j - 1)))⌉ (<= 1)
        wj = [min(1.0, 2.0 ** np.ceil(np.log2(eps / (C * float(r[j] - 1))))) for j in range(P)]
        approx = []
        for g in range(2 * P + 1):
            approx.append((0.0, 2.0) if g in g_alpha else (1.0 - wj[(g - 1) // 2], 2.0 + wj[(g - 1) // 2]))
        lo, hi = box_ranges(sp, approx)
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
        E2 = to_fmpq(s2.sup_upper)
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
                sb = bnb_stage(nets_b[j], (lambda c_: (lambda x: [x * 0 + arb_of(c_)]))(const), float(lo_r),
                                float(hi_r), wj[j] * off_tol, False)
                boxes += sb["boxes"]
                for k in ks:
                    db[j][k] = sb
        for k in cells:
            Ak = [min(fmpq(1), top[k] / t[j + 1]) for j in range(P)]
            rest = Cq * da[P]
            for j in range(P):
                Uj = 1 + to_fmpq(wj[j])
                rest += Cq * (r[j] - 1) * da[j] * Uj
                if j != k:
                    rest += Cq * (r[j] - 1) * Ak[j] * to_fmpq(db[j][k]["bound"])
            need = (to_fmpq(eps) - E2 - rest) / (Cq * (r[k] - 1) * Ak[k])
            if need <= 0:
                raise NotSplittable(f"cell {k}: no room left for the smooth piece (rest {float(rest):.3g})")
            tk, tk1 = arb_of(t[k]), arb_of(t[k + 1])
            ser = (lambda tk_, tk1_: (lambda x: [tk_ * (tk1_ - x) / (x * (tk1_ - tk_)) + 1]))(tk, tk1)
            sb = bnb_stage(nets_b[k], ser, float(t[k]), float(top[k]), min(float(need), wj[k]) * (1 - 1e-9), True)
            boxes += sb["boxes"]
            db[k][k] = sb
            for j in range(P):
                if not db[j][k]["sound"] or to_fmpq(db[j][k]["bound"]) > to_fmpq(wj[j]):
                    raise NotSplittable(f"β_{j} on cell {k}: bound {db[j][k]['bound']:.3g} exceeds the box width "
                                        f"{wj[j]:g}")
            total = E2 + rest + Cq * (r[k] - 1) * Ak[k] * to_fmpq(sb["bound"])
            cell_info.append({"cell": k, "bound": float_up(total), "smooth_delta": sb["bound"], "smooth_boxes": sb["boxes"],
                              "smooth_sampled": sb["sampled"]})
        bound = max(to_fmpq(ci["bound"]) for ci in cell_info)
        out.update(proved=True, bound=float_up(bound), certified=bool(bound <= to_fmpq(eps)), E2=s2.sup_upper,
                   delta_alpha_max=float_up(max(da)), cells=cell_info, stage1_alpha_pieces=apieces,
                   stage1_beta_boxes=boxes, split_layer=sp.layer, P=P)
    except NotSplittable as exc:
        out.update(proved=False, bound=float("inf"), certified=False, reason=str(exc))
    out["seconds"] = time.perf_counter() - t0
    return out
