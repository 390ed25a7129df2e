"""Sound fixed-point interval evaluation at P bits: FNNs, SSM layers and whole models (docs/certification.md).

Every value is an interval [lo, hi] 2^{-P} with integer ends lo <= hi.  The fast path holds the integer ends as
int64 *limbs*: an array X of shape (L, 2, d, n) (limb, end lo/hi, coordinate, token) with

    value = Σ_j X[j] 2^{B j},    B = 24,    0 <= X[j] < 2^B for j < L - 1,    |X[L - 1]| < 2^B (signed top limb).

Soundness claim.  For every input given exactly (float64 inputs are exact dyadics; ``input_limbs`` rounds them
outward, exactly when P is large enough), the returned interval contains the output of the network computed in
exact arithmetic on its stored weights: the float64 arrays, or, for a map with exact parts
(``constructions.affine.ExactTail``, issue 15), the exact dyadic sum w = w_0 + w_1 + ... + w_r of its float64
expansion (``FNN.exact_maps``; each part is M_p 2^{-k_p}, so w 2^K = Σ_p M_p 2^{K - k_p} is an exact integer with
K = max_p k_p, and everything below applies to that integer).  Argument, step by step:
  * an affine map A x + b (``FixedFNN``): every stored weight is w = M 2^{-k} exactly (``split_dyadic``); with
    K = max(0, max k) over the map, w 2^K = M 2^{K - k} is an integer, split into base-2^B limbs.  Split by sign
    (W+ >= 0 >= W-), the exact integer sums  S_lo = W+·lo + W-·hi,  S_hi = W+·hi + W-·lo  at scale 2^{-(P+K)}
    bound W x over the box [lo, hi] from below and above (each term is monotone in its input).  They are computed
    with one sparse integer matrix product per map (scipy.sparse CSR, int64): the matrix G = Σ_i S_i ⊗ A_i
    (A_i: the i-th weight limbs, S_i: the shift by i limb places) applied to the stacked limbs of (lo, hi).
    No overflow: every entry of G and of X is < 2^B in magnitude, so a row of the product is < r 2^{2B} with r its
    nonzero count; ``_limb_matrix`` refuses (ValueError) unless r 2^{2B} + 2^B < 2^63, so every int64 sum is
    exact.  The only rounding: S_lo / 2^K floored and S_hi / 2^K ceiled (``_shift_down``, floor of
    (S_hi + 2^K - 1) / 2^K), i.e. outward; the bias is rounded outward to 2^{-P} (floor for lo, ceil for hi).
  * ReLU on interval ends is exact (max(lo, 0), max(hi, 0): monotone), read off the sign of the top limb.
  * carries (``_carry``) and the trimming of sign limbs change the representation, never the value.
  * SSM channels: running sums (window U: cumulative sum minus its value U steps back) and delays (shifts) are
    exact integer operations on each end (both are monotone: nonnegative filters); the optional input / output
    maps W_in, W_out are affine maps without bias, rounded as above.  Cosine and general channels are refused
    with a ValueError naming the family (their filters are not integers at scale 2^{-P}; no N x N path).
  * embedding (one-hot or vector) and decoding are affine maps, rounded as above.
By induction over the layers every interval contains the exact value.  The interval width grows by at most a few
units of 2^{-P} per map and by the interval arithmetic's dependency effect (Σ |w| per row), so it shrinks as P
grows (tests/verify/certify/test_fixedpoint.py checks containment against exact rationals, the shrinking width,
and that a wrongly rounded evaluator is caught).

The earlier evaluator on numpy object arrays of Python integers (one Python operation per weight and token) is
kept as ``fnn_fixed_objects`` / ``ssm_fixed_objects``: the reference the tests and the benchmark compare with.
``fnn_fixed`` / ``ssm_fixed`` keep their signatures (object arrays of Python integers in and out) and run on the
limb path.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

B = 24  # bits per limb
MASK = (1 << B) - 1
_MAX_ROW_TERMS = ((1 << 63) - (1 << B)) >> (2 * B)  # r 2^{2B} + 2^B < 2^63  (r <= 32767 at B = 24)
# Token chunk of the FNN path: the accumulator of the widest map holds about this many int64 entries.
_CHUNK_ENTRIES = 1 << 22
_MIN_CHUNK = 64


# ------------------------------------------------------------------------------------------ scalars
def split_dyadic(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """w = M 2^{-k} exactly (M, k integer arrays) for finite float64 w."""
    m, e = np.frexp(np.asarray(w, dtype=np.float64))
    M = (m * 2.0 ** 53).astype(np.int64)
    return M, 53 - e.astype(np.int64)


def exact_ints(parts: np.ndarray) -> tuple[list[int], int]:
    """Float64 expansions (shape (r, n): entry j is Σ_p parts[p, j], exactly) as integers V_j and one K >= 0 with
    Σ_p parts[p, j] = V_j 2^{-K} exactly."""
    parts = np.atleast_2d(np.asarray(parts, dtype=np.float64))
    M, k = split_dyadic(parts)
    nz = parts != 0
    K = int(max(0, int(k[nz].max()))) if nz.any() else 0
    out = [0] * parts.shape[1]
    for p in range(parts.shape[0]):
        for j in np.flatnonzero(nz[p]).tolist():
            out[j] += int(M[p, j]) << (K - int(k[p, j]))
    return out, K


def scaled_exact(parts: np.ndarray, P: int, up: bool) -> np.ndarray:
    """floor (ceil if up) of (Σ_p parts[p]) 2^P for float64 expansions (r, n), as Python ints (object array (n,))."""
    V, K = exact_ints(parts)
    out = np.empty(len(V), dtype=object)
    for j, v in enumerate(V):
        sh = P - K
        out[j] = v << sh if sh >= 0 else (-((-v) >> -sh) if up else v >> -sh)
    return out


def scaled(x: np.ndarray, P: int, up: bool) -> np.ndarray:
    """floor (ceil if up) of x 2^P for float64 x, as Python ints (object array of x's shape)."""
    x = np.asarray(x, dtype=np.float64)
    M, k = split_dyadic(x)
    out = np.empty(x.shape, dtype=object)
    for i, (mm, kk) in enumerate(zip(M.ravel().tolist(), k.ravel().tolist())):
        sh = P - kk
        out.flat[i] = mm << sh if sh >= 0 else (-((-mm) >> -sh) if up else mm >> -sh)
    return out


# ------------------------------------------------------------------------------------------ limbs
def _carry(X: np.ndarray) -> np.ndarray:
    """Propagate carries so that every limb but the top lies in [0, 2^B) (same value); grows the top while
    |top| >= 2^B and folds sign limbs while the top two fit one limb."""
    X = np.ascontiguousarray(X)
    c = np.empty(X.shape[1:], dtype=np.int64)
    for j in range(X.shape[0] - 1):
        np.right_shift(X[j], B, out=c)
        X[j] &= MASK
        X[j + 1] += c
    return _fold(X)


def _fold(X: np.ndarray) -> np.ndarray:
    """Grow the top limb while |top| >= 2^B, fold the top two limbs while they fit one (same value; carried)."""
    while np.abs(X[-1]).max(initial=0) >= (1 << B):
        top = X[-1]
        X = np.concatenate([X[:-1], (top & MASK)[None], (top >> B)[None]])
    while X.shape[0] > 1:
        if X[-1].any():
            comb = (X[-1] << B) + X[-2]
            if np.abs(comb).max(initial=0) >= (1 << B):
                break
            X[-2] = comb
        X = X[:-1]  # a view: no copy
    return X


def to_limbs(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Integer interval ends (object or int arrays of one shape (d, n)) -> limbs (L, 2, d, n)."""
    ends = np.stack([np.asarray(lo, dtype=object), np.asarray(hi, dtype=object)])
    bits = max([abs(int(v)).bit_length() for v in ends.ravel()] + [1])
    L = bits // B + 1
    X = np.empty((L,) + ends.shape, dtype=np.int64)
    for j in range(L - 1):
        X[j] = ((ends >> (B * j)) & MASK).astype(np.int64)
    X[L - 1] = (ends >> (B * (L - 1))).astype(np.int64)
    return _carry(X)


def from_limbs(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Limbs (L, 2, d, n) -> (lo, hi) object arrays of Python ints (d, n)."""
    acc = np.zeros(X.shape[1:], dtype=object)
    for j in range(X.shape[0] - 1, -1, -1):
        acc = (acc << B) + X[j].astype(object)
    return acc[0], acc[1]


def input_limbs(x: np.ndarray, P: int) -> np.ndarray:
    """float64 inputs x (d, n) -> limbs of [floor(x 2^P), ceil(x 2^P)] (exact when x 2^P is an integer)."""
    x = np.asarray(x, dtype=np.float64)
    return to_limbs(scaled(x, P, False), scaled(x, P, True))


def _shift_down(acc: np.ndarray, K: int) -> np.ndarray:
    """floor(acc / 2^K) on limbs of any form (the caller adds 2^K - 1 to the hi end first: ceil(v / 2^K) =
    floor((v + 2^K - 1) / 2^K))."""
    q, t = divmod(K, B)
    acc = _carry(_pad(acc, q + 2))
    if K == 0:
        return acc
    if acc.shape[0] <= q:  # |value| < 2^{Bq}: floor is 0 or -1 per entry
        return np.where(acc[-1] < 0, -1, 0)[None].astype(np.int64)
    a = acc[q:]
    out = a >> t
    if t:
        out[:-1] += (a[1:] & ((1 << t) - 1)) << (B - t)  # stays in [0, 2^B): a carried form
    return _fold(out)


def _relu(X: np.ndarray) -> np.ndarray:
    X *= X[-1] >= 0  # carried limbs: the sign of the value is the sign of the top limb
    return X


def _pad(X: np.ndarray, L: int) -> np.ndarray:
    """The same values on L limbs (zero limbs on top; value = Σ_j X[j] 2^{Bj} for any limbs)."""
    if X.shape[0] >= L:
        return X
    return np.concatenate([X, np.zeros((L - X.shape[0],) + X.shape[1:], dtype=np.int64)])


# ------------------------------------------------------------------------------------------ affine maps
def _int_limbs(v: int) -> list[int]:
    out = []
    while v:
        out.append(v & MASK)
        v >>= B
    return out


def _block_entries(rows, cols, neg, d_out, d_in):
    """Positions in the (2 d_out, 2 d_in) block [[W+, W-], [W-, W+]]: the lo row reads lo (w > 0) or hi (w < 0),
    the hi row reads hi (w > 0) or lo (w < 0)."""
    r = np.concatenate([rows, d_out + rows])
    c = np.concatenate([cols + np.where(neg, d_in, 0), cols + np.where(neg, 0, d_in)])
    return r, c


def _limb_entries_exact(rows, cols, parts, d_out, d_in):
    """{limb i: (rows, cols, signed limb values)} of the exact weights Σ_p parts[p] at scale 2^K (Python ints)."""
    V, K = exact_ints(parts)
    ents: dict[int, tuple[list, list, list]] = {}
    for r, c, v in zip(rows.tolist(), cols.tolist(), V):
        if v == 0:
            continue
        for i, limb in enumerate(_int_limbs(abs(v))):
            if limb:
                e = ents.setdefault(i, ([], [], []))
                s = -limb if v < 0 else limb
                rr, cc = _block_entries(np.array([r]), np.array([c]), np.array([v < 0]), d_out, d_in)
                e[0].extend(rr.tolist())
                e[1].extend(cc.tolist())
                e[2].extend([s, s])
    return ents, K


def _limb_entries_float(rows, cols, vals, d_out, d_in):
    """The same for float64 weights, vectorized: |w| 2^K = M 2^{K - k} with M < 2^53 split into three 24-bit
    pieces m_j, each shifted by t = (K - k) mod 24 (< 2^47: exact in int64) into limbs j + q and j + q + 1
    (q = (K - k) div 24), then carried."""
    keep = vals != 0
    rows, cols, vals = rows[keep], cols[keep], vals[keep]
    if not vals.size:
        return {}, 0
    M, k = split_dyadic(np.abs(vals))
    K = int(max(0, int(k.max())))
    s = K - k
    q, t = s // B, s % B
    nl = int(q.max()) + 5
    acc = np.zeros((nl, vals.size), dtype=np.int64)
    idx = np.arange(vals.size)
    for j in range(3):
        piece = ((M >> (B * j)) & MASK) << t
        np.add.at(acc, (q + j, idx), piece & MASK)
        np.add.at(acc, (q + j + 1, idx), piece >> B)
    for j in range(nl - 1):  # carry: every limb in [0, 2^B)
        acc[j + 1] += acc[j] >> B
        acc[j] &= MASK
    neg = vals < 0
    r2, c2 = _block_entries(rows, cols, neg, d_out, d_in)
    ents = {}
    for i in range(nl):
        nz = acc[i] != 0
        if nz.any():
            v = np.where(neg, -acc[i], acc[i])[nz]
            nz2 = np.concatenate([nz, nz])
            ents[i] = (r2[nz2], c2[nz2], np.concatenate([v, v]))
    return ents, K


class _Map:
    """One affine map as integer limb matrices at scale 2^{-K} and its bias rounded outward at 2^{-P}."""

    def __init__(self, rows, cols, vals, b, shape, relu: bool):
        """vals (nnz,) float64, or (1 + r, nnz) float64 expansions (exact value: the sum over the first axis);
        b likewise (d_out,) or (1 + r, d_out)."""
        vals = np.atleast_2d(np.asarray(vals, dtype=np.float64))
        self.d_out, self.d_in = int(shape[0]), int(shape[1])
        self.relu = relu
        self.b = np.atleast_2d(np.asarray(b, dtype=np.float64))
        rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
        if vals.shape[0] == 1:
            ents, self.K = _limb_entries_float(rows, cols, vals[0], self.d_out, self.d_in)
        else:
            ents, self.K = _limb_entries_exact(rows, cols, vals, self.d_out, self.d_in)
        self.limbs = {i: sp.csr_matrix((np.asarray(v, dtype=np.int64), (np.asarray(r), np.asarray(c))),
                                       shape=(2 * self.d_out, 2 * self.d_in)) for i, (r, c, v) in ents.items()}
        self.Lw = max(self.limbs) + 1 if self.limbs else 0
        self._G: dict[int, sp.csr_matrix] = {}
        self._bias: dict[int, np.ndarray | None] = {}

    def matrix(self, L: int) -> sp.csr_matrix:
        """G = Σ_i S_i ⊗ A_i: (L + Lw) 2 d_out x L 2 d_in; refuses if a row could overflow int64."""
        G = self._G.get(L)
        if G is None:
            parts = []
            for i, A in self.limbs.items():
                S = sp.eye(L + self.Lw, L, k=-i, dtype=np.int64, format="csr")
                parts.append(sp.kron(S, A, format="csr"))
            G = parts[0] if len(parts) == 1 else sum(parts[1:], parts[0]).tocsr()
            G.sum_duplicates()
            r = int(np.diff(G.indptr).max(initial=0))
            if r > _MAX_ROW_TERMS:
                raise ValueError(f"a row of the limb product has {r} terms > {_MAX_ROW_TERMS}: int64 could overflow")
            self._G[L] = G
        return G

    def bias(self, P: int) -> np.ndarray:
        """Limbs (Lb, 2, d_out, 1) of [floor(b 2^{P+K}), ceil(b 2^{P+K}) + 2^K - 1]: the bias at the product's
        scale (exact unless b has more than P + K fractional bits; then outward) plus the hi end's ceil offset."""
        if P not in self._bias:
            off = (1 << self.K) - 1
            lo = scaled_exact(self.b, P + self.K, False)[:, None]
            hi = scaled_exact(self.b, P + self.K, True)[:, None] + off
            self._bias[P] = to_limbs(lo, hi)
        return self._bias[P]

    def __call__(self, X: np.ndarray, P: int) -> np.ndarray:
        L, _, d, n = X.shape
        if d != self.d_in:
            raise ValueError(f"map takes dimension {self.d_in}, got {d}")
        bl = self.bias(P)
        if self.Lw:
            acc = (self.matrix(L) @ X.reshape(L * 2 * d, n)).reshape(L + self.Lw, 2, self.d_out, n)
        else:
            acc = np.zeros((1, 2, self.d_out, n), dtype=np.int64)
        acc = _pad(acc, bl.shape[0] + 1)
        acc[:bl.shape[0]] += bl  # |bias limbs| < 2^B: within the overflow margin of ``matrix``
        out = _shift_down(acc, self.K)
        return _fold(_relu(out)) if self.relu else out


class FixedFNN:
    """A ReLU FNN (or one affine map) compiled for the limb path: call with limbs (L, 2, d_in, n) and P."""

    def __init__(self, maps, relu_last: bool = False):
        self.maps = [_Map(r, c, v, b, shape, relu=(i < len(maps) - 1) or relu_last)
                     for i, ((r, c, v), b, shape) in enumerate(maps)]
        self.d_in = self.maps[0].d_in
        self.d_out = self.maps[-1].d_out
        self.width = max([m.d_out for m in self.maps] + [self.d_in])

    @classmethod
    def of(cls, net) -> "FixedFNN":
        """Compiled once per FNN object (cached while the net lives)."""
        hit = _COMPILED.get(id(net))
        if hit is not None and hit[0] is net:
            return hit[1]
        f = cls(net.exact_maps())
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.pop(next(iter(_COMPILED)))
        _COMPILED[id(net)] = (net, f)
        return f

    @classmethod
    def linear(cls, W: np.ndarray, b=None) -> "FixedFNN":
        """x -> W x (+ b), no ReLU."""
        W = np.asarray(W, dtype=np.float64)
        r, c = np.nonzero(W)
        return cls([((r, c, W[r, c]), np.zeros(W.shape[0]) if b is None else b, W.shape)])

    def __call__(self, X: np.ndarray, P: int) -> np.ndarray:
        n = X.shape[-1]
        step = max(_MIN_CHUNK, _CHUNK_ENTRIES // (2 * self.width * (X.shape[0] + 6)))
        if n <= step:
            return self._run(X, P)
        outs = [self._run(X[..., s:s + step], P) for s in range(0, n, step)]
        L = max(o.shape[0] for o in outs)
        return np.concatenate([_pad(o, L) for o in outs], axis=-1)

    def _run(self, X: np.ndarray, P: int) -> np.ndarray:
        X = np.ascontiguousarray(X)
        for m in self.maps:
            X = m(X, P)
        return X


# compiled FNNs by id (the net itself kept alongside, so an id is never reused while cached); oldest dropped first
_COMPILED: dict = {}
_COMPILED_MAX = 16


def fnn_fixed(net, lo: np.ndarray, hi: np.ndarray, P: int) -> tuple[np.ndarray, np.ndarray]:
    """Interval enclosure of ``net`` on token columns: lo, hi object arrays (d_in, T) of integers (scale 2^{-P});
    returns the output ends the same way (limb path, module docstring)."""
    return from_limbs(FixedFNN.of(net)(to_limbs(lo, hi), P))


# ------------------------------------------------------------------------------------------ SSM layers
def _check_exact(layer) -> None:
    for h, ch in enumerate(layer.channels):
        if ch.family not in ("running_sum", "delay"):
            raise ValueError(f"channel {h} has family {ch.family!r}: the fixed-point path evaluates running_sum and "
                             f"delay channels only (cosine / general filters are not integers at scale 2^-P)")


def ssm_fixed_limbs(layer, X: np.ndarray, P: int | None = None) -> np.ndarray:
    """The SSM layer on limbs (L, 2, d_in, N) (tokens on the last axis): running sums (window U) and delays,
    exact; W_in / W_out as affine maps rounded outward at P bits."""
    _check_exact(layer)
    if (layer.W_in is not None or layer.W_out is not None) and P is None:
        raise ValueError("an SSM layer with an input or output map needs P")
    if layer.W_in is not None:
        X = FixedFNN.linear(layer.W_in)(X, P)
    N = X.shape[-1]
    Y = np.zeros_like(X)
    for h, ch in enumerate(layer.channels):
        if ch.family == "running_sum":
            c = np.cumsum(X[:, :, h], axis=-1)  # limbs < 2^B summed over N < 2^38 tokens: exact in int64
            if layer.U < N:
                c[..., layer.U:] -= c[..., :N - layer.U].copy()
            Y[:, :, h] = c
        elif ch.ell < min(layer.U, N):
            Y[:, :, h, ch.ell:] = X[:, :, h, :N - ch.ell]
    Y = _carry(_pad(Y, Y.shape[0] + 2))
    if layer.W_out is not None:
        Y = FixedFNN.linear(layer.W_out)(Y, P)
    return Y


def ssm_fixed(layer, lo: np.ndarray, hi: np.ndarray, P: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The SSM layer on integer intervals (object arrays (d_in, N), tokens as columns): running-sum and delay
    channels exact (window U respected); ValueError for any other channel family."""
    return from_limbs(ssm_fixed_limbs(layer, to_limbs(lo, hi), P))


def ssm_last_fixed(pre: FixedFNN | None, layer, X: np.ndarray, P: int, chunk: int = 1024) -> np.ndarray:
    """Limbs (L, 2, d, 1) of the SSM layer's output at the last token of ``pre`` (token-wise, or identity) applied
    to the float64 tokens X (N, d_in), streamed over token chunks (no (N, D) limb array is kept)."""
    _check_exact(layer)
    N = X.shape[0]
    lo_t = max(0, N - layer.U)  # running sums at the last token: Σ_{t >= N - U}
    rs = np.array([ch.family == "running_sum" for ch in layer.channels])
    acc = None
    last = {}
    for s in range(0, N, chunk):
        Xi = input_limbs(X[s:s + chunk].T, P)
        Z = pre(Xi, P) if pre is not None else Xi
        if layer.W_in is not None:
            Z = FixedFNN.linear(layer.W_in)(Z, P)
        a = max(lo_t - s, 0)
        part = Z[..., a:].sum(axis=-1, keepdims=True) if a < Z.shape[-1] else np.zeros(Z.shape[:-1] + (1,), np.int64)
        if acc is None:
            acc = part
        else:
            L = max(acc.shape[0], part.shape[0])
            acc = _pad(acc, L) + _pad(part, L)  # limbs < 2^B, at most N < 2^38 of them: exact; the top limbs keep their signs
        for h, ch in enumerate(layer.channels):
            if not rs[h]:
                t = N - 1 - ch.ell
                if ch.ell < min(layer.U, N) and s <= t < s + Z.shape[-1]:
                    last[h] = Z[:, :, h, t - s]
    L = max([acc.shape[0]] + [v.shape[0] for v in last.values()])
    acc = _pad(acc, L)
    Y = np.zeros((L, 2, layer.H, 1), dtype=np.int64)
    Y[:, :, rs] = acc[:, :, rs]
    for h, v in last.items():
        Y[:v.shape[0], :, h, 0] = v
    Y = _carry(_pad(Y, L + 2))
    if layer.W_out is not None:
        Y = FixedFNN.linear(layer.W_out)(Y, P)
    return Y


def ssm_last_fixed_unique(pre: FixedFNN | None, layer, X: np.ndarray, P: int) -> np.ndarray:
    """``ssm_last_fixed`` evaluating the token-wise ``pre`` once per *distinct* token row of X: a token-wise map
    sends equal rows to equal intervals, so a running sum at the last token is Σ_u count_u Z_u (count_u the
    occurrences of row u inside the window; integers, exact: limbs < 2^B times counts summing to <= N < 2^38) and
    a delay reads the row at N - 1 - ell.  The same enclosure as ``ssm_last_fixed``; its cost scales with the
    number of distinct rows (sequences built from a pool of tokens), not with N."""
    _check_exact(layer)
    if layer.W_in is not None or layer.W_out is not None:
        return ssm_last_fixed(pre, layer, X, P)
    X = np.asarray(X, dtype=np.float64)
    N = X.shape[0]
    uniq, inv = np.unique(X, axis=0, return_inverse=True)
    inv = np.asarray(inv).ravel()
    Xi = input_limbs(uniq.T, P)
    Z = pre(Xi, P) if pre is not None else Xi
    cnt = np.bincount(inv[max(0, N - layer.U):], minlength=uniq.shape[0]).astype(np.int64)
    L = Z.shape[0]
    Y = np.zeros((L, 2, layer.H, 1), dtype=np.int64)
    for h, ch in enumerate(layer.channels):
        if ch.family == "running_sum":
            Y[:, :, h, 0] = (Z[:, :, h, :] * cnt).sum(axis=-1)
        elif ch.ell < min(layer.U, N):
            Y[:, :, h, 0] = Z[:, :, h, inv[N - 1 - ch.ell]]
    return _carry(_pad(Y, L + 2))


# ------------------------------------------------------------------------------------------ models
def _embed(model, X, P: int) -> np.ndarray:
    """Limbs (L, 2, D, N) of the embedding (identity when there is none) on one sequence X."""
    emb = model.embedding
    if emb is None:
        return input_limbs(np.asarray(X, dtype=np.float64).T, P)
    if emb.kind == "onehot":
        ids = np.asarray(X)
        one = np.zeros((emb.d_in, ids.shape[0]))
        one[ids, np.arange(ids.shape[0])] = 1.0
        Xi = input_limbs(one, P)
    else:
        Xi = input_limbs(np.asarray(X, dtype=np.float64).T, P)
    return FixedFNN.linear(emb.E, emb.b)(Xi, P)


def model_fixed(model, X, P: int, last_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Interval enclosure of ``SSMModel`` on one sequence X ((N,) ids or (N, d_in) vectors): embedding, the
    optional first FNN ``pre``, the (SSM layer, FNN) blocks, the decoding (on the last token) if present.
    Returns (lo, hi): object arrays of Python ints at scale 2^{-P}, shape (N, d_out) (or (1, d_out) with
    ``last_only``, or the logits (n_classes,) when the model decodes)."""
    Z = _embed(model, X, P)
    if model.pre is not None:
        Z = FixedFNN.of(model.pre)(Z, P)
    only_last = last_only or model.decoding is not None
    for i, (g, f) in enumerate(model.blocks):
        Z = ssm_fixed_limbs(g, Z, P)
        if only_last and i == len(model.blocks) - 1:
            Z = Z[..., -1:]
        Z = FixedFNN.of(f)(Z, P)
    if model.decoding is not None:
        Z = FixedFNN.linear(model.decoding.W_dec)(Z, P)
        lo, hi = from_limbs(Z)
        return lo[:, 0], hi[:, 0]
    lo, hi = from_limbs(Z)
    return lo.T, hi.T


# ------------------------------------------------------------------------------------------ reference
def fnn_fixed_objects(net, lo: np.ndarray, hi: np.ndarray, P: int) -> tuple[np.ndarray, np.ndarray]:
    """The earlier evaluator (reference for tests and benchmarks): one Python-integer operation per weight and
    token, each product rounded outward on its own; same contract as ``fnn_fixed``."""
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


def ssm_fixed_objects(layer, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The earlier SSM evaluator (reference): running-sum and identity (delay-0) channels, window U = N only."""
    gl, gu = lo.copy(), hi.copy()
    for h, ch in enumerate(layer.channels):
        if ch.family == "running_sum":
            gl[h] = np.cumsum(lo[h])
            gu[h] = np.cumsum(hi[h])
        elif not (ch.family == "delay" and ch.ell == 0):
            raise ValueError(f"channel family {ch.family} not supported by the fixed-point path")
    return gl, gu
