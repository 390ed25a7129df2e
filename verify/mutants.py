"""Mutants of emitted weights and the mutation self-test (issue 6, docs/mutants.md).

A mutant is a map construction -> construction that breaks the emitted weights a little: one weight
multiplied by (1 + rel), one expansion term dropped or one coefficient perturbed, two SSM channels swapped,
an SSM window shortened, or (claim-specific, through ``Claim.mutants``) one sawtooth level removed.  The
self-test runs every claim whose ``run`` takes ``mutate`` under each mutant with the DEFAULT checks and counts
the mutants caught (verdict FAIL).  An uncaught mutant is listed with the reason read from its run:

* ``certified equivalent``: a certified check still passed on the mutant, i.e. it is PROVEN to satisfy the
  claim's bound (exact arithmetic on its stored weights): the change did not move the function beyond ε;
* ``within bound on every check``: every check passed (the largest measured/bound ratio is reported); the
  sampled and adversarial points saw no error beyond ε, but no certificate covers the mutant;
* ``undecided``: some check was INCONCLUSIVE.

A mutant that does not apply to a construction (a weight mutant on an expansion) raises ``NotApplicable``
and is listed as not applicable, never counted.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from constructions.affine import Affine
from constructions.fnn import FNN

FAIL = "FAIL"


class NotApplicable(Exception):
    """The mutant has nothing to change in this kind of construction."""


# ------------------------------------------------------------------------------------------ FNN weights
def perturb_weight(net: FNN, layer: int, k: int | None = 0, rel: float = 1e-2) -> FNN:
    """A mutant: the k-th stored nonzero of map ``layer`` (k None: the largest in magnitude) multiplied by
    (1 + rel)."""
    maps = []
    for i, ((r, c, v), b, shape) in enumerate(net.affine_maps()):
        v = v.copy()
        if i == layer % net.depth:
            nz = np.flatnonzero(v)
            if nz.size == 0:
                raise NotApplicable(f"map {i} has no nonzero weight")
            j = nz[int(np.argmax(np.abs(v[nz])))] if k is None else nz[k % nz.size]
            v[j] *= 1.0 + rel
        maps.append(Affine.from_coo(r, c, v, shape, b))
    return FNN(maps)


def perturb_bias(net: FNN, layer: int, rel: float = 1e-2) -> FNN:
    """A mutant: the largest bias of map ``layer`` multiplied by (1 + rel)."""
    maps = []
    for i, ((r, c, v), b, shape) in enumerate(net.affine_maps()):
        b = np.array(b, dtype=np.float64)
        if i == layer % net.depth:
            if not np.any(b):
                raise NotApplicable(f"map {i} has no nonzero bias")
            j = int(np.argmax(np.abs(b)))
            b[j] *= 1.0 + rel
        maps.append(Affine.from_coo(r, c, v, shape, b))
    return FNN(maps)


def _with_net(c, net):
    return dataclasses.replace(c, net=net)


def _layer_at(net: FNN, where: str) -> int:
    return {"first": 0, "middle": net.depth // 2, "last": net.depth - 1}[where]


def weight_mutant(where: str, rel: float, k: int | None = None):
    """Mutator: perturb the largest (k None) or k-th weight of the first/middle/last map of an FNN."""
    def mutate(c):
        if not isinstance(c.net, FNN):
            raise NotApplicable(f"{type(c.net).__name__} is not an FNN")
        return _with_net(c, perturb_weight(c.net, _layer_at(c.net, where), k, rel))
    return mutate


def bias_mutant(where: str, rel: float):
    def mutate(c):
        if not isinstance(c.net, FNN):
            raise NotApplicable(f"{type(c.net).__name__} is not an FNN")
        return _with_net(c, perturb_bias(c.net, _layer_at(c.net, where), rel))
    return mutate


# ---------------------------------------------------------------------------------------- expansions
def drop_term_mutant(which: str):
    """Mutator: drop the first / last (highest degree) term of an expansion with ``without(i)`` and ``alphas``."""
    def mutate(c):
        net = c.net
        if not (hasattr(net, "without") and hasattr(net, "alphas")):
            raise NotApplicable(f"{type(net).__name__} has no expansion terms")
        n = len(net.alphas)
        return _with_net(c, net.without(0 if which == "first" else n - 1))
    return mutate


def coefficient_mutant(rel: float):
    """Mutator: multiply the largest expansion coefficient by (1 + rel)."""
    def mutate(c):
        net = c.net
        if not (hasattr(net, "coef") and hasattr(net, "alphas")):
            raise NotApplicable(f"{type(net).__name__} has no expansion coefficients")
        coef = np.array(net.coef, dtype=np.float64)
        coef[int(np.argmax(np.abs(coef)))] *= 1.0 + rel
        return _with_net(c, dataclasses.replace(net, coef=coef))
    return mutate


# ------------------------------------------------------------------------------------------- SSM layers
def swap_channels(layer, i: int = 0, j: int = 1):
    """An SSM layer with channels i and j swapped (W_in, W_out kept): a different filter on each coordinate
    unless the two channels are equal."""
    from constructions.ssm import SSMLayer

    ch = list(layer.channels)
    if len(ch) < 2:
        raise NotApplicable("a one-channel layer has nothing to swap")
    i, j = i % len(ch), j % len(ch)
    ch[i], ch[j] = ch[j], ch[i]
    return SSMLayer(tuple(ch), layer.U, layer.W_in, layer.W_out)


def shorten_window(layer, by: int = 1):
    """An SSM layer with window U - by (at least 1)."""
    from constructions.ssm import SSMLayer

    if layer.U <= 1:
        raise NotApplicable("window U = 1 cannot be shortened")
    return SSMLayer(layer.channels, max(1, layer.U - by), layer.W_in, layer.W_out)


def _map_ssm(c, fn):
    """Apply ``fn`` to the SSM layer of a construction (an SSMLayer, or the first block of an SSMModel whose
    layer ``fn`` changes)."""
    from constructions.model import SSMModel
    from constructions.ssm import SSMLayer

    net = c.net
    if isinstance(net, SSMLayer):
        return _with_net(c, fn(net))
    if isinstance(net, SSMModel):
        blocks = list(net.blocks)
        for b, (g, f) in enumerate(blocks):
            try:
                blocks[b] = (fn(g), f)
            except NotApplicable:
                continue
            return _with_net(c, dataclasses.replace(net, blocks=tuple(blocks)))
        raise NotApplicable("no SSM layer of the model can be mutated this way")
    raise NotApplicable(f"{type(net).__name__} has no SSM layer")


def swap_channels_mutant(i: int = 0, j: int = -1):
    def mutate(c):
        return _map_ssm(c, lambda g: _distinct_swap(g, i, j))
    return mutate


def _same_channel(a, b) -> bool:
    return (a.D == b.D and a.A.shape == b.A.shape and np.array_equal(a.A, b.A) and np.array_equal(a.B, b.B)
            and np.array_equal(a.C, b.C))


def _distinct_swap(g, i, j):
    n = len(g.channels)
    if n < 2 or _same_channel(g.channels[i % n], g.channels[j % n]):
        raise NotApplicable("the swapped channels are identical")
    return swap_channels(g, i, j)


def shorten_window_mutant(by: int = 1):
    def mutate(c):
        return _map_ssm(c, lambda g: shorten_window(g, by))
    return mutate


def generic_mutants() -> list[tuple[str, str, object]]:
    """The mutants every claim is tried with: (name, kind, mutate)."""
    return [
        ("weight x(1+1e-3), first map, largest entry", "perturb weight", weight_mutant("first", 1e-3)),
        ("weight x(1+1e-3), middle map, largest entry", "perturb weight", weight_mutant("middle", 1e-3)),
        ("weight x(1+1e-3), last map, largest entry", "perturb weight", weight_mutant("last", 1e-3)),
        ("weight x(1+1e-2), middle map, first entry", "perturb weight", weight_mutant("middle", 1e-2, 0)),
        ("weight x(1+1e-9), middle map, largest entry", "perturb weight", weight_mutant("middle", 1e-9)),
        ("bias x(1+1e-3), first map, largest", "perturb weight", bias_mutant("first", 1e-3)),
        ("drop the first expansion term", "drop term", drop_term_mutant("first")),
        ("drop the last expansion term", "drop term", drop_term_mutant("last")),
        ("largest coefficient x(1+1e-3)", "perturb weight", coefficient_mutant(1e-3)),
        ("swap the first and last SSM channels", "swap channels", swap_channels_mutant(0, -1)),
        ("shorten the SSM window by 1", "shorten window", shorten_window_mutant(1)),
    ]


# ------------------------------------------------------------------------------------------ self-test
def _reason(res) -> tuple[str, dict]:
    # a passed certificate on the mutated construction itself (not on an auxiliary instance)
    cert = [c for c in res.checks if c.passed is True and (c.certified or c.detail.get("same_instance") is True)]
    ratios = [c.measured / c.bound for c in res.checks
              if c.measured is not None and c.bound not in (None, 0) and np.isfinite(c.measured)]
    info = {"verdict": res.verdict, "max_measured_over_bound": float(max(ratios)) if ratios else None}
    if cert:
        info["certified_bound"] = cert[0].measured
        info["eps"] = cert[0].bound
        return "certified equivalent: proven to stay within the bound, the change did not move the function beyond ε", info
    if res.verdict == "INCONCLUSIVE":
        return "undecided: some check was INCONCLUSIVE", info
    return "within bound on every check (no point found beyond ε; not certified)", info


def _max_change(claim, pairs, seed: int, n: int = 4000):
    """max |mutant(x) - original(x)| of the run's FIRST mutated FNN (the claim's construction at its own
    parameters; later ones may be auxiliary instances built for other ε) over ``n`` uniform points of the claim's
    domain box and its two extreme corners; None without a box or an FNN of matching input size."""
    if claim.domain is None:
        return None
    lo, hi = (np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in claim.domain(dict(claim.params)))
    for orig, mut in pairs:
        if orig.d_in == lo.size:
            X = np.concatenate([np.random.default_rng(seed).uniform(lo, hi, (n, lo.size)), lo[None, :], hi[None, :]])
            return float(np.max(np.abs(mut(X) - orig(X)))), n + 2
    return None


def run_mutants(claim_ids=None, seed: int = 0, progress=None) -> dict:
    """Run the mutation self-test: for each claim (all registered, or ``claim_ids``) whose run takes a mutate
    hook, the generic mutants plus the claim's own (``Claim.mutants``), each under the default checks.
    Returns {"claims": {id: {...}}, "total": n, "caught": k, "rate": k/n, "uncaught": [...], "seconds": s}.
    ``progress(message)`` is called before each run when given."""
    from .registry import accepts_mutate, load_all, run_claim

    reg = load_all()
    ids = list(reg) if claim_ids is None else list(claim_ids)
    unknown = [i for i in ids if i not in reg]
    if unknown:
        raise ValueError(f"unknown claim id(s): {', '.join(unknown)}")
    t0 = time.perf_counter()
    out: dict = {"claims": {}, "total": 0, "caught": 0, "uncaught": [], "seed": seed}
    for cid in ids:
        claim = reg[cid]
        entry = {"mutants": [], "total": 0, "caught": 0, "not_applicable": 0}
        out["claims"][cid] = entry
        if not accepts_mutate(claim):
            entry["supported"] = False
            entry["reason"] = "run() takes no mutate hook"
            continue
        entry["supported"] = True
        base = _reason(run_claim(claim, seed=seed))[1]["max_measured_over_bound"]
        entry["unmutated_max_measured_over_bound"] = base
        muts = generic_mutants() + list(claim.mutants(dict(claim.params)) if claim.mutants else [])
        for name, kind, mutate in muts:
            if progress:
                progress(f"{cid}: {name}")
            row = {"mutant": name, "kind": kind}
            applied, why, pairs = [0], [], []

            def hook(c, mutate=mutate, applied=applied, why=why, pairs=pairs):
                try:
                    m = mutate(c)
                except NotApplicable as e:  # this construction has nothing to mutate; others of the run may
                    why.append(str(e))
                    return c
                applied[0] += 1
                if isinstance(c.net, FNN) and isinstance(m.net, FNN):
                    pairs.append((c.net, m.net))
                return m
            try:
                res = run_claim(claim, seed=seed, mutate=hook)
                if not applied[0]:
                    raise NotApplicable(why[0] if why else "the run built no construction")
            except NotApplicable as e:
                row.update(status="not applicable", reason=str(e))
                entry["not_applicable"] += 1
                entry["mutants"].append(row)
                continue
            except Exception as e:  # a mutant that makes the run raise is detected too
                row.update(status="caught", reason=f"run raised {type(e).__name__}: {e}")
                entry["total"] += 1
                entry["caught"] += 1
                entry["mutants"].append(row)
                continue
            entry["total"] += 1
            if res.verdict == FAIL:
                failed = [c.name for c in res.checks if c.status == FAIL]
                row.update(status="caught", failed_checks=failed[:6], n_failed=len(failed))
                entry["caught"] += 1
            else:
                reason, info = _reason(res)
                info["unmutated_max_measured_over_bound"] = base
                change = _max_change(claim, pairs, seed)
                if change is not None:
                    info["max_change_on_domain"], info["domain_points"] = change
                    reason += f"; it moves the claim's own net by at most {change[0]:.3g} on {change[1]} points of its domain"
                row.update(status="uncaught", reason=reason, **info)
                out["uncaught"].append({"claim": cid, "mutant": name, "reason": reason, **info})
            entry["mutants"].append(row)
        entry["rate"] = entry["caught"] / entry["total"] if entry["total"] else None
        out["total"] += entry["total"]
        out["caught"] += entry["caught"]
    out["rate"] = out["caught"] / out["total"] if out["total"] else None
    out["seconds"] = time.perf_counter() - t0
    return out


def format_mutants(rep: dict) -> str:
    """A plain-text table of ``run_mutants``' report: per claim caught/total, then every uncaught mutant."""
    lines = [f"{'claim':<24} {'caught':>7} {'total':>6} {'rate':>6}  n/a"]
    for cid, e in rep["claims"].items():
        if not e.get("supported"):
            lines.append(f"{cid:<24} {'-':>7} {'-':>6} {'-':>6}  ({e.get('reason')})")
            continue
        rate = "-" if e["rate"] is None else f"{100 * e['rate']:.0f}%"
        lines.append(f"{cid:<24} {e['caught']:>7} {e['total']:>6} {rate:>6}  {e['not_applicable']}")
    rate = "-" if rep["rate"] is None else f"{100 * rep['rate']:.1f}%"
    lines.append(f"total: {rep['caught']}/{rep['total']} mutants caught ({rate}) in {rep['seconds']:.1f} s")
    lines.append("(an uncaught mutant shows the largest measured/bound of its run beside the unmutated run's: equal "
                 "ratios mean the change stayed inside the slack the construction leaves below ε)")
    if rep["uncaught"]:
        lines.append("uncaught mutants:")
        for u in rep["uncaught"]:
            r = u.get("max_measured_over_bound")
            r0 = u.get("unmutated_max_measured_over_bound")
            lines.append(f"  {u['claim']}: {u['mutant']}: {u['reason']}"
                         + (f" (max measured/bound {r:.4g}; unmutated {r0:.4g})" if r is not None and r0 is not None
                            else f" (max measured/bound {r:.4g})" if r is not None else ""))
    return "\n".join(lines)
