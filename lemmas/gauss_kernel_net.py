"""Lemmas F.5 / F.6, items 1 and 3: the Gaussian kernel as a sum of products of ReLU networks.

Statement verified (``lemma-F.5-network`` for d = 1, ``lemma-F.6-network`` for d >= 2).  For d >= 1, R > 0,
0 < ε < 1 and item ∈ {1, 3}, ``build_kernel_features(d, R, ε, item)`` emits ONE ReLU network
F: R^d -> R^T, x ↦ (φ̂_α(x))_{|α| < K}, T = C(K - 1 + d, d), such that for every x in the box [-R, R]^d

    (per factor)   |φ̂_α(x) - φ_α(x)| <= η     for every α,    φ_α(x) = e^{-‖x‖²} (2^{|α|}/α!)^{1/2} x^α,

and for all x, y with ‖x‖, ‖y‖ <= R

    item 1:  | Σ_α φ̂_α(x) φ_α(y)  - e^{-‖x-y‖²} | <= ε     (the y side exact: ``lemmas.gauss_kernel``),
    item 3:  | Σ_α φ̂_α(x) φ̂_α(y) - e^{-‖x-y‖²} | <= ε     (both sides the same network; the T products
             φ̂_α(x) φ̂_α(y) and their sum are computed exactly by the caller, not by a mult net).

Error budget.  K = ``gauss_kernel.minimal_K(R, ε/2)``: truncation <= P[Poisson(2R²) >= K] <= ε/2 (item 2,
already verified).  For every y ∈ R^d, Σ_{all α} φ_α(y)² = e^{-2‖y‖²} e^{2‖y‖²} = 1, so by Cauchy-Schwarz
Σ_{|α|<K} |φ_α(y)| <= √T (sharper than the spec's T · max|φ_α| <= T).  Hence
    item 1:  network part <= Σ |φ̂_α(x) - φ_α(x)| |φ_α(y)| <= √T η,                       η = ε / (2 √T);
    item 3:  network part <= Σ (|δ_α(x)||φ_α(y)| + |φ_α(x)||δ_α(y)| + |δ_α(x)δ_α(y)|) <= 2√T η + T η²,
             η = ε / ((4 + ε) √T), for which a = √T η = ε/(4 + ε) has 2a + a² <= ε/2.
(The spec's cruder T(2η + η²) also holds; the √T form is what is built.)

Construction (three stages, joined by merged composition ``algebra.compose``; all sub-networks are the
verified builders).  G_α = (2^{|α|}/α!)^{1/2} R^{|α|} (so φ_α(x) = G_α e^{-‖x‖²} Π_i (x_i/R)^{α_i}),
G = max_α G_α, G(k) = max_{|α|=k} G_α.
  N1 (squares, x carried):  s' = Σ_i mult(x_i, x_i) with ``build_mult(R, η/(4dG))`` (input duplicated by the
      merged selection (x_i, x_i)), m_s its sawtooth depth, |s' - ‖x‖²| <= d R² 2^{-2m_s} <= η/(4G) on the box;
      x is carried by ``identity(d, m_s + 2)``; read-out [1..1, 0; 0, I] merged (``algebra.linear``).
  N2 (exponential, x carried):  e' = ``build_exp(η/(4G))``(s'); by its perturbed-input form
      |e' - e^{-‖x‖²}| <= η/(4G) + |s' - ‖x‖²| <= η/(2G); x carried by ``identity(d, L_exp)``.
  N3 (monomials):  for |α| = k >= 1, ``build_prod(k + 1, 1, η/(2G(k)))`` on the leaves (e', x_i/R repeated α_i
      times), m_k its depth and j_k = ⌈log2(k + 1)⌉ its tree levels; for α = 0 the exact clip(e'; -1, 1)
      (``build_prod(1, ...)``).  The product net clips its leaves first and the true leaves lie in [-1, 1], so
      |prod - e Π (x_i/R)^{α_i}| <= (2^{j_k} - 1) 2^{-2m_k} + |e' - e| Π |x_i/R|^{α_i}
                                 <= η/(2G(k)) + η/(2G)                             (only leaf 0 is perturbed);
      all T nets in parallel (``algebra.parallel``: padded by identities to the deepest), read-out diag(G_α).
  Per factor: |φ̂_α - φ_α| <= G_α (η/(2G(k)) + η/(2G)) <= η.
Domain.  Every first layer that reads x clips it (mult and prod clip their inputs to the box), so for ANY
x ∈ R^d the network returns F(clip(x; -R, R)) (coordinate-wise; exactly in exact arithmetic).  Inside the
box and outside the ball the per-factor bound still holds but the truncation bound does not (it needs
‖x‖ <= R); outside the box the features are those of the clipped point.
Counts (exact; m_s, L_exp, S_exp, W_exp, B_exp = A from ``lemmas.exp``; S_k, L_k = j_k (m_k + 1) + 1 from
``lemmas.mult.prod_formula`` with robust=False (N3's leaves are bounded: x arrives clipped); S_0 = 7, L_0 = 2 for the clip net; N_k = C(k + d - 1, d - 1) terms of degree k;
Σ_α |α| = d C(K - 1 + d, d + 1)):
    L1 = m_s + 3,  L2 = L_exp,  L3 = max_k L_k,                   L = L1 + L2 + L3 - 2;
    S1 = d (24 m_s + 16) + 2 d L1 + 2d (x carried clipped to [-R, R] by the float-robust clip),   S2 = S_exp + 2 d L2,
    S3 = Σ_k N_k (S_k + [L_k < L3] (s_k + 2 (L3 - L_k)))         (s_0 = 3, s_k = 9: a padded net's last map
                                                                  doubled, then 2 nonzeros per pad layer),
    S  = S1 + S2 + S3 - 1 + (16 T + 2 Σ_α |α| - 9 - 2d)          (the two merged joins: N2's first row ρ(s')
         reads the 9d-term sum s' (1 row, no bias) and 2 entries per carried x; N3's 2 clip rows per leaf e'
         read the 9-term output of exp (+ bias ±1), its 2 rows per leaf x_i/R read 2 entries (+ bias));
    W  = max(11 d, W_exp + 2 d, max_j Σ_k N_k w_j(k), T)          (w_j(k): hidden widths of the padded product
         net: per tree level 2n, 8p + o, then 9p + o (m_k - 1 times); 2 on padded layers);
(N1 and N2 read the unbounded x through float-robust clips (mult's first level, and x carried as
clip(x; -R, R) by ``lemmas.clip``); N3's leaves are then bounded and keep the spec's clip pairs, whose layer is
the leaf cut of the F.6 certificate: issue 15, item 7)
    B  = max(4, 1/R, 2R², A, 2 G_α over unpadded products, G_α over padded ones (and the clip term), 1).
Growth at fixed d, R: K ~ ln(1/ε)/ln ln(1/ε), T = C(K-1+d, d) = O(log^d 1/ε); m_s, m_k = O(log 1/ε);
L = O(log² 1/ε) (exp dominates; products add O(log K · log 1/ε)); W = O(T K) = O(log^{d+1} 1/ε);
S = O(T K log 1/ε + log² 1/ε) = O(log^{d+2} 1/ε); B = O(log 1/ε) (A) at fixed R.  The paper claims poly-log.
Float64: the feature φ̂_α is computed through at most S_path(α) = S1 + S2 + S_k nonzeros and amplified by G_α
at the read-out, so its rounding allowance is τ_α = S_path(α) · G_α · eps64 (the ``verify.checks.allowance``
rule); the kernel allowance is Σ_α τ_α (item 1) or 2(1 + η) Σ_α τ_α (item 3) plus the rounding of the
reference features; ε below 1000 times that is not decidable in float64.  The exp builder itself refuses
η/(4G) < 1e-11 (``lemmas.exp.MIN_EPS``); ``build_kernel_features`` raises a ValueError there.
"""

from __future__ import annotations

import math

import numpy as np

from constructions import algebra
from constructions.fnn import FNN
from constructions.validate import EPS64

from . import gauss_kernel as gk
from .base import Construction
from .clip import build_clip
from .exp import MIN_EPS as EXP_MIN_EPS
from .exp import build_exp, exp_formula, exp_params
from .mult import build_mult, build_prod, prod_formula, prod_m, tree_shape

MAX_NONZEROS = 20_000_000  # refuse to emit larger feature nets (memory / time of this verifier)


# ------------------------------------------------------------------------------------------- parameters
def _check_inputs(d, R, eps, item) -> tuple[int, float, float, int]:
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
        raise ValueError(f"d must be a positive integer, got {d!r}")
    try:
        R, eps = float(R), float(eps)
    except (TypeError, ValueError):
        raise ValueError(f"R and eps must be real numbers, got R={R!r}, eps={eps!r}") from None
    if not math.isfinite(R) or not R > 0:
        raise ValueError(f"R must be finite and > 0, got {R!r}")
    if not math.isfinite(eps) or not 0 < eps < 1:
        raise ValueError(f"eps must be in (0, 1), got {eps!r}")
    if item not in (1, 3):
        raise ValueError(f"item must be 1 (one side a network) or 3 (both sides networks), got {item!r}")
    return int(d), R, eps, int(item)


def eta_for(eps: float, T: int, item: int) -> float:
    """The per-factor error η: ε/(2√T) (item 1) or ε/((4 + ε)√T) (item 3) (module docstring)."""
    return eps / (2 * math.sqrt(T)) if item == 1 else eps / ((4 + eps) * math.sqrt(T))


def network_error_bound(eta: float, T: int, item: int) -> float:
    """√T η (item 1) or 2√T η + T η² (item 3): the kernel error due to the networks."""
    return math.sqrt(T) * eta if item == 1 else 2 * math.sqrt(T) * eta + T * eta * eta


def kernel_features_params(d: int, R: float, eps: float, item: int, K: int | None = None,
                           eta: float | None = None) -> dict:
    """Every choice of the construction (module docstring) as a function of (d, R, ε, item); ``K`` and ``eta``
    override the truncation order and the per-factor accuracy (experiments and mutants only: the ε bound is
    then not guaranteed)."""
    d, R, eps, item = _check_inputs(d, R, eps, item)
    if K is None:
        K = gk.minimal_K(R, eps / 2)
    elif isinstance(K, bool) or not isinstance(K, (int, np.integer)) or K < 1:
        raise ValueError(f"K must be a positive integer, got {K!r}")
    K = int(K)
    alphas = gk.multi_indices(K, d)
    T = len(alphas)
    deg = alphas.sum(axis=1)
    G_al = gk.coefficients(alphas) * R ** deg.astype(np.float64)
    G = float(G_al.max())
    Gk = [float(G_al[deg == k].max()) for k in range(K)]
    if eta is None:
        eta = eta_for(eps, T, item)
    elif not (isinstance(eta, (int, float)) and math.isfinite(eta) and 0 < eta < 1):
        raise ValueError(f"eta must be in (0, 1), got {eta!r}")
    eta_s = eta / (4 * d * G)  # accuracy asked of each square mult(x_i, x_i) on [-R, R]^2
    eta_e = eta / (4 * G)
    if eta_e < EXP_MIN_EPS:
        raise ValueError(f"eps={eps} needs an exp net of accuracy {eta_e:.3g} < {EXP_MIN_EPS} (lemmas.exp.MIN_EPS): "
                         f"below what float64 can verify")
    m_s = prod_m(2, R, eta_s)
    eps_k = [0.0] + [eta / (2 * Gk[k]) for k in range(1, K)]
    m_k = [0] + [prod_m(k + 1, 1.0, eps_k[k]) for k in range(1, K)]
    return {"d": d, "R": R, "eps": eps, "item": item, "K": K, "T": T, "alphas": alphas, "G_alpha": G_al, "G": G,
            "G_k": Gk, "eta": eta, "eta_s": eta_s, "eta_e": eta_e, "m_s": m_s, "eps_k": eps_k, "m_k": m_k,
            "exp": exp_params(eta_e)}


def _prod_hidden_widths(n: int, m: int) -> list[int]:
    """Hidden-layer widths of ``build_prod(n, C, ., m)`` (n = 1: the clip net)."""
    if n == 1:
        return [2]
    out = []
    for j, nj in enumerate(tree_shape(n)):
        p, o = nj // 2, nj % 2
        out += [2 * nj, 8 * p + o] + [9 * p + o] * (m - 1)
    return out


def kernel_features_formula(d: int, R: float, eps: float, item: int, K: int | None = None,
                            eta: float | None = None) -> dict:
    """The exact counts the builder promises (module docstring): L, W, S, B of the feature net, T, K,
    the sawtooth depths and the per-factor η."""
    p = kernel_features_params(d, R, eps, item, K, eta)
    d, K, T, G_al, m_s, m_k = p["d"], p["K"], p["T"], p["G_alpha"], p["m_s"], p["m_k"]
    R = p["R"]
    ef = exp_formula(p["eta_e"])
    deg = p["alphas"].sum(axis=1)
    N = [math.comb(k + d - 1, d - 1) for k in range(K)]
    sum_deg = d * math.comb(K - 1 + d, d + 1)
    L1, L2 = m_s + 3, ef["L"]
    Lk = [2] + [len(tree_shape(k + 1)) * (m_k[k] + 1) + 1 for k in range(1, K)]
    Sk = [7] + [prod_formula(k + 1, 1.0, m_k[k], robust=False)["S"] for k in range(1, K)]
    L3 = max(Lk)
    S1 = d * (24 * m_s + 16) + 2 * d * L1 + 2 * d  # + 2d: x carried through the float-robust clip
    S2 = ef["S"] + 2 * d * L2
    S3 = sum(N[k] * (Sk[k] + (Lk[k] < L3) * ((3 if k == 0 else 9) + 2 * (L3 - Lk[k]))) for k in range(K))
    S = S1 + S2 + S3 - 1 + (16 * T + 2 * sum_deg - 9 - 2 * d)
    W3 = [0] * (L3 - 1)
    for k in range(K):
        w = _prod_hidden_widths(k + 1, m_k[k])
        w = w + [2] * (L3 - 1 - len(w))
        W3 = [a + N[k] * b for a, b in zip(W3, w)]
    W = max(11 * d, ef["W"] + 2 * d, max(W3), T)
    B = [4.0, 1.0 / R, 2.0 * R * R, ef["B"], 1.0]
    for k in range(K):
        g = float(G_al[deg == k].max())
        if k == 0:
            B.append(g)  # clip net's last map ±1 and bias -1, scaled by G_0 = 1 (padded or not)
        else:
            B.append(g if Lk[k] < L3 else 2.0 * g)
    return {"L": L1 + L2 + L3 - 2, "W": W, "S": S, "B": max(B), "T": T, "K": K, "m_s": m_s,
            "m_k_max": max(m_k), "L_exp": L2}


# ------------------------------------------------------------------------------------------- builder
def _selection(rows: list[tuple[int, float]], d_in: int) -> FNN:
    A = np.zeros((len(rows), d_in))
    for r, (c, v) in enumerate(rows):
        A[r, c] = v
    return algebra.affine(A)


def build_kernel_features(d: int, R: float, eps: float, item: int = 1, K: int | None = None,
                          eta: float | None = None) -> Construction:
    """The feature network x ↦ (φ̂_α(x))_{|α|<K} of Lemma F.5 / F.6 item 1 or 3 (module docstring).

    ``net``: the FNN R^d -> R^T (outputs in the order of ``notes['expansion'].alphas``); ``formula``: the exact
    counts of ``kernel_features_formula``; ``notes``: the reference expansion (exact y side), η, the bounds,
    the per-output float64 allowances."""
    p = kernel_features_params(d, R, eps, item, K, eta)
    d, R, eps, item, K, T = p["d"], p["R"], p["eps"], p["item"], p["K"], p["T"]
    formula = kernel_features_formula(d, R, eps, item, K, eta)
    if formula["S"] > MAX_NONZEROS:
        raise ValueError(f"the feature net would have S = {formula['S']} > {MAX_NONZEROS} nonzeros; "
                         f"choose a larger eps or smaller d, R")
    alphas, G_al = p["alphas"], p["G_alpha"]
    # N1: s' = Σ_i mult(x_i, x_i), x carried
    mu = build_mult(R, p["eta_s"])
    assert mu.params["m"] == p["m_s"]
    sq = [algebra.compose(mu.net, _selection([(i, 1.0), (i, 1.0)], d)) for i in range(d)]
    L1 = mu.net.depth
    M1 = np.zeros((1 + d, 2 * d))
    M1[0, :d] = 1.0
    M1[1:, d:] = np.eye(d)
    # x is carried clipped to [-R, R] by the float-robust clip (then N3's leaves x/R are bounded)
    carry = algebra.compose(algebra.identity(d, L1 - 2), build_clip(d, -R, R).net)
    N1 = algebra.linear(algebra.parallel(*sq, carry), M1)
    # N2: e' = exp(-s'), x carried
    ex = build_exp(p["eta_e"])
    N2 = algebra.parallel(ex.net, algebra.identity(d, ex.net.depth), shared_input=False)
    # N3: one product per α on the leaves (e', x_i / R repeated α_i times), read-out diag(G_α)
    prods = {}
    nets = []
    for a in alphas:
        k = int(a.sum())
        if k not in prods:
            prods[k] = build_prod(k + 1, 1.0, p["eps_k"][k] if k else 1.0, m=p["m_k"][k] if k else None,
                                  robust=False)  # leaves bounded: x arrives clipped to [-R, R] (N1)
        rows = [(0, 1.0)] + [(1 + i, 1.0 / R) for i in range(d) for _ in range(int(a[i]))]
        nets.append(algebra.compose(prods[k].net, _selection(rows, 1 + d)))
    N3 = algebra.linear(algebra.parallel(*nets), np.diag(G_al))
    net = algebra.compose(N3, algebra.compose(N2, N1))
    expansion = gk.GaussExpansion(alphas, gk.coefficients(alphas))
    S12 = N1.counts().S + N2.counts().S
    S_prod = {k: pr.net.counts().S for k, pr in prods.items()}
    S_path = np.array([S12 + S_prod[int(a.sum())] for a in alphas])
    tau_alpha = S_path * G_al * EPS64
    ref_round = (2 * (K + d + 6) + 8 + math.ceil(math.log2(max(T, 2))) + 2) * EPS64
    tau_kernel = (1.0 if item == 1 else 2.0 * (1 + p["eta"])) * float(tau_alpha.sum()) + ref_round
    bound_trunc = float(gk.poisson_tail(2 * R * R, K))
    notes = {"expansion": expansion, "eta": p["eta"], "G": p["G"], "G_alpha": G_al,
             "truncation_bound": bound_trunc, "network_bound": network_error_bound(p["eta"], T, item),
             "tau_alpha": tau_alpha, "tau_factor": float(tau_alpha.max()), "tau_kernel": tau_kernel,
             "min_eps_float64": 1000 * tau_kernel,
             "product": "exact (float64 multiply by the caller)" if item == 3 else "y side exact (reference)",
             "domain": "F(x) = F(clip(x; -R, R)); per-factor bound on the box, kernel bound on the ball",
             "claimed": "poly-log in 1/ε (paper); T = O(log^d 1/ε)",
             "growth": "T = O(log^d), L = O(log^2), W = O(log^{d+1}), S = O(log^{d+2}), B = O(log) in 1/ε"}
    params = {"d": d, "R": R, "eps": eps, "item": item, "K": K, "T": T, "eta": p["eta"], "m_s": p["m_s"],
              "m_k": p["m_k"], "eta_e": p["eta_e"]}
    return Construction(net, formula, params, notes)


# --------------------------------------------------------------------------------- reusable helpers
def _points(X, d: int) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != d:
        raise ValueError(f"expected points of shape (n, {d}), got {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("points contain NaN or inf")
    return X


def feature_matrix(c: Construction, X) -> np.ndarray:
    """(n, T): the network features φ̂_α(x) of the rows of X (order of ``c.notes['expansion'].alphas``)."""
    return c.net(_points(X, c.net.d_in))


def reference_features(c: Construction, X) -> np.ndarray:
    """(n, T): the exact features φ_α(x) (``lemmas.gauss_kernel``, float64) of the rows of X."""
    return c.notes["expansion"].features(_points(X, c.net.d_in))


def kernel_pairs(c: Construction, X, Y, item: int | None = None) -> np.ndarray:
    """(n,): Σ_α φ̂_α(x_i) φ_α(y_i) (item 1) or Σ_α φ̂_α(x_i) φ̂_α(y_i) (item 3) for the row pairs (x_i, y_i)."""
    item = c.params["item"] if item is None else item
    X, Y = _points(X, c.net.d_in), _points(Y, c.net.d_in)
    if X.shape != Y.shape:
        raise ValueError(f"X and Y must have the same shape, got {X.shape} and {Y.shape}")
    if item == 3:  # one forward pass for both sides
        F = c.net(np.concatenate([X, Y]))
        Fx, Fy = F[:len(X)], F[len(X):]
    else:
        Fx, Fy = c.net(X), reference_features(c, Y)
    return np.sum(Fx * Fy, axis=1)


def feature_matrices(c: Construction, X) -> tuple[np.ndarray, np.ndarray]:
    """(F_net, F_ref), both (n, T): the network features and the exact ones of the rows of X (for reuse,
    e.g. Lemma 3.3: the kernel between two point sets is F_net(X) @ F_ref(Y).T or F_net(X) @ F_net(Y).T)."""
    return feature_matrix(c, X), reference_features(c, X)
