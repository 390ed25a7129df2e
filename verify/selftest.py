"""The mutation self-test (docs/mutants.md): how many broken constructions the default checks catch.

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

A mutant that does not apply to a construction (a weight mutant on an expansion) raises ``mutants.NotApplicable``
and is listed as not applicable, never counted.
"""

from __future__ import annotations

import time

import numpy as np

from constructions.fnn import FNN

from . import mutants
from .registry import accepts_mutate, load_all, run_claim

FAIL = "FAIL"


# ------------------------------------------------------------------------------------------ self-test
def uncaught_reason(res) -> tuple[str, dict]:
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


def max_change(claim, pairs, seed: int, n: int = 4000):
    """max |mutant(x) - original(x)| of the run's FIRST mutated FNN (the claim's construction at its own
    parameters; later ones may be auxiliary instances built for other ε) over ``n`` uniform points of the claim's
    domain box and its two extreme corners; None without a box or an FNN of matching input size."""
    if claim.domain is None:
        return None
    lo, hi = (np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in claim.domain(claim.defaults()))
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
        base = uncaught_reason(run_claim(claim, seed=seed))[1]["max_measured_over_bound"]
        entry["unmutated_max_measured_over_bound"] = base
        muts = mutants.generic_mutants() + list(claim.mutants(claim.defaults()) if claim.mutants else [])
        for name, kind, mutate in muts:
            if progress:
                progress(f"{cid}: {name}")
            row = {"mutant": name, "kind": kind}
            applied, why, pairs = [0], [], []

            def hook(c, mutate=mutate, applied=applied, why=why, pairs=pairs):
                try:
                    m = mutate(c)
                except mutants.NotApplicable as e:  # this construction has nothing to mutate; others of the run may
                    why.append(str(e))
                    return c
                applied[0] += 1
                if isinstance(c.net, FNN) and isinstance(m.net, FNN):
                    pairs.append((c.net, m.net))
                return m
            try:
                res = run_claim(claim, seed=seed, mutate=hook)
                if not applied[0]:
                    raise mutants.NotApplicable(why[0] if why else "the run built no construction")
            except mutants.NotApplicable as e:
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
                reason, info = uncaught_reason(res)
                info["unmutated_max_measured_over_bound"] = base
                change = max_change(claim, pairs, seed)
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
