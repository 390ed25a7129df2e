"""Lemma H.3 (n-gram lookup) by the paper's route: H.1 codes, delay channels, and the Lemma 3.3 selection
(exponentially weighted running sums and a ratio), with a kernel feature map that is exact on the finite alphabet.

Statement built (issue 17, item 1, "the paper's route").  Vocabulary V, an H.1 code E ∈ {±1/√k}^{k×|V|}
(``lemmas.jl.vocab_code``: ‖c(v)‖ = 1, |⟨c(v), c(w)⟩| <= δ_c <= δ for v ≠ w), window n >= 1, length bound N.
For every sequence x_1..x_{N'} (n + 1 <= N' <= N) whose last n tokens occur earlier as a block ending at some
i <= N' - 1, every such earlier occurrence being followed by the same token y, the model F below predicts
argmax F(x) = y.  n = 1 with distinct keys is associative recall (Theorem 3.2) and induction heads (D.1).

Score.  Key at position j: (c(x_{j-1}), ..., c(x_{j-n})) (zero codes before the start); query: (c(x_{N'}), ...,
c(x_{N'-n+1})); s_j = Σ_{r=1..n} ⟨c(x_{j-r}), c(x_{N'+1-r})⟩ = n at a match, <= n - 1 + δ_c otherwise (one slot
differs; a zero slot contributes 0).  Weights w_j = e^{λ(s_j - n)}: 1 at a match, <= κ := e^{-λ(1 - δ_c)} otherwise.

The kernel as features (why not the generic expansion of Lemma 3.3).  Lemma 3.3 writes e^{λ(s - n)} ≈ P(⟨K, Q⟩)
for keys in dimension d = n k and expands the degree-deg polynomial into C(deg + d, d) monomials.  On a finite
alphabet the exact options are (``feature_options`` computes all counts):
  * sign-multilinear: codes are σ/√k, so e^{λ⟨c, c'⟩} = Π_l (cosh(λ/k) + σ_l σ'_l sinh(λ/k)) and
    e^{λ s} = Σ_{S ⊆ [n k]} cosh^{nk-|S|}(λ/k) sinh^{|S|}(λ/k) σ^S σ'^S: 2^{n k} features, exact;
  * per-slot Gram factor (chosen): e^{λ(⟨c(a), c(b)⟩ - 1)} = K_1[a, b], K_1 = e^{λ(G - 1)} entrywise (G the
    |V|×|V| code Gram matrix), so w_j = Π_r K_1[x_{j-r}, q_r] = Σ_{a ∈ V^n} 1{key_j = a} Π_r K_1[a_r, q_r]:
    |V|^n key features (the one-hot of the preceding n-gram), exact.  |V| <= 2^k, so |V|^n <= 2^{nk} always;
  * truncated multilinear / generic polynomial: Σ_{i<=deg} C(nk, i) resp. C(deg + nk, nk) terms, approximate.
  Lower bound for any exact feature map: the matrix [e^{λ(s(a, b) - n)}]_{a, b ∈ V^n} = K_1^{⊗n} has rank
  >= tr² / ‖·‖_F² = (|V|² / ‖K_1‖_F²)^n (≈ |V|^n: the diagonal is 1, the rest <= κ), so the chosen map is within
  that factor of optimal; none is poly-logarithmic in |V|.

Network (SSMModel: Emb, [(g_1, f_1), (g_2, f_2)], Dec).
  Emb: the one-hot embedding with E (D = k).
  g_1: (n + 1) k delay channels (W_in stacks n + 1 copies of I_k), slot r = 0..n delays by r; window n + 1;
       state k n (n + 1) / 2.
  f_1 (3 maps, exact gates).  Layer 1: for every slot r and token a, u_{r,a} = ρ(α(⟨c(a), y_r⟩ - θ)) -
       ρ(α(⟨c(a), y_r⟩ - θ) - 1) with θ ∈ (δ_c, 1) dyadic and α a power of two with α(1 - θ) >= 2 and
       α(θ - δ_c) >= 1: u = 1{x_{j-r} = a} exactly (the stored codes make ⟨c(a), y⟩ = 1 ± k 2^{-52}); the value
       bits β_c = ρ(M y_{0,c} + 1/2) - ρ(M y_{0,c} - 1/2) = 1{σ_c(x_j) = +1} (M = 2^{⌈log2 √k⌉}).
       Layer 2: I_a = ρ(Σ_{r=1..n} u_{r,a_r} - (n - 1)) (a ∈ V^n), J_{a,c} = ρ(Σ_r u_{r,a_r} + β_c - n) (the AND of
       0/1 values: exact), carried query indicators q_{r,b} = ρ(u_{r,b}), r = 0..n-1.  Output: (I, J, q).
  g_2: |V|^n (1 + k) running sums (window N) and n |V| identity channels: at the last token the counts
       m_a = #{j: key_j = a} and A_{a,c} = #{j: key_j = a, β_c(x_j) = 1}, and q.
  f_2.  n contraction stages (exact gates: one factor is 0/1).  Stage s contracts key slot s against query slot
       s - 1: unit (b, rest) = ρ(Σ_{a_s} K_1[a_s, b] T_{s-1}[a_s, rest] - Z (1 - q_{s-1,b})), T_s[rest] = Σ_b unit,
       Z = 2N >= every T (nonnegative, K_1 <= 1, Σ_a m_a <= N); since exactly one b has q_{s-1,b} = 1,
       T_n = Σ_j w_j (channel W) and Σ_j w_j β_c(x_j) (channels A_c), exactly.  Then the ratio-form F.4 net
       (``lemmas.ratio.build_ratio``) on each (A_c, W), and the output 2φ - 1 ≈ σ(y) ∈ {±1}^k.
  Dec: W_Dec = E^T / √k = signs^T / k (entries ±1/k, ‖W_Dec‖∞ = max row ℓ1 = 1): logits ⟨σ(w), 2φ - 1⟩ / k
       (1 at σ(y) itself, ⟨c(w), c(y)⟩ <= δ_c for w ≠ y).

Budgets.  W >= 1 (the match alone, K_1[a, a] = e^0 = 1 stored exactly), W <= 1 + (N - 2) κ̂ with κ̂ the largest stored
off-diagonal K_1 entry, so |A_c / W - β_c(y)| <= (N - 2) κ̂ (at most N - 2 positions carry a non-matching key).
λ = ln(2 (N - 2) / ε) / (1 - δ_c) (times 1 + 1e-9 against rounding) makes this <= ε/2 (checked on the stored
κ̂); the ratio net on b ∈ [1, 1 + (N - 2) κ̂], |a| <= b (C = 1) adds <= ε/2.  So |φ_c - β_c(y)| <= ε, the target's
logit is >= 1 - 2ε and every other <= δ_c + 2ε: the argmax is y when ε < (1 - δ_c)/4 (required).
Precision.  In exact arithmetic on the stored weights every gate is exact; the only errors are the selection term
and the ratio net's.  The values are counts up to N and the sums are within [1, 1 + ε/2], so a P-bit fixed-point
evaluation needs about log2 N + O(log(1/ε)) bits (measured at ε = 0.1: log2 N + 9 to 11, 12 bits at N = 9 to 20 at
N = 517; ``verify/certify/lemma_ngram_attention.py``, docs/tasks/paper-route.md);
the tiny weights κ̂ only need exponent range (they enter with their own binary exponent), never mantissa bits.
Those 9..11 bits come from a non-dyadic code (1/√k rounded, amplified by the gate slope α): with a k = 4^j code
(entries ±2^-j, ``lemmas.task_blocks.task_code``, what the claims pass as ``code``) 4..5 bits certify at N <= 256.
Float64 (53 bits) is therefore enough for every size this module can build; the precision-hungry route is the
generic polynomial kernel (``generic_route``), whose term count is also reported.
"""

from __future__ import annotations

import math
from itertools import product as iproduct

import numpy as np

from constructions import algebra
from constructions.circuit import Circuit, Fn
from constructions.model import Decoding, Embedding, SSMModel
from constructions.ssm import SSMLayer, delay, running_sum
from constructions.validate import check_int, check_real

from .base import Construction
from .jl import VocabCode, int_gram, off_diagonal_max, vocab_code
from .ratio import build_ratio

MAX_KEY_FEATURES = 1 << 16  # |V|^n above this is refused (the model would not fit in memory)
BITS = 53  # the precision the route claims suffices (float64's mantissa; measured need: log2 N + 9..11 bits)


# ------------------------------------------------------------------------------------------- budgets
def code_margin(code: VocabCode) -> float:
    """δ_c = max_{v≠w} |⟨c(v), c(w)⟩| = max |G_vw| / k, recomputed from the signs (the integer Gram, exact); the
    signs must be ±1 and E = signs / √k."""
    S = np.asarray(code.signs)
    if S.shape != (code.k, code.V) or not np.all(np.abs(S) == 1):
        raise ValueError("the code's signs must be a (k, |V|) matrix of ±1")
    if not np.array_equal(np.asarray(code.E), S / math.sqrt(code.k)):
        raise ValueError("the code's E must equal signs / sqrt(k)")
    return off_diagonal_max(int_gram(S)) / code.k


def lam_for(N: int, eps: float, delta_c: float) -> float:
    """λ = ln(2 (N - 2) / ε) / (1 - δ_c) (times 1 + 1e-9): (N - 2) e^{-λ(1 - δ_c)} <= ε/2."""
    return math.log(2.0 * max(N - 2, 1) / eps) / (1.0 - delta_c) * (1.0 + 1e-9)


def slot_kernel(code: VocabCode, lam: float) -> np.ndarray:
    """K_1[a, b] = e^{λ(⟨c(a), c(b)⟩ - 1)} from the integer Gram (diagonal exactly 1)."""
    G = code.signs.T.astype(np.float64) @ code.signs.astype(np.float64)  # exact integers
    return np.exp(lam * (G / code.k - 1.0))


def gate_params(delta_c: float, k: int) -> tuple[float, float, float]:
    """(θ, α, M): θ dyadic in (δ_c, 1), α a power of two with α(1 - θ) >= 2 and α(θ - δ_c) >= 1, M = 2^⌈log2 √k⌉."""
    theta = math.floor((1.0 + delta_c) / 2.0 * 2 ** 20) / 2 ** 20
    if not delta_c < theta < 1.0:
        raise ValueError(f"code margin δ_c = {delta_c} leaves no gate threshold below 1")
    alpha = 2.0 ** math.ceil(math.log2(max(2.0 / (1.0 - theta), 1.0 / (theta - delta_c))))
    M = 2.0 ** math.ceil(math.log2(math.sqrt(k)))
    return theta, alpha, M


def ngrams(V: int, n: int) -> list[tuple[int, ...]]:
    """All a ∈ V^n, a_1 most significant (index Σ a_r V^{n-r})."""
    return list(iproduct(range(V), repeat=n))


# ------------------------------------------------------------------------------------------- counts
def feature_options(V: int, n: int, k: int, K1: np.ndarray | None = None) -> dict:
    """Exact key-feature counts of the options in the module docstring, and the rank lower bound."""
    out = {"per_slot_gram": V ** n, "sign_multilinear": 2 ** (n * k), "key_dim": n * k}
    if K1 is not None:
        fro2 = float(np.sum(K1 * K1))
        out["rank_lower_bound"] = (V * V / fro2) ** n
    return out


def generic_route(V: int, n: int, k: int, N: int, delta_c: float, eps: float) -> dict:
    """Lemma 3.3's generic expansion on keys of dimension d = n k (normalised by √n: margin (1 - δ_c)/n, top score
    1, τ = 1): λ, the Chebyshev degree with truncation <= E/2 (E = ε / (6.5 N), attention's budget), and the term
    counts C(deg + d, d) (generic) and Σ_{i<=deg} C(d, i) (multilinear on sign codes)."""
    from . import attention as la
    d = n * k
    lam = la.lam_for(N, eps, (1.0 - delta_c) / n)
    E = eps / N / la.E_DIV
    tails = la.truncation_tails("chebyshev", lam, la.MAX_DEGREE)
    deg = next((j for j in range(2, la.MAX_DEGREE + 1) if tails[j] <= E / 2), None)
    if deg is None:
        return {"lam": lam, "degree": None, "d": d}
    return {"lam": lam, "degree": deg, "d": d, "generic_terms": math.comb(deg + d, d),
            "multilinear_terms": sum(math.comb(d, i) for i in range(min(deg, d) + 1))}


def _stage_nnz(V: int, n: int, K1: np.ndarray) -> tuple[int, int]:
    """(nonzeros of f_2's n contraction stages per value channel, hidden units per channel)."""
    nzcol = np.count_nonzero(K1, axis=0)  # nonzeros of K_1[:, b]
    S, units = 0, 0
    for s in range(1, n + 1):
        rest = V ** (n - s)
        per = (int(nzcol.sum()) if s == 1 else V * int(nzcol.sum())) + 2 * V  # Σ_b (weights + q weight + bias)
        S += rest * per
        units += V * rest
    return S, units


# ------------------------------------------------------------------------------------------- builder
def selection_readout(c2: Circuit, T: list, kk: int, sel: float, eps_q: float):
    """The last stage of f_2 (module docstring): the contracted sums T_n (channel W = T[0][()], A_c = T[1 + c][()])
    as the net P2, then per value bit c the ratio-form F.4 net φ(A_c, W) on b ∈ [1, 1 + sel] (|a| <= b, error
    ε_q) and the output 2φ - 1.  Returns (f_2, the ratio construction, P2).  Shared with
    ``lemmas.copying_attention``."""
    P2 = c2.net([T[1 + cc][()] for cc in range(kk)] + [T[0][()]])
    b_max = 1.0 + sel * (1.0 + 1e-12) + 1e-15
    qb = build_ratio(1.0, 1.0, b_max, eps_q)
    selm = np.zeros((2 * kk, kk + 1))
    for cc in range(kk):
        selm[2 * cc, cc] = 1.0
        selm[2 * cc + 1, kk] = 1.0
    Qsel = algebra.compose(algebra.parallel(*([qb.net] * kk), shared_input=False), algebra.affine(selm))
    return algebra.linear(algebra.concat(Qsel, P2), 2.0 * np.eye(kk), -np.ones(kk)), qb, P2


def build_ngram_lookup_paper(V: int, n: int, N: int, delta: float, eps: float, seed: int = 0, *,
                             k: int | None = None, lam: float | None = None, key_delay_shift: int = 0,
                             code: VocabCode | None = None, assume_margin: float | None = None) -> Construction:
    """The H.3 lookup model by the paper's route (module docstring).  ``lam`` overrides λ, ``key_delay_shift``
    shifts every key slot's delay, and ``assume_margin`` designs λ and the gates for that margin instead of the
    code's measured δ_c (the builder's refusal of a code whose margin leaves ε >= (1 - δ_c)/4 bypassed); all three
    only to build broken networks in tests (a code violating the margin the network was designed for)."""
    V, n, N = check_int("V", V, 2), check_int("n", n, 1), check_int("N", N, n + 2)
    delta = check_real("delta", delta, 0.0, 1.0)
    eps = check_real("eps", eps, 0.0, 1.0)
    if V ** n > MAX_KEY_FEATURES:
        raise ValueError(f"|V|^n = {V ** n} key features exceed {MAX_KEY_FEATURES}")
    code = code if code is not None else vocab_code(V, delta, seed, k=k)
    if code.V != V:
        raise ValueError(f"code is for |V| = {code.V}, not {V}")
    kk = code.k
    dc = code_margin(code) if assume_margin is None else check_real("assume_margin", assume_margin, 0.0, 1.0)
    if not eps < (1.0 - dc) / 4.0:
        raise ValueError(f"eps = {eps} must be below (1 - δ_c)/4 = {(1.0 - dc) / 4.0:.4g} for the argmax")
    lam_ = lam_for(N, eps, dc) if lam is None else check_real("lam", lam, 0.0, math.inf)
    K1 = slot_kernel(code, lam_)
    off = K1 - np.diag(np.diag(K1))
    kappa = float(off.max())
    sel = max(N - 2, 0) * kappa  # |A/W - β| <= (N - 2) κ̂
    theta, alpha, Mb = gate_params(dc, kk)
    E = code.E
    grams = ngrams(V, n)
    NG = len(grams)
    Z = 2.0 * N

    # ---- g_1: slots r = 0..n, delay r (+ shift for key slots r >= 1)
    chans, Win = [], np.zeros(((n + 1) * kk, kk))
    for r in range(n + 1):
        ell = r if r == 0 else r + key_delay_shift
        for l in range(kk):
            chans.append(delay(ell))
            Win[r * kk + l, l] = 1.0
    g1 = SSMLayer(tuple(chans), U=n + 1 + max(key_delay_shift, 0), W_in=Win)

    # ---- f_1
    c1 = Circuit((n + 1) * kk)
    y = c1.inputs()
    units = []
    for r in range(n + 1):
        for a in range(V):
            t = Fn({r * kk + l: alpha * E[l, a] for l in range(kk)})
            units += [t - alpha * theta, t - (alpha * theta + 1.0)]
    for cc in range(kk):
        units += [y[cc] * Mb + 0.5, y[cc] * Mb - 0.5]
    h = c1.layer(units)

    def u(r, a):
        i = 2 * (r * V + a)
        return h[i] - h[i + 1]

    nb = 2 * (n + 1) * V
    beta = [h[nb + 2 * cc] - h[nb + 2 * cc + 1] for cc in range(kk)]
    lay2 = []
    for a in grams:
        s = Fn()
        for r in range(1, n + 1):
            s = s + u(r, a[r - 1])
        lay2.append(s - (n - 1))
    for a in grams:
        s = Fn()
        for r in range(1, n + 1):
            s = s + u(r, a[r - 1])
        lay2 += [s + beta[cc] - n for cc in range(kk)]
    for r in range(n):
        lay2 += [u(r, b) for b in range(V)]
    h2 = c1.layer(lay2)
    f1 = c1.net(h2)

    # ---- g_2
    n_rs = NG * (1 + kk)
    g2 = SSMLayer(tuple([running_sum() for _ in range(n_rs)] + [delay(0) for _ in range(n * V)]), U=N)

    # ---- f_2: contraction stages (channel 0 = W, channel 1 + c = A_c)
    c2 = Circuit(n_rs + n * V)
    x = c2.inputs()
    m_idx = {a: i for i, a in enumerate(grams)}
    # T[ch] maps a suffix tuple (a_s..a_n) to a functional of the current layer
    T = []
    for ch in range(1 + kk):
        if ch == 0:
            T.append({a: x[m_idx[a]] for a in grams})
        else:
            T.append({a: x[NG + m_idx[a] * kk + (ch - 1)] for a in grams})
    q = {(r, b): x[n_rs + r * V + b] for r in range(n) for b in range(V)}
    for s in range(1, n + 1):
        rests = list(iproduct(range(V), repeat=n - s))
        lay, keys = [], []
        for ch in range(1 + kk):
            for b in range(V):
                for rest in rests:
                    w: dict = {}  # Σ_{a_s} K_1[a_s, b] T[a_s, rest] + Z q - Z, accumulated in place
                    for a_s in range(V):
                        kab = float(K1[a_s, b])
                        if kab != 0.0:
                            for j, v in T[ch][(a_s,) + rest].w.items():
                                w[j] = w.get(j, 0.0) + v * kab
                    for j, v in q[(s - 1, b)].w.items():
                        w[j] = w.get(j, 0.0) + v * Z
                    lay.append(Fn(w, -Z))
                    keys.append((ch, b, rest))
        carry = [(r, b) for r in range(s, n) for b in range(V)]
        lay += [q[rb] for rb in carry]
        out = c2.layer(lay)
        acc: list[dict] = [{} for _ in range(1 + kk)]
        for i, (ch, b, rest) in enumerate(keys):
            acc[ch].setdefault(rest, {})[i] = 1.0  # T_s[rest] = Σ_b unit (b, rest)
        T = [{r: Fn(w) for r, w in a.items()} for a in acc]
        q = {rb: out[len(keys) + i] for i, rb in enumerate(carry)}
    f2, qb, P2 = selection_readout(c2, T, kk, sel, eps / 2.0)

    model = SSMModel(Embedding(E.copy()), [(g1, f1), (g2, f2)], Decoding(code.signs.T / float(kk)))
    formula = model_formula(V, n, N, kk, K1, qb, code, theta, alpha, Mb, P2)
    notes = {"k": kk, "delta_c": dc, "lam": lam_, "kappa": kappa, "selection_bound": sel,
             "ratio_error_bound": qb.notes["error_bound"], "error_bound": sel + qb.notes["error_bound"],
             "guarantee": bool(sel <= eps / 2.0 * (1 + 1e-9) and qb.notes["error_bound"] <= eps / 2.0),
             "theta": theta, "alpha": alpha, "M_bits": Mb, "Z": Z, "ratio_formula": qb.formula,
             "ratio_params": qb.params, "features": feature_options(V, n, kk, K1),
             # spec 04's recall bound with N distinct keys: a lower bound only for recall-like prompts (not for
             # H.3 / D.1 in general: docs/tasks/paper-route.md, "In the claims")
             "info_lower_bound_bits": N * math.log2(V / 2.0) if V > 2 else 0.0,
             "state_capacity_bits": formula["state_total"] * math.log2(N + 1),
             "precision": "float64 (exact gates; the sums are counts <= N)", "bits": BITS,
             "claimed": "paper: poly-log parameters (Theorems 3.1, 3.2); here |V|^n (1 + k) running sums, "
                        "|V|^n >= the rank bound of the exact kernel, none poly-log in |V|"}
    return Construction(model, formula, {"V": V, "n": n, "N": N, "delta": delta, "eps": eps, "seed": seed,
                                         "k": kk, "lam": lam_, "key_delay_shift": key_delay_shift,
                                         "assume_margin": assume_margin, "route": "paper"}, notes)


def model_formula(V, n, N, k, K1, qb: Construction, code, theta, alpha, Mb, P2) -> dict:
    """The exact counts of ``build_ngram_lookup_paper``'s model (module docstring), per part."""
    NG = V ** n
    E = code.E
    # f_1: layer 1 (n+1) V gate pairs (k weights + nonzero bias each) and k bit pairs (1 weight + bias)
    S1 = 2 * (n + 1) * V * (k + 1) + 4 * k
    # layer 2: I_a (2n weights, bias n - 1), J_{a,c} (2n + 2 weights, bias n), q (2 weights); output identity
    S1 += NG * (2 * n + (n > 1)) + NG * k * (2 * n + 3) + n * V * 2
    D2 = NG * (1 + k) + n * V
    S1 += D2
    W1 = max((n + 1) * k, 2 * (n + 1) * V + 2 * k, D2)
    B1 = max([1.0, alpha * theta + 1.0, Mb, 0.5, float(n)] + [alpha * float(np.max(np.abs(E)))])
    f1 = {"L": 3, "W": W1, "S": S1, "B": B1}
    # f_2: stages, P2's read-out (doubled by concat), ratio nets (first map doubled by concat), output 2φ - 1
    Sst, _ = _stage_nnz(V, n, K1)
    S2 = (1 + k) * Sst + sum(V * (n - s) for s in range(1, n + 1))  # + carried q (one weight, no bias)
    S2 += 2 * (k + 1) * V  # P2's output map: k + 1 sums of V units, doubled by concat
    qn = qb.net
    q_out = qn.layers[-1]
    S2 += k * (qb.formula["S"] + qn.layers[0].nnz_A)  # concat's negated columns on each ratio's first map
    S2 += k * (1 if q_out.nnz_b == 0 else 0)  # the bias -1 of 2φ - 1 (nonzero unless the ratio's bias cancels it)
    widths = [D2] + [(1 + k) * V * V ** (n - s) + V * (n - s) for s in range(1, n + 1)] + [2 * (k + 1)]
    widths += [k * w for w in qn.widths[1:]]
    B2 = max([2 * N, 1.0, float(np.max(K1)), 2.0 * q_out.max_abs, qb.formula["B"]])
    f2 = {"L": n + 1 + qn.depth, "W": max(widths), "S": S2, "B": B2}
    g1_nnz = k * sum(r + 1 for r in range(n + 1)) + (n + 1) * k  # delay r: r - 1 (A) + B + C, delay 0: D; + W_in
    g2_nnz = 4 * NG * (1 + k) + n * V
    emb = k * V
    state1 = k * n * (n + 1) // 2
    state2 = NG * (1 + k)
    return {"M": 2, "U": N, "d_in": V, "k": k, "fnn": [f1, f2], "state_sizes_total": [state1, state2],
            "f1": f1, "f2": f2, "L": max(3, f2["L"]), "W": max(W1, f2["W"]), "S": max(S1, S2),
            "B": max(B1, B2), "D": max(k, D2), "D_key": n * k, "key_features": NG,
            "running_sum_channels": NG * (1 + k), "identity_channels": n * V, "delay_channels": (n + 1) * k,
            "state_sizes": [state1, state2], "state_total": state1 + state2,
            "ssm_nnz": [g1_nnz, g2_nnz],
            "total_nonzeros": emb + k * V + S1 + S2 + g1_nnz + g2_nnz}


# ------------------------------------------------------------------------------------------- evaluation
def last_logits(model: SSMModel, ids, chunk: int = 256) -> np.ndarray:
    """Decoding logits at the last token of each sequence (ids (B, N') or (N',)), float64: f_1 on every token (in
    token chunks), g_2 read at the last token only (running sums = sums over tokens, identity channels = the last
    token), f_2 once.  The same numbers as ``model(ids)`` up to the order of the float64 sums."""
    ids = np.asarray(ids)
    single = ids.ndim == 1
    ids = ids[None] if single else ids
    (g1, f1), (g2, f2) = model.blocks
    if ids.shape[1] > g2.U:
        raise ValueError(f"sequence length {ids.shape[1]} exceeds the window N = {g2.U}")
    Y = g1(model.embedding(ids), method="exact")
    rs = np.array([ch.family == "running_sum" for ch in g2.channels])
    acc = np.zeros((ids.shape[0], g2.H))
    for s in range(0, ids.shape[1], chunk):
        H = f1(Y[:, s:s + chunk])
        acc += H.sum(axis=1)
        lastH = H[:, -1, :]
    last = np.where(rs, acc, lastH)
    out = model.decoding.logits(f2(last)[:, None, :])
    return out[0] if single else out
