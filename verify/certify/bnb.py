"""Certified sup-norm error of a low-dimensional network by branch-and-bound over boxes (docs/certification.md,
methods 1-4).

``certify_fnn(net, target_enclosure, lo, hi, eps, budget)`` proves

    sup_{x ∈ [lo, hi]} |f(x) - g(x)| <= bound (<= eps)

for the EXACT-arithmetic network f on the stored float64 weights (the stored weights are the weights; the float64
forward pass is a different, rounded function, covered by the float64 allowance elsewhere) and a target g
given only through a sound enclosure ``target_enclosure(box_lo, box_hi) -> (g_lo, g_hi)`` (``enclosures.py``):
float arrays with g_lo <= g(x) <= g_hi for every x in each box (vectorised over boxes).  On a box,
``interval.IntervalNet`` gives f_lo <= f <= f_hi, so |f - g| <= max(f_hi - g_lo, g_hi - f_lo), rounded up.  Boxes
whose bound exceeds eps are bisected along their relatively widest side; each sweep evaluates up to ``chunk``
boxes in one vectorised pass (the worst first).  The outcome is CERTIFIED (every leaf bound <= eps; the
certified bound is the largest leaf bound) or, when ``budget`` boxes have been evaluated, the best bound reached
(the largest bound over the leaves and the boxes still pending) beside the sampled maximum (f at the centres of
the worst boxes, float64, against the target's enclosure midpoint there).  Several outputs can be certified in
one branch-and-bound (``output=[...]``; ``CertResult.bounds``).  1-D networks can seed the boxes with
``piecewise.pl_breakpoints`` (a heuristic: the boxes always cover the domain, so the seed cannot affect
soundness).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

from constructions.fnn import FNN

from ..result import Check
from .interval import U64, IntervalNet, round_down, round_up

DEFAULT_BUDGET = 200_000
DEFAULT_CHUNK = 8192


@dataclass
class CertResult:
    """The outcome of ``certify_fnn``; ``bound`` is a proven upper bound of the sup error (it is inf when the
    budget ran out before the first sweep; ``bound_is_sound`` is False then)."""

    certified: bool
    bound: float
    eps: float
    boxes: int  # boxes evaluated (the budget counts these)
    leaves: int  # final partition size (certified leaves + boxes still pending)
    sweeps: int
    seconds: float
    sampled_max: float  # max |f(centre) - g(centre)| over the worst boxes: a (float64) lower estimate of the sup
    worst_box: list = field(default_factory=list)
    budget: int = DEFAULT_BUDGET
    budget_exhausted: bool = False
    bound_is_sound: bool = True
    outputs: list = field(default_factory=list)  # the outputs certified together (several: ``bounds`` per output)
    bounds: list = field(default_factory=list)  # the proven bound of each output (same order)
    sampled_maxes: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def certify_fnn(net: FNN, target_enclosure, lo, hi, eps, budget: int = DEFAULT_BUDGET,
                output=0, chunk: int = DEFAULT_CHUNK, init_splits: int | None = None,
                seed_points=None, stop_above=None) -> CertResult:
    """Branch-and-bound certification of sup_{x ∈ [lo, hi]} |net(x)_output - g(x)| <= eps (see the module
    docstring).  ``lo``, ``hi``: the domain box (sequences of length d_in); ``budget``: the largest number of
    boxes evaluated; ``init_splits``: the domain is first cut into this many equal pieces per axis.
    ``seed_points`` (1-D only, e.g. ``pl_breakpoints``): the initial partition is instead the boxes between
    the sorted distinct seed points inside [lo, hi] and the two ends.  The seed only chooses where the boxes
    are cut: the boxes always cover [lo, hi] exactly, so it cannot affect soundness, only speed.

    Several outputs at once: ``output`` a sequence of k indices, ``eps`` a scalar or k values, and
    ``target_enclosure`` returning arrays of shape (n, k) (slope: (n, k, d)); a box is done when every output's
    bound is <= its eps, and ``CertResult.bounds`` holds each output's proven bound (``bound`` their max).

    ``stop_above`` (scalar or per output): stop after the sweep in which the sampled error (float64, at box
    centres) of some output exceeds it: a counterexample far beyond float64 noise (callers pass 2 eps), so no
    certificate is coming; the result is not certified and its bound is still sound."""
    lo = np.atleast_1d(np.asarray(lo, dtype=np.float64))
    hi = np.atleast_1d(np.asarray(hi, dtype=np.float64))
    d = net.d_in
    if lo.shape != (d,) or hi.shape != (d,):
        raise ValueError(f"domain ends must have shape ({d},), got {lo.shape} and {hi.shape}")
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))) or np.any(lo > hi):
        raise ValueError("the domain must be a finite box with lo <= hi")
    multi = not np.isscalar(output)
    outs = [int(o) for o in np.atleast_1d(output)]
    if not outs:
        raise ValueError("output must name at least one output")
    eps_v = np.broadcast_to(np.asarray(eps, dtype=np.float64), (len(outs),)).copy()
    if not (np.all(np.isfinite(eps_v)) and np.all(eps_v > 0)):
        raise ValueError(f"eps must be positive finite numbers, got {eps!r}")
    if int(budget) != budget or budget < 1 or int(chunk) != chunk or chunk < 1:
        raise ValueError("budget and chunk must be positive integers")
    for o in outs:
        if not 0 <= o < net.d_out:
            raise ValueError(f"output index {o} out of range for a network with {net.d_out} outputs")
    t0 = time.perf_counter()
    inet = IntervalNet(net)
    span = np.where(hi > lo, hi - lo, 1.0)
    k = int(init_splits or (64 if d == 1 else 8 if d == 2 else 2))
    grids = [np.linspace(lo[j], hi[j], k + 1) if hi[j] > lo[j] else np.array([lo[j], hi[j]]) for j in range(d)]
    if seed_points is not None:
        if d != 1:
            raise ValueError("seed_points needs a network with one input")
        sp = np.asarray(seed_points, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(sp)):
            raise ValueError("seed_points contain NaN or inf")
        sp = sp[(sp > lo[0]) & (sp < hi[0])]
        grids = [np.unique(np.concatenate([lo, sp, hi]))] if hi[0] > lo[0] else grids
    idx = np.stack(np.meshgrid(*[np.arange(len(g) - 1) for g in grids], indexing="ij"), -1).reshape(-1, d)
    P_lo = np.stack([grids[j][idx[:, j]] for j in range(d)], 1)
    P_hi = np.stack([grids[j][idx[:, j] + 1] for j in range(d)], 1)
    P_lo[:, :] = np.maximum(P_lo, lo)  # linspace ends are exact, but keep the cover inside [lo, hi] explicitly
    P_hi[:, :] = np.minimum(P_hi, hi)
    P_lo[idx == 0] = np.broadcast_to(lo, P_lo.shape)[idx == 0]
    last = np.array([len(g) - 2 for g in grids])
    P_hi[idx == last] = np.broadcast_to(hi, P_hi.shape)[idx == last]
    k = len(outs)
    P_bound = np.full((len(P_lo), k), np.inf)  # priority: the parent's bounds (the largest ratio to eps first)
    done_max, boxes, sweeps = np.zeros(k), 0, 0
    worst = (None, None, -np.inf)
    sampled = np.zeros(k)
    S_lo, S_bound = [], []
    while len(P_lo) and boxes < budget:
        take = min(chunk, budget - boxes, len(P_lo))
        order = np.argsort(-np.max(P_bound / eps_v, axis=1), kind="stable")
        sel, rest = order[:take], order[take:]
        b_lo, b_hi = P_lo[sel], P_hi[sel]
        R_lo, R_hi, R_bound = P_lo[rest], P_hi[rest], P_bound[rest]
        bound = _box_bounds(inet, target_enclosure, b_lo, b_hi, outs, done_max, eps_v)  # (take, k)
        boxes += take
        sweeps += 1
        ratio = np.max(bound / eps_v, axis=1)
        ok = ratio <= 1.0
        if ok.any():
            done_max = np.maximum(done_max, bound[ok].max(axis=0))
        j = int(np.argmax(ratio))
        if ratio[j] > worst[2] or worst[0] is None:
            worst = (b_lo[j].copy(), b_hi[j].copy(), float(ratio[j]))
        # sampled error at the centres of the (up to 64) worst boxes of this sweep
        top = np.argsort(-ratio)[:64]
        cm = b_lo[top] + 0.5 * (b_hi[top] - b_lo[top])
        enc = target_enclosure(cm, cm)
        gm = 0.5 * (np.asarray(enc[0], float).reshape(len(cm), k) + np.asarray(enc[1], float).reshape(len(cm), k))
        sampled = np.maximum(sampled, np.max(np.abs(net(cm)[:, outs] - gm), axis=0))
        stop = stop_above is not None and bool(np.any(sampled > np.asarray(stop_above, dtype=np.float64)))
        bad = ~ok
        s_lo, s_hi, s_b = b_lo[bad], b_hi[bad], bound[bad]
        if len(s_lo):
            w = (s_hi - s_lo) / span
            ax = np.argmax(w, axis=1)
            rows = np.arange(len(s_lo))
            mid = s_lo[rows, ax] + 0.5 * (s_hi[rows, ax] - s_lo[rows, ax])
            # a box too narrow to bisect in float64 that still fails stays a leaf with its bound
            stuck = (mid <= s_lo[rows, ax]) | (mid >= s_hi[rows, ax])
            if stuck.any():
                S_lo.append(s_lo[stuck])
                S_bound.append(s_b[stuck])
                keep = ~stuck
                s_lo, s_hi, s_b, ax, mid = s_lo[keep], s_hi[keep], s_b[keep], ax[keep], mid[keep]
                rows = np.arange(len(s_lo))
            left_hi = s_hi.copy()
            left_hi[rows, ax] = mid
            right_lo = s_lo.copy()
            right_lo[rows, ax] = mid
            P_lo = np.concatenate([R_lo, s_lo, right_lo])
            P_hi = np.concatenate([R_hi, left_hi, s_hi])
            P_bound = np.concatenate([R_bound, s_b, s_b])
        else:
            P_lo, P_hi, P_bound = R_lo, R_hi, R_bound
        if stop:
            break
    stuck_bound = np.concatenate(S_bound) if S_bound else np.zeros((0, k))
    pending = len(P_lo) + len(stuck_bound)
    certified = pending == 0
    if certified:
        best = done_max
    else:
        # pending boxes carry their parent's bound (a sound bound for the child), or inf if never evaluated
        best = np.maximum(done_max, np.max(np.concatenate([P_bound, stuck_bound]), axis=0))
    return CertResult(certified=bool(certified), bound=float(best.max()), eps=float(eps_v.max()), boxes=int(boxes),
                      leaves=int(pending + 0), sweeps=sweeps, seconds=time.perf_counter() - t0,
                      sampled_max=float(sampled.max()),
                      worst_box=[worst[0].tolist(), worst[1].tolist()] if worst[0] is not None else [],
                      budget=int(budget), budget_exhausted=not certified,
                      bound_is_sound=bool(np.all(np.isfinite(best))), outputs=outs if multi else [],
                      bounds=best.tolist() if multi else [], sampled_maxes=sampled.tolist() if multi else [])



def _box_bounds(inet: IntervalNet, target_enclosure, b_lo, b_hi, outs, done=None, eps_v=None) -> np.ndarray:
    """Sound upper bounds of sup_box |f_o - g_o| for each box and each output o of ``outs``: (n, len(outs))
    (see the module docstring).  The enclosure returns (n,) arrays for one output, (n, k) for several.

    An enclosure with a ``tight`` attribute (``enclosures.with_tight``: a fast vectorised enclosure and a slower,
    tighter one) is refined lazily: a box's bound is min(fast, tight), both sound, and the tight one is computed
    for the boxes whose fast bound exceeds ``eps_v`` or the largest final bound T_o known so far (``done``, the
    accepted leaves of earlier sweeps, and the boxes already refined here), worst first: any other box's fast
    bound is <= T_o <= the final bound, so the certified bound is at most the one of the tight enclosure alone on
    the same partition, at the cost of the tight enclosure on a few boxes."""
    f_lo, f_hi, forms = inet.propagate(b_lo, b_hi, return_forms=True)
    bound = _bounds_of(target_enclosure(b_lo, b_hi), f_lo, f_hi, forms, outs)
    tight = getattr(target_enclosure, "tight", None)
    if tight is None or done is None:
        return bound
    T = np.asarray(done, dtype=np.float64).copy()
    refined = np.zeros(len(bound), dtype=bool)
    for first in (True, False):
        need = ~refined & (np.any(bound > T, axis=1) | np.any(bound > eps_v, axis=1))
        idx = np.flatnonzero(need)
        if first:  # the worst 64 first: they raise T, so few boxes remain above it
            idx = idx[np.argsort(-np.max(bound[idx] / eps_v, axis=1), kind="stable")[:64]]
        if not idx.size:
            break
        sub = (f_lo[idx], f_hi[idx], tuple(x[idx] for x in forms))
        bt = _bounds_of(tight(b_lo[idx], b_hi[idx]), *sub, outs)
        bound[idx] = np.minimum(bound[idx], bt)
        refined[idx] = True
        ok = np.max(bound[idx] / eps_v, axis=1) <= 1.0
        if ok.any():
            T = np.maximum(T, bound[idx][ok].max(axis=0))
    return bound


def _bounds_of(enc, f_lo, f_hi, forms, outs) -> np.ndarray:
    """``_box_bounds`` from the interval bounds and forms of the network and one enclosure's output."""
    a, c, e, m, r = forms
    n, k = len(f_lo), len(outs)
    f_lo, f_hi, a, c, e = f_lo[:, outs], f_hi[:, outs], a[:, outs, :], c[:, outs], e[:, outs]
    h_lo = np.asarray(enc[0], dtype=np.float64).reshape(n, k)
    h_hi = np.asarray(enc[1], dtype=np.float64).reshape(n, k)
    if len(enc) == 2:  # interval enclosure of g
        bound = round_up(np.maximum(round_up(f_hi - h_lo), round_up(h_hi - f_lo)))
    else:  # g(x) = s·(x - m) + h(x), h ∈ [h_lo, h_hi]; f(x) ∈ a·(x - m) + c ± e
        d = a.shape[2]
        s = np.asarray(enc[2], dtype=np.float64).reshape(n, k, d)
        D = round_up(np.sum(np.abs(a - s) * r[:, None, :], axis=2) * (1 + 4 * (d + 2) * U64))
        K = np.maximum(round_up(c - h_lo), round_up(h_hi - c))
        bound = round_up(round_up(D + K) + e)
        # the plain interval bound is sometimes better (large boxes): take the smaller of two sound bounds
        S = round_up(np.sum(np.abs(s) * r[:, None, :], axis=2) * (1 + 4 * (d + 2) * U64))
        bound = np.minimum(bound, round_up(np.maximum(round_up(f_hi - round_down(h_lo - S)), round_up(round_up(h_hi + S) - f_lo))))
    return np.where(np.isnan(bound), np.inf, bound)


def cert_check(name: str, res: CertResult, claim_bound: float | None = None, certifies_claim: bool = True) -> Check:
    """The Check of one certification: PASS (``certified`` = ``certifies_claim``) when the bound is proven
    <= eps; INCONCLUSIVE when the budget ran out (the best bound and the sampled maximum are reported); FAIL
    when the sampled maximum already exceeds eps (a float64 counterexample beyond the float64 noise is left
    to the sampled checks, which decide it with the allowance)."""
    det = res.as_dict()
    det["method"] = ("interval branch-and-bound, affine forms with outward rounding (verify/certify/interval.py), bounds "
                     "the exact-arithmetic network on the stored float64 weights; target enclosed soundly")
    if claim_bound is not None:
        det["claim_bound"] = claim_bound
    if res.certified:
        chk = Check(name, True, res.bound, res.eps, det)
        chk.certified = certifies_claim
        return chk
    if res.sampled_max > res.eps:
        return Check(name, False, res.sampled_max, res.eps, det,
                     {"box": res.worst_box, "sampled_error": res.sampled_max})
    det["reason"] = (f"budget of {res.budget} boxes ran out: best bound {res.bound:.6g}, sampled max "
                     f"{res.sampled_max:.6g}, eps {res.eps:.6g}")
    return Check(name, None, res.bound, res.eps, det)
