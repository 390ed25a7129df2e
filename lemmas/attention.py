"""Lemma 3.3 (Appendix G): one FNN -> SSM -> FNN block that mimics softmax attention.

Statement verified (``lemma-3.3``).  Tokens x_i = (k_i, v_i, q_i) ∈ R^{d + d_v + d}, i = 1..N (N >= 2), with
‖k_i‖_2 <= 1, ‖q_N‖_2 <= 1, ‖v_i‖_∞ <= 1.  Let s_i = <k_i, q>, q = q_N.  Hypotheses: a unique maximiser i* with
margin s_{i*} - s_i >= δ (i ≠ i*) -- the paper's hypothesis, ``tau=None``, under which s_{i*} >= τ = δ - 1 is all
that is known -- and, in the cheaper special case, s_{i*} >= τ for a given τ.  For
every 0 < ε <= 1 the block F = f_2 ∘ g ∘ f_1 built below (f_1, f_2 token-wise ReLU FNNs, g one SSM layer with
window U = N and only running-sum and identity channels) satisfies

    ‖F(X)_N - v_{i*}‖_∞ <= ε,     and     ‖F(X)_N - Attn_λ(X)_N‖_∞ <= ε/2,

where Attn_λ(X)_N = Σ_i softmax(λ s)_i v_i is softmax attention with the same inverse temperature λ.

Budgets (exact formulas; every number below is computed by the builder and stored in ``notes``).
  1. Temperature (Lemma F.1): ‖Attn_λ - v_{i*}‖_∞ = ‖Σ_{i≠i*} σ_i (v_i - v_{i*})‖_∞ <= 2 (1 - σ_{i*})
     <= 2 (N - 1) e^{-λδ};  λ = ln(4 (N - 1) / ε) / δ makes this ε/2.
  2. Scale: w_i = e^{λ(s_i - 1)} ∈ (0, 1] (the paper's e^{λ‖q‖²/2} factor, and a common e^{-λ}, cancel in the
     quotient).  With W = (1/N) Σ_i w_i and A_c = (1/N) Σ_i w_i v_{i,c}: Attn_c = A_c / W and
     W >= w_min := e^{-λ(1 - τ)} / N (the top token alone).
  3. Quotient: if the block forms Â_c, Ŵ with |Â_c - A_c|, |Ŵ - W| <= E, then |Â_c/Ŵ - A_c/W|
     <= (|Â_c - A_c| + |A_c/W| |Ŵ - W|) / Ŵ <= 2E / (w_min - E).  With E = ε w_min / 6.5 this is
     2ε / (6.5 - ε) <= ε/2.75 < 3ε/8 (ε <= 1).
     The computed point lies in a wedge: |A_c| <= W (|v| <= 1), and by the margin (s_i <= s_{i*} - δ for i ≠ i*,
     s_{i*} <= 1) W <= e^{λ(s_{i*} - 1)} (1 + (N - 1) e^{-λδ}) / N <= W_max := (1 + (N - 1) e^{-λδ}) / N
     = (1 + ε/4) / N (times 1 + 1e-12 for the float64 rounding of λ), so Ŵ ∈ [w_min - E, W_max + E] and
     |Â_c| <= W + E <= Ŵ + 2E <= C Ŵ with C = 1 + 2E/(w_min - E) (<= 1 + ε/2.75).
     The ratio-form F.4 net (``lemmas.ratio.build_ratio``: |φ(a, b) - a/b| <= ε_q for b ∈ [b_min, b_max],
     |a| <= C b) with C as above, [b_min, b_max] = [w_min - E, W_max + E] (b_max / b_min ~ e^{λ(1 - τ)} (1 + ε/4):
     one piece at τ = 1) and ε_q = ε/8, applied at (Â_c, Ŵ), adds
     ε/8: block vs attention <= ε/2.75 + ε/8 < ε/2, block vs v_{i*} <= ε.  (The shares were ε/4 + ε/4 with
     E = ε w_min / 12 while the ratio net used Horner pieces; with its chord pieces the ratio net is cheap and
     the sums get the larger share: E is 1.85x larger, one sawtooth level less at N = 2^16.)  (Before: the absolute-error quotient on |a| <= 2,
     b ∈ [w_min/2, 2], which needs 1/b to the relative accuracy ε w_min / 16 and cost ~4x more nonzeros; the
     ratio form needs only relative accuracy ε_q per piece, see ``lemmas.ratio``.  The absolute
     quotient is not used any more; ``quotient=`` still accepts any (C, b_min, b_max, ε) builder for tests.)
  4. E = E_trunc + E_net: E_trunc = sup_{t ∈ [-1,1]} |P(t) - e^{λ(t-1)}| <= E/2 for the kernel polynomial P
     actually stored (float64 coefficients included; computed in mpmath; the degree n is the smallest with
     E_trunc <= E/2), E_net = the network error of the sums of products below, budgeted E - E_trunc (>= E/2:
     whatever the truncation leaves over goes to the network).

The kernel as a sum of products.  P(t) = Σ_{j<=n} p_j t^j and t^j = <k, q>^j = Σ_{|α|=j} (j!/α!) k^α q^α, so

    P(<k, q>) = Σ_{|α|<=n} c_α k^α q^α,     c_α = p_{|α|} |α|! / α!,     T = C(n + d, d) terms.

Two routes give p_j (both are built and reported side by side):
  * ``gauss`` (the paper's route, F.5/F.6).  e^{λ(s - 1)} = e^{-λ‖k - q‖²/2} e^{λ(‖k‖² - 1)/2} e^{λ(‖q‖² - 1)/2};
    the IFGT features of e^{-‖x - y‖²} at x = k √(λ/2), y = q √(λ/2) are φ_α(x) = e^{-‖x‖²} (2^{|α|}/α!)^{1/2} x^α,
    and e^{λ‖k‖²/2} φ_α(k √(λ/2)) = (λ^{|α|}/α!)^{1/2} k^α *identically*: the Gaussian factor and the norm factor
    cancel, so the paper's b_{i,r} is an exact scaled monomial and no exp network is needed.  Truncating at
    |α| <= n (K = n + 1 in F.6's notation) gives p_j = e^{-λ} λ^j / j! and, since Σ_α c_α |k^α q^α|
    <= e^{-λ} e^{λ Σ_l |k_l q_l|}, the truncation error is at most P[Poisson(λ) >= n + 1] (F.6's bound with
    2R² = λ).  Σ_{α≠0} |c_α| = e^{-λ} (e^{dλ} - 1): 1 for d = 1, e^{λ(d-1)} beyond (see below).
  * ``chebyshev`` (cheaper).  P = e^{-λ} (I_0(λ) + 2 Σ_{1<=j<=n} I_j(λ) T_j(t)) in the power basis; truncation
    error <= 2 e^{-λ} Σ_{j>n} I_j(λ) (|T_j| <= 1).  Degree ~ √(2λ ln(1/E)) instead of ~ λ + √(2λ ln(1/E)), but
    the power-basis coefficients grow like (1 + √2)^n e^{-λ} and cancel.
  n_0 is the smallest degree >= 2 whose truncation bound (plus the rounding of the stored c_α) is <= E/2; the
  builder prices n_0 .. n_0 + 3 (``DEGREE_SLACK``) and takes the degree whose f_1 + f_2-product nonzeros are
  fewest (a smaller truncation leaves the network more budget and may save a sawtooth level).

Networks (every product is ``pair_level``: pairwise two-square products with inputs clipped to [-1, 1],
error η = η(m) = 2^{-2m-2} each; depth m in f_1 and m_2 in f_2, chosen below).
  Two-square product: ca, cb = clip(a), clip(b; -1, 1), u_± = (ca ± cb)/2 ∈ [-1, 1], and
      φ(a, b) = f_m(|u_+|) - f_m(|u_-|),      ca cb = u_+^2 - u_-^2,
  f_m the sawtooth square of ``lemmas.square`` (0 <= f_m(t) - t^2 <= 2^{-2m-2} on [0, 1]), so
  φ - ca cb = e_+ - e_- ∈ [-2^{-2m-2}, 2^{-2m-2}], attained at ca = cb = 2^{-m-1} (u_- = 0, u_+ a grid
  midpoint).  Two sawtooth channels per product instead of the three of ``lemmas.mult.level``
  (xy = 2[((x+y)/2)^2 - (x/2)^2 - (y/2)^2], error 2^{-2m}): a third fewer units and nonzeros per layer, and a
  4x smaller error per product for the same depth, i.e. one sawtooth level less for the same budget.  Layers:
  clip (4 units, as in ``lemmas.mult``), rq (8 units: ρ(±u), ρ(±u - 1/2) for u = u_+, u_-; sawtooth state 1 is
  α = ρ(u) + ρ(-u) = |u|, β = ρ(u - 1/2) + ρ(-u - 1/2) = ρ(|u| - 1/2), γ = α), m - 1 sawtooth transitions
  (``lemmas.square.sawtooth_step``, 3 units per channel), output y_+ - y_-, y = γ_m - (2α_m - 4β_m)/4^m; a
  carried value as in ``lemmas.mult`` (2 clip units, then one unit per layer, output w - 1).  A square
  ("square" op of ``pair_level``): the one channel u = ca, output f_m(|ca|), error in [0, 2^{-2m-2}] (one
  channel instead of two; |f_m(|ca|) - x^2| <= η + 2|x - ca| for |x| <= 1, the same rule as a product of x by x).
  f_1 (input (k, v, q)): powers x_l^j, j <= n, of every coordinate of k and q by doubling, P = ⌈log2 n⌉ levels
    (level ℓ forms x^j for 2^{ℓ-1} < j <= min(2^ℓ, n) as the square (x^{j/2})^2 for even j and the product
    x^{(j+1)/2} x^{(j-1)/2} for odd j, both factors <= 2^{ℓ-1} already formed; carries the rest); then
    d - 1 levels forming the mixed monomials (coordinate l: α' · x_l^a, |α'| + a <= n); then one level forming
    a_{α,c} = k^α v_c (0 when v_c = 0, in exact arithmetic), carrying k^α, q^α, v.  Monomial error:
    e(α) <= (|α| - 1) η (a product of values in [-1, 1] errs by η + the sum of its inputs' errors).  The output
    map emits, per token, M_α = k^α / N (T channels, M_0 = 1/N a bias), A_{α,c} = a_{α,c} / N (T d_v, A_{0,c} =
    v_c / N) and ψ_α = q^α (T - 1 channels, α ≠ 0).
    L_1 = (P + d)(m + 1) + 1.
  g: T (1 + d_v) running-sum channels (m = 1, A = B = C = D = 1) and T - 1 identity channels (D = 1, m = 0);
    window U = N; D = T (2 + d_v) - 1 channels; total state size T (1 + d_v).  At the last token it outputs
    (1/N) Σ_i M_α(k_i), (1/N) Σ_i a_{α,c}, ψ_α(q_N).
  f_2: one product level ψ_α · M_α and ψ_α · A_{α,c} (α ≠ 0; M_0, A_{0,c} carried), the linear read-out
    Ŵ = Σ_α c_α (...), Â_c = Σ_α c_α (...), then d_v ratio-form F.4 nets Â_c / Ŵ (``lemmas.ratio.build_ratio``,
    budget 3), joined by sparse concatenation (``constructions.algebra.concat``).
  Per term α ≠ 0 the numerator errs by η_2 + e(α) + |α| η <= η_2 + (2|α| - 1) η (f_2 product, q-monomial,
  k-monomial and v-product; a product of values in [-1, 1] errs by η + the errors of its inputs, clipping being
  1-Lipschitz; η = η(m) in f_1, η_2 = η(m_2) in f_2's product level), the denominator by η_2 + (2|α| - 2) η; the
  α = 0 terms are exact (bias 1/N, carried v/N).  Hence
      E_net <= Γ_a η(m) + Γ η(m_2),   Γ_a = Σ_{α≠0} (2|α| - 1) |c_α|,   Γ = Σ_{α≠0} |c_α|,
  and Γ_1 = Γ_a + Γ = Σ_{α≠0} 2|α| |c_α| (<= 2 n Γ: the large |c_α| of the Chebyshev route sit at degrees well
  below n); η_p = (E - E_trunc) / Γ_1 sets the precision.  The builder takes m the smallest with
  Γ_a η(m) < E - E_trunc, or one more, and m_2 the smallest with Γ_a η(m) + Γ η(m_2) <= E - E_trunc, keeping the
  pair (and the degree, above) with the fewest f_1 + f_2-product nonzeros: f_2's products carry only Γ (3% of Γ_1
  at N = 2^16), so they need fewer sawtooth levels (m = 15, m_2 = 13 there).  (Before: three-square products with
  η = 2^{-2m}, the cruder E_net <= 2 n Γ η and E_net <= E/2; at N = 2^16, δ = 1, ε = 0.1 this needed m = 17; with
  E = ε w_min / 12 and one m with η(m) <= η_p / 2 it was 15.)

Counts.  A level with p products, s squares and o carried values costs Σ_f c(f) + (16m + 32) p + (8m + 9) s
+ (m + 1) o nonzeros, c(f) = 2 k_f + [b_f + 1 ≠ 0] + [b_f - 1 ≠ 0] for an input functional with k_f weights and
bias b_f (4 for a raw input, 14 for a product output (6 weights, no bias), 8 for a square output (3 weights),
3 for a carried value); widths 2·(inputs), 8p + 4s + o, and 6p + 3s + o for the m - 1 transitions.  Per square:
rq 12 (4 units of 2 weights + bias), first transition 13, later ones 8: 8m + 9.  Per product: rq layer 38 (u_+ units 4 weights + a nonzero bias each: 20;
u_- units: ρ(±u_-) 4, ρ(±u_- - 1/2) 5: 18), first transition 2 x 13, every later one 2 x 8:
38 + 26 + 16 (m - 2) = 16m + 32; per carry 2 + (m - 1) (and its clip units).
``block_formula`` sums these over the schedule of levels (``schedule``), adds the output maps and the
quotient's own formula, and predicts L, W, S, B of f_1 and f_2, D, the state sizes and the total nonzeros.
Growth: n = O(λ) (gauss) or O(√(λ log(1/E))) (chebyshev), λ = O(log(N/ε)/δ), m = O(log(Γ_1/E)), so for fixed d
every count is poly-logarithmic in N/ε (T = C(n + d, d) = O(n^d)) and polynomial in 1/δ, as the paper claims;
log Γ = O(λ) for d >= 2 (and for chebyshev) enters only m.  The weight bound is not poly-logarithmic: B of f_2
is the ratio net's largest input scale, max_j Δ_j^{-1/2} (the √-split of ``build_ratio``; the absolute quotient
had 8 N e^{λ(1-τ)}), at τ = 1 one piece of width Δ ≈ (ε/4 + 2ε/6.5)/N, so B ~ (N/ε)^{1/2} and
log B = O(log(N/ε) + λ(1 - τ)) still; B of f_1 is 4 (sawtooth), and |c_α| enters B of f_2 for the chebyshev route.

Precision (issue 15).  Under the paper's hypothesis (margin only, τ = δ - 1, ``tau=None``) the sums must err by
E = ε w_min / 6.5 with w_min = e^{-λ(1-τ)}/N, an absolute error far below float64's rounding of the c_α
(Σ|c_α| 2^{-53}) at small δ: the builder then stores every c_α as a float64 expansion of as many 53-bit parts as
``coefficient_bits`` asks (``exact_terms``; ``precision=`` bits overrides, and too few bits raise an error naming
precision and the bits needed, not the degree), and f_2's read-out carries the tails exactly
(``constructions.affine.ExactTail``: each read-out weight is c_α times a power of two, so the parts stay exact).
The float64 product nets are resolvable down to η = 1e-12 (``lemmas.mult.MIN_REL_EPS``); the block needs
η_p/2 >= 1e-12 for float64, otherwise ``precision_bits`` = ⌈log2(600 / η_p)⌉ + ⌈log2 N⌉ + 8 evaluation bits, and
the verifier evaluates the exact block (tails included) in sound P-bit fixed-point interval arithmetic
(``verify/claims/attention.py``).  Default N = 1024, δ = 0.5, d = 1: 65 coefficient bits (106 stored), 95
evaluation bits, m = 33; the same block with float64-rounded coefficients fails the lemma (docs/lemmas/lemma-3.3.md).
Where this is loose or the spec is wrong: the spec's "e²λ terms per degree" for the Gaussian route is the
closed-form K; the minimal K here is λ + O(√(λ log 1/E)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import product as iproduct

import mpmath
import numpy as np

from constructions import algebra
from constructions.affine import Affine, ExactTail
from constructions.fnn import FNN
from constructions.model import SSMModel
from constructions.ssm import SSMLayer, delay, running_sum
from constructions.circuit import Circuit, Fn
from constructions.validate import check_int, check_real

from .base import Construction
from .mult import MIN_REL_EPS, pair_level
from .square import square_error_bound

ROUTES = ("chebyshev", "gauss")
MAX_DEGREE = 400
DEGREE_SLACK = 3  # degrees above the smallest admissible one that the builder also prices (``budgets``)
E_DIV = 6.5  # E = ε w_min / E_DIV: the quotient of the sums errs by <= 2ε/(E_DIV - ε) <= ε/2.75 (budget 3)
Q_SHARE = 0.125  # ε_q = ε/8, the ratio net's share (budget 3); ε/2.75 + ε/8 < ε/2


# ------------------------------------------------------------------------------------------- budgets
def lam_for(N: int, eps: float, delta: float) -> float:
    """λ = ln(4 (N - 1) / ε) / δ: then 2 (N - 1) e^{-λδ} = ε/2 (Lemma F.1)."""
    return math.log(4.0 * (N - 1) / eps) / delta


def multi_indices(n: int, d: int) -> list[tuple[int, ...]]:
    """All α ∈ N^d with |α| <= n, by degree, then lexicographically decreasing."""
    out = []
    for j in range(n + 1):
        out += sorted((a for a in iproduct(range(j + 1), repeat=d) if sum(a) == j), reverse=True)
    return out


@lru_cache(maxsize=64)
def truncation_tails(route: str, lam: float, n_max: int, dps: int = 60) -> list:
    """tail[n] = the truncation bound of the degree-n polynomial, n = 0..n_max (mpmath):
    gauss: P[Poisson(λ) >= n + 1] = 1 - e^{-λ} Σ_{j<=n} λ^j/j!;  chebyshev: 2 e^{-λ} Σ_{j>n} I_j(λ)
    = 1 - e^{-λ} (I_0 + 2 Σ_{1<=j<=n} I_j) (using e^λ = I_0 + 2 Σ_{j>=1} I_j), at ``dps`` + λ/ln 10 digits."""
    with mpmath.workdps(dps + int(lam / 2.3) + 10):
        lam_ = mpmath.mpf(lam)
        el = mpmath.exp(-lam_)
        acc, out = mpmath.mpf(0), []
        for j in range(n_max + 1):
            if route == "gauss":
                acc += el * lam_ ** j / mpmath.factorial(j)
            else:
                acc += el * mpmath.besseli(j, lam_) * (1 if j == 0 else 2)
            out.append(max(1 - acc, mpmath.mpf(0)))
        return out


def power_coefficients(route: str, lam: float, n: int, dps: int = 60) -> list:
    """p_0..p_n (mpmath) of the degree-n kernel polynomial P(t) ≈ e^{λ(t - 1)}, and its truncation bound."""
    tail = truncation_tails(route, lam, n, dps)[n]
    with mpmath.workdps(dps):
        lam = mpmath.mpf(lam)
        el = mpmath.exp(-lam)
        if route == "gauss":
            return [el * lam ** j / mpmath.factorial(j) for j in range(n + 1)], tail
        c = [el * mpmath.besseli(j, lam) * (1 if j == 0 else 2) for j in range(n + 1)]
        T = [[mpmath.mpf(1)], [mpmath.mpf(0), mpmath.mpf(1)]]
        for j in range(2, n + 1):
            a = [mpmath.mpf(0)] + [2 * x for x in T[j - 1]]
            b = T[j - 2] + [mpmath.mpf(0)] * (len(a) - len(T[j - 2]))
            T.append([x - y for x, y in zip(a, b)])
        p = [mpmath.mpf(0)] * (n + 1)
        for j in range(n + 1):
            for i, x in enumerate(T[j]):
                p[i] += c[j] * x
        return p, tail


FLOAT_BITS = 53  # one float64 part


@lru_cache(maxsize=64)
def exact_terms(route: str, lam: float, n: int, d: int, parts: int = 1):
    """The coefficients c_α stored as float64 expansions of ``parts`` parts (each the rounding of what the earlier
    parts leave; parts = 1: plain float64): (alphas, parts array (parts, T), bound, Γ) with bound = the truncation
    bound + Σ_α |c_α - Σ_p parts[p, α]| + an allowance for the mpmath evaluation (Σ_α |c_α| 10^{-(dps - 15)}),
    computed at dps = 60 + 16 parts digits (``power_coefficients``)."""
    dps = 60 + 16 * parts
    p, tail = power_coefficients(route, lam, n, dps)
    al = multi_indices(n, d)
    with mpmath.workdps(dps):
        exact = [p[sum(a)] * mpmath.factorial(sum(a)) / mpmath.fprod(mpmath.factorial(x) for x in a) for a in al]
        P = np.zeros((parts, len(al)))
        rounding = mpmath.mpf(0)
        for j, x in enumerate(exact):
            rem = x
            for q in range(parts):
                P[q, j] = float(rem)
                rem = rem - mpmath.mpf(P[q, j])
            rounding += abs(rem)
        allowance = mpmath.fsum(abs(x) for x in exact) * mpmath.mpf(10) ** (-(dps - 15))
        bound = tail + rounding + allowance
    return al, P, float(mpmath.mpf(bound) * (1 + mpmath.mpf(2) ** -50)), float(np.sum(np.abs(P[0, 1:])))


def term_coefficients(route: str, lam: float, n: int, d: int, parts: int = 1):
    """(alphas, c_α rounded to float64 (the first part), truncation + coefficient-rounding bound of the stored
    expansion of ``parts`` parts, Γ = Σ_{α≠0} |c_α|)."""
    al, P, bound, Gamma = exact_terms(route, lam, n, d, parts)
    return al, P[0], bound, Gamma


def coefficient_bits(route: str, lam: float, n: int, d: int, room: float) -> int:
    """Bits the stored c_α need so that their rounding fits ``room`` (the absolute error the sums may still spend
    after truncation): ⌈log2(Σ_α |c_α| / room)⌉ + 1 (relative error 2^{-b} per coefficient)."""
    _, P, _, _ = exact_terms(route, lam, n, d, 1)
    tot = float(np.sum(np.abs(P[0])))
    return max(FLOAT_BITS, math.ceil(math.log2(tot / room)) + 1) if room > 0 else 10 ** 6


def degree_for(route: str, lam: float, d: int, target: float, parts: int = 1) -> int:
    """The smallest n >= 2 whose truncation bound (with the rounding of the c_α stored in ``parts`` float64
    parts) is <= target.  When truncation alone fits but the stored coefficients cannot, the error names the
    precision (bits) needed, not the degree."""
    tails = truncation_tails(route, lam, MAX_DEGREE)
    n_tr = None
    for n in range(2, MAX_DEGREE + 1):
        if tails[n] <= target / 2:
            n_tr = n_tr or n
            if exact_terms(route, lam, n, d, parts)[2] <= target:
                return n
            if n >= n_tr + DEGREE_SLACK:
                break
    if n_tr is None:
        raise ValueError(f"kernel degree above {MAX_DEGREE} needed (λ={lam:.4g}, target {target:.3g})")
    need = coefficient_bits(route, lam, n_tr, d, target - float(tails[n_tr]))
    raise ValueError(f"precision: the kernel coefficients stored in {FLOAT_BITS * parts} bits cannot meet the sums' "
                     f"target {target:.3g} (degree {n_tr} truncates within it); they need about {need} bits "
                     f"(Σ|c_α| = {float(np.sum(np.abs(exact_terms(route, lam, n_tr, d, 1)[1][0]))):.3g} against "
                     f"{target:.3g}); build with precision >= {need}")


pair_error = square_error_bound  # η(m) = 2^{-2m-2}: the error of one two-square product (``pair_level``) on [-1, 1]^2


def m_for(eta: float) -> int:
    """The smallest m >= 2 with η(m) = 2^{-2m-2} <= η (then E_net <= Γ_1 η(m) <= E - E_trunc)."""
    m = 2
    while pair_error(m) > eta:
        m += 1
    return m


def budgets(N: int, d: int, d_v: int, delta: float, eps: float, tau: float | None, route: str,
            precision: int | None = None) -> dict:
    """Every budget of the module docstring as numbers (λ, w_min, E, n, T, Γ, η_p, m, precision).

    precision: bits of the stored kernel coefficients (rounded up to whole float64 parts of 53 bits); None: the
    fewest that the budget needs (``coef_bits_needed``, float64 when that suffices)."""
    lam = lam_for(N, eps, delta)
    tau_eff = delta - 1.0 if tau is None else float(tau)
    w_min = math.exp(-lam * (1.0 - tau_eff)) / N
    E = eps * w_min / E_DIV
    # coefficient precision: what the smallest degree that truncates within E/4 needs for its rounding
    target = E / 2
    tails = truncation_tails(route, lam, MAX_DEGREE)
    n_tr = next((n for n in range(2, MAX_DEGREE + 1) if tails[n] <= target / 2), None)
    if n_tr is None:
        raise ValueError(f"kernel degree above {MAX_DEGREE} needed (λ={lam:.4g}, target {target:.3g})")
    need = coefficient_bits(route, lam, n_tr, d, target - float(tails[n_tr]))
    if precision is None:
        parts = -(-need // FLOAT_BITS)
    else:
        precision = check_int("precision", precision, FLOAT_BITS)
        parts = -(-precision // FLOAT_BITS)
        if FLOAT_BITS * parts < need:
            raise ValueError(f"precision: {precision} bits asked, the kernel coefficients need about {need} bits "
                             f"(smallest denominator w_min = e^(-λ(1-τ))/N = {w_min:.3g}, sums' target E/2 = "
                             f"{target:.3g}, Σ|c_α| = {float(np.sum(np.abs(exact_terms(route, lam, n_tr, d, 1)[1][0]))):.3g})")
    # degree: the smallest n0 with E_trunc <= E/2, or up to DEGREE_SLACK more when the smaller truncation
    # leaves the network enough budget for a smaller m and the block has fewer nonzeros (f_1 + f_2's products);
    # depths: m (f_1) and m2 (f_2's product level) with η(m) Γ_a + η(m2) Γ <= E - E_trunc (module docstring)
    n0 = degree_for(route, lam, d, target, parts)
    best = None
    for n in range(n0, min(n0 + DEGREE_SLACK, MAX_DEGREE) + 1):
        al, c, trunc, Gamma = term_coefficients(route, lam, n, d, parts)
        Gamma1 = float(sum(2 * sum(a) * abs(x) for a, x in zip(al[1:], c[1:])))
        Gamma_a = Gamma1 - Gamma
        room = E - trunc
        eta_p = room / max(Gamma1, 1e-300)
        m_lo = m_for(room / max(Gamma_a, 1e-300))
        while pair_error(m_lo) * Gamma_a >= room:  # leave room for f_2's products
            m_lo += 1
        for m in (m_lo, m_lo + 1):
            m2 = m_for((room - pair_error(m) * Gamma_a) / max(Gamma, 1e-300))
            S1, _, S2p = feature_nonzeros(n, d, d_v, m, int(np.count_nonzero(c[1:])), m2)
            if best is None or S1 + S2p < best[0]:
                best = (S1 + S2p, n, al, trunc, Gamma, Gamma1, eta_p, m, m2)
    _, n, al, trunc, Gamma, Gamma1, eta_p, m, m2 = best
    float64 = eta_p / 2 >= MIN_REL_EPS and parts == 1
    net_bits = math.ceil(math.log2(600.0 / eta_p)) + math.ceil(math.log2(N)) + 8
    bits = 53 if float64 else net_bits
    W_max = (1.0 + (N - 1) * math.exp(-lam * delta)) / N * (1.0 + 1e-12)  # W <= W_max by the margin (budget 3)
    sum_c = float(np.sum(np.abs(exact_terms(route, lam, n, d, 1)[1][0])))
    why = (f"smallest denominator w_min = e^(-λ(1-τ))/N = {w_min:.3g} (λ = {lam:.4g}, τ = {tau_eff:.4g}); the sums "
           f"must err by <= E = ε w_min/{E_DIV} = {E:.3g}, while the coefficients reach Σ|c_α| = {sum_c:.3g}: "
           f"{need} coefficient bits (float64 holds {FLOAT_BITS}); the products resolve η_p = {eta_p:.3g}: "
           + ("float64 suffices (η_p/2 >= 1e-12, lemmas.mult.MIN_REL_EPS)" if float64 else
              f"{net_bits} evaluation bits (beyond float64)"))
    return {"lam": lam, "tau": tau_eff, "w_min": w_min, "W_max": W_max, "E": E, "n": n, "T": len(al), "E_trunc": trunc,
            "Gamma": Gamma, "Gamma1": Gamma1, "eta_p": eta_p, "m": m, "m2": m2, "float64": bool(float64),
            "precision_bits": int(bits), "coef_bits_needed": int(need), "coef_parts": int(parts),
            "coef_bits": FLOAT_BITS * int(parts), "eval_bits_needed": int(bits), "sum_abs_c": sum_c,
            "bits_why": why,
            "E_net_bound": (Gamma1 - Gamma) * pair_error(m) + Gamma * pair_error(m2)}


# ------------------------------------------------------------------------------------------- schedule
def schedule(n: int, d: int, d_v: int) -> list[list[tuple]]:
    """The levels of f_1 as ops on named values: ("mult", out, a, b) or ("carry", name).

    Names: ("k", α), ("q", α) monomials (α a d-tuple), ("v", c) values, ("a", α, c) = k^α v_c."""
    def e(l, j):
        return tuple(j if i == l else 0 for i in range(d))

    levels = []
    h = 1
    ell = 1
    while h < n:
        top = min(2 ** ell, n)
        ops = []
        for side in "kq":
            for l in range(d):
                for j in range(1, h + 1):
                    ops.append(("carry", (side, e(l, j))))
                for j in range(h + 1, top + 1):  # x^j = (x^{j/2})^2 or x^{⌈j/2⌉} x^{⌊j/2⌋}, both <= half = h
                    if j % 2 == 0:
                        ops.append(("square", (side, e(l, j)), (side, e(l, j // 2))))
                    else:
                        ops.append(("mult", (side, e(l, j)), (side, e(l, (j + 1) // 2)), (side, e(l, j // 2))))
        ops += [("carry", ("v", c)) for c in range(d_v)]
        levels.append(ops)
        h, ell = top, ell + 1
    for l in range(1, d):
        ops = []
        prev = [a for a in multi_indices(n, l) if sum(a) > 0]
        for side in "kq":
            for a in prev:
                ops.append(("carry", (side, a + (0,) * (d - l))))
            for j in range(1, n + 1):
                ops.append(("carry", (side, e(l, j))))
            for a in prev:
                for j in range(1, n - sum(a) + 1):
                    out = a + (j,) + (0,) * (d - l - 1)
                    ops.append(("mult", (side, out), (side, a + (0,) * (d - l)), (side, e(l, j))))
            for l2 in range(l + 1, d):
                for j in range(1, n + 1):
                    ops.append(("carry", (side, e(l2, j))))
        ops += [("carry", ("v", c)) for c in range(d_v)]
        levels.append(ops)
    mono = [a for a in multi_indices(n, d) if sum(a) > 0]
    ops = [("mult", ("a", a, c), ("k", a), ("v", c)) for a in mono for c in range(d_v)]
    ops += [("carry", ("k", a)) for a in mono] + [("carry", ("q", a)) for a in mono]
    ops += [("carry", ("v", c)) for c in range(d_v)]
    levels.append(ops)
    return levels


def _op_name(op):
    return op[1]


def run_schedule(c: Circuit, env: dict, levels: list[list[tuple]], m: int) -> dict:
    """Emit the levels on the circuit; env maps names to functionals of the current layer."""
    for ops in levels:
        lops = []
        for op in ops:
            if op[0] == "mult":
                lops.append(("mult", env[op[2]], env[op[3]]))
            elif op[0] == "square":
                lops.append(("square", env[op[2]]))
            else:
                lops.append(("carry", env[op[1]]))
        outs = pair_level(c, lops, m)
        env = {_op_name(op): f for op, f in zip(ops, outs)}
    return env


def schedule_cost(levels: list[list[tuple]], m: int, origin: dict) -> tuple[int, list[int], dict]:
    """Nonzeros, hidden widths and final origins of the levels by the level rule (independent of the circuit).

    origin[name] ∈ {"raw", "pair", "square", "carry"}: c(f) = 4, 14, 8, 3."""
    cost = {"raw": 4, "pair": 14, "square": 8, "carry": 3}
    S, widths = 0, []
    for ops in levels:
        p = sum(op[0] == "mult" for op in ops)
        sq = sum(op[0] == "square" for op in ops)
        o = len(ops) - p - sq
        n_in = 2 * p + sq + o
        S += sum(cost[origin[op[2]]] + cost[origin[op[3]]] if op[0] == "mult"
                 else cost[origin[op[2]]] if op[0] == "square" else cost[origin[op[1]]] for op in ops)
        S += (16 * m + 32) * p + (8 * m + 9) * sq + (m + 1) * o
        widths += [2 * n_in, 8 * p + 4 * sq + o] + [6 * p + 3 * sq + o] * (m - 1)
        origin = {op[1]: {"mult": "pair", "square": "square"}.get(op[0], "carry") for op in ops}
    return S, widths, origin


# ------------------------------------------------------------------------------------------- the block
def block_counts(f1, g, f2) -> dict:
    """Counts of an FNN + SSM + FNN block f_2 ∘ g ∘ f_1 (M = 1): each FNN's (L, W, S, B), their maxima, the SSM
    layer's nonzeros and state, and the total nonzeros S_1 + S_2 + nnz(g)."""
    c1, c2, cg = f1.counts(), f2.counts(), g.counts()
    return {"M": 1, "U": g.U, "D": g.H,
            "f1": {"L": c1.L, "W": c1.W, "S": c1.S, "B": c1.B},
            "f2": {"L": c2.L, "W": c2.W, "S": c2.S, "B": c2.B},
            "L": max(c1.L, c2.L), "W": max(c1.W, c2.W), "S": max(c1.S, c2.S), "B": max(c1.B, c2.B),
            "ssm_nnz": cg["nnz"], "state_total": cg["state_total"], "state_max": cg["state_max"],
            "running_sum_channels": cg["families"].get("running_sum", 0),
            "identity_channels": cg["families"].get("delay", 0),
            "total_nonzeros": c1.S + c2.S + cg["nnz"]}


class Block:
    """What every FNN + SSM + FNN block F = f_2 ∘ g ∘ f_1 evaluates and counts, given ``f1``, ``g``, ``f2``,
    ``readout`` (the part of f_2 that forms the sums) and ``features(X) -> (f_1(X), g(f_1(X)))``."""

    def forward(self, X, method: str = "auto") -> np.ndarray:
        return self.f2(self.features(X, method)[1])

    def __call__(self, X, method: str = "auto") -> np.ndarray:
        return self.forward(X, method)

    def last(self, X, method: str = "auto") -> np.ndarray:
        """F(X)_N: f_1 and g on every token, f_2 (token-wise) on the last token only (the same numbers as
        ``forward(X)[..., -1, :]``)."""
        G = self.features(X, method)[1]
        return self.f2(G[..., -1, :])

    def sums(self, X, method: str = "auto") -> np.ndarray:
        """The sums at the last token: the read-out that feeds the quotients ((Â_1..Â_dv, Ŵ) here; the positive
        route's (Â⁺_1..Â⁺_dv, Ŵ))."""
        G = self.features(X, method)[1]
        return self.readout(G[..., -1, :])

    def as_model(self) -> SSMModel:
        """The same object as a ``constructions.model.SSMModel`` (for export and inspection): the first FNN f_1,
        then the one block (g, f_2); its counts equal ``counts()`` (M = 1, same nonzeros)."""
        return SSMModel(None, [(self.g, self.f2)], pre=self.f1)

    def counts(self) -> dict:
        return block_counts(self.f1, self.g, self.f2)


@dataclass(frozen=True)
class AttentionBlock(Block):
    """F = f_2 ∘ g ∘ f_1 on token rows X (..., N, 2d + d_v) = (k_i, v_i, q_i)."""

    f1: FNN
    g: SSMLayer
    f2: FNN
    d: int
    d_v: int
    alphas: tuple = ()
    coef: np.ndarray = field(default_factory=lambda: np.zeros(0))
    readout: FNN | None = None  # the product + read-out part of f_2: g's output -> (Â_1..Â_dv, Ŵ)

    def features(self, X, method: str = "auto") -> tuple[np.ndarray, np.ndarray]:
        Z = self.f1(X)
        return Z, self.g(Z, method=method)



def channel_layout(T: int, d_v: int) -> dict:
    """Channel index ranges of f_1's output / g: M (T), A (T d_v, α-major), ψ (T - 1)."""
    return {"M": (0, T), "A": (T, T + T * d_v), "psi": (T + T * d_v, T * (2 + d_v) - 1)}


def quotient_args(bud: dict, eps: float) -> tuple[float, float, float, float]:
    """(C, b_min, b_max, ε_q) of the ratio-form F.4 net (module docstring, budget 3): C = 1 + 2E/(w_min - E),
    b ∈ [w_min - E, W_max + E], ε_q = ε/8 (``Q_SHARE``)."""
    E, w_min = bud["E"], bud["w_min"]
    return 1.0 + 2.0 * E / (w_min - E), w_min - E, bud["W_max"] + E, eps * Q_SHARE


def _quotient(C: float, b_min: float, b_max: float, eps: float) -> Construction:
    from . import ratio  # lemmas/ratio.py (Lemma F.4, ratio form)
    return ratio.build_ratio(C, b_min, b_max, eps)


def quotient_net(bud: dict, eps: float) -> Construction:
    """The F.4 ratio net the block uses for these budgets."""
    return _quotient(*quotient_args(bud, eps))


def readout_tail(P2, terms: list[list[tuple]], tails: np.ndarray) -> "Affine":
    """P2's last map (the read-out Ŵ, Â_c) with the exact parts of its coefficients: output o is
    Σ_{(f, i) ∈ terms[o]} c_i f, f a functional of the last hidden units whose weights and bias are powers of two
    (or 0), so w c_i = w c_i^(0) + w c_i^(1) + ... exactly part by part; the first part is what the circuit stored."""
    lay = P2.layers[-1]
    rows, cols, vals, bparts = [], [], [], np.zeros((tails.shape[0], lay.d_out))
    for o, lst in enumerate(terms):
        seen = set()
        for f, i in lst:
            for u, w in f.w.items():
                if u in seen or math.frexp(abs(w))[0] != 0.5:
                    raise ValueError("read-out weight not a distinct power of two: the exact parts would round")
                seen.add(u)
                rows.append(o)
                cols.append(u)
                vals.append(w * tails[:, i])
            if f.b != 0.0:
                if math.frexp(abs(f.b))[0] != 0.5 or np.any(bparts[:, o] != 0):
                    raise ValueError("read-out bias not a single power of two: the exact parts would round")
                bparts[:, o] = f.b * tails[:, i]
    parts = np.array(vals).T if vals else np.zeros((tails.shape[0], 0))
    keep = np.any(parts != 0, axis=0)
    return lay.with_tail(ExactTail(np.array(rows)[keep], np.array(cols)[keep], parts[:, keep], bparts))


def build_attention(d: int, d_v: int, N: int, delta: float, eps: float, tau: float | None = None,
                    route: str = "chebyshev", quotient=None, precision: int | None = None) -> Construction:
    """The block of Lemma 3.3 (module docstring); ``quotient`` overrides the F.4 builder (tests only).

    tau: the lower bound on the top score (None: the paper's margin-only hypothesis, τ = δ - 1).  precision: bits
    of the stored kernel coefficients (whole float64 parts of 53 bits; None: the fewest the budget needs).  Where
    more than 53 are stored, the read-out map of f_2 carries the exact parts (``constructions.affine.ExactTail``):
    its float64 entries are the rounded coefficients, the exact net (what ``verify.certify.fixedpoint`` evaluates)
    has the stored expansions."""
    d, d_v, N = check_int("d", d, 1), check_int("d_v", d_v, 1), check_int("N", N, 2)
    delta = check_real("delta", delta, 0.0, 2.0)
    eps = check_real("eps", eps, 0.0, 1.0)
    if tau is not None:
        tau = check_real("tau", tau, -1.0 + delta, 1.0, lo_open=False)
    if route not in ROUTES:
        raise ValueError(f"route must be one of {ROUTES}, got {route!r}")
    bud = budgets(N, d, d_v, delta, eps, tau, route, precision)
    n, m = bud["n"], bud["m"]
    al, cparts, _, _ = exact_terms(route, bud["lam"], n, d, bud["coef_parts"])
    coef = cparts[0]
    T = len(al)
    mono = al[1:]

    # f_1
    c1 = Circuit(2 * d + d_v)
    x = c1.inputs()
    env = {}
    for l in range(d):
        e = tuple(1 if i == l else 0 for i in range(d))
        env[("k", e)] = x[l]
        env[("q", e)] = x[d + d_v + l]
    for cc in range(d_v):
        env[("v", cc)] = x[d + cc]
    levels = schedule(n, d, d_v)
    env = run_schedule(c1, env, levels, m)
    inv = 1.0 / N
    outs = [Fn({}, inv)] + [env[("k", a)] * inv for a in mono]
    A_out = []
    for a in al:
        for cc in range(d_v):
            A_out.append(env[("v", cc)] * inv if sum(a) == 0 else env[("a", a, cc)] * inv)
    outs += A_out + [env[("q", a)] for a in mono]
    f1 = c1.net(outs)

    # g
    chans = [running_sum() for _ in range(T * (1 + d_v))] + [delay(0) for _ in range(T - 1)]
    g = SSMLayer(tuple(chans), U=N)

    # f_2: products, read-out (Â_1..Â_dv, Ŵ), quotients
    lay = channel_layout(T, d_v)
    c2 = Circuit(g.H)
    u = c2.inputs()
    Mf = u[lay["M"][0]:lay["M"][1]]
    Af = u[lay["A"][0]:lay["A"][1]]
    Pf = u[lay["psi"][0]:lay["psi"][1]]
    ops = [("carry", Mf[0])] + [("carry", Af[cc]) for cc in range(d_v)]
    for i in range(1, T):
        ops.append(("mult", Pf[i - 1], Mf[i]))
        ops += [("mult", Pf[i - 1], Af[i * d_v + cc]) for cc in range(d_v)]
    res = pair_level(c2, ops, bud["m2"])
    den = res[0] * coef[0]
    nums = [res[1 + cc] * coef[0] for cc in range(d_v)]
    terms = [[(res[1 + cc], 0)] for cc in range(d_v)] + [[(res[0], 0)]]  # (functional, coefficient index) per output
    k = 1 + d_v
    for i in range(1, T):
        ci = coef[i]
        den = den + res[k] * ci
        terms[d_v].append((res[k], i))
        for cc in range(d_v):
            nums[cc] = nums[cc] + res[k + 1 + cc] * ci
            terms[cc].append((res[k + 1 + cc], i))
        k += 1 + d_v
    P2 = c2.net(nums + [den])
    if cparts.shape[0] > 1:
        P2 = FNN(P2.layers[:-1] + (readout_tail(P2, terms, cparts[1:]),))
    qb = (quotient or _quotient)(*quotient_args(bud, eps))
    Q = qb.net
    sel = np.zeros((2 * d_v, d_v + 1))
    for cc in range(d_v):
        sel[2 * cc, cc] = 1.0
        sel[2 * cc + 1, d_v] = 1.0
    Qsel = algebra.compose(algebra.parallel(*([Q] * d_v), shared_input=False), algebra.affine(sel))
    f2 = algebra.concat(Qsel, P2)

    block = AttentionBlock(f1, g, f2, d, d_v, tuple(al), coef, P2)
    formula = block_formula(d, d_v, N, delta, eps, tau, route, qb, bud)
    prec = ("float64" if bud["float64"] else
            f"coefficients {bud['coef_bits']} bits stored (needed {bud['coef_bits_needed']}), evaluation "
            f"{bud['precision_bits']} bits (float64 not enough)")
    notes = {**bud, "route": route, "quotient_formula": qb.formula, "quotient_params": qb.params,
             "precision": prec,
             "claimed": "poly-log in N/ε for fixed d, polynomial in 1/δ (paper); T = C(n + d, d)"}
    return Construction(block, formula, {"d": d, "d_v": d_v, "N": N, "delta": delta, "eps": eps, "tau": tau,
                                         "route": route, "precision": precision}, notes)


def feature_nonzeros(n: int, d: int, d_v: int, m: int, nz: int, m2: int | None = None) -> tuple[int, list[int], int]:
    """(S of f_1, f_1's hidden widths, S of f_2's product + read-out part) by the level rule, for degree n, depths
    m (f_1) and m2 (f_2's products; m when None) and nz nonzero coefficients c_α (α ≠ 0)."""
    m2 = m if m2 is None else m2
    T = math.comb(n + d, d)
    levels = schedule(n, d, d_v)
    origin = {}
    for l in range(d):
        e = tuple(1 if i == l else 0 for i in range(d))
        origin[("k", e)] = origin[("q", e)] = "raw"
    for cc in range(d_v):
        origin[("v", cc)] = "raw"
    S1, w1, _ = schedule_cost(levels, m, origin)
    # output map: M_0 bias 1; M_α carried (w - 1)/N: 2; A_0c carried: 2; A_αc product: 9; ψ_α carried: 2
    S1 += 1 + 2 * (T - 1) + 2 * d_v + 6 * (T - 1) * d_v + 2 * (T - 1)
    # f_2 product part: one level, carries M_0, A_0c (raw), products ψ_α x M_α, ψ_α x A_αc (raw inputs)
    p, o = (T - 1) * (1 + d_v), 1 + d_v
    S2p = 4 * (2 * p + o) + (16 * m2 + 32) * p + (m2 + 1) * o
    S2p += (1 + d_v) * (2 + 6 * nz)  # each read-out: carry (1 weight + bias) + 6 per nonzero c_α
    return S1, w1, S2p


def block_formula(d, d_v, N, delta, eps, tau, route, qb: Construction, bud: dict | None = None) -> dict:
    """The exact counts the builder promises, from the budgets (``bud``, computed when not given), the level rule
    and the F.4 formula."""
    if bud is None:
        bud = budgets(N, d, d_v, delta, eps, tau, route)
    n, m, m2 = bud["n"], bud["m"], bud["m2"]
    al, coef, _, _ = term_coefficients(route, bud["lam"], n, d, bud["coef_parts"])
    T = len(al)
    nz = int(np.count_nonzero(coef[1:]))
    levels = schedule(n, d, d_v)
    S1, w1, S2p = feature_nonzeros(n, d, d_v, m, nz, m2)
    D_out = T * (2 + d_v) - 1
    f1 = {"L": len(levels) * (m + 1) + 1, "W": max([2 * d + d_v, D_out] + w1), "S": S1,
          "B": max(4.0, 1.0 / N)}
    p, o = (T - 1) * (1 + d_v), 1 + d_v
    last = (1 + d_v) * (2 + 6 * nz)
    c0 = abs(float(coef[0]))
    B2p = max([4.0] + [abs(float(x)) for x in coef[1:]] + [c0])  # c_α (pair output) and c_0
    # pair outputs weight ±1 (γ of y_±) and ∓2/4^m, ±4/4^m, scaled by c_α; carry output weight 1 and bias -1,
    # scaled by c_0
    qf = qb.formula
    Lq, Sq, Bq = qf["L"], qf["S"], qf["B"]
    q1 = qb.net.layers[0]
    S_qsel = d_v * Sq
    S2 = S_qsel + S2p + last + d_v * q1.nnz_A
    w2 = [D_out, 2 * (2 * p + o), 8 * p + o] + [6 * p + o] * (m2 - 1) + [2 * (d_v + 1)] \
        + [d_v * w for w in qb.net.widths[1:]]
    f2 = {"L": (m2 + 2) + Lq, "W": max(w2), "S": S2, "B": max(B2p, Bq)}
    ssm_nnz = 4 * T * (1 + d_v) + (T - 1)
    return {"f1": f1, "f2": f2, "D": D_out, "T": T, "n": n, "m": m, "m2": m2, "U": N,
            "state_total": T * (1 + d_v), "state_max": 1, "ssm_nnz": ssm_nnz,
            "running_sum_channels": T * (1 + d_v), "identity_channels": T - 1,
            "total_nonzeros": f1["S"] + S2 + ssm_nnz}


# ------------------------------------------------------------------------------------------- inspection
def token_contributions(block: AttentionBlock, X) -> np.ndarray:
    """Each token's weight in the last output, from the emitted weights: token i's summed-feature contribution
    Σ_α c_α ψ_α(q_N) M_α(k_i) divided by the denominator Σ_i (...) (shape (..., N))."""
    X = np.asarray(X, dtype=np.float64)
    Z = block.f1(X)
    T = len(block.alphas)
    lay = channel_layout(T, block.d_v)
    M = Z[..., lay["M"][0]:lay["M"][1]]
    psi = np.concatenate([np.ones(Z.shape[:-2] + (1,)), Z[..., -1, lay["psi"][0]:lay["psi"][1]]], axis=-1)
    contrib = np.einsum("...nt,...t->...n", M, psi * block.coef)
    return contrib / np.sum(contrib, axis=-1, keepdims=True)
