"""Lemma F.3: cos and sin (docs/lemmas/lemma-F.3-cos.md).

Checks: the Appendix F claim pattern and float64 rule (``verify.claims.common``).
V = 1 for cos and sin.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
from flint import arb

from lemmas import cos as lcos

from ..certify.enclosures import enclose_taylor_arb, enclose_taylor_cells, with_tight
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
COS_CERT_EPS = 1e-4
COS_CERT_AD = 6.0  # |a| D of the default (a = 3, D = 2): ~3e4 pieces at ε = 1e-4


def trig_enclosure(a: float, b: float, fn: str):
    """cos(a x - b) or sin(a x - b) (exact float a, b) as a Taylor enclosure in arb (verify.certify)."""
    A, B = arb(a), arb(b)
    if fn == "cos":
        return enclose_taylor_arb(lambda x: (A * x - B).cos(), lambda x: -A * (A * x - B).sin(),
                                  lambda x: -A * A * (A * x - B).cos())
    return enclose_taylor_arb(lambda x: (A * x - B).sin(), lambda x: A * (A * x - B).cos(),
                              lambda x: -A * A * (A * x - B).sin())


TRIG_CELLS = 4096  # cells of the vectorised enclosure: its Taylor remainder (a w)^4/24 is ~1e-13 for |a| D = 6


def trig_enclosure_fast(a: float, b: float, fn: str, lo: float, hi: float):
    """cos / sin(a x - b) on [lo, hi]: the vectorised Taylor-cell enclosure (``enclose_taylor_cells``, one
    arb_series per cell) carrying the per-box arb enclosure ``trig_enclosure`` as its tight fallback
    (``enclosures.with_tight``: computed by the branch-and-bound only on the boxes that can set the bound)."""
    A, B = arb(a), arb(b)
    series = (lambda x: [(A * x - B).cos()]) if fn == "cos" else (lambda x: [(A * x - B).sin()])
    fast, _ = enclose_taylor_cells(series, lo, hi, cells=TRIG_CELLS)
    return with_tight(fast, trig_enclosure(a, b, fn))


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


def run_cos(params: dict, rng: np.random.Generator, mutate=None) -> Result:
    a, b, D, eps = (float(params[k]) for k in ("a", "b", "D", "eps"))
    n = int(params.get("samples", 20000))
    c = mutated(lcos.build_cos(a, b, D, eps), mutate)
    checks = trig_checks(c, np.cos, rng, "cos", n=n)
    sn = mutated(lcos.build_sin(a, b, D, eps), mutate)
    checks += trig_checks(sn, np.sin, rng, "sin", n=n // 4, grid=5001)
    # the pieces grow like |a| D / ε^(1/2): beyond |a| D = COS_CERT_AD the auxiliary instance keeps a, b and
    # shrinks the domain to D' = COS_CERT_AD / |a|
    Da = D if abs(a) * D <= COS_CERT_AD else COS_CERT_AD / abs(a)
    for fn, build, net in (("cos", lcos.build_cos, c), ("sin", lcos.build_sin, sn)):
        seed = own_seed(net.net, -D, D)
        own = seed is not None
        cc = net if own else mutated(build(a, b, Da, max(eps, COS_CERT_EPS)), mutate)
        ea = eps if own else max(eps, COS_CERT_EPS)
        Dc = D if own else Da
        aux = "" if own else f" (auxiliary instance ε = {ea:g}" + ("" if Da == D else f", D = {Da:g}") + ")"
        chk = bnb_check(f"certified{aux}: sup over [-D, D] of |φ_{fn} - {fn}(a x - b)| <= {ea:g} (exact "
                        f"arithmetic on the stored weights)", cc, trig_enclosure_fast(a, b, fn, -Dc, Dc), [-Dc], [Dc], ea,
                        own, aux=not own, seed=seed if own else True)
        checks.append(chk)
        # the float64 net on all of R: cos(π g_s(t)) with t = α x + β, i.e. the target where t ∈ [0, 1], else 1
        al, be = net.notes["alpha"], net.notes["beta"]
        f = np.cos if fn == "cos" else np.sin
        t_ends = sorted(((0.0 - be) / al, (1.0 - be) / al))  # where t = α x + β ∈ [0, 1]: the folding region
        checks.append(float64_check(net, -FMAX, FMAX, (min(-D, t_ends[0]), max(D, t_ends[1])), eps, lambda X, f=f, al=al, be=be: np.where(
            (al * X[:, 0] + be >= 0) & (al * X[:, 0] + be <= 1), f(a * X[:, 0] - b), 1.0), chk if own else None,
            V=net.notes["V"], domain_text=f"R ({fn}; outside t ∈ [0, 1] the net's exact continuation is 1)"))
    floor = _cos_floor(a, b, D)
    lo = float(params.get("growth_to", floor))
    checks.append(growth_check(f"growth over ε = 1e-1..{lo:g} at fixed a, b, D (float64 floor {floor:g})",
                               lambda e: lcos.build_cos(a, b, D, e), sweep_eps(lo),
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
    params={"a": 3.0, "b": 0.5, "D": 2.0, "eps": 1e-6},
    switches={"samples": 20000, "growth_to": None},
    sweep=tuple({"a": a, "b": b, "D": D, "eps": e, "samples": 50000}
                for a, b, D, e in ((1.0, 0.0, 1.0, 1e-2), (-7.0, 1.0, 10.0, 1e-7), (1000.0, 0.3, 1.0, 1e-6),
                                   (0.1, 0.0, 1.0, 1e-3), (2.0 ** 12, -2.0, 1.0, 1e-4), (2.0 ** 20, -2.0, 1.0, 1e-5))),
    run=run_cos,
    build=lambda p: lcos.build_cos(float(p["a"]), float(p["b"]), float(p["D"]), float(p["eps"])),
    domain=lambda p: (-float(p["D"]), float(p["D"])),
    growth="L = O(log^2 1/ε + log(aD)), W <= 9, B <= 1",
    doc="docs/lemmas/lemma-F.3-cos.md",
    cost=45.0,
    param_types={"a": float, "b": float, "D": float, "eps": float, "samples": int, "growth_to": float},
))
