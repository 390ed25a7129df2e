"""A certificate of the Theorem I.2 instance with exact delay filters (``lemmas/fixed_positions.py``, docs/regression.md).

With delay channels the SSM layer is exact: every A, B, C, D entry is 0 or 1, so the float64 materialised filters are
the exact ones, and ``filters == identity`` means y_j = x_{-j} exactly (Emb = 1, no input or output maps).  The FNN is
U parallel copies with a merged read-out, so in exact arithmetic on the stored weights

    F(X)_0 = Σ_j g_j(x_{-j}),      g_j = the j-th block of the FNN (the output bias given to g_0),

and sup_X |F(X)_0 - f(X)| <= Σ_j sup_{y ∈ [0,1]} |g_j(y) - c_j sin(2π y)| + Σ_{j>=U} |c_j| (the tail, attained).  Each
term is a 1-D branch-and-bound certificate (``bnb.certify_fnn``); the tail is c_0 ζ(p, U + 1) in arb.
``split_parallel`` refuses a net whose maps have an entry outside the diagonal blocks (then the sum is not separable).
"""

from __future__ import annotations

import numpy as np
from flint import arb

from constructions.affine import Affine
from constructions.fnn import FNN

from .bnb import certify_fnn
from .enclosures import enclose_taylor_arb


def split_parallel(f: FNN, k: int) -> list[FNN]:
    """The k one-input blocks g_j of a net f: R^k -> R whose hidden maps are block diagonal (equal blocks) and whose
    last map sums the blocks: f(y) = Σ_j g_j(y_j) exactly.  ValueError if f is not of that form."""
    maps = f.affine_maps()
    if f.d_in != k or f.d_out != 1:
        raise ValueError(f"expected a net R^{k} -> R, got {f.d_in} -> {f.d_out}")
    widths = [shape[0] for _, _, shape in maps[:-1]]
    if any(w % k for w in widths):
        raise ValueError(f"hidden widths {widths} are not multiples of {k}")
    blocks = [[] for _ in range(k)]
    prev = 1  # input block width
    for i, ((r, c, v), b, shape) in enumerate(maps):
        last = i == len(maps) - 1
        w = 1 if last else shape[0] // k
        nz = v != 0
        rb = np.zeros_like(r) if last else r // w
        cb = c // prev
        if np.any(nz & (cb != rb) & (not last)):
            raise ValueError(f"map {i} has entries outside its diagonal blocks")
        for j in range(k):
            sel = nz & (cb == j) & (True if last else (rb == j))
            rr = np.zeros(int(sel.sum()), dtype=np.int64) if last else r[sel] - j * w
            if last:
                bias = b if j == 0 else np.zeros(1)
            else:
                bias = b[j * w:(j + 1) * w]
            blocks[j].append(Affine.from_coo(rr, c[sel] - j * prev, v[sel], (w, prev), bias))
        prev = w
    return [FNN(m) for m in blocks]


def sin_scaled_enclosure(c: float):
    """c sin(2π y) (c an exact float) on 1-D boxes (arb)."""
    C, a = arb(c), 2 * arb.pi()
    return enclose_taylor_arb(lambda x: C * (a * x).sin(), lambda x: C * a * (a * x).cos(),
                              lambda x: -C * a * a * (a * x).sin())


def tail_upper(c0: float, p: float, U: int) -> float:
    """An upper bound (float, rounded up) of c_0 ζ(p, U + 1) from arb."""
    t = arb(c0) * arb(p).zeta(arb(U + 1))
    return float(t.upper())


def certify_delay_model(model, c0: float, p: float, eps_parts, budget: int = 20000) -> dict:
    """Certify sup |F - f| for a delay-filter model: exactness of Emb and g (checked), the per-block certificates
    at the given per-block targets, the arb tail.  Returns the certified total bound and the parts."""
    g, f = model.blocks[0]
    U = g.U
    emb = model.embedding
    exact = (emb.b is None and np.array_equal(emb.E, np.ones((U, 1))) and g.W_in is None and g.W_out is None
             and len(g.channels) == U
             and all(np.all(np.isin(np.concatenate([ch.A.ravel(), ch.B, ch.C, [ch.D]]), (0.0, 1.0)))
                     for ch in g.channels)
             and np.array_equal(g.filters(U), np.eye(U)))
    if not exact:
        return {"certified": False, "reason": "the embedding / SSM layer is not the exact delay picker"}
    try:
        parts = split_parallel(f, U)
    except ValueError as e:
        return {"certified": False, "reason": str(e)}
    bounds, ok, boxes = [], True, 0
    for j, gj in enumerate(parts):
        cj = float(c0 * (j + 1.0) ** (-p))
        res = certify_fnn(gj, sin_scaled_enclosure(cj), [0.0], [1.0], float(eps_parts[j]), budget=budget,
                          stop_above=2 * float(eps_parts[j]))
        bounds.append(res.bound if res.bound_is_sound else float("inf"))
        boxes += res.boxes
        ok &= bool(res.certified)
    tail = tail_upper(c0, p, U)
    total = float(np.sum(bounds)) + tail
    total = float(np.nextafter(total, np.inf)) * (1 + 1e-15 * (U + 1))  # the float sum, rounded up
    return {"certified": ok, "bound": total, "window_bound": float(np.sum(bounds)), "tail_upper": tail,
            "blocks": U, "boxes": boxes, "worst_block": int(np.argmax(np.array(bounds) / np.asarray(eps_parts)))}
