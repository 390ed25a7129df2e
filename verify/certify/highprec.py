"""High-precision evaluation of emitted weights (issue 6): mpmath, exact rationals, and arb balls.

The stored float64 weights *are* the weights: every function here reads the emitted coordinates
(``FNN.affine_maps``, an SSM channel's A, B, C, D, the embedding and decoding matrices), converts each float64
exactly (a float64 is a binary rational, so ``arb(float)`` and ``Fraction(float)`` are exact), and evaluates the
same formula as the float64 forward pass with a different arithmetic:

* ``net_exact``  exact rational arithmetic (small nets, few points): the exact-arithmetic value itself;
* ``net_mp``     mpmath at ``dps`` digits (round-to-nearest; not an enclosure);
* ``fnn_arb``    python-flint ``arb`` balls at ``prec`` bits: a *sound enclosure* of the exact-arithmetic
                 network value (arb propagates rigorous error radii; ReLU is ``max(z, 0)`` on balls);
* ``ssm_layer_arb`` / ``model_arb``  the SSM layer y_t = Σ_{s < min(U, N)} k_s u_{t-s}, k_0 = D,
                 k_s = C A^{s-1} B (the filter recomputed in arb from the stored A, B, C, D, not taken from the
                 float64 ``filters``), then the model Emb -> (SSM, FNN)^M -> Dec, all in arb.

``float64_agreement`` is the cross-check of the float64 forward pass against these enclosures: on given
inputs, |float64 output - exact output| <= the float64 error the builder predicts (checks.allowance for the
Appendix F nets).  It is a Check that fails when the float64 pass (or the prediction) is wrong.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
from flint import arb, ctx

from constructions.fnn import FNN

from ..result import Check

DEFAULT_PREC = 212  # bits (~64 decimal digits)


# ------------------------------------------------------------------------------------------ mpmath, exact
def net_mp(net: FNN, x, dps: int = 60) -> list:
    """The network evaluated in mpmath at ``dps`` digits from its stored coordinates (not its forward pass)."""
    with mpmath.workdps(dps):
        h = [mpmath.mpf(float(v)) for v in np.ravel(x)]
        maps = net.affine_maps()
        for i, ((r, c, v), b, _) in enumerate(maps):
            out = [mpmath.mpf(float(bb)) for bb in b]
            for rr, cc, vv in zip(r.tolist(), c.tolist(), v.tolist()):
                out[rr] += mpmath.mpf(vv) * h[cc]
            h = out if i == len(maps) - 1 else [o if o > 0 else mpmath.mpf(0) for o in out]
        return h


def net_exact(net: FNN, x) -> list[Fraction]:
    """The network evaluated exactly in rational arithmetic (weights and float inputs are exact binary rationals;
    Fraction inputs are taken as they are)."""
    h = [v if isinstance(v, Fraction) else Fraction(float(v)) for v in (x if isinstance(x, list) else np.ravel(x))]
    maps = net.affine_maps()
    for i, ((r, c, v), b, _) in enumerate(maps):
        out = [Fraction(float(bb)) for bb in b]
        for rr, cc, vv in zip(r.tolist(), c.tolist(), v.tolist()):
            if h[cc]:
                out[rr] += Fraction(vv) * h[cc]
        h = out if i == len(maps) - 1 else [o if o > 0 else Fraction(0) for o in out]
    return h


# ------------------------------------------------------------------------------------------------- arb
class _Prec:
    """Context manager: python-flint's global working precision set to ``prec`` bits, restored after."""

    def __init__(self, prec: int):
        if int(prec) != prec or prec < 53:
            raise ValueError(f"precision must be an integer number of bits >= 53, got {prec!r}")
        self.prec = int(prec)

    def __enter__(self):
        self.old = ctx.prec
        ctx.prec = self.prec

    def __exit__(self, *exc):
        ctx.prec = self.old


_ZERO = arb(0)


def _relu(z: arb) -> arb:
    return z.max(_ZERO)


def _rows_of(net: FNN):
    """Per map: list over output rows of [(col, arb weight)], and the arb biases (exact conversions)."""
    out = []
    for (r, c, v), b, (d_out, _) in net.affine_maps():
        rows: list[list] = [[] for _ in range(d_out)]
        for rr, cc, vv in zip(r.tolist(), c.tolist(), v.tolist()):
            if vv != 0.0:
                rows[rr].append((cc, arb(vv)))
        out.append((rows, [arb(float(bb)) for bb in b]))
    return out


def _as_points(x, d: int, what: str) -> np.ndarray:
    X = np.asarray(x, dtype=np.float64)
    if X.ndim == 1:
        X = X[None, :]
    if X.ndim != 2 or X.shape[1] != d:
        raise ValueError(f"{what} expects points of shape (n, {d}) or ({d},), got {np.shape(x)}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{what}: input contains NaN or inf")
    return X


def fnn_arb_balls(net: FNN, x, prec: int = DEFAULT_PREC) -> list[list[arb]]:
    """arb enclosures of the exact-arithmetic network at each row of ``x`` (shape (n, d_in) or (d_in,))."""
    X = _as_points(x, net.d_in, "fnn_arb")
    with _Prec(prec):
        maps = _rows_of(net)
        return [_fnn_on_balls(net, [arb(float(v)) for v in pt], maps) for pt in X]


def balls_to_float(balls) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower, upper, mid) float64 arrays of nested lists of arb balls; lower/upper are rounded outward
    (arb's ``lower()``/``upper()`` are exact endpoints; their float conversion is then pushed one ulp out)."""
    lo = np.array([[float(z.lower()) for z in row] for row in balls])
    hi = np.array([[float(z.upper()) for z in row] for row in balls])
    mid = np.array([[float(z.mid()) for z in row] for row in balls])
    return np.nextafter(lo, -np.inf), np.nextafter(hi, np.inf), mid


def fnn_arb(net: FNN, x, prec: int = DEFAULT_PREC) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower, upper, mid), each of shape (n, d_out): a sound float64 enclosure [lower, upper] of the
    exact-arithmetic network on the stored weights at each input row, and the ball midpoints."""
    return balls_to_float(fnn_arb_balls(net, x, prec))


# --------------------------------------------------------------------------------------------- SSM, model
def _arb_vec(a) -> list[arb]:
    return [arb(float(v)) for v in np.ravel(a)]


def ssm_filters_arb(layer, length: int, prec: int = DEFAULT_PREC) -> list[list[arb]]:
    """k_0 = D, k_s = C A^{s-1} B (s < length) of every channel in arb, from the stored (A, B, C, D)."""
    with _Prec(prec):
        out = []
        for ch in layer.channels:
            k = [arb(ch.D)]
            m = ch.m
            if m and length > 1:
                nzA = [[(j, arb(float(ch.A[i, j]))) for j in range(m) if ch.A[i, j] != 0] for i in range(m)]
                C = _arb_vec(ch.C)
                v = _arb_vec(ch.B)  # A^{s-1} B
                for s in range(1, length):
                    acc = _ZERO
                    for ci, vi in zip(C, v):
                        acc = acc + ci * vi
                    k.append(acc)
                    v = [sum((a * v[j] for j, a in nzA[i]), _ZERO) for i in range(m)]
            k += [_ZERO] * (length - len(k))
            out.append(k)
        return out


def _matvec(W, v: list[arb]) -> list[arb]:
    if W is None:
        return v
    return [sum((arb(float(w)) * v[j] for j, w in enumerate(row) if w != 0), _ZERO) for row in np.asarray(W)]


def ssm_layer_arb(layer, Z, prec: int = DEFAULT_PREC) -> list[list[list[arb]]]:
    """The SSM layer on one sequence Z (N, d_in) (float64 array or nested lists of arb): out[t][j] in arb,
    y_t[h] = Σ_{s=0}^{min(U, N)-1} k_s[h] u_{t-s}[h], u = W_in z, out = W_out y."""
    with _Prec(prec):
        if isinstance(Z, np.ndarray):
            if Z.ndim != 2 or Z.shape[1] != layer.d_in:
                raise ValueError(f"ssm_layer_arb expects one sequence of shape (N, {layer.d_in}), got {Z.shape}")
            Z = [_arb_vec(z) for z in Z]
        N = len(Z)
        k = ssm_filters_arb(layer, min(layer.U, N), prec)
        u = [_matvec(layer.W_in, z) for z in Z]
        out = []
        for t in range(N):
            y = []
            for h in range(layer.H):
                acc = _ZERO
                for s in range(min(layer.U, t + 1)):
                    acc = acc + k[h][s] * u[t - s][h]
                y.append(acc)
            out.append(_matvec(layer.W_out, y))
        return out


def _fnn_on_balls(net: FNN, h: list[arb], maps=None) -> list[arb]:
    """The network applied to arb balls ``h`` (``maps``: ``_rows_of(net)``, computed once by callers that loop)."""
    maps = _rows_of(net) if maps is None else maps
    for i, (rows, b) in enumerate(maps):
        out = []
        for row, bb in zip(rows, b):
            s = bb
            for cc, w in row:
                s = s + w * h[cc]
            out.append(s)
        h = out if i == len(maps) - 1 else [_relu(o) for o in out]
    return h


def model_arb(model, X, prec: int = DEFAULT_PREC, decode: bool = True) -> list[list[arb]]:
    """SSMModel on one input sequence X (token ids (N,) or vectors (N, d)) in arb: Emb, then (SSM layer, FNN)
    pairs, then Dec on the last token (``decode``) or the last block's output at every position."""
    with _Prec(prec):
        emb = model.embedding
        if emb is None:
            Z = [_arb_vec(z) for z in np.asarray(X, dtype=np.float64)]
        elif emb.kind == "onehot":
            ids = np.asarray(X)
            if not np.issubdtype(ids.dtype, np.integer) or ids.ndim != 1:
                raise ValueError("model_arb: one-hot embedding expects a 1-D array of integer token ids")
            Z = [_arb_vec(emb.E[:, int(i)]) for i in ids]
        else:
            Z = [_matvec(emb.E, _arb_vec(z)) for z in np.asarray(X, dtype=np.float64)]
        if emb is not None and emb.b is not None:
            bb = _arb_vec(emb.b)
            Z = [[a + b for a, b in zip(z, bb)] for z in Z]
        if model.pre is not None:
            Z = [_fnn_on_balls(model.pre, z) for z in Z]
        for g, f in model.blocks:
            Z = ssm_layer_arb(g, Z, prec)
            Z = [_fnn_on_balls(f, z) for z in Z]
        if decode and model.decoding is not None:
            return [_matvec(model.decoding.W_dec, Z[-1])]
        return Z


def arb_eval(obj, X, prec: int = DEFAULT_PREC) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower, upper, mid) float arrays enclosing the exact-arithmetic output of any emitted object on the
    stored weights: an FNN on points X (n, d_in) -> (n, d_out); an SSMLayer on one sequence X (N, d_in) ->
    (N, d_out); an SSMModel on one input sequence -> (1, d_out) after decoding (or (N, D) without decoding).
    Used where a builder's notes say float64 is not enough, and as the cross-check of the float64 pass."""
    from constructions.model import SSMModel
    from constructions.ssm import SSMLayer

    if isinstance(obj, FNN):
        return fnn_arb(obj, X, prec)
    if isinstance(obj, SSMLayer):
        return balls_to_float(ssm_layer_arb(obj, np.asarray(X, dtype=np.float64), prec))
    if isinstance(obj, SSMModel):
        return balls_to_float(model_arb(obj, X, prec))
    raise TypeError(f"arb_eval: no high-precision evaluation for {type(obj).__name__}")


# --------------------------------------------------------------------------------------- cross-check
def float64_agreement(name: str, f64, lower, upper, tol: float, points=None) -> Check:
    """|float64 output - exact output| <= tol at every entry, judged against the arb enclosure [lower, upper]
    of the exact output: the deviation is at most max(f64 - lower, upper - f64) (sound); it FAILS when the
    deviation is certainly above tol (f64 outside [lower - tol, upper + tol]); an enclosure too wide to
    decide (upper - lower > tol) is INCONCLUSIVE."""
    f64, lower, upper = (np.asarray(a, dtype=np.float64) for a in (f64, lower, upper))
    if not (f64.shape == lower.shape == upper.shape):
        raise ValueError(f"shapes differ: {f64.shape}, {lower.shape}, {upper.shape}")
    dev_hi = np.maximum(f64 - lower, upper - f64)  # >= |f64 - exact|
    dev_lo = np.maximum(np.maximum(f64 - upper, lower - f64), 0.0)  # <= |f64 - exact|
    width = float(np.max(upper - lower)) if upper.size else 0.0
    i = int(np.argmax(dev_lo)) if dev_lo.size else 0
    bad = bool(dev_lo.size and dev_lo.ravel()[i] > tol)
    passed = False if bad else (True if np.all(dev_hi <= tol) else None)
    ce = None
    if bad and points is not None:
        ce = {"x": np.asarray(points)[np.unravel_index(i, dev_lo.shape)[0]].tolist(),
              "deviation_at_least": float(dev_lo.ravel()[i])}
    return Check(name, passed, float(np.max(dev_hi)) if dev_hi.size else 0.0, float(tol),
                 {"n": int(f64.size), "max_enclosure_width": width,
                  "precision": "python-flint arb (sound enclosure of the exact-arithmetic value)"}, ce)
