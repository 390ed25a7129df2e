"""Lemma F.3: e^{-x} on x >= 0 (docs/lemmas/lemma-F.3-exp.md).

Checks: the Appendix F claim pattern and float64 rule (``verify.claims.common``).
"""

from __future__ import annotations

import mpmath
import numpy as np

from lemmas import exp as lexp

from ..certify.enclosures import enclose_exp_neg
from ..certify.highprec import net_mp
from ..certify.tails import certify_decreasing_tail
from ..checks import SWEEP_EPS, allowance, counts_match, counts_of, err_check, growth_check, growth_line, local_search
from ..registry import Claim, register
from ..result import Check, Result
from .common import CERT_EPS_AUX, FMAX, bnb_check, f64_vs_arb, float64_check, mutated, own_seed, rebuilt


def exp_checks(c, rng: np.random.Generator, n: int = 20000, grid: int = 20001) -> list[Check]:
    net, eps, A = c.net, c.params["eps"], c.params["A"]
    tau = allowance(net, 1.0)
    f = lambda X: net(X)[:, 0]  # noqa: E731
    err = lambda X: np.abs(f(X) - np.exp(-X[:, 0]))  # noqa: E731
    out = [counts_match(counts_of(net), c.formula, "counts = formula")]
    G = np.linspace(0.0, 1.5 * A, grid)[:, None]
    out.append(err_check(f"dense grid of [0, 1.5A] ({grid} points)", err(G), eps, tau, G))
    X = np.concatenate([rng.uniform(0, A, (n // 2, 1)), rng.exponential(A, (n // 2, 1))])
    e = err(X)
    out.append(err_check(f"random, {n} points (uniform on [0, A], exponential tail)", e, eps, tau, X))
    ends = np.array([[0.0], [A], [np.nextafter(A, 0)], [2 * A], [1e3], [1e12], [1e18], [1e300], [FMAX],
                     [A / 2 ** c.params["s"]]])
    out.append(err_check("ends: 0, A, beyond A, huge x (up to the largest float)", err(ends), eps, tau, ends))
    top = X[np.argsort(-e)[:16]]
    Ls = local_search(err, top, 0.0, 2 * A, rng)
    out.append(err_check("local search from the 16 worst random points", err(Ls), eps, tau, Ls))
    xs = np.concatenate([rng.uniform(0, A, n // 4), rng.uniform(0, 0.1, n // 8)])
    r = np.exp(rng.uniform(np.log(1e-6), np.log(5.0), xs.size))
    xp = xs + r * rng.choice([-1.0, 1.0], xs.size)
    viol = np.abs(f(xp[:, None]) - np.exp(-xs)) - np.abs(xp - xs)
    out.append(err_check(f"perturbed input: |φ(x') - e^-x| - |x' - x| <= ε, x' may be < 0 ({xs.size} pairs)", viol,
                         eps, tau, np.stack([xs, xp], 1)))
    # worst case near x = A and beyond in 60-digit arithmetic (network from its coordinates, target by mpmath)
    pts = [float(G[int(np.argmax(err(G))), 0]), A, 2 * A]
    with mpmath.workdps(60):
        mp_err = max(abs(net_mp(net, [x])[0] - mpmath.exp(-mpmath.mpf(x))) for x in pts)
    out.append(Check("60-digit evaluation at the worst grid point, A and 2A: error <= ε", bool(mp_err <= eps),
                     float(mp_err), eps, {"points": pts}, None if mp_err <= eps else {"x": pts}))
    return out


def _exp_sample_error(c, e):
    A = c.params["A"]
    x = np.concatenate([np.linspace(0, 1.2 * A, 3001), [A, 10 * A]])[:, None]
    return np.max(np.abs(c.net(x)[:, 0] - np.exp(-x[:, 0])))


def run_exp(params: dict, rng: np.random.Generator, mutate=None) -> Result:
    eps = float(params["eps"])
    c = mutated(lexp.build_exp(eps), mutate)
    checks = exp_checks(c, rng, n=int(params.get("samples", 20000)))
    checks.append(f64_vs_arb(c, rng.uniform(0, 1.2 * c.params["A"], (100, 1)), 1.0))
    # the claim's own net when its breakpoint-seeded certificate fits CERT_WORK_MAX, else ε = 1e-2
    seed = own_seed(c.net, 0.0, 64 * c.params["A"])
    own = seed is not None
    ca = c if own else mutated(lexp.build_exp(CERT_EPS_AUX), mutate)
    ea = eps if own else CERT_EPS_AUX
    A = ca.params["A"]
    # [0, 64A] by branch-and-bound; [64A, ∞) by an exact proof that the net is constant there (certify.py)
    tail = certify_decreasing_tail(ca.net, 64 * A, lambda x: (-x).exp(), 0.0, ea)
    chk = bnb_check(f"certified{'' if own else f' (auxiliary instance ε = {ea:g})'}: sup over x >= 0 of "
                f"|φ_exp - e^-x| <= {ea:g} ([0, 64A] by branch-and-bound, [64A, ∞) exactly constant; exact "
                f"arithmetic on the stored weights)", ca, enclose_exp_neg, [0.0], [64 * A], ea,
                own and tail["proved"], aux=not own, seed=seed if own else True)
    chk.detail["tail_[64A,inf)"] = tail
    if not tail["proved"] and chk.passed:
        chk.passed = None
        chk.certified = False
        chk.detail["reason"] = f"[0, 64A] certified but the tail x > 64A is not: {tail.get('reason')}"
    elif chk.passed and chk.measured is not None:
        chk.measured = max(chk.measured, tail["bound"])
    checks.append(chk)
    # the float64 net on all of R (φ(x') = φ(clip(x'; 0, A)): the target e^{-max(x, 0)})
    checks.append(float64_check(c, -FMAX, FMAX, (0.0, 2 * c.params["A"]), eps, lambda X: np.exp(-np.maximum(X[:, 0], 0)),
                                chk if own else None, inner=1.0))
    checks.append(growth_check("growth over ε = 1e-1..1e-8", lexp.build_exp, SWEEP_EPS,
                               {"L": 2.0, "W": 0.0, "S": 2.0, "log B": 1.0}, _exp_sample_error,
                               lambda c: 1.0, lexp.MIN_EPS))
    return Result("lemma-F.3-exp", params, checks, counts=counts_of(c.net), formula=c.formula,
                  growth=growth_line(checks[-1], "L = O(log^2 1/ε), W = O(log 1/ε), S = O(log^2 1/ε), B = O(log 1/ε)"))


register(Claim(
    id="lemma-F.3-exp",
    paper_ref="Lemma F.3 (exp) (Oko et al. 2023 Lemma F.12)",
    statement=("For 0 < ε < 1, x >= 0 and any x' ∈ R: |φ_exp(x') - e^{-x}| <= ε + |x' - x|.  φ = clip to [0, A], A = ln(2/ε), "
               "Horner for e^{-rz} (degree n) with approximate products, then s squarings; L = (n-1+s)(m+1) + 2, W = 10, "
               "B = max(4, A), S by the formula in lemmas/exp.py; the clip is the float-robust A - ρ(A - ρ(x)), so L = (n-1+s)(m+1) + 3."),
    params={"eps": 1e-6},
    switches={"samples": 20000},
    sweep=tuple({"eps": e, "samples": 100000} for e in (0.5, 1e-2, 1e-5, 1e-8, 1e-10)),
    run=run_exp,
    domain=lambda p: (0.0, lexp.exp_params(float(p["eps"]))["A"]),
    build=lambda p: lexp.build_exp(float(p["eps"])),
    growth="L = O(log^2 1/ε), W = O(1), S = O(log^2 1/ε), B = O(log 1/ε)",
    doc="docs/lemmas/lemma-F.3-exp.md",
    cost=25.0,
    param_types={"eps": float, "samples": int},
    mutants=lambda p: [("coarser net: the builder at 100 ε (fewer sawtooth levels, terms, squarings)", "remove level",
                        rebuilt(lambda q: lexp.build_exp(min(0.5, 100 * q["eps"]))))],
))
