"""Lemma F.3 (squaring, the sawtooth construction) (docs/lemmas/lemma-F.3-square.md).

Checks: the Appendix F claim pattern and float64 rule (``verify.claims.common``).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from flint import fmpq

from lemmas import square as lsq

from ..certify.enclosures import enclose_square
from ..certify.piecewise import certify_pl_exact, pl_breakpoints, square_piece_error
from ..checks import SWEEP_EPS, allowance, counts_match, counts_of, err_check, growth_check, growth_line, local_search
from ..registry import Claim, register
from ..result import Check, Result
from .common import FMAX, bnb_check, f64_vs_arb, float64_check, mutated, rebuilt


def square_checks(c, rng: np.random.Generator, n: int = 20000) -> list[Check]:
    net, m = c.net, c.params["m"]
    bound = lsq.square_error_bound(m)
    tau = allowance(net, 1.0)
    out = [counts_match(counts_of(net), c.formula, "counts = formula (L=m+1, W=3, S=8m+2, B=4)")]
    f = lambda X: net(X)[:, 0]  # noqa: E731
    G = np.linspace(0.0, 1.0, min(2 ** (m + 3), 1 << 18) + 1)[:, None]
    out.append(err_check(f"dense grid of [0,1] ({len(G)} points)", np.abs(f(G) - G[:, 0] ** 2), bound, tau, G))
    X = rng.uniform(0, 1, (n, 1))
    e = np.abs(f(X) - X[:, 0] ** 2)
    out.append(err_check(f"random, {n} points", e, bound, tau, X))
    k = np.arange(min(2 ** m, 1 << 16))
    if 2 ** m > k.size:
        k = np.unique(np.concatenate([k, 2 ** m - 1 - k]))
    mid = ((2 * k + 1) * 2.0 ** (-m - 1))[:, None]
    em = np.abs(f(mid) - mid[:, 0] ** 2)
    dev = float(np.max(np.abs(em - bound)))
    out.append(Check(f"attained: error = 2^(-2m-2) at {len(mid)} grid midpoints (within τ)", bool(dev <= tau),
                     dev, tau, {"bound": bound, "min": float(em.min()), "max": float(em.max())},
                     None if dev <= tau else {"x": mid[int(np.argmax(np.abs(em - bound))), 0]}))
    ends = np.array([[0.0], [1.0], [-5.0], [-1e-9], [1 + 1e-9], [7.0]])
    ce = np.abs(f(ends) - np.clip(ends[:, 0], 0, 1) ** 2)
    out.append(err_check("domain ends and outside (net = f_m(clip(x; 0, 1)), target clip(x)^2)", ce, bound, tau, ends))
    top = X[np.argsort(-e)[:16]]
    L = local_search(lambda Y: np.abs(f(Y) - Y[:, 0] ** 2), top, 0.0, 1.0, rng)
    out.append(err_check("local search from the 16 worst random points", np.abs(f(L) - L[:, 0] ** 2), bound, tau, L))
    return out


SQUARE_EXACT_MAX_M = 12  # 2^m affine pieces in exact rationals: 0.03 s at m = 8, 0.6 s at m = 12


def square_exact_certificate(net, m: int) -> Check:
    """CERTIFIED, exactly: sup_{x ∈ [0,1]} |net(x) - x^2| = 2^{-2m-2} in rational arithmetic on the stored weights.
    ``certify_pl_exact`` (seed: the float breakpoints) proves the net affine on every piece of an exact partition
    of [0, 1] (the dyadic grid k 2^-m) and takes, on each piece, the exact sup of |line - x^2| (ends or the
    vertex of the concave parabola).  The check passes when that exact sup EQUALS 2^{-2m-2} (the statement:
    the bound holds and is attained), so a mutant with a smaller sup fails too."""
    seeds = pl_breakpoints(net, 0.0, 1.0)
    r = certify_pl_exact(net, square_piece_error, 0.0, 1.0, seeds)
    bound = fmpq(1, 2 ** (2 * m + 2))
    name = "certified exactly: sup_[0,1] |f_m - x^2| = 2^(-2m-2) (rational arithmetic on the stored weights)"
    det = {"pieces": r.pieces, "refinements": r.refinements, "seconds": r.seconds, "exact_sup": str(r.sup),
           "method": "exact piecewise-affine certificate (verify/certify/)"}
    if not r.proved:
        det["reason"] = r.reason
        return Check(name, None, None, float(bound), det)
    det["attained: exact sup = 2^(-2m-2)"] = bool(r.sup == bound)
    ok = bool(r.sup == bound)  # the statement: sup = 2^(-2m-2), decided exactly
    chk = Check(name, ok, r.sup_upper, float(bound), det,
                None if ok else {"x": r.argmax, "exact_sup": str(r.sup)})
    chk.certified = ok
    return chk


def float64_at_midpoints(net, m: int) -> dict:
    """The float64 net at the attained points (2k + 1) 2^{-m-1} (all of them up to 2^12, else 4096 spread):
    |f_fl(x) - x²| - 2^{-2m-2} in exact rationals (x² is exact there in rationals; f_fl(x) is a float), i.e. by how
    much the float64 net overshoots the attained bound at the points where it is attained."""
    k = np.arange(2 ** m) if m <= 12 else np.unique(np.linspace(0, 2 ** m - 1, 4096).astype(np.int64))
    x = (2 * k + 1) * 2.0 ** (-m - 1)
    y = net(x[:, None])[:, 0]
    bound = Fraction(1, 2 ** (2 * m + 2))
    over = [abs(Fraction(float(v)) - Fraction(float(t)) ** 2) - bound for v, t in zip(y, x)]
    j = int(np.argmax([float(o) for o in over]))
    return {"float64_overshoot_at_attained_points": float(over[j]), "overshoot_x": float(x[j]),
            "attained_points": int(x.size)}


def square_sample_error(c, e):
    m = c.params["m"]
    x = np.concatenate([np.linspace(0, 1, 4097), ((2 * np.arange(min(2 ** m, 64)) + 1) * 2.0 ** (-m - 1))])[:, None]
    return np.max(np.abs(c.net(x)[:, 0] - x[:, 0] ** 2))


def run_square(params: dict, rng: np.random.Generator, mutate=None) -> Result:
    m = int(params["m"])
    c = mutated(lsq.build_square(m=m), mutate)
    checks = square_checks(c, rng)
    checks.append(f64_vs_arb(c, rng.uniform(0, 1, (200, 1)), 1.0))
    if m <= 10:
        bnd = lsq.square_error_bound(m)
        checks.append(bnb_check("certified: sup_[0,1] |f_m - x^2| <= 2^(-2m-2) (1 + 1e-6) (exact arithmetic on the stored "
                            "weights)", c, enclose_square, [0.0], [1.0], bnd * (1 + 1e-6), False,
                            note="with the attained check this pins the sup to [2^(-2m-2) - τ, 2^(-2m-2)(1 + 1e-6)]; "
                                 "an attained bound cannot be certified with no slack in floating point"))
    cert = None
    if m <= SQUARE_EXACT_MAX_M:
        cert = square_exact_certificate(c.net, m)
        checks.append(cert)
    # the float64 net on all of R (f_m(clip(x; 0, 1)) approximates clip(x; 0, 1)^2 there)
    checks.append(float64_check(c, -FMAX, FMAX, (-0.5, 1.5), lsq.square_error_bound(m),
                                lambda X: np.clip(X[:, 0], 0.0, 1.0) ** 2, cert, inner=0.5, attained=True))
    checks[-1].detail.update(float64_at_midpoints(c.net, m))
    checks.append(growth_check("growth over ε = 1e-1..1e-8 (m = m(ε))", lambda e: lsq.build_square(eps=e), SWEEP_EPS,
                               {"L": 1.0, "W": 0.0, "S": 1.0}, square_sample_error, lambda c: 1.0, 1e-13))
    return Result("lemma-F.3-square", params, checks, counts=counts_of(c.net), formula=c.formula,
                  growth=growth_line(checks[-1], "L, S = O(log 1/ε), W = 3"))


register(Claim(
    id="lemma-F.3-square",
    paper_ref="Lemma F.3 (engine of mult; Yarotsky 2017)",
    statement=("f_m(x) = t - Σ_{s=1}^m g_s(t)/4^s, t = clip(x; 0, 1), g the tooth: sup_{[0,1]} |f_m(x) - x^2| = 2^{-2m-2}, "
               "attained at the grid midpoints (2k+1)2^{-m-1}; t by the float-robust clip 1 - ρ(1 - ρ(x)); L = m + 2, "
               "W = 3 (2 at m = 1), S = 8m, B = 4 (m >= 2; 3/2 at m = 1)."),
    params={"m": 8},
    sweep=tuple({"m": m} for m in (1, 2, 5, 12, 18)),
    run=run_square,
    domain=lambda p: (0.0, 1.0),
    build=lambda p: lsq.build_square(m=int(p["m"])),
    growth="O(log 1/ε) depth and nonzeros, width 3",
    doc="docs/lemmas/lemma-F.3-square.md",
    param_types={"m": int},
    mutants=lambda p: [("one sawtooth level removed (m - 1)", "remove level",
                        rebuilt(lambda q: lsq.build_square(m=q["m"] - 1)))] if p["m"] >= 2 else [],
))
