"""Lemma F.4: the quotient a/b (docs/lemmas/lemma-F.4-quotient.md).

Checks: the Appendix F claim pattern and float64 rule (``verify.claims.common``).
V = A/b_min for the quotient.
"""

from __future__ import annotations

import mpmath
import numpy as np

from lemmas import quotient as lq
from lemmas import rec as lrec

from ..certify.highprec import net_mp
from ..certify.lemma_quotient import certify_quotient
from ..certify.twostage import twostage_check
from ..checks import SWEEP_EPS, allowance, counts_match, counts_of, err_check, growth_check, growth_line, local_search
from ..registry import Claim, register
from ..result import Check, Result
from .common import FMAX, float64_check, mutated, sweep_eps


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


def run_quotient(params: dict, rng: np.random.Generator, mutate=None) -> Result:
    A, b_min, b_max, eps = (float(params[k]) for k in ("A", "b_min", "b_max", "eps"))
    c = mutated(lq.build_quotient(A, b_min, b_max, eps), mutate)
    checks = quotient_checks(c, rng, n=int(params.get("samples", 6000)))
    cert = twostage_check("certified (two-stage: 1-D stages a, b and the exact separable product level, composed): "
                          "sup over |a| <= A, b ∈ [b_min, b_max] of |φ - a/b| <= ε (exact arithmetic on the stored "
                          "weights)", certify_quotient(c.net, A, b_min, b_max, eps), eps)
    checks.append(cert)
    # the float64 net on all of R^2: φ(a', b') = φ(clip(a'; -A, A), clip(b'; b_min, a_P))
    aP = c.params["a_P"]
    checks.append(float64_check(c, -FMAX, FMAX, ([-2 * A, 0.0], [2 * A, 1.25 * aP]), eps,
                                lambda X: np.clip(X[:, 0], -A, A) / np.clip(X[:, 1], b_min, aP), cert, V=A / b_min,
                                n_central=8, inner=[0.5 * A, b_min], domain_text="R^2 (outside the box: the clipped point)"))
    floor = _quotient_floor(A, b_min, b_max)
    lo = float(params.get("growth_to", floor))
    checks.append(growth_check(f"growth over ε = 1e-1..{lo:g} at fixed A, b range (float64 floor {floor:g})",
                               lambda e: lq.build_quotient(A, b_min, b_max, e), sweep_eps(lo),
                               {"L": 2.0, "W": 0.0, "S": 2.0, "log B": 0.0}, _quotient_sample_error,
                               lambda c: c.params["A"] / c.params["b_min"], floor))
    return Result("lemma-F.4-quotient", params, checks, counts=counts_of(c.net), formula=c.formula,
                  growth=growth_line(checks[-1], "the paper states that a network of some size exists (its formula was lost in extraction); ours L, S = O(log^2 1/ε) at fixed A, "
                                                 "b_min, b_max, W = 10P + 1"))


register(Claim(
    id="lemma-F.4-quotient",
    paper_ref="Lemma F.4 (quotient, used by Lemma 3.3)",
    statement=("For A > 0, 0 < b_min < b_max, |a| <= A, b ∈ [b_min, b_max] and any (a', b') ∈ R^2: |φ(a', b') - a/b| <= "
               "ε + |a' - a|/b_min + A|b' - b|/b_min^2.  φ = (A/b_min) ψ(clip(a'/A), b_min rec(b')) with rec of accuracy "
               "ε/(2A) on [b_min, b_max] and ψ the product block (m_q: (A/b_min) 2^-2m_q <= ε/2); "
               "L = H(m_r+1) + m_q + 4, W = 10P + 1, S and B by the formula in lemmas/quotient.py."),
    params={"A": 2.0, "b_min": 0.25, "b_max": 4.0, "eps": 1e-3},
    switches={"samples": 6000, "growth_to": None},
    sweep=tuple({"A": A, "b_min": lo, "b_max": hi, "eps": e, "samples": 20000}
                for A, lo, hi, e in ((1.0, 0.5, 1.0, 1e-6), (5.0, 0.1, 10.0, 1e-3), (1.0, 1e-2, 1.0, 1e-4),
                                     (0.5, 1.0, 1.0001, 1e-8)))
          + ({"A": 2.0, "b_min": 0.25, "b_max": 4.0, "eps": 1e-3, "samples": 6000, "growth_to": 1e-8},),
    run=run_quotient,
    build=lambda p: lq.build_quotient(float(p["A"]), float(p["b_min"]), float(p["b_max"]), float(p["eps"])),
    domain=lambda p: ((-float(p["A"]), float(p["b_min"])), (float(p["A"]), float(p["b_max"]))),
    growth="not stated; ours L, S = O(log^2 1/ε) at fixed A, b_min, b_max",
    doc="docs/lemmas/lemma-F.4-quotient.md",
    cost=4.0,
    param_types={"A": float, "b_min": float, "b_max": float, "eps": float, "samples": int, "growth_to": float},
))
