"""Compiled evaluation of an FNN's affine maps for many tokens (``constructions.fnn.FNN.__call__`` uses it from
``fnn._PLAN_MIN_TOKENS`` tokens on): the same matrices, hidden units permuted into classes so that each layer is a
few contiguous-slice products instead of gathers and scatters (see ``Plan``).  Knows nothing of lemmas."""

from __future__ import annotations

import numpy as np

from .affine import Affine

# A class of units with fewer members than this (and more than two inputs per unit) is evaluated as sparse
# leftover rows.
_PLAN_MIN_CLASS = 3
# Tokens per chunk of the plan: the widest layer of a chunk holds about this many float64 entries.
_PLAN_CHUNK_ENTRIES = 1 << 18
_PLAN_MIN_CHUNK = 512
# One BLAS call of the plan multiplies at most this many scalar products: OpenBLAS runs gemm calls below
# 65536 * 4 on one thread, so the plan's matrix products never spawn threads (on a shared machine a threaded
# 3 x 3 product is measured up to 5x slower than a single-threaded one) and the timings are single-core.
_GEMM_WORK = 1 << 18
# Threads of the plan (token chunks in parallel); 1 by default, see ``set_plan_threads``.
_PLAN_THREADS = 1


def set_plan_threads(k: int) -> int:
    """Let the compiled plan evaluate token chunks on k threads (the result is the same for every k); returns the
    previous setting."""
    global _PLAN_THREADS
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"threads must be a positive integer, got {k!r}")
    prev, _PLAN_THREADS = _PLAN_THREADS, k
    return prev



class Plan:
    """A faster evaluation of the same affine maps for many tokens: hidden units permuted into classes.

    Permuting the hidden units of layer i (rows of A_i and b_i, columns of A_{i+1}) does not change the function:
    every unit is the same sum of the same products, stored at another index.  The plan picks, layer by layer, a
    permutation that puts *equivalent* units next to each other.  Two rows of A_i are equivalent when they have the
    same bias and the same weights in the same order (entries sorted by the input's position).  A class is ordered
    by the position of its first input and cut into pieces wherever some slot k stops reading consecutive inputs,
    so that a piece of G rows reads, in every slot k, the inputs c_k .. c_k + G - 1 with one common weight w_k:

        Y[R0 : R0 + G] = b + Σ_k w_k X[c_k : c_k + G]        (tokens as columns: contiguous row slices),

    no gather and no scatter (for instance the G sawtooth channels of a product level, which share their 3 x 3
    transition).  Consecutive pieces of one size G that read the same column segments form one matrix product
    Y[R0 : R0 + aG] = M X[C0 : C0 + bG], M (a x b) the piece-level weights (the layer restricted to these rows is
    M ⊗ I_G), computed as (a, G n) @ (b, G n): one BLAS call for all channels.  A class whose pieces would be
    short keeps its order and reads by gathers (strided slices where the stride is constant); classes of fewer
    than ``_PLAN_MIN_CLASS`` rows with more than two inputs each form a sparse leftover map (``Affine.apply_T``).  The output layer is computed
    the same way and its rows are put back in order at the end.

    Every output is the same sum of the same float64 products as in the per-layer path; only the order of the
    additions can differ (reassociation).
    """

    __slots__ = ("d_in", "d_out", "steps", "width", "out_rows")

    def __init__(self, layers):
        self.d_in, self.d_out = layers[0].d_in, layers[-1].d_out
        pos = np.arange(self.d_in)  # old index -> new position of the current layer's inputs
        self.steps = []
        for lay in layers:
            ops, pos = _compile_layer(lay, pos)
            self.steps.append((lay.d_out, ops))
        self.out_rows = None if np.array_equal(pos, np.arange(self.d_out)) else pos
        self.width = max(lay.d_out for lay in layers)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        n = X.shape[0]
        out = np.empty((n, self.d_out))
        chunk = max(_PLAN_MIN_CHUNK, _PLAN_CHUNK_ENTRIES // max(self.width, self.d_in))
        starts = list(range(0, n, chunk))
        k = max(1, min(_PLAN_THREADS, len(starts)))
        if k == 1:
            self._run(X, out, starts, chunk)
            return out
        # Threads take interleaved chunks; each chunk is computed by the same ops as on one thread (numpy releases
        # the GIL inside its loops), so the result does not depend on the number of threads.
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(k) as ex:
            list(ex.map(lambda j: self._run(X, out, starts[j::k], chunk), range(k)))
        return out

    def _run(self, X, out, starts, chunk):
        n = X.shape[0]
        last = len(self.steps) - 1
        # Two activation buffers used in turn and two scratch buffers, allocated once: fresh arrays per layer
        # would fault in new pages on every layer.
        size = max(self.width, self.d_in) * min(chunk, n)
        bufs = [np.empty(size), np.empty(size)]
        scratch = (np.empty(size), np.empty(size))
        for s in starts:
            h = np.ascontiguousarray(X[s:s + chunk].T)
            for i, (d_out, ops) in enumerate(self.steps):
                Y = bufs[i % 2][:d_out * h.shape[1]].reshape(d_out, h.shape[1])
                h = _run_ops(ops, h, Y, i < last, scratch)
            out[s:s + chunk] = (h if self.out_rows is None else h[self.out_rows]).T


def _run_ops(ops, X, Y, relu, scratch):
    """One layer into Y: A X + b on the plan's row order, then ReLU (when ``relu``) on each block as it is
    written; ``scratch`` holds two buffers of at least Y's size."""
    n = X.shape[1]
    for op in ops:
        kind = op[0]
        if kind == "gemm":
            _, R0, R1, C0, C1, M, bias = op
            a, b = M.shape
            Yv, Xv = Y[R0:R1].reshape(a, -1), X[C0:C1].reshape(b, -1)
            step = _GEMM_WORK // (a * b)
            for s in range(0, Yv.shape[1], step):
                Ys = Yv[:, s:s + step]
                np.matmul(M, Xv[:, s:s + step], out=Ys)
                for t, bt in bias:
                    Ys[t] += bt
                if relu:
                    np.maximum(Ys, 0.0, out=Ys)
        elif kind == "class":
            _, R0, R1, slots, bias = op
            _weighted_sum(slots, X, Y[R0:R1], bias, scratch[1])
            if relu:
                np.maximum(Y[R0:R1], 0.0, out=Y[R0:R1])
        elif kind == "shared":  # pieces whose sums differ only by sign and bias: the sum once
            _, G, slots, members = op
            S = scratch[0][:G * n].reshape(G, n)
            _weighted_sum(slots, X, S, 0.0, scratch[1])
            for R0, R1, sign, bias in members:
                if sign > 0:
                    np.add(S, bias, out=Y[R0:R1])
                else:
                    np.subtract(bias, S, out=Y[R0:R1])
                if relu:
                    np.maximum(Y[R0:R1], 0.0, out=Y[R0:R1])
        else:  # sparse leftover rows (column blocks: no BLAS call above _GEMM_WORK, see above)
            _, R0, R1, aff = op
            step = max(64, _GEMM_WORK // max(1, max([g.W.size for g in aff.groups], default=1)))
            for s in range(0, n, step):
                Y[R0:R1, s:s + step] = aff.apply_T(X[:, s:s + step])
            if relu:
                np.maximum(Y[R0:R1], 0.0, out=Y[R0:R1])
    return Y


def _weighted_sum(slots, X, Yv, bias, scratch):
    """Yv = Σ_k w_k X[src_k] + bias, the terms added in slot order (``scratch``: room for one more Yv)."""
    first = True
    tmp = scratch[:Yv.size].reshape(Yv.shape)
    for src, w in slots:
        if isinstance(src, slice):
            Xs = X[src]
        else:
            Xs = np.take(X, src, axis=0, out=tmp)
        if first:
            if w == 1.0:
                np.copyto(Yv, Xs)
            else:
                np.multiply(Xs, w, out=Yv)
            first = False
        elif w == 1.0:
            Yv += Xs
        elif w == -1.0:
            Yv -= Xs
        else:
            np.multiply(Xs, w, out=tmp)
            Yv += tmp
    if first:
        Yv[:] = bias
    elif bias != 0.0:
        Yv += bias


def _evenly_spaced_runs(cols: np.ndarray) -> list[int]:
    """Cut the columns (k, G) of a class into maximal runs of rows in which every slot advances by its own
    constant positive step; returns the run bounds [0, ..., G]."""
    G = cols.shape[1]
    bounds, s = [0], 0
    while s < G:
        e = s + 1
        if e < G:
            step = cols[:, e] - cols[:, s]
            if np.all(step > 0):
                while e < G and np.array_equal(cols[:, e] - cols[:, e - 1], step):
                    e += 1
        bounds.append(e)
        s = e
    return bounds


def _source(cols: np.ndarray):
    """How a slot reads its inputs: a slice when they are evenly spaced, else the index array (a gather)."""
    if cols.size == 1:
        return slice(int(cols[0]), int(cols[0]) + 1)
    step = int(cols[1] - cols[0])
    if step > 0 and np.all(np.diff(cols) == step):
        return slice(int(cols[0]), int(cols[-1]) + 1, step)
    return cols


def _compile_layer(lay: Affine, pos: np.ndarray):
    """(ops, new_pos) for one layer (see ``_Plan``): ``pos`` maps the previous layer's units to their positions,
    ``new_pos`` does the same for this layer's units."""
    d_out, d_in = lay.d_out, lay.d_in
    r, c, v = lay.coo()
    keep = v != 0.0
    r, p, v = r[keep], pos[c[keep]], v[keep]
    order = np.lexsort((p, r))
    r, p, v = r[order], p[order], v[order]
    starts = np.searchsorted(r, np.arange(d_out + 1))
    classes: dict = {}
    for i in range(d_out):
        classes.setdefault((float(lay.b[i]), v[starts[i]:starts[i + 1]].tobytes()), []).append(i)
    anchor = np.full(d_out, -1, dtype=np.int64)
    has = starts[1:] > starts[:-1]
    anchor[has] = p[starts[:-1][has]]
    new_order, pieces, small = [], [], []
    for rows in classes.values():
        if len(rows) < _PLAN_MIN_CLASS and starts[rows[0] + 1] - starts[rows[0]] > 2:
            small += rows
            continue
        rows = np.asarray(sorted(rows, key=lambda i: (anchor[i], i)), dtype=np.int64)
        k = int(starts[rows[0] + 1] - starts[rows[0]])
        cols = p[starts[rows][None, :] + np.arange(k)[:, None]]  # (k, G): slot j of every row
        w = v[starts[rows[0]]:starts[rows[0] + 1]]
        b = float(lay.b[rows[0]])
        bounds = _evenly_spaced_runs(cols) if k else [0, len(rows)]
        if len(bounds) - 1 <= max(1, len(rows) // 8):  # pieces of >= 8 rows on average: slices, no gathers
            for s, e in zip(bounds[:-1], bounds[1:]):
                R0 = len(new_order)
                pieces.append((R0, R0 + e - s, [(_source(cols[j, s:e]), float(w[j])) for j in range(k)], b))
                new_order += rows[s:e].tolist()
        else:
            R0 = len(new_order)
            pieces.append((R0, R0 + len(rows), [(_source(cols[j]), float(w[j])) for j in range(k)], b))
            new_order += rows.tolist()
    R_small = len(new_order)
    new_order = np.asarray(new_order + small, dtype=np.int64)
    new_pos = np.empty(d_out, dtype=np.int64)
    new_pos[new_order] = np.arange(d_out)
    ops = _fuse(pieces)
    if R_small < d_out:
        sel = np.isin(r, small)
        aff = Affine.from_coo(new_pos[r[sel]] - R_small, p[sel], v[sel], (d_out - R_small, d_in), lay.b[small])
        ops.append(("sparse", R_small, d_out, aff))
    return ops, new_pos


def _aligned(slots) -> bool:
    return bool(slots) and all(isinstance(s, slice) and s.step in (None, 1) for s, _ in slots)


def _fuse(pieces):
    """Runs of consecutive pieces of one size G whose slots are aligned slices on shared column segments become
    one matrix product each (see ``_Plan``); the rest stay per-piece ops."""
    out, i = [], 0
    while i < len(pieces):
        R0, R1, slots, _ = pieces[i]
        G = R1 - R0
        if not _aligned(slots):
            out.append(("class",) + pieces[i])
            i += 1
            continue
        j = i + 1
        segs = {s.start for s, _ in slots}
        while j < len(pieces):
            R0j, R1j, sl, _ = pieces[j]
            if R1j - R0j != G or not _aligned(sl) or not ({s.start for s, _ in sl} & segs):
                break
            segs |= {s.start for s, _ in sl}
            j += 1
        C0, C1 = min(segs), max(segs) + G
        a, nb = j - i, (C1 - C0) // G
        ok = a > 1 and all((c0 - C0) % G == 0 for c0 in segs) \
            and sum(len(pieces[t][2]) for t in range(i, j)) >= 0.3 * a * nb
        if not ok:
            out += [("class",) + pieces[t] for t in range(i, j)]
            i = j
            continue
        M = np.zeros((a, nb))
        for t in range(i, j):
            for s, w in pieces[t][2]:
                M[t - i, (s.start - C0) // G] = w
        bias = [(t - i, pieces[t][3]) for t in range(i, j) if pieces[t][3] != 0.0]
        out.append(("gemm", R0, R0 + a * G, C0, C1, M, bias))
        i = j
    return _share(out)


def _src_key(src):
    return (src.start, src.stop, src.step) if isinstance(src, slice) else src.tobytes()


def _share(ops):
    """Per-piece ops that read the same inputs with the same weights up to one common sign (e.g. the units
    ρ(u), ρ(-u), ρ(u - 1/2), ρ(-u - 1/2) of a sawtooth input, or the clip units ρ(f + 1), ρ(f - 1)) compute
    their sum once: Y = S + b or b - S, S = Σ_k w_k X[src_k] (negation is exact, so each unit is the same float64
    number as when summed on its own)."""
    groups: dict = {}
    rest = []
    for op in ops:
        if op[0] != "class" or not op[3]:
            rest.append(op)
            continue
        _, R0, R1, slots, b = op
        sign = 1.0 if slots[0][1] > 0 else -1.0
        key = (R1 - R0, tuple((_src_key(src), w * sign) for src, w in slots))
        groups.setdefault(key, []).append((R0, R1, sign, b, slots))
    for (G, _), members in groups.items():
        if len(members) == 1:
            R0, R1, _, b, slots = members[0]
            rest.append(("class", R0, R1, slots, b))
        else:
            sign0 = members[0][2]
            slots = [(src, w * sign0) for src, w in members[0][4]]
            rest.append(("shared", G, slots, [(R0, R1, sign, b) for R0, R1, sign, b, _ in members]))
    return rest
