"""Checks shared by all claims.  Each returns a ``Check`` that can fail; tests break a construction to see it."""

from __future__ import annotations

import numpy as np

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
