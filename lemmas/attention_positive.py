"""Lemma 3.3 by positive features: an f_2 ∘ g ∘ f_1 block whose float64 evaluation carries relative error only.

Same statement and interface as ``lemmas.attention`` (tokens (k_i, v_i, q_i), ‖k_i‖_2, ‖q_N‖_2 <= 1,
‖v_i‖_∞ <= 1, margin δ, s_{i*} >= τ with τ = δ - 1 by default; ‖F(X)_N - v_{i*}‖_∞ <= ε and
‖F(X)_N - Attn_λ(X)_N‖_∞ <= ε/2, λ = ``lemmas.attention.lam_for``).  Why a second route: the polynomial kernel
features of ``lemmas.attention`` cancel, so their sums need ABSOLUTE error below w_min = e^{-λ(1-τ)}/N, which under
the margin-only hypothesis is far below float64's resolution (~1e-17 at N = 256, δ = 0.5, ε = 0.1).  Here every
quantity the block adds is positive and every map is well conditioned (absolute error on logarithms and
exponents, relative error on positive values), so float64 rounding stays at ~N·2^-53 relative, whatever w_min is.

Kernel: a positive quadrature.  With F_t(k) = e^{λ‖k‖²/2 - λ‖k - t‖² - λ/2} and H_t(q) = e^{λ‖q‖²/2 - λ‖q - t‖² - λ/2}
(both in (0, 1] for ‖k‖, ‖q‖ <= 1 and every t ∈ R^d: the exponent is <= -λ(‖t‖ - 1)² or <= λ‖t‖² - λ/2 < 0),
    ∫_{R^d} F_t(k) H_t(q) dt = (π/(2λ))^{d/2} e^{λ(<k, q> - 1)}      (a Gaussian convolution),
and the tensor trapezoidal rule on the grid t ∈ (hZ)^d, |t_l| <= J_0 h, J_0 = ⌈(1 + R)/h⌉, with the equal
positive weight c = (2λ/π)^{d/2} h^d gives Σ_t c F_t(k) H_t(q) = e^{λ(<k,q> - 1)} Θ, Θ ∈ [θ_lo, θ_hi]:
per coordinate the integrand is e^{-2λ(t - m)²} times constants (m = (k_l + q_l)/2, |m| <= 1); Poisson summation
gives the infinite-grid sum up to the factor 1 ± e_P, e_P = 2 Σ_{ℓ>=1} e^{-π²ℓ²/(2λh²)}, and the cut grid omits at
most e_T = erfc(√(2λ) R) of it, so θ_lo = (1 - e_P - e_T)^d, θ_hi = (1 + e_P)^d.  (Gauss–Hermite nodes for the
same integral, E_w e^{√λ<w, k+q>}, err one-sided and need ~2λ nodes per coordinate (43 at λ = 21.2), for the integrand
e^{√λ w (k+q)} peaks at w = √λ (k + q), up to 2√λ; the uniform grid needs (2 + 2R)/h ~ 2√(2λ ln(1/e_P))/π.)
Hence, with S_t = (1/N) Σ_i F_t(k_i), A⁺_{t,c} = (1/N) Σ_i F_t(k_i) v⁺_{i,c}, v⁺ = (1 + v)/2 ∈ [0, 1]:
    W = (1/N) Σ_i e^{λ(s_i - 1)} ≈ Σ_t c H_t(q) S_t,   A⁺_c = (1/N) Σ_i e^{λ(s_i-1)} v⁺_{i,c} ≈ Σ_t c H_t(q) A⁺_{t,c},
    Attn_c = 2 A⁺_c / W - 1,
all terms positive.  W >= w_min = e^{-λ(1-τ)}/N and W <= W_max = (1 + (N-1) e^{-λδ})/N as in ``lemmas.attention``.

Networks: one-hidden-layer piecewise-linear (PWL) pieces only, all in the log domain (the Appendix F nets, with
absolute error >= 1e-11 in float64 (``lemmas.exp.MIN_EPS``), cannot give the relative accuracy needed over the
range e^{-X}, X ~ λ(1-τ) + ln(N/ρ): see docs/lemmas/lemma-3.3-positive-route.md).
  * exp on [-X, hi]: interpolant at uniform knots y_i (spacing h_e), written Σ_i c_i ρ(z - y_i) + e^{-X} with
    z = ρ(u + X) and every c_i > 0 (convex), so it is a sum of positive terms; relative error on [-X, hi] is in
    [0, ρ_e], ρ_e = e^{g(h_e)} - 1, g(h) = ln((e^h - 1)/h) - 1 + h/(e^h - 1) (the same for every segment:
    e^u is self-similar); below -X it returns e^{-X} (an absolute floor).
  * ln on [x_0, x_K] (geometric knots, ratio e^{h_l}): ln x_K - Σ_i a_i ρ(x_i - x) + σ_1 ρ(x_0 - x) (a_i > 0):
    absolute error in [-g(h_l), 0] on [x_0, x_K], constant ln x_0 below x_0 (a floor), ln x_K above.
  * squares x² on [-1, 1]: Σ_i b_i (ρ(x - ih_s) + ρ(-x - ih_s)), error in [0, h_s²/4]; x = ρ(x) - ρ(-x) reuses
    the i = 0 units.
  f_1 (3 hidden layers): L1 squares of k_l, ln of v⁺_c (on [φ_v, 1]), carries of q; L2 z_t = ρ(u_t + X_1) and
    z_{t,c} = ρ(u_t + ln v⁺_c + X_1), u_t = -λ‖k‖²/2 + 2λ<k,t> - λ‖t‖² - λ/2 = ln F_t(k) <= 0; L3 the exp knots.
    Outputs F̂_t/N (J channels), F̂_t v⁺/N (J d_v) and q (d), J = (2 J_0 + 1)^d nodes.
  g: J (1 + d_v) running-sum channels, d identity channels (U = N).
  f_2 (7 hidden layers): L1 ln of S_t and A⁺_{t,c} (on [φ_S, 1 + 2ρ_e]), squares of q_l; L2 z = ρ(ln S + ln H_t(q)
    + X_2); L3 exp knots; L4 Ŵ = ρ(c Σ_t ...), Â⁺_c; L5 ln of Ŵ (on [(1 - ρ_W) w_min, (1 + ρ_W) W_max]) and of
    Â⁺_c (on [φ_A, (1 + ρ_A) W_max]); L6 z_c = ρ(ln Â⁺_c - ln Ŵ + X_3); L7 exp knots; output 2 r̂_c - 1.

Error budget (exact arithmetic; ``budget`` computes every number).  One accuracy ρ for the exp and ln pieces
(ρ_e = ρ, g(h_l) = ρ) and μ = ρ/8 for the rest: quadrature e_P, e_T <= μ/(2d); square exponent error
λ d h_s²/8 <= μ (key and query); floors: e^{-X_1}, φ_S chosen so each clamp adds <= μ w_min to Ŵ (and to each Â⁺_c),
e^{-X_2} c J <= μ w_min, φ_v = μ, φ_A = μ w_min, e^{-X_3} = μ.  Clamps only over-estimate.  Then
    Ŵ ∈ [W θ_lo e^{-2 ρ_sq - ρ}, W θ_hi (1 + ρ)² + 3μ w_min (1+ρ)²]  ⇒ |Ŵ - W| <= ρ_W W,
    |Â⁺_c - A⁺_c| <= ρ_A W,  ρ_A = ρ_W-like with one more ln (of v⁺) and the v-floor φ_v θ_hi (1+ρ)²,
    |Â'/Ŵ - A⁺/W| <= e_R = (ρ_A + ρ_W + μ)/(1 - ρ_W)      (Â' = max(Â⁺, φ_A)),
    |r̂ - A⁺/W| <= (1 + e_R)(e^ρ (1 + ρ) - 1) + e_R + e^{-X_3} =: bound_r,
and the builder takes the largest ρ (ρ = ε/4 / (6 · 1.1^k)) with bound_r <= ε/4 - float_bound, so
‖F_N - Attn_λ‖∞ <= 2 bound_r + 2 float_bound <= ε/2 and ‖F_N - v*‖∞ <= ε (temperature: ε/2, Lemma F.1).
Float64 (standard model, u = 2^-53): exponents and logarithms are sums of <= K + 3 terms of magnitude
<= M_x = 4λ(1 + (1+R)²) d + X_max, so they err by <= γ_{K+3} M_x (absolute = relative after exp); exp outputs,
running sums (cumsum, sequential) and Ŵ, Â⁺ are sums of positive terms (relative γ_{K}, γ_N, γ_{J K}); so
    float_bound = 2 · (N + 3 K_max J + 40) u (4 + 6 M_x)     (on r̂; 9.4e-9 (d = 1), 3.5e-7 (d = 2) at N = 2^10)
bounds the float64 evaluation's extra error on r̂ (a standard-model estimate, not a machine-checked certificate;
measured against long double: ~1e-13), and no quantity needs absolute accuracy below float64's.  The route's limit
is float64's exponent range: the floors ~μ w_min need λ(1-τ) + ln(N/μ) <= 700 (``FLOAT64_LOG_RANGE``).

Counts (exact; ``positive_formula``): with K_s square segments, n_v = K_v + 1 ln-v units, K_1 exp knots (f_1),
n_S ln-S units, K_2 exp knots (f_2), n_W, n_A ln units, K_3 exp knots, P = J (1 + d_v):
  f_1: L = 4; S = [2d K_s + 2d(K_s - 1)] + d_v (n_v + n_v') + 2d  (L1; n_v' = the knots x_i ≠ 1/2: nonzero biases)
       + J (2d K_s + 1) + J d_v (2d K_s + n_v + 1) + 4d  (L2) + P (2K_1 - 1) + 4d  (L3) + P (K_1 + 1) + 2d (out);
  f_2: L = 8; S = 2 P n_S + [2d K_s + 2d (K_s - 1)]  (L1) + P (n_S + 2d K_s + 1)  (L2) + P (2 K_2 - 1)  (L3)
       + (1 + d_v)(J K_2 + 1)  (L4) + 2 n_W + 2 d_v n_A  (L5) + d_v (n_A + n_W + 1)  (L6) + d_v (2 K_3 - 1)  (L7)
       + d_v (K_3 + 1)  (out);
  g: 4 P + d nonzeros, state size P;  B = max of the ln slopes (~1/φ_A ≈ N e^{λ(1-τ)}/μ), the shifts X and 2λ(1+R).
Growth: J = O((λ ln(1/ρ))^{d/2}), K = O((λ(1-τ) + ln(N/ρ))/√ρ), ρ = Θ(ε): S = O(J K) — poly-logarithmic in N
but polynomial in 1/ε (measured slope ~0.63 of log S against log 1/ε, d = 1), unlike the paper's poly-log in 1/ε;
linear in 1/δ through λ; log B = O(λ(1-τ) + log(N/ε)) as for the paper's route (B ~ 1/φ_A, the ln slope).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from constructions.affine import Affine
from constructions.circuit import Circuit, Fn
from constructions.fnn import FNN
from constructions.ssm import SSMLayer, delay, running_sum
from constructions.validate import check_int, check_real

from .attention import Block, lam_for
from .base import Construction

U64 = 2.0 ** -53
MU_DIV = 8.0  # μ = ρ / MU_DIV: the share of the cheap pieces (quadrature, squares, floors)
HI_MARGIN = 1e-6  # knots of f_1's and f_2's exps extend this far above their exact maxima (rounding room)
FLOAT64_LOG_RANGE = 700.0  # ln of the dynamic range the floors may use (float64's smallest normal is e^-708.4)


# ------------------------------------------------------------------------------------ PWL pieces
def seg_error(h: float) -> float:
    """g(h) = max_θ ln(1 + θ(e^h - 1)) - θh: the relative (log) error of the chord of e^u over a segment of width
    h, and the absolute error of the chord of ln over [x, x e^h]."""
    if h <= 0:
        return 0.0
    em = math.expm1(h)
    th = 1.0 / h - 1.0 / em
    return math.log(em / h) - th * h


def step_for(target: float) -> float:
    """The largest h with seg_error(h) <= target (bisection; seg_error is increasing, ~ h²/8)."""
    lo, hi = 0.0, 4.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if seg_error(mid) <= target:
            lo = mid
        else:
            hi = mid
    return lo


def exp_knots(X: float, hi: float, h_max: float) -> tuple[np.ndarray, float]:
    """Uniform knots y_0 = 0 < ... < y_K = X + hi (spacing <= h_max) of the exp piece on u = y - X."""
    K = max(1, math.ceil((X + hi) / h_max))
    return np.linspace(0.0, X + hi, K + 1), (X + hi) / K


def ln_knots(lo: float, top: float, h_l: float) -> np.ndarray:
    """Geometric knots x_0 = lo < ... < x_K = top with log-spacing <= h_l."""
    K = max(1, math.ceil(math.log(top / lo) / h_l))
    return np.exp(np.linspace(math.log(lo), math.log(top), K + 1))


def ln_coefficients(knots: np.ndarray) -> tuple[float, np.ndarray]:
    """(bias, a) with ln-PWL(x) = bias + Σ_i a_i ρ(x_i - x), i = 0..K (a_0 = +σ_1 flattens below x_0)."""
    lv = np.log(knots)
    sig = np.diff(lv) / np.diff(knots)  # σ_1..σ_K, decreasing
    a = np.empty(len(knots))
    a[0] = sig[0]
    a[1:-1] = -(sig[:-1] - sig[1:])
    a[-1] = -sig[-1]
    return float(lv[-1]), a


def ln_units(x: Fn, knots: np.ndarray) -> list[Fn]:
    return [float(k) - x for k in knots]


def ln_fn(offset: int, knots: np.ndarray) -> Fn:
    """The ln-PWL read from the units offset..offset+K of the current layer."""
    b, a = ln_coefficients(knots)
    return Fn({offset + i: float(v) for i, v in enumerate(a)}, b)


def square_steps(K: int) -> tuple[np.ndarray, np.ndarray]:
    """Knots y_i = i/K and coefficients b_i (b_0 = 1/K, b_i = 2/K) of x² ≈ Σ b_i (ρ(x - y_i) + ρ(-x - y_i))."""
    y = np.arange(K) / K
    b = np.full(K, 2.0 / K)
    b[0] = 1.0 / K
    return y, b


def square_units(xs: list[Fn], K: int) -> list[Fn]:
    """Per input x: ρ(x - y_i), ρ(-x - y_i), i < K (2K units; i = 0 gives ρ(±x))."""
    y, _ = square_steps(K)
    out = []
    for x in xs:
        out += [x - float(t) for t in y] + [-x - float(t) for t in y]
    return out


def square_read(offset: int, l: int, K: int) -> tuple[Fn, Fn]:
    """(x_l², x_l) as functionals of the square units of coordinate l starting at ``offset``."""
    _, b = square_steps(K)
    base = offset + 2 * K * l
    sq = Fn({base + i: float(b[i]) for i in range(K)}) + Fn({base + K + i: float(b[i]) for i in range(K)})
    return sq, Fn({base: 1.0, base + K: -1.0})


# ------------------------------------------------------------------------------------ budget
def quadrature_errors(lam: float, h: float, R: float) -> tuple[float, float]:
    """(e_P, e_T) of one coordinate: Poisson-summation and truncation relative errors (module docstring)."""
    eP = 2.0 * sum(math.exp(-math.pi ** 2 * l * l / (2 * lam * h * h)) for l in range(1, 60))
    eT = math.erfc(math.sqrt(2 * lam) * R)
    return eP, eT


def quadrature_for(lam: float, target: float) -> tuple[float, float, int]:
    """(h, R, J_0): the largest spacing with e_P <= target, the smallest R with e_T <= target, J_0 = ⌈(1+R)/h⌉."""
    h = math.pi / math.sqrt(2 * lam * math.log(2.0 / target))
    while quadrature_errors(lam, h, 1.0)[0] > target:
        h *= 0.98
    lo, hi = 0.0, 2.0
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if math.erfc(math.sqrt(2 * lam) * mid) <= target:
            hi = mid
        else:
            lo = mid
    R = hi
    return h, R, math.ceil((1.0 + R) / h)


@lru_cache(maxsize=64)
def budget(N: int, d: int, d_v: int, delta: float, eps: float, tau: float | None) -> dict:
    """Every number of the module docstring's error budget, for the largest admissible ρ."""
    lam = lam_for(N, eps, delta)
    tau_eff = delta - 1.0 if tau is None else float(tau)
    w_min = math.exp(-lam * (1.0 - tau_eff)) / N
    W_max = (1.0 + (N - 1) * math.exp(-lam * delta)) / N * (1.0 + 1e-12)
    if math.log(N) + lam * (1.0 - tau_eff) + math.log(1e4 / eps) > FLOAT64_LOG_RANGE:
        raise ValueError(f"w_min = e^(-λ(1-τ))/N = e^(-{lam * (1.0 - tau_eff) + math.log(N):.0f}) (λ = {lam:.4g}): its "
                         f"floors fall below float64's smallest normal number; this route needs float64's exponent "
                         f"range (not more mantissa bits) to cover λ(1-τ) + ln(N/μ) <= {FLOAT64_LOG_RANGE}")
    rho = eps / 4 / 6
    for _ in range(200):
        b = _budget_at(N, d, d_v, lam, w_min, W_max, rho)
        if b["bound_r"] + b["float_bound"] <= eps / 4:
            return {**b, "lam": lam, "tau": tau_eff, "w_min": w_min, "W_max": W_max, "eps": eps, "N": N,
                    "d": d, "d_v": d_v, "delta": delta}
        rho /= 1.1
    raise ValueError(f"no accuracy ρ meets ε = {eps}")


def _budget_at(N, d, d_v, lam, w_min, W_max, rho) -> dict:
    mu = rho / MU_DIV
    h, R, J0 = quadrature_for(lam, mu / (2 * d))
    eP, eT = quadrature_errors(lam, h, J0 * h - 1.0)
    eP2 = 2.0 * sum(math.exp(-math.pi ** 2 * l * l / (lam * h * h)) for l in range(1, 60))
    J = (2 * J0 + 1) ** d
    th_lo, th_hi = (1.0 - eP - eT) ** d, (1.0 + eP) ** d
    c = (2 * lam / math.pi) ** (d / 2) * h ** d
    C_H = 2.0 ** (d / 2) * (1.0 + eP2) ** d  # >= c Σ_t H_t(q) for every ‖q‖ <= 1
    Ks = math.ceil(math.sqrt(lam * d / (8 * mu)))  # λ d h_s²/8 <= μ, h_s = 1/K_s
    rho_sq = lam * d / (8 * Ks * Ks)
    h_e = step_for(math.log1p(rho))  # exp pieces: relative error e^{g} - 1 <= ρ
    h_l = step_for(rho)  # ln pieces: absolute error <= ρ
    rho_e, rho_l = math.expm1(seg_error(h_e)), rho
    X1 = math.log((1 + rho_e) * C_H / (mu * w_min))
    phi_S = mu * w_min / ((1 + rho_e) * C_H)
    X2 = math.log(c * J / (mu * w_min))
    phi_v, phi_A, X3 = mu, mu * w_min, math.log(1.0 / mu)
    lo_W = th_lo * math.exp(-2 * rho_sq - rho_l)
    hi_W = th_hi * (1 + rho_e) ** 2
    rho_W = max(hi_W - 1 + 3 * mu * (1 + rho_e) ** 2, 1 - lo_W)
    rho_A = max(hi_W - 1 + 3 * mu * (1 + rho_e) ** 2 + phi_v * hi_W, 1 - lo_W * math.exp(-rho_l))
    e_R = (rho_A + rho_W + mu) / (1 - rho_W)
    bound_r = (1 + e_R) * (math.exp(rho_l) * (1 + rho_e) - 1) + e_R + math.exp(-X3)
    top_S = 1.0 + 2 * rho_e
    hi3 = math.log((1 + rho_A + mu) / (1 - rho_W)) + rho_l + HI_MARGIN  # d̂ <= ln(Â'/Ŵ) + ρ <= hi3
    k1, _ = exp_knots(X1, HI_MARGIN, h_e)
    k2, _ = exp_knots(X2, math.log(top_S) + HI_MARGIN, h_e)
    k3, _ = exp_knots(X3, hi3, h_e)
    kv = ln_knots(phi_v, 1.0, h_l)
    kS = ln_knots(phi_S, top_S, h_l)
    kW = ln_knots((1 - rho_W) * w_min, (1 + rho_W) * W_max, h_l)
    kA = ln_knots(phi_A, (1 + max(rho_A, rho_W)) * W_max, h_l)  # Â⁺ <= A⁺ + ρ_A W <= (1 + ρ_A) W_max
    T0 = J0 * h
    M_x = 4 * lam * (1 + T0 * T0) * d + max(X1, X2, X3)
    K_max = max(len(k1), len(k2), len(k3), len(kv), len(kS), len(kW), len(kA), 2 * Ks)
    float_bound = 2 * (N + 3 * K_max * J + 40) * U64 * (4 + 6 * M_x)
    return {"rho": rho, "mu": mu, "h_t": h, "R": R, "J0": J0, "J": J, "e_P": eP, "e_T": eT, "theta_lo": th_lo,
            "theta_hi": th_hi, "c": c, "C_H": C_H, "Ks": Ks, "rho_sq": rho_sq, "h_e": h_e, "h_l": h_l,
            "rho_e": rho_e, "X1": X1, "X2": X2, "X3": X3, "phi_S": phi_S, "phi_v": phi_v, "phi_A": phi_A,
            "rho_W": rho_W, "rho_A": rho_A, "e_R": e_R, "bound_r": bound_r, "float_bound": float_bound,
            "knots": {"exp1": k1, "exp2": k2, "exp3": k3, "ln_v": kv, "ln_S": kS, "ln_W": kW, "ln_A": kA},
            "top_S": top_S}


def nodes(b: dict) -> np.ndarray:
    """The quadrature nodes t (J, d), tensor grid h·{-J_0..J_0}^d."""
    g = np.arange(-b["J0"], b["J0"] + 1) * b["h_t"]
    return np.stack(np.meshgrid(*([g] * b["d"]), indexing="ij"), axis=-1).reshape(-1, b["d"])


# ------------------------------------------------------------------------------------ the block
@dataclass(frozen=True)
class PositiveAttentionBlock(Block):
    """F = f_2 ∘ g ∘ f_1 on token rows X (..., N, 2d + d_v) = (k_i, v_i, q_i); the interface of
    ``lemmas.attention.AttentionBlock`` (``lemmas.attention.Block``: forward, last, sums, as_model, counts; the
    sums here are (Â⁺_1..Â⁺_dv, Ŵ), A⁺ = Σ w v⁺, Attn_c = 2 Â⁺_c/Ŵ - 1)."""

    f1: FNN
    g: SSMLayer
    f2: FNN
    d: int
    d_v: int
    nodes: np.ndarray
    readout: FNN | None = None  # f_2's first four layers: g's output -> (Â⁺_1..Â⁺_dv, Ŵ), A⁺ = Σ w v⁺, v⁺ = (1+v)/2

    def features(self, X, method: str = "auto") -> tuple[np.ndarray, np.ndarray]:
        """(f_1(X), g(f_1(X))); f_1 (token-wise, very wide) runs on chunks of tokens to bound its memory, and once
        per distinct token row when rows repeat (tight and structured sequences: the same float64 maps)."""
        X = np.asarray(X, dtype=np.float64)
        step = max(1, (1 << 22) // max(self.f1.widths))
        flat = X.reshape(-1, X.shape[-1])
        rows, inv = np.unique(flat, axis=0, return_inverse=True)  # f_1 is token-wise: once per distinct row
        if 2 * len(rows) > len(flat):
            rows, inv = flat, None
        Z = np.concatenate([self.f1(rows[s:s + step]) for s in range(0, len(rows), step)])
        Z = Z if inv is None else Z[inv.reshape(-1)]
        Z = Z.reshape(X.shape[:-1] + (Z.shape[-1],))
        return Z, self.g(Z, method=method)


def build_attention_positive(d: int, d_v: int, N: int, delta: float, eps: float,
                             tau: float | None = None) -> Construction:
    """The positive-feature block of Lemma 3.3 (module docstring)."""
    d, d_v, N = check_int("d", d, 1), check_int("d_v", d_v, 1), check_int("N", N, 2)
    delta = check_real("delta", delta, 0.0, 2.0)
    eps = check_real("eps", eps, 0.0, 1.0)
    if tau is not None:
        tau = check_real("tau", tau, -1.0 + delta, 1.0, lo_open=False)
    b = budget(N, d, d_v, delta, eps, tau)
    lam, Ks, kn = b["lam"], b["Ks"], b["knots"]
    t = nodes(b)
    J = len(t)
    base = -lam * np.sum(t * t, axis=1) - lam / 2  # ln F_t(k) = -λ‖k‖²/2 + 2λ<k,t> + base_t

    def log_nodes(sq, X):
        """ln F_t + X at every node t from the square read-outs (x_l², x_l) of one vector (k in f_1, q in f_2)."""
        norm = Fn()
        for l in range(d):
            norm = norm + sq[l][0]
        out = []
        for j in range(J):
            u = norm * (-lam / 2) + float(base[j]) + X
            for l in range(d):
                u = u + sq[l][1] * (2 * lam * float(t[j, l]))
            out.append(u)
        return out

    # f_1
    c1 = Circuit(2 * d + d_v)
    x = c1.inputs()
    k_in, v_in, q_in = x[:d], x[d:d + d_v], x[d + d_v:]
    u1 = square_units(k_in, Ks)
    off_v = len(u1)
    for cc in range(d_v):
        u1 += ln_units(0.5 + 0.5 * v_in[cc], kn["ln_v"])
    off_q = len(u1)
    u1 += [q for q in q_in] + [-q for q in q_in]
    c1.layer(u1)
    sq = [square_read(0, l, Ks) for l in range(d)]
    lnv = [ln_fn(off_v + cc * len(kn["ln_v"]), kn["ln_v"]) for cc in range(d_v)]
    X1 = b["X1"]
    zs = log_nodes(sq, X1)
    zs += [zs[j] + lnv[cc] for j in range(J) for cc in range(d_v)]
    qc = [Fn({off_q + l: 1.0, off_q + d + l: -1.0}) for l in range(d)]
    c1.layer(zs + [q for q in qc] + [-q for q in qc])
    P = J * (1 + d_v)
    qc = [Fn({P + l: 1.0, P + d + l: -1.0}) for l in range(d)]
    zf = [Fn.unit(i) for i in range(P)]
    e1, _ = _exp_layer(c1, zf, X1, kn["exp1"], 1.0 / N, qc)
    qc = [Fn({len(zf) * (len(kn["exp1"]) - 1) + l: 1.0, len(zf) * (len(kn["exp1"]) - 1) + d + l: -1.0})
          for l in range(d)]
    f1 = c1.net(e1 + qc)

    # g: running sums of F_t/N (J) and F_t v⁺_c/N (J d_v, node-major), identity channels for q
    g = SSMLayer(tuple([running_sum() for _ in range(P)] + [delay(0) for _ in range(d)]), U=N)

    # f_2
    c2 = Circuit(P + d)
    y = c2.inputs()
    nS = len(kn["ln_S"])
    u2 = []
    for i in range(P):
        u2 += ln_units(y[i], kn["ln_S"])
    off_sq = len(u2)
    u2 += square_units(y[P:], Ks)
    c2.layer(u2)
    sqq = [square_read(off_sq, l, Ks) for l in range(d)]
    X2 = b["X2"]
    zs = []
    for j, lnH in enumerate(log_nodes(sqq, X2)):  # ln H_t(q) + X2
        zs.append(ln_fn(j * nS, kn["ln_S"]) + lnH)
        for cc in range(d_v):
            zs.append(ln_fn((J + j * d_v + cc) * nS, kn["ln_S"]) + lnH)
    c2.layer(zs)  # order: node j: (S, A_1..A_dv)
    e2, _ = _exp_layer(c2, [Fn.unit(i) for i in range(P)], X2, kn["exp2"], b["c"], [])
    Wf = Fn()
    Af = [Fn() for _ in range(d_v)]
    for j in range(J):
        Wf = Wf + e2[j * (1 + d_v)]
        for cc in range(d_v):
            Af[cc] = Af[cc] + e2[j * (1 + d_v) + 1 + cc]
    c2.layer([Wf] + Af)
    rows = list(range(d_v + 1))
    cols = [1 + cc for cc in range(d_v)] + [0]
    readout = FNN(list(c2.layers) + [Affine.from_coo(rows, cols, np.ones(d_v + 1), (d_v + 1, d_v + 1))])
    nW, nA = len(kn["ln_W"]), len(kn["ln_A"])
    u5 = ln_units(Fn.unit(0), kn["ln_W"])
    for cc in range(d_v):
        u5 += ln_units(Fn.unit(1 + cc), kn["ln_A"])
    c2.layer(u5)
    lW = ln_fn(0, kn["ln_W"])
    X3 = b["X3"]
    c2.layer([ln_fn(nW + cc * nA, kn["ln_A"]) - lW + X3 for cc in range(d_v)])
    e3, _ = _exp_layer(c2, [Fn.unit(cc) for cc in range(d_v)], X3, kn["exp3"], 2.0, [])
    f2 = c2.net([e - 1.0 for e in e3])

    block = PositiveAttentionBlock(f1, g, f2, d, d_v, t, readout)
    notes = {k: v for k, v in b.items() if k != "knots"}
    notes.update({"route": "positive", "precision": "float64", "float64": True,
                  "knot_counts": {k: len(v) for k, v in kn.items()},
                  "claimed": "poly-log in N/ε for fixed d (paper); here poly-log in N, polynomial (~ε^-0.63) in 1/ε"})
    return Construction(block, positive_formula(N, d, d_v, delta, eps, tau),
                        {"d": d, "d_v": d_v, "N": N, "delta": delta, "eps": eps, "tau": tau, "route": "positive"},
                        notes)


def _exp_layer(c: Circuit, zs: list[Fn], X: float, knots: np.ndarray, scale: float, carry: list[Fn]):
    """exp pieces of every z, plus carried values (ρ(x), ρ(-x)) appended after the knot units."""
    vals = np.exp(knots - X)
    slopes = np.diff(vals) / np.diff(knots)
    coef = np.concatenate([[slopes[0]], np.diff(slopes)])
    K = len(knots) - 1
    units = []
    for z in zs:
        units += [z - float(yk) for yk in knots[:-1]]
    units += list(carry) + [-q for q in carry]
    c.layer(units)
    res = [Fn({j * K + i: scale * float(coef[i]) for i in range(K)}, scale * math.exp(-X)) for j in range(len(zs))]
    return res, K


def positive_formula(N: int, d: int, d_v: int, delta: float, eps: float, tau: float | None = None) -> dict:
    """The exact counts of ``build_attention_positive`` from the budget's knot counts (module docstring)."""
    b = budget(N, d, d_v, delta, eps, tau)
    kn, Ks, J = b["knots"], b["Ks"], b["J"]
    P = J * (1 + d_v)
    K1, K2, K3 = len(kn["exp1"]) - 1, len(kn["exp2"]) - 1, len(kn["exp3"]) - 1
    nv, nS, nW, nA = len(kn["ln_v"]), len(kn["ln_S"]), len(kn["ln_W"]), len(kn["ln_A"])
    sq_nnz = 2 * d * Ks + 2 * d * (Ks - 1)
    nv_b = int(np.count_nonzero(kn["ln_v"] - 0.5))  # units ρ(x_i - 1/2 - v/2): bias x_i - 1/2
    S1 = (sq_nnz + d_v * (nv + nv_b) + 2 * d) + (J * (2 * d * Ks + 1) + J * d_v * (2 * d * Ks + nv + 1) + 4 * d) \
        + (P * (2 * K1 - 1) + 4 * d) + (P * (K1 + 1) + 2 * d)
    S2 = (2 * P * nS + sq_nnz) + P * (nS + 2 * d * Ks + 1) + P * (2 * K2 - 1) + (1 + d_v) * (J * K2 + 1) \
        + (2 * nW + 2 * d_v * nA) + d_v * (nA + nW + 1) + d_v * (2 * K3 - 1) + d_v * (K3 + 1)
    W1 = max(2 * d + d_v, 2 * d * Ks + d_v * nv + 2 * d, P + 2 * d, P * K1 + 2 * d)
    W2 = max(P + d, P * nS + 2 * d * Ks, P * K2, d_v * K3, nW + d_v * nA)
    B1, B2 = _weight_bounds(b)
    return {"f1": {"L": 4, "W": W1, "S": S1, "B": B1}, "f2": {"L": 8, "W": W2, "S": S2, "B": B2},
            "D": P + d, "J": J, "state_total": P, "state_max": 1, "ssm_nnz": 4 * P + d, "U": N,
            "running_sum_channels": P, "identity_channels": d, "total_nonzeros": S1 + S2 + 4 * P + d}


def _weight_bounds(b: dict) -> tuple[float, float]:
    """Largest |weight or bias| of f_1 and f_2, listed layer by layer (module docstring): the knots' shifts, the
    λ-scaled exponent weights, the ln slopes (~1/φ: the largest), the exp slopes times their scales."""
    lam, kn, t, Ks = b["lam"], b["knots"], nodes(b), b["Ks"]
    base = -lam * np.sum(t * t, axis=1) - lam / 2
    Tm = float(np.max(np.abs(t)))

    def ln_max(k):
        return float(np.max(np.abs(ln_coefficients(k)[1])))

    def exp_coef(k, X):
        s = np.diff(np.exp(k - X)) / np.diff(k)
        return float(np.max(np.concatenate([[s[0]], np.diff(s)])))

    sq_w = max(lam / Ks, lam / (2 * Ks) + 2 * lam * Tm)  # -λ/2 b_i, and -λ b_0/2 ± 2λ t_l on the i = 0 units
    B1 = max(1.0,  # L1: unit weights, square and ln-v biases < 1
             sq_w, ln_max(kn["ln_v"]), float(np.max(np.abs(base + b["X1"]))),  # L2
             float(kn["exp1"][-2]),  # L3 biases
             exp_coef(kn["exp1"], b["X1"]) / b["N"], math.exp(-b["X1"]) / b["N"])  # output
    B2 = max(1.0, float(kn["ln_S"][-1]),  # L1
             sq_w, ln_max(kn["ln_S"]), float(np.max(np.abs(base + b["X2"] + math.log(kn["ln_S"][-1])))),  # L2
             float(kn["exp2"][-2]),  # L3
             b["c"] * exp_coef(kn["exp2"], b["X2"]), b["c"] * b["J"] * math.exp(-b["X2"]),  # L4
             float(kn["ln_W"][-1]), float(kn["ln_A"][-1]),  # L5
             ln_max(kn["ln_W"]), ln_max(kn["ln_A"]),
             abs(math.log(kn["ln_A"][-1]) - math.log(kn["ln_W"][-1]) + b["X3"]),  # L6
             float(kn["exp3"][-2]),  # L7
             2 * exp_coef(kn["exp3"], b["X3"]), abs(2 * math.exp(-b["X3"]) - 1))  # output
    return B1, B2


# ------------------------------------------------------------------------------------ inspection
def fnn_extended(net: FNN, X) -> np.ndarray:
    """The FNN evaluated in numpy's long double (x86: 64-bit mantissa, u = 2^-64), same maps, same order of
    layers: a reference that is ~2^11 times more precise than float64, to measure float64's rounding."""
    h = np.asarray(X, dtype=np.longdouble).reshape(-1, net.d_in).T
    for li, lay in enumerate(net.layers):
        Y = np.empty((lay.d_out, h.shape[1]), dtype=np.longdouble)
        Y[:] = lay.b.astype(np.longdouble)[:, None]
        for g in lay.groups:
            gg, r, cc = g.W.shape
            Yg = np.matmul(g.W.astype(np.longdouble), h[g.cols.ravel()].reshape(gg, cc, -1))
            Y[g.rows.ravel()] += Yg.reshape(gg * r, -1)
        h = Y if li == len(net.layers) - 1 else np.maximum(Y, 0)
    return h.T


def last_extended(block: PositiveAttentionBlock, X) -> np.ndarray:
    """F(X)_N of one sequence X (N, 2d + d_v) in long double: f_1 per token, g at the last token (running sums =
    the sums over all N tokens since U = N; identity = the last token), f_2."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"last_extended takes one sequence (N, 2d + d_v), got shape {X.shape}")
    P = block.g.H - block.d
    step = max(1, (1 << 20) // max(block.f1.widths))
    tot = np.zeros(P, dtype=np.longdouble)
    for s in range(0, len(X), step):
        tot += np.sum(fnn_extended(block.f1, X[s:s + step])[:, :P], axis=0)
    lastq = fnn_extended(block.f1, X[-1:])[0, P:]
    return fnn_extended(block.f2, np.concatenate([tot, lastq])[None, :])[0]
