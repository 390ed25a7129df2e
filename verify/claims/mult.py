"""Lemma F.3: products xy and Π x_i (docs/lemmas/lemma-F.3-mult.md, lemma-F.3-prod.md).

Checks: the Appendix F claim pattern and float64 rule (``verify.claims.common``).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from flint import fmpq

from lemmas import mult as lmult

from ..certify.cascade import Value, certify_cascade
from ..certify.enclosures import enclose_product
from ..certify.highprec import net_exact
from ..certify.separable import certify_separable_quadratic
from ..certify.twostage import NotSplittable
from ..checks import SWEEP_EPS, allowance, counts_match, counts_of, err_check, growth_check, growth_line, local_search
from ..registry import Claim, register
from ..result import Check, Result
from .common import CERT_EPS_AUX, FMAX, bnb_check, f64_vs_arb, float64_check, mutated, rebuilt


def prod_checks(c, rng: np.random.Generator, n: int = 20000, grid: int = 201, exact_pts: int = 6) -> list[Check]:
    """Checks (1)-(3) and the exact zero for a product network on [-C, C]^d (mult: d = 2, C = M)."""
    net = c.net
    d = net.d_in
    C = c.params.get("C", c.params.get("M"))
    eps = c.params["eps"]
    V = C ** d
    tau = allowance(net, V)
    f = lambda X: net(X)[:, 0]  # noqa: E731
    err = lambda X: np.abs(f(X) - np.prod(X, axis=1))  # noqa: E731
    out = [counts_match(counts_of(net), c.formula, "counts = formula")]
    sharp = c.notes["error_bound"]
    out.append(Check("construction bound <= ε", bool(sharp <= eps), sharp, eps, {"m": c.params["m"]}))
    if d == 2:
        t = np.linspace(-C, C, grid)
        G = np.stack(np.meshgrid(t, t), -1).reshape(-1, 2)
        out.append(err_check(f"dense grid {grid}x{grid} of [-M,M]^2", err(G), eps, tau, G))
    X = rng.uniform(-C, C, (n, d))
    e = err(X)
    out.append(err_check(f"random, {n} points of the box", e, eps, tau, X))
    m = c.params["m"]
    a = C * 2.0 ** (-m)
    corners = np.array(np.meshgrid(*[[-C, C]] * d)).reshape(d, -1).T if d <= 10 else np.full((1, d), C)
    special = np.concatenate([corners, np.full((1, d), a), np.full((1, d), -a), np.eye(d) * C, np.zeros((1, d))])
    out.append(err_check("corners, ±C e_i, 0, x_i = ±C 2^-m", err(special), eps, tau, special))
    if d == 2:
        at = float(f(np.array([[a, a]]))[0] - a * a)
        dev = abs(abs(at) - sharp)
        out.append(Check("attained: |φ(M2^-m, M2^-m) - M^2 4^-m| = M^2 2^{-2m} (within τ)", bool(dev <= tau), abs(at),
                         sharp, {"deviation": dev, "tau": tau}, None if dev <= tau else {"x": [a, a], "error": at}))
    top = X[np.argsort(-e)[:16]]
    Ls = local_search(err, top, -C, C, rng)
    out.append(err_check("local search from the 16 worst random points", err(Ls), eps, tau, Ls))
    # (3) perturbed inputs: x in the box, x' = x + δ, ‖δ‖∞ = r, some x' far outside
    lip = c.notes["lipschitz"]
    xs = rng.uniform(-C, C, (n // 2, d))
    xs[: n // 8] = np.sign(rng.normal(size=(n // 8, d))) * C  # corners: pushing outward leaves the box
    r = np.exp(rng.uniform(np.log(1e-6), np.log(3 * C), (n // 2, 1)))
    xp = xs + r * rng.choice([-1.0, 1.0], size=xs.shape) * rng.uniform(0.5, 1, xs.shape)
    dist = np.max(np.abs(xp - xs), axis=1)
    viol = np.abs(f(xp) - np.prod(xs, axis=1)) - lip * dist
    out.append(err_check(f"perturbed input: |φ(x') - Πx| - d C^(d-1) ‖x'-x‖∞ <= ε ({len(xs)} pairs)",
                         viol, eps, tau, np.concatenate([xs, xp], 1)))
    # exact zero, in rational arithmetic
    Z = rng.uniform(-C, C, (exact_pts, d))
    Z[np.arange(exact_pts), rng.integers(0, d, exact_pts)] = 0.0
    vals = [net_exact(net, z)[0] for z in Z]
    nz = [i for i, v in enumerate(vals) if v != 0]
    out.append(Check(f"exact zero: φ(x) = 0 in rational arithmetic when some x_i = 0 ({exact_pts} points)", not nz,
                     float(max(abs(v) for v in vals)), 0.0, {"float64_max": float(np.max(np.abs(f(Z))))},
                     {"x": Z[nz[0]].tolist(), "value": float(vals[nz[0]])} if nz else None))
    return out


def _prod_sample_error(c, e):
    d = c.net.d_in
    C = c.params.get("C", c.params.get("M"))
    X = np.random.default_rng(1).uniform(-C, C, (1500, d))
    a = C * 2.0 ** (-c.params["m"])
    X = np.concatenate([X, np.full((1, d), a)])
    return np.max(np.abs(c.net(X)[:, 0] - np.prod(X, axis=1)))


SEPARABLE_MAX_M = 14  # exact separable certificate up to 2^(m+1) pieces per component (m = 14: ~8 s)


def separable_mult_check(c, M: float, eps: float, aux: str = "") -> Check:
    """The 2-D product certified exactly (verify/certify/separable.py): the net is proven to be b + Σ_j G_j(ℓ_j·x) on
    [-M, M]^2 (clip layer affine there, three components each reading one linear form), xy = Σ_j c_j (ℓ_j·x)^2 is
    solved exactly, and each component's signed error range is exact; the bound is |b + Σ_j range_j|.  ``aux``
    (a description): the net is an auxiliary instance, so the check passes without certifying the claim."""
    res = certify_separable_quadratic(c.net, [[0.0, 0.5], [0.5, 0.0]], [-M, -M], [M, M])
    name = (f"certified exactly{f' ({aux})' if aux else ''}: sup over [-M,M]^2 of |φ - xy| <= ε (separable: "
            "b + Σ_j G_j(ℓ_j·x), each part's error range exact in rational arithmetic)")
    det = {"components": res.terms, "seconds": res.seconds, "method": res.reason, "separable_proved": res.proved,
           "builder_bound_M2_2^-2m": M * M * 2.0 ** (-2 * c.params["m"])}
    if not res.proved:
        det["reason"] = f"not certified: {res.reason}"
        return Check(name, None, None, eps, det)
    ok = res.sup_upper <= eps
    if not ok:
        det["reason"] = f"exact separable bound {res.sup_upper:.6g} > ε (a bound, not a proof of failure)"
    chk = Check(name, True if ok else None, res.sup_upper, eps, det)
    chk.certified = ok and not aux
    if aux:
        det["certifies_claim_at_its_parameters"] = False
        det["aux_measured"], det["aux_bound"] = chk.measured, chk.bound
        chk.measured = chk.bound = None
    return chk


def cascade_prod_check(c, d: int, C: float, eps: float) -> Check:
    """The d-fold product tree certified level by level (verify/certify/cascade.py): leaves x_i/C (raw inputs, mul = C),
    every pairwise block's error exact on [0, 2]^2 (separable certificate), composed with |u_a u_b - τ_a τ_b| <=
    δ_a U_b + δ_b; the bound is C^d δ_root."""
    name = ("certified (product-tree cascade: every block exact, composed level by level): sup over [-C,C]^d of "
            "|φ - Π x_i| <= ε (exact arithmetic on the stored weights)")
    Cq = Fraction(C)
    leaves = [Value(fmpq(0), 0, -C, C, fmpq(Cq.numerator, Cq.denominator))] * d
    try:
        res = certify_cascade(c.net, leaves, fmpq(Cq.numerator, Cq.denominator) ** d)
    except NotSplittable as exc:
        return Check(name, None, None, eps, {"cascade_proved": False, "reason": f"not certified: {exc}"})
    bound = res["delta"]
    up = float(Fraction(int(bound.p), int(bound.q)))
    if Fraction(up) < Fraction(int(bound.p), int(bound.q)):
        up = float(np.nextafter(up, np.inf))
    det = {"cascade_proved": True, "levels": res["levels"], "pieces": res["pieces"],
           "builder_bound": lmult.prod_error_bound(d, C, c.params["m"])}
    ok = bound <= fmpq(Fraction(eps).numerator, Fraction(eps).denominator)
    if not ok:
        det["reason"] = f"cascade bound {up:.6g} > ε (a bound, not a proof of failure)"
    chk = Check(name, True if ok else None, up, eps, det)
    chk.certified = bool(ok)
    return chk


def _clipped_product(C: float):
    """The target on all of R^d: Π_i clip(x_i; -C, C) (the net clips its inputs first)."""
    return lambda X: np.prod(np.clip(X, -C, C), axis=1)


def run_mult(params: dict, rng: np.random.Generator, mutate=None) -> Result:
    M, eps = float(params["M"]), float(params["eps"])
    c = mutated(lmult.build_mult(M, eps), mutate)
    checks = prod_checks(c, rng)
    checks.append(f64_vs_arb(c, rng.uniform(-M, M, (200, 2)), M * M))
    chk = separable_mult_check(c, M, eps) if c.params["m"] <= SEPARABLE_MAX_M else None
    if chk is not None and chk.detail.get("separable_proved"):
        checks.append(chk)
        checks.append(float64_check(c, -FMAX, FMAX, (-2 * M, 2 * M), eps, _clipped_product(M), chk, V=M * M,
                                    n_central=16, domain_text="R^2"))
    else:  # beyond ~2^15 pieces per component, or not separable on the box (e.g. a non-dyadic M puts the clip
        # kink a rounding inside it): the 2-D branch-and-bound on an auxiliary instance
        ca = mutated(lmult.build_mult(M, CERT_EPS_AUX), mutate)
        checks.append(bnb_check(f"certified (auxiliary instance ε = {CERT_EPS_AUX:g}): sup over [-M,M]^2 of |φ - xy| <= "
                            f"{CERT_EPS_AUX:g} (exact arithmetic on the stored weights)", ca, enclose_product,
                            [-M, -M], [M, M], CERT_EPS_AUX, False, aux=True))
    checks.append(growth_check("growth over ε = 1e-1..1e-8", lambda e: lmult.build_mult(M, e), SWEEP_EPS,
                               {"L": 1.0, "W": 0.0, "S": 1.0, "log B": 0.0}, _prod_sample_error,
                               lambda c: M * M, lmult.MIN_REL_EPS * M * M))
    return Result("lemma-F.3-mult", params, checks, counts=counts_of(c.net), formula=c.formula,
                  growth=growth_line(checks[-1], "L, S = O(log 1/ε), W = 9, B = max(4, 2M^2)"))


register(Claim(
    id="lemma-F.3-mult",
    paper_ref="Lemma F.3 (mult), d = 2 (Oko et al. 2023 Lemma F.6)",
    statement=("φ(x, y) = M^2 · 2[f_m(|cx+cy|/2) - f_m(|cx|/2) - f_m(|cy|/2)], c = clip(·/M; -1, 1): for (x, y) ∈ [-M, M]^2 and any "
               "(x', y'), |φ(x', y') - xy| <= M^2 2^{-2m} + 2M ‖(x', y') - (x, y)‖_∞ with M^2 2^{-2m} <= ε (attained at "
               "x = y = M 2^{-m}); φ = 0 exactly when x = 0 or y = 0; the inputs are clipped by the float-robust symmetric clip "
               "1 - ρ(2 - ρ(x/M + 1)) (M >= 1; (M - ρ(2M - ρ(x + M)))/M for M < 1); L = m + 3, W = 9, S = 24m + 16, "
               "B = max(4, 1/(2M), 2M^2) (" + "the factor 2 against the cited B = M^2 is the polarisation coefficient of xy = 2[((x+y)/2)^2 - (x/2)^2 - (y/2)^2], which the output map multiplies by the scale M^2; reaching M^2 exactly would need one more layer to split the scale)."),
    params={"M": 2.0, "eps": 1e-6},
    sweep=tuple({"M": M, "eps": e} for M in (0.5, 1.0, 4.0) for e in (1e-2, 1e-6, 1e-9)),
    run=run_mult,
    domain=lambda p: ([-float(p["M"])] * 2, [float(p["M"])] * 2),
    build=lambda p: lmult.build_mult(float(p["M"]), float(p["eps"])),
    growth="O(log 1/ε) depth and nonzeros, constant width",
    doc="docs/lemmas/lemma-F.3-mult.md",
    param_types={"M": float, "eps": float},
    mutants=lambda p: [("one sawtooth level removed (m - 1)", "remove level",
                        rebuilt(lambda q: lmult.build_mult(q["M"], 1.0, m=q["m"] - 1)))],
))


def run_prod(params: dict, rng: np.random.Generator, mutate=None) -> Result:
    d, C, eps = int(params["d"]), float(params["C"]), float(params["eps"])
    c = mutated(lmult.build_prod(d, C, eps), mutate)
    checks = prod_checks(c, rng, n=6000, exact_pts=3)
    checks.append(f64_vs_arb(c, rng.uniform(-C, C, (100, d)), C ** d))
    # d = 2: the claim's own net, exactly (separable certificate); d > 2 (a tree): the product-tree cascade on the
    # claim's own net (verify/certify/cascade.py: every block certified exactly, composed level by level); beyond
    # SEPARABLE_MAX_M the 2-D branch-and-bound on an auxiliary instance at ε = 1e-2
    chk = None
    if c.params["m"] <= SEPARABLE_MAX_M:
        chk = separable_mult_check(c, C, eps) if d == 2 else cascade_prod_check(c, d, C, eps)
    if chk is not None and (chk.detail.get("separable_proved") or chk.detail.get("cascade_proved")):
        checks.append(chk)
        # d > 2: the first layer reads x exactly (ρ(±x)), so one tail cell per side suffices (float64.axis_cells)
        checks.append(float64_check(c, -FMAX, FMAX, (-2 * C, 2 * C), eps, _clipped_product(C), chk, V=C ** d,
                                    n_central=16 if d <= 2 else 1, max_boxes=20000,
                                    domain_text=f"R^{d}", inner=0.5 * C))
    else:  # as in mult: the 2-D branch-and-bound on an auxiliary instance
        ca = mutated(lmult.build_prod(2, C, CERT_EPS_AUX), mutate)
        checks.append(bnb_check(f"certified (auxiliary instance d = 2, ε = {CERT_EPS_AUX:g}): sup over [-C,C]^2 of "
                            f"|φ - x1 x2| <= {CERT_EPS_AUX:g} (exact arithmetic on the stored weights)", ca,
                            enclose_product, [-C, -C], [C, C], CERT_EPS_AUX, False, aux=True))
    checks.append(growth_check("growth over ε = 1e-1..1e-8", lambda e: lmult.build_prod(d, C, e), SWEEP_EPS,
                               {"L": 1.0, "W": 0.0, "S": 1.0, "log B": 0.0}, _prod_sample_error,
                               lambda c: C ** d, lmult.MIN_REL_EPS * C ** d))
    rows = [{"d": dd, **counts_of(lmult.build_prod(dd, C, eps).net)} for dd in range(2, 17)]
    rows = [{**r, "formula": lmult.prod_formula(dd, C, lmult.prod_m(dd, C, eps))} for dd, r in zip(range(2, 17), rows)]
    checks.append(Check("counts over d = 2..16 equal the formula", all(
        all(r[k] == r["formula"][k] for k in "LWSB") for r in rows), detail={"table": rows}))
    return Result("lemma-F.3-prod", params, checks, counts=counts_of(c.net), formula=c.formula,
                  growth=growth_line(checks[-2], "L = O(log d (log 1/ε + d log C)), W = 48d (ours 9⌊d/2⌋ + d mod 2), "
                                                  "S = O(d log 1/ε + d log C), B = C^d"))


register(Claim(
    id="lemma-F.3-prod",
    paper_ref="Lemma F.3 (mult), d-fold (Oko et al. 2023 Lemma F.6)",
    statement=("Binary tree of pairwise products on [-1,1]^2 with clipping between levels, leaves x_i/C, output C^d · root: for "
               "x ∈ [-C, C]^d and any x', |φ(x') - Π x_i| <= C^d (2^k - 1) 2^{-2m} + d C^{d-1} ‖x' - x‖_∞ <= ε + d C^{d-1} ‖x' - x‖_∞, "
               "k = ⌈log2 d⌉; φ = 0 exactly when some x_i = 0; the leaves through the float-robust clip of lemmas/mult.py; "
               "L = k(m+1) + 2, W = 9⌊d/2⌋ + (d mod 2), B = max(4, 1/(2C) (d even) or 1/C (d odd), 2C^d) (the factor 2 against the cited B = C^d is the polarisation coefficient of xy = 2[((x+y)/2)^2 - (x/2)^2 - (y/2)^2], which the output map multiplies by the scale C^d; reaching C^d exactly would need one more layer to split the scale), S by the level formula of lemmas/mult.py."),
    params={"d": 5, "C": 1.5, "eps": 1e-4},
    sweep=tuple({"d": d, "C": C, "eps": e} for d in (2, 3, 8) for C in (0.8, 2.0) for e in (1e-3, 1e-7)),
    run=run_prod,
    domain=lambda p: ([-float(p["C"])] * int(p["d"]), [float(p["C"])] * int(p["d"])),
    build=lambda p: lmult.build_prod(int(p["d"]), float(p["C"]), float(p["eps"])),
    growth="L = O(log d · log 1/ε), S = O(d log 1/ε) at fixed C",
    doc="docs/lemmas/lemma-F.3-prod.md",
    param_types={"d": int, "C": float, "eps": float},
    mutants=lambda p: [("one sawtooth level removed (m - 1)", "remove level",
                        rebuilt(lambda q: lmult.build_prod(q["d"], q["C"], 1.0, m=q["m"] - 1)))],
))
