"""γ-smooth functions (Definition 4.1, Okumoto & Suzuki 2021) and the Section 4 targets, as reference semantics.

Kept apart from the constructions (nothing here imports ``constructions/`` or ``lemmas/``); the regression claims
compare the built SSMs with these functions.

Trigonometric basis on [0, 1]:  ψ_0 = 1,  ψ_k(x) = √2 cos(2π k x) (k > 0),  √2 sin(2π |k| x) (k < 0); products
ψ_κ(x) = Π_i ψ_{κ_i}(x_i) over the coordinates form an orthonormal basis of L²([0, 1]^n) (uniform measure).
Frequency bands: for s ∈ N^n, δ_s(f) = Σ_{κ : ⌊2^{s_i - 1}⌋ <= |κ_i| < 2^{s_i}} <f, ψ_κ> ψ_κ  (s_i = 0: κ_i = 0 only;
s_i >= 1: 2^{s_i - 1} <= |κ_i| < 2^{s_i}), i.e. ``band(k) = 0 if k = 0 else ⌊log2 |k|⌋ + 1``.
Smoothness: mixed γ(s) = <a, s>, anisotropic γ(s) = max_i a_i s_i (a_i > 0; large a_i: smooth, unimportant).
Norm (Definition 4.1):  ‖f‖_{γ,p,θ} = (Σ_s 2^{θ γ(s)} ‖δ_s(f)‖_p^θ)^{1/θ}  (θ = ∞: the sup over s).
``gamma_norm`` computes it for a target given by finitely many coefficients {κ: c_κ}: exactly for p = 2
(Parseval: ‖δ_s f‖_2² = Σ_{κ in band s} c_κ²), and as an upper bound for p = ∞ (‖δ_s f‖_∞ <= Σ |c_κ| ‖ψ_κ‖_∞,
‖ψ_κ‖_∞ = 2^{#{i: κ_i ≠ 0}/2}); other p are refused (the uniform-measure L^p norm of a trigonometric polynomial has
no closed form).

The two Section 4 targets:
  * Theorem I.2 instance (fixed important positions): tokens x_t ∈ [0, 1], t <= 0 (x_t = 0 before the sequence's
    start, the causal zero padding), f(X) = Σ_{j>=0} c_j sin(2π x_{-j}), c_j = c_0 (j + 1)^{-p} (p > 1).  In the basis:
    sin(2π x) = ψ_{-1}(x)/√2, so f has the coefficient c_j/√2 at κ = -e_j and one band s = e_j per position:
    ‖f‖_{γ,2,θ} = (Σ_j (2^{a_j} |c_j| / √2)^θ)^{1/θ}, finite iff Σ_j 2^{θ a_j} |c_j|^θ < ∞ (``fixed_target_norm``).
    With polynomially decaying c_j this holds for a_j = r log2(j + 1) with θ(p - r) > 1: importance decays
    polynomially iff the smoothness grows logarithmically; Assumption 4.3's polynomially growing a_j would need
    c_j <= 2^{-a_j} (super-polynomial decay).
  * Theorem 4.5 instance (Appendix C, continuous variant): tokens x_i ∈ [0, 1]^d, i = 1..N, importance μ(x) = <w, x>,
    i* = argmax_i μ(x_i) (unique, margin δ_μ), target f(x_{i*}) = sin(2π <u, x_{i*}>) (``selection_target``).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

GAMMAS = ("mixed", "anisotropic")


# ------------------------------------------------------------------------------------------- basis and bands
def psi(k: int, x) -> np.ndarray:
    """ψ_k(x) on [0, 1] (float64)."""
    x = np.asarray(x, dtype=np.float64)
    k = int(k)
    if k == 0:
        return np.ones_like(x)
    if k > 0:
        return math.sqrt(2.0) * np.cos(2.0 * math.pi * k * x)
    return math.sqrt(2.0) * np.sin(2.0 * math.pi * (-k) * x)


def psi_product(kappa, X) -> np.ndarray:
    """ψ_κ(X) = Π_i ψ_{κ_i}(X[..., i])."""
    X = np.asarray(X, dtype=np.float64)
    kappa = tuple(int(k) for k in kappa)
    if X.shape[-1] != len(kappa):
        raise ValueError(f"κ has {len(kappa)} coordinates but the points have {X.shape[-1]}")
    out = np.ones(X.shape[:-1])
    for i, k in enumerate(kappa):
        if k:
            out = out * psi(k, X[..., i])
    return out


def band(k: int) -> int:
    """The band index of the frequency k: 0 for k = 0, else ⌊log2 |k|⌋ + 1 (2^{s-1} <= |k| < 2^s)."""
    k = abs(int(k))
    return 0 if k == 0 else k.bit_length()


def band_of(kappa) -> tuple[int, ...]:
    return tuple(band(k) for k in kappa)


def gamma(s, a, kind: str) -> float:
    """γ(s): mixed <a, s> or anisotropic max_i a_i s_i."""
    s = np.asarray(s, dtype=np.float64)
    a = np.asarray(a, dtype=np.float64)
    if s.shape != a.shape:
        raise ValueError(f"s and a must have the same shape, got {s.shape} and {a.shape}")
    if kind == "mixed":
        return float(np.dot(a, s))
    if kind == "anisotropic":
        return float(np.max(a * s)) if s.size else 0.0
    raise ValueError(f"γ must be one of {GAMMAS}, got {kind!r}")


def bands(coef: dict) -> dict:
    """Group the coefficients {κ: c_κ} by band s: {s: [(κ, c_κ), ...]}."""
    out: dict = {}
    for kappa, c in coef.items():
        out.setdefault(band_of(kappa), []).append((tuple(int(k) for k in kappa), float(c)))
    return out


def band_norm(terms, p) -> float:
    """‖δ_s f‖_p for the terms [(κ, c)] of one band: exact for p = 2, an upper bound for p = ∞."""
    if p == 2:
        return math.sqrt(math.fsum(c * c for _, c in terms))
    if p == math.inf:
        return math.fsum(abs(c) * 2.0 ** (sum(k != 0 for k in kappa) / 2) for kappa, c in terms)
    raise ValueError(f"p must be 2 (exact) or inf (bound), got {p!r}")


def gamma_norm(coef: dict, a, kind: str, p=2, theta=2) -> float:
    """‖f‖_{γ,p,θ} of f = Σ_κ c_κ ψ_κ (finitely many coefficients; exact for p = 2, an upper bound for p = ∞)."""
    if not coef:
        return 0.0
    a = np.asarray(a, dtype=np.float64)
    if np.any(~np.isfinite(a)) or np.any(a <= 0):
        raise ValueError("the smoothness a must be finite and positive")
    n = len(next(iter(coef)))
    if a.shape != (n,):
        raise ValueError(f"a must have {n} entries (one per coordinate), got shape {a.shape}")
    if not (theta == math.inf or theta >= 1):
        raise ValueError(f"θ must be >= 1 or inf, got {theta!r}")
    vals = [2.0 ** gamma(s, a, kind) * band_norm(t, p) for s, t in bands(coef).items()]
    if theta == math.inf:
        return max(vals)
    return math.fsum(v ** theta for v in vals) ** (1.0 / theta)


def evaluate(coef: dict, X) -> np.ndarray:
    """f(X) = Σ_κ c_κ ψ_κ(X) (float64)."""
    X = np.asarray(X, dtype=np.float64)
    return sum((c * psi_product(k, X) for k, c in coef.items()), np.zeros(X.shape[:-1]))


# ------------------------------------------------------------------------------------------- Theorem I.2 target
def fixed_coefficients(c0: float, p: float, J: int) -> np.ndarray:
    """c_j = c_0 (j + 1)^{-p}, j = 0..J-1."""
    return c0 * (np.arange(J, dtype=np.float64) + 1.0) ** (-p)


def fixed_as_coefficients(c: np.ndarray) -> dict:
    """Σ_j c_j sin(2π x_{-j}) in the basis: coordinate j = position -j, coefficient c_j/√2 at κ = -e_j."""
    J = len(c)
    out = {}
    for j, cj in enumerate(c):
        k = [0] * J
        k[j] = -1
        out[tuple(k)] = float(cj) / math.sqrt(2.0)
    return out


def tail_sum(c0: float, p: float, U: int, dps: int = 30):
    """Σ_{j>=U} c_0 (j + 1)^{-p} = c_0 ζ(p, U + 1) (Hurwitz zeta, mpmath)."""
    with mpmath.workdps(dps):
        return mpmath.mpf(c0) * mpmath.zeta(mpmath.mpf(p), U + 1)


def fixed_target(X, c0: float, p: float, tail_value=None) -> np.ndarray:
    """f(X) for sequences X (..., N) of scalars in [0, 1], last token = position 0; the positions before the
    stored N are 0 (padding) unless ``tail_value`` t is given, in which case every earlier position holds t and
    contributes sin(2π t) c_0 ζ(p, N + 1) (the infinite sequence's exact tail)."""
    X = np.asarray(X, dtype=np.float64)
    N = X.shape[-1]
    c = fixed_coefficients(c0, p, N)
    f = np.sin(2.0 * math.pi * X[..., ::-1]) @ c
    if tail_value is not None:
        f = f + math.sin(2.0 * math.pi * float(tail_value)) * float(tail_sum(c0, p, N))
    return f


def fixed_target_norm(c0: float, p: float, r: float, theta: float = 2.0) -> float:
    """‖f‖_{γ,2,θ} of the infinite I.2 target with a_j = r log2(j + 1) (one position per coordinate; mixed and
    anisotropic agree on the bands e_j): (Σ_j (2^{a_j} c_j/√2)^θ)^{1/θ} = c_0 2^{-1/2} ζ(θ(p - r))^{1/θ};
    inf when θ(p - r) <= 1."""
    e = theta * (p - r)
    if e <= 1:
        return math.inf
    return float(c0 / math.sqrt(2.0) * mpmath.zeta(e) ** (1.0 / theta))


# ------------------------------------------------------------------------------------------- Theorem 4.5 target
def importance(X, w) -> np.ndarray:
    """μ(x_i) = <w, x_i> for tokens X (..., N, d)."""
    return np.asarray(X, dtype=np.float64) @ np.asarray(w, dtype=np.float64)


def selection_target(X, w, u) -> tuple[np.ndarray, np.ndarray]:
    """(f(x_{i*}) = sin(2π <u, x_{i*}>), i*) with i* = argmax_i <w, x_i> (the first maximiser)."""
    X = np.asarray(X, dtype=np.float64)
    i = np.argmax(importance(X, w), axis=-1)
    top = np.take_along_axis(X, i[..., None, None], axis=-2)[..., 0, :]
    return np.sin(2.0 * math.pi * top @ np.asarray(u, dtype=np.float64)), i


def margin(X, w) -> tuple[np.ndarray, np.ndarray]:
    """(μ(x_{i*}) - max_{i≠i*} μ(x_i), μ(x_{i*})) per sequence."""
    m = importance(X, w)
    s = np.sort(m, axis=-1)
    return s[..., -1] - s[..., -2], s[..., -1]
