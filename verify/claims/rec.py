"""Lemma F.3: 1/x (docs/lemmas/lemma-F.3-rec.md).

Checks: the Appendix F claim pattern and float64 rule (``verify.claims.common``).
For rec on [ε, 1/ε] the relative accuracy needed is ε^2, and the rule (V = 1/x_min) decides ε >= 1e-3 only
(ε = 1e-4: 1000 τ = 3.7e-4); the default growth sweep stops at the floor (``growth_to``), ``--full`` runs it to
1e-8 and reports the rows below the floor as INCONCLUSIVE.  The measured float64-vs-60-digit deviation of the rec
nets is about 1 eps64 / x_min (tests), ~S times below τ.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

from lemmas import rec as lrec

from ..certify.enclosures import enclose_taylor_arb
from ..certify.highprec import net_mp
from ..checks import SWEEP_EPS, allowance, counts_match, counts_of, err_check, growth_check, growth_line, local_search
from ..registry import Claim, register
from ..result import Check, Result
from .common import FMAX, bnb_check, float64_check, mutated, own_seed, sweep_eps

# Certification (docs/certification.md): the branch-and-bound of verify/certify/ seeded with the network's
# float64 breakpoints, at the claim's own parameters whenever that fits ``common.CERT_WORK_MAX`` (rec at its
# default ε = 1e-2 on [ε, 1/ε]: L = 75, W = 140, 3.3e4 pieces; cos/sin at ε = 1e-6: 2.8e5 pieces).  Beyond it
# the certificate is given on an auxiliary instance of the same builder (rec: ε = 0.1 on [0.1, 10]; cos/sin:
# ε = 1e-4, domain shrunk to |a| D' = 6), with the same mutant, and reported as such.
REC_CERT_EPS = 0.1
SEED_STRIDE = 8  # every 8th float64 breakpoint seeds the certificate (default ε: 9 s instead of 40 s, bound 9.99e-3 <= 1e-2)


def arb_rec(x):
    return 1 / x


def arb_drec(x):
    return -1 / (x * x)


def arb_d2rec(x):
    return 2 / (x * x * x)


def rec_checks(c, rng: np.random.Generator, n: int = 4000, grid: int = 4001) -> list[Check]:
    """Checks (1)-(3), (5) for a rec network on [x_min, x_max] (statement in ``lemmas.rec``)."""
    net, eps = c.net, c.params["eps"]
    x_min, x_max = c.params["x_min"], c.params["x_max"]
    tau = allowance(net, 1.0 / x_min)
    f = lambda X: net(X)[:, 0]  # noqa: E731
    err = lambda X: np.abs(f(X) - 1.0 / X[:, 0])  # noqa: E731
    out = [counts_match(counts_of(net), c.formula, "counts = formula (L = H(m+1)+3, W = 10P, S, B)")]
    out.append(Check("construction bound T_n + 2^-2m K <= ε", bool(c.notes["error_bound"] <= eps),
                     c.notes["error_bound"], eps, {"P": c.params["P"], "n": c.params["n"], "m": c.params["m"]}))
    G = np.concatenate([np.geomspace(x_min, x_max, grid), np.linspace(x_min, x_max, grid // 2 + 1)])[:, None]
    eg = err(G)
    out.append(err_check(f"dense grid of [x_min, x_max] ({len(G)} points, geometric and uniform)", eg, eps, tau, G))
    X = np.concatenate([np.exp(rng.uniform(np.log(x_min), np.log(x_max), n // 2)),
                        rng.uniform(x_min, x_max, n // 2)])[:, None]
    e = err(X)
    out.append(err_check(f"random, {n} points (log-uniform and uniform)", e, eps, tau, X))
    a = np.array([t for t in c.notes["break_points"] if t <= x_max] + [x_max])
    cen = 0.5 * (a[:-1] + a[1:])
    W = np.concatenate([a, np.nextafter(a, 0), np.nextafter(a, np.inf), cen])
    W = W[(W >= x_min) & (W <= x_max)][:, None]
    out.append(err_check(f"known worst cases: x_min, x_max, the {len(a)} break points (and neighbours), piece "
                         "centres", err(W), eps, tau, W))
    # local search in log x (the error lives on a geometric scale)
    top = np.log(X[np.argsort(-e)[:16]])
    lerr = lambda Y: err(np.exp(Y))  # noqa: E731
    Ls = np.exp(local_search(lerr, top, math.log(x_min), math.log(x_max), rng))
    out.append(err_check("local search (in log x) from the 16 worst random points", err(Ls), eps, tau, Ls))
    # perturbed inputs: x in the domain, x' anywhere (negative, huge, tiny steps)
    xs = np.concatenate([np.exp(rng.uniform(np.log(x_min), np.log(x_max), n // 2)), np.full(n // 8, x_min),
                         np.full(n // 8, x_max)])
    r = np.exp(rng.uniform(np.log(1e-9), np.log(10.0), xs.size)) * np.maximum(xs, x_min)
    xp = xs + r * rng.choice([-1.0, 1.0], xs.size)
    xp[:50], xp[50:100] = -1e12, 1e15
    viol = np.abs(f(xp[:, None]) - 1.0 / xs) - np.abs(xp - xs) / x_min ** 2
    out.append(err_check(f"perturbed input: |φ(x') - 1/x| - |x' - x|/x_min^2 <= ε, x' ∈ R ({xs.size} pairs)",
                         viol, eps, tau, np.stack([xs, xp], 1)))
    # 60-digit evaluation of the stored network at the worst points
    pts = [float(G[int(np.argmax(eg)), 0]), float(Ls[int(np.argmax(err(Ls))), 0]), x_min, x_max]
    with mpmath.workdps(60):
        mp_err = max(abs(net_mp(net, [x])[0] - 1 / mpmath.mpf(x)) for x in pts)
    out.append(Check("60-digit evaluation at the worst grid / local-search points, x_min, x_max: error <= ε",
                     bool(mp_err <= eps), float(mp_err), eps, {"points": pts}, None if mp_err <= eps else {"x": pts}))
    return out


def _rec_sample_error(c, e):
    x_min, x_max = c.params["x_min"], c.params["x_max"]
    x = np.concatenate([np.geomspace(x_min, x_max, 300), [t for t in c.notes["break_points"] if t <= x_max]])
    return np.max(np.abs(c.net(x[:, None])[:, 0] - 1.0 / x))


def _rec_floor_eps(x_min_of_eps) -> float:
    """The float64 floor of the sweep: the smallest ε of SWEEP_EPS with ε >= 1000 τ (τ = S eps64 / x_min)."""
    from ..checks import EPS64
    best = SWEEP_EPS[0]
    for e in SWEEP_EPS:
        lo, hi = x_min_of_eps(e)
        if e * lo < lrec.MIN_REL:
            break
        if e >= 1000 * lrec.rec_formula(lrec.rec_params(lo, hi, e))["S"] * EPS64 / lo:
            best = e
        else:
            break
    return best


REC_FLOOR = _rec_floor_eps(lambda e: (e, 1 / e))  # 1e-3
REC_FIXED = (0.5, 2.0)  # the fixed interval of the second growth sweep
REC_FIXED_FLOOR = _rec_floor_eps(lambda e: REC_FIXED)


def run_rec(params: dict, rng: np.random.Generator, mutate=None) -> Result:
    eps = float(params["eps"])
    x_min = float(params.get("x_min", 0.0))
    x_max = float(params.get("x_max", 0.0))
    if x_min > 0 and x_max > 0:
        c = mutated(lrec.build_rec_interval(x_min, x_max, eps), mutate)
    else:
        c = mutated(lrec.build_rec(eps), mutate)
    checks = rec_checks(c, rng, n=int(params.get("samples", 4000)))
    interval = x_min > 0 and x_max > 0
    dom = (x_min, x_max) if interval else (eps, 1 / eps)
    seed = own_seed(c.net, *dom, stride=SEED_STRIDE)
    own = seed is not None
    ca = c if own else mutated(lrec.build_rec(REC_CERT_EPS), mutate)
    ea = eps if own else REC_CERT_EPS
    dom = dom if own else (ea, 1 / ea)
    where = f"[{dom[0]:g}, {dom[1]:g}]" if interval and own else "[ε, 1/ε]"
    chk = bnb_check(f"certified{'' if own else f' (auxiliary instance ε = {ea:g})'}: sup over {where} of "
                    f"|φ_rec - 1/x| <= {ea:g} (exact arithmetic on the stored weights)", ca,
                    enclose_taylor_arb(arb_rec, arb_drec, arb_d2rec), [dom[0]], [dom[1]], ea, own,
                    aux=not own, seed=seed if own else True,
                    note="the sup-norm clause; the perturbed-input clause follows from it and the clipping "
                         "(lemmas/rec.py) and is checked by sampling")
    checks.append(chk)
    # the float64 net on all of R: φ(x') = φ(clip(x'; x_min, a_P)) (rec's float-robust piece clips)
    xm, aP = c.params["x_min"], c.params["a_P"]
    checks.append(float64_check(c, -FMAX, FMAX, (0.0, aP), eps, lambda X: 1.0 / np.clip(X[:, 0], xm, aP),
                                chk if own else None, V=1.0 / xm, inner=1.0,
                                domain_text="R (the stated domain [x_min, x_max] ⊂ R; outside, 1/clip(x; x_min, a_P))"))
    lo = float(params.get("growth_to", REC_FLOOR))
    checks.append(growth_check(f"growth on [ε, 1/ε] over ε = 1e-1..{lo:g} (float64 floor {REC_FLOOR:g})",
                               lrec.build_rec, sweep_eps(lo), {"L": 2.0, "W": 3.0, "S": 4.0, "log B": 1.0},
                               _rec_sample_error, lambda c: 1.0 / c.params["x_min"], REC_FLOOR))
    checks.append(growth_check(f"growth on the fixed interval [{REC_FIXED[0]}, {REC_FIXED[1]}] over ε = 1e-1..1e-8",
                               lambda e: lrec.build_rec_interval(*REC_FIXED, e), SWEEP_EPS,
                               {"L": 2.0, "W": 0.0, "S": 2.0, "log B": 0.0}, _rec_sample_error,
                               lambda c: 1.0 / c.params["x_min"], REC_FIXED_FLOOR))
    return Result("lemma-F.3-rec", params, checks, counts=counts_of(c.net), formula=c.formula,
                  growth=growth_line(checks[-2], "L = O(log^2 1/ε), W = O(log^3 1/ε), S = O(log^4 1/ε) "
                                                 "(ours: L = O(log^2), W = O(log), S = O(log^3), B = O(1/ε))"))


register(Claim(
    id="lemma-F.3-rec",
    paper_ref="Lemma F.3 (rec) (Oko et al. 2023 Lemma F.7)",
    statement=("For 0 < ε < 1, x ∈ [ε, 1/ε] and any x' ∈ R: |φ_rec(x') - 1/x| <= ε + |x' - x|/ε^2 (general form: x ∈ "
               "[x_min, x_max], Lipschitz term |x' - x|/x_min^2).  φ(x') = φ(clip(x'; x_min, a_P)); telescoping over "
               "P geometric pieces, each by a degree-n Horner series with approximate products; L = H(m+1) + 3, "
               "W = 10P, S = P[20 + 26(H-1) + (24m+11)H + (m+1)(H-1)] + 1, B = max(4, a_P, 2/Δ_0) (H = n - 1)."),
    params={"eps": 1e-2, "x_min": 0.0, "x_max": 0.0},  # x_min = x_max = 0: the domain [ε, 1/ε]
    switches={"samples": 4000, "growth_to": None},
    sweep=(({"eps": 1e-1, "samples": 20000}, {"eps": 1e-3, "samples": 20000},
            {"eps": 1e-2, "samples": 4000, "growth_to": 1e-8})
           + tuple({"eps": e, "x_min": lo, "x_max": hi, "samples": 20000}
                   for e, lo, hi in ((1e-6, 0.5, 2.0), (1e-8, 1.0, 2.0), (1e-5, 0.1, 10.0), (1e-3, 0.3, 0.31)))),
    run=run_rec,
    build=lambda p: (lrec.build_rec_interval(float(p["x_min"]), float(p["x_max"]), float(p["eps"]))
                     if float(p.get("x_min", 0)) > 0 and float(p.get("x_max", 0)) > 0 else lrec.build_rec(float(p["eps"]))),
    domain=lambda p: ((float(p["x_min"]), float(p["x_max"])) if float(p.get("x_min", 0)) > 0 and float(p.get("x_max", 0)) > 0
                      else (float(p["eps"]), 1.0 / float(p["eps"]))),
    growth="L = O(log^2 1/ε), W = O(log^3 1/ε), S = O(log^4 1/ε)",
    doc="docs/lemmas/lemma-F.3-rec.md",
    cost=9.0,
    param_types={"eps": float, "samples": int, "x_min": float, "x_max": float, "growth_to": float},
))
