"""Appendix F claims for rec (Lemma F.3), the quotient (Lemma F.4) and cos / sin (Lemma F.3)
(docs/lemmas/lemma-F.3-rec.md, lemma-F.4-quotient.md, lemma-F.3-cos.md).

Same pattern as ``verify.claims.appendix_f``: (1) counts read from the emitted matrices equal the builder's
formula; (2) the error bound on a dense grid (1-D; 2-D for the quotient), random samples, the known worst cases
(domain ends, the break points of the pieces, b = b_min, folding break points for cos) and a local search from
the worst sampled points; (3) the perturbed-input form with inputs far outside the domain; (4) growth over
ε = 1e-1 .. 1e-8 with fitted log-log exponents beside the claimed ones, INCONCLUSIVE below the float64 floor;
(5) a 60-digit evaluation of the stored network (``verify.highprec.net_mp``) at the worst points.
Targets (1/x, a/b, cos, sin) come from numpy / mpmath, never from the networks.

Float64 rule (``verify.checks``): τ = S · eps64 · V with V the size of the output (1/x_min for rec, A/b_min for
the quotient, 1 for cos); a bound below 1000 τ is INCONCLUSIVE.  For rec on [ε, 1/ε] the relative accuracy
needed is ε^2, and the rule decides ε >= 1e-3 only (ε = 1e-4: 1000 τ = 3.7e-4); the default growth sweep stops
at the floor (``growth_to``), ``--full`` runs it to 1e-8 and reports the rows below the floor as INCONCLUSIVE.
The measured float64-vs-60-digit deviation of the rec nets is about 1 eps64 / x_min (tests), ~S times below τ.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
from flint import arb

from lemmas import cos as lcos
from lemmas import quotient as lq
from lemmas import rec as lrec

from ..checks import (SWEEP_EPS, allowance, counts_match, counts_of, err_check, growth_check, growth_line,
                      local_search)
from ..certify import enclose_taylor_arb
from ..certify_f4 import certify_quotient, f4_check
from ..highprec import net_mp
from ..registry import Claim, register
from ..result import Check, Result
from .appendix_f import _cert, own_seed


def _mutated(c, mutate):
    return c if mutate is None else mutate(c)


# Certification (docs/certification.md): the branch-and-bound of verify/certify.py seeded with the network's
# float64 breakpoints, at the claim's own parameters whenever that fits ``appendix_f.CERT_WORK_MAX`` (rec at its
# default ε = 1e-2 on [ε, 1/ε]: L = 75, W = 140, 3.3e4 pieces; cos/sin at ε = 1e-6: 2.8e5 pieces).  Beyond it
# the certificate is given on an auxiliary instance of the same builder (rec: ε = 0.1 on [0.1, 10]; cos/sin:
# ε = 1e-4, domain shrunk to |a| D' = 6), with the same mutant, and reported as such.
REC_CERT_EPS = 0.1
COS_CERT_EPS = 1e-4
COS_CERT_AD = 6.0  # |a| D of the default (a = 3, D = 2): ~3e4 pieces at ε = 1e-4


def _arb_rec(x):
    return 1 / x


def _arb_drec(x):
    return -1 / (x * x)


def _arb_d2rec(x):
    return 2 / (x * x * x)


def _trig_enclosure(a: float, b: float, fn: str):
    """cos(a x - b) or sin(a x - b) (exact float a, b) as a Taylor enclosure in arb (verify.certify)."""
    A, B = arb(a), arb(b)
    if fn == "cos":
        return enclose_taylor_arb(lambda x: (A * x - B).cos(), lambda x: -A * (A * x - B).sin(),
                                  lambda x: -A * A * (A * x - B).cos())
    return enclose_taylor_arb(lambda x: (A * x - B).sin(), lambda x: A * (A * x - B).cos(),
                              lambda x: -A * A * (A * x - B).sin())


def _sweep_eps(lo: float) -> tuple:
    return tuple(e for e in SWEEP_EPS if e >= lo * (1 - 1e-12))


# ----------------------------------------------------------------------------------------------- rec
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


def _run_rec(params: dict, rng: np.random.Generator, mutate=None) -> Result:
    eps = float(params["eps"])
    x_min = float(params.get("x_min", 0.0))
    x_max = float(params.get("x_max", 0.0))
    if x_min > 0 and x_max > 0:
        c = _mutated(lrec.build_rec_interval(x_min, x_max, eps), mutate)
    else:
        c = _mutated(lrec.build_rec(eps), mutate)
    checks = rec_checks(c, rng, n=int(params.get("samples", 4000)))
    interval = x_min > 0 and x_max > 0
    dom = (x_min, x_max) if interval else (eps, 1 / eps)
    seed = own_seed(c.net, *dom)
    own = seed is not None
    ca = c if own else _mutated(lrec.build_rec(REC_CERT_EPS), mutate)
    ea = eps if own else REC_CERT_EPS
    dom = dom if own else (ea, 1 / ea)
    where = f"[{dom[0]:g}, {dom[1]:g}]" if interval and own else "[ε, 1/ε]"
    checks.append(_cert(f"certified{'' if own else f' (auxiliary instance ε = {ea:g})'}: sup over {where} of "
                        f"|φ_rec - 1/x| <= {ea:g} (exact arithmetic on the stored weights)", ca,
                        enclose_taylor_arb(_arb_rec, _arb_drec, _arb_d2rec), [dom[0]], [dom[1]], ea, own,
                        aux=not own, seed=seed if own else True,
                        note="the sup-norm clause; the perturbed-input clause follows from it and the clipping "
                             "(lemmas/rec.py) and is checked by sampling"))
    lo = float(params.get("growth_to", REC_FLOOR))
    checks.append(growth_check(f"growth on [ε, 1/ε] over ε = 1e-1..{lo:g} (float64 floor {REC_FLOOR:g})",
                               lrec.build_rec, _sweep_eps(lo), {"L": 2.0, "W": 3.0, "S": 4.0, "log B": 1.0},
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
    params={"eps": 1e-2, "samples": 4000},
    sweep=(({"eps": 1e-1, "samples": 20000}, {"eps": 1e-3, "samples": 20000},
            {"eps": 1e-2, "samples": 4000, "growth_to": 1e-8})
           + tuple({"eps": e, "x_min": lo, "x_max": hi, "samples": 20000}
                   for e, lo, hi in ((1e-6, 0.5, 2.0), (1e-8, 1.0, 2.0), (1e-5, 0.1, 10.0), (1e-3, 0.3, 0.31)))),
    run=_run_rec,
    build=lambda p: (lrec.build_rec_interval(float(p["x_min"]), float(p["x_max"]), float(p["eps"]))
                     if float(p.get("x_min", 0)) > 0 and float(p.get("x_max", 0)) > 0 else lrec.build_rec(float(p["eps"]))),
    domain=lambda p: ((float(p["x_min"]), float(p["x_max"])) if float(p.get("x_min", 0)) > 0 and float(p.get("x_max", 0)) > 0
                      else (float(p["eps"]), 1.0 / float(p["eps"]))),
    growth="L = O(log^2 1/ε), W = O(log^3 1/ε), S = O(log^4 1/ε)",
    doc="docs/lemmas/lemma-F.3-rec.md",
    param_types={"eps": float, "samples": int, "x_min": float, "x_max": float, "growth_to": float},
))


# ------------------------------------------------------------------------------------------ quotient
def quotient_checks(c, rng: np.random.Generator, n: int = 6000, grid: int = 121) -> list[Check]:
    net, eps = c.net, c.params["eps"]
    A, b_min, b_max = c.params["A"], c.params["b_min"], c.params["b_max"]
    tau = allowance(net, A / b_min)
    f = lambda X: net(X)[:, 0]  # noqa: E731
    err = lambda X: np.abs(f(X) - X[:, 0] / X[:, 1])  # noqa: E731
    out = [counts_match(counts_of(net), c.formula, "counts = formula")]
    out.append(Check("construction bound (A/b_min) 2^-2m_q + A · rec bound <= ε", bool(c.notes["error_bound"] <= eps),
                     c.notes["error_bound"], eps, {"m_q": c.params["m_q"], "eps_r": c.params["eps_r"]}))
    ta, tb = np.linspace(-A, A, grid), np.geomspace(b_min, b_max, grid)
    G = np.stack(np.meshgrid(ta, tb), -1).reshape(-1, 2)
    eg = err(G)
    out.append(err_check(f"dense grid {grid}x{grid} of [-A, A] x [b_min, b_max] (b geometric)", eg, eps, tau, G))
    X = np.stack([rng.uniform(-A, A, n), np.where(rng.random(n) < 0.5, rng.uniform(b_min, b_max, n),
                                                   np.exp(rng.uniform(np.log(b_min), np.log(b_max), n)))], 1)
    e = err(X)
    out.append(err_check(f"random, {n} points of the box", e, eps, tau, X))
    bp = np.array([t for t in c.notes["break_points"] if t <= b_max] + [b_max, b_min])
    bs = np.concatenate([bp, np.nextafter(bp, 0), np.nextafter(bp, np.inf)])
    bs = bs[(bs >= b_min) & (bs <= b_max)]
    av = np.array([-A, A, 0.0, A / 2, -A * 2.0 ** -c.params["m_q"], A * 2.0 ** -c.params["m_q"]])
    K = np.stack(np.meshgrid(av, bs), -1).reshape(-1, 2)
    out.append(err_check(f"known worst cases: a ∈ {{±A, 0, A/2, ±A 2^-m_q}} x b ∈ {{b_min, b_max, break points}} "
                         f"({len(K)})", err(K), eps, tau, K))
    top = X[np.argsort(-e)[:16]]
    Ls = local_search(err, top, np.array([-A, b_min]), np.array([A, b_max]), rng)
    out.append(err_check("local search from the 16 worst random points", err(Ls), eps, tau, Ls))
    # perturbed inputs
    m = n // 2
    xs = np.stack([rng.uniform(-A, A, m), rng.uniform(b_min, b_max, m)], 1)
    xs[: m // 4, 1] = b_min
    xs[m // 4: m // 2, 0] = A * rng.choice([-1.0, 1.0], m // 2 - m // 4)
    scale = np.array([A, b_max])
    d = np.exp(rng.uniform(np.log(1e-9), np.log(10.0), (m, 2))) * scale * rng.choice([-1.0, 1.0], (m, 2))
    d[rng.random(m) < 0.3, rng.integers(0, 2)] = 0.0
    xp = xs + d
    xp[:20, 1] = -1e9
    xp[20:40, 0] = 1e9
    lip = np.abs(xp[:, 0] - xs[:, 0]) / b_min + A * np.abs(xp[:, 1] - xs[:, 1]) / b_min ** 2
    viol = np.abs(f(xp) - xs[:, 0] / xs[:, 1]) - lip
    out.append(err_check(f"perturbed input: |φ(a', b') - a/b| - |a'-a|/b_min - A|b'-b|/b_min^2 <= ε ({m} pairs)",
                         viol, eps, tau, np.concatenate([xs, xp], 1)))
    pts = [G[int(np.argmax(eg))], Ls[int(np.argmax(err(Ls)))], np.array([A, b_min]), np.array([-A, b_min])]
    with mpmath.workdps(60):
        mp_err = max(abs(net_mp(net, p)[0] - mpmath.mpf(float(p[0])) / mpmath.mpf(float(p[1]))) for p in pts)
    out.append(Check("60-digit evaluation at the worst grid / local-search points and (±A, b_min): error <= ε",
                     bool(mp_err <= eps), float(mp_err), eps, {"points": [p.tolist() for p in pts]},
                     None if mp_err <= eps else {"x": [p.tolist() for p in pts]}))
    return out


def _quotient_sample_error(c, e):
    A, b_min, b_max = c.params["A"], c.params["b_min"], c.params["b_max"]
    rng = np.random.default_rng(1)
    X = np.stack([rng.uniform(-A, A, 600), np.exp(rng.uniform(np.log(b_min), np.log(b_max), 600))], 1)
    X = np.concatenate([X, [[A, b_min], [-A, b_min], [A, b_max]]])
    return np.max(np.abs(c.net(X)[:, 0] - X[:, 0] / X[:, 1]))


def _quotient_floor(A, b_min, b_max) -> float:
    from ..checks import EPS64
    best = SWEEP_EPS[0]
    for e in SWEEP_EPS:
        if e / (2 * A) * b_min < lrec.MIN_REL:
            break
        S = lq.quotient_formula(A, b_min, lq.quotient_params(A, b_min, b_max, e))["S"]
        if e >= 1000 * S * EPS64 * A / b_min:
            best = e
        else:
            break
    return best


def _run_quotient(params: dict, rng: np.random.Generator, mutate=None) -> Result:
    A, b_min, b_max, eps = (float(params[k]) for k in ("A", "b_min", "b_max", "eps"))
    c = _mutated(lq.build_quotient(A, b_min, b_max, eps), mutate)
    checks = quotient_checks(c, rng, n=int(params.get("samples", 6000)))
    checks.append(f4_check("certified (two-stage: 1-D stages a, b and the exact separable product level, composed): "
                           "sup over |a| <= A, b ∈ [b_min, b_max] of |φ - a/b| <= ε (exact arithmetic on the stored "
                           "weights)", certify_quotient(c.net, A, b_min, b_max, eps), eps))
    floor = _quotient_floor(A, b_min, b_max)
    lo = float(params.get("growth_to", floor))
    checks.append(growth_check(f"growth over ε = 1e-1..{lo:g} at fixed A, b range (float64 floor {floor:g})",
                               lambda e: lq.build_quotient(A, b_min, b_max, e), _sweep_eps(lo),
                               {"L": 2.0, "W": 0.0, "S": 2.0, "log B": 0.0}, _quotient_sample_error,
                               lambda c: c.params["A"] / c.params["b_min"], floor))
    return Result("lemma-F.4-quotient", params, checks, counts=counts_of(c.net), formula=c.formula,
                  growth=growth_line(checks[-1], "none stated in the paper; ours L, S = O(log^2 1/ε) at fixed A, "
                                                 "b_min, b_max, W = 10P + 1"))


register(Claim(
    id="lemma-F.4-quotient",
    paper_ref="Lemma F.4 (quotient, used by Lemma 3.3)",
    statement=("For A > 0, 0 < b_min < b_max, |a| <= A, b ∈ [b_min, b_max] and any (a', b') ∈ R^2: |φ(a', b') - a/b| <= "
               "ε + |a' - a|/b_min + A|b' - b|/b_min^2.  φ = (A/b_min) ψ(clip(a'/A), b_min rec(b')) with rec of accuracy "
               "ε/(2A) on [b_min, b_max] and ψ the product block (m_q: (A/b_min) 2^-2m_q <= ε/2); "
               "L = H(m_r+1) + m_q + 4, W = 10P + 1, S and B by the formula in lemmas/quotient.py."),
    params={"A": 2.0, "b_min": 0.25, "b_max": 4.0, "eps": 1e-3, "samples": 6000},
    sweep=tuple({"A": A, "b_min": lo, "b_max": hi, "eps": e, "samples": 20000}
                for A, lo, hi, e in ((1.0, 0.5, 1.0, 1e-6), (5.0, 0.1, 10.0, 1e-3), (1.0, 1e-2, 1.0, 1e-4),
                                     (0.5, 1.0, 1.0001, 1e-8)))
          + ({"A": 2.0, "b_min": 0.25, "b_max": 4.0, "eps": 1e-3, "samples": 6000, "growth_to": 1e-8},),
    run=_run_quotient,
    build=lambda p: lq.build_quotient(float(p["A"]), float(p["b_min"]), float(p["b_max"]), float(p["eps"])),
    domain=lambda p: ((-float(p["A"]), float(p["b_min"])), (float(p["A"]), float(p["b_max"]))),
    growth="not stated; ours L, S = O(log^2 1/ε) at fixed A, b_min, b_max",
    doc="docs/lemmas/lemma-F.4-quotient.md",
    param_types={"A": float, "b_min": float, "b_max": float, "eps": float, "samples": int, "growth_to": float},
))


# ----------------------------------------------------------------------------------------- cos, sin
def _fold_points(c, cap: int = 2048) -> np.ndarray:
    """x ∈ [-D, D] where θ = a x - b hits θ_0 + k π/2 (fold break points: cos = ±1, polynomial worst case; and the
    zeros of cos), at most ``cap`` of them, plus ±D."""
    a, b, D = c.params["a"], c.params["b"], c.params["D"]
    th0 = c.params["theta0"]
    th = np.array([-abs(a) * D - b, abs(a) * D - b])
    k = np.arange(math.floor((th[0] - th0) / (math.pi / 2)), math.ceil((th[1] - th0) / (math.pi / 2)) + 1)
    if k.size > cap:
        k = np.unique(np.concatenate([k[: cap // 2], k[-cap // 2:]]))
    x = (th0 + k * (math.pi / 2) + b) / a
    x = x[(x >= -D) & (x <= D)]
    return np.concatenate([x, [-D, D, 0.0]])


def trig_checks(c, fn, rng: np.random.Generator, name: str, n: int = 20000, grid: int = 20001) -> list[Check]:
    """Checks for φ ≈ fn(a x - b) on [-D, D] (fn = np.cos or np.sin); b is the caller's phase."""
    net, eps, a, b, D = c.net, c.params["eps"], c.params["a"], c.params["b"], c.params["D"]
    tau = allowance(net, c.notes["V"])
    f = lambda X: net(X)[:, 0]  # noqa: E731
    err = lambda X: np.abs(f(X) - fn(a * X[:, 0] - b))  # noqa: E731
    out = [counts_match(counts_of(net), c.formula, f"{name}: counts = formula (L = s + (K+1)(m+1) + 1, W = 11)")]
    out.append(Check(f"{name}: construction bound T_K + (4K - 1) 2^-2m <= ε", bool(c.notes["error_bound"] <= eps),
                     c.notes["error_bound"], eps, {"s": c.params["s"], "K": c.params["K"], "m": c.params["m"]}))
    G = np.linspace(-D, D, grid)[:, None]
    eg = err(G)
    out.append(err_check(f"{name}: dense grid of [-D, D] ({grid} points)", eg, eps, tau, G))
    X = rng.uniform(-D, D, (n, 1))
    e = err(X)
    out.append(err_check(f"{name}: random, {n} points", e, eps, tau, X))
    Fp = _fold_points(c)[:, None] if fn is np.cos else _fold_points(build_phase_twin(c))[:, None]
    Fp = np.concatenate([Fp, np.clip(Fp + 1e-9 * D, -D, D), np.clip(Fp - 1e-9 * D, -D, D)])
    out.append(err_check(f"{name}: known worst cases: ±D and θ ∈ θ_0 + (π/2)Z (fold break points, zeros) "
                         f"({len(Fp)})", err(Fp), eps, tau, Fp))
    top = X[np.argsort(-e)[:16]]
    Ls = local_search(err, top, -D, D, rng)
    out.append(err_check(f"{name}: local search from the 16 worst random points", err(Ls), eps, tau, Ls))
    pts = [float(G[int(np.argmax(eg)), 0]), float(Ls[int(np.argmax(err(Ls))), 0]), -D, D]
    mfn = mpmath.cos if fn is np.cos else mpmath.sin
    with mpmath.workdps(60):
        mp_err = max(abs(net_mp(net, [x])[0] - mfn(mpmath.mpf(a) * mpmath.mpf(x) - mpmath.mpf(b))) for x in pts)
    out.append(Check(f"{name}: 60-digit evaluation at the worst grid / local-search points and ±D: error <= ε",
                     bool(mp_err <= eps), float(mp_err), eps, {"points": pts}, None if mp_err <= eps else {"x": pts}))
    return out


def build_phase_twin(c):
    """The parameters of a sin net seen as the cos net it is (b + π/2), for the worst-case point list."""
    class _P:
        params = {**c.params, "b": c.params["b"] + math.pi / 2}
    return _P


def _trig_sample_error(c, e):
    a, b, D = c.params["a"], c.params["b"], c.params["D"]
    x = np.concatenate([np.linspace(-D, D, 2001), _fold_points(c, 256)])[:, None]
    return np.max(np.abs(c.net(x)[:, 0] - np.cos(a * x[:, 0] - b)))


def _cos_floor(a, b, D) -> float:
    """The smallest ε of SWEEP_EPS with ε >= 1000 τ, τ = S(ε) eps64 2^s (and the builder's floor)."""
    from ..checks import EPS64
    best = SWEEP_EPS[0]
    for e in SWEEP_EPS:
        p = lcos.cos_params(a, b, D, e)
        if e < max(lcos.MIN_EPS, 1e4 * 2.0 ** p["s"] * EPS64) or e < 1000 * lcos.cos_formula(p)["S"] * EPS64 * 2.0 ** p["s"]:
            break
        best = e
    return best


def _run_cos(params: dict, rng: np.random.Generator, mutate=None) -> Result:
    a, b, D, eps = (float(params[k]) for k in ("a", "b", "D", "eps"))
    n = int(params.get("samples", 20000))
    c = _mutated(lcos.build_cos(a, b, D, eps), mutate)
    checks = trig_checks(c, np.cos, rng, "cos", n=n)
    sn = _mutated(lcos.build_sin(a, b, D, eps), mutate)
    checks += trig_checks(sn, np.sin, rng, "sin", n=n // 4, grid=5001)
    # the pieces grow like |a| D / ε^(1/2): beyond |a| D = COS_CERT_AD the auxiliary instance keeps a, b and
    # shrinks the domain to D' = COS_CERT_AD / |a|
    Da = D if abs(a) * D <= COS_CERT_AD else COS_CERT_AD / abs(a)
    for fn, build, net in (("cos", lcos.build_cos, c), ("sin", lcos.build_sin, sn)):
        seed = own_seed(net.net, -D, D)
        own = seed is not None
        cc = net if own else _mutated(build(a, b, Da, max(eps, COS_CERT_EPS)), mutate)
        ea = eps if own else max(eps, COS_CERT_EPS)
        Dc = D if own else Da
        aux = "" if own else f" (auxiliary instance ε = {ea:g}" + ("" if Da == D else f", D = {Da:g}") + ")"
        checks.append(_cert(f"certified{aux}: sup over [-D, D] of |φ_{fn} - {fn}(a x - b)| <= {ea:g} (exact "
                            f"arithmetic on the stored weights)", cc, _trig_enclosure(a, b, fn), [-Dc], [Dc], ea,
                            own, aux=not own, seed=seed if own else True))
    floor = _cos_floor(a, b, D)
    lo = float(params.get("growth_to", floor))
    checks.append(growth_check(f"growth over ε = 1e-1..{lo:g} at fixed a, b, D (float64 floor {floor:g})",
                               lambda e: lcos.build_cos(a, b, D, e), _sweep_eps(lo),
                               {"L": 2.0, "W": 0.0, "S": 2.0, "log B": 0.0}, _trig_sample_error,
                               lambda c: c.notes["V"], max(floor, c.notes["min_eps_float64"])))
    # depth in a D: one folding layer per doubling, nothing else changes
    rows, ok = [], True
    for k in range(0, 21, 2):
        ak = 2.0 ** k
        ck = lcos.build_cos(ak, b, 1.0, 1e-4)
        cnt = counts_of(ck.net)
        xk = rng.uniform(-1.0, 1.0, (1000, 1))
        ek = float(np.max(np.abs(ck.net(xk)[:, 0] - np.cos(ak * xk[:, 0] - b))))
        tk = allowance(ck.net, ck.notes["V"])
        s_max = math.log2(2 * ak / math.pi + 2) + 1
        decided = 1e-4 >= 1000 * tk  # the float64 rule: below it the error is reported, not judged
        row = {"a": ak, "s": ck.params["s"], **cnt, "error": ek, "counts_equal_formula": cnt == ck.formula,
               "s < log2(2aD/π + 2) + 1": ck.params["s"] < s_max,
               "error_status": "decided" if decided else f"not judged: ε < 1000 τ = {1000 * tk:.2g}"}
        rows.append(row)
        ok &= cnt == ck.formula and ck.params["s"] < s_max and (ek <= 1e-4 + tk or not decided)
    base = rows[0]
    ok &= all(r["L"] - base["L"] == r["s"] - base["s"] and r["W"] == base["W"] for r in rows)
    checks.append(Check("depth over a D = 1..2^20 (ε = 1e-4): counts = formula, L - s constant, s < log2(2aD/π + 2) + 1, "
                        "error <= ε where float64 decides", bool(ok), max(r["error"] for r in rows), 1e-4, {"table": rows},
                        None if ok else {"rows": rows}))
    return Result("lemma-F.3-cos", params, checks, counts=counts_of(c.net), formula=c.formula,
                  growth=growth_line(checks[-2], "L = O(log^2 1/ε + log(aD)), W <= 9, B <= 1 "
                                                 "(ours W = 11, B = max(8, |a|/(2^s π)))"))


register(Claim(
    id="lemma-F.3-cos",
    paper_ref="Lemma F.3 (cos) (Perekrestenko et al. 2018, Corollary 4.2)",
    statement=("For a ≠ 0, b ∈ R, D > 0, 0 < ε < 1: |φ(x) - cos(a x - b)| <= ε and |φ_sin(x) - sin(a x - b)| <= ε for x ∈ "
               "[-D, D].  φ = exact sawtooth folding cos(π g_s(t)) = cos(2^s π t), t = (a x - b - θ_0)/(2^s π), then "
               "-w Q(w^2), w = 2 g_s - 1, with K + 1 product levels; L = s + (K+1)(m+1) + 1, W = 11 (10 if K <= 2), "
               "B = max(8, |a|/(2^s π)), S by the formula in lemmas/cos.py; sin = cos with b + π/2."),
    params={"a": 3.0, "b": 0.5, "D": 2.0, "eps": 1e-6, "samples": 20000},
    sweep=tuple({"a": a, "b": b, "D": D, "eps": e, "samples": 50000}
                for a, b, D, e in ((1.0, 0.0, 1.0, 1e-2), (-7.0, 1.0, 10.0, 1e-7), (1000.0, 0.3, 1.0, 1e-6),
                                   (0.1, 0.0, 1.0, 1e-3), (2.0 ** 12, -2.0, 1.0, 1e-4), (2.0 ** 20, -2.0, 1.0, 1e-5))),
    run=_run_cos,
    build=lambda p: lcos.build_cos(float(p["a"]), float(p["b"]), float(p["D"]), float(p["eps"])),
    domain=lambda p: (-float(p["D"]), float(p["D"])),
    growth="L = O(log^2 1/ε + log(aD)), W <= 9, B <= 1",
    doc="docs/lemmas/lemma-F.3-cos.md",
    param_types={"a": float, "b": float, "D": float, "eps": float, "samples": int, "growth_to": float},
))
