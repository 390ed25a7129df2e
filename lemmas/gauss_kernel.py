"""Lemmas F.5 / F.6: the Gaussian kernel as a (truncated) sum of products of functions of x and of y.

Statement verified (item 2, the pure expansion; the Improved Fast Gauss Transform expansion):

    e^{-‖x - y‖²} = Σ_{α ∈ N^d} φ_α(x) φ_α(y),    φ_α(x) = e^{-‖x‖²} (2^{|α|} / α!)^{1/2} x^α,

and for ‖x‖, ‖y‖ <= R the truncation to |α| < K errs by at most P[Poisson(2R²) >= K] (<= (2R²)^K / K!),
with equality at x = y, ‖x‖ = R.  Number of terms: #{α : |α| < K} = C(K - 1 + d, d).

Derivation (the docstring is the proof the verifier checks numerically).
  e^{-‖x-y‖²} = e^{-‖x‖²} e^{-‖y‖²} e^{2 x·y} and e^{2x·y} = Σ_k (2x·y)^k / k!; the multinomial theorem gives
  (2x·y)^k / k! = Σ_{|α|=k} (2^k / α!) x^α y^α, hence the expansion.  The tail |α| >= K is
  e^{-‖x‖²-‖y‖²} Σ_{k>=K} (2x·y)^k / k!, bounded in absolute value by e^{-(a+b)} Σ_{k>=K} (a+b)^k / k! with
  a = ‖x‖², b = ‖y‖² (since 2|x·y| <= 2‖x‖‖y‖ <= a + b): the Poisson(a + b) tail at K, increasing in the
  rate, so at most P[Poisson(2R²) >= K]; every inequality is an equality at x = y, ‖x‖ = R.
  Per term: φ_α(x)² = e^{-2‖x‖²} 2^{|α|} x^{2α} / α! <= e^{-2‖x‖²} (2‖x‖²)^{|α|}/|α|! <= 1 (a multinomial
  term of the Poisson weight), and by Cauchy-Schwarz Σ_α |φ_α(x) φ_α(y)| <= (Σ φ_α(x)²)^{1/2} (Σ φ_α(y)²)^{1/2}
  = 1.  So factors replaced by approximations with error <= η (and |.| <= 1 + η) change the truncated sum by
  at most T (2η + η²) with T the number of terms (items 1 and 3; ``lemmas/gauss_kernel_net.py``).

Choice of K.  ``minimal_K`` is the smallest K with P[Poisson(2R²) >= K] <= ε (mpmath, regularised incomplete
gamma); the spec's closed form ``sufficient_K`` = max(⌈2e²R²⌉, ⌈ln 1/ε⌉) also suffices, because
(2R²)^K / K! <= (2eR²/K)^K <= e^{-K} <= ε.  Either way T = C(K - 1 + d, d) = O(log^d 1/ε) at fixed d and R.
Bandwidth h: apply to x/h, y/h.

The emitted object is the list of multi-indices with their coefficients; ``features`` evaluates the φ_α.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath
import numpy as np

from .base import Construction


def multi_indices(K: int, d: int) -> np.ndarray:
    """All α ∈ N^d with |α| < K, by total degree and then lexicographically (decreasing first coordinate)."""
    out: list[tuple[int, ...]] = []

    def rec(prefix: tuple[int, ...], left: int, k: int):
        if len(prefix) == d - 1:
            out.append(prefix + (left,))
            return
        for a in range(left, -1, -1):
            rec(prefix + (a,), left - a, k)

    for k in range(K):
        if d == 1:
            out.append((k,))
        else:
            rec((), k, k)
    return np.array(out, dtype=np.int64).reshape(-1, d)


def n_terms(K: int, d: int) -> int:
    """C(K - 1 + d, d): the number of α ∈ N^d with |α| <= K - 1."""
    return math.comb(K - 1 + d, d)


def poisson_tail(rate, K: int, dps: int = 40):
    """P[Poisson(rate) >= K] as the regularised lower incomplete gamma function P(K, rate)."""
    if K <= 0:
        return mpmath.mpf(1)
    with mpmath.workdps(dps):
        return mpmath.gammainc(K, 0, mpmath.mpf(rate), regularized=True)


def minimal_K(R: float, eps: float) -> int:
    """The smallest K >= 1 with P[Poisson(2R²) >= K] <= ε."""
    rate = 2 * mpmath.mpf(R) ** 2
    K = 1
    while poisson_tail(rate, K) > eps:
        K += 1
    return K


def sufficient_K(R: float, eps: float) -> int:
    """max(⌈2e²R²⌉, ⌈ln 1/ε⌉) (the closed form of docs/lemmas; not minimal)."""
    return max(math.ceil(2 * math.e ** 2 * R * R), math.ceil(math.log(1 / eps)), 1)


@dataclass(frozen=True)
class GaussExpansion:
    """Σ_α φ_α(x) φ_α(y) over the stored multi-indices ``alphas`` (T, d) with coefficients
    ``coef`` = (2^{|α|} / α!)^{1/2}."""

    alphas: np.ndarray
    coef: np.ndarray

    @property
    def d(self) -> int:
        return self.alphas.shape[1]

    def features(self, x) -> np.ndarray:
        """φ_α(x) for every stored α: shape (..., T)."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape[-1] != self.d:
            raise ValueError(f"expected inputs of shape (..., {self.d}), got {x.shape}")
        kmax = int(self.alphas.max()) + 1 if self.alphas.size else 1
        pw = x[..., :, None] ** np.arange(kmax)  # (..., d, kmax)
        mono = np.ones(x.shape[:-1] + (len(self.alphas),))
        for i in range(self.d):
            mono = mono * pw[..., i, :][..., self.alphas[:, i]]
        return np.exp(-np.sum(x * x, axis=-1))[..., None] * self.coef * mono

    def __call__(self, x, y) -> np.ndarray:
        return np.sum(self.features(x) * self.features(y), axis=-1)

    def features_mp(self, x, dps: int = 40) -> list:
        with mpmath.workdps(dps):
            xs = [mpmath.mpf(float(v)) for v in np.ravel(x)]
            g = mpmath.exp(-mpmath.fsum(v * v for v in xs))
            out = []
            for a in self.alphas:
                k = int(a.sum())
                c = mpmath.sqrt(mpmath.mpf(2) ** k / mpmath.fprod(mpmath.factorial(int(ai)) for ai in a))
                out.append(g * c * mpmath.fprod(xi ** int(ai) for xi, ai in zip(xs, a)))
            return out

    def value_mp(self, x, y, dps: int = 40):
        with mpmath.workdps(dps):
            return mpmath.fsum(a * b for a, b in zip(self.features_mp(x, dps), self.features_mp(y, dps)))

    def counts(self) -> dict:
        """Read from the stored terms: T, the truncation order K = max |α| + 1, d."""
        return {"terms": int(len(self.alphas)), "K": int(self.alphas.sum(axis=1).max()) + 1 if len(self.alphas) else 0,
                "d": self.d}

    def without(self, i: int) -> "GaussExpansion":
        """The same expansion with term i removed (a mutant for the self-test)."""
        keep = np.arange(len(self.alphas)) != i
        return GaussExpansion(self.alphas[keep], self.coef[keep])


def coefficients(alphas: np.ndarray) -> np.ndarray:
    """(2^{|α|} / α!)^{1/2} for each row α."""
    k = alphas.sum(axis=1)
    lf = np.array([sum(math.lgamma(int(a) + 1) for a in row) for row in alphas])
    return np.exp(0.5 * (k * math.log(2.0) - lf))


def build_expansion(d: int, R: float, eps: float, K: int | None = None, rule: str = "minimal") -> Construction:
    """The truncated expansion with error <= ε for ‖x‖, ‖y‖ <= R: K = ``minimal_K`` (default) or
    ``sufficient_K`` (rule='sufficient'), or given.  Formula: terms = C(K - 1 + d, d), K."""
    if K is None:
        K = minimal_K(R, eps) if rule == "minimal" else sufficient_K(R, eps)
    al = multi_indices(K, d)
    exp = GaussExpansion(al, coefficients(al))
    bound = poisson_tail(2 * mpmath.mpf(R) ** 2, K)
    return Construction(exp, {"terms": n_terms(K, d), "K": K}, {"d": d, "R": R, "eps": eps, "rule": rule},
                        {"truncation_bound": float(bound), "minimal_K": minimal_K(R, eps), "sufficient_K": sufficient_K(R, eps),
                         "growth": "terms = C(K-1+d, d) = O(log^d 1/ε) at fixed d, R"})
