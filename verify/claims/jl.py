"""Lemma H.1 (sign-matrix embedding) and Proposition H.2 (Achlioptas), docs/lemmas/lemma-H.1.md, prop-H.2.md.

``lemma-H.1`` (exact): the emitted vocabulary code E ∈ {±1/√k}^{k×|V|} has unit columns and
|⟨E e_v, E e_w⟩| <= δ for every pair v ≠ w, decided on the integer Gram matrix; k is reported against
Achlioptas' k_0 and the Hoeffding/union bound.  The point-set form (integer points in the unit ball after
scaling) is checked the same way: every inner product within ε, in integers.

``prop-H.2`` (probabilistic): over independent draws at k = k_0(n, ε, β), the fraction of draws that break
the (1 ± ε) distance distortion on some pair, with a one-sided 99% Clopper–Pearson upper bound that must lie
below n^{-β} (both of Achlioptas' distributions).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from lemmas import jl

from ..registry import Claim, register
from ..result import Check, Result
from ..stats import samples_needed, stat_check


# ---------------------------------------------------------------------------------------------- Lemma H.1
def check_vocab_code(code: jl.VocabCode) -> list[Check]:
    """Exact checks of one emitted vocabulary code (fails on any violated pair, non-sign entry or wrong norm)."""
    S = np.asarray(code.signs)
    k, V = S.shape
    out = []
    signs_ok = bool(np.all(np.abs(S) == 1)) and (k, V) == (code.k, code.V)
    E_ok = bool(np.array_equal(np.asarray(code.E), S / math.sqrt(k)))
    out.append(Check("entries are ±1/√k (E = signs/√k)", signs_ok and E_ok, detail={"k": k, "V": V}))
    G = jl.int_gram(S)
    diag = np.diag(G)
    out.append(Check("‖E e_v‖ = 1 exactly (integer Gram diagonal = k)", bool(np.all(diag == k)),
                     float(np.max(np.abs(diag - k))), 0.0))
    m = jl.off_diagonal_max(G)
    margin = jl.margin_int(code.delta, k)
    ce = None
    if m > margin:
        A = np.abs(G)
        np.fill_diagonal(A, 0)
        v, w = np.unravel_index(int(np.argmax(A)), A.shape)
        ce = {"v": int(v), "w": int(w), "gram": int(G[v, w])}
    out.append(Check("|⟨E e_v, E e_w⟩| <= δ for all v ≠ w (integer Gram: |G_vw| <= floor(δk))", m <= margin,
                     m / k, code.delta, {"max_abs_gram": m, "floor_delta_k": margin, "k": k,
                                         "pairs_checked": V * (V - 1) // 2}, ce))
    out.append(Check("k <= Hoeffding/union k (the lemma's O(δ^-2 log|V|))", k <= code.k_hoeffding, k,
                     code.k_hoeffding, {"k_achlioptas": code.k_achlioptas, "k_union_exact": code.k_union_exact}))
    redraw = jl.draw_signs(code.seed, code.draw, (k, V))
    out.append(Check("reproducible from (seed, draw)", bool(np.array_equal(redraw, S)),
                     detail={"seed": code.seed, "draw": code.draw}))
    return out


def unit_ball_points(rng: np.random.Generator, n: int, d: int, scale: int) -> np.ndarray:
    """n distinct-ish integer points with ‖x‖ <= scale (P = X / scale in the unit ball), first one on the sphere."""
    X = rng.integers(-scale, scale + 1, size=(n, d))
    nrm = np.sqrt(np.sum(X * X, axis=1))
    too = nrm > scale
    X[too] = np.trunc(X[too] * (scale / nrm[too])[:, None]).astype(np.int64)
    X[0] = 0
    X[0, 0] = scale
    return X


def check_point_embedding(emb: jl.PointSetEmbedding, X: np.ndarray, scale: int) -> list[Check]:
    err = jl.inner_error_int(emb.signs, X)
    allowed = math.floor(Fraction(emb.eps) * emb.k * scale * scale)
    n = X.shape[0]
    return [
        Check("point set: |⟨Ru, Rv⟩ - ⟨u, v⟩| <= ε for all u, v (exact integers)", err <= allowed,
              err / (emb.k * scale * scale), emb.eps, {"max_err_int": err, "allowed_int": allowed, "k": emb.k,
                                                       "pairs_checked": n * (n + 1) // 2}),
        Check("point set: k <= Achlioptas k_0(|P|+1, ε/3, β)", emb.k <= emb.k_achlioptas, emb.k, emb.k_achlioptas),
    ]


def build_h1(params: dict) -> jl.VocabCode:
    return jl.vocab_code(int(params["V"]), float(params["delta"]), seed=int(params.get("code_seed", 0)))


def run_h1(params: dict, rng: np.random.Generator) -> Result:
    V, delta = int(params["V"]), float(params["delta"])
    seed = int(rng.integers(2 ** 31))
    code = jl.vocab_code(V, delta, seed=seed)
    checks = check_vocab_code(code)
    n, d, scale, eps = int(params["n"]), int(params["d"]), int(params["scale"]), float(params["eps"])
    X = unit_ball_points(rng, n, d, scale)
    emb = jl.point_embedding(X, scale, eps, seed=seed)
    checks += check_point_embedding(emb, X, scale)
    counts = {"k": code.k, "k_achlioptas_beta0": code.k_achlioptas, "k_hoeffding_union": code.k_hoeffding,
              "k_union_exact_binomial": code.k_union_exact, "seed": code.seed, "draw": code.draw,
              "draws_tried": code.draws_tried, "max_abs_gram": code.max_abs_gram, "floor_delta_k": code.margin,
              "search": [list(s) for s in code.search],
              "point_set": {"n": n, "d": d, "scale": scale, "eps": eps, "k": emb.k, "k_achlioptas": emb.k_achlioptas,
                            "max_err_int": emb.max_err_int, "allowed_int": emb.allowed_int}}
    formula = {"k_achlioptas": "ceil(4 / (δ²/2 - δ³/3) · ln|V|)  (β -> 0)",
               "k_hoeffding": "floor(2 ln(|V|(|V|-1)) / δ²) + 1",
               "k_union_exact": "min k: C(|V|,2) · P(|2 Bin(k,1/2) - k| > floor(δk)) < 1",
               "point_set_k_achlioptas": "ceil((4 + 2β) / ((ε/3)²/2 - (ε/3)³/3) · ln(|P|+1))"}
    return Result("lemma-H.1", params, checks, counts=counts, formula=formula,
                  precision="exact (integer Gram matrix)")


register(Claim(
    id="lemma-H.1",
    paper_ref="Lemma H.1 (Appendix H)",
    statement=("For a vocabulary V and δ ∈ (0, 1) the emitted E ∈ {±1/√k}^{k×|V|} has ‖E e_v‖ = 1 and "
               "|⟨E e_v, E e_w⟩| <= δ for all v ≠ w, with k <= floor(2 ln(|V|(|V|-1)) / δ²) + 1 (Hoeffding and a "
               "union bound); for integer points X with ‖x‖ <= s the emitted R ∈ {±1/√k}^{k×d} has "
               "|⟨R u, R v⟩ - ⟨u, v⟩| <= ε on P = X/s for every pair, with k <= k_0(|P|+1, ε/3, β).  Every pair is "
               "checked in exact integer arithmetic."),
    params={"V": 1000, "delta": 0.5, "n": 64, "d": 32, "scale": 8, "eps": 0.25},
    sweep=({"V": 4096, "delta": 0.5, "n": 128, "d": 64, "scale": 16, "eps": 0.25},
           {"V": 1000, "delta": 0.25, "n": 64, "d": 32, "scale": 8, "eps": 0.1}),
    run=run_h1,
    build=build_h1,
    growth="k = O(δ^-2 log |V|)",
    doc="docs/lemmas/lemma-H.1.md",
    param_types={"V": int, "delta": float, "n": int, "d": int, "scale": int, "eps": float},
))


# ---------------------------------------------------------------------------------------------- Prop. H.2
def failure_count(X: np.ndarray, eps: float, k: int, trials: int, seed: int, dist: str,
                  sampler=jl.draw_signs) -> int:
    """Draws (of ``trials``) whose f(u) = u R/√k breaks (1 ± ε) on some pair of the integer points X."""
    d = X.shape[1]
    bad = 0
    for t in range(trials):
        S = sampler(seed, t, (k, d), dist)
        bad += not jl.distance_distortion_ok(S, X, eps, sparse=(dist == "sparse"))
    return bad


def h2_checks(X: np.ndarray, eps: float, beta: float, trials: int, seed: int, conf: float = 0.99,
              k: int | None = None, sampler=jl.draw_signs) -> list[Check]:
    n = X.shape[0]
    k0 = jl.k_achlioptas(n, eps, beta)
    k = k0 if k is None else int(k)
    rate = float(n) ** (-beta)
    out = []
    for dist in ("sign", "sparse"):
        x = failure_count(X, eps, k, trials, seed, dist, sampler)
        out.append(stat_check(f"P(distortion > ε on some pair) < n^-β ({dist} entries, 99% Clopper–Pearson)",
                              x, trials, rate, conf, k=k, k0=k0, k0_real=jl.achlioptas_k0_real(n, eps, beta),
                              distribution=dist))
    return out


def run_h2(params: dict, rng: np.random.Generator) -> Result:
    n, d, eps, beta, trials = (int(params["n"]), int(params["d"]), float(params["eps"]), float(params["beta"]),
                               int(params["trials"]))
    X = rng.integers(-8, 9, size=(n, d))
    while len({tuple(r) for r in X}) < n:  # distinct points (a repeated point has distance 0)
        X = rng.integers(-8, 9, size=(n, d))
    seed = int(rng.integers(2 ** 31))
    checks = h2_checks(X, eps, beta, trials, seed)
    counts = {"n": n, "d": d, "k": checks[0].detail["k"], "rate_n^-beta": float(n) ** (-beta),
              "samples_needed_zero_failures": samples_needed(float(n) ** (-beta)),
              "clopper_pearson": {c.detail["distribution"]: {key: c.detail[key] for key in
                                                             ("failures", "n", "lower", "upper", "verdict")}
                                  for c in checks}}
    return Result("prop-H.2", params, checks, counts=counts,
                  formula={"k0": "ceil((4 + 2β) / (ε²/2 - ε³/3) · ln n)", "rate": "n^-β",
                           "upper": "one-sided 99% Clopper-Pearson (exact, mpmath)"},
                  precision="exact per draw (integer distances); statistical over draws (99% Clopper-Pearson)")


register(Claim(
    id="prop-H.2",
    paper_ref="Proposition H.2 (Achlioptas 2003, Theorem 1)",
    statement=("For n points in R^d, ε ∈ (0,1), β > 0 and k = ceil((4 + 2β)/(ε²/2 - ε³/3) ln n), a matrix with "
               "i.i.d. ±1 entries (or √3·{+1, 0, -1} w.p. 1/6, 2/3, 1/6) scaled by 1/√k preserves every squared "
               "distance within (1 ± ε) with probability >= 1 - n^-β: the failure rate over independent draws has "
               "a one-sided 99% Clopper-Pearson upper bound below n^-β (PASS), a lower bound above it (FAIL), or "
               "neither (INCONCLUSIVE)."),
    params={"n": 32, "d": 16, "eps": 0.5, "beta": 1.0},
    switches={"trials": 200},
    sweep=({"n": 64, "d": 32, "eps": 0.3, "beta": 1.0, "trials": 400},),
    run=run_h2,
    growth="k_0 = O(ε^-2 log n)",
    doc="docs/lemmas/prop-H.2.md",
    param_types={"n": int, "d": int, "eps": float, "beta": float, "trials": int},
))
