"""Token-wise ReLU feed-forward networks and the class Ψ(L, W, S, B) (paper Section 2 (i); Oko et al. 2023).

    f(x) = A_L ρ( A_{L-1} ρ( ... ρ(A_1 x + b_1) ... ) + b_{L-1} ) + b_L,      ρ = ReLU,

applied to the last axis of an array of shape (..., d_in), i.e. the same f at every token.

Counting convention (docs/counting.md), read from the matrices the forward pass uses:
    L  number of affine maps (L - 1 hidden ReLU layers);
    W  max_i d_i over all layer widths d_0 (input), ..., d_L (output);
    S  Σ_i nnz(A_i) + nnz(b_i): nonzero weights and biases;
    B  max_i max(max|A_i|, max|b_i|);
    dense  Σ_i d_i d_{i-1} + d_i: entries of the same maps stored densely.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .affine import Affine
from .plan import Plan

# Inputs with at least this many tokens are evaluated by the compiled plan (``constructions.plan``); smaller ones
# by the per-layer block-group path, which needs no compilation.  Both multiply by the same emitted matrices.
_PLAN_MIN_TOKENS = 2048


@dataclass(frozen=True)
class FNNCounts:
    """The (L, W, S, B) of one network, plus its dense entry count."""

    L: int
    W: int
    S: int
    B: float
    dense: int

    def as_dict(self) -> dict:
        return asdict(self)


class FNN:
    """A ReLU network given by its affine maps; see the module docstring for the counting convention."""

    __slots__ = ("layers", "_plan")

    def __init__(self, layers):
        layers = tuple(layers)
        if not layers:
            raise ValueError("an FNN needs at least one affine map")
        for i, lay in enumerate(layers):
            if not isinstance(lay, Affine):
                raise TypeError(f"layer {i} is {type(lay).__name__}, expected Affine")
        for i in range(1, len(layers)):
            if layers[i].d_in != layers[i - 1].d_out:
                raise ValueError(f"layer {i} takes {layers[i].d_in} inputs but layer {i - 1} gives "
                                 f"{layers[i - 1].d_out}")
        self.layers = layers
        self._plan = None

    @property
    def d_in(self) -> int:
        return self.layers[0].d_in

    @property
    def d_out(self) -> int:
        return self.layers[-1].d_out

    @property
    def depth(self) -> int:
        return len(self.layers)

    @property
    def widths(self) -> list[int]:
        return [self.d_in] + [lay.d_out for lay in self.layers]

    def __call__(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 0 or x.shape[-1] != self.d_in:
            raise ValueError(f"FNN expects inputs of shape (..., {self.d_in}), got {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError("FNN input contains NaN or inf")
        lead = x.shape[:-1]
        X = x.reshape(-1, self.d_in)
        n = X.shape[0]
        if n >= _PLAN_MIN_TOKENS:
            if self._plan is None:
                self._plan = Plan(self.layers)
            return self._plan(X).reshape(*lead, self.d_out)
        out = np.empty((n, self.d_out))
        step = min(lay.chunk_tokens() for lay in self.layers)
        for s in range(0, n, step):
            h = np.ascontiguousarray(X[s:s + step].T)
            for lay in self.layers[:-1]:
                h = lay.apply_T(h)
                np.maximum(h, 0.0, out=h)
            out[s:s + step] = self.layers[-1].apply_T(h).T
        return out.reshape(*lead, self.d_out)

    def pre_activations(self, x) -> list[np.ndarray]:
        """The inputs to every ReLU (and the final output last), for inspection and interval checks."""
        h = np.asarray(x, dtype=np.float64)
        out = []
        for lay in self.layers:
            z = lay(h)
            out.append(z)
            h = np.maximum(z, 0.0)
        return out

    def affine_maps(self) -> list[tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray, tuple[int, int]]]:
        """The flat list [((rows, cols, vals), b_i, (d_i, d_{i-1}))] of the maps A_i, b_i."""
        return [(lay.coo(), lay.b, (lay.d_out, lay.d_in)) for lay in self.layers]

    def exact_maps(self) -> list[tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray, tuple[int, int]]]:
        """Like ``affine_maps`` but with the exact values (``constructions.affine.ExactTail``): vals of shape
        (1 + r, nnz) and b of shape (1 + r, d_i), whose sums over the first axis are the exact entries."""
        out = []
        for lay in self.layers:
            r, c, parts, bp = lay.exact_parts()
            out.append(((r, c, parts), bp, (lay.d_out, lay.d_in)))
        return out

    @property
    def has_tails(self) -> bool:
        """Whether some map carries exact parts beyond its float64 arrays."""
        return any(lay.tail is not None for lay in self.layers)

    def dense_maps(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """[(A_i, b_i)] as dense arrays (small nets only)."""
        return [(lay.to_dense(), lay.b.copy()) for lay in self.layers]

    def counts(self) -> FNNCounts:
        return FNNCounts(
            L=self.depth,
            W=max(self.widths),
            S=sum(lay.nnz_A + lay.nnz_b for lay in self.layers),
            B=max(lay.max_abs for lay in self.layers),
            dense=sum(lay.d_out * lay.d_in + lay.d_out for lay in self.layers),
        )

    def describe(self) -> str:
        return "\n".join(f"  A_{i + 1}: {lay.describe()}, nnz(A)={lay.nnz_A}, nnz(b)={lay.nnz_b}, "
                         f"max|.|={lay.max_abs:.4g}" for i, lay in enumerate(self.layers))

    def __repr__(self) -> str:
        c = self.counts()
        return f"FNN(d_in={self.d_in}, d_out={self.d_out}, L={c.L}, W={c.W}, S={c.S}, B={c.B:.4g})"
