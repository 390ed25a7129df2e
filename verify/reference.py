"""Reference semantics, kept apart from the constructions: softmax, the multivariate Swish function and the
Gaussian kernel, in float64 (numerically stable forms) and in high precision (mpmath).

A check compares a construction (or a stated bound) with these functions; nothing here is imported by
``constructions/`` or ``lemmas/``.

Stable forms used in float64 (so that the compared quantity is not destroyed by cancellation):
    softmax(λx)_j      = e^{λ(x_j - m)} / Σ_k e^{λ(x_k - m)},                m = max_k x_k;
    1 - softmax(λx)_i* = Σ_{j≠i*} e^{λ(x_j - m)} / Σ_k e^{λ(x_k - m)}        (no 1 - (1 - tiny));
    S_λ(x)             = Σ_j x_j softmax(λx)_j   (the function itself, evaluated as defined);
    k(x, y)            = e^{-‖x - y‖²}.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np



# ------------------------------------------------------------------------------------------------ softmax
def softmax(x, lam: float = 1.0) -> np.ndarray:
    """softmax(λ x) along the last axis (float64, max-shifted)."""
    x = np.asarray(x, dtype=np.float64)
    z = lam * (x - np.max(x, axis=-1, keepdims=True))
    e = np.exp(z)
    return e / np.sum(e, axis=-1, keepdims=True)


def one_minus_top(x, lam: float = 1.0) -> np.ndarray:
    """1 - softmax(λx)_{i*} with i* = argmax x (first maximiser), without cancellation."""
    x = np.asarray(x, dtype=np.float64)
    i = np.argmax(x, axis=-1)
    z = lam * (x - np.max(x, axis=-1, keepdims=True))
    e = np.exp(z)
    # the i* entry is exactly e^0 = 1, so Σ_k e_k - 1 is formed from the others only:
    mask = np.ones_like(e, dtype=bool)
    np.put_along_axis(mask, i[..., None], False, axis=-1)
    others = np.sum(np.where(mask, e, 0.0), axis=-1)
    return others / (1.0 + others)


def min_gap(x) -> np.ndarray:
    """δ(x) = x_{i*} - max_{j≠i*} x_j (0 at a tie)."""
    x = np.sort(np.asarray(x, dtype=np.float64), axis=-1)
    return x[..., -1] - x[..., -2]


def swish(x, lam: float = 1.0) -> np.ndarray:
    """The multivariate Swish S_λ(x) = Σ_i x_i softmax(λx)_i (float64, as defined)."""
    x = np.asarray(x, dtype=np.float64)
    return np.sum(x * softmax(x, lam), axis=-1)


def dps_for(x, lam, dps: int) -> int:
    """Working digits so that entries as small as e^{-λ(max x - min x)} keep ``dps`` significant digits when
    added to O(1) quantities: dps + λ(max - min)/ln 10 + 5."""
    x = np.ravel(np.asarray(x, dtype=np.float64))
    return int(dps + float(lam) * float(np.ptp(x)) / math.log(10) + 5)


def softmax_mp(x, lam=1, dps: int = 60) -> list:
    """softmax(λx) in mpmath (x converted exactly from float64), at enough digits that 1 - s_i keeps ``dps``
    significant digits (``dps_for``)."""
    with mpmath.workdps(dps_for(x, lam, dps)):
        xs = [mpmath.mpf(float(v)) for v in np.ravel(x)]
        lam = mpmath.mpf(lam)
        m = max(xs)
        e = [mpmath.exp(lam * (v - m)) for v in xs]
        s = mpmath.fsum(e)
        return [v / s for v in e]


def one_minus_top_mp(x, lam=1, dps: int = 60):
    """1 - softmax(λx)_{i*} = Σ_{j≠i*} e^{λ(x_j - x_i*)} / (1 + Σ_{j≠i*} ...) in mpmath (no cancellation)."""
    with mpmath.workdps(dps):
        xs = [mpmath.mpf(float(v)) for v in np.ravel(x)]
        i = int(np.argmax(np.ravel(x)))
        lam = mpmath.mpf(lam)
        e = [mpmath.exp(lam * (v - xs[i])) for j, v in enumerate(xs) if j != i]
        o = mpmath.fsum(e)
        return o / (1 + o)


def swish_gap_mp(x, lam=1, dps: int = 60):
    """max_i x_i - S_λ(x) in mpmath, as Σ_j s_j (max - x_j) (equal to the definition, no cancellation)."""
    with mpmath.workdps(dps_for(x, lam, dps)):
        s = softmax_mp(x, lam, dps)
        xs = [mpmath.mpf(float(v)) for v in np.ravel(x)]
        m = max(xs)
        return mpmath.fsum(sj * (m - xj) for sj, xj in zip(s, xs))


def weighted_value_error(x, v, lam: float = 1.0) -> np.ndarray:
    """‖Σ_j softmax(λx)_j v_j - v_{i*}‖_2 for x (..., n), v (..., n, p), formed as ‖Σ_{j≠i*} s_j (v_j - v_{i*})‖
    (the same vector, without cancellation against v_{i*})."""
    x = np.asarray(x, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    s = softmax(x, lam)
    i = np.argmax(x, axis=-1)
    vi = np.take_along_axis(v, i[..., None, None], axis=-2)
    return np.linalg.norm(np.sum(s[..., None] * (v - vi), axis=-2), axis=-1)


def weighted_value_error_mp(x, v, lam=1, dps: int = 60):
    """The same in mpmath, as ‖Σ_{j≠i*} s_j (v_j - v_i*)‖."""
    with mpmath.workdps(dps_for(x, lam, dps)):
        s = softmax_mp(x, lam, dps)
        v = np.asarray(v, dtype=np.float64)
        p = v.shape[-1]
        i = int(np.argmax(np.ravel(x)))
        out = [mpmath.fsum(s[j] * (mpmath.mpf(float(v[j, c])) - mpmath.mpf(float(v[i, c])))
                           for j in range(len(s)) if j != i) for c in range(p)]
        return mpmath.sqrt(mpmath.fsum(o ** 2 for o in out))


# ------------------------------------------------------------------------------------------ Gaussian kernel
def gauss_kernel(x, y) -> np.ndarray:
    """k(x, y) = e^{-‖x - y‖²} on the last axis."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return np.exp(-np.sum((x - y) ** 2, axis=-1))


def gauss_kernel_mp(x, y, dps: int = 40):
    with mpmath.workdps(dps):
        return mpmath.exp(-mpmath.fsum((mpmath.mpf(float(a)) - mpmath.mpf(float(b))) ** 2
                                       for a, b in zip(np.ravel(x), np.ravel(y))))


def poisson_tail_mp(rate, K: int, dps: int = 40):
    """P[Poisson(rate) >= K] = e^{-rate} Σ_{k>=K} rate^k / k!, summed term by term until the terms are below
    10^{-dps} of the sum (the ratio of successive terms rate/k is < 1/2 from there on, so the rest is at most
    twice the last term).  An independent route from the regularised incomplete gamma function."""
    with mpmath.workdps(dps + 10):
        r = mpmath.mpf(rate)
        K = int(K)
        if K <= 0:
            return mpmath.mpf(1)
        term = mpmath.exp(-r) * r ** K / mpmath.factorial(K)
        total = term
        k = K
        while True:
            k += 1
            term = term * r / k
            total += term
            if r / k < 0.5 and term < total * mpmath.mpf(10) ** (-dps - 5):
                break
        return +total


def poisson_tail_upper(rate: float, K: int) -> float:
    """The closed-form bound (rate^K / K!) >= P[Poisson(rate) >= K] (the spec's second inequality)."""
    return float(mpmath.mpf(rate) ** K / mpmath.factorial(K))


def log_ratio(a: float, b: float) -> float:
    return math.log(a) - math.log(b)


# ------------------------------------------------------------------------------------ softmax attention
def attention_last(K, V, q, lam: float) -> np.ndarray:
    """Softmax attention of the last query over all N tokens: Σ_i softmax(λ s)_i v_i, s_i = <k_i, q>.

    K (..., N, d), V (..., N, d_v), q (..., d) -> (..., d_v).  Max-shifted (stable) float64; O(N d)."""
    K, V, q = (np.asarray(a, dtype=np.float64) for a in (K, V, q))
    s = np.einsum("...nd,...d->...n", K, q)
    w = np.exp(lam * (s - np.max(s, axis=-1, keepdims=True)))
    return np.einsum("...n,...nc->...c", w, V) / np.sum(w, axis=-1)[..., None]


def attention_sums(K, V, q, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """W = (1/N) Σ_i e^{λ(s_i - 1)} and A_c = (1/N) Σ_i e^{λ(s_i - 1)} v_{i,c}: the denominator and numerators of
    attention_last on the scale e^{-λ} (what the Lemma 3.3 block carries), float64."""
    K, V, q = (np.asarray(a, dtype=np.float64) for a in (K, V, q))
    s = np.einsum("...nd,...d->...n", K, q)
    w = np.exp(lam * (s - 1.0))
    N = s.shape[-1]
    return np.sum(w, axis=-1) / N, np.einsum("...n,...nc->...c", w, V) / N


def attention_sums_mp(K, V, q, lam: float, dps: int = 50) -> tuple:
    """``attention_sums`` in mpmath at ``dps`` digits: (W, [A_c]) as mpf, W = (1/N) Σ_i e^{λ(s_i - 1)}; the
    attention output is A_c / W.  Each distinct (k_i, v_i) row is evaluated once, weighted by its multiplicity.
    Use inside ``mpmath.workdps(dps)`` to keep working with the results at that precision."""
    K, V = np.asarray(K, dtype=np.float64), np.asarray(V, dtype=np.float64)
    d = K.shape[1]
    KV, cnt = np.unique(np.concatenate([K, V], axis=1), axis=0, return_counts=True)
    with mpmath.workdps(dps):
        qm = [mpmath.mpf(float(x)) for x in q]
        s = [mpmath.fsum(mpmath.mpf(float(a)) * b for a, b in zip(row[:d], qm)) for row in KV]
        w = [int(m) * mpmath.exp(mpmath.mpf(lam) * (si - 1)) for si, m in zip(s, cnt)]
        N = K.shape[0]
        W = mpmath.fsum(w) / N
        A = [mpmath.fsum(wi * mpmath.mpf(float(row[d + c])) for wi, row in zip(w, KV)) / N
             for c in range(V.shape[1])]
    return W, A


def attention_causal(K, V, Q, lam: float, chunk: int = 256) -> np.ndarray:
    """Dense causal softmax attention at every position: out_t = Σ_{i<=t} softmax_i(λ <k_i, q_t>) v_i.

    K, Q (N, d), V (N, d_v) -> (N, d_v).  Scores are formed as (chunk x N) blocks of the N x N matrix (never the
    whole matrix), masked above the diagonal, max-shifted per row."""
    K, V, Q = (np.asarray(a, dtype=np.float64) for a in (K, V, Q))
    N = K.shape[0]
    out = np.empty((N, V.shape[1]))
    cols = np.arange(N)
    for s0 in range(0, N, chunk):
        rows = np.arange(s0, min(N, s0 + chunk))
        S = lam * (Q[rows] @ K.T)
        S[cols[None, :] > rows[:, None]] = -np.inf
        S -= np.max(S, axis=1, keepdims=True)
        np.exp(S, out=S)
        out[rows] = (S @ V) / np.sum(S, axis=1, keepdims=True)
    return out
