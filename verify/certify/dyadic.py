"""Exact float64 evaluation of a dyadic network, proved on the inputs evaluated (docs/tasks/precision.md).

A network whose weights are dyadic rationals (multiples of 2^-e_w with few bits) evaluated on dyadic inputs is
computed WITHOUT rounding in float64 as soon as every product and every partial sum is a multiple of the grid
2^-(e_w + e_in) (e_in: the grid of the layer's input) of magnitude < 2^53 times that grid.  Partial sums of
A h + b, in any summation order, are bounded by |A| |h| + |b|; running sums over time by Σ_s |u_s|; delays copy.
``dyadic_profile`` evaluates an ``SSMModel`` layer by layer on the actual inputs, measures each layer's grids and
these bounds, and returns the bits each layer needs: if all are <= 53, each float64 operation was exact (by
induction over the layers, starting from the exactly stored embedding), so the float64 outputs ARE the
exact-arithmetic outputs on these inputs and the bit count is the precision the verdict needed.
"""

from __future__ import annotations

import math

import numpy as np

from constructions.affine import Affine
from constructions.fnn import FNN

MANT = 53


def grid_exp(a) -> int:
    """The smallest e >= 0 such that every entry of ``a`` is an integer multiple of 2^-e (finite float64s only)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    a = a[a != 0]
    if a.size == 0:
        return 0
    if not np.all(np.isfinite(a)):
        raise ValueError("non-finite value in a dyadic profile")
    m, ex = np.frexp(np.abs(a))  # a = m 2^ex, m in [1/2, 1)
    mi = (m * 2.0 ** MANT).astype(np.int64)  # exact: m has at most 53 significant bits
    low = np.log2((mi & -mi).astype(np.float64)).astype(np.int64)  # trailing zero bits of the mantissa
    return int(max(0, np.max(MANT - ex - low)))


def _bits(bound: float, e: int) -> int:
    return 0 if bound == 0 else math.ceil(math.log2(bound) + e + 1e-12) + 1


def _abs_affine(lay: Affine) -> FNN:
    r, c, v = lay.coo()
    return FNN([Affine.from_coo(r, c, np.abs(v), (lay.d_out, lay.d_in), np.abs(lay.b))])


def _weights_exp(lay: Affine) -> int:
    v = lay.coo()[2]
    return max(grid_exp(v), grid_exp(lay.b))


def _fnn_stages(name: str, net: FNN, h: np.ndarray, out: list) -> np.ndarray:
    for i, lay in enumerate(net.layers):
        e_in, e_w = grid_exp(h), _weights_exp(lay)
        z = FNN([lay])(h)
        bound = float(np.max(_abs_affine(lay)(np.abs(h)), initial=0.0))
        out.append({"stage": f"{name} map {i + 1}", "e_in": e_in, "e_w": e_w, "e_out": grid_exp(z),
                    "max_partial_sum": bound, "bits": _bits(bound, e_in + e_w)})
        h = z if i == net.depth - 1 else np.maximum(z, 0.0)
    return h


def _ssm_stage(name: str, g, Z: np.ndarray, out: list) -> np.ndarray:
    fams = {c.family for c in g.channels}
    if not fams <= {"running_sum", "delay"}:
        raise ValueError(f"{name}: dyadic profile covers running-sum and delay channels only, got {sorted(fams)}")
    if g.W_out is not None:
        raise ValueError(f"{name}: dyadic profile covers layers without an output map")
    e_in = grid_exp(Z)
    e_w = 0
    u, ub = Z, np.abs(Z)
    if g.W_in is not None:
        e_w = grid_exp(g.W_in)
        u, ub = Z @ g.W_in.T, np.abs(Z) @ np.abs(g.W_in).T
    bound_in = float(np.max(ub, initial=0.0))
    y = g(Z, method="exact")
    rs = np.array([c.family == "running_sum" for c in g.channels])
    bound = max(bound_in, float(np.max(np.cumsum(np.abs(u[..., rs]), axis=-2), initial=0.0)) if rs.any() else 0.0)
    out.append({"stage": name, "e_in": e_in, "e_w": e_w, "e_out": grid_exp(y), "max_partial_sum": bound,
                "bits": _bits(bound, e_in + e_w)})
    return y


def dyadic_profile(model, X) -> dict:
    """Layer-by-layer grids and partial-sum bounds of ``model`` (an SSMModel with one-hot embedding, running-sum
    and delay channels, decoding) on token ids X (rows, N); see the module docstring.  Returns
    {"stages": [...], "bits_needed": max bits, "exact_in_float64": bits_needed <= 53, "outputs": logits}."""
    stages: list = []
    Z = model.embedding(np.asarray(X))
    stages.append({"stage": "embedding", "e_in": 0, "e_w": grid_exp(model.embedding.E), "e_out": grid_exp(Z),
                   "max_partial_sum": float(np.max(np.abs(Z), initial=0.0)),
                   "bits": _bits(float(np.max(np.abs(Z), initial=0.0)), grid_exp(Z))})
    if model.pre is not None:
        Z = _fnn_stages("pre FNN", model.pre, Z, stages)
    for i, (g, f) in enumerate(model.blocks):
        Z = _ssm_stage(f"SSM layer {i + 1}", g, Z, stages)
        Z = _fnn_stages(f"FNN {i + 1}", f, Z, stages)
    logits = None
    if model.decoding is not None:
        W = model.decoding.W_dec
        e_in, e_w = grid_exp(Z), grid_exp(W)
        logits = Z @ W.T
        bound = float(np.max(np.abs(Z) @ np.abs(W).T, initial=0.0))
        stages.append({"stage": "decoding", "e_in": e_in, "e_w": e_w, "e_out": grid_exp(logits),
                       "max_partial_sum": bound, "bits": _bits(bound, e_in + e_w)})
    bits = max(s["bits"] for s in stages)
    return {"stages": stages, "bits_needed": bits, "exact_in_float64": bits <= MANT, "outputs": logits}
