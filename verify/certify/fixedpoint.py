"""Sound fixed-point interval evaluation at P bits on Python integers (docs/certification.md).

Every value is an interval [lo, hi] 2^{-P} with integer ends; a float64 weight w = M 2^{-k} (M, k integers) is
applied exactly to the integer endpoints and the result rounded outward (floor / ceil of the shift); sums,
running sums and ReLU are exact on integers.  The enclosure therefore contains the exact-arithmetic output of the
network on its stored weights, at any P.  Vectorised over tokens with numpy object arrays.
"""

from __future__ import annotations

import numpy as np


def split_dyadic(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """w = M 2^{-k} exactly (M, k integer arrays) for finite float64 w."""
    m, e = np.frexp(np.asarray(w, dtype=np.float64))
    M = (m * 2.0 ** 53).astype(np.int64)
    return M, 53 - e.astype(np.int64)


def scaled(x: np.ndarray, P: int, up: bool) -> np.ndarray:
    """floor (ceil if up) of x 2^P for float64 x, as Python ints (object array of x's shape)."""
    M, k = split_dyadic(x)
    out = np.empty(x.shape, dtype=object)
    for i, (mm, kk) in enumerate(zip(M.ravel().tolist(), k.ravel().tolist())):
        sh = P - kk
        out.flat[i] = mm << sh if sh >= 0 else (-((-mm) >> -sh) if up else mm >> -sh)
    return out


def fnn_fixed(net, lo: np.ndarray, hi: np.ndarray, P: int) -> tuple[np.ndarray, np.ndarray]:
    """Interval enclosure of ``net`` on token columns: lo, hi object arrays (d_in, T) of integers (scale 2^{-P})."""
    maps = net.affine_maps()
    for i, ((r, c, v), b, (d_out, _)) in enumerate(maps):
        keep = v != 0
        r, c, v = r[keep], c[keep], v[keep]
        T = lo.shape[1]
        out_l = np.zeros((d_out, T), dtype=object)
        out_u = np.zeros((d_out, T), dtype=object)
        if v.size:
            M, k = split_dyadic(v)
            if np.any(k < 0):
                raise ValueError("weight above 2^53 in magnitude")
            pos = (v > 0)[:, None]
            Mo = M.astype(object)[:, None]
            ko = k.astype(object)[:, None]
            low = (np.where(pos, lo[c], hi[c]) * Mo) >> ko
            upp = -((-(np.where(pos, hi[c], lo[c]) * Mo)) >> ko)
            starts = np.flatnonzero(np.concatenate([[True], r[1:] != r[:-1]]))
            out_l[r[starts]] = np.add.reduceat(low, starts, axis=0)
            out_u[r[starts]] = np.add.reduceat(upp, starts, axis=0)
        out_l += scaled(b, P, False)[:, None]
        out_u += scaled(b, P, True)[:, None]
        if i < len(maps) - 1:
            out_l, out_u = np.maximum(out_l, 0), np.maximum(out_u, 0)
        lo, hi = out_l, out_u
    return lo, hi


def ssm_fixed(layer, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Running-sum and identity (delay-0) channels of an SSM layer on integer intervals (exact: sums of integers);
    ValueError for any other channel family."""
    gl, gu = lo.copy(), hi.copy()
    for h, ch in enumerate(layer.channels):
        if ch.family == "running_sum":
            gl[h] = np.cumsum(lo[h])
            gu[h] = np.cumsum(hi[h])
        elif not (ch.family == "delay" and ch.ell == 0):
            raise ValueError(f"channel family {ch.family} not supported by the fixed-point path")
    return gl, gu
