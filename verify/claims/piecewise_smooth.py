"""Theorem 4.5, a concrete instance (Appendix C setup): the Lemma 3.3 block picks the most important token, an FNN
applies f (docs/regression.md).

The model of ``lemmas.piecewise_smooth`` (Emb: keys from μ = <w, x>, constant query, values x; the Lemma 3.3 block;
f_3 ≈ sin(2π <u, ·>)) is checked against the target F*(X) = sin(2π <u, x_{i*}>), i* = argmax μ(x_i)
(``verify.gamma_smooth.selection_target``), on sequences of the input class (unique top token with margin δ_μ,
top importance >= μ_τ when given):
  (1) counts read from the emitted weights (f_1, f_2, f_3: L, W, S, B; window, channels, state, SSM and embedding
      nonzeros, total) equal the builder's formula;
  (2) the embedding meets the block's hypotheses on every sampled input: |k_i| <= 1, key margin >= δ, top key >= τ;
  (3) |F(X)_N - F*(X)| <= ε, with its two parts: ‖v̂ - x_{i*}‖_∞ <= ε_A (the block) and |f_3(v̂) - sin(2π<u, v̂>)|
      <= ε_φ (the head), on: random sequences; ties at the margin (every other token at importance μ* - δ_μ, values at
      the extremes of <u, x>); the top token at the first / last position; the top importance at its lowest
      admissible value (μ_τ, or μ_lo + δ_μ);
  (4) the construction bound ε_φ-bound + 2π‖u‖_1 ε_A <= ε (the exact split ε/4 + 3ε/4);
  (5) the F.3 net of the head certified on its domain (the 1-D twin with the same parameters: an auxiliary
      instance, reported as such);
  (6) growth: the exact counts over ε (and over N in --full) with fitted exponents against log(1/ε) and log N.
Float64: the builder refuses a block that float64 cannot evaluate (``lemmas.attention``'s precision rule); the
compared values are O(1); the allowance S eps64 of ``verify.checks.allowance`` (f_2 and f_3) is added.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from flint import arb

from constructions.circuit import Circuit
from lemmas import piecewise_smooth as lps
from lemmas.base import Construction
from lemmas.cos import emit_cos

from .. import gamma_smooth as gs
from ..certify.enclosures import enclose_taylor_arb
from ..checks import EPS64, counts_match, err_check, fit_slope
from ..registry import Claim, register
from ..result import Check, Result
from .common import bnb_check


# ------------------------------------------------------------------------------------------- samplers
def on_level(rng, w, m: np.ndarray, x0: np.ndarray) -> np.ndarray:
    """Points x ∈ [0, 1]^d with <w, x> = m: x0 moved along the segment to the max (or min) corner of μ."""
    w = np.asarray(w, dtype=np.float64)
    hi_c, lo_c = (w > 0).astype(float), (w < 0).astype(float)
    mu0 = x0 @ w
    up = mu0 < m
    corner = np.where(up[:, None], hi_c, lo_c)
    muc = corner @ w
    den = muc - mu0
    th = np.where(np.abs(den) > 0, (m - mu0) / np.where(np.abs(den) > 0, den, 1.0), 0.0)
    return np.clip(x0 + th[:, None] * (corner - x0), 0.0, 1.0)


def sample_sets(c, rng, n: int) -> list[tuple[str, np.ndarray]]:
    """Input sets (label, X of shape (n, N, d)) inside the class (margin δ_μ, top importance >= μ_τ)."""
    p, nt = c.params, c.notes
    d, N, w = p["d"], p["N"], np.array(p["w"])  # the builder's params: float lists
    dm = p["delta_mu"]
    lo_top = max(nt["mu_lo"] + dm, nt["mu_lo"] if p["mu_tau"] is None else p["mu_tau"])
    hi = nt["mu_hi"]
    sets = []

    def seqs(kind, pos, k):
        m_top = rng.uniform(lo_top, hi, k) if kind != "lowest" else np.full(k, lo_top)
        X = np.empty((k, N, d))
        for i in range(N):
            if kind == "tight":
                mi = m_top - dm
                # values at the extremes of <u, x> on the level set: start from random cube vertices
                x0 = rng.integers(0, 2, (k, d)).astype(float)
            else:
                mi = rng.uniform(nt["mu_lo"], m_top - dm)
                x0 = rng.uniform(0, 1, (k, d))
            X[:, i] = on_level(rng, w, mi, x0)
        top_pos = rng.integers(0, N, k) if pos is None else np.full(k, pos)
        X[np.arange(k), top_pos] = on_level(rng, w, m_top, rng.uniform(0, 1, (k, d)))
        return X

    sets.append(("random, top token anywhere", seqs("random", None, n)))
    sets.append(("ties at the margin: every other token at μ* - δ_μ, cube-vertex starts", seqs("tight", None, n // 2)))
    sets.append(("ties at the margin, top token first (position 1)", seqs("tight", 0, n // 4)))
    sets.append(("ties at the margin, top token last (position N)", seqs("tight", N - 1, n // 4)))
    sets.append(("top importance at its lowest admissible value, ties at the margin", seqs("lowest", None, n // 4)))
    return sets


def mutated_model(c, mutate):
    """The self-test's mutant applied to the model: a mutant of the whole construction first (claim tests), then
    FNN-level mutants (weights, biases) to the head f_3 and to the block's f_2 (each seen by the hook as a
    construction of its own; the block's stored coefficients only label f_2's weights, so no expansion mutant)."""
    if mutate is None:
        return c
    c = mutate(c)
    m = c.net
    f3 = mutate(Construction(m.f3, {}, {}, {})).net
    f2 = mutate(Construction(m.block.f2, {}, {}, {})).net
    if f3 is m.f3 and f2 is m.block.f2:
        return c
    return dataclasses.replace(c, net=dataclasses.replace(m, block=dataclasses.replace(m.block, f2=f2), f3=f3))


def hypothesis_check(c, X: np.ndarray, label: str) -> Check:
    """The block's hypotheses on the embedded keys: |k| <= 1, margin >= δ, top >= τ (float64 slack 1e-12)."""
    emb = c.net.embedding(X)
    k = emb[..., 0]
    s = np.sort(k, axis=-1)
    marg = s[:, -1] - s[:, -2]
    delta, tau = c.notes["delta"], c.notes["tau"]
    tau_eff = delta - 1.0 if tau is None else tau
    q = emb[..., -1]
    ok = (np.max(np.abs(k)) <= 1 + 1e-12 and np.min(marg) >= delta - 1e-12 and np.min(s[:, -1]) >= tau_eff - 1e-12
          and np.all(q == 1.0))
    return Check(f"{label}: embedded keys meet Lemma 3.3's hypotheses (|k| <= 1, margin >= δ = {delta:.3g}, "
                 f"top >= τ = {tau_eff:.3g}, q = 1; float64 slack 1e-12)", bool(ok), None, None,
                 {"max |k|": float(np.max(np.abs(k))), "min key margin": float(np.min(marg)), "delta": float(delta),
                  "min top key": float(np.min(s[:, -1])), "tau": float(tau_eff)},
                 None if ok else {"min key margin": float(np.min(marg)), "min top key": float(np.min(s[:, -1]))})


def error_checks(c, label: str, X: np.ndarray) -> tuple[list[Check], float]:
    p, nt = c.params, c.notes
    w, u, eps = np.array(p["w"]), np.array(p["u"]), p["eps"]
    model = c.net
    vhat = model.picked(X)
    F = model.f3(vhat)[..., 0]
    target, istar = gs.selection_target(X, w, u)
    xs = X[np.arange(len(X)), istar]
    tau_b = model.block.f2.counts().S * EPS64
    tau_h = model.f3.counts().S * EPS64
    flat = X.reshape(len(X), -1)
    e = np.abs(F - target)
    out = [err_check(f"{label}: |F(X)_N - sin(2π<u, x_i*>)| <= ε ({len(X)} sequences)", e, eps, tau_b + tau_h, flat),
           err_check(f"{label}: block part ‖v̂ - x_i*‖_∞ <= ε_A = {nt['eps_A']:.3g}",
                     np.max(np.abs(vhat - xs), axis=-1), nt["eps_A"], tau_b, flat),
           err_check(f"{label}: head part |f_3(v̂) - sin(2π<u, v̂>)| <= ε_φ = {nt['eps_phi']:.3g}",
                     np.abs(F - np.sin(2 * math.pi * vhat @ u)), nt["eps_phi"], tau_h, flat)]
    return out, float(np.max(e))


def head_twin(c) -> Construction:
    """The 1-D F.3 net with the head's parameters: φ(y') ≈ sin(2π y' + 2π c) on [-D, D]."""
    pr = c.notes
    ph = lps.head_params(pr)
    circ = Circuit(1)
    (x,) = circ.inputs()
    return Construction(circ.net([emit_cos(circ, x, ph)]), {}, {}, {})


def sin_shift_enclosure(cc: float):
    a, b = 2 * arb.pi(), 2 * arb.pi() * arb(cc)
    return enclose_taylor_arb(lambda x: (a * x + b).sin(), lambda x: a * (a * x + b).cos(),
                              lambda x: -a * a * (a * x + b).sin())


def counts_check(c, name: str) -> Check:
    return counts_match(c.net.counts(), c.formula, name)


def growth(p: dict, eps_list, N_list) -> tuple[list[dict], dict]:
    rows = []
    for N in N_list:
        for e in eps_list:
            try:
                cc = lps.build_piecewise_smooth(p["d"], N, p["w"], p["u"], p["delta_mu"], e, p["mu_tau"])
            except ValueError as exc:  # the block would need more than float64: reported, not built
                rows.append({"N": N, "eps": e, "status": f"refused: {exc}"})
                continue
            f = cc.formula
            rows.append({"N": N, "eps": e, "n": cc.notes["attention"]["n"], "m": cc.notes["attention"]["m"],
                         "L": max(f["f1"]["L"], f["f2"]["L"], f["f3"]["L"]), "S_f3": f["f3"]["S"],
                         "total_nonzeros": f["total_nonzeros"], "state_total": f["state_total"]})
    slopes = {}
    built = [r for r in rows if "status" not in r]
    if not built:
        return rows, slopes
    N0 = built[0]["N"]
    r0 = [r for r in built if r["N"] == N0]
    if len(r0) > 1:
        le = [math.log(1 / r["eps"]) for r in r0]
        slopes["total vs log(1/ε)"] = fit_slope(le, [r["total_nonzeros"] for r in r0])
        slopes["L vs log(1/ε)"] = fit_slope(le, [r["L"] for r in r0])
    e0 = built[0]["eps"]
    rN = [r for r in built if r["eps"] == e0]
    if len(rN) > 1:
        slopes["total vs log N"] = fit_slope([math.log(r["N"]) for r in rN], [r["total_nonzeros"] for r in rN])
    return rows, slopes


def vector(v) -> list[float]:
    """A vector parameter: "0.5,0.5" (the command line's form) or a sequence of numbers."""
    parts = str(v).split(",") if isinstance(v, str) else list(v)
    try:
        return [float(x) for x in parts]
    except ValueError:
        raise ValueError(f"expected comma-separated numbers, got {v!r}") from None


def run_selection(params: dict, rng: np.random.Generator, mutate=None) -> Result:
    d, N = int(params["d"]), int(params["N"])
    w, u = vector(params["w"]), vector(params["u"])
    dm, eps = float(params["delta_mu"]), float(params["eps"])
    mt = None if params.get("mu_tau") is None else float(params["mu_tau"])
    n = int(params.get("samples", 400))
    c = mutated_model(lps.build_piecewise_smooth(d, N, w, u, dm, eps, mt), mutate)
    checks = [counts_check(c, "counts = formula (f_1, f_2 of Lemma 3.3, head f_3, SSM, embedding)"),
              Check("construction bound: ε_φ-bound + 2π‖u‖_1 ε_A <= ε (split ε/4 + 3ε/4)",
                    bool(c.notes["error_bound"] <= eps), c.notes["error_bound"], eps,
                    {k: c.notes[k] for k in ("eps_A", "eps_phi", "phi_error_bound", "u1", "delta", "tau")})]
    worst = 0.0
    for label, X in sample_sets(c, rng, n):
        checks.append(hypothesis_check(c, X, label))
        errs, wv = error_checks(c, label, X)
        checks += errs
        worst = max(worst, wv)
    tau = (c.net.block.f2.counts().S + c.net.f3.counts().S) * EPS64
    checks.append(Check("sup error over every input set above: |F(X)_N - F*(X)| <= ε (+ τ)", bool(worst <= eps + tau),
                        worst, eps, {"float64_allowance": tau}))
    tw = head_twin(c)  # an independent copy: mutants act on the model
    D = c.notes["D"]
    checks.append(bnb_check(f"certified (auxiliary: the 1-D F.3 net with the head's parameters): sup over [-D, D] of "
                            f"|φ(y') - sin(2π y' + 2π c)| <= ε_φ = {c.notes['eps_phi']:.3g}", tw,
                            sin_shift_enclosure(c.notes["c"]), [-D], [D], c.notes["eps_phi"], False, aux=True,
                            seed=True, note="the head f_3 is this net with <u, ·> - c merged into its first layer"))
    g_eps = tuple(float(x) for x in params.get("growth_eps", (0.3, 0.1, 0.03)))
    g_N = tuple(int(x) for x in params.get("growth_N", (N,)))
    rows, slopes = growth({"d": d, "w": w, "u": u, "delta_mu": dm, "mu_tau": mt}, g_eps, g_N)
    checks.append(Check("growth: exact counts over ε (and N) at fixed d, δ_μ, μ_τ; fitted exponents (poly-log in N/ε "
                        "claimed for the block: slopes against log(1/ε), log N stay O(1))", True,
                        slopes.get("total vs log(1/ε)"), None, {"table": rows, "fitted": slopes}))
    line = ("fitted: " + ", ".join(f"{k} {v:.2f}" for k, v in slopes.items() if math.isfinite(v))
            + "; paper: count ~ ε^(-1/a†) poly-log(1/ε) as Transformers (Takakura & Suzuki 2023); Lemma 3.3 block "
              "poly-log in N/ε")
    return Result("thm-4.5", params, checks, counts=c.net.counts(), formula=c.formula, growth=line,
                  precision=("sampled checks: float64 evaluation (allowance S·eps64 of f_2, f_3 added); the auxiliary "
                             "F.3 bound: exact arithmetic on the stored weights"))


def build(p: dict):
    mt = None if p.get("mu_tau") is None else float(p["mu_tau"])
    return lps.build_piecewise_smooth(int(p["d"]), int(p["N"]), vector(p["w"]), vector(p["u"]), float(p["delta_mu"]),
                                      float(p["eps"]), mt)


register(Claim(
    id="thm-4.5",
    paper_ref="Theorem 4.5 (Appendix I.2), instance of Appendix C: F*(X) = sin(2π<u, x_i*>), i* = argmax <w, x_i>",
    statement=("Tokens x_1..x_N ∈ [0,1]^d with a unique most important token (μ = <w, x>, margin δ_μ, top importance "
               ">= μ_τ): the SSM Emb (key (2μ - μ_lo - μ_hi)/R, value x, query 1) -> Lemma 3.3 block (ε_A = 3ε/(8π‖u‖_1)) "
               "-> F.3 head (ε_φ = ε/4) satisfies |F(X)_N - sin(2π<u, x_i*>)| <= ε; counts = the block's formula + the "
               "F.3 formula of the head."),
    params={"d": 2, "N": 8, "w": "0.5,0.5", "u": "1,0.5", "delta_mu": 0.375, "mu_tau": 0.9, "eps": 0.1},
    switches={"samples": 400},
    sweep=tuple({"d": d, "N": N, "w": w, "u": u, "delta_mu": dm, "mu_tau": mt, "eps": e, "samples": 1000,
                 "growth_eps": (0.3, 0.1, 0.03, 0.01), "growth_N": (8, 16, 32, 64)}
                for d, N, w, u, dm, mt, e in ((2, 8, "0.5,0.5", "1,0.5", 0.375, 0.75, 0.03),
                                              (2, 32, "0.5,0.5", "1,0.5", 0.375, 0.75, 0.1),
                                              (3, 16, "1,-0.5,0.25", "0.5,0.5,-1", 0.6, 1.0, 0.1),
                                              (1, 64, "1", "1", 0.5, 0.75, 0.05))),
    run=run_selection,
    build=build,
    growth="count ~ ε^(-1/a†) poly-log(1/ε), the Transformers' count (Takakura & Suzuki 2023)",
    doc="docs/regression.md",
    cost=4.0,
    param_types={"d": int, "N": int, "w": str, "u": str, "delta_mu": float, "mu_tau": float, "eps": float,
                 "samples": int},
))
