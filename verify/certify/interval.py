"""Sound bounds of an emitted ReLU network over many input boxes at once (issue 6).

What is bounded.  The *exact-arithmetic* network on the stored float64 weights (the stored weights are the
weights): for every box [lo_i, hi_i] of the batch and every output j, ``propagate`` returns floats
lb[i, j] <= min_{x in box} f_j(x) and ub[i, j] >= max_{x in box} f_j(x), although every operation runs in
float64 numpy.

Method: affine forms with an error radius (symbolic intervals, a zonotope whose new noise symbols are folded
into one radius).  On box i with centre m and half-width r every neuron z is kept as

    z(x) ∈ a · (x - m) + c + [-e, e]        for all x in the box       (a ∈ R^d, c ∈ R, e >= 0),

so a neuron that is affine on the box (all ReLUs before it stable) is represented *exactly*: the dependency
problem of plain interval arithmetic (each sawtooth level multiplies the width by 4 instead of 2) disappears
once boxes are small enough that the ReLUs are stable.  Its range is c ± (|a|·r + e).

  affine map    a' = W a, c' = W c + b, e' by the relational rule below (+ the rounding slack);
  ReLU, stable  lb >= 0: unchanged; ub <= 0: 0;
  ReLU, unstable (lb < 0 < ub): for any λ ∈ [0, 1], λ z <= ρ(z) <= λ z + μ on [lb, ub] with
                μ = max(-λ lb, (1 - λ) ub); we take λ = ub / (ub - lb) and keep ρ(z) ∈ λ z + μ/2 ± μ/2, i.e.
                a' = λ a, c' = λ c + μ/2, e' = λ e + μ/2.  The inequality holds for the *computed* λ, so
                rounding in λ costs tightness, never soundness.

Relational errors.  The exact error of row k of a map, ζ_k = z_k(x) - (a_k·(x - m) + c_k), is kept as
ζ_k = s_k ξ_G + η_k, |ξ_G| <= E_G, |η_k| <= F_k: rows equal up to sign s_k (bias ignored) form a group G, and the
error they inherit from the layer below, Σ_i R_{G,i} ε_i (R_G the group's representative row, ε_i the errors of
the units below), is one and the same signed number ξ_G for all of them; η_k is the rounding of row k.  A unit
with ReLU slope D_i (1 stable active, 0 dead, λ relaxed) passes on ε_i = D_i s_i ξ_{g(i)} + η'_i with
η'_i = D_i η_i (+ μ/2 and the relaxation's rounding when relaxed).  Hence for the next map

    E_G' = Σ_g |Σ_{i ∈ g} R_{G',i} D_i s_i| E_g + Σ_i |R_{G',i}| F'_i,

with the inner sums formed exactly as sparse products per box (their float error bounded by γ Σ|.|).  Two units
of one sawtooth tooth (rows ρ(z), ρ(z - 1/2): one group) then enter the next tooth as |2 - 4| = 2, the tooth's
slope, where e' = |W| e would give 2 + 4 = 6 per level (a factor 3^L over L levels).  One row per group gives
back e' = |W| e.

Outward rounding.  Every float64 result x̂ of a sum of n products satisfies |x̂ - x| <= γ_n Σ|terms| with
γ_n = n u / (1 - n u), u = 2^-53, whatever the summation order or FMA use of the BLAS (Higham 2002, §3.1).
After each affine map and each ReLU relaxation we add to e the slack

    s = 1.01 · γ_{n+2} · (|W| (|c| + |a|·r + e) + |b|) + n · 2^-1022,      n = max nonzeros of a row of W,

which covers the rounding of c', of a'·r (an error δa in a coefficient moves the value by at most |δa|·r) and
of e' itself (the factor 1.01 covers the rounding of s; the last term covers underflow).  Sums that must be
upper bounds (e', the radius |a|·r + e) are followed by ``round_up`` (>= ``np.nextafter(·, +inf)``), and lb/ub by one ulp outward
more.  Inputs: the box ends are floats, the centre m is any float in the box and the half-width
r = nextafter(max(fl(hi - m), fl(m - lo)), +inf), so [m - r, m + r] contains the box exactly.  Nothing here relies on the rounding mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from constructions.affine import Affine
from constructions.fnn import FNN

U64 = 2.0 ** -53
U52 = 2.0 ** -52
TINY = 2.0 ** -1022
SUB_CHUNK = 4096  # boxes per pass of ``IntervalNet.propagate``


def _gamma(n: int) -> float:
    nu = (n + 2) * U64
    return 1.01 * nu / (1.0 - nu)


def round_up(x):
    """A float >= nextafter(x, +inf) for every finite x (inf and NaN pass through).  x + |x| 2^-52 exceeds x by
    at least the float spacing above x (which is at most |x| 2^-52), and rounding to nearest never goes below
    a float that the exact sum exceeds; TINY covers zero and subnormals.  Three vector ops instead of the
    (unvectorised, ~10x slower) np.nextafter."""
    return x + (np.abs(x) * U52 + TINY)


def round_down(x):
    """A float <= nextafter(x, -inf) (mirror of ``round_up``)."""
    return x - (np.abs(x) * U52 + TINY)


def box_centre(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The float centre m = lo + (hi - lo)/2 used for the affine forms (clipped into the box); target
    enclosures with a slope (verify/certify/) expand around the same m."""
    return np.clip(lo + 0.5 * (hi - lo), lo, hi)


def _ru(x: np.ndarray) -> np.ndarray:
    """``round_up`` in place (the same operations in the same order: the same floats, no temporaries)."""
    t = np.abs(x)
    t *= U52
    t += TINY
    x += t
    return x


def _ru_pos(x: np.ndarray) -> np.ndarray:
    """In place, for x >= 0: x (1 + 2^-52) + TINY >= nextafter(x, +inf).  The exact x + x 2^-52 is at least x plus
    the float spacing above x (a float), so the rounded product is >= nextafter(x) for normal x, and + TINY covers
    zero and subnormals (two operations instead of ``round_up``'s four; at most one ulp larger)."""
    x *= 1 + U52
    x += TINY
    return x


def _rd(x: np.ndarray) -> np.ndarray:
    """``round_down`` in place."""
    t = np.abs(x)
    t *= U52
    t += TINY
    x -= t
    return x


class _MatOp:
    """X -> A X for a sparse map given by coordinates, as scipy CSR (one C loop over the stored entries, single
    threaded: a dense BLAS product of these small matrices spins its thread pool when called in-process).  The
    rounding bound of the module docstring (|x̂ - x| <= γ_n Σ|terms|, any order) counts the nonzero terms of a
    row, as for ``Affine.apply_T``."""

    __slots__ = ("A",)

    def __init__(self, r, c, v, shape):
        r, c, v = np.asarray(r, dtype=np.int64), np.asarray(c, dtype=np.int64), np.asarray(v, dtype=np.float64)
        keep = v != 0
        self.A = sp.csr_matrix((v[keep], (r[keep], c[keep])), shape=shape)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.A @ X)


def input_forms(lo: np.ndarray, hi: np.ndarray) -> tuple:
    """The forms of the network inputs on the boxes: centre m, half-width r (n, d); neuron-major a (d, n, d),
    c (d, n), e (d, n) with x_j = m_j + 1·(x_j - m_j); and r.T (d, n)."""
    nb, d = lo.shape
    m = box_centre(lo, hi)
    # fl(t) < nextafter(fl(t), +inf) and t <= that for any real t: r >= hi - m and r >= m - lo exactly
    r = round_up(np.maximum(hi - m, m - lo))
    a = np.zeros((d, nb, d))
    a[np.arange(d), :, np.arange(d)] = 1.0
    return m, r, a, np.ascontiguousarray(m.T), np.zeros((d, nb)), np.ascontiguousarray(r.T)


@dataclass
class _Layer:
    """One map's data; the Affine fields are built only for ``propagate_reference`` (``IntervalNet._affine``),
    ``coords`` holds their coordinates (rows, cols, vals, shape) under the same names."""

    W: Affine | None  # A without bias
    Wabs: Affine | None  # |A| without bias
    b: np.ndarray
    babs: np.ndarray
    n: int  # max nonzeros in a row (the length of the longest dot product)
    row_group: np.ndarray  # group of each row (rows equal up to sign share one)
    row_sign: np.ndarray  # row k = row_sign[k] * representative of its group
    Rabs: Affine | None  # |representative rows|: (groups, d_in)
    M: Affine | None = None  # (pairs, d_in): entries R_{G,i} s_i of the pair (G, group of input i)
    Mabs: Affine | None = None
    Q: Affine | None = None  # (groups, pairs): 1 where the pair belongs to G
    pair_src: np.ndarray | None = None  # the previous layer's group of each pair
    nM: int = 1
    nQ: int = 1
    nR: int = 1
    coords: dict | None = None


def row_groups(r, c, v, d_out):
    """Group the rows of a sparse map that are equal up to sign (bias ignored): (group, sign, rep rows)."""
    keys, group, sign = {}, np.zeros(d_out, dtype=np.int64), np.ones(d_out)
    order = np.argsort(r, kind="stable")
    r, c, v = r[order], c[order], v[order]
    starts = np.searchsorted(r, np.arange(d_out + 1))
    reps = []
    for k in range(d_out):
        cc, vv = c[starts[k]:starts[k + 1]], v[starts[k]:starts[k + 1]]
        s = -1.0 if vv.size and vv[0] < 0 else 1.0
        key = (cc.tobytes(), (s * vv).tobytes())
        if key not in keys:
            keys[key] = len(reps)
            reps.append((cc, s * vv))
        group[k], sign[k] = keys[key], s
    return group, sign, reps


class IntervalNet:
    """A network prepared for bound propagation (the sparse maps split once into A and |A|)."""

    def __init__(self, net: FNN):
        if not isinstance(net, FNN):
            raise TypeError(f"IntervalNet needs an FNN, got {type(net).__name__}")
        self.net = net
        self.layers = []
        prev = None  # (group, sign) of the previous layer's rows
        for (r, c, v), b, shape in net.affine_maps():
            keep = v != 0
            r, c, v = r[keep], c[keep], v[keep]
            n = int(np.bincount(r, minlength=shape[0]).max()) if r.size else 0
            group, sign, reps = row_groups(r, c, v, shape[0])
            G = len(reps)
            rr = np.concatenate([np.full(len(cc), g) for g, (cc, _) in enumerate(reps)]).astype(np.int64)
            rc = np.concatenate([cc for cc, _ in reps]).astype(np.int64)
            rv = np.concatenate([vv for _, vv in reps])
            lay = _Layer(None, None, np.asarray(b, dtype=np.float64), np.abs(b), n + 1, group, sign, None)
            lay.coords = {"W": (r, c, v, shape), "Wabs": (r, c, np.abs(v), shape),
                          "Rabs": (rr, rc, np.abs(rv), (G, shape[1]))}
            lay.nR = int(np.bincount(rr, minlength=G).max()) + 1 if rr.size else 1
            if prev is not None and rr.size:  # (a map with no weights has no propagated part)
                pg, ps = prev
                pairs = {}
                mr, mc, mv = [], [], []
                for Gi, (cc, vv) in enumerate(reps):
                    for i, w in zip(cc, vv):
                        p = pairs.setdefault((Gi, int(pg[i])), len(pairs))
                        mr.append(p)
                        mc.append(int(i))
                        mv.append(w * ps[i])
                P = len(pairs)
                pk = np.array(list(pairs.keys()), dtype=np.int64).reshape(-1, 2)
                mr, mc, mv = np.array(mr, dtype=np.int64), np.array(mc, dtype=np.int64), np.array(mv, float)
                lay.coords.update(M=(mr, mc, mv, (P, shape[1])), Mabs=(mr, mc, np.abs(mv), (P, shape[1])),
                                  Q=(pk[:, 0], np.arange(P), np.ones(P), (G, P)))
                lay.pair_src = pk[:, 1]
                lay.nM = int(np.bincount(mr, minlength=max(P, 1)).max()) + 1 if mr.size else 1
                lay.nQ = int(np.bincount(pk[:, 0], minlength=G).max()) + 1 if P else 1
            prev = (group, sign)
            self.layers.append(lay)
        self._fast = None

    @property
    def d_in(self) -> int:
        return self.net.d_in

    def _ops(self):
        """The products of every layer as ``_MatOp`` (built on first use from the coordinates): W, |W|, |R|,
        [M; |M|] (one product), Q."""
        if self._fast is None:
            ops = []
            for lay in self.layers:
                cd = lay.coords
                MM = Q = None
                if "M" in cd:
                    (mr, mc, mv, (P, k)), (_, _, ma, _) = cd["M"], cd["Mabs"]
                    MM = _MatOp(np.concatenate([mr, mr + P]), np.concatenate([mc, mc]), np.concatenate([mv, ma]),
                                (2 * P, k))
                    Q = _MatOp(*cd["Q"])
                ops.append((_MatOp(*cd["W"]), _MatOp(*cd["Wabs"]), _MatOp(*cd["Rabs"]), MM, Q))
            self._fast = ops
        return self._fast

    def _affine(self):
        """The Affine maps of every layer for ``propagate_reference`` (built on first use from the coordinates)."""
        for lay in self.layers:
            if lay.W is None:
                cd = lay.coords
                lay.W, lay.Wabs, lay.Rabs = (Affine.from_coo(*cd[k][:3], cd[k][3]) for k in ("W", "Wabs", "Rabs"))
                if "M" in cd:
                    lay.M, lay.Mabs, lay.Q = (Affine.from_coo(*cd[k][:3], cd[k][3]) for k in ("M", "Mabs", "Q"))

    def boxes(self, lo, hi) -> tuple[np.ndarray, np.ndarray]:
        """The boxes as float64 arrays (n, d_in), checked: matching shapes, finite ends, lo <= hi."""
        lo = np.asarray(lo, dtype=np.float64)
        hi = np.asarray(hi, dtype=np.float64)
        if lo.ndim != 2 or lo.shape != hi.shape or lo.shape[1] != self.d_in:
            raise ValueError(f"boxes must be arrays of shape (n, {self.d_in}), got {lo.shape} and {hi.shape}")
        if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
            raise ValueError("box ends contain NaN or inf")
        if np.any(lo > hi):
            raise ValueError("every box needs lo <= hi")
        return lo, hi

    def propagate(self, lo, hi, return_forms: bool = False, layer_bounds: list | None = None):
        """Sound bounds (lb, ub), each (n_boxes, d_out), of the exact-arithmetic network over the boxes
        [lo_i, hi_i] (arrays (n_boxes, d_in), lo <= hi).  With ``return_forms`` also (a, c, e, m, r) of the
        outputs: a (n, d_out, d_in), c and e (n, d_out), centre m and half-width r (n, d_in).

        The rules of the module docstring, evaluated as in ``propagate_reference`` with three changes of cost
        only: the products by ``_MatOp`` (dense or CSR, M and |M| in one product), the outward roundings in place,
        and the ReLU relaxation computed on the unstable units only (gathered by index; the stable and dead
        units are the identity and 0 as before), which on a breakpoint-seeded partition are a few per box."""
        if layer_bounds is not None:  # the per-layer bounds (``verify.certify.float64``) come from the reference path
            return self.propagate_reference(lo, hi, return_forms, layer_bounds)
        lo, hi = self.boxes(lo, hi)
        if len(lo) > SUB_CHUNK:  # the working arrays of a sub-chunk stay in cache (about 1.3x faster here)
            parts = [self._propagate(lo[i:i + SUB_CHUNK], hi[i:i + SUB_CHUNK], return_forms)
                     for i in range(0, len(lo), SUB_CHUNK)]
            out = [np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])]
            if return_forms:
                out.append(tuple(np.concatenate([p[2][j] for p in parts]) for j in range(5)))
            return tuple(out)
        return self._propagate(lo, hi, return_forms)

    def _propagate(self, lo, hi, return_forms):
        nb, d = lo.shape
        m, r, a, c, e, rT = input_forms(lo, hi)
        L = len(self.layers)
        rel = 1 + 4 * (d + 2) * U64

        def absar(a):  # |a|·r, rounded up by ``rel``
            if d == 1:
                s = np.abs(a[:, :, 0])
                s *= rT[0]
            else:
                s = np.einsum("knd,dn->kn", np.abs(a), rT)
            s *= rel
            return s

        ar = absar(a)
        F = np.zeros((d, nb))
        D = np.ones((d, nb))
        E = None
        for li, (lay, (W, Wabs, Rabs, MM, Q)) in enumerate(zip(self.layers, self._ops())):
            k_in = c.shape[0]
            mag = np.abs(c)
            mag += ar
            mag += e
            _ru_pos(mag)
            a = W(a.reshape(k_in, nb * d)).reshape(-1, nb, d)
            c = W(c)
            c += lay.b[:, None]
            slack = Wabs(mag)
            slack += lay.babs[:, None]
            slack *= _gamma(lay.n)
            slack += lay.n * TINY
            _ru_pos(slack)
            if MM is None:
                Eg = Rabs(F)
                Eg *= 1 + 2 * _gamma(lay.nR)
            else:
                MD = MM(D)
                P = MD.shape[0] // 2
                Cabs = np.abs(MD[:P])
                t = MD[P:]
                t *= _gamma(lay.nM)
                Cabs += t
                Cabs *= E[lay.pair_src]
                Eg = Q(Cabs)
                Eg *= 1 + 2 * _gamma(lay.nQ) + 8 * U64
                t = Rabs(F)
                t *= 1 + 2 * _gamma(lay.nR)
                Eg += t
                _ru_pos(Eg)
            F = slack
            e = Eg[lay.row_group]
            e += F
            _ru_pos(e)
            E = Eg
            ar = absar(a)
            if li == L - 1:
                break
            rad = ar + e
            _ru_pos(rad)
            # z ∈ [c - rad, c + rad] exactly on the box.  Rounding to nearest is monotone and 0 is a float, so
            # fl(c + rad) < 0 implies c + rad <= 0 (the unit is dead) and fl(c - rad) > 0 implies c - rad >= 0
            # (stable, ρ = id); every other unit is relaxed, with the outward-rounded ends as in the reference.
            dead = c + rad
            dead = dead < 0
            unstable = c - rad
            unstable = unstable <= 0
            unstable &= ~dead
            D = (~dead).astype(np.float64)  # 1 active, 0 dead; λ for the relaxed units below
            if not D.all():  # dead units are 0 (a product with 0.0: an overflow's NaN is caught at the end)
                a *= D[:, :, None]
                c *= D
                e *= D
                F *= D
                ar *= D
            flat = np.flatnonzero(unstable)
            if flat.size:
                ku, bu = np.divmod(flat, nb)
                cu, radu = c[ku, bu], rad[ku, bu]
                lbu, ubu = round_down(cu - radu), round_up(cu + radu)
                lam = np.clip(ubu / (ubu - lbu), 0.0, 1.0)
                mu = round_up(np.maximum(-lam * lbu, (1.0 - lam) * ubu) * (1 + 4 * U64))
                half = round_up(0.5 * mu)
                a[ku, bu] = a[ku, bu] * lam[:, None]
                cu = lam * cu + half
                c[ku, bu] = cu
                aru, eu, Fu = ar[ku, bu], e[ku, bu], F[ku, bu]
                sl = 4 * U64 * 1.01 * (np.abs(cu) + aru + eu + mu) + TINY
                F[ku, bu] = round_up(round_up(lam * Fu * (1 + 2 * U64)) + half + round_up(sl))
                D[ku, bu] = lam
                e[ku, bu] = round_up(round_up(lam * eu * (1 + 2 * U64)) + half + sl)
                ar[ku, bu] = aru * lam * (1 + 2 * U64)
        rad = _ru(ar + e)
        lb, ub = _rd(c - rad).T, _ru(c + rad).T
        if np.isnan(lb).any() or np.isnan(ub).any():  # an overflow: the reference products (see _MatOp)
            return self.propagate_reference(lo, hi, return_forms)
        if return_forms:
            return lb, ub, (np.transpose(a, (1, 0, 2)), c.T, e.T, m, r)
        return lb, ub


    def propagate_reference(self, lo, hi, return_forms: bool = False, layer_bounds: list | None = None):
        """The first implementation of ``propagate`` (block-group products, every ReLU rule evaluated on every
        unit with np.where): the same bounds up to the summation order of the products, several times slower.
        Kept for ``benchmarks/bench_certificates.py``, the agreement tests and ``layer_bounds``: a list given there
        receives the sound (lb, ub) of every map's outputs before its ReLU, each (width, n_boxes)
        (``verify.certify.float64``)."""
        self._affine()
        lo, hi = self.boxes(lo, hi)
        nb, d = lo.shape
        m, r, a, c, e, rT = input_forms(lo, hi)
        L = len(self.layers)
        rel = 1 + 4 * (d + 2) * U64  # covers the rounding of |a|·r (d products, d - 1 sums) and one more sum

        def absar(a):  # |a|·r, rounded up by ``rel``
            s = np.abs(a[:, :, 0]) * rT[0] if d == 1 else np.einsum("knd,dn->kn", np.abs(a), rT)
            return s * rel

        ar = absar(a)
        # error split (module docstring, "Relational errors"): E per row group of the previous map, F per neuron,
        # D the post-activation slope of each neuron (1 active, 0 dead, λ relaxed)
        F = np.zeros((d, nb))
        D = np.ones((d, nb))
        E = None  # the first map's inputs carry no error (its ``M`` is None), so E is first read at the second
        for li, lay in enumerate(self.layers):
            k_in = c.shape[0]
            mag = round_up(np.abs(c) + ar + e)
            a = lay.W.apply_T(a.reshape(k_in, nb * d)).reshape(-1, nb, d)
            c = lay.W.apply_T(c) + lay.b[:, None]
            slack = round_up(_gamma(lay.n) * (lay.Wabs.apply_T(mag) + lay.babs[:, None]) + lay.n * TINY)
            if lay.M is None:  # the inputs carry no error (or the map has no weights)
                Eg = lay.Rabs.apply_T(F) * (1 + 2 * _gamma(lay.nR))
            else:
                Cabs = np.abs(lay.M.apply_T(D)) + _gamma(lay.nM) * lay.Mabs.apply_T(D)
                Eg = lay.Q.apply_T(Cabs * E[lay.pair_src]) * (1 + 2 * _gamma(lay.nQ) + 8 * U64)
                Eg = round_up(Eg + lay.Rabs.apply_T(F) * (1 + 2 * _gamma(lay.nR)))
            F = slack
            e = round_up(Eg[lay.row_group] + F)
            E = Eg
            ar = absar(a)
            if li == L - 1:
                break
            rad = round_up(ar + e)
            lb, ub = round_down(c - rad), round_up(c + rad)
            if layer_bounds is not None:
                layer_bounds.append((lb, ub))
            dead = ub <= 0
            unstable = (lb < 0) & ~dead
            D = np.where(dead, 0.0, 1.0)
            if unstable.any():
                lam = np.where(unstable, ub / np.where(unstable, ub - lb, 1.0), 1.0)
                lam = np.clip(lam, 0.0, 1.0)
                mu = np.where(unstable, round_up(np.maximum(-lam * lb, (1.0 - lam) * ub) * (1 + 4 * U64)), 0.0)
                half = round_up(0.5 * mu)
                a = a * lam[:, :, None]
                c = lam * c + half
                slack = 4 * U64 * 1.01 * (np.abs(c) + ar + e + mu) + TINY
                # ρ(z) = λ ẑ + λ ζ + (ν - μ/2) + rounding: the group part scales by λ (D), the rest goes to F
                F = np.where(unstable, round_up(round_up(lam * F * (1 + 2 * U64)) + half + round_up(slack)), F)
                D = np.where(unstable, lam, D)
                e = np.where(unstable, round_up(round_up(lam * e * (1 + 2 * U64)) + half + slack), e)
                ar = np.where(unstable, ar * lam * (1 + 2 * U64), ar)
            if dead.any():
                a[dead] = 0.0
                c = np.where(dead, 0.0, c)
                e = np.where(dead, 0.0, e)
                F = np.where(dead, 0.0, F)
                ar = np.where(dead, 0.0, ar)
        rad = round_up(ar + e)
        lb, ub = round_down(c - rad).T, round_up(c + rad).T
        if layer_bounds is not None:
            layer_bounds.append((lb.T, ub.T))
        if return_forms:
            return lb, ub, (np.transpose(a, (1, 0, 2)), c.T, e.T, m, r)
        return lb, ub


def interval_bounds(net: FNN, lo, hi) -> tuple[np.ndarray, np.ndarray]:
    """Sound (lb, ub) of the exact-arithmetic network over each box (see ``IntervalNet.propagate``)."""
    return IntervalNet(net).propagate(lo, hi)
