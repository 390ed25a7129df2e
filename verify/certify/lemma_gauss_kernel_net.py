"""Certified per-factor errors of the F.5/F.6 feature network in d >= 2 (issue 6; docs/certification.md, method
11): sup over [-R, R]^d of |φ̂_α(x) - φ_α(x)| <= δ_α for every α, φ_α(x) = c_α e^{-‖x‖²} x^α with the stored
coefficients c_α of the expansion (the target's definition), for the exact-arithmetic net on the stored weights.

Route (every split proven exact from the weights, ``verify.certify.twostage``; nothing read from the builder but the
network, R and the expansion's (α, c_α)):
1. Leaf cut: the last hidden layer whose units are all clip pairs (the product nets' leaf clips).  Each leaf is
   y = clip(z; 0, Δ) with z the pre-activation of its first unit, a network of x:
   * reading one coordinate x_i: certified exactly (``certify_pl_exact``) against x_i/R + 1;
   * reading all of x (the exponential leaf): split again where the units stop depending on one coordinate
     each; there the single group y_s = Σ λ_i h_i is a separable function of x, certified exactly
     against a ‖x‖² + b (a, b fitted in float64 and rounded: any choice is sound) by the separable certificate
     (E_s); the rest is a 1-D network of y_s, certified by branch-and-bound against e^{-(y - b)/a} + 1 on the box
     a [0, d R²] + b ± E_s (δ_B); so |z - (e^{-‖x‖²} + 1)| <= δ_B + e^{E_s/|a|} E_s/|a| (e^{-t} is e^{t_0}-Lipschitz
     on [-t_0, ∞)).
   Equal leaves (same stored row) are certified once.
2. Per output α: the sub-network from the leaves to output α (``constructions.algebra.restrict``) must read one
   exponential leaf and α_i leaves of x_i (structural: the leaf multiset is checked), and is certified by the
   product-tree cascade (``verify.certify.cascade``) with scale c_α R^{|α|}: |φ̂_α - c_α R^{|α|} e^{-‖x‖²} Π(x_i/R)^{α_i}|
   <= δ_α.
"""

from __future__ import annotations

import time

import numpy as np
from flint import arb, fmpq

from constructions.algebra import restrict

from .bnb import certify_fnn
from .cascade import Value, certify_cascade, cut_kinds, needed_inputs, pre_row
from .enclosures import enclose_taylor_cells
from .piecewise import certify_pl_exact, pl_breakpoints
from .rational import fmpq_float_up, to_fmpq
from .separable import certify_separable_poly, round24
from .twostage import NotSplittable, pl_target_error, row_dicts, split


def arb_of(x: fmpq) -> arb:
    return arb(x.p) / arb(x.q)


def leaf_cut(net) -> int:
    """The last hidden layer whose units are all clip pairs (searched from the output)."""
    maps = net.affine_maps()
    for k in range(net.depth - 3, -1, -1):
        ck = cut_kinds(net, k, maps)
        if ck is not None and all(kd[0] == "clip" for kd in ck[1]):
            return k
    raise NotSplittable("no hidden layer made of clip pairs only")


def _x_leaf(z, axis: int, R: float) -> dict:
    f = restrict(z, [0], [axis])
    Rq = to_fmpq(R)
    res = certify_pl_exact(f, pl_target_error(lambda t: t / Rq + 1, []), -R, R, pl_breakpoints(f, -R, R),
                           max_pieces=200_000)
    if not res.proved:
        raise NotSplittable(f"an x leaf is not certified: {res.reason}")
    return {"delta": res.sup, "pieces": res.pieces}


class BeyondBudget(NotSplittable):
    """The certificate would exceed its work budget (boxes x nonzeros); nothing is proven either way."""


WORK_MAX = 2e9  # boxes x nonzeros of the exponential stage's branch-and-bound (as CERT_WORK_MAX for 1-D claims)


def _exp_leaf(z, d: int, R: float, eps_b: float) -> dict:
    sp = split(z)
    gs = [g for g, dep in enumerate(sp.deps) if len(dep) == d]
    if len(gs) != 1 or any(len(dep) not in (0, d) for dep in sp.deps):
        raise NotSplittable(f"the exponential leaf does not split into one group of all of x (deps {sp.deps})")
    g = gs[0]
    s1 = restrict(sp.stage1, [g], list(range(d)))
    # fit y_s ≈ a ‖x‖² + b (float64, rounded: affects tightness only)
    rng = np.random.default_rng(0)
    X = rng.uniform(-R, R, (4000, d))
    A = np.stack([np.sum(X * X, 1), np.ones(len(X))], 1)
    a_f, b_f = np.linalg.lstsq(A, s1(X)[:, 0], rcond=None)[0]
    a, b = round24(float(a_f)), round24(float(b_f))
    if a == 0:
        raise NotSplittable("the exponential leaf's input does not vary with ‖x‖²")
    Q = [[a if i == j else fmpq(0) for j in range(d)] for i in range(d)]
    resA = certify_separable_poly(s1, Q, None, b, [-R] * d, [R] * d)
    if not resA.proved:
        raise NotSplittable(f"the squares stage is not separable: {resA.reason}")
    Es = to_fmpq(resA.sup_upper)
    rest = restrict(sp.stage2, [0], [g])
    ends = [a * 0 + b, a * (d * to_fmpq(R) ** 2) + b]
    lo = float(min(ends) - Es) - 2.0 ** -30
    hi = float(max(ends) + Es) + 2.0 ** -30
    s = 2.0 ** 30
    lo, hi = float(np.floor(lo * s) / s), float(np.ceil(hi * s) / s)
    aa, bb = arb_of(a), arb_of(b)
    enc, edges = enclose_taylor_cells(lambda y: [(-(y - bb) / aa).exp() + 1], lo, hi, cells=1024)
    S = max(1, rest.counts().S)
    try:
        bp = pl_breakpoints(rest, lo, hi, max_points=int(min(4_000_000, WORK_MAX / (4 * S))))
    except ValueError:
        raise BeyondBudget(f"the exponential stage has more than {WORK_MAX / (4 * S):.3g} pieces "
                           f"(work budget {WORK_MAX:g} boxes x nonzeros)") from None
    seeds = np.union1d(bp, edges)
    res = certify_fnn(rest, enc, [lo], [hi], eps_b, budget=max(200_000, 4 * len(seeds)), seed_points=seeds,
                      stop_above=2 * eps_b)
    if not res.bound_is_sound:
        raise NotSplittable("the exponential stage has no sound bound")
    t0 = Es / abs(a)
    lip = float(arb(float(fmpq_float_up(t0))).exp().upper())
    delta = to_fmpq(res.bound) + to_fmpq(lip) * t0
    return {"delta": delta, "E_squares": resA.sup_upper, "a": float(a), "b": float(b), "exp_stage_bound": res.bound,
            "exp_stage_boxes": res.boxes, "exp_stage_sampled": res.sampled_max, "exp_stage_certified": res.certified}


def certify_kernel_factors(net, R: float, alphas, coef, eps_exp: float) -> dict:
    """Per-factor bounds δ_α (module docstring) for a feature net on [-R, R]^d; ``alphas`` (T x d) and ``coef`` (T)
    define the targets φ_α; ``eps_exp`` is the accuracy asked of the exponential stage's branch-and-bound."""
    t0 = time.perf_counter()
    alphas = np.asarray(alphas, dtype=np.int64)
    T, d = alphas.shape
    out = {"method": "leaf cut + exact 1-D / separable leaves + branch-and-bound exponential stage + product-tree "
                     "cascade per output (verify/certify/lemma_gauss_kernel_net.py, verify/certify/cascade.py)"}
    try:
        if net.d_in != d or net.d_out != T:
            raise NotSplittable(f"the net maps R^{net.d_in} -> R^{net.d_out}, expected R^{d} -> R^{T}")
        k = leaf_cut(net)
        sp = split(net, k)
        maps = net.affine_maps()
        rows = row_dicts(maps[k])
        cache, values, kinds = {}, [], []
        for g, grp in enumerate(sp.groups):
            i = next(u for u, lam in grp if lam == 1.0)
            sig = (tuple(sorted(rows[i].items())), float(maps[k][1][i]))
            dep = sp.deps[g]
            if sig not in cache:
                z = pre_row(net, k, i, maps)
                if len(dep) == 1:
                    cache[sig] = ("x", dep[0], _x_leaf(z, dep[0], R))
                elif len(dep) == d:
                    cache[sig] = ("e", None, _exp_leaf(restrict(z, [0], list(range(d))), d, R, eps_exp))
                else:
                    raise NotSplittable(f"a leaf reads the coordinates {dep}")
            kind, axis, info = cache[sig]
            delta = info["delta"] + max(fmpq(0), 2 - sp.ranges[g][1])
            values.append(Value(delta, 1, 0.0, fmpq_float_up(sp.ranges[g][1])))
            kinds.append((kind, axis))
        deltas, levels = [], []
        Rq = to_fmpq(R)
        for j in range(T):
            ins = needed_inputs(sp.stage2, j)
            have = [kinds[g] for g in ins]
            want = [("e", None)] + [("x", i) for i in range(d) for _ in range(int(alphas[j, i]))]
            if sorted(have, key=str) != sorted(want, key=str):
                raise NotSplittable(f"output {j} (α = {alphas[j].tolist()}) reads the leaves {have}")
            tree = restrict(sp.stage2, [j], ins)
            scale = to_fmpq(float(coef[j])) * Rq ** int(alphas[j].sum())
            res = certify_cascade(tree, [values[g] for g in ins], scale)
            deltas.append(res["delta"])
            levels.append(res["levels"])
        leaves = {("exp" if kd == "e" else f"x_{ax}"): float(fmpq_float_up(inf["delta"]))
                  for kd, ax, inf in cache.values()}
        exp_info = next(inf for kd, _, inf in cache.values() if kd == "e")
        out.update(proved=True, deltas=[fmpq_float_up(x) for x in deltas], deltas_q=deltas, leaf_cut=k,
                   leaf_deltas=leaves, exp_leaf={kk: v for kk, v in exp_info.items() if kk != "delta"},
                   tree_levels=levels)
    except NotSplittable as exc:
        out.update(proved=False, reason=str(exc), beyond_budget=isinstance(exc, BeyondBudget))
    out["seconds"] = time.perf_counter() - t0
    return out
