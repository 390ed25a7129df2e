"""Theorem I.2 (Appendix I.1), a concrete instance: fixed important positions (docs/regression.md).

The model of ``lemmas.fixed_positions`` (Emb -> one SSM layer whose channel j picks position -j -> token-wise FNN
Σ_j c_j φ(y_j - 1/2)) is checked against the target f(X) = Σ_{j>=0} c_0 (j + 1)^{-p} sin(2π x_{-j}) of
``verify.gamma_smooth`` on infinite sequences: a stored window of N >= U tokens (or fewer: zero padding) and a
constant value t at every earlier position, whose exact contribution sin(2π t) c_0 ζ(p, N + 1) the reference adds.
  (1) counts read from the emitted weights (f: L, W, S, B; window, channels, state sizes, SSM nonzeros) equal the
      builder's formula (the cosine filters' nonzeros as a bound);
  (2) the filters pick the positions: |k^{(j)}_s - 1{s = j}| <= η for every channel and tap (η = cos^n(π/U) for the
      cosine-sum filter, 0 for dft / delay), plus the float64 rounding of the materialised taps;
  (3) the error budget: U is minimal with c_0 ζ(p, U + 1) <= ε/2 (and the measured tail part |f - f_U| <= ε/2 on
      every input, attained at t = 1/4), the construction bound (tail + C_U (ε_φ + 2π ρ_U)) <= ε;
  (4) sup error |F(X)_0 - f(X)| <= ε (and the window part |F - f_U| <= ε/2) on random sequences, short sequences
      (N < U: first positions), constant sequences x = 1/4, 3/4 (tail extremal), one important token at the window
      edge (position -(U - 1)) or at the last position, and a local search from the worst random points;
  (5) the three filters side by side (cosine, dft, delay): counts, state sizes and measured error;
  (6) certificates (exact arithmetic on the stored weights): the whole model when the filter is ``delay`` (exact
      delays, Σ_j per-block branch-and-bound + arb tail: ``verify.certify.lemma_fixed_positions``; CERTIFIED), else
      the same certificate of the delay twin (auxiliary); and the F.3 net φ on its whole domain (the cosine / dft
      taps are float rotations, bounded by check (2) only);
  (7) growth: exact counts over ε (formula; built and compared for the larger ε) with fitted exponents: log S
      against log(1/ε) beside 1/(p - 1) (the number of positions U) and log(S/U) against log log(1/ε).
Float64: the compared values are O(C_U); the allowance τ = S eps64 C_U of ``verify.checks.allowance`` is added.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from flint import arb

from constructions.model import SSMModel
from lemmas import fixed_positions as lfp
from lemmas.base import Construction

from .. import gamma_smooth as gs
from ..certify.enclosures import enclose_taylor_arb
from ..certify.lemma_fixed_positions import certify_delay_model
from ..checks import EPS64, allowance, counts_match, err_check, fit_slope, local_search
from ..registry import Claim, register
from ..result import Check, Result
from .common import bnb_check


def sin_enclosure():
    """sin(2π y) on 1-D boxes (arb)."""
    a = 2 * arb.pi()
    return enclose_taylor_arb(lambda x: (a * x).sin(), lambda x: a * (a * x).cos(), lambda x: -a * a * (a * x).sin())


def window_target(c, Xw: np.ndarray, t) -> tuple[np.ndarray, np.ndarray]:
    """(f(X), f_U(X)) for windows Xw (n, N) (last column = position 0) preceded by the constant t (scalar or (n,))."""
    c0, p, U = c.params["c0"], c.params["p"], c.params["U"]
    N = Xw.shape[1]
    cf = gs.fixed_coefficients(c0, p, N)
    S = np.sin(2.0 * math.pi * Xw[:, ::-1])
    fU = S[:, :min(U, N)] @ cf[:min(U, N)]
    f = S @ cf + np.sin(2.0 * math.pi * np.asarray(t, dtype=np.float64)) * float(gs.tail_sum(c0, p, N))
    if N < U:  # positions N..U-1 inside the window hold t as well
        fU = fU + np.sin(2.0 * math.pi * np.asarray(t, dtype=np.float64)) * float(
            gs.tail_sum(c0, p, N) - gs.tail_sum(c0, p, U))
    return f, fU


def model_on(c, Xw: np.ndarray, t) -> np.ndarray:
    """F(X)_0 for the same infinite sequences: the model reads the last U positions (window U); shorter windows are
    completed with t."""
    U = c.params["U"]
    N = Xw.shape[1]
    if N < U:
        pad = np.broadcast_to(np.asarray(t, dtype=np.float64).reshape(-1, 1), (len(Xw), U - N))
        Xw = np.concatenate([pad, Xw], axis=1)
    return lfp.last(c.net, Xw[:, -U:])


def error_checks(c, name: str, sets: list[tuple[str, np.ndarray, np.ndarray]], eps: float) -> tuple[list[Check], float]:
    tau = allowance(c.net.blocks[0][1], c.notes["C_U"])
    out, worst = [], 0.0
    for label, Xw, t in sets:
        F = model_on(c, Xw, t)
        f, fU = window_target(c, Xw, t)
        e = np.abs(F - f)
        pts = np.concatenate([Xw, np.broadcast_to(t, (len(Xw),))[:, None]], axis=1)
        out.append(err_check(f"{name}{label}: |F(X)_0 - f(X)| <= ε ({len(Xw)} sequences)", e, eps, tau, pts))
        out.append(err_check(f"{name}{label}: window part |F - f_U| <= ε/2", np.abs(F - fU), eps / 2, tau, pts))
        worst = max(worst, float(np.max(e)))
    return out, worst


def input_sets(c, rng, n: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    U = c.params["U"]
    N = U + 5
    sets = [("random, N = U + 5, t random", rng.uniform(0, 1, (n, N)), rng.uniform(0, 1, n)),
            ("random, N = U + 5, zero padding", rng.uniform(0, 1, (n, N)), np.zeros(n))]
    for k in range(1, min(U, 8) + 1):  # short sequences: the first positions, zero padding before them
        Xs = rng.uniform(0, 1, (max(1, n // 8), k))
        sets.append((f"short: N = {k}, zero padding", Xs, np.zeros(len(Xs))))
    for v in (0.25, 0.75):
        sets.append((f"constant x = t = {v} (tail extremal)", np.full((1, N), v), np.full(1, v)))
    edge = np.zeros((4, U))
    edge[:, 0] = [0.25, 0.75, 0.25, 0.75]  # position -(U - 1): the window edge
    sets.append(("one important token at the window edge -(U-1), tail t = 1/4, 3/4", edge,
                 np.array([0.25, 0.75, 0.75, 0.25])))
    last = np.zeros((2, U))
    last[:, -1] = [0.25, 0.75]
    sets.append(("one token at the last position 0", last, np.zeros(2)))
    return sets


def local_set(c, rng, Xw, t, k: int = 8):
    """A local search over (window, t) from the k worst rows."""
    U = c.params["U"]

    def err(P):
        F = model_on(c, P[:, :-1], P[:, -1])
        return np.abs(F - window_target(c, P[:, :-1], P[:, -1])[0])

    P = np.concatenate([Xw[:, -U:], t[:, None]], axis=1)
    top = P[np.argsort(-err(P))[:k]]
    L = local_search(err, top, 0.0, 1.0, rng, steps=20)
    return [("local search from the worst random sequences", L[:, :-1], L[:, -1])]


def mutated_model(c, mutate):
    """The self-test's mutant applied to the model: SSM-level mutants (channels, window) to the SSMModel, FNN-level
    ones (weights, biases) to its token-wise FNN f (the mutation hook sees each as a construction of its own)."""
    if mutate is None:
        return c
    c = mutate(c)
    g, f = c.net.blocks[0]
    fm = mutate(Construction(f, {}, {}, {}))
    if fm.net is not f:
        c = dataclasses.replace(c, net=SSMModel(c.net.embedding, [(g, fm.net)]))
    return c


def filter_check(c) -> Check:
    U, eta = c.params["U"], c.notes["eta"]
    k = c.net.blocks[0][0].filters(U)
    dev = np.abs(k - np.eye(U))
    J = c.notes["J"]
    tol = 8 * J * U * EPS64 if c.params["filter"] != "delay" else 0.0
    i = np.unravel_index(int(np.argmax(dev)), dev.shape)
    m = float(dev[i])
    ok = m <= eta + tol
    return Check(f"filters pick the positions: max_(j,s) |k^(j)_s - 1{{s = j}}| <= η = {eta:.3g} "
                 f"(+ rounding {tol:.2g})", bool(ok), m, eta + tol,
                 {"argmax (channel j, tap s)": [int(i[0]), int(i[1])], "n": c.params["n"], "filter": c.params["filter"]},
                 None if ok else {"channel": int(i[0]), "tap": int(i[1]), "deviation": m})


def budget_checks(c) -> list[Check]:
    c0, p, eps, U = c.params["c0"], c.params["p"], c.params["eps"], c.params["U"]
    t_U = float(lfp.tail(c0, p, U))
    t_prev = float(lfp.tail(c0, p, U - 1)) if U > 1 else math.inf
    out = [Check("window U minimal for the tail: c_0 ζ(p, U + 1) <= ε/2 < c_0 ζ(p, U)", bool(t_U <= eps / 2 < t_prev),
                 t_U, eps / 2, {"U": U, "tail(U - 1)": t_prev}),
           Check("construction bound: tail + C_U (ε_φ-bound + 2π ρ_U) <= ε", bool(c.notes["error_bound"] <= eps),
                 c.notes["error_bound"], eps, {k: c.notes[k] for k in ("tail", "C_U", "phi_error_bound", "rho_U", "eta")})]
    # the tail part of the error is a property of U alone, attained at t = 1/4 on every position >= U
    f, fU = window_target(c, np.full((1, U), 0.25), np.full(1, 0.25))
    m = float(abs(f[0] - fU[0]))
    out.append(Check("measured tail part |f - f_U| at x_{-j} = 1/4 (j >= U) <= ε/2", bool(m <= eps / 2), m, eps / 2))
    return out


def counts_check(c, name: str) -> Check:
    """Counts read from the weights = formula (a ``*_max`` key of the formula is a bound on the count ``*``)."""
    m = lfp.model_counts(c.net)
    m.update({k: None for k in c.formula if k.endswith("_max")})
    return counts_match(m, c.formula, name)


def model_certificate(cd, own: bool) -> Check:
    """The whole-model certificate of a delay-filter model (``verify.certify.lemma_fixed_positions``): exact Emb and
    delays, per-block branch-and-bound at c_j ε_φ, arb tail; it certifies the claim when the claim's filter is
    ``delay``, else it is reported for the delay twin (an auxiliary instance)."""
    p = cd.params
    parts = lfp.coefficients(p["c0"], p["p"], p["U"]) * cd.notes["eps_phi"]
    r = certify_delay_model(cd.net, p["c0"], p["p"], parts)
    eps = p["eps"]
    name = ("certified" + ("" if own else " (auxiliary: the delay-filter twin)") + ": sup over X ∈ [0,1]^{Z<=0} of "
            "|F(X)_0 - f(X)| <= ε (exact delays; Σ_j per-block branch-and-bound + arb tail; exact arithmetic on the "
            "stored weights)")
    if not r["certified"]:
        return Check(name, None, detail=r)
    ok = r["bound"] <= eps
    chk = Check(name, bool(ok), r["bound"], eps, r, None if ok else {"bound": r["bound"]})
    chk.certified = own and ok
    if not own:
        chk.detail["aux_measured"], chk.detail["aux_bound"] = chk.measured, chk.bound
        chk.measured = chk.bound = None
    return chk


def growth_rows(c0: float, p: float, filt: str, eps_list, build_above: float) -> tuple[list[dict], dict]:
    rows = []
    for e in eps_list:
        pr = lfp.fixed_params(c0, p, e, filt)
        F = lfp.fixed_formula(c0, p, e, filt, pr)
        row = {"eps": e, "U": F["U"], "L": F["L"], "W": F["W"], "S": F["S"], "state_total": F["state_total"],
               "n": pr["n"]}
        if e >= build_above:
            cc = lfp.build_fixed_positions(c0, p, e, filt)
            row["counts_equal_formula"] = counts_check(cc, "").passed
        rows.append(row)
    le = [math.log(1 / r["eps"]) for r in rows]
    slopes = {"S vs 1/ε (power)": fit_slope([1 / r["eps"] for r in rows], [r["S"] for r in rows]),
              "U vs 1/ε (power)": fit_slope([1 / r["eps"] for r in rows], [r["U"] for r in rows]),
              "S/U vs log(1/ε)": fit_slope(le, [r["S"] / r["U"] for r in rows]),
              "L vs log(1/ε)": fit_slope(le, [r["L"] for r in rows]),
              "state vs 1/ε (power)": fit_slope([1 / r["eps"] for r in rows], [r["state_total"] for r in rows])}
    return rows, slopes


def run_fixed(params: dict, rng: np.random.Generator, mutate=None) -> Result:
    c0, p, eps, filt = float(params["c0"]), float(params["p"]), float(params["eps"]), str(params["filter"])
    n = int(params.get("samples", 600))
    c = mutated_model(lfp.build_fixed_positions(c0, p, eps, filt), mutate)
    checks = [counts_check(c, f"counts = formula ({filt} filter)"), filter_check(c)] + budget_checks(c)
    sets = input_sets(c, rng, n)
    errs, worst = error_checks(c, "", sets, eps)
    checks += errs
    loc, w2 = error_checks(c, "", local_set(c, rng, sets[0][1], sets[0][2]), eps)
    checks += loc
    worst = max(worst, w2)
    tau = allowance(c.net.blocks[0][1], c.notes["C_U"])
    checks.append(Check("sup error over every input set above: |F(X)_0 - f(X)| <= ε (+ τ)", bool(worst <= eps + tau),
                        worst, eps, {"float64_allowance": tau}))
    # the three filters side by side, on the same random sequences
    table = []
    ok = True
    twins = {}
    Xc, tc = sets[0][1][: n // 4], sets[0][2][: n // 4]
    for other in lfp.FILTERS:
        co = c if other == filt else mutated_model(lfp.build_fixed_positions(c0, p, eps, other), mutate)
        twins[other] = co
        cm = counts_check(co, "")
        e = float(np.max(np.abs(model_on(co, Xc, tc) - window_target(co, Xc, tc)[0])))
        cnt = lfp.model_counts(co.net)
        table.append({"filter": other, "U": cnt["U"], "S (FNN)": cnt["S"], "state_total": cnt["state_total"],
                      "ssm_nnz": cnt["ssm_nnz"], "eta": co.notes["eta"], "n": co.params["n"],
                      "error": e, "counts_equal_formula": cm.passed})
        ok &= bool(cm.passed) and e <= eps + allowance(co.net.blocks[0][1], co.notes["C_U"])
    checks.append(Check("filters side by side (cosine-sum = paper's Lemma F.5 item 2, exact DFT, exact delays): counts = "
                        "formula, error <= ε", ok, max(r["error"] for r in table), eps, {"table": table},
                        None if ok else {"table": table}))
    checks.append(model_certificate(twins["delay"], own=filt == "delay"))
    # certificate of the F.3 part φ on its whole domain
    phi = lfp.build_phi(c.notes["eps_phi"], c.notes["D"])  # an independent copy: mutants act on the model
    D = c.notes["D"]
    checks.append(bnb_check(f"certified (the F.3 part only): sup over y ∈ [1/2 - D, 1/2 + D] of |φ(y) - sin(2π y)| <= "
                            f"ε_φ = {c.notes['eps_phi']:.3g} (exact arithmetic on φ's stored weights)", phi,
                            sin_enclosure(), [0.5 - D], [0.5 + D], c.notes["eps_phi"], False, seed=True,
                            note="covers φ, not the model: the SSM taps are float rotations, bounded by check (2)"))
    # growth (formula over ε; built and compared where cheap)
    g_eps = tuple(float(x) for x in params.get("growth_eps", (0.2, 0.1, 0.05, 0.02, 0.01, 3e-3, 1e-3)))
    build_above = float(params.get("build_above", 0.05))
    rows, slopes = growth_rows(c0, 3.0 if p < 2.5 else p, "delay", g_eps, build_above)
    p_g = 3.0 if p < 2.5 else p
    pred = 1 / (p_g - 1)
    gok = all(r.get("counts_equal_formula", True) for r in rows)
    checks.append(Check(f"growth at p = {p_g:g} (delay filter): counts = formula where built (ε >= {build_above:g}); "
                        f"fitted exponents beside the prediction U ~ ε^(-1/(p-1)) = ε^-{pred:.2f}, S/U = O(log² 1/ε)",
                        bool(gok), slopes["S vs 1/ε (power)"], None,
                        {"table": rows, "fitted": slopes, "predicted": {"U, S vs 1/ε (power)": pred,
                                                                         "S/U vs log(1/ε)": "<= 2"}}))
    growth = ("fitted: " + ", ".join(f"{k} {v:.2f}" for k, v in slopes.items())
              + f" (predicted U ~ ε^-{pred:.2f}); paper: count ~ ε^(-1/a†) poly-log(1/ε), as Transformers "
                "(Takakura & Suzuki 2023)")
    return Result("thm-I.2", params, checks, counts=lfp.model_counts(c.net), formula=c.formula, growth=growth,
                  precision="sampled checks: float64 evaluation (allowance S·eps64·C_U added)")


def build(p: dict):
    return lfp.build_fixed_positions(float(p["c0"]), float(p["p"]), float(p["eps"]), str(p.get("filter", "cosine")))


register(Claim(
    id="thm-I.2",
    paper_ref="Theorem I.2 (Appendix I.1), instance f(X) = Σ_j c_0 (j+1)^{-p} sin(2π x_{-j})",
    statement=("For c_0 ∈ (0, 1], p > 1, 0 < ε < 1: the SSM Emb -> g (window U, channel j picks position -j by a "
               "cosine-sum filter cos^n(π(s - j)/U), or exact DFT / delay filters) -> FNN Σ_{j<U} c_j φ(y_j - 1/2) "
               "satisfies |F(X)_0 - f(X)| <= ε for all X ∈ [0,1]^{Z<=0}; U minimal with c_0 ζ(p, U+1) <= ε/2; "
               "counts L = L_φ, W = U W_φ, S = U S_φ, B = B_φ, state 2(⌊U/2⌋+1)U (cosine) or U(U-1)/2 (delay)."),
    params={"c0": 1.0, "p": 2.0, "eps": 0.1},
    switches={"filter": "cosine", "samples": 600, "build_above": 0.05},
    sweep=tuple({"c0": c0, "p": p, "eps": e, "filter": f, "samples": 2000, "build_above": 5e-3,
                 "growth_eps": (0.2, 0.1, 0.05, 0.02, 0.01, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5)}
                for c0, p, e, f in ((1.0, 2.0, 0.1, "delay"), (1.0, 2.0, 0.03, "cosine"), (1.0, 2.0, 0.01, "delay"),
                                    (0.5, 3.0, 1e-2, "cosine"), (1.0, 3.0, 1e-3, "dft"), (1.0, 4.0, 1e-4, "cosine"))),
    run=run_fixed,
    build=build,
    growth="count ~ ε^(-1/a†) poly-log(1/ε), the Transformers' count (Takakura & Suzuki 2023)",
    doc="docs/regression.md",
    cost=3.0,
    param_types={"c0": float, "p": float, "eps": float, "filter": lfp.FILTERS, "samples": int, "build_above": float},
))
