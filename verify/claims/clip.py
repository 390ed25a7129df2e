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
    checks.append(float64_check(c1, -FMAX, FMAX, (a - span, b + span), 0.0, lambda X: np.clip(X[:, 0], a, b), cert,
                                V=max(abs(a), abs(b), 1.0), inner=(a + b) / 2, domain_text="R (d = 1 copy)"))
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
