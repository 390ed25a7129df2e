"""Combinators of ReLU FNNs (Oko et al. 2023, Lemmas F.1-F.3; Petersen & Voigtlaender 2018).

Every combinator states its counting rule; ``constructions.rules`` predicts the counts by those rules,
independently of the matrices built here, and the verifier compares the two.

    affine(A, b)           depth 1.  S = nnz(A) + nnz(b).
    identity(d, L)         L = 1: [I], S = d.  L >= 2: [I; -I], I_{2d} (L - 2 times), [I, -I];
                           S = 2dL, W = 2d, B = 1.  Exact: x = ρ(x) - ρ(-x).
    compose(f, g)          f∘g, merging A_1^f A_{L_g}^g into one map: depth L_f + L_g - 1,
                           widths g.widths[:-1] + f.widths[1:]; S, B read from the merged product.
    concat(f, g)           f∘g by sparse concatenation: g's last map doubled to [A; -A], f's first map to
                           [A, -A]: depth L_f + L_g, S = S_f + S_g + S(A_{L_g}^g, b_{L_g}^g) + nnz(A_1^f),
                           W = max(W_f, W_g, 2 d_mid), B = max(B_f, B_g).  Keeps block structure.
    pad_depth(f, L)        identity(d_out, L - L_f + 1) ∘ f merged: S grows by S(A_L^f, b_L^f) + 2 d_out (L - L_f),
                           W = max(W_f, 2 d_out), B = max(B_f, 1).
    parallel(*fs)          every f padded to the largest depth, maps stacked: S = Σ S(pad f_i), width of layer j
                           = Σ_i width_j(pad f_i) (inputs: d_in if shared, Σ d_in otherwise), B = max B.
    linear(f, M, c)        x -> M f(x) + c, merged into f's last map (= compose(affine(M, c), f)).
    sum_nets(*fs)          Σ_i f_i(x) = linear(parallel(fs), [I ... I]).
    scale(f, a)            a f(x) = linear(f, a I).
    restrict(f, outs, ins) the outputs ``outs`` of f as a function of the inputs ``ins`` alone, built from the units
                           that feed ``outs`` (paths of nonzero weights): the same function when no such unit reads
                           another input (else ValueError).  Counts: those of the kept entries.
    drop_copies(f)         f without its copy layers (every unit ρ(h_j) of a ReLU output h_j >= 0, weight 1, no
                           bias: the layer is the identity on what it copies), e.g. the depth padding of
                           ``identity``/``pad_depth``: the same function, smaller depth.
"""

from __future__ import annotations

import numpy as np

from .affine import Affine, BlockGroup, stack
from .fnn import FNN


def _check_dim(name: str, d) -> int:
    if isinstance(d, bool) or int(d) != d or d < 1:
        raise ValueError(f"{name} must be a positive integer, got {d!r}")
    return int(d)


def diag(v) -> Affine:
    """The diagonal matrix diag(v) as g = len(v) blocks of 1 x 1."""
    v = np.asarray(v, dtype=np.float64).ravel()
    i = np.arange(v.size)
    return Affine(v.size, v.size, [BlockGroup(i[:, None], i[:, None], v[:, None, None])], validate=False)


def _split(d: int) -> Affine:
    """[I; -I]: x -> (x, -x), as d blocks of 2 x 1."""
    i = np.arange(d)
    return Affine(d, 2 * d, [BlockGroup(np.stack([i, i + d], 1), i[:, None],
                                        np.tile(np.array([[[1.0], [-1.0]]]), (d, 1, 1)))], validate=False)


def _join(d: int) -> Affine:
    """[I, -I]: (y+, y-) -> y+ - y-, as d blocks of 1 x 2."""
    i = np.arange(d)
    return Affine(2 * d, d, [BlockGroup(i[:, None], np.stack([i, i + d], 1),
                                        np.tile(np.array([[[1.0, -1.0]]]), (d, 1, 1)))], validate=False)


def affine(A, b=None) -> FNN:
    """The depth-1 network x -> A x + b."""
    return FNN([Affine.dense(A, b)])


def identity(d: int, L: int = 2) -> FNN:
    """The identity on R^d realised with exactly L affine maps (see the counting rule above)."""
    d, L = _check_dim("d", d), _check_dim("L", L)
    if L == 1:
        return FNN([diag(np.ones(d))])
    return FNN([_split(d)] + [diag(np.ones(2 * d)) for _ in range(L - 2)] + [_join(d)])


def compose(f: FNN, g: FNN) -> FNN:
    """f∘g with the last map of g merged into the first map of f (depth L_f + L_g - 1)."""
    if f.d_in != g.d_out:
        raise ValueError(f"cannot compose: f takes {f.d_in} inputs but g gives {g.d_out} outputs")
    return FNN(g.layers[:-1] + (g.layers[-1].then(f.layers[0]),) + f.layers[1:])


def concat(f: FNN, g: FNN) -> FNN:
    """f∘g by sparse concatenation through ρ(y) - ρ(-y) = y (depth L_f + L_g)."""
    if f.d_in != g.d_out:
        raise ValueError(f"cannot compose: f takes {f.d_in} inputs but g gives {g.d_out} outputs")
    return FNN(g.layers[:-1] + (g.layers[-1].negated_rows(), f.layers[0].negated_cols()) + f.layers[1:])


def pad_depth(f: FNN, L: int) -> FNN:
    """The same function as f with exactly L >= L_f affine maps (identity appended, first map merged)."""
    L = _check_dim("L", L)
    if L < f.depth:
        raise ValueError(f"cannot pad a depth-{f.depth} network to depth {L}")
    if L == f.depth:
        return f
    d = f.d_out
    p = L - f.depth
    return FNN(f.layers[:-1] + (f.layers[-1].negated_rows(),) + tuple(diag(np.ones(2 * d)) for _ in range(p - 1))
               + (_join(d),))


def parallel(*nets: FNN, shared_input: bool = True) -> FNN:
    """x -> (f_1(x), ..., f_k(x)) (shared input) or (x_1, ..., x_k) -> (f_1(x_1), ..., f_k(x_k)).

    Shorter nets are padded with identity layers to the largest depth; outputs are concatenated in order.
    """
    if not nets:
        raise ValueError("parallel needs at least one network")
    if shared_input and len({f.d_in for f in nets}) != 1:
        raise ValueError(f"parallel nets on a shared input must take the same input dimension, got "
                         f"{[f.d_in for f in nets]}")
    L = max(f.depth for f in nets)
    padded = [pad_depth(f, L) for f in nets]
    layers = [stack([p.layers[0] for p in padded], shared_input=shared_input)]
    layers += [stack([p.layers[j] for p in padded], shared_input=False) for j in range(1, L)]
    return FNN(layers)


def linear(f: FNN, M, c=None) -> FNN:
    """x -> M f(x) + c, merged into the last map of f."""
    M = np.atleast_2d(np.asarray(M, dtype=np.float64))
    if M.shape[1] != f.d_out:
        raise ValueError(f"read-out matrix has {M.shape[1]} columns but the network gives {f.d_out} outputs")
    return compose(affine(M, c), f)


def sum_nets(*nets: FNN, shared_input: bool = True) -> FNN:
    """x -> Σ_i f_i(x) (all f_i with the same output dimension)."""
    d = nets[0].d_out
    if any(f.d_out != d for f in nets):
        raise ValueError(f"summed nets must have equal output dimensions, got {[f.d_out for f in nets]}")
    return linear(parallel(*nets, shared_input=shared_input), np.hstack([np.eye(d)] * len(nets)))


def scale(f: FNN, a: float) -> FNN:
    """x -> a f(x)."""
    return linear(f, float(a) * np.eye(f.d_out))


def restrict(f: FNN, outputs, inputs) -> FNN:
    """The sub-network of the units that feed ``outputs`` (paths of nonzero weights), reading only the inputs
    ``inputs`` (in that order): equal to x ↦ f(x)[outputs] whatever the other inputs are; ValueError when a kept
    unit reads another input.  A hidden layer none of whose units is needed keeps one dead unit (zero row, zero
    bias) so that the shapes stay valid."""
    maps = f.affine_maps()
    outputs = [int(o) for o in outputs]
    inputs = [int(i) for i in inputs]
    if not outputs or any(not 0 <= o < f.d_out for o in outputs) or any(not 0 <= i < f.d_in for i in inputs):
        raise ValueError(f"outputs {outputs} / inputs {inputs} out of range for a {f.d_in} -> {f.d_out} network")
    need = np.zeros(f.d_out, dtype=bool)
    need[outputs] = True
    keeps = []
    for (r, c, v), _, shape in maps[::-1]:
        nz = (v != 0) & need[r]
        prev = np.zeros(shape[1], dtype=bool)
        prev[c[nz]] = True
        keeps.append(need)
        need = prev
    keeps = keeps[::-1]
    others = np.ones(f.d_in, dtype=bool)
    others[inputs] = False
    if np.any(need & others):
        raise ValueError(f"the outputs {outputs} read inputs other than {inputs}")
    layers = []
    in_idx = np.array(inputs, dtype=np.int64)
    for i, ((r, c, v), b, shape) in enumerate(maps):
        rows = np.flatnonzero(keeps[i]) if i < len(maps) - 1 else np.array(outputs, dtype=np.int64)
        dead = rows.size == 0
        if dead:
            rows = np.array([0])
        rmap = -np.ones(shape[0], dtype=np.int64)
        rmap[rows] = np.arange(rows.size)
        cmap = -np.ones(shape[1], dtype=np.int64)
        cmap[in_idx] = np.arange(in_idx.size)
        ok = (rmap[r] >= 0) & (cmap[c] >= 0) & (v != 0) & (not dead)
        layers.append(Affine.from_coo(rmap[r[ok]], cmap[c[ok]], v[ok], (rows.size, in_idx.size),
                                      np.zeros(1) if dead else b[rows]))
        in_idx = rows
    return FNN(layers)


def drop_copies(f: FNN) -> FNN:
    """f with every copy layer removed: a hidden layer l >= 2 whose every unit reads exactly one unit of layer l - 1
    with weight 1 and bias 0 (distinct sources) computes ρ(h) = h of values h >= 0 (ReLU outputs), so the next map
    can read layer l - 1 directly (columns remapped); repeated until none is left.  Exact, the same function."""
    maps = [(m[0], m[1], m[2]) for m in f.affine_maps()]
    changed = True
    while changed:
        changed = False
        for l in range(1, len(maps) - 1):
            (r, c, v), b, shape = maps[l]
            nz = v != 0
            rows, cols = r[nz], c[nz]
            if np.any(b != 0) or rows.size != shape[0] or np.unique(rows).size != shape[0] \
                    or np.any(v[nz] != 1.0) or np.unique(cols).size != cols.size:
                continue
            src = np.empty(shape[0], dtype=np.int64)
            src[rows] = cols
            (r2, c2, v2), b2, shape2 = maps[l + 1]
            maps[l + 1] = ((r2, src[c2], v2), b2, (shape2[0], shape[1]))
            del maps[l]
            changed = True
            break
    return FNN([Affine.from_coo(*m[0], m[2], m[1]) for m in maps])
