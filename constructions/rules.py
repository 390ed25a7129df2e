"""Counting rules of the combinators in ``constructions.algebra``, computed without building the result.

Each function predicts the (L, W, S, B) and the layer widths of a combinator's output from its inputs' own
counts and boundary maps only, so that the verifier can compare the prediction with the counts read from
the emitted matrices (docs/counting.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fnn import FNN, FNNCounts


@dataclass(frozen=True)
class Prediction:
    """Predicted widths d_0..d_L, nonzeros S and max entry B."""

    widths: tuple[int, ...]
    S: int
    B: float

    def counts(self) -> FNNCounts:
        w = self.widths
        dense = sum(w[i] * w[i - 1] + w[i] for i in range(1, len(w)))
        return FNNCounts(L=len(w) - 1, W=max(w), S=self.S, B=self.B, dense=dense)


def of(f: FNN) -> Prediction:
    c = f.counts()
    return Prediction(tuple(f.widths), c.S, c.B)


def _last(f: FNN) -> tuple[int, float]:
    lay = f.layers[-1]
    return lay.nnz_A + lay.nnz_b, lay.max_abs


def identity(d: int, L: int) -> Prediction:
    if L == 1:
        return Prediction((d, d), d, 1.0)
    return Prediction((d,) + (2 * d,) * (L - 1) + (d,), 2 * d * L, 1.0)


def pad_depth(f: FNN, L: int) -> Prediction:
    p = L - f.depth
    if p == 0:
        return of(f)
    s_last, _ = _last(f)
    d = f.d_out
    c = f.counts()
    return Prediction(tuple(f.widths[:-1]) + (2 * d,) * p + (d,), c.S + s_last + 2 * d * p, max(c.B, 1.0))


def concat(f: FNN, g: FNN) -> Prediction:
    s_last, _ = _last(g)
    cf, cg = f.counts(), g.counts()
    widths = tuple(g.widths[:-1]) + (2 * g.d_out,) + tuple(f.widths[1:])
    return Prediction(widths, cf.S + cg.S + s_last + f.layers[0].nnz_A, max(cf.B, cg.B))


def compose(f: FNN, g: FNN) -> Prediction:
    """Merged composition; the merged map is formed densely here (small nets), independently of the COO path."""
    (A1, b1), (Ag, bg) = f.dense_maps()[0], g.dense_maps()[-1]
    A, b = A1 @ Ag, A1 @ bg + b1
    s_f1 = f.layers[0].nnz_A + f.layers[0].nnz_b
    s_gl, _ = _last(g)
    S = f.counts().S + g.counts().S - s_f1 - s_gl + int(np.count_nonzero(A) + np.count_nonzero(b))
    rest = [lay.max_abs for lay in f.layers[1:] + g.layers[:-1]]
    B = max(rest + [float(np.max(np.abs(A), initial=0.0)), float(np.max(np.abs(b), initial=0.0))])
    return Prediction(tuple(g.widths[:-1]) + tuple(f.widths[1:]), S, B)


def parallel(nets: list[FNN], shared_input: bool = True) -> Prediction:
    L = max(f.depth for f in nets)
    pads = [pad_depth(f, L) for f in nets]
    d0 = nets[0].d_in if shared_input else sum(f.d_in for f in nets)
    widths = (d0,) + tuple(sum(p.widths[j] for p in pads) for j in range(1, L + 1))
    return Prediction(widths, sum(p.S for p in pads), max(p.B for p in pads))
