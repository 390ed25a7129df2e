"""Structured affine maps x -> A x + b, the building block of every ReLU FNN.

A matrix A (d_out x d_in) is held as a tuple of *block groups*.  A group holds g dense blocks of one shape
(r x c): block j is written into rows ``rows[j]`` and reads columns ``cols[j]``.  Within a group all g*r rows
are distinct, and no (row, column) entry is covered twice across all groups, so

    A[rows[j, a], cols[j, e]] = W[j, a, e]

defines A exactly.  A dense matrix is one group with g = 1; a parallel stack of k nets of equal shape is one
group with g = k, evaluated by a single batched matmul instead of a huge mostly-zero block-diagonal matrix;
a general sparse matrix is bucketed into groups of one row each (r = 1) by row length.

The coordinate list (COO) of A is always available (``coo``), so counts and exports read the very entries
the forward pass multiplies by.

Weights beyond float64 (issue 15).  A map may carry an ``ExactTail``: its exact value is the non-overlapping
float64 expansion A = A_0 + T_1 + ... + T_r, b = b_0 + t_1 + ... + t_r (an exact dyadic sum), where A_0, b_0 are the
float64 arrays every fast path multiplies by (A_0 the rounding of the exact value) and the tails sit on stored
nonzero entries of A_0 (the sparsity, hence S, is that of A_0).  The exact evaluators
(``verify/certify/fixedpoint.py``) and export read the tails; ``max_abs`` (B) is the float64 rounding of the exact
largest magnitude.  A map without a tail is exactly its float64 arrays, as before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Evaluate in token chunks so that the widest gathered input or activation stays below this many float64 entries
# (2 MB: a chunk stays in cache through a deep net; measured 3-7x faster than 32 MB chunks on the exp net and the
# Lemma 3.3 block at 2^15-2^17 tokens, benchmarks/bench_attention.py), but never fewer than _MIN_CHUNK tokens (so
# the per-call overhead of numpy stays small on wide layers).
_CHUNK_ENTRIES = 1 << 18
_MIN_CHUNK = 256
# A product whose dense form has at most this many entries and is at least half full is kept dense.
_DENSE_LIMIT = 1 << 22


def as_finite(name: str, a, ndim: int | None = None) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float64)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


@dataclass(frozen=True)
class BlockGroup:
    """g dense blocks of shape (r, c): block j maps x[cols[j]] into rows[j]."""

    rows: np.ndarray  # (g, r) int64
    cols: np.ndarray  # (g, c) int64
    W: np.ndarray  # (g, r, c) float64

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.W.shape  # type: ignore[return-value]


@dataclass(frozen=True)
class ExactTail:
    """The parts beyond float64 of an affine map (module docstring): entry (rows[j], cols[j]) of A is
    A_0[rows[j], cols[j]] + Σ_p parts[p, j] exactly, and b = b_0 + Σ_p b_parts[p]."""

    rows: np.ndarray  # (nnz,) int64
    cols: np.ndarray  # (nnz,) int64
    parts: np.ndarray  # (r, nnz) float64
    b_parts: np.ndarray  # (r, d_out) float64

    @property
    def r(self) -> int:
        return int(self.parts.shape[0])


class Affine:
    """The affine map x -> A x + b with A stored as block groups (see the module docstring)."""

    __slots__ = ("d_in", "d_out", "groups", "b", "tail", "_dense_rows", "_cols_identity")

    def __init__(self, d_in: int, d_out: int, groups, b=None, *, validate: bool = True, tail: ExactTail | None = None):
        if int(d_in) != d_in or int(d_out) != d_out or d_in < 1 or d_out < 1:
            raise ValueError(f"affine map dimensions must be positive integers, got d_in={d_in}, d_out={d_out}")
        self.d_in, self.d_out = int(d_in), int(d_out)
        gs = []
        for grp in groups:
            rows = np.asarray(grp.rows, dtype=np.int64)
            cols = np.asarray(grp.cols, dtype=np.int64)
            W = as_finite("weight block", grp.W, 3)
            if rows.ndim != 2 or cols.ndim != 2 or W.shape != (rows.shape[0], rows.shape[1], cols.shape[1]) \
                    or cols.shape[0] != rows.shape[0]:
                raise ValueError(f"block group shapes do not fit: rows {rows.shape}, cols {cols.shape}, W {W.shape}")
            if W.size:
                gs.append(BlockGroup(rows, cols, W))
        self.groups = tuple(gs)
        self.b = np.zeros(self.d_out) if b is None else as_finite("bias", b, 1)
        if self.b.shape != (self.d_out,):
            raise ValueError(f"bias must have shape ({self.d_out},), got {self.b.shape}")
        if validate:
            self._validate()
        self.tail = None if tail is None else self._check_tail(tail)
        # A single group covering every row in order: the output is written directly, no scatter.
        one = len(self.groups) == 1
        self._dense_rows = one and np.array_equal(self.groups[0].rows.ravel(), np.arange(self.d_out))
        self._cols_identity = one and np.array_equal(self.groups[0].cols.ravel(), np.arange(self.d_in))

    def _validate(self) -> None:
        keys = []
        for grp in self.groups:
            if grp.rows.min() < 0 or grp.rows.max() >= self.d_out:
                raise ValueError(f"block rows out of range [0, {self.d_out})")
            if grp.cols.min() < 0 or grp.cols.max() >= self.d_in:
                raise ValueError(f"block columns out of range [0, {self.d_in})")
            if np.unique(grp.rows).size != grp.rows.size:
                raise ValueError("rows repeat inside a block group")
            sc = np.sort(grp.cols, axis=1)
            if np.any(sc[:, 1:] == sc[:, :-1]):
                raise ValueError("columns repeat inside a block")
            keys.append((grp.rows[:, :, None] * self.d_in + grp.cols[:, None, :]).ravel())
        if keys:
            k = np.concatenate(keys)
            if np.unique(k).size != k.size:
                raise ValueError("two block groups cover the same matrix entry")

    def _check_tail(self, t: ExactTail) -> ExactTail:
        rows = np.asarray(t.rows, dtype=np.int64).ravel()
        cols = np.asarray(t.cols, dtype=np.int64).ravel()
        parts = as_finite("tail parts", t.parts, 2)
        bp = as_finite("bias tail parts", t.b_parts, 2)
        if parts.shape != (parts.shape[0], rows.size) or cols.size != rows.size or bp.shape != (parts.shape[0], self.d_out):
            raise ValueError(f"exact tail shapes do not fit: rows {rows.shape}, cols {cols.shape}, parts {parts.shape}, "
                             f"b_parts {bp.shape} (d_out {self.d_out})")
        r, c, v = self.coo()
        key = set((r[v != 0] * self.d_in + c[v != 0]).tolist())
        if any(k not in key for k in (rows * self.d_in + cols).tolist()):
            raise ValueError("an exact tail entry sits outside the stored nonzero entries of the map")
        if np.any((bp != 0).any(axis=0) & (self.b == 0)):
            raise ValueError("a bias tail sits on a zero bias entry")
        return ExactTail(rows, cols, parts, bp)

    def with_tail(self, tail: ExactTail | None) -> "Affine":
        """The same float64 map with the exact parts ``tail`` (or none)."""
        out = Affine(self.d_in, self.d_out, self.groups, self.b, validate=False, tail=tail)
        return out

    def exact_parts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(rows, cols, parts (1 + r, nnz), b_parts (1 + r, d_out)) in ``coo`` order: part 0 the float64 entries,
        the rest the tails (zero where an entry has none); the exact value is the sum over the first axis."""
        r, c, v = self.coo()
        if self.tail is None:
            return r, c, v[None, :], self.b[None, :]
        t = self.tail
        pos = {k: j for j, k in enumerate((r * self.d_in + c).tolist())}
        idx = np.array([pos[k] for k in (t.rows * self.d_in + t.cols).tolist()], dtype=np.int64)
        parts = np.zeros((1 + t.r, v.size))
        parts[0] = v
        parts[1:, idx] = t.parts
        return r, c, parts, np.concatenate([self.b[None, :], t.b_parts])

    # ------------------------------------------------------------------ constructors
    @classmethod
    def dense(cls, A, b=None) -> "Affine":
        A = as_finite("weight matrix", A, 2)
        d_out, d_in = A.shape
        grp = BlockGroup(np.arange(d_out)[None, :], np.arange(d_in)[None, :], A[None, :, :].copy())
        return cls(d_in, d_out, [grp], b)

    @classmethod
    def from_coo(cls, rows, cols, vals, shape, b=None) -> "Affine":
        """Build from coordinates (duplicates are summed, exact zeros dropped)."""
        d_out, d_in = int(shape[0]), int(shape[1])
        rows = np.asarray(rows, dtype=np.int64).ravel()
        cols = np.asarray(cols, dtype=np.int64).ravel()
        vals = as_finite("weight values", vals).ravel()
        if not (rows.size == cols.size == vals.size):
            raise ValueError("rows, cols and vals must have the same length")
        if rows.size and (rows.min() < 0 or rows.max() >= d_out or cols.min() < 0 or cols.max() >= d_in):
            raise ValueError(f"coordinates out of range for shape {(d_out, d_in)}")
        rows, cols, vals = _sum_duplicates(rows, cols, vals, d_in)
        keep = vals != 0
        rows, cols, vals = rows[keep], cols[keep], vals[keep]
        if vals.size >= 0.5 * d_out * d_in and d_out * d_in <= _DENSE_LIMIT:
            A = np.zeros((d_out, d_in))
            A[rows, cols] = vals
            return cls.dense(A, b)
        return cls(d_in, d_out, _bucket_rows(rows, cols, vals), b, validate=False)

    # ------------------------------------------------------------------ views
    def coo(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, cols, vals) of every stored entry, sorted by (row, col); may include explicit zeros."""
        if not self.groups:
            e = np.zeros(0, dtype=np.int64)
            return e, e.copy(), np.zeros(0)
        r = np.concatenate([np.broadcast_to(g.rows[:, :, None], g.W.shape).ravel() for g in self.groups])
        c = np.concatenate([np.broadcast_to(g.cols[:, None, :], g.W.shape).ravel() for g in self.groups])
        v = np.concatenate([g.W.ravel() for g in self.groups])
        order = np.lexsort((c, r))
        return r[order], c[order], v[order]

    def to_dense(self) -> np.ndarray:
        if self.d_out * self.d_in > 1 << 26:
            raise MemoryError(f"refusing to densify a {self.d_out} x {self.d_in} matrix")
        A = np.zeros((self.d_out, self.d_in))
        r, c, v = self.coo()
        A[r, c] = v
        return A

    @property
    def nnz_A(self) -> int:
        return int(sum(np.count_nonzero(g.W) for g in self.groups))

    @property
    def nnz_b(self) -> int:
        return int(np.count_nonzero(self.b))

    @property
    def max_abs(self) -> float:
        """max(max|A|, max|b|) of the exact values (the float64 rounding of the exact maximum; for a map without
        tail, its float64 entries)."""
        m = float(np.max(np.abs(self.b))) if self.b.size else 0.0
        for g in self.groups:
            m = max(m, float(np.max(np.abs(g.W))))
        if self.tail is not None:  # exact sums (math.fsum rounds the exact sum once) of the entries with tails
            _, _, parts, bp = self.exact_parts()
            cols = np.flatnonzero((parts[1:] != 0).any(axis=0))
            ex = [abs(math.fsum(parts[:, j].tolist())) for j in cols]
            ex += [abs(math.fsum(bp[:, j].tolist())) for j in np.flatnonzero((bp[1:] != 0).any(axis=0))]
            plain_A = np.abs(parts[0][np.setdiff1d(np.arange(parts.shape[1]), cols)])
            plain_b = np.abs(bp[0][~(bp[1:] != 0).any(axis=0)])
            m = max([float(plain_A.max(initial=0.0)), float(plain_b.max(initial=0.0))] + ex)
        return m

    def describe(self) -> str:
        parts = [f"{g.W.shape[0]}x({g.W.shape[1]}x{g.W.shape[2]})" for g in self.groups]
        return f"{self.d_out}x{self.d_in} [" + ", ".join(parts) + "]"

    # ------------------------------------------------------------------ evaluation
    def chunk_tokens(self) -> int:
        """How many tokens one evaluation chunk may hold (gathered inputs stay below _CHUNK_ENTRIES)."""
        widest = max([g.W.shape[0] * max(g.W.shape[1], g.W.shape[2]) for g in self.groups], default=1)
        return max(_MIN_CHUNK, _CHUNK_ENTRIES // max(widest, self.d_out, self.d_in))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Apply to x of shape (..., d_in); returns (..., d_out)."""
        lead = x.shape[:-1]
        X = x.reshape(-1, self.d_in)
        n = X.shape[0]
        out = np.empty((n, self.d_out))
        step = self.chunk_tokens()
        for s in range(0, n, step):
            out[s:s + step] = self.apply_T(np.ascontiguousarray(X[s:s + step].T)).T
        return out.reshape(*lead, self.d_out)

    def apply_T(self, XT: np.ndarray) -> np.ndarray:
        """Apply to tokens stored as columns: XT of shape (d_in, n) -> (d_out, n).

        Token-major columns make the gathers and scatters of block groups contiguous row copies.
        """
        n = XT.shape[1]
        if self._dense_rows:  # one group writing every row in order: no scatter
            g = self.groups[0]
            gg, r, c = g.W.shape
            Xg = XT if self._cols_identity else XT[g.cols.ravel()]
            Y = np.matmul(g.W, Xg.reshape(gg, c, n)).reshape(self.d_out, n) if gg > 1 else g.W[0] @ Xg
            Y += self.b[:, None]
            return Y
        Y = np.empty((self.d_out, n))
        Y[:] = self.b[:, None]
        for g in self.groups:
            gg, r, c = g.W.shape
            if gg == 1:
                Y[g.rows[0]] += g.W[0] @ XT[g.cols[0]]
                continue
            Yg = np.matmul(g.W, XT[g.cols.ravel()].reshape(gg, c, n))  # (g, r, n)
            Y[g.rows.ravel()] += Yg.reshape(gg * r, n)
        return Y

    # ------------------------------------------------------------------ algebra
    def then(self, outer: "Affine") -> "Affine":
        """outer ∘ self: x -> A_o (A x + b) + b_o, merged into one affine map."""
        if outer.d_in != self.d_out:
            raise ValueError(f"cannot compose: outer map takes {outer.d_in} inputs, inner gives {self.d_out}")
        if self.tail is not None or outer.tail is not None:
            raise ValueError("a map with exact tails cannot be merged by a float64 product (its exact value would be "
                             "rounded); join by concatenation (constructions.algebra.concat) instead")
        b = outer(self.b[None, :])[0]
        if self._dense_rows and outer._dense_rows and self.d_out * self.d_in <= _DENSE_LIMIT \
                and outer.d_out * outer.d_in <= _DENSE_LIMIT:
            return Affine.dense(outer.to_dense() @ self.to_dense(), b)
        r, c, v = _coo_product(outer.coo(), self.coo(), self.d_out)
        return Affine.from_coo(r, c, v, (outer.d_out, self.d_in), b)

    def negated_rows(self) -> "Affine":
        """[A; -A], [b; -b]: the map x -> (A x + b, -(A x + b))."""
        groups = [BlockGroup(np.concatenate([g.rows, g.rows + self.d_out]), np.concatenate([g.cols, g.cols]),
                             np.concatenate([g.W, -g.W])) for g in self.groups]
        t = self.tail
        tail = None if t is None else ExactTail(np.concatenate([t.rows, t.rows + self.d_out]),
                                                np.concatenate([t.cols, t.cols]), np.concatenate([t.parts, -t.parts], 1),
                                                np.concatenate([t.b_parts, -t.b_parts], 1))
        return Affine(self.d_in, 2 * self.d_out, groups, np.concatenate([self.b, -self.b]), validate=False, tail=tail)

    def negated_cols(self) -> "Affine":
        """[A, -A] with the same bias: (y+, y-) -> A (y+ - y-) + b."""
        groups = [BlockGroup(g.rows, np.concatenate([g.cols, g.cols + self.d_in], axis=1),
                             np.concatenate([g.W, -g.W], axis=2)) for g in self.groups]
        t = self.tail
        tail = None if t is None else ExactTail(np.concatenate([t.rows, t.rows]), np.concatenate([t.cols, t.cols + self.d_in]),
                                                np.concatenate([t.parts, -t.parts], 1), t.b_parts)
        return Affine(2 * self.d_in, self.d_out, groups, self.b, validate=False, tail=tail)


def stack(maps: list[Affine], shared_input: bool) -> Affine:
    """Stack affine maps: outputs concatenated; inputs shared or concatenated (block-diagonal)."""
    d_out = sum(m.d_out for m in maps)
    d_in = maps[0].d_in if shared_input else sum(m.d_in for m in maps)
    if any(m.tail is not None for m in maps):
        raise ValueError("stacking maps with exact tails is not supported (their tails would be dropped)")
    if shared_input and any(m.d_in != d_in for m in maps):
        raise ValueError(f"parallel nets on a shared input must take the same input dimension, got "
                         f"{[m.d_in for m in maps]}")
    groups: dict[tuple[int, int], list[BlockGroup]] = {}
    r0 = c0 = 0
    for m in maps:
        for g in m.groups:
            groups.setdefault(g.W.shape[1:], []).append(BlockGroup(g.rows + r0, g.cols + c0, g.W))
        r0 += m.d_out
        if not shared_input:
            c0 += m.d_in
    merged = [BlockGroup(np.concatenate([g.rows for g in gs]), np.concatenate([g.cols for g in gs]),
                         np.concatenate([g.W for g in gs])) for gs in groups.values()]
    return Affine(d_in, d_out, merged, np.concatenate([m.b for m in maps]), validate=False)


def _sum_duplicates(rows, cols, vals, d_in):
    key = rows * d_in + cols
    order = np.argsort(key, kind="stable")
    key, vals = key[order], vals[order]
    if key.size == 0:
        return rows[order], cols[order], vals
    start = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    v = np.add.reduceat(vals, start)
    k = key[start]
    return k // d_in, k % d_in, v


def _bucket_rows(rows, cols, vals) -> list[BlockGroup]:
    """Groups of single rows, one group per distinct row length (input sorted by row, then column)."""
    if rows.size == 0:
        return []
    urows, start, length = np.unique(rows, return_index=True, return_counts=True)
    groups = []
    for c in np.unique(length):
        sel = np.flatnonzero(length == c)
        idx = start[sel][:, None] + np.arange(c)[None, :]
        groups.append(BlockGroup(urows[sel][:, None], cols[idx], vals[idx][:, None, :]))
    return groups


def _coo_product(outer, inner, k):
    """COO of A_o @ A_i from the COO of both factors (k = shared dimension)."""
    ro, co, vo = outer
    ri, ci, vi = inner
    order = np.argsort(ri, kind="stable")
    ri, ci, vi = ri[order], ci[order], vi[order]
    start = np.searchsorted(ri, np.arange(k), side="left")
    end = np.searchsorted(ri, np.arange(k), side="right")
    counts = end[co] - start[co]
    total = int(counts.sum())
    o_idx = np.repeat(np.arange(co.size), counts)
    offs = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    i_idx = start[co][o_idx] + offs
    return ro[o_idx], ci[i_idx], vo[o_idx] * vi[i_idx]
