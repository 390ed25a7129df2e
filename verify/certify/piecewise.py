"""Exact certificates of 1-D piecewise-linear networks (docs/certification.md, items 5-6).

``pl_breakpoints`` computes the float64 kinks of a 1-input network (a heuristic seed, never a proof);
``certify_pl_exact`` is an EXACT rational certificate: the net is proven affine on every piece of a partition by
sign checks of every neuron at the piece ends, and the target's sup error is computed exactly per piece
(``square_piece_error``, ``clip_piece_error``, or any exact piece error).  ``depends_only_on`` is the structural
test that an output depends on one input only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from flint import fmpq, fmpz

from constructions.fnn import FNN

from .rational import fmpq_float_up, to_fmpq


def pl_breakpoints(net: FNN, lo: float, hi: float, max_points: int = 4_000_000, output: int = 0, axis: int = 0,
                   base=None, direction=None) -> np.ndarray:
    """The breakpoints of a 1-input ReLU network on [lo, hi], computed in float64 (a HEURISTIC seed for
    ``certify_fnn``'s partition, never a proof): the values of every neuron are kept at a sorted point array
    X (every neuron of the current layer is affine between consecutive points, as X holds the kinks of all
    earlier layers); each ReLU layer inserts the zero crossings of its pre-activations (linear interpolation
    between the neighbouring points, all neurons interpolated there) and the layer's ReLU is applied.
    Vectorised: (width x len(X)) arrays per layer, the new points of a layer inserted in order (each lies in its
    interval, clamped against rounding), the products by scipy CSR.  With ``base`` and ``axis`` the network is restricted to the
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
        keep = v != 0
        A = sp.csr_matrix((v[keep], (r[keep], c[keep])), shape=shape)
        Z = np.asarray(A @ H) + np.asarray(b, dtype=np.float64)[:, None]
        if i == len(maps) - 1:
            break
        z0, z1 = Z[:, :-1], Z[:, 1:]
        k, j = np.nonzero(((z0 < 0) & (z1 > 0)) | ((z0 > 0) & (z1 < 0)))
        if len(j):
            t = z0[k, j] / (z0[k, j] - z1[k, j])
            xl, xr = X[j], X[j + 1]
            xn = np.minimum(np.maximum(xl + t * (xr - xl), xl), xr)  # inside its interval (rounding)
            o = np.lexsort((xn, j))  # by interval, then position: the order of insertion
            j, xn = j[o], xn[o]
            new = np.ones(len(j), dtype=bool)
            new[1:] = (j[1:] != j[:-1]) | (xn[1:] != xn[:-1])
            new &= (xn > X[j]) & (xn < X[j + 1])  # a point already there is kept with its values
            jn, xn = j[new], xn[new]
            if len(jn):
                tn = (xn - X[jn]) / (X[jn + 1] - X[jn])
                Zn = Z[:, jn] + tn * (Z[:, jn + 1] - Z[:, jn])
                X = np.insert(X, jn + 1, xn)
                Z = np.insert(Z, jn + 1, Zn, axis=1)
            if len(X) > max_points:
                raise ValueError(f"more than {max_points} breakpoints")
        H = np.maximum(Z, 0.0)
    return X



# --------------------------------------------------------------------- exact 1-D piecewise-linear certificate
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
        self.base = [to_fmpq(float(v)) for v in base]
        self.direction = None
        if direction is not None:
            dv = np.asarray(direction, dtype=np.float64).reshape(-1)
            if dv.shape != (net.d_in,) or not np.all(np.isfinite(dv)):
                raise ValueError(f"direction must be a finite vector of length {net.d_in}")
            self.direction = [to_fmpq(float(v)) for v in dv]
        self.maps = [([(int(r), int(c), to_fmpq(float(v))) for r, c, v in zip(*rcv) if v != 0],
                      [to_fmpq(float(bb)) for bb in b], shape[0]) for rcv, b, shape in net.affine_maps()]

    def batch(self, ts: list) -> tuple[list, list, list] | None:
        """Exact signs of every hidden pre-activation and the exact output at many points at once, or None when a
        point is not dyadic.  Every stored float64 (weights, biases, base, direction) and every float point is a
        dyadic rational, so each layer's values are integers over one power of two: z = Z / 2^s with Z a numpy
        object array of Python integers (units x points), computed exactly by integer products and shifts.
        Returns (pos, neg, out): per hidden layer the boolean arrays z > 0 and z < 0 (units x points), and the
        outputs z_L[output] as fmpq.  The same numbers as ``pre_activations`` point by point, vectorised."""
        def dy(q: fmpq):  # (numerator, k) with q = numerator / 2^k, or None
            d = int(q.q)
            return (int(q.p), d.bit_length() - 1) if d & (d - 1) == 0 else None

        pts = [dy(to_fmpq(t)) for t in ts]
        if any(p is None for p in pts):
            return None
        n = len(pts)
        S = max(k for _, k in pts)
        T = np.array([num << (S - k) for num, k in pts], dtype=object)  # t = T / 2^S

        def scaled(vals):  # a list of fmpq (dyadic) as (integer array, common scale)
            parts = [dy(v) for v in vals]
            k = max((e for _, e in parts), default=0)
            return np.array([num << (k - e) for num, e in parts], dtype=object), k

        B0, kb = scaled(self.base)
        if self.direction is None:
            s_h = max(S, kb)
            H = np.empty((len(self.base), n), dtype=object)
            for j in range(len(self.base)):
                H[j] = (T << (s_h - S)) if j == self.axis else np.full(n, B0[j] << (s_h - kb), dtype=object)
        else:
            Dv, kd = scaled(self.direction)
            s_h = max(S + kd, kb)
            H = np.empty((len(self.base), n), dtype=object)
            for j in range(len(self.base)):
                H[j] = (T * (Dv[j] << (s_h - S - kd))) + (B0[j] << (s_h - kb))
        pos, neg = [], []
        for i, (w, b, rows) in enumerate(self.maps):
            Wv, kw = scaled([v for _, _, v in w])
            Bv, kb2 = scaled(b)
            s_z = max(kw + s_h, kb2)
            Z = np.empty((rows, n), dtype=object)
            for r in range(rows):
                Z[r] = np.full(n, Bv[r] << (s_z - kb2), dtype=object)
            sh = s_z - kw - s_h
            for (r, c, _), v in zip(w, Wv):
                Z[r] += (H[c] * v) << sh if sh else H[c] * v
            if i < len(self.maps) - 1:
                pos.append(Z > 0)
                neg.append(Z < 0)
                H = np.where(Z > 0, Z, 0)
                s_h = s_z
            else:
                den = fmpz(2) ** s_z
                out = [fmpq(fmpz(int(x)), den) for x in Z[self.output]]
        return pos, neg, out

    def pre_activations(self, t) -> list[list[fmpq]]:
        """[z_1, ..., z_L]: the pre-activation vectors of every layer at base + t e_axis (z_L = the output)."""
        if self.direction is None:
            h = list(self.base)
            h[self.axis] = to_fmpq(t)
        else:
            tq = to_fmpq(t)
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
    seed costs refinements, never soundness.

    The seed points (floats: dyadic rationals) are evaluated all at once in exact integer arithmetic
    (``ExactLine.batch``); the pieces between them are taken from left to right, and a piece with a sign change is
    refined depth first with ``pre_activations`` exactly as before: the same partition, bound and argmax."""
    t0 = time.perf_counter()
    lo_q, hi_q = to_fmpq(lo), to_fmpq(hi)
    if not lo_q < hi_q:
        raise ValueError("need lo < hi")
    line = ExactLine(net, output, axis, base, direction)
    sf = np.asarray(seed_points, dtype=np.float64).reshape(-1)
    sf = np.unique(sf[np.isfinite(sf) & (sf > float(lo_q) - 1.0) & (sf < float(hi_q) + 1.0)])  # exact float order
    pts = sorted({to_fmpq(s) for s in sf.tolist()} | {lo_q, hi_q})
    pts = [s for s in pts if lo_q <= s <= hi_q]
    bt = line.batch(pts)
    if bt is None:  # a non-dyadic end: every point by the exact scalar path
        vals = {p: line.pre_activations(p) for p in pts}
        bad = None
        fout = [vals[p][-1][output] for p in pts]
    else:
        pos, neg, fout = bt
        cross = np.zeros(len(pts) - 1, dtype=bool)
        for P, N in zip(pos, neg):
            cross |= np.any((P[:, :-1] & N[:, 1:]) | (N[:, :-1] & P[:, 1:]), axis=0)
        bad, vals = cross, {}
    st = {"best": fmpq(0), "arg": lo_q, "pieces": 0, "rng": None}
    refine = 0

    def affine_piece(p, q, fp, fq):  # f is the line through (p, fp), (q, fq) on [p, q]: its exact error there
        err = piece_error(p, q, fp, fq)
        if isinstance(err, tuple):
            st["rng"] = err if st["rng"] is None else (min(st["rng"][0], err[0]), max(st["rng"][1], err[1]))
            err = max(abs(err[0]), abs(err[1]))
        st["pieces"] += 1
        if err > st["best"]:
            st["best"], st["arg"] = err, p

    def value(p):
        if p not in vals:
            vals[p] = line.pre_activations(p)
        return vals[p]

    n_seed = len(pts) - 1
    for i in range(n_seed):
        p, q = pts[i], pts[i + 1]
        if bad is not None and not bad[i]:  # affine on [p, q]: every hidden sign checked exactly, in batch
            affine_piece(p, q, fout[i], fout[i + 1])
            continue
        stack = [(p, q)]
        while stack:
            p, q = stack.pop()
            zp, zq = value(p), value(q)
            split = None
            for k in range(len(zp) - 1):
                for j, (a, b) in enumerate(zip(zp[k], zq[k])):
                    if (a > 0 and b < 0) or (a < 0 and b > 0):
                        split = p + a * (q - p) / (a - b)
                        break
                if split is not None:
                    break
            if split is None:
                affine_piece(p, q, zp[-1][output], zq[-1][output])
                continue
            refine += 1
            if st["pieces"] + len(stack) + (n_seed - i - 1) + 2 > max_pieces:
                return ExactPLResult(False, None, float("inf"), float(st["arg"]), st["pieces"], refine,
                                     time.perf_counter() - t0, f"more than {max_pieces} pieces needed")
            vals[split] = line.pre_activations(split)
            stack.append((split, q))
            stack.append((p, split))
    best = st["best"]
    return ExactPLResult(True, best, fmpq_float_up(best), float(fmpq_float_up(st["arg"])), st["pieces"], refine,
                         time.perf_counter() - t0,
                         "every piece of the partition is affine (exact sign check of every neuron at both ends)",
                         st["rng"])


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
    aq, bq = to_fmpq(a), to_fmpq(b)

    def err(p, q, fp, fq):
        if p < aq < q or p < bq < q:
            raise ValueError("the kinks a, b of clip must be partition points")
        c = lambda t: aq if t < aq else bq if t > bq else t  # noqa: E731
        return max(abs(fp - c(p)), abs(fq - c(q)))
    return err
