"""Certified error of a product tree, level by level (issue 6: the F.6 network's factors; docs/certification.md,
method 11).

A *cut* is a hidden layer whose units all come in pairs read through their difference (``twostage.pair_kind``):
a clip pair gives y = clip(z; 0, Δ), an identity pair (depth padding) y = z, with z the pre-activation of the
pair's first unit.  Between two cuts every pair value is a function of at most two values of the previous cut
(structural), so a product tree is a cascade of small stages.  Each value carries an offset o (1 after a clip,
0 after an identity: u = y - o is the quantity) and the invariant

    |u - τ| <= δ,   |τ| <= 1,       τ the exact product of the leaves below (the target),

and one stage is certified on the box of its inputs (clip pairs: [0, Δ] exactly; identity pairs: τ ± δ) against
G(y) = (y_a - o_a)(y_b - o_b) + o' (a product) or y_a - o_a + o' (a carried value): exactly, by the separable
certificate (two inputs) or the piecewise-affine certificate (one input), giving E with |z - G(y)| <= E.  Then

    product:  |u' - τ_a τ_b| <= E + |u_a u_b - τ_a τ_b| + c <= E + δ_a U_b + δ_b + c,
    carry:    |u' - τ_a| <= E + δ_a + c,

where U_b >= |u_b| on the box (1 after a clip pair with Δ = 2; the clipped value cannot grow), c = max(0, 2 - Δ) covers a clip range [0, Δ] that does not contain all of [o' - 1, o' + 1] (clip is
1-Lipschitz and fixes the targets inside its range; for Δ >= 2, c = 0).  The last stage (no cut after it)
ends in the output row, certified against the scale G_α times the product (or the carried value).  This is the
tree proof of ``lemmas.mult`` with every block's error certified from the weights instead of assumed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from flint import fmpq

from constructions.affine import Affine
from constructions.algebra import drop_copies
from constructions.fnn import FNN

from . import sawtooth
from .piecewise import certify_pl_exact, pl_breakpoints
from .rational import fmpq_float_up, to_fmpq
from .separable import certify_separable_poly, quadratic_piece_error
from .twostage import NotSplittable, column_groups, dyadic_out, pair_kind, pl_target_error, row_dicts


@dataclass
class Value:
    """A value entering a stage: y = mul·u + off, |u - τ| <= delta, |τ| <= 1, and y in [lo, hi] (mul = C for a raw
    input x ∈ [-C, C] whose leaf is τ = x/C; 1 after a pair)."""

    delta: fmpq
    off: int
    lo: float
    hi: float
    mul: fmpq = fmpq(1)
    mono: tuple = ()  # the exponents of the leaves in τ (bookkeeping: which product the cascade certified)


def needed_inputs(net: FNN, output: int = 0) -> list[int]:
    """The inputs joined to ``output`` by paths of nonzero weights (structural)."""
    need = np.zeros(net.d_out, dtype=bool)
    need[output] = True
    for (r, c, v), _, shape in net.affine_maps()[::-1]:
        prev = np.zeros(shape[1], dtype=bool)
        nz = (v != 0) & need[r]
        prev[c[nz]] = True
        need = prev
    return [int(i) for i in np.flatnonzero(need)]


def cut_kinds(net: FNN, k: int, maps=None):
    """The groups of hidden layer k with their pair kinds when every group is a clip or identity pair, else None.
    ``maps``: ``net.affine_maps()`` when the caller has it (a scan over the layers reads it once)."""
    maps = net.affine_maps() if maps is None else maps
    if not _may_pair(maps, k):
        return None
    groups = column_groups(maps, k)
    if not groups:
        return None
    rows = row_dicts(maps[k])
    kinds = [pair_kind(maps[k], g, rows) for g in groups]
    return None if any(kd is None for kd in kinds) else (groups, kinds)


def _may_pair(maps, k: int) -> bool:
    """A cheap necessary condition for cut_kinds (vectorised): the columns of map k + 1 that are read pair up as
    col, -col, so their random projections σ_c = Σ_r w_r A[r, c] (exact negatives: same rows in the same order)
    form a set symmetric under negation."""
    (r, c, v), _, shape = maps[k + 1]
    nz = v != 0
    w = np.random.default_rng(12345).uniform(1.0, 2.0, shape[0])
    sig = np.bincount(c[nz], weights=v[nz] * w[r[nz]], minlength=shape[1])
    read = np.bincount(c[nz], minlength=shape[1]) > 0
    s = np.sort(sig[read])
    return s.size % 2 == 0 and bool(np.array_equal(s, -s[::-1]))


def pre_row(net: FNN, k: int, row: int, maps=None) -> FNN:
    """The pre-activation of unit ``row`` of hidden layer k as a network of the inputs (``maps`` as in
    ``cut_kinds``)."""
    maps = net.affine_maps() if maps is None else maps
    (r, c, v), b, shape = maps[k]
    keep = r == row
    last = Affine.from_coo(np.zeros(int(keep.sum()), dtype=np.int64), c[keep], v[keep], (1, shape[1]), b[[row]])
    return FNN(list(net.layers[:k]) + [last])  # the stored maps below layer k, shared



_CACHE: dict = {}
MAX_PIECEWISE_DEPTH = 22  # a stage deeper than this that is not a sawtooth level is refused (~2^22 pieces, the
# breakpoint limit of verify/certify/piecewise.py), not enumerated


def _signature(f, ins: list[Value], scale: fmpq, off_out: fmpq) -> tuple:
    """The cache key of a stage: its maps (an FNN, or a list in ``affine_maps`` form), boxes and target."""
    parts = []
    for (r, c, v), b, shape in (f.affine_maps() if isinstance(f, FNN) else f):
        parts.append((shape, r.tobytes(), c.tobytes(), v.tobytes(), np.asarray(b, dtype=np.float64).tobytes()))
    return (tuple(parts), tuple((v.off, v.lo, v.hi, str(v.mul)) for v in ins), str(scale), str(off_out))


def csr_maps(maps) -> list:
    """Per map of an ``affine_maps`` list: (row pointers, columns, values, biases, shape) with the nonzero entries
    sorted by row (Python lists), for ``stage_maps``."""
    out = []
    for (r, c, v), b, shape in maps:
        nz = v != 0
        r, c, v = r[nz], c[nz], v[nz]
        order = np.argsort(r, kind="stable")
        r, c, v = r[order], c[order], v[order]
        ptr = np.searchsorted(r, np.arange(shape[0] + 1)).tolist()
        out.append((ptr, c.tolist(), v.tolist(), np.asarray(b, dtype=np.float64), shape))
    return out


def stage_maps(csr, k: int, row: int) -> tuple[list[int], list]:
    """(inputs, maps) of the pre-activation of unit ``row`` of map k (``csr`` = ``csr_maps(net.affine_maps())``):
    the maps 0..k restricted to the units that feed it (paths of nonzero weights) and re-indexed, reading only
    ``inputs`` (in order): the same function as ``restrict(pre_row(net, k, row), [0], needed_inputs(...))``, built
    from the row lists in time proportional to the stage, not to the layers' widths."""
    keeps = [[row]]
    for i in range(k, -1, -1):
        ptr, cols, _, _, _ = csr[i]
        need = set()
        for r in keeps[-1]:
            need.update(cols[ptr[r]:ptr[r + 1]])
        keeps.append(sorted(need))
    keeps = keeps[::-1]  # keeps[0]: the inputs; keeps[i + 1]: the kept rows of map i
    ins = keeps[0]
    out = []
    for i in range(k + 1):
        ptr, cols, vals, b, _ = csr[i]
        below = {u: j for j, u in enumerate(keeps[i])}
        rows = keeps[i + 1]
        rr, cc, vv = [], [], []
        for a, r in enumerate(rows):
            for e in range(ptr[r], ptr[r + 1]):
                rr.append(a)
                cc.append(below[cols[e]])
                vv.append(vals[e])
        out.append(((np.array(rr, dtype=np.int64), np.array(cc, dtype=np.int64), np.array(vv, dtype=np.float64)),
                     b[rows] if rows else np.zeros(1), (max(1, len(rows)), max(1, len(keeps[i])))))
    return [int(i) for i in ins], out


def _fnn_of(sub) -> FNN:
    return FNN([Affine.from_coo(r, c, v, shape, b) for (r, c, v), b, shape in sub])


def stage_error(f, ins: list[Value], scale: fmpq, off_out: fmpq, square: bool = False) -> tuple[fmpq, dict]:
    """Exact bound E of sup |f(y) - G(y)| over the box of the inputs (f an FNN or its ``affine_maps`` list), G = scale · Π_i (y_i - off_i)/mul_i + off_out for
    one or two inputs (module docstring).  Identical stages (same stored weights, boxes and target), e.g. the equal
    product blocks of many trees, are certified once (a cache keyed by the exact weights)."""
    key = _signature(f, ins, scale, off_out) + (square,)
    if key not in _CACHE:
        if len(_CACHE) > 4096:
            _CACHE.clear()
        _CACHE[key] = _stage_error(f if isinstance(f, FNN) else _fnn_of(f), ins, scale, off_out, square)
    return _CACHE[key]


def _stage_error(f: FNN, ins: list[Value], scale: fmpq, off_out: fmpq, square: bool) -> tuple[fmpq, dict]:
    if len(ins) == 2:
        a, b = ins
        k = scale / (a.mul * b.mul)
        Q = [[fmpq(0), k / 2], [k / 2, fmpq(0)]]
        q = [-k * b.off, -k * a.off]
        q0 = k * a.off * b.off + off_out
        res = certify_separable_poly(f, Q, q, q0, [a.lo, b.lo], [a.hi, b.hi])
        if not res.proved:
            raise NotSplittable(f"a product stage is not separable: {res.reason}")
        return to_fmpq(res.sup_upper), {"pieces": sum(t["pieces"] for t in res.terms)}
    if len(ins) == 1:
        a = ins[0]
        if a.hi <= a.lo:
            raise NotSplittable("an empty input box")
        if square:  # a value times itself: G = scale ((y - o)/mul)^2 + off_out, a parabola on each piece
            k = scale / (a.mul * a.mul)
            sq = quadratic_piece_error(fmpq(0), fmpq(1), k, -2 * k * a.off)
            const = k * a.off * a.off + off_out
            err = lambda p, q, fp, fq: sq(p, q, fp - const, fq - const)  # noqa: E731
        else:
            err = pl_target_error(lambda y: scale * (y - a.off) / a.mul + off_out, [])
        res = certify_pl_exact(f, err, a.lo, a.hi, pl_breakpoints(f, a.lo, a.hi), max_pieces=200_000)
        if not res.proved:
            raise NotSplittable(f"a carried stage is not certified: {res.reason}")
        return res.sup, {"pieces": res.pieces}
    raise NotSplittable(f"a stage reads {len(ins)} values (a product tree reads 1 or 2)")


def _propagate(ins: list[Value], square: bool = False) -> fmpq:
    """|u_a u_b - τ_a τ_b| <= δ_a U_b + δ_b (|τ_a| <= 1, U_b >= |u_b| from the box; b = a for a square) or δ_a
    for one carried value."""
    if len(ins) == 2 or square:
        a, b = (ins[0], ins[0]) if square else ins
        U_b = max(abs(to_fmpq(b.lo) - b.off), abs(to_fmpq(b.hi) - b.off)) / abs(b.mul)
        return a.delta * U_b + b.delta
    return ins[0].delta


def _mono(ins: list[Value], square: bool) -> tuple:
    if not all(v.mono for v in ins):
        return ()
    if square:
        return tuple(2 * e for e in ins[0].mono)
    return tuple(sum(es) for es in zip(*(v.mono for v in ins)))


def stage_target(ins: list[Value], scale: fmpq, off_out: fmpq, square: bool) -> dict:
    """G(y) = scale · Π_i (y_i - off_i)/mul_i + off_out (or scale ((y - off)/mul)^2 + off_out for a square) as
    {monomial: coefficient} over the stage inputs (``sawtooth.stage_error``'s form)."""
    if len(ins) == 2:
        a, b = ins
        k = scale / (a.mul * b.mul)
        return {(0, 1): k, (0,): -k * b.off, (1,): -k * a.off, (): k * a.off * b.off + off_out}
    a = ins[0]
    if square:
        k = scale / (a.mul * a.mul)
        return {(0, 0): k, (0,): -2 * k * a.off, (): k * a.off * a.off + off_out}
    k = scale / a.mul
    return {(0,): k, (): -k * a.off + off_out}


def sawtooth_stage(f, ins, scale, off_out):
    """(E, detail, square) by the O(m) sawtooth-chain certificate (``verify.certify.sawtooth``) when the stage (an
    FNN or its ``affine_maps`` list) is a sawtooth level (a product of its two values, or the square of its one
    value), else None.  Cached like ``stage_error``."""
    if len(ins) not in (1, 2):
        return None
    key = _signature(f, ins, scale, off_out) + ("sawtooth",)
    if key not in _CACHE:
        if len(_CACHE) > 4096:
            _CACHE.clear()
        try:
            lo = [to_fmpq(v.lo) for v in ins]
            hi = [to_fmpq(v.hi) for v in ins]
            layers = sawtooth.exact_layers(f) if isinstance(f, FNN) else sawtooth.coo_layers(f)
            kind = {}

            def target(form):  # channels: a product (two values) or a square (one); none: a carried value
                kind["square"] = len(ins) == 1 and bool(form.uw)
                if len(ins) == 2 and not form.uw:
                    return None
                return stage_target(ins, scale, off_out, kind["square"])
            E, det = sawtooth.stage_error(layers, lo, hi, target)
            _CACHE[key] = (E, det, kind["square"])
        except sawtooth.NotSawtooth:
            _CACHE[key] = None
    return _CACHE[key]


def _best_stage(f, ins, scale, off_out, max_depth: int | None = None):
    """The stage certificate (``f`` an FNN or its ``affine_maps`` list): a sawtooth level is certified in O(m)
    (``sawtooth_stage``: its value is f_m of affine forms, so the target must be a product or a square); otherwise a
    stage reading one value is either that value carried or its square (a product of a value with itself): both
    targets are certified when the carry does not fit (E > |scale|/64) and the smaller error is kept (each is a
    sound statement about its own target; ``mono`` records which)."""
    sw = sawtooth_stage(f, ins, scale, off_out)
    if sw is not None:
        return sw
    depth = f.depth if isinstance(f, FNN) else len(f)
    if depth - 1 > (MAX_PIECEWISE_DEPTH if max_depth is None else max_depth):
        raise NotSplittable(f"a stage of {depth - 1} hidden layers that is not a sawtooth level (its pattern is broken) "
                            f"is beyond the piecewise certificates (~2^{depth - 1} pieces)")
    E, det = stage_error(f, ins, scale, off_out)
    if len(ins) == 1 and E > abs(scale) / 64:
        E2, det2 = stage_error(f, ins, scale, off_out, square=True)
        if E2 < E:
            return E2, det2, True
    return E, det, False


def certify_cascade(net: FNN, leaves: list[Value], scale: fmpq) -> dict:
    """δ with |net(y(x)) - scale · Π τ_leaves| <= δ for a one-output product tree on the leaf values (module
    docstring); raises NotSplittable where the net is not such a tree.  Copy layers (depth padding) are dropped
    first (``constructions.algebra.drop_copies``: the same function)."""
    return certify_cascade_multi(net, leaves, [scale])[0]


def certify_cascade_multi(net: FNN, leaves: list[Value], scales: list, max_piecewise_depth: int | None = None
                          ) -> list[dict]:
    """``certify_cascade`` for every output of a net whose product levels are aligned (a cut is a layer of pairs
    across all outputs, e.g. a net built level by level with carried values): every pair value is certified once
    and shared by the outputs that read it; ``scales[j]`` is output j's scale.  ``max_piecewise_depth``: stages
    that are not sawtooth levels and are deeper than this are refused, not enumerated (default
    ``MAX_PIECEWISE_DEPTH``)."""
    if len(scales) != net.d_out:
        raise ValueError(f"{len(scales)} scales for {net.d_out} outputs")
    cur, info, levels, pieces = drop_copies(net), list(leaves), 0, 0
    while True:
        L = cur.depth
        cmaps = cur.affine_maps()
        cut = next((k for k in range(L - 1) if cut_kinds(cur, k, cmaps) is not None), None)
        if cut is None:
            out = []
            csr = csr_maps(cmaps)
            for j, scale in enumerate(scales):
                ins, f = stage_maps(csr, L - 1, j)
                if not ins:
                    raise NotSplittable(f"output {j} is a constant, not a product of the leaves")
                E, det, sq = _best_stage(f, [info[i] for i in ins], scale, fmpq(0), max_piecewise_depth)
                delta = E + scale * _propagate([info[i] for i in ins], sq)
                out.append({"delta": delta, "levels": levels, "pieces": pieces + det["pieces"],
                            "last_stage_error": E, "mono": _mono([info[i] for i in ins], sq)})
            return out
        groups, kinds = cut_kinds(cur, cut, cmaps)
        csr = csr_maps(cmaps[:cut + 1])
        new = []
        for grp, kind in zip(groups, kinds):
            i = next(u for u, lam in grp if lam == 1.0)
            ins, f = stage_maps(csr, cut, i)
            off = 1 if kind[0] == "clip" else 0
            E, det, sq = _best_stage(f, [info[j] for j in ins], fmpq(1), fmpq(off), max_piecewise_depth)
            pieces += det["pieces"]
            delta = E + _propagate([info[j] for j in ins], sq)
            mono = _mono([info[j] for j in ins], sq)
            if kind[0] == "clip":
                delta += max(fmpq(0), 2 - kind[1])
                lo, hi = 0.0, fmpq_float_up(kind[1])
            else:
                w = float(fmpq_float_up(1 + delta))
                lo, hi = dyadic_out(-w, w)
            new.append(Value(delta, off, lo, hi, fmpq(1), mono))
        # the rest of the net, reading the new values (one column per group, as in twostage.split)
        maps = cmaps
        (rr, cc, vv), b1, shape1 = maps[cut + 1]
        rep_of = {grp[0][0]: g for g, grp in enumerate(groups)}
        keep = np.array([int(c) in rep_of for c in cc], dtype=bool)
        newc = np.array([rep_of[int(c)] for c in cc[keep]], dtype=np.int64)
        rest = [Affine.from_coo(rr[keep], newc, vv[keep], (shape1[0], len(groups)), b1)]
        rest += [Affine.from_coo(*m[0], m[2], m[1]) for m in maps[cut + 2:]]
        cur, info, levels = FNN(rest), new, levels + 1
