"""Lemma H.1 (sign-matrix embedding) and Proposition H.2 (Achlioptas' random projection), built by draw-and-verify.

Proposition H.2 (Achlioptas 2003, Theorem 1).  For n points u_1..u_n in R^d, ε ∈ (0, 1), β > 0 and

    k >= k_0(n, ε, β) = (4 + 2β) / (ε²/2 - ε³/3) · ln n,

a d×k matrix R with i.i.d. entries ±1 (probability 1/2 each), or √3·{+1, 0, -1} with probabilities
{1/6, 2/3, 1/6}, gives f(u) = u R / √k with (1 - ε)‖u - v‖² <= ‖f(u) - f(v)‖² <= (1 + ε)‖u - v‖² for all
pairs, with probability at least 1 - n^{-β}.

Lemma H.1, as verified here (the paper's text survives only as two bullets: "a matrix whose entries are all
± one value, such that a property holds for every pair of points"; this is our reconstruction).

* Point-set form (norm hypothesis).  For a finite set P ⊂ R^d with ‖u‖ <= 1 for every u ∈ P and ε ∈ (0, 1),
  there is S ∈ {±1}^{k×d} such that R = S / √k satisfies |⟨R u, R v⟩ - ⟨u, v⟩| <= ε for all u, v ∈ P (u = v
  included), with k = O(ε^{-2} log |P|).  Proof route: Prop. H.2 on P ∪ {0} at distortion ε/3 preserves the
  norms and distances; polarisation ⟨u, v⟩ = (‖u‖² + ‖v‖² - ‖u - v‖²)/2 with ‖u - v‖² <= 4 gives an
  inner-product error <= (ε/3)(1 + 1 + 4)/2 = ε.  So k_0(|P| + 1, ε/3, β) suffices with probability
  >= 1 - (|P| + 1)^{-β}.
* Vocabulary form (the one the tasks use).  For the one-hot vectors of a vocabulary V and δ ∈ (0, 1) there is
  E ∈ {±1/√k}^{k×|V|} with ‖E e_v‖ = 1 exactly and |⟨E e_v, E e_w⟩| <= δ for all v ≠ w.  Every column has
  norm 1 whatever the signs, so only the off-diagonal entries of the Gram matrix matter.  Each is a mean of k
  independent signs: Hoeffding, P(|Σ| >= δk) <= 2 exp(-kδ²/2), and a union bound over the |V|(|V|-1)/2 pairs
  give failure <= |V|(|V|-1) exp(-kδ²/2), below p once k >= 2 ln(|V|(|V|-1)/p) / δ².  Through Prop. H.2
  (polarisation with ‖e_v - e_w‖² = 2 and exact unit norms) Achlioptas' route needs k_0(|V|, δ, β).  The
  exact binomial tail replaces Hoeffding's in ``k_union_exact``.

Arithmetic.  All checks are exact: the Gram matrix S Sᵀ of a ±1 matrix is an integer matrix (``int_gram``: a
float64 BLAS product, exact because every partial sum is an integer of magnitude <= k·d < 2^53, then cast to
int64; the vocabulary search uses ``gram_offdiag_max``: float32 BLAS in column blocks, exact below k = 2^24,
memory O(block²), and a failing draw is rejected at the first block holding a violation — |V| = 8192 at
k = 256 in about 3 s with the failing k = 4, 16, 64 included), and |⟨E e_v, E e_w⟩| <= δ  ⟺  |G_vw| <= floor(δ k) with the floor taken on the exact rational value of
the float δ.  (The inner products are multiples of 1/k — of 2/k, since G_vw ≡ k mod 2 — so a float compare at
exactly δ can misfire.)  The point-set form is checked exactly for integer points X with a common integer
scale s (P = X / s): all quantities are then integers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

import numpy as np

MAX_DRAWS = 64


# ---------------------------------------------------------------------------------------------- bounds
def _check_unit_interval(name: str, x: float) -> float:
    x = float(x)
    if not math.isfinite(x) or not 0.0 < x < 1.0:
        raise ValueError(f"{name} must lie in (0, 1), got {x!r}")
    return x


def k_achlioptas(n: int, eps: float, beta: float) -> int:
    """Achlioptas' k_0 = ceil((4 + 2β) / (ε²/2 - ε³/3) · ln n) for n points at distortion ε."""
    eps = _check_unit_interval("eps", eps)
    if not (math.isfinite(beta) and beta > 0):
        raise ValueError(f"beta must be a positive number, got {beta!r}")
    if int(n) < 2:
        raise ValueError(f"need at least 2 points, got n={n}")
    return math.ceil((4 + 2 * beta) / (eps ** 2 / 2 - eps ** 3 / 3) * math.log(n))


def achlioptas_k0_real(n: int, eps: float, beta: float) -> float:
    """The real number (4 + 2β) / (ε²/2 - ε³/3) · ln n (before the ceiling)."""
    return (4 + 2 * beta) / (eps ** 2 / 2 - eps ** 3 / 3) * math.log(n)


def k_hoeffding(V: int, delta: float, p_fail: float = 1.0) -> int:
    """Smallest k with the Hoeffding/union bound |V|(|V|-1) exp(-kδ²/2) < p_fail: k > 2 ln(|V|(|V|-1)/p) / δ²."""
    delta = _check_unit_interval("delta", delta)
    if int(V) < 2:
        raise ValueError(f"vocabulary needs at least 2 tokens, got {V}")
    if not 0 < p_fail <= 1:
        raise ValueError(f"p_fail must lie in (0, 1], got {p_fail!r}")
    return math.floor(2 * math.log(V * (V - 1) / p_fail) / delta ** 2) + 1


def margin_int(delta: float, k: int) -> int:
    """floor(δ k) on the exact rational value of the float δ: |G_vw| <= margin_int  ⟺  |G_vw| / k <= δ."""
    return math.floor(Fraction(float(delta)) * int(k))


def pair_tail_exact(k: int, delta: float) -> Fraction:
    """Exact P(|Σ_{j<k} s_j| > δk) for i.i.d. uniform signs s_j: Σ = 2B - k with B ~ Bin(k, 1/2)."""
    m = margin_int(delta, k)
    bad = sum(math.comb(k, b) for b in range(k + 1) if abs(2 * b - k) > m)
    return Fraction(bad, 2 ** k)


def k_union_exact(V: int, delta: float, p_fail: float = 1.0, k_max: int | None = None) -> int:
    """Smallest k with the union bound over pairs, C(|V|, 2) · P(|Σ| > δk), below p_fail (exact binomial tail).

    Not monotone in k (parity of k moves floor(δk)), so this is the first k, scanned upwards, at which it holds."""
    pairs = V * (V - 1) // 2
    k_max = k_max or 4 * k_hoeffding(V, delta, p_fail)
    target = Fraction(p_fail)
    for k in range(1, k_max + 1):
        if pairs * pair_tail_exact(k, delta) < target:
            return k
    raise ValueError("no k below k_max satisfies the union bound")


# ---------------------------------------------------------------------------------------------- sampling
def draw_signs(seed: int, draw: int, shape: tuple, dist: str = "sign") -> np.ndarray:
    """The integer matrix of draw ``draw`` from ``seed``: entries ±1 ('sign') or {+1, 0, -1} with probabilities
    {1/6, 2/3, 1/6} ('sparse', Achlioptas' second distribution without its √3).  Reproducible from (seed, draw)."""
    rng = np.random.default_rng([int(seed), int(draw), *map(int, shape)])
    if dist == "sign":
        return (2 * rng.integers(0, 2, size=shape, dtype=np.int8) - 1).astype(np.int64)
    if dist == "sparse":
        u = rng.integers(0, 6, size=shape)
        return np.where(u == 0, 1, np.where(u == 1, -1, 0)).astype(np.int64)
    raise ValueError(f"unknown distribution {dist!r}; expected 'sign' or 'sparse'")


def int_gram(S: np.ndarray) -> np.ndarray:
    """Sᵀ S for an integer matrix S (k, m) with |entries| <= 1, exactly, as int64 (float64 BLAS, exact below 2^53)."""
    S = np.asarray(S)
    if S.ndim != 2:
        raise ValueError(f"expected a 2-D matrix, got shape {S.shape}")
    if S.shape[0] >= 2 ** 52:
        raise ValueError("k too large for exact float64 accumulation")
    F = S.astype(np.float64)
    return np.rint(F.T @ F).astype(np.int64)


# ---------------------------------------------------------------------------------------------- vocabulary code
@dataclass(frozen=True)
class VocabCode:
    """E = signs / √k ∈ {±1/√k}^{k×|V|} with |⟨E e_v, E e_w⟩| <= δ for v ≠ w (verified on the integer Gram)."""

    E: np.ndarray  # (k, V) float64
    signs: np.ndarray  # (k, V) int64, entries ±1
    k: int
    V: int
    delta: float
    seed: int
    draw: int  # index of the emitted draw: draw_signs(seed, draw, (k, V)) == signs
    draws_tried: int  # matrices drawn and checked during the search (all k)
    max_abs_gram: int  # max_{v≠w} |G_vw| of the emitted matrix
    margin: int  # floor(δ k)
    k_achlioptas: int  # k_0(|V|, δ, β) with β -> 0 (the probability-1/2 statement needs β > 0; ceil of the limit)
    k_hoeffding: int  # 2 ln(|V|(|V|-1)) / δ² rounded up (union bound < 1)
    k_union_exact: int  # the same union bound with the exact binomial tail
    search: tuple = ()  # ((k, draws, successes), ...) in the order tried


def off_diagonal_max(G: np.ndarray) -> int:
    """max_{v ≠ w} |G_vw| of a square integer matrix (0 for a 1x1 matrix)."""
    if G.shape[0] < 2:
        return 0
    A = np.abs(G)
    np.fill_diagonal(A, 0)
    return int(A.max())


GRAM_BLOCK = 1024


def gram_offdiag_max(S: np.ndarray, stop_above: int | None = None, block: int = GRAM_BLOCK) -> int:
    """max_{v ≠ w} |(Sᵀ S)_vw| for a ±1 (or {0, ±1}) matrix S (k, m), in column blocks of the upper triangle
    (memory O(block²), not O(m²)).  The products are float32 BLAS, exact: every partial sum is an integer of
    magnitude <= k < 2^24.  With ``stop_above``: returns as soon as a block's max exceeds it (a value > stop_above,
    not necessarily the max) — a failing draw of Lemma H.1's search is rejected after one block."""
    S = np.asarray(S)
    if S.ndim != 2:
        raise ValueError(f"expected a 2-D matrix, got shape {S.shape}")
    k, m = S.shape
    if k >= 2 ** 24:
        raise ValueError("k too large for exact float32 accumulation")
    if S.size and np.max(np.abs(S)) > 1:
        raise ValueError("entries must lie in {-1, 0, 1}")
    F = np.ascontiguousarray(S.T, dtype=np.float32)  # (m, k)
    best = 0
    for i in range(0, m, block):
        Fi = F[i:i + block]
        for j in range(i, m, block):
            G = np.abs(Fi @ F[j:j + block].T)
            if i == j:
                np.fill_diagonal(G, 0)
            best = max(best, int(G.max()) if G.size else 0)
            if stop_above is not None and best > stop_above:
                return best
    return best


def code_ok(S: np.ndarray, delta: float, early: bool = False) -> tuple[bool, int]:
    """Whether the ±1 matrix S (k, V) meets |G_vw| <= floor(δk) off the diagonal; and max |G_vw| (with
    ``early``: some |G_vw| above the margin when it fails, found after as few Gram blocks as possible)."""
    margin = margin_int(delta, S.shape[0])
    m = gram_offdiag_max(S, stop_above=margin if early else None)
    return m <= margin, m


def _search_k(ok_at: Callable[[int, int], bool], k_lo: int, k_hi: int, tries: int):
    """Smallest k in [k_lo, k_hi] (binary search, assuming success gets likelier with k) at which one of ``tries``
    draws succeeds.  ``ok_at(k, draw)`` checks one draw.  Returns (k, draw, draws_tried, log)."""
    log, tried, best = [], 0, None
    lo, hi = k_lo, k_hi
    while lo <= hi:
        mid = (lo + hi) // 2
        hit = None
        for t in range(tries):
            tried += 1
            if ok_at(mid, t):
                hit = t
                break
        log.append((mid, t + 1, int(hit is not None)))
        if hit is not None:
            best = (mid, hit)
            hi = mid - 1
        else:
            lo = mid + 1
    if best is None:  # keep drawing at the top of the range
        for t in range(tries, tries + MAX_DRAWS):
            tried += 1
            if ok_at(k_hi, t):
                best = (k_hi, t)
                log.append((k_hi, t - tries + 1, 1))
                break
        else:
            raise RuntimeError(f"no draw succeeded at k = {k_hi} after {MAX_DRAWS + tries} draws")
    return best[0], best[1], tried, tuple(log)


def vocab_code(V: int, delta: float, seed: int = 0, k: int | None = None, tries: int = 4,
               k_max: int | None = None) -> VocabCode:
    """Lemma H.1's vocabulary code by draw-and-verify.

    With ``k`` given: draw (seed, 0), (seed, 1), ... at that k until the integer-Gram margin holds (at most
    MAX_DRAWS draws).  Without: the smallest k in [1, k_max] (default 2·Hoeffding's k) at which one of ``tries``
    draws succeeds, by binary search; the emitted matrix is that successful draw."""
    V = int(V)
    if V < 2:
        raise ValueError(f"vocabulary needs at least 2 tokens, got {V}")
    delta = _check_unit_interval("delta", delta)
    kh = k_hoeffding(V, delta)

    def ok_at(kk: int, draw: int) -> bool:
        return code_ok(draw_signs(seed, draw, (kk, V)), delta, early=True)[0]

    if k is not None:
        k = int(k)
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        for d in range(MAX_DRAWS):
            if ok_at(k, d):
                k_found, draw, tried, log = k, d, d + 1, ((k, d + 1, 1),)
                break
        else:
            raise RuntimeError(f"no draw met the margin at k = {k} after {MAX_DRAWS} draws")
    else:
        k_hi = int(k_max) if k_max is not None else 2 * kh
        if k_hi < 1:
            raise ValueError(f"k_max must be >= 1, got {k_hi}")
        k_found, draw, tried, log = _search_k(ok_at, 1, k_hi, tries)
    S = draw_signs(seed, draw, (k_found, V))
    ok, m = code_ok(S, delta)
    assert ok
    return VocabCode(E=S / math.sqrt(k_found), signs=S, k=k_found, V=V, delta=delta, seed=int(seed), draw=draw,
                     draws_tried=tried, max_abs_gram=m, margin=margin_int(delta, k_found),
                     k_achlioptas=math.ceil(4 / (delta ** 2 / 2 - delta ** 3 / 3) * math.log(V)),
                     k_hoeffding=kh, k_union_exact=k_union_exact(V, delta), search=log)


# ---------------------------------------------------------------------------------------------- point sets
@dataclass(frozen=True)
class PointSetEmbedding:
    """R = signs / √k with |⟨R u, R v⟩ - ⟨u, v⟩| <= ε for all u, v in P = X / scale (u = v included)."""

    R: np.ndarray  # (k, d) float64
    signs: np.ndarray  # (k, d) int64, ±1
    k: int
    eps: float
    seed: int
    draw: int
    draws_tried: int
    max_err_int: int  # max |⟨S x, S y⟩ - k ⟨x, y⟩| over pairs of integer points
    allowed_int: int  # floor(ε k scale²)
    k_achlioptas: int  # k_0(|P| + 1, ε/3, β) (the polarisation route)
    beta: float
    search: tuple = ()


def check_points(X, scale: int) -> np.ndarray:
    """Integer points X (n, d) with ‖x‖ <= scale (so P = X / scale lies in the unit ball), as int64."""
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"points must have shape (n, d) with n, d >= 1, got {X.shape}")
    if not np.issubdtype(X.dtype, np.integer):
        if not np.all(np.isfinite(X)) or not np.all(X == np.round(X)):
            raise ValueError("points must be integers (P = X / scale); got non-integer or non-finite entries")
    X = X.astype(np.int64)
    scale = int(scale)
    if scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale}")
    if np.any(np.sum(X * X, axis=1) > scale * scale):
        raise ValueError("hypothesis violated: some point has ‖x / scale‖ > 1")
    return X


def inner_error_int(S: np.ndarray, X: np.ndarray) -> int:
    """max over pairs (u = v included) of |⟨S x, S y⟩ - k ⟨x, y⟩| for integer S (k, d) and X (n, d), exactly."""
    k = S.shape[0]
    Y = X @ S.T  # (n, k) int64, exact
    bound = float(np.max(np.abs(Y))) if Y.size else 0.0
    if bound * bound * k >= 2 ** 52 or float(np.max(np.abs(X))) ** 2 * X.shape[1] * k >= 2 ** 52:
        raise ValueError("points too large for exact float64 accumulation")
    GY = np.rint(Y.astype(np.float64) @ Y.T.astype(np.float64)).astype(np.int64)
    GX = np.rint(X.astype(np.float64) @ X.T.astype(np.float64)).astype(np.int64)
    return int(np.max(np.abs(GY - k * GX)))


def point_embedding(X, scale: int, eps: float, seed: int = 0, k: int | None = None, beta: float = 1.0,
                    tries: int = 4) -> PointSetEmbedding:
    """Lemma H.1's point-set form by draw-and-verify on P = X / scale (integer X, ‖x‖ <= scale).

    With ``k`` given: draws at that k until the exact check passes.  Without: the smallest k in
    [1, k_0(|P| + 1, ε/3, β)] at which one of ``tries`` draws passes (binary search)."""
    X = check_points(X, scale)
    eps = _check_unit_interval("eps", eps)
    n, d = X.shape
    k0 = k_achlioptas(n + 1, eps / 3, beta)

    def allowed(kk: int) -> int:
        return math.floor(Fraction(eps) * kk * int(scale) ** 2)

    def ok_at(kk: int, draw: int) -> bool:
        return inner_error_int(draw_signs(seed, draw, (kk, d)), X) <= allowed(kk)

    if k is not None:
        k = int(k)
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        for dr in range(MAX_DRAWS):
            if ok_at(k, dr):
                kf, draw, tried, log = k, dr, dr + 1, ((k, dr + 1, 1),)
                break
        else:
            raise RuntimeError(f"no draw met the distortion at k = {k} after {MAX_DRAWS} draws")
    else:
        kf, draw, tried, log = _search_k(ok_at, 1, k0, tries)
    S = draw_signs(seed, draw, (kf, d))
    return PointSetEmbedding(R=S / math.sqrt(kf), signs=S, k=kf, eps=eps, seed=int(seed), draw=draw,
                             draws_tried=tried, max_err_int=inner_error_int(S, X), allowed_int=allowed(kf),
                             k_achlioptas=k0, beta=float(beta), search=log)


# ---------------------------------------------------------------------------------------------- Prop. H.2
def distance_distortion_ok(S: np.ndarray, X: np.ndarray, eps: float, sparse: bool = False) -> bool:
    """Exact check of (1-ε)‖u-v‖² <= ‖f(u)-f(v)‖² <= (1+ε)‖u-v‖² for all pairs of integer points X (n, d), with
    f(u) = u R / √k, R = S (signs) or √3 S (sparse): in integers, c ‖(u-v) S‖² against k (1 ± ε) ‖u-v‖², c ∈ {1, 3}.

    ε is taken as its exact rational value p/q: q c ‖(u-v)S‖² ∈ [(q - p) k ‖u-v‖², (q + p) k ‖u-v‖²]."""
    k = S.shape[0]
    n = X.shape[0]
    iu, ju = np.triu_indices(n, 1)
    D = X[iu] - X[ju]  # (pairs, d) int64
    P = D @ S.T  # (pairs, k) int64 exact
    lhs = (3 if sparse else 1) * np.einsum("ij,ij->i", P, P)
    nd = np.einsum("ij,ij->i", D, D)
    fr = Fraction(float(eps))
    p, q = fr.numerator, fr.denominator
    if q > 2 ** 20 or float(lhs.max(initial=0)) * q >= 2 ** 62 or float(nd.max(initial=0)) * k * (p + q) >= 2 ** 62:
        lo_ok = [q * int(a) >= (q - p) * k * int(b) for a, b in zip(lhs, nd)]
        hi_ok = [q * int(a) <= (q + p) * k * int(b) for a, b in zip(lhs, nd)]
        return bool(all(lo_ok) and all(hi_ok))
    return bool(np.all(q * lhs >= (q - p) * k * nd) and np.all(q * lhs <= (q + p) * k * nd))
