"""Lemma F.1: softmax concentration under a gap, and the multivariate Swish function (statements about
functions, no network; docs/lemmas/lemma-F.1-softmax.md, docs/lemmas/lemma-F.1-swish.md).

``lemma-F.1-softmax``.  x ∈ R^n, i* = argmax x, x_{i*} - x_j >= δ (j ≠ i*), s = softmax(λx), ‖v_j‖_2 <= V:
    (a) 1 - s_{i*} <= (n-1)e^{-λδ} / (1 + (n-1)e^{-λδ}), with equality when every x_j = x_{i*} - δ;
    (b) ‖s - e_{i*}‖_1 = 2(1 - s_{i*});
    (c) ‖Σ_j s_j v_j - v_{i*}‖_2 <= 2V(n-1)e^{-λδ}.
``lemma-F.1-swish``.  S_λ(x) = Σ_i x_i softmax(λx)_i.  Under the gap hypothesis x_{i*} - x_j >= δ (j ≠ i*), the form
in which the paper states item 2 (it is proved from item 1, so the bound decays exponentially in λδ):
    0 <= max_i x_i - S_λ(x) <= (n-1) t_0 e^{-λ t_0},   t_0 = max(δ, 1/λ)
(max x - S_λ = Σ_{j≠i*} d_j e^{-λ d_j} / (1 + Σ_{j≠i*} e^{-λ d_j}) with d_j >= δ; the denominator is >= 1 and
t e^{-λt} is decreasing for t >= 1/λ, at most 1/(eλ) everywhere).  For λδ >= 1 this is (n-1) δ e^{-λδ}.  A separate,
labelled gap-free corollary (δ -> 0, no hypothesis): 0 <= max_i x_i - S_λ(x) <= (n-1)/(eλ).

How a comparison is decided.  Every quantity is first evaluated in float64 in a stable form
(``verify.reference``); a point whose float64 margin |bound - measured| is within the float64 error allowance
(``REL_TOL`` n eps of the larger magnitude) is re-evaluated in mpmath at 60 digits.  A point that mpmath finds
equal to 45 digits is a tie (the inequality holds with equality, as at the tight configurations) and counts
as satisfied; the number of ties is reported.  Inputs outside the hypothesis (a gap below δ, decided exactly
with rational arithmetic) make the check HYPOTHESIS VIOLATED, never PASS or FAIL.
"""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np

from constructions.validate import EPS64

from .. import reference as ref
from ..checks import MP_DPS, TIE, decide_le
from ..registry import Claim, register
from ..result import Check, Result


# ------------------------------------------------------------------------------------------- the bounds
def concentration_bound(n, delta, lam=1.0):
    """(n-1)e^{-λδ} / (1 + (n-1)e^{-λδ}) (float64, or mpmath when given mpf arguments)."""
    if isinstance(delta, mpmath.mpf) or isinstance(lam, mpmath.mpf):
        t = (n - 1) * mpmath.exp(-lam * delta)
        return t / (1 + t)
    t = (n - 1) * np.exp(-lam * np.asarray(delta, dtype=np.float64))
    return t / (1 + t)


def value_bound(n, delta, V, lam=1.0):
    """2V(n-1)e^{-λδ}."""
    if isinstance(delta, mpmath.mpf) or isinstance(lam, mpmath.mpf):
        return 2 * V * (n - 1) * mpmath.exp(-lam * delta)
    return 2.0 * V * (n - 1) * np.exp(-lam * np.asarray(delta, dtype=np.float64))


def swish_gap_bound(n, delta, lam=1.0):
    """(n-1) t_0 e^{-λ t_0}, t_0 = max(δ, 1/λ): the gap form of Lemma F.1 (2) (float64, or mpmath)."""
    if isinstance(delta, mpmath.mpf) or isinstance(lam, mpmath.mpf):
        t0 = max(mpmath.mpf(delta), 1 / mpmath.mpf(lam))
        return (n - 1) * t0 * mpmath.exp(-lam * t0)
    t0 = max(float(delta), 1.0 / lam)
    return (n - 1) * t0 * math.exp(-lam * t0)


def swish_bound(n, lam=1.0):
    """(n-1)/(eλ): the gap-free corollary."""
    if isinstance(lam, mpmath.mpf):
        return (n - 1) / (mpmath.e * lam)
    return (n - 1) / (math.e * lam)


# ---------------------------------------------------------------------------------------- hypothesis
def gap_violations(x: np.ndarray, delta: float) -> np.ndarray:
    """Indices of rows of x whose gap x_{i*} - max_{j≠i*} x_j is below ``delta``, decided exactly: float64
    differences settle all but the rows within rounding of the delta, which are compared as rationals."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    srt = np.sort(x, axis=-1)
    top, second = srt[:, -1], srt[:, -2]
    g = top - second
    tol = 4 * EPS64 * np.maximum(np.maximum(np.abs(top), np.abs(second)), abs(delta))
    bad = g < delta - tol
    close = np.flatnonzero(np.abs(g - delta) <= tol)
    for i in close:
        bad[i] = Fraction(float(top[i])) - Fraction(float(second[i])) < Fraction(float(delta))
    return np.flatnonzero(bad)


def _hypothesis_violated(name: str, x: np.ndarray, delta: float) -> Check | None:
    bad = gap_violations(x, delta)
    if bad.size == 0:
        return None
    i = int(bad[0])
    xi = np.atleast_2d(x)[i]
    return Check(name, None, float(ref.min_gap(xi)), float(delta),
                 {"reason": f"{bad.size} input(s) have gap x_i* - x_j below δ = {delta}", "n_violations": int(bad.size)},
                 {"x": xi.tolist(), "gap": float(ref.min_gap(xi)), "delta": float(delta)}, violated=True)


# ----------------------------------------------------------------------------------- deciding a ≤ b
# ------------------------------------------------------------------------------------------ samplers
def tight_inputs(n: int, delta: float, shift: float = 0.0, pos: int = 0) -> np.ndarray:
    """Every x_j = x_{i*} - δ: the configuration where (a) holds with equality."""
    x = np.full(n, shift - delta)
    x[pos] = shift
    return x


def sample_gap_inputs(rng: np.random.Generator, m: int, n: int, delta: float) -> np.ndarray:
    """m inputs in R^n with gap >= δ: i* at a random position, value c ~ U(-5, 5); each other entry at
    c - δ (probability 0.3) or c - δ - Exp(scale) with scale ~ LogU(0.01, 10).  Rows that rounding pushed
    below the gap are nudged down one ulp at a time until the exact gap holds."""
    c = rng.uniform(-5, 5, size=(m, 1))
    scale = np.exp(rng.uniform(np.log(0.01), np.log(10), size=(m, 1)))
    u = rng.exponential(1.0, size=(m, n)) * scale
    u[rng.random((m, n)) < 0.3] = 0.0
    x = c - delta - u
    pos = rng.integers(0, n, size=m)
    x[np.arange(m), pos] = c[:, 0]
    return repair_gap(x, pos, delta)


def repair_gap(x: np.ndarray, pos: np.ndarray, delta: float) -> np.ndarray:
    """Rows whose exact gap rounding left below δ: push every too-close non-top entry down one ulp at a time
    until the exact (rational) gap is >= δ."""
    n = x.shape[1]
    for i in gap_violations(x, delta):
        for _ in range(64):
            top = x[i, pos[i]]
            j = [k for k in range(n) if k != pos[i] and x[i, k] > top - delta - 1e-9 * (1 + abs(top))]
            x[i, j] = np.nextafter(x[i, j], -np.inf)
            if gap_violations(x[i:i + 1], delta).size == 0:
                break
    return x


def sample_values(rng: np.random.Generator, m: int, n: int, p: int, V: float) -> np.ndarray:
    """Values v_j ∈ R^p with ‖v_j‖ <= V; half of them on the sphere ‖v_j‖ = V (scaled by (1 - 4 eps) so that
    rounding keeps them inside)."""
    v = rng.normal(size=(m, n, p))
    v /= np.linalg.norm(v, axis=-1, keepdims=True)
    r = np.where(rng.random((m, n, 1)) < 0.5, 1.0, rng.random((m, n, 1)) ** (1.0 / p))
    return v * r * V * (1 - 4 * EPS64)


# ------------------------------------------------------------------------------------ softmax checks
def check_concentration(x: np.ndarray, delta: float, lam: float, name: str, bound_fn=concentration_bound) -> Check:
    """(a) on the rows of x; HYPOTHESIS VIOLATED when a row's gap is below δ."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    v = _hypothesis_violated(name, x, delta)
    if v is not None:
        return v
    n = x.shape[1]
    meas = ref.one_minus_top(x, lam)
    bnd = np.full(meas.shape, bound_fn(n, delta, lam))

    def mp_pair(i):
        return ref.one_minus_top_mp(x[i], lam, MP_DPS), bound_fn(n, mpmath.mpf(delta), mpmath.mpf(lam))

    return decide_le(name, meas, bnd, mp_pair, x, 8 * n)


def check_tight_attained(n: int, deltas, lam: float, name: str, bound_fn=concentration_bound) -> Check:
    """At x_j = x_{i*} - δ for all j, 1 - s_{i*} equals the bound: max relative deviation (60-digit mpmath)
    against 10^-40."""
    worst, where = mpmath.mpf(0), None
    with mpmath.workdps(MP_DPS):
        for d in deltas:
            for shift in (0.0, -3.25, 7.5):
                x = tight_inputs(n, d, shift, pos=n // 2)
                if gap_violations(x[None], d).size:  # shift - d rounded: use the exact gap instead
                    d_eff = float(Fraction(float(x[n // 2])) - Fraction(float(x[0])))
                else:
                    d_eff = d
                mm = ref.one_minus_top_mp(x, lam, MP_DPS)
                bb = bound_fn(n, mpmath.mpf(float(x[n // 2])) - mpmath.mpf(float(x[0])), mpmath.mpf(lam))
                dev = abs(mm / bb - 1) if bb != 0 else (mpmath.mpf(0) if mm == 0 else mpmath.inf)
                if dev > worst or where is None:
                    worst, where = dev, {"delta": d, "margin_exact": d_eff, "shift": shift}
    ok = bool(worst <= mpmath.mpf(10) ** -40)
    return Check(name, ok, float(worst), 1e-40, {"n": n, "lam": lam, "argmax": where, "precision": "mpmath 60 digits"},
                 None if ok else where)


def check_l1_identity(x: np.ndarray, lam: float, name: str) -> Check:
    """(b) ‖s - e_{i*}‖_1 = 2(1 - s_{i*}) in 60-digit mpmath; relative deviation against 10^-40."""
    worst, k = mpmath.mpf(0), 0
    for r, xr in enumerate(np.atleast_2d(x)):
        with mpmath.workdps(ref.dps_for(xr, lam, MP_DPS)):
            s = ref.softmax_mp(xr, lam, MP_DPS)
            i = int(np.argmax(xr))
            l1 = mpmath.fsum(abs(sj - (1 if j == i else 0)) for j, sj in enumerate(s))
            rhs = 2 * (1 - s[i])
            dev = abs(l1 - rhs) / rhs if rhs != 0 else abs(l1)
            if dev > worst:
                worst, k = dev, r
    ok = bool(worst <= mpmath.mpf(10) ** -40)
    return Check(name, ok, float(worst), 1e-40, {"n": int(np.atleast_2d(x).shape[0]), "precision": "mpmath 60 digits",
                                                  "argmax": np.atleast_2d(x)[k].tolist()},
                 None if ok else {"x": np.atleast_2d(x)[k].tolist()})


def check_values(x: np.ndarray, v: np.ndarray, delta: float, V: float, lam: float, name: str,
                 bound_fn=value_bound) -> Check:
    """(c) on rows of x with values v (m, n, p); HYPOTHESIS VIOLATED on a gap below δ or a value above V."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    viol = _hypothesis_violated(name, x, delta)
    if viol is not None:
        return viol
    norms = np.linalg.norm(v, axis=-1)
    if np.any(norms > V):
        i = int(np.argmax(np.max(norms, axis=-1)))
        return Check(name, None, float(norms.max()), V, {"reason": "a value has ‖v_j‖ > V"}, {"x": x[i].tolist()},
                     violated=True)
    n = x.shape[1]
    meas = ref.weighted_value_error(x, v, lam)
    bnd = np.full(meas.shape, bound_fn(n, delta, V, lam))

    def mp_pair(i):
        return ref.weighted_value_error_mp(x[i], v[i], lam, MP_DPS), bound_fn(n, mpmath.mpf(delta), V, mpmath.mpf(lam))

    return decide_le(name, meas, bnd, mp_pair, x, 16 * n * v.shape[-1])


def tight_values(n: int, p: int, V: float) -> np.ndarray:
    """v_{i*} = V e_1 (i* = n // 2), every other v_j = -V e_1: ‖Σ s_j v_j - v_{i*}‖ = 2V(1 - s_{i*})."""
    v = np.zeros((n, p))
    v[:, 0] = -V
    v[n // 2, 0] = V
    return v


def check_values_tight(n: int, p: int, V: float, deltas, lam: float, name: str, bound_fn=value_bound) -> Check:
    """(c) at its adversarial configuration, one row per δ in ``margins`` (each row checked against its own δ):
    the ratio to the bound is 1/(1 + (n-1)e^{-λδ}), which tends to 1 as λδ grows (reported per δ)."""
    deltas = np.asarray(sorted(deltas), dtype=np.float64)
    xt = np.stack([tight_inputs(n, d, 0.0, n // 2) for d in deltas])
    vt = np.stack([tight_values(n, p, V)] * len(deltas))
    meas = ref.weighted_value_error(xt, vt, lam)
    bnd = np.array([bound_fn(n, d, V, lam) for d in deltas])

    def mp_pair(i):
        return (ref.weighted_value_error_mp(xt[i], vt[i], lam, MP_DPS),
                bound_fn(n, mpmath.mpf(float(deltas[i])), V, mpmath.mpf(lam)))

    c = decide_le(name, meas, bnd, mp_pair, xt, 16 * n * p)
    c.detail["ratio_per_margin"] = {float(d): float(meas[k] / bnd[k]) for k, d in enumerate(deltas)}
    return c


def local_search_concentration(x0: np.ndarray, delta: float, lam: float, rng, steps: int = 60) -> np.ndarray:
    """Climb (1 - s_{i*}) / bound from the given rows, keeping the gap >= δ (others clipped to x_{i*} - δ)."""
    x = np.array(x0, dtype=np.float64)
    i = np.argmax(x, axis=-1)
    top = x[np.arange(len(x)), i][:, None]
    val = ref.one_minus_top(x, lam)
    step = np.full((len(x), 1), 1.0)
    for _ in range(steps):
        y = np.minimum(x + step * rng.normal(size=x.shape), top - delta)
        y[np.arange(len(x)), i] = top[:, 0]
        nv = ref.one_minus_top(y, lam)
        acc = nv > val
        x[acc], val[acc] = y[acc], nv[acc]
        step = np.where(acc[:, None], step * 1.5, step * 0.7)
    return repair_gap(x, i, delta)


def run_softmax(params: dict, rng: np.random.Generator, bound_fns: dict | None = None) -> Result:
    n, delta, lam, V = int(params["n"]), float(params["delta"]), float(params["lam"]), float(params["V"])
    m, p = int(params["samples"]), int(params["p"])
    bf = {"concentration": concentration_bound, "values": value_bound, **(bound_fns or {})}
    checks: list[Check] = []
    for lm in sorted({1.0, lam}):
        tag = f"λ={lm:g}"
        deltas = sorted({delta, delta / 4, 4 * delta, 30.0})
        for nn in sorted({2, n}):
            checks.append(check_tight_attained(nn, deltas, lm, f"(a) tight x_j = x_i* - δ attains the bound (n={nn}, {tag})",
                                               bf["concentration"]))
        x = sample_gap_inputs(rng, m, n, delta)
        checks.append(check_concentration(x, delta, lm, f"(a) 1 - s_i* <= bound, {m} random inputs ({tag})",
                                          bf["concentration"]))
        worst = x[np.argsort(-ref.one_minus_top(x, lm))[:16]]
        xs = local_search_concentration(worst, delta, lm, rng)
        checks.append(check_concentration(xs, delta, lm, f"(a) local search from the 16 worst ({tag})",
                                          bf["concentration"]))
        tights = np.stack([tight_inputs(n, delta, 0.0, n // 2), tight_inputs(n, delta, 0.0, 0)])
        checks.append(check_l1_identity(np.concatenate([x[: max(8, m // 16)], tights]), lm,
                                        f"(b) ‖s - e_i*‖_1 = 2(1 - s_i*) ({tag})"))
        v = sample_values(rng, m, n, p, V)
        checks.append(check_values(x, v, delta, V, lm, f"(c) ‖Σ s_j v_j - v_i*‖ <= 2V(n-1)e^(-λδ), random ({tag})",
                                   bf["values"]))
        checks.append(check_values_tight(n, p, V, deltas, lm, f"(c) adversarial v_j = -v_i*, x_j = x_i* - δ ({tag})",
                                         bf["values"]))
    return Result("lemma-F.1-softmax", params, checks, counts={"n": n}, formula={},
                  precision=("a statement about real functions (no network): sampled inputs evaluated in float64, "
                             "re-decided in mpmath (60 significant digits, more for wide inputs) where float64 cannot "
                             "decide and for the tight/identity checks"))


register(Claim(
    id="lemma-F.1-softmax",
    paper_ref="Lemma F.1 (1) (Takakura & Suzuki 2023, Lemma C.1); temperature form",
    statement=("x ∈ R^n, i* = argmax x, x_i* - x_j >= δ for j ≠ i*, s = softmax(λx), ‖v_j‖_2 <= V: "
               "(a) 1 - s_i* <= (n-1)e^(-λδ)/(1+(n-1)e^(-λδ)), equality when all x_j = x_i* - δ; "
               "(b) ‖s - e_i*‖_1 = 2(1 - s_i*); (c) ‖Σ_j s_j v_j - v_i*‖_2 <= 2V(n-1)e^(-λδ)."),
    params={"n": 8, "delta": 2.0, "lam": 2.5, "V": 1.5, "p": 3},
    switches={"samples": 2000},
    sweep=({"n": 2, "delta": 0.5, "lam": 1.0, "V": 1.0, "p": 1, "samples": 20000},
           {"n": 64, "delta": 5.0, "lam": 0.3, "V": 3.0, "p": 4, "samples": 20000},
           {"n": 512, "delta": 12.0, "lam": 4.0, "V": 1.0, "p": 2, "samples": 5000}),
    run=run_softmax,
    growth="1 - s_i* = Θ((n-1)e^(-λδ)) as λδ -> ∞",
    doc="docs/lemmas/lemma-F.1-softmax.md",
    param_types={"n": int, "delta": float, "lam": float, "V": float, "p": int, "samples": int},
))


# -------------------------------------------------------------------------------------- Swish checks
def symmetric_gap(n: int, t, lam: float = 1.0):
    """max - S_λ at x = (0, -t/λ, ..., -t/λ): (n-1)(t/λ)e^{-t} / (1 + (n-1)e^{-t})."""
    return (n - 1) * (t / lam) * np.exp(-t) / (1 + (n - 1) * np.exp(-t))


def symmetric_sup(n: int, lam: float = 1.0) -> tuple[float, float]:
    """sup_t of ``symmetric_gap`` by golden-section search on t ∈ [0, 2 ln(n) + 10] (unimodal), in mpmath."""
    with mpmath.workdps(30):
        f = lambda t: (n - 1) * t * mpmath.exp(-t) / (1 + (n - 1) * mpmath.exp(-t))  # noqa: E731
        a, b = mpmath.mpf(0), mpmath.mpf(2 * math.log(n) + 10)
        g = (mpmath.sqrt(5) - 1) / 2
        for _ in range(120):
            c, d = b - g * (b - a), a + g * (b - a)
            if f(c) > f(d):
                b = d
            else:
                a = c
        t = (a + b) / 2
        return float(t), float(f(t) / lam)


def check_swish_lower(x: np.ndarray, lam: float, name: str) -> Check:
    """max x - S_λ(x) >= 0 (float64 as defined; mpmath where within rounding of 0)."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    gap = np.max(x, axis=-1) - ref.swish(x, lam)
    n = x.shape[1]
    tol = 8 * n * EPS64 * np.max(np.abs(x), axis=-1)
    neg = np.flatnonzero(gap < -tol)
    und = np.flatnonzero(np.abs(gap) <= tol)
    mp_neg, ties = [], 0
    with mpmath.workdps(MP_DPS):
        for i in und:
            g = ref.swish_gap_mp(x[i], lam, MP_DPS)
            scale = max(1.0, float(np.max(np.abs(x[i]))))
            if g < -TIE * scale:
                mp_neg.append(int(i))
            elif abs(g) <= TIE * scale:
                ties += 1
    bad = sorted(set(neg.tolist()) | set(mp_neg))
    k = bad[0] if bad else int(np.argmin(gap))
    return Check(name, not bad, float(gap[k]), None,
                 {"min_gap_float64": float(gap.min()), "n": int(len(x)), "n_mpmath": int(und.size),
                  "ties_to_45_digits": ties, "argmin": x[k].tolist()},
                 {"x": x[k].tolist(), "gap": float(gap[k])} if bad else None)


def check_swish_upper(x: np.ndarray, lam: float, name: str, bound_fn=swish_bound) -> Check:
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    n = x.shape[1]
    gap = np.max(x, axis=-1) - ref.swish(x, lam)
    bnd = np.full(gap.shape, bound_fn(n, lam))

    def mp_pair(i):
        return ref.swish_gap_mp(x[i], lam, MP_DPS), bound_fn(n, mpmath.mpf(lam))

    return decide_le(name, gap, bnd, mp_pair, x, 8 * n * (1 + float(np.max(np.abs(x))) * lam))


def sample_swish_inputs(rng: np.random.Generator, m: int, n: int, lam: float) -> np.ndarray:
    """Random x at scales 1/λ .. 100/λ, a third with ties at the maximum, plus constant vectors."""
    scale = np.exp(rng.uniform(np.log(0.1), np.log(100), size=(m, 1))) / lam
    x = rng.normal(size=(m, n)) * scale + rng.uniform(-10, 10, size=(m, 1))
    tie = rng.random(m) < 0.33
    x[tie, 1] = np.max(x[tie], axis=-1)
    x[: max(2, m // 50)] = rng.uniform(-10, 10, size=(max(2, m // 50), 1))
    return x


def local_search_swish(x0: np.ndarray, lam: float, rng, steps: int = 80) -> np.ndarray:
    x = np.array(x0, dtype=np.float64)
    val = np.max(x, -1) - ref.swish(x, lam)
    step = np.full((len(x), 1), 1.0 / lam)
    for _ in range(steps):
        y = x + step * rng.normal(size=x.shape)
        nv = np.max(y, -1) - ref.swish(y, lam)
        acc = nv > val
        x[acc], val[acc] = y[acc], nv[acc]
        step = np.where(acc[:, None], step * 1.5, step * 0.7)
    return x


def local_search_swish_gap(x0: np.ndarray, delta: float, lam: float, rng, steps: int = 80) -> np.ndarray:
    """Hill-climb max - S_λ inside the gap hypothesis: a move is kept only when it raises the gap error and keeps
    every gap >= δ (float64, with a margin of 1e-9); the result is checked exactly by the caller."""
    x = np.array(x0, dtype=np.float64)
    val = np.max(x, -1) - ref.swish(x, lam)
    step = np.full((len(x), 1), 1.0 / lam)
    for _ in range(steps):
        y = x + step * rng.normal(size=x.shape)
        srt = np.sort(y, axis=-1)
        ok = srt[:, -1] - srt[:, -2] >= delta * (1 + 1e-9) + 1e-9
        nv = np.max(y, -1) - ref.swish(y, lam)
        acc = ok & (nv > val)
        x[acc], val[acc] = y[acc], nv[acc]
        step = np.where(acc[:, None], step * 1.5, step * 0.7)
    return np.delete(x, gap_violations(x, delta), axis=0)


def swish_gap_checks(n: int, delta: float, lam: float, m: int, rng, bound_fn) -> list[Check]:
    """The gap form: random inputs with gap >= δ, the symmetric family x_j = x_i* - t (t >= δ: t = δ, t_0, 2 t_0,
    and the t >= δ maximising the family's error), a gap-keeping local search; all against ``bound_fn(n, δ, λ)``."""
    bnd = lambda nn, lm: bound_fn(nn, delta, lm)  # noqa: E731
    t0 = max(delta, 1.0 / lam)
    x = sample_gap_inputs(rng, m, n, delta)
    out = [_hypothesis_violated("gap hypothesis of the sampled inputs", x, delta)]
    out = [c for c in out if c is not None]
    out.append(check_swish_lower(x, lam, f"max - S_λ >= 0, {m} random inputs with gap >= δ (n={n})"))
    out.append(check_swish_upper(x, lam, f"gap form: max - S_λ <= (n-1) t0 e^(-λ t0), t0 = max(δ, 1/λ), {m} random "
                                         f"inputs with gap >= δ (n={n})", bnd))
    t_star, _ = symmetric_sup(n, lam)
    ts = sorted({delta, t0, 2 * t0, max(delta, t_star / lam)})
    xs = np.stack([tight_inputs(n, t, 0.0, 0) for t in ts])
    c = check_swish_upper(xs, lam, f"gap form, adversarial x_j = x_i* - t, t ∈ {{δ, t0, 2 t0, argmax}} (n={n})", bnd)
    fam = [float(symmetric_gap(n, lam * t, lam)) for t in ts]
    c.detail.update({"t": ts, "family_error": fam, "bound": float(bnd(n, lam)),
                     "best_over_bound": max(fam) / float(bnd(n, lam))})
    out.append(c)
    gaps = np.max(x, -1) - ref.swish(x, lam)
    xl = local_search_swish_gap(np.concatenate([x[np.argsort(-gaps)[:12]], xs]), delta, lam, rng)
    c = check_swish_upper(xl, lam, f"gap form, local search keeping gap >= δ from the 12 worst and the family (n={n})",
                          bnd)
    c.detail["best_found_over_bound"] = float(np.max(np.max(xl, -1) - ref.swish(xl, lam)) / bnd(n, lam))
    out.append(c)
    return out


def run_swish(params: dict, rng: np.random.Generator, bound_fns: dict | None = None) -> Result:
    n, lam, m = int(params["n"]), float(params["lam"]), int(params["samples"])
    delta = float(params["delta"])
    bf = (bound_fns or {}).get("swish", swish_bound)
    gbf = (bound_fns or {}).get("swish_gap", swish_gap_bound)
    checks: list[Check] = []
    for nn in sorted({2, n}):
        checks += swish_gap_checks(nn, delta, lam, m, rng, gbf)
    for nn in sorted({2, n}):
        x = sample_swish_inputs(rng, m, nn, lam)
        checks.append(check_swish_lower(x, lam, f"max - S_λ >= 0, {m} random inputs (n={nn})"))
        checks.append(check_swish_upper(x, lam, f"gap-free corollary: max - S_λ <= (n-1)/(eλ), {m} random inputs "
                                                f"(n={nn})", bf))
        t, sup = symmetric_sup(nn, lam)
        xs = np.stack([tight_inputs(nn, tt / lam, 0.0, 0) for tt in (t, t / 2, 2 * t, 1.0)])
        c = check_swish_upper(xs, lam, f"gap-free corollary, adversarial x_j = x_i* - t/λ, t maximising the gap "
                                       f"(n={nn})", bf)
        c.detail.update({"t_star": t, "sup_symmetric": sup, "bound": float(bf(nn, lam)),
                         "sup_over_bound": sup / float(bf(nn, lam))})
        checks.append(c)
        gaps = np.max(x, -1) - ref.swish(x, lam)
        start = np.concatenate([x[np.argsort(-gaps)[:12]], xs[:1] + 0.1 * rng.normal(size=(4, nn)) / lam])
        xl = local_search_swish(start, lam, rng)
        c = check_swish_upper(xl, lam, f"gap-free corollary, local search from the 12 worst + perturbed symmetric "
                                       f"(n={nn})", bf)
        c.detail["best_found_over_bound"] = float(np.max(np.max(xl, -1) - ref.swish(xl, lam)) / bf(nn, lam))
        checks.append(c)
        checks.append(check_swish_lower(xl, lam, f"max - S_λ >= 0 on the local-search points (n={nn})"))
    return Result("lemma-F.1-swish", params, checks, counts={"n": n}, formula={},
                  precision=("a statement about real functions (no network): sampled inputs evaluated in float64, "
                             "re-decided in mpmath (60 digits) where float64 cannot decide"))


register(Claim(
    id="lemma-F.1-swish",
    paper_ref="Lemma F.1 (2) (multivariate Swish)",
    statement=("x ∈ R^n with x_i* - x_j >= δ (j ≠ i*), λ > 0, S_λ(x) = Σ_i x_i softmax(λx)_i: 0 <= max_i x_i - S_λ(x) "
               "<= (n-1) t0 e^(-λ t0), t0 = max(δ, 1/λ) (= (n-1) δ e^(-λδ) when λδ >= 1: exponential decay in λδ, as "
               "item 2 follows from item 1 in the paper).  Separately labelled gap-free corollary (no hypothesis): "
               "0 <= max_i x_i - S_λ(x) <= (n-1)/(eλ)."),
    params={"n": 8, "lam": 2.0, "delta": 2.0},
    switches={"samples": 2000},
    sweep=({"n": 2, "lam": 0.1, "delta": 1.0, "samples": 20000}, {"n": 64, "lam": 10.0, "delta": 0.5, "samples": 20000},
           {"n": 1024, "lam": 1.0, "delta": 8.0, "samples": 2000}),
    run=run_swish,
    growth="gap form: max x - S_λ(x) <= (n-1) δ e^(-λδ) for λδ >= 1 (attained up to 1 + (n-1)e^(-λδ)); gap-free: "
           "Θ(ln(n)/λ) measured against (n-1)/(eλ)",
    doc="docs/lemmas/lemma-F.1-swish.md",
    param_types={"n": int, "lam": float, "delta": float, "samples": int},
))
