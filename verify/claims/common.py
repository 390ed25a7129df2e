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

Float64 decision rule.  The statements are about exact arithmetic; the stored weights are float64 and the forward
pass rounds.  The allowance τ = S · eps64 · V (S nonzeros, V the size of the output: 1, M^2, C^d, 1/x_min, A/b_min)
is added to every bound; a bound below 1000 τ cannot be decided and is reported INCONCLUSIVE.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..certify.bnb import cert_check, certify_fnn
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
