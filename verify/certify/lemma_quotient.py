"""Certified sup-norm error of the 2-D Lemma F.4 networks (quotient and ratio form) by the two-stage certificate
of ``verify.certify.twostage`` (issue 6; docs/certification.md, method 10).  Targets are written here from their
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
"""

from __future__ import annotations

import time

import numpy as np
from flint import fmpq

from .rational import float_up, to_fmpq
from .separable import certify_separable_poly
from .twostage import NotSplittable, arb_of, bnb_stage, box_ranges, pl_stage, restrict_1d, split


def certify_quotient(net, A: float, b_min: float, b_max: float, eps: float) -> dict:
    """Two-stage certificate of sup |net(a, b) - a/b| over |a| <= A, b ∈ [b_min, b_max] (module docstring)."""
    t0 = time.perf_counter()
    out = {"method": "two-stage: split at the product level's clip layer (verify/certify/twostage.py), 1-D stage-1 "
                     "certificates, exact separable stage 2, composed in rational arithmetic"}
    try:
        sp = split(net)
        if len(sp.groups) != 2 or sp.deps != [(0,), (1,)]:
            raise NotSplittable(f"expected two clipped inputs reading a and b, got deps {sp.deps}")
        Aq, bq = to_fmpq(A), to_fmpq(b_min)
        K = Aq / bq
        na = restrict_1d(sp.stage1, [0], 0)
        sa = pl_stage(na, lambda t: t / Aq + 1, [], -A, A)
        d1 = sa["delta"]
        w = 2.0 ** np.ceil(np.log2(eps / A * b_min))  # a-priori width of y_2's box beyond its target range
        lo, hi = box_ranges(sp, [(-float_up(-sa["min"]), 2.0 + float_up(sa["max"])), (1.0 + b_min / b_max - w, 2.0 + w)])
        s2 = certify_separable_poly(sp.stage2, [[0, K / 2], [K / 2, 0]], [-K, -K], K, lo, hi)
        if not s2.proved:
            raise NotSplittable(f"stage 2 not separable: {s2.reason}")
        E2 = to_fmpq(s2.sup_upper)
        U2 = fmpq(1) + to_fmpq(w)
        need = (to_fmpq(eps) - E2) / K - d1 * U2
        if need <= 0:
            raise NotSplittable(f"stage 2 alone leaves no room: E2 = {s2.sup_upper:.6g}, ε = {eps:g}")
        nb = restrict_1d(sp.stage1, [1], 1)
        bmq = arb_of(bq)
        sb = bnb_stage(nb, lambda x: [bmq / x + 1], b_min, b_max, min(float(need), w) * (1 - 1e-9), True)
        d2 = to_fmpq(sb["bound"]) if sb["sound"] else None
        if d2 is None or d2 > to_fmpq(w):
            raise NotSplittable(f"stage-1 bound on b {sb['bound']:.3g} exceeds the box width {w:g}")
        bound = E2 + K * (d1 * U2 + d2)
        out.update(proved=True, bound=float_up(bound), certified=bool(bound <= to_fmpq(eps)), E2=s2.sup_upper,
                   delta_a=float_up(d1), delta_b=sb["bound"], K=float(K), stage2_terms=s2.terms,
                   stage1_a_pieces=sa["pieces"], stage1_b_boxes=sb["boxes"], stage1_b_sampled=sb["sampled"],
                   split_layer=sp.layer, box=[lo, hi])
    except NotSplittable as exc:
        out.update(proved=False, bound=float("inf"), certified=False, reason=str(exc))
    out["seconds"] = time.perf_counter() - t0
    return out
