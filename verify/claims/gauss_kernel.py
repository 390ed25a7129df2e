"""Lemmas F.5 / F.6: the Gaussian kernel as a sum of products (docs/lemmas/lemma-F.5-*.md, lemma-F.6-*.md).

``lemma-F.5-expansion`` (d = 1) and ``lemma-F.6-expansion`` (d >= 1): the truncated expansion of
``lemmas.gauss_kernel`` errs by at most ε on ‖x‖, ‖y‖ <= R; the error bound P[Poisson(2R²) >= K] is attained at
x = y, ‖x‖ = R; the term count is C(K - 1 + d, d); the count grows like log^d(1/ε) (fitted and reported).

``lemma-F.5-network`` / ``lemma-F.6-network``: the factors replaced by ReLU networks
(``lemmas.gauss_kernel_net``): items 1 (networks for the x factors) and 3 (networks for both).

Errors are measured against ``verify.reference.gauss_kernel`` in float64; points whose float64 error is
within the rounding allowance of ε (4(T + 8) eps, T the number of terms, since Σ|φ_α φ_α| <= 1) are
re-evaluated in mpmath.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

from constructions.validate import EPS64
from lemmas import gauss_kernel as gk

from .. import reference as ref
from ..certify.lemma_gauss_kernel import certify_gauss_expansion
from ..checks import counts_match, decide_le
from ..registry import Claim, register
from ..result import Check, Result


# -------------------------------------------------------------------------------------------- samplers
def ball_points(rng: np.random.Generator, m: int, d: int, R: float, on_sphere: float = 0.3) -> np.ndarray:
    """m points in the closed ball of radius R (a fraction ``on_sphere`` on its boundary, scaled by 1 - 4 eps)."""
    u = rng.normal(size=(m, d))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    r = np.where(rng.random((m, 1)) < on_sphere, 1.0, rng.random((m, 1)) ** (1.0 / d))
    return u * r * R * (1 - 4 * EPS64)


def grid_pairs(d: int, R: float, n1: int = 201, n2: int = 15) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (x, y) of a grid of the ball: d = 1: n1 points of [-R, R]; d = 2: an n2 x n2 grid of
    the square, kept inside the disk (boundary points included)."""
    if d == 1:
        g = np.linspace(-R, R, n1)[:, None]
    elif d == 2:
        t = np.linspace(-R, R, n2)
        g = np.stack(np.meshgrid(t, t), -1).reshape(-1, 2)
        g = g[np.linalg.norm(g, axis=1) <= R * (1 + 1e-12)]
        g = g / np.maximum(1.0, np.linalg.norm(g, axis=1, keepdims=True) / R)
        ang = np.linspace(0, 2 * np.pi, 4 * n2, endpoint=False)
        g = np.concatenate([g, R * (1 - 4 * EPS64) * np.stack([np.cos(ang), np.sin(ang)], 1)])
    else:
        raise ValueError("grid only for d <= 2")
    i, j = np.meshgrid(np.arange(len(g)), np.arange(len(g)), indexing="ij")
    return g[i.ravel()], g[j.ravel()]


def _project(x: np.ndarray, R: float) -> np.ndarray:
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return x * np.minimum(1.0, R * (1 - 4 * EPS64) / np.maximum(n, 1e-300))


def local_search(err_fn, x: np.ndarray, y: np.ndarray, R: float, rng, steps: int = 60):
    """Climb err_fn(x, y) from the given pairs, projected onto the ball."""
    x, y = x.copy(), y.copy()
    val = err_fn(x, y)
    step = np.full((len(x), 1), 0.2 * R)
    for _ in range(steps):
        nx = _project(x + step * rng.normal(size=x.shape), R)
        ny = _project(y + step * rng.normal(size=y.shape), R)
        nv = err_fn(nx, ny)
        acc = nv > val
        x[acc], y[acc], val[acc] = nx[acc], ny[acc], nv[acc]
        step = np.where(acc[:, None], step * 1.5, step * 0.6)
    return x, y


# -------------------------------------------------------------------------------- error vs ε checks
def rounding_allowance(terms: int, K: int, d: int) -> float:
    """Float64 error allowance of Σ_α φ_α(x)φ_α(y) - e^{-‖x-y‖²}: each φ_α is a product of at most K + d + 6
    correctly rounded operations (powers, exp, coefficient), so each product φ_α(x)φ_α(y) has relative error
    <= 2(K + d + 6) eps; numpy's pairwise summation adds <= (8 + ⌈log2 T⌉) eps Σ|terms|; Σ|φ_α(x)φ_α(y)| <= 1;
    the reference kernel adds 2 eps."""
    return (2 * (K + d + 6) + 8 + math.ceil(math.log2(max(terms, 2))) + 2) * EPS64


def check_error(approx, approx_mp, x, y, eps: float, terms: int, name: str, extra_tol: float = 0.0,
                K: int = 0) -> Check:
    """max |approx(x, y) - e^{-‖x-y‖²}| <= ε on the pairs; float64 first, mpmath where float64 cannot decide
    (within ``rounding_allowance`` + ``extra_tol`` of ε)."""
    err = np.abs(approx(x, y) - ref.gauss_kernel(x, y))
    tol = rounding_allowance(terms, K, x.shape[-1]) + extra_tol

    def mp_pair(i):
        with mpmath.workdps(40):
            return abs(approx_mp(x[i], y[i]) - ref.gauss_kernel_mp(x[i], y[i], 40)), mpmath.mpf(eps)

    c = decide_le(name, err, np.full(err.shape, eps), mp_pair, (x, y), 0.0, abs_tol=tol)
    c.detail["max_error"] = float(err.max())
    c.measured = c.measured * eps  # decide_le reports max error / ε (mpmath values where used)
    c.bound = eps
    return c


def check_attained(expansion, R: float, eps: float, name: str, directions: np.ndarray) -> Check:
    """At x = y with ‖x‖ = R (up to the rounding of the float64 point, kept inside the ball) the truncation
    error equals P[Poisson(2‖x‖²) >= K] (50-digit mpmath, relative deviation <= 1e-25), and
    P[Poisson(2R²) >= K] <= ε.  The tail is summed as a series (``verify.reference``), independently of the
    incomplete gamma function the builder used to choose K."""
    K = expansion.counts()["K"]
    with mpmath.workdps(50):
        tail_R = ref.poisson_tail_mp(2 * mpmath.mpf(R) ** 2, K, 50)
        worst, where = mpmath.mpf(0), None
        for u in directions:
            x = R * (1 - 4 * EPS64) * u / np.linalg.norm(u)
            r2 = mpmath.fsum(mpmath.mpf(float(v)) ** 2 for v in x)
            tail_x = ref.poisson_tail_mp(2 * r2, K, 50)
            e = ref.gauss_kernel_mp(x, x, 50) - expansion.value_mp(x, x, 50)
            dev = abs(e / tail_x - 1)
            if where is None or dev > worst:
                worst, where = dev, x.tolist()
        ok = bool(worst <= mpmath.mpf(10) ** -25 and tail_R <= eps)
    return Check(name, ok, float(tail_R), float(eps),
                 {"K": K, "tail_P[Poisson(2R^2)>=K]": float(tail_R), "max_relative_deviation": float(worst),
                  "attained_at": where, "precision": "mpmath 50 digits"},
                 None if ok else {"x": where, "y": where, "tail": float(tail_R), "deviation": float(worst)})


def growth_table(d: int, R: float, eps_list) -> list[dict]:
    rows = []
    for e in eps_list:
        K = gk.minimal_K(R, e)
        rows.append({"eps": e, "K": K, "terms": gk.n_terms(K, d), "K_sufficient": gk.sufficient_K(R, e),
                     "terms_sufficient": gk.n_terms(gk.sufficient_K(R, e), d)})
    return rows


def fit_exponent(xs, ys) -> float:
    """Least-squares slope of log y against log x."""
    lx, ly = np.log(np.asarray(xs, float)), np.log(np.asarray(ys, float))
    return float(np.polyfit(lx, ly, 1)[0])


def check_growth(d: int, R: float, name: str) -> Check:
    """Over ε = 10^-1 .. 10^-15: terms (minimal K) <= C(K_suff - 1 + d, d), and the closed-form bound
    (2R²)^K / K! <= ε at K_suff.  The fitted exponent of terms against log(1/ε) is reported (claimed: d)."""
    eps_list = [10.0 ** -k for k in range(1, 16)]
    rows = growth_table(d, R, eps_list)
    bad = []
    for r in rows:
        cf = ref.poisson_tail_upper(2 * R * R, r["K_sufficient"])
        r["closed_form_bound_at_K_suff"] = cf
        if r["terms"] > r["terms_sufficient"] or cf > r["eps"]:
            bad.append(r)
    L = [math.log(1 / r["eps"]) for r in rows]
    half = len(rows) // 2
    slope_all = fit_exponent(L, [r["terms"] for r in rows])
    slope_tail = fit_exponent(L[half:], [r["terms"] for r in rows[half:]])
    slope_suff = fit_exponent(L[half:], [r["terms_sufficient"] for r in rows[half:]])
    return Check(name, not bad, float(max(r["terms"] / r["terms_sufficient"] for r in rows)), 1.0,
                 {"table": rows, "fitted_exponent_terms_vs_log(1/eps)": slope_all,
                  "fitted_exponent_small_eps_half": slope_tail,
                  "fitted_exponent_sufficient_K_small_eps_half": slope_suff, "claimed_exponent": d,
                  "note": "minimal K ~ ln(1/ε)/ln ln(1/ε), so the fitted exponent sits below d"},
                 {"rows": bad} if bad else None)


def check_expansion(exp_c, R: float, eps: float, rng: np.random.Generator, samples: int, d: int,
                    grid: bool = True) -> list[Check]:
    """All checks of item 2 on one construction (``exp_c`` a Construction from ``build_expansion``, or a mutant)."""
    ex = exp_c.net
    T, K = ex.counts()["terms"], ex.counts()["K"]
    checks = [counts_match({k: v for k, v in ex.counts().items()}, exp_c.formula, "terms = C(K-1+d, d), K")]
    approx_mp = lambda a, b: ex.value_mp(a, b, 40)  # noqa: E731
    if grid and d <= 2:
        gx, gy = grid_pairs(d, R)
        checks.append(check_error(ex, approx_mp, gx, gy, eps, T, K=K, name=f"grid, {len(gx)} pairs"))
    x, y = ball_points(rng, samples, d, R), ball_points(rng, samples, d, R)
    checks.append(check_error(ex, approx_mp, x, y, eps, T, K=K, name=f"random, {samples} pairs in the ball"))
    dirs = rng.normal(size=(6, d))
    dirs[0] = np.eye(d)[0]
    checks.append(check_attained(ex, R, eps, "x = y, ‖x‖ = R: error = P[Poisson(2R²) >= K] <= ε", dirs))
    xw = R * (1 - 4 * EPS64) * dirs / np.linalg.norm(dirs, axis=1, keepdims=True)
    checks.append(check_error(ex, approx_mp, np.concatenate([xw, -xw]), np.concatenate([xw, xw]), eps, T, K=K,
                              name=
                              "x = ±y on the sphere"))
    err_fn = lambda a, b: np.abs(ex(a, b) - ref.gauss_kernel(a, b))  # noqa: E731
    e0 = err_fn(x, y)
    top = np.argsort(-e0)[:16]
    lx, ly = local_search(err_fn, x[top], y[top], R, rng)
    checks.append(check_error(ex, approx_mp, lx, ly, eps, T, K=K, name="local search from the 16 worst random pairs"))
    return checks


def expansion_runner(cid: str):
    def run(params: dict, rng: np.random.Generator, mutate=None) -> Result:
        d = 1 if cid == "lemma-F.5-expansion" else int(params["d"])
        R, eps, m = float(params["R"]), float(params["eps"]), int(params["samples"])
        c = gk.build_expansion(d, R, eps)
        if mutate is not None:  # the mutation self-test (verify/mutants.py)
            c = mutate(c)
        checks = check_expansion(c, R, eps, rng, m, d, grid=d <= 2)
        checks.append(certify_gauss_expansion(c.net, R, eps))  # sound bound over the whole ball (certify.py)
        checks.append(check_growth(d, R, f"growth: terms <= C(K_suff-1+d, d) = O(log^{d} 1/ε), ε = 1e-1..1e-15"))
        g = checks[-1].detail
        growth = (f"terms = C(K-1+d, d); fitted exponent vs log(1/ε): {g['fitted_exponent_terms_vs_log(1/eps)']:.2f} "
                  f"(ε 1e-1..1e-15), {g['fitted_exponent_small_eps_half']:.2f} (1e-8..1e-15); claimed O(log^{d} 1/ε)")
        counts = {**c.net.counts(), "truncation_bound": c.notes["truncation_bound"]}
        return Result(cid, params, checks, counts=counts, formula=c.formula, growth=growth,
                      precision="float64; mpmath (40-50 digits) for the attained worst case and undecided points")
    return run


register(Claim(
    id="lemma-F.5-expansion",
    paper_ref="Lemma F.5 (2) (pure expansion, d = 1)",
    statement=("For |x|, |y| <= R: |e^{-(x-y)^2} - Σ_{k<K} φ_k(x)φ_k(y)| <= P[Poisson(2R^2) >= K] <= ε with "
               "φ_k(x) = e^{-x^2} (2^k/k!)^{1/2} x^k, K the smallest with P[Poisson(2R^2) >= K] <= ε; equality at x = y = ±R; "
               "K terms; K <= max(⌈2e^2R^2⌉, ⌈ln 1/ε⌉)."),
    params={"R": 1.0, "eps": 1e-6},
    switches={"samples": 4000},
    sweep=tuple({"R": R, "eps": e, "samples": 20000} for R in (0.5, 1.0, 2.0) for e in (1e-3, 1e-8, 1e-12)),
    run=expansion_runner("lemma-F.5-expansion"),
    build=lambda p: gk.build_expansion(1, float(p["R"]), float(p["eps"])),
    growth="O(log 1/ε) terms",
    doc="docs/lemmas/lemma-F.5-expansion.md",
    param_types={"R": float, "eps": float, "samples": int},
))

register(Claim(
    id="lemma-F.6-expansion",
    paper_ref="Lemma F.6 (multi-dimensional version of F.5 (2))",
    statement=("For x, y ∈ R^d, ‖x‖, ‖y‖ <= R: |e^{-‖x-y‖^2} - Σ_{|α|<K} φ_α(x)φ_α(y)| <= P[Poisson(2R^2) >= K] <= ε, "
               "φ_α(x) = e^{-‖x‖^2} (2^{|α|}/α!)^{1/2} x^α; equality at x = y, ‖x‖ = R; C(K-1+d, d) terms."),
    params={"d": 2, "R": 1.0, "eps": 1e-6},
    switches={"samples": 4000},
    sweep=tuple({"d": d, "R": R, "eps": e, "samples": 10000} for d in (2, 3) for R in (0.5, 1.0)
                for e in (1e-3, 1e-8, 1e-12)),
    run=expansion_runner("lemma-F.6-expansion"),
    build=lambda p: gk.build_expansion(int(p["d"]), float(p["R"]), float(p["eps"])),
    growth="O(log^d 1/ε) terms",
    doc="docs/lemmas/lemma-F.6-expansion.md",
    param_types={"d": int, "R": float, "eps": float, "samples": int},
))
