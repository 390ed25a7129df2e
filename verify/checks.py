"""Checks shared by all claims.  Each returns a ``Check`` that can fail; tests break a construction to see it."""

from __future__ import annotations

import math

import mpmath
import numpy as np

from constructions.fnn import FNN
from constructions.validate import EPS64

from .result import Check

COUNT_KEYS = ("L", "W", "S", "B")


def counts_match(measured: dict, predicted: dict, name: str = "counts") -> Check:
    """Every predicted count equals the count read from the emitted matrices.

    Integers must be equal; the weight bound B (a float formed by the same arithmetic in the formula) must be
    equal too — a formula that only bounds B should predict the bound and say so in its key (e.g. 'B_max').
    """
    diffs = {}
    for k, v in predicted.items():
        if k not in measured:
            diffs[k] = {"predicted": v, "measured": None}
        elif k.endswith("_max"):
            continue
        elif measured[k] != v:
            diffs[k] = {"predicted": v, "measured": measured[k]}
    for k, v in predicted.items():
        base = k[:-4]
        if k.endswith("_max") and base in measured and not measured[base] <= v:
            diffs[k] = {"bound": v, "measured": measured[base]}
    return Check(name, not diffs, detail={"predicted": predicted, "measured": {k: measured.get(k) for k in predicted
                                                                              if not k.endswith("_max")},
                                          "mismatch": diffs})


def max_error(err: np.ndarray, bound: float, points: np.ndarray | None, name: str) -> Check:
    """max err <= bound over sampled points; the worst point is kept as the counterexample."""
    err = np.asarray(err, dtype=np.float64).ravel()
    if err.size == 0:
        return Check(name, None, detail={"reason": "no points"})
    if not np.all(np.isfinite(err)):
        i = int(np.flatnonzero(~np.isfinite(err))[0])
        ce = None if points is None else {"x": np.asarray(points)[i].tolist()}
        return Check(name, False, float("nan"), bound, {"n": int(err.size), "reason": "non-finite error"}, ce)
    i = int(np.argmax(err))
    worst = None if points is None else np.asarray(points)[i].tolist()
    ok = bool(err[i] <= bound)
    return Check(name, ok, float(err[i]), float(bound), {"n": int(err.size), "argmax": worst},
                 None if ok else {"x": worst, "error": float(err[i])})


def agree(a: np.ndarray, b: np.ndarray, tol: float, name: str, what: str = "") -> Check:
    """max |a - b| <= tol (two evaluations of one object that must agree to round-off)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return Check(name, False, detail={"reason": f"shapes differ: {a.shape} vs {b.shape}", "what": what})
    d = np.abs(a - b)
    m = float(np.max(d)) if d.size else 0.0
    ok = bool(np.isfinite(m) and m <= tol)
    return Check(name, ok, m, float(tol), {"what": what, "argmax": list(np.unravel_index(int(np.argmax(d)), d.shape))
                                           if d.size else []})


# ------------------------------------------------------------------------------ float64 decision rule
SWEEP_EPS = tuple(10.0 ** -k for k in range(1, 9))
MP_DPS = 60
TIE = mpmath.mpf(10) ** -45


def allowance(net: FNN, V: float) -> float:
    """The float64 allowance τ = S · eps64 · V added to an exact-arithmetic bound (S nonzeros, V the size of the
    output).  The measured float64-vs-60-digit deviation of the Appendix F nets is about 0.004 S eps64 V, so τ is
    ~250 times the observed rounding; a bound below 1000 τ cannot be decided (``err_check`` says INCONCLUSIVE)."""
    return net.counts().S * EPS64 * V


def counts_of(net: FNN) -> dict:
    c = net.counts()
    return {"L": c.L, "W": c.W, "S": c.S, "B": c.B}


def err_check(name: str, err, bound: float, tau: float, points) -> Check:
    """max err <= bound + τ (FAIL above, with the counterexample); INCONCLUSIVE when bound < 1000 τ."""
    c = max_error(err, bound + tau, points, name)
    c.bound = float(bound)
    c.detail.update({"bound": float(bound), "float64_allowance": tau})
    if c.passed is not None and bound < 1000 * tau:
        c.passed = None
        c.detail["reason"] = f"bound {bound:.3g} < 1000 τ = {1000 * tau:.3g}: below float64 resolution"
    return c


def local_search(err_fn, X: np.ndarray, lo, hi, rng: np.random.Generator, steps: int = 40) -> np.ndarray:
    """Climb err_fn from the rows of X inside the box [lo, hi] (random steps, grown on success, shrunk else)."""
    X = np.array(X, dtype=np.float64)
    lo, hi = np.broadcast_to(lo, X.shape[1:]), np.broadcast_to(hi, X.shape[1:])
    val = err_fn(X)
    step = np.full((len(X), 1), 0.05) * (hi - lo)
    for _ in range(steps):
        Y = np.clip(X + step * rng.normal(size=X.shape), lo, hi)
        v = err_fn(Y)
        acc = v > val
        X[acc], val[acc] = Y[acc], v[acc]
        step = np.where(acc[:, None], step * 1.5, step * 0.5)
    return X


def fit_slope(xs, ys) -> float:
    """Least-squares slope of log y against log x (NaN where y is constant or not positive)."""
    ys = np.asarray(ys, dtype=np.float64)
    if np.any(ys <= 0) or np.ptp(ys) == 0:
        return 0.0 if np.ptp(ys) == 0 else float("nan")
    return float(np.polyfit(np.log(np.asarray(xs, float)), np.log(ys), 1)[0])


def growth_check(name: str, build, eps_list, claimed: dict, sample_error, V, min_eps: float) -> Check:
    """Over ``eps_list``: counts == formula, sampled error <= ε + τ (INCONCLUSIVE below ``min_eps``), and the
    fitted log-log slopes of L, W, S, log B against log(1/ε) beside the ``claimed`` exponents (a slope above
    claimed + 0.3 fails)."""
    rows, bad, undecided = [], [], []
    for e in eps_list:
        if e < min_eps:
            rows.append({"eps": e, "status": "INCONCLUSIVE", "reason": f"ε < min_eps_float64 = {min_eps:.2g}"})
            undecided.append(e)
            continue
        c = build(e)
        cnt = counts_of(c.net)
        err = float(sample_error(c, e))
        tau = allowance(c.net, V(c))
        ok_cnt = all(cnt[k] == c.formula[k] for k in ("L", "W", "S", "B"))
        row = {"eps": e, "error": err, **cnt, "counts_equal_formula": ok_cnt, "m": c.params.get("m")}
        if err > e + tau or not ok_cnt:
            row["status"] = "FAIL"
            bad.append(row)
        elif e < 1000 * tau:
            row["status"] = "INCONCLUSIVE"
            undecided.append(e)
        else:
            row["status"] = "PASS"
        rows.append(row)
    ok_rows = [r for r in rows if "L" in r]
    logs = [math.log(1 / r["eps"]) for r in ok_rows]
    slopes = {}
    for k in ("L", "W", "S"):
        slopes[k] = fit_slope(logs, [r[k] for r in ok_rows])
    lb = [math.log(r["B"]) for r in ok_rows]
    slopes["log B"] = fit_slope(logs, lb) if min(lb) > 0 else float("nan")
    over = {k: (slopes[k], claimed[k]) for k in claimed if k in slopes and math.isfinite(slopes[k])
            and slopes[k] > claimed[k] + 0.3}
    passed = False if (bad or over) else (None if undecided else True)
    return Check(name, passed, max((r["error"] / r["eps"] for r in ok_rows), default=None), 1.0,
                 {"table": rows, "fitted_exponent_vs_log(1/eps)": slopes, "claimed_exponent": claimed,
                  "too_fast": over},
                 {"rows": bad, "too_fast": over} if (bad or over) else None)


def growth_line(chk: Check, claimed: str) -> str:
    s = chk.detail.get("fitted_exponent_vs_log(1/eps)", {})
    return ("fitted exponents vs log(1/ε): " + ", ".join(f"{k} {v:.2f}" for k, v in s.items() if math.isfinite(v))
            + f"; claimed {claimed}")



def decide_le(name: str, measured: np.ndarray, bound: np.ndarray, mp_pair, points, n_rel: float,
              extra: dict | None = None, abs_tol=0.0) -> Check:
    """measured_i <= bound_i for every i.  ``mp_pair(i) -> (measured, bound)`` in mpmath for points that
    float64 cannot settle (|bound - measured| <= max(n_rel eps max(|measured|, |bound|), abs_tol)).  The reported measured
    value is max_i measured_i / bound_i (mpmath where used) against 1."""
    m = np.asarray(measured, dtype=np.float64).ravel()
    b = np.broadcast_to(np.asarray(bound, dtype=np.float64), m.shape).ravel()
    if m.size == 0:
        return Check(name, None, detail={"reason": "no points"})
    if not np.all(np.isfinite(m)) or not np.all(np.isfinite(b)):
        i = int(np.flatnonzero(~(np.isfinite(m) & np.isfinite(b)))[0])
        return Check(name, False, float("nan"), 1.0, {"reason": "non-finite value"}, {"x": point_at(points, i)})
    tol = np.maximum(n_rel * EPS64 * np.maximum(np.abs(m), np.abs(b)), np.broadcast_to(abs_tol, m.shape).ravel())
    ratio = np.where(b > 0, m / np.where(b > 0, b, 1.0), np.where(m <= 0, 0.0, np.inf))
    fail = np.flatnonzero(m > b + tol)
    undecided = np.flatnonzero(np.abs(m - b) <= tol)
    ties, mp_fail = 0, []
    with mpmath.workdps(MP_DPS):
        for i in undecided:
            mm, bb = mp_pair(int(i))
            if mm > bb and mm - bb > TIE * abs(bb):
                mp_fail.append(int(i))
            elif abs(mm - bb) <= TIE * abs(bb):
                ties += 1
            ratio[i] = float(mm / bb) if bb != 0 else (0.0 if mm <= 0 else math.inf)
    bad = sorted(set(fail.tolist()) | set(mp_fail))
    k = bad[0] if bad else int(np.argmax(ratio))
    detail = {"n": int(m.size), "n_mpmath": int(undecided.size), "ties_to_45_digits": ties,
              "worst_measured": float(m[k]), "worst_bound": float(b[k]), "argmax": point_at(points, k), **(extra or {})}
    ce = {"x": point_at(points, k), "measured": float(m[k]), "bound": float(b[k])} if bad else None
    return Check(name, not bad, float(ratio[k]) if not bad else float(np.max(ratio)), 1.0, detail, ce)


def point_at(points, i):
    if points is None:
        return None
    p = points[i] if not isinstance(points, tuple) else tuple(np.asarray(q)[i].tolist() for q in points)
    return np.asarray(p).tolist() if not isinstance(p, tuple) else p


