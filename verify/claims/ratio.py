"""Lemma F.4 in ratio form (``lemmas.ratio.build_ratio``; docs/lemmas/lemma-F.4-ratio.md).

Statement checked: for b ∈ [b_min, b_max] and |a| <= C b (the wedge), |φ(a, b) - a/b| <= ε.  Pattern of
``verify.claims.rec``: (1) counts read from the emitted matrices equal the builder's formula;
(2) the construction bound T_n + η K <= ε; (3) the error on a dense 2-D grid over the wedge (b log-spaced, a/b
uniform in [-C, C]), random points, the known worst cases (b at the break points, their float neighbours and
piece centres, a = ±C b, a = 0, a = ±C b 2^{-m}), a local search inside the wedge (coordinates (log b, a/(C b)));
(4) the perturbed-input form (a', b') near (a, b) with |a| <= C_0 b, C_0 = C/2; (5) points OUTSIDE the wedge
(|a| up to 4 C b) are evaluated and reported as not covered — nothing is claimed there (their error is in the grid
check's detail; ``outside=1`` adds them as a HYPOTHESIS VIOLATED set, like lemma-3.3's ``violate=1``); (6) growth of the counts
in log(1/ε) at fixed range and in log(b_max/b_min) at fixed ε, INCONCLUSIVE below the float64 floor; (7) a
60-digit evaluation (``verify.certify.highprec.net_mp``) of the stored network at the worst points.
Targets a/b come from numpy / mpmath, never from the network.
Float64 rule (``verify.checks``): τ = S · eps64 · C (the output's size is C); a bound below 1000 τ is INCONCLUSIVE.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

from lemmas import ratio as lr

from ..certify.highprec import net_mp
from ..certify.lemma_ratio import certify_ratio
from ..certify.twostage import twostage_check
from ..checks import (
    EPS64,
    SWEEP_EPS,
    allowance,
    counts_match,
    counts_of,
    err_check,
    fit_slope,
    growth_check,
    growth_line,
    local_search,
)
from ..registry import Claim, register
from ..result import Check, Result
from .common import float64_check, mutated


def wedge_points(C, b_min, b_max, rng, n):
    """n points of the wedge: b log-uniform (half) or uniform, a = C b u with u uniform in [-1, 1]."""
    b = np.where(rng.random(n) < 0.5, np.exp(rng.uniform(math.log(b_min), math.log(b_max), n)),
                 rng.uniform(b_min, b_max, n))
    return np.stack([C * b * rng.uniform(-1.0, 1.0, n), b], 1)


def ratio_checks(c, rng: np.random.Generator, n: int = 6000, grid: int = 161, outside: bool = False) -> list[Check]:
    net, eps = c.net, c.params["eps"]
    C, b_min, b_max = c.params["C"], c.params["b_min"], c.params["b_max"]
    tau = allowance(net, C)
    f = lambda X: net(X)[:, 0]  # noqa: E731
    err = lambda X: np.abs(f(X) - X[:, 0] / X[:, 1])  # noqa: E731
    meth = c.params.get("method", "horner")
    out = [counts_match(counts_of(net), c.formula, f"counts = formula ({meth} pieces: L, W, S, B of lemmas/ratio.py)")]
    shape = {k: c.params[k] for k in ("P", "m", "method", "n", "K_j") if k in c.params}
    out.append(Check(f"construction bound T + 2^-2m K <= ε ({meth} pieces)", bool(c.notes["error_bound"] <= eps),
                     c.notes["error_bound"], eps, shape))
    tb, tu = np.geomspace(b_min, b_max, grid), np.linspace(-1.0, 1.0, grid)
    U, Bg = np.meshgrid(tu, tb)
    G = np.stack([(C * Bg * U).ravel(), Bg.ravel()], 1)
    eg = err(G)
    out.append(err_check(f"dense grid {grid}x{grid} of the wedge (b geometric, a/(Cb) uniform)", eg, eps, tau, G))
    X = wedge_points(C, b_min, b_max, rng, n)
    e = err(X)
    out.append(err_check(f"random, {n} points of the wedge", e, eps, tau, X))
    bp = np.array([t for t in c.notes["break_points"] if t <= b_max] + [b_max, b_min])
    cen = 0.5 * (bp[:-1] + bp[1:])
    bs = np.concatenate([bp, np.nextafter(bp, 0), np.nextafter(bp, np.inf), cen])
    if "K_j" in c.params:  # chord pieces: each segment's error peaks at the geometric mean of its ends
        t = c.notes["break_points"]
        for j, K in enumerate(c.params["K_j"]):
            z = np.array(lr.chord_knots(t[j + 1] / t[j], K)[0])
            kn = t[j] + z * (t[j + 1] - t[j])
            bs = np.concatenate([bs, np.sqrt(kn[:-1] * kn[1:])])
    bs = bs[(bs >= b_min) & (bs <= b_max)]
    us = np.array([-1.0, 1.0, 0.0, 0.5, -2.0 ** -c.params["m"], 2.0 ** -c.params["m"]])
    Uw, Bw = np.meshgrid(us, bs)
    K = np.stack([(C * Bw * Uw).ravel(), Bw.ravel()], 1)
    K = K[np.abs(K[:, 0]) <= C * K[:, 1]]
    out.append(err_check(f"known worst cases: a/(Cb) ∈ {{±1, 0, 1/2, ±2^-m}} x b ∈ {{b_min, b_max, break points "
                         f"(and neighbours), piece centres, chord segments' geometric midpoints}} ({len(K)})", err(K),
                         eps, tau, K))
    # local search in (log b, u = a/(C b)): the wedge is a box there
    to = lambda Y: np.stack([C * np.exp(Y[:, 0]) * Y[:, 1], np.exp(Y[:, 0])], 1)  # noqa: E731
    top = X[np.argsort(-e)[:16]]
    Y0 = np.stack([np.log(top[:, 1]), top[:, 0] / (C * top[:, 1])], 1)
    Ys = local_search(lambda Y: err(to(Y)), Y0, np.array([math.log(b_min), -1.0]), np.array([math.log(b_max), 1.0]),
                      rng)
    Ls = to(Ys)
    Ls = Ls[(Ls[:, 1] >= b_min) & (Ls[:, 1] <= b_max) & (np.abs(Ls[:, 0]) <= C * Ls[:, 1])]
    out.append(err_check("local search inside the wedge from the 16 worst random points", err(Ls), eps, tau, Ls))
    # perturbed-input form: (a, b) in the C_0-wedge, (a', b') with |a'-a| + C_0|b'-b| <= (C - C_0) b'
    m = n // 2
    C0 = C / 2
    xs = wedge_points(C0, b_min, b_max, rng, m)
    xs[: m // 4, 0] = C0 * xs[: m // 4, 1] * rng.choice([-1.0, 1.0], m // 4)
    bp_ = np.clip(xs[:, 1] * np.exp(rng.normal(size=m) * np.exp(rng.uniform(-20, -1, m))), b_min, b_max)
    room = (C - C0) * bp_ - C0 * np.abs(bp_ - xs[:, 1])
    ok = room > 0
    xs, bp_, room = xs[ok], bp_[ok], room[ok]
    ap_ = xs[:, 0] + room * rng.uniform(-1.0, 1.0, len(xs))
    lip = (np.abs(ap_ - xs[:, 0]) + C0 * np.abs(bp_ - xs[:, 1])) / bp_
    viol = np.abs(f(np.stack([ap_, bp_], 1)) - xs[:, 0] / xs[:, 1]) - lip
    out.append(err_check(f"perturbed input (C_0 = C/2): |φ(a', b') - a/b| - (|a'-a| + C_0|b'-b|)/b' <= ε "
                         f"({len(xs)} pairs)", viol, eps, tau, np.concatenate([xs, ap_[:, None], bp_[:, None]], 1)))
    # outside the wedge: reported, not claimed
    Ob = np.exp(rng.uniform(math.log(b_min), math.log(b_max), 2000))
    Oa = C * Ob * rng.uniform(1.0, 4.0, 2000) * rng.choice([-1.0, 1.0], 2000)
    eo = np.abs(f(np.stack([Oa, Ob], 1)) - Oa / Ob)
    info = {"reason": "outside the hypotheses |a| <= C b: nothing is claimed", "n": 2000,
            "max_error": float(np.max(eo)), "fraction_above_eps": float(np.mean(eo > eps))}
    out[2].detail["outside_wedge_not_claimed"] = info  # reported beside the grid check, never judged
    if outside:
        out.append(Check("outside the wedge (C b < |a| <= 4 C b, 2000 points): not covered by the statement",
                         None, float(np.max(eo)), eps, info, violated=True))
    pts = [G[int(np.argmax(eg))], Ls[int(np.argmax(err(Ls)))] if len(Ls) else G[0], np.array([C * b_min, b_min]),
           np.array([-C * b_max, b_max])]
    with mpmath.workdps(60):
        mp_err = max(abs(net_mp(net, p)[0] - mpmath.mpf(float(p[0])) / mpmath.mpf(float(p[1]))) for p in pts)
    out.append(Check("60-digit evaluation at the worst grid / local-search points, (C b_min, b_min), (-C b_max, "
                     "b_max): error <= ε", bool(mp_err <= eps), float(mp_err), eps,
                     {"points": [p.tolist() for p in pts]}, None if mp_err <= eps else {"x": [p.tolist() for p in pts]}))
    return out


def _sample_error(c, e=None):
    C, b_min, b_max = c.params["C"], c.params["b_min"], c.params["b_max"]
    X = wedge_points(C, b_min, b_max, np.random.default_rng(1), 1500)
    X = np.concatenate([X, [[C * b_min, b_min], [-C * b_min, b_min], [C * b_max, b_max]]])
    return np.max(np.abs(c.net(X)[:, 0] - X[:, 0] / X[:, 1]))


def ratio_floor(C, b_min, b_max, method: str = "auto") -> float:
    """The smallest ε of SWEEP_EPS that float64 decides: ε >= 1000 τ = 1000 S eps64 C and the builder's floor."""
    best = SWEEP_EPS[0]
    P = lr.ratio_params(C, b_min, b_max, 0.1)["P"]
    for e in SWEEP_EPS:
        if e < lr.RATIO_MIN_REL * C * P:
            break
        if e >= 1000 * lr.ratio_formula(C, lr.ratio_params(C, b_min, b_max, e, method))["S"] * EPS64 * C:
            best = e
        else:
            break
    return best


def range_growth(C: float, eps: float, rng, method: str = "auto") -> Check:
    """Counts over b_max / b_min = 2^2 .. 2^40 at fixed C, ε (b_max = 1): counts = formula, sampled error <= ε,
    and the fitted exponent of S against log(b_max/b_min) (claimed: 1, up to the log^2 of P in n, m)."""
    rows, ok = [], True
    for k in (2, 5, 10, 20, 30, 40):
        c = lr.build_ratio(C, 2.0 ** -k, 1.0, eps, method)
        cnt = counts_of(c.net)
        er = float(_sample_error(c))
        tau = allowance(c.net, C)
        good = cnt == c.formula and er <= eps + tau
        ok &= good
        rows.append({"log2(b_max/b_min)": k, "P": c.params["P"], "method": c.params["method"],
                     "n or max K_j": c.params["n"] if "n" in c.params else max(c.params["K_j"]), "m": c.params["m"], **cnt,
                     "error": er, "status": "PASS" if good else "FAIL"})
    ks = [r["log2(b_max/b_min)"] for r in rows]
    sl = {k: fit_slope(ks, [r[k] for r in rows]) for k in ("L", "W", "S")}
    over = sl["S"] > 1.5
    return Check(f"growth in log(b_max/b_min) = 2..40 bits at C = {C}, ε = {eps}: counts = formula, error <= ε, "
                 "S exponent <= 1.5 (claimed ~1)", bool(ok and not over), sl["S"], 1.5,
                 {"table": rows, "fitted_exponent_vs_log(b_max/b_min)": sl},
                 None if ok and not over else {"rows": [r for r in rows if r["status"] == "FAIL"], "slopes": sl})


def drop_piece(j: int):
    """A mutant: the output map without piece j's product (its units in the last hidden layer: 9 for the three-square
    products of the Horner pieces, 6 for the two-square products of the chord pieces; the carry's unit is last)."""
    from constructions.affine import Affine
    from constructions.fnn import FNN
    from lemmas.base import Construction

    def mut(c):
        maps = c.net.affine_maps()
        (r, col, v), b, shape = maps[-1]
        P = c.params["P"]
        u, i = (shape[1] - 1) // P, j % P  # j < 0 counts from the last piece
        keep = ~((col >= u * i) & (col < u * i + u))
        net = FNN([Affine.from_coo(rr, cc, vv, sh, bb) for (rr, cc, vv), bb, sh in maps[:-1]]
                  + [Affine.from_coo(r[keep], col[keep], v[keep], shape, b)])
        return Construction(net, c.formula, c.params, c.notes)
    return mut


def own_mutants(p: dict) -> list:
    from lemmas.base import Construction
    C, lo, hi, eps = (float(p[k]) for k in ("C", "b_min", "b_max", "eps"))
    meth = str(p.get("method", "auto"))
    return [("piece 0 dropped from the output", "drop term", drop_piece(0)),
            ("the net built for 30 ε", "undersized network",
             lambda c: Construction(lr.build_ratio(C, lo, hi, min(30 * eps, 0.5), meth).net, c.formula, c.params,
                                    c.notes))]


def run_ratio(params: dict, rng: np.random.Generator, mutate=None) -> Result:
    C, b_min, b_max, eps = (float(params[k]) for k in ("C", "b_min", "b_max", "eps"))
    meth = str(params.get("method", "auto"))
    c = mutated(lr.build_ratio(C, b_min, b_max, eps, meth), mutate)
    checks = ratio_checks(c, rng, n=int(params.get("samples", 6000)), outside=bool(int(params.get("outside", 0))))
    cert = twostage_check("certified (two-stage per cell of b: exact α_j, branch-and-bound β_j, exact separable "
                          "ψ level, composed): sup over the wedge |a| <= C b, b ∈ [b_min, b_max] of |φ - a/b| <= ε "
                          "(exact arithmetic on the stored weights)",
                          certify_ratio(c.net, C, b_min, b_max, eps, c.notes["break_points"]), eps)
    checks.append(cert)
    # the float64 net over the wedge's bounding box (E_fl there bounds it on the wedge); the extreme inputs of the
    # wedge: its corners, a = ±0, subnormal a
    bs = np.array([b_min, np.nextafter(b_min, np.inf), 1.0, b_max])
    wedge = np.concatenate([np.stack([s * C * bs, bs], 1) for s in (1.0, -1.0)] +
                           [np.stack([np.full(4, v), bs], 1) for v in (0.0, -0.0, 5e-324, -5e-324)])
    checks.append(float64_check(c, [-C * b_max, b_min], [C * b_max, b_max], ([-C * b_max, b_min], [C * b_max, b_max]),
                                eps, lambda X: X[:, 0] / X[:, 1], cert, V=C, n_central=16, points=wedge,
                                domain_text="the wedge's bounding box [-C b_max, C b_max] x [b_min, b_max]"))
    # the growth statement is the Horner pieces' (polylog in 1/ε); "auto" emits min(S_horner, S_chord) <= it.
    # The chord pieces alone grow like ε^{-1/2} per piece (no polylog claim; docs/lemmas/lemma-F.4-ratio.md).
    gm = "horner"
    floor = ratio_floor(C, b_min, b_max, gm)
    lo = float(params.get("growth_to", max(floor, 1e-6)))
    checks.append(growth_check(f"growth over ε = 1e-1..{lo:g} at fixed C, b range, {gm} pieces (float64 floor "
                               f"{floor:g})", lambda e: lr.build_ratio(C, b_min, b_max, e, gm),
                               tuple(e for e in SWEEP_EPS if e >= lo * (1 - 1e-12)),
                               {"L": 2.0, "W": 0.0, "S": 2.0, "log B": 0.0}, _sample_error,
                               lambda c: c.params["C"], floor))
    if int(params.get("range_growth", 1)):
        checks.append(range_growth(C, 1e-3, rng, meth))
    return Result("lemma-F.4-ratio", params, checks, counts=counts_of(c.net), formula=c.formula,
                  growth=growth_line(checks[-2] if int(params.get("range_growth", 1)) else checks[-1],
                                     "the paper states that a network of some size exists (its formula was lost in extraction); ours L, S = O(log^2 1/ε) at fixed range, "
                                     "S ~ linear in log(b_max/b_min)"))


register(Claim(
    id="lemma-F.4-ratio",
    paper_ref="Lemma F.4 (quotient), ratio form used by Lemma 3.3",
    statement=("For C > 0, 0 < b_min < b_max, b ∈ [b_min, b_max] and |a| <= C b: |φ(a, b) - a/b| <= ε; perturbed form "
               "|φ(a', b') - a/b| <= ε + (|a'-a| + C_0|b'-b|)/b' when |a| <= C_0 b, b' ∈ [b_min, b_max], |a'-a| + "
               "C_0|b'-b| <= (C - C_0) b'.  a/b = a/t_P + Σ_j (a/t_j) h_j(b) over geometric pieces, each h_j to "
               "relative accuracy (rec's Horner), times clip(a/(C r_j t_j)) by one product level; L = (H+1)(m+1)+3, "
               "W = 11P+1, S and B by the formula in lemmas/ratio.py.  Nothing claimed outside the wedge."),
    params={"C": 1.0, "b_min": 1e-3, "b_max": 2.0, "eps": 1e-3, "method": "auto"},
    switches={"samples": 6000, "growth_to": None, "range_growth": 1, "outside": 0},
    sweep=tuple({"C": C, "b_min": lo, "b_max": hi, "eps": e, "samples": 20000, "range_growth": 0}
                for C, lo, hi, e in ((1.0, 0.5, 1.0, 1e-6), (3.0, 1e-6, 10.0, 1e-3), (1.05, 2.0 ** -30, 1.0, 2.5e-2),
                                     (0.5, 1.0, 1.0001, 1e-8)))
          + ({"C": 1.0, "b_min": 1e-3, "b_max": 2.0, "eps": 1e-3, "samples": 6000, "growth_to": 1e-8},),
    run=run_ratio,
    domain=lambda p: ((-float(p["C"]) * float(p["b_min"]), float(p["b_min"])),
                      (float(p["C"]) * float(p["b_min"]), float(p["b_max"]))),
    build=lambda p: lr.build_ratio(float(p["C"]), float(p["b_min"]), float(p["b_max"]), float(p["eps"]),
                                   str(p.get("method", "auto"))),
    mutants=own_mutants,
    growth="not stated; ours L, S = O(log^2 1/ε) at fixed range, S = O(log(b_max/b_min)) at fixed ε",
    doc="docs/lemmas/lemma-F.4-ratio.md",
    cost=2.0,
    param_types={"C": float, "b_min": float, "b_max": float, "eps": float, "samples": int, "growth_to": float,
                 "range_growth": int, "outside": int, "method": ("auto", "horner", "chord")},
))
