"""Helpers shared by the claim modules: the mutation hook, the certification wrappers and their budgets.

Certification (``verify/certify/``, docs/certification.md): a sound bound of the sup error over the whole
domain for the EXACT-arithmetic network on the stored weights.  It runs at the claim's own parameters when that
instance certifies within the default budget (the check then carries ``certified`` and the verdict reads
CERTIFIED); otherwise on a small auxiliary instance of the same builder (eps = 1e-2), reported as such (not a
certificate of the claim at its parameters).  The mutant is applied to the auxiliary instance too, so a broken
builder/weight fails there as well.

The Appendix F claim pattern (``clip``, ``square``, ``mult``, ``exp``, ``rec``, ``cos``, ``quotient``, ``ratio``): every claim
builds its network through the builder in ``lemmas/`` and checks
  (1) counts read from the emitted matrices (``net.counts()``) equal the builder's closed-form formula;
  (2) the error bound on a dense grid (1-D / 2-D), random samples, the worst cases known from the math (sawtooth
      grid midpoints, the attained point of the product, domain ends, break points of the pieces, folding break
      points, corners) and a local search climbing from the worst sampled points; the maximum and its argmax are
      recorded;
  (3) the perturbed-input form where the lemma has one (inputs x' outside the domain included);
  (4) growth: over ε = 1e-1 .. 1e-8 the counts equal the formula, the error holds on a sample, and the log-log slopes
      of L, W, S, log B against log(1/ε) are reported beside the claimed order (a slope above the claimed exponent
      + 0.3 fails); rows below the float64 floor are INCONCLUSIVE;
  (5) a 60-digit evaluation of the stored network (``verify.certify.highprec.net_mp``) at the worst points, and a
      certificate (``bnb_check`` and the exact certificates of ``verify.certify``).
Targets (x^2, xy, Π x_i, e^{-x}, 1/x, a/b, cos, sin) come from numpy / mpmath, never from the networks.

Float64 evaluation (``float64_check``, issue 15 item 7).  A certificate bounds the exact-arithmetic net; the
float64 net that is exported and run differs from it by at most E_fl over the whole domain up to the largest
float (``verify.certify.float64``).  The check evaluates the float64 net at the extreme inputs (±1e18, ±1e300,
±np.finfo(float).max, -0.0, ±5e-324) against the exact target (FAIL above ε + τ), and says whether the
certificate covers the float64 evaluation: certified bound + E_fl <= ε (``detail['float64_covered']``, read by
``verify.registry.run_claim`` for the report's precision text).  Where the bound is the attained exact sup
(square) ``attained=True`` reports "covered in exact arithmetic; float64 net within ε + E_fl"; clip
(``clip.clip_float64_check``) and the F.5 / F.6 feature nets (``gauss_kernel_net.float64_kernel_check``, multi-output,
over R^d by ``verify.certify.float64.clip_tail_reduction``) have their own versions with the same detail keys.

Float64 decision rule.  The statements are about exact arithmetic; the stored weights are float64 and the forward
pass rounds.  The allowance τ = S · eps64 · V (S nonzeros, V the size of the output: 1, M^2, C^d, 1/x_min, A/b_min)
is added to every bound; a bound below 1000 τ cannot be decided and is reported INCONCLUSIVE.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..certify.bnb import cert_check, certify_fnn
from ..certify.float64 import float64_error
from ..certify.highprec import float64_agreement, fnn_arb
from ..certify.piecewise import pl_breakpoints
from ..checks import SWEEP_EPS, allowance, counts_of
from ..result import Check


def mutated(c, mutate):
    """``mutate(c)`` when the self-test hands a mutant (``verify/mutants.py``), else ``c``."""
    return c if mutate is None else mutate(c)


CERT_BUDGET = 200_000
CERT_EPS_AUX = 1e-2


def f64_vs_arb(c, X, V: float) -> Check:
    """Cross-check: the float64 forward pass agrees with the arb enclosure of the exact-arithmetic network
    (212 bits) within the allowance τ = S eps64 V that every error check adds."""
    lo, hi, _ = fnn_arb(c.net, X)
    tau = allowance(c.net, V)
    return float64_agreement(f"float64 vs arb (212 bits) on {len(X)} random points: |f64 - exact| <= τ = S eps64 V",
                             c.net(X), lo, hi, tau, X)


CERT_SEED_MAX_POINTS = 400_000  # the float breakpoint pass gives up beyond this many pieces (seed: plain grid)
# A 1-D claim is certified at its own parameters when its breakpoint-seeded certificate costs at most this many
# (box x nonzero) units, <= ~30 s here (exp ε = 1e-6: 1.5e5 pieces x S = 5.4e3; rec ε = 1e-2: 3.3e4 x 2.6e4;
# F.5 network item 3 at ε = 1e-4: 8.2e4 x 1.9e4);
# beyond it the auxiliary instance is certified instead (and said so in the check).
CERT_WORK_MAX = 2e9


def own_seed(net, lo: float, hi: float, stride: int = 1):
    """The float64 breakpoints of a 1-input net on [lo, hi] (``pl_breakpoints``: a heuristic seed, never a proof)
    when a certificate seeded with them fits ``CERT_WORK_MAX``; None when there are too many pieces.  ``stride``
    keeps every stride-th breakpoint (and both ends): fewer, wider first boxes, which the branch-and-bound bisects
    where its bound needs it; cheaper where most boxes certify at once, at the price of a bound closer to ε (the
    boxes are refined only until they are below ε).  The seed never affects soundness."""
    S = max(1, counts_of(net)["S"])
    cap = int(min(CERT_SEED_MAX_POINTS, CERT_WORK_MAX / S))
    try:
        pts = pl_breakpoints(net, float(lo), float(hi), max_points=cap)
    except ValueError:
        return None
    return pts if stride <= 1 else np.unique(np.concatenate([pts[::stride], pts[-1:]]))


def bnb_check(name, c, target, lo, hi, eps, certifies_claim, budget=CERT_BUDGET, note=None, aux=False, seed=False):
    """The certification check; on an auxiliary instance (``aux``) the numbers stay in ``detail`` so the
    report's headline (bound, measured) keeps describing the claim's own parameters.  ``seed`` (1-D): the
    branch-and-bound starts from the network's float64 breakpoints (``pl_breakpoints``; a heuristic choice of
    cuts, the proof is the interval certifier's) instead of a uniform grid; an array is used as the seed
    directly.  With a seed the budget is at least twice the number of pieces."""
    pts, seed_info = None, "uniform grid"
    if isinstance(seed, np.ndarray):
        pts, seed_info = seed, f"{len(seed)} float64 breakpoints (pl_breakpoints)"
    elif seed:
        try:
            pts = pl_breakpoints(c.net, float(lo[0]), float(hi[0]), max_points=CERT_SEED_MAX_POINTS)
            seed_info = f"{len(pts)} float64 breakpoints (pl_breakpoints)"
        except ValueError as exc:
            seed_info = f"uniform grid ({exc})"
    if pts is not None:
        budget = max(budget, 2 * len(pts))
    res = certify_fnn(c.net, target, lo, hi, eps, budget=budget, seed_points=pts, stop_above=2 * eps)
    chk = cert_check(name, res, certifies_claim=certifies_claim)
    chk.detail["initial_partition"] = seed_info
    chk.detail["certifies_claim_at_its_parameters"] = certifies_claim
    chk.detail["same_instance"] = not aux  # the checked construction itself (mutants: proven equivalence)
    if note:
        chk.detail["note"] = note
    if aux and chk.passed is not False:
        chk.detail["aux_measured"], chk.detail["aux_bound"] = chk.measured, chk.bound
        chk.measured = chk.bound = None
    return chk


def rebuilt(build):
    """A claim-specific mutant: the construction's net replaced by ``build(params)`` (formula, params kept)."""
    return lambda c: dataclasses.replace(c, net=build(c.params).net)


def sweep_eps(lo: float) -> tuple:
    """The ε of the growth sweep (``checks.SWEEP_EPS``) down to ``lo`` (a float64 floor)."""
    return tuple(e for e in SWEEP_EPS if e >= lo * (1 - 1e-12))


FMAX = float(np.finfo(np.float64).max)
EXTREMES = (1e18, -1e18, 1e300, -1e300, FMAX, -FMAX, 0.0, -0.0, 5e-324, -5e-324)


def extreme_points(d: int, lo, hi, inner) -> np.ndarray:
    """Inputs at the extremes of float64 (``EXTREMES`` and the domain ends) inside [lo, hi]: every combination for
    d <= 2; for d > 2 one coordinate at a time at every extreme, the others at ``inner`` (a point of the domain)."""
    lo, hi = np.broadcast_to(np.asarray(lo, float), (d,)), np.broadcast_to(np.asarray(hi, float), (d,))
    inner = np.broadcast_to(np.asarray(inner, float), (d,))
    vals = [np.array([v for v in EXTREMES + (lo[i], hi[i]) if lo[i] <= v <= hi[i]]) for i in range(d)]
    if d <= 2:
        grids = np.meshgrid(*vals, indexing="ij")
        return np.stack([g.ravel() for g in grids], 1)
    rows = []
    for i in range(d):
        for v in vals[i]:
            r = inner.copy()
            r[i] = v
            rows.append(r)
    return np.array(rows)


def float64_check(c, lo, hi, central, eps: float, target, cert: Check | None, V: float = 1.0, inner=0.0,
                  n_central: int = 64, output: int = 0, domain_text: str = "R", bands: bool = False,
                  max_boxes: int | None = None, points: np.ndarray | None = None, attained: bool = False) -> Check:
    """The float64 net over the whole domain [lo, hi] (per coordinate, up to ±the largest float): E_fl by
    ``verify.certify.float64``, the extreme inputs against ``target`` (X (n, d) -> exact values of output
    ``output``, the clipped continuation where the lemma defines the net on all of R^d; ``points`` replaces the
    extreme inputs where the domain is not a box), and whether ``cert``
    (a passed certificate of the claim at its parameters) plus E_fl stays within ε.  ``attained``: ε is the
    exact sup of the exact-arithmetic net (the statement is "sup = ε"), so certificate + E_fl <= ε cannot hold for
    E_fl > 0; the report then says "covered in exact arithmetic; float64 net within ε + E_fl" (never a wider ε)."""
    d = c.net.d_in
    res = float64_error(c.net, lo, hi, central[0], central[1], n_central=n_central, bands=bands,
                        max_boxes=max_boxes or (6000 if d > 1 else 20000))
    P = extreme_points(d, lo, hi, inner) if points is None else np.asarray(points, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        err = np.abs(c.net(P)[:, output] - target(P))
    tau = allowance(c.net, V)
    worst = int(np.argmax(err))
    ok = bool(err[worst] <= eps + tau)
    cb = None
    if cert is not None and cert.certified and cert.passed is True and cert.measured is not None:
        cb = float(cert.measured)
    E = float(res.per_output[output])
    covered = cb is not None and np.isfinite(E) and cb + E <= eps
    if covered:
        reason = f"certified bound {cb:.4g} + E_fl {E:.3g} <= ε = {eps:g}"
    elif attained and cb is not None and np.isfinite(E):
        reason = (f"covered in exact arithmetic (certified sup = {cb:.6g}, attained: no slack for rounding); float64 "
                  f"net within ε + E_fl = {cb:.6g} + {E:.3g} on the whole domain")
    elif cb is None:
        reason = "no certificate of the claim at its parameters (exact arithmetic or sampled only)"
    elif not np.isfinite(E):
        reason = "E_fl unbounded (a possible overflow in the float64 evaluation)"
    else:
        reason = f"certified bound {cb:.4g} + E_fl {E:.3g} > ε = {eps:g}: the bound is too tight for the rounding"
    name = (f"float64 net over x ∈ {domain_text} up to ±{FMAX:.4g}: the extreme inputs (±1e18, ±1e300, ±max, -0.0, "
            f"±5e-324) within ε + τ of the target, and E_fl = sup |float64 net - exact net| (verify/certify/float64)")
    det = {"E_fl": E, "certified_bound": cb, "float64_covered": bool(covered), "float64_reason": reason,
           "float64_analysis": res.as_dict(), "extreme_points": len(P), "worst_extreme": P[worst].tolist(),
           "worst_extreme_error": float(err[worst]), "float64_allowance": tau}
    return Check(name, ok, float(err[worst]), eps + tau, det, None if ok else {"x": P[worst].tolist()})
