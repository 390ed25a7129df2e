"""Lemma F.2: clip, abs and max networks (docs/lemmas/lemma-F.2-clip.md).

Checks: the Appendix F claim pattern and float64 rule (``verify.claims.common``).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from flint import fmpq

from lemmas import clip as lclip

from ..certify.enclosures import enclose_clip
from ..certify.piecewise import certify_pl_exact, clip_piece_error, depends_only_on, pl_breakpoints
from ..certify.tails import affine_on_ray
from ..checks import EPS64, counts_match, counts_of, err_check
from ..registry import Claim, register
from ..result import Check, Result
from .common import FMAX, bnb_check, float64_check, mutated


def clip_checks(c, rng: np.random.Generator, n: int = 4000) -> list[Check]:
    net, d, a, b = c.net, c.params["d"], c.params["a"], c.params["b"]
    out = [counts_match(counts_of(net), c.formula, "counts = formula (L=2, W=2d, S=4d+2d[a≠0]+d[b≠0])")]
    span = b - a
    g = np.linspace(a - span, b + span, 601)
    edge = np.array([a, b, np.nextafter(a, -np.inf), np.nextafter(b, np.inf), np.nextafter(a, np.inf),
                     np.nextafter(b, -np.inf), -1e6, 1e6])
    pts1 = np.concatenate([g, edge])
    X = np.concatenate([np.repeat(pts1[:, None], d, 1),
                        rng.uniform(a - 3 * span, b + 3 * span, (n, d))])
    ref = np.minimum(b, np.maximum(X, a))
    tol = 4 * EPS64 * np.maximum(np.abs(X), max(abs(a), abs(b), 1.0))
    err = np.max(np.abs(net(X) - ref) - tol, axis=1)
    out.append(err_check(f"exact: |net - clip| <= 4 eps max(|x|,|a|,|b|) on grid, ends, random ({len(X)})",
                         np.maximum(err, 0.0), 0.0, 0.0, X))
    out[-1].passed = bool(np.all(err <= 0))  # bound 0: exactness up to the stated rounding, decidable
    return out


def run_clip(params: dict, rng: np.random.Generator, mutate=None) -> Result:
    d, a, b = int(params["d"]), float(params["a"]), float(params["b"])
    c = mutated(lclip.build_clip(d, a, b), mutate)
    checks = clip_checks(c, rng)
    ab = mutated(lclip.build_abs(d), mutate)
    X = rng.uniform(-5, 5, (2000, d))
    checks.append(counts_match(counts_of(ab.net), ab.formula, "abs: counts = formula (W=2d, S=4d)"))
    checks.append(err_check("abs: exact on random points", np.abs(ab.net(X) - np.abs(X)).max(1), 0.0, 0.0, X))
    mx = mutated(lclip.build_max(), mutate)
    Y = np.concatenate([rng.uniform(-5, 5, (2000, 2)), np.array([[1.0, 1.0], [0.0, -0.0], [-3.0, 2.0]])])
    checks.append(counts_match(counts_of(mx.net), mx.formula, "max: counts = formula (W=3, S=7)"))
    checks.append(err_check("max: exact on random points and ties (tolerance 4 eps max|.|)",
                            np.maximum(np.abs(mx.net(Y)[:, 0] - Y.max(1)) - 4 * EPS64 * np.abs(Y).max(1), 0), 0.0, 0.0, Y))
    rows = [{"d": dd, **counts_of(lclip.build_clip(dd, a, b).net), "formula": lclip.clip_formula(dd, a, b)}
            for dd in range(1, 9)]
    checks.append(Check("counts over d = 1..8 equal the formula", all(
        all(r[k] == r["formula"][k] for k in "LWSB") for r in rows), detail={"table": rows}))
    c1 = mutated(lclip.build_clip(1, a, b), mutate)
    span = b - a
    checks.append(bnb_check("certified (d = 1 instance): sup over [a - 3(b-a), b + 3(b-a)] of |net - clip| <= 1e-12 "
                        "(exact arithmetic on the stored weights)", c1, enclose_clip(a, b),
                        [a - 3 * span], [b + 3 * span], 1e-12, False, aux=True,
                        note="the net is exact in exact arithmetic; the bound is the rounding slack of the "
                             "bounding itself; the d-dimensional net is d copies of this one"))
    cert = clip_exact_certificate(c.net, a, b)
    checks.append(cert)
    # the float64 net on all of R (the d-dimensional net is d copies of the d = 1 one: proven by the certificate)
    checks.append(clip_float64_check(c1, a, b, cert))
    return Result("lemma-F.2-clip", params, checks, counts=counts_of(c.net), formula=c.formula,
                  growth="exact; L = 3, W = d, S = 6d (a, b ≠ 0), B = max(|a|, |b|, b - a, 1)")


def clip_exact_certificate(net, a: float, b: float) -> Check:
    """CERTIFIED, exactly: sup over x ∈ R^d of |net(x) - clip(x; a, b)|_∞ = 0 in rational arithmetic on the stored
    weights.  Per output j: (i) ``depends_only_on`` shows by the sparsity pattern that output j reads x_j only,
    so net_j(x) = net_j(x_j e_j); (ii) on T = [a - 3(b - a), b + 3(b - a)] ``certify_pl_exact`` (seed: the float
    breakpoints and a, b) proves the restriction piecewise affine on an exact partition and computes the sup of
    |net_j - clip| there exactly (both sides affine on each piece, so ends suffice); (iii) on the two rays beyond
    T ``affine_on_ray`` proves net_j affine, exactly, and the slope 0 and value b (right) / a (left) are compared
    exactly with clip."""
    span = b - a
    lo, hi = a - 3 * span, b + 3 * span
    d = net.d_in
    sup, rows, why = fmpq(0), [], None
    for j in range(d):
        if not depends_only_on(net, j, j):
            why = f"output {j} is connected to another input: not coordinate-wise"
            break
        seeds = np.concatenate([pl_breakpoints(net, lo, hi, axis=j, base=np.zeros(d), output=j), [a, b]])
        r = certify_pl_exact(net, clip_piece_error(a, b), lo, hi, seeds, output=j, axis=j)
        right = affine_on_ray(net, hi, j, direction=1, axis=j, base=np.zeros(d))
        left = affine_on_ray(net, lo, j, direction=-1, axis=j, base=np.zeros(d))
        if not r.proved:
            why = f"output {j}: {r.reason}"
            break
        row = {"output": j, "pieces": r.pieces, "refinements": r.refinements, "sup_on_T": str(r.sup),
               "seconds": r.seconds}
        rows.append(row)
        sup = max(sup, r.sup)
        if right is not None and left is not None and right[0] == 0 and left[0] == 0:
            ray = max(abs(fmpq(*right[1].as_integer_ratio()) - fmpq(*Fraction(b).as_integer_ratio())),
                      abs(fmpq(*left[1].as_integer_ratio()) - fmpq(*Fraction(a).as_integer_ratio())))
            sup = max(sup, ray)
            row["sup_on_rays"] = str(ray)
        elif (right is not None and right[0] != 0) or (left is not None and left[0] != 0):
            row["sup_on_rays"] = "inf (the net is affine with a nonzero slope on a ray where clip is constant)"
            sup = None
            break
        elif sup == 0:  # a ReLU changes sign beyond T: the rays are not proved (a failure on T still decides)
            why = f"output {j}: not provably affine beyond [lo, hi]"
            break
    name = ("certified exactly: sup over x ∈ R^d of |net(x) - clip(x; a, b)|_∞ = 0 (rational arithmetic on the "
            "stored weights, coordinate-wise, piecewise-affine certificate + exact rays)")
    det = {"table": rows, "domain_T": [lo, hi], "method": "exact piecewise-affine certificate (verify/certify/)"}
    if sup is None:
        return Check(name, False, float("inf"), 0.0, det, {"output": j, "exact_sup": "inf"})
    if sup > 0:
        return Check(name, False, float(Fraction(int(sup.p), int(sup.q))), 0.0, det, {"exact_sup": str(sup)})
    if why is not None:
        det["reason"] = why
        return Check(name, None, None, 0.0, det)
    chk = Check(name, True, 0.0, 0.0, det)
    chk.certified = True
    return chk


# ----------------------------------------------------------------------------- float64 evaluation (issue 15, 7)
def _is_robust_clip(net, a: float, b: float) -> bool:
    """Whether ``net`` (d = 1) is exactly the float-robust clip b - ρ((b - a) - ρ(x - a)) of ``lemmas.clip`` with
    these a, b, and b - a is exact in float64 (its stored bias equals b - a in rationals)."""
    if net.d_in != 1 or net.d_out != 1 or net.depth != 3:
        return False
    (A1, b1), (A2, b2), (A3, b3) = net.dense_maps()
    want = [(A1, 1.0), (b1, -a), (A2, -1.0), (b2, b - a), (A3, -1.0), (b3, b)]
    if not all(x.size == 1 and float(x.ravel()[0]) == v for x, v in want):
        return False
    return Fraction(b) - Fraction(a) == Fraction(float(b2.ravel()[0]))


def _half_ulp(v: float) -> float:
    """u 2^⌊log2 v⌋ (u = 2^-53): the largest rounding error of a float64 result of magnitude <= v (v >= 2^-1022);
    2^-1075 below (subnormal results)."""
    v = abs(float(v))
    return float(np.ldexp(1.0, int(np.floor(np.log2(v))) - 53)) if v >= 2.0 ** -1022 else 2.0 ** -1075


def clip_float_exactness(net, a: float, b: float, seed: int = 0) -> dict:
    """Is the float64 clip net EXACT on every float input, and if not, how far off is it?

    Let c = b - a (a float, checked), h1 = fl(x - a), h2 = fl(c - ρ(h1)), y = fl(b - ρ(h2)); every product is by ±1
    (exact).  x <= a: x - a <= 0, so ρ(h1) = 0, h2 = c, y = fl(b - c) = a (exact: a is a float).  x >= b:
    h1 >= c (rounding is monotone and c is a float), so c - h1 <= 0, ρ(h2) = 0 and y = b.  a < x < b: writing
    h1 = (x - a) + e1, h2 = (c - h1) + e2, y = (b - h2) + e3, the output is y = x + e1 - e2 + e3 with
    |e1| <= u 2^⌊log2 c⌋ (|x - a| <= c), |e2| <= u 2^⌊log2 c⌋ (0 <= c - h1 <= c), |e3| <= u 2^⌊log2 max(|a|,|b|)⌋
    (b - h2 ∈ [a, b]): E_an = u (2^{⌊log2 c⌋+1} + 2^⌊log2 max(|a|,|b|)⌋), an upper bound of |float net - clip|
    over all floats, sharper than the generic E_fl.
    Exact (E = 0) when 0 < a < b <= 2a, or a < b < 0 with |a| <= 2|b| (Sterbenz: for a < x < b, x - a and then
    c - h1 = b - x are exact, so y = b - (b - x) = x; c itself is exact).  Otherwise (0 in [a, b], or a ratio
    above 2) the net is not exact in general: e.g. a = -1, tiny x > 0: x - a rounds to 1 and y = 0 ≠ x.  Then a
    deterministic search over float inputs in (a, b) (every binade of both signs with random and all-ones
    mantissas, subnormals, the float neighbours of a, b and 0) finds witnesses; the largest deviation found is a
    lower bound of the true worst case, E_an an upper bound.
    Returns {"structure", "exact_proved", "E_an", "witness", "witness_dev", "candidates", "reason"}."""
    robust = _is_robust_clip(net, a, b)
    c = b - a
    E_an = 2 * _half_ulp(c) + _half_ulp(max(abs(a), abs(b))) if robust else None
    sterbenz = robust and ((0 < a and b <= 2 * a) or (b < 0 and abs(a) <= 2 * abs(b)))
    rng = np.random.default_rng(seed)
    ex = np.arange(-1074, 1024)
    mant = np.concatenate([rng.integers(2 ** 52, 2 ** 53, (ex.size, 6)),
                           np.full((ex.size, 1), 2 ** 53 - 1), np.full((ex.size, 1), 2 ** 52 + 1)], 1)
    with np.errstate(over="ignore"):
        pos = np.ldexp(mant.astype(np.float64), (ex - 52)[:, None]).ravel()
    sub = rng.integers(1, 2 ** 52, 64).astype(np.float64) * 2.0 ** -1074
    near = [np.nextafter(a, np.inf), np.nextafter(b, -np.inf)]
    for _ in range(64):
        near += [np.nextafter(near[-2], np.inf), np.nextafter(near[-1], -np.inf)]
    X = np.concatenate([pos, -pos, sub, -sub, np.array(near), [5e-324, -5e-324, 2.0 ** -1022, -(2.0 ** -1022)]])
    X = X[np.isfinite(X) & (X > a) & (X < b)]
    y = net(X[:, None])[:, 0]
    with np.errstate(over="ignore", invalid="ignore"):
        dev = np.abs(y - X)  # clip(x) = x on (a, b): the float difference ranks, the top ones in exact rationals
    dev = np.where(np.isnan(dev), np.inf, dev)
    top = np.argsort(-dev)[:16]
    exact = [abs(Fraction(float(y[j])) - Fraction(float(X[j]))) if np.isfinite(y[j]) else np.inf for j in top]
    k = int(top[int(np.argmax(exact))])
    dev = dev.copy()
    dev[k] = float(max(exact))
    out = {"structure": "float-robust clip b - ρ((b - a) - ρ(x - a))" if robust else "not the float-robust clip",
           "exact_proved": bool(sterbenz), "E_an": E_an, "candidates": int(X.size),
           "witness": float(X[k]), "witness_dev": float(dev[k])}
    if sterbenz:
        out["reason"] = ("float64 net exact on every float input (Sterbenz: 0 < a < b <= 2a or a < b < 0, |a| <= 2|b|; "
                         "proof in clip_float_exactness)")
    elif dev[k] > 0:
        out["reason"] = (f"float64 net not exact: at x = {float(X[k])!r} it returns {float(y[k])!r} "
                         f"(deviation {float(dev[k]):.3g}, the largest of {X.size} searched inputs)")
    else:
        out["reason"] = f"no exactness proof and no witness among {X.size} searched inputs (undecided)"
    return out


def clip_float64_check(c1, a: float, b: float, cert: Check | None) -> Check:
    """``float64_check`` on the d = 1 copy over all of R, completed by ``clip_float_exactness``: the certificate
    covers the float64 evaluation iff the float64 net is proved exact (E = 0); otherwise the report reads
    "exact arithmetic only; float64 within E_fl" with E_fl = min(E_an, the generic bound) and the witness.
    FAILS when an extreme input misses clip by more than τ, or a witness exceeds the proved bound (unsound)."""
    span = b - a
    chk = float64_check(c1, -FMAX, FMAX, (a - span, b + span), 0.0, lambda X: np.clip(X[:, 0], a, b), cert,
                        V=max(abs(a), abs(b), 1.0), inner=(a + b) / 2, domain_text="R (d = 1 copy)")
    an = clip_float_exactness(c1.net, a, b)
    Eg = float(chk.detail["E_fl"])
    E = 0.0 if an["exact_proved"] else min(Eg, an["E_an"]) if an["E_an"] is not None else Eg
    chk.detail.update({"exactness": an, "E_fl_generic": Eg, "E_fl": E})
    certified = cert is not None and cert.certified and cert.passed is True
    if an["exact_proved"] and certified:
        chk.detail["float64_covered"] = True
        chk.detail["float64_reason"] = f"certified exact and {an['reason']}"
    else:
        chk.detail["float64_covered"] = False
        chk.detail["float64_reason"] = (f"exact arithmetic only; float64 within E_fl = {E:.3g} of clip on all of R "
                                        f"(proved; {an['reason']})")
    if an["witness_dev"] > E:
        chk.passed = False
        chk.counterexample = {"x": an["witness"], "deviation": an["witness_dev"], "E_fl": E}
    chk.name += "; exactness on float inputs (Sterbenz proof or witness search)"
    return chk


register(Claim(
    id="lemma-F.2-clip",
    paper_ref="Lemma F.2",
    statement=("For a < b, clip(x; a, b) = b - ρ((b - a) - ρ(x - a)) coordinate-wise on R^d, exactly (the float-robust "
               "form of the spec's ρ(x - a) - ρ(x - b) + a, which cancels in float64 for huge x), with L = 3, W = d, "
               "S = 4d + d[a≠0] + d[b≠0] (6d when a, b ≠ 0), B = max(|a|, |b|, b - a, 1); also |x| = ρ(x) + ρ(-x) "
               "(S = 4d) and max(x, y) = ρ(x - y) + ρ(y) - ρ(-y) (S = 7), exact."),
    params={"d": 3, "a": -0.5, "b": 1.25},
    sweep=tuple({"d": d, "a": a, "b": b} for d in (1, 4, 16) for a, b in ((0.0, 1.0), (-2.0, 3.0), (-1.0, 0.0))),
    run=run_clip,
    domain=lambda p: ([float(p["a"]) - 1.0] * int(p["d"]), [float(p["b"]) + 1.0] * int(p["d"])),
    build=lambda p: lclip.build_clip(int(p["d"]), float(p["a"]), float(p["b"])),
    growth="exact; counts linear in d",
    doc="docs/lemmas/lemma-F.2-clip.md",
    param_types={"d": int, "a": float, "b": float},
))
