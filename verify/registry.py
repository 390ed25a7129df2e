"""The claim registry: every lemma and theorem the verifier checks, in one list for the CLI, tests and docs.

Claims live in the modules of ``verify.claims``; each module calls ``register`` at import.  A claim's
``run(params, rng)`` builds the weights through the builder in ``lemmas/`` (or ``constructions/``), runs
its checks and returns a ``Result``.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .result import Result


@dataclass(frozen=True)
class Claim:
    id: str
    paper_ref: str
    statement: str  # hypotheses, conclusion, bound, as we verify them
    params: dict  # the paper's parameters of the statement, at their default (modest) values
    run: Callable[[dict, np.random.Generator], Result]
    sweep: tuple = ()  # parameter sets for --full
    growth: str = ""  # the growth the paper (or its source) claims
    doc: str = ""  # path of the claim's page under docs/
    # run switches, apart from the paper's parameters: sample counts, optional check sets, routes; None = the run
    # computes the value (e.g. a growth sweep's float64 floor).  ``--param`` sets both kinds.
    switches: dict = field(default_factory=dict)
    # name -> type (int, float, str, or a tuple of allowed strings), for --param parsing and range checks
    param_types: dict = field(default_factory=dict)
    build: Callable[[dict], object] | None = None  # params -> emitted weights, without checks (``verify inspect``)
    # claim-specific mutants for the self-test (verify/mutants.py): params -> [(name, kind, mutate)], where
    # mutate(construction) -> construction; generic mutants (weights, terms, channels) need no hook, only a
    # ``run(params, rng, mutate=None)`` that applies ``mutate`` to every construction it checks
    mutants: Callable[[dict], list] | None = None
    # params -> (lo, hi): the box of the emitted FNN's inputs the claim speaks about; the mutation self-test samples
    # it to measure how far an uncaught mutant moves the function (verify/mutants.py)
    domain: Callable[[dict], tuple] | None = None
    # rough seconds of the default run on the 2-core development machine: parallel runs start long jobs first
    # (the report keeps the job order); never part of a verdict
    cost: float = 1.0


    def defaults(self) -> dict:
        """The paper's parameters and the run switches at their defaults (switches the run computes left out)."""
        return {**self.params, **{k: v for k, v in self.switches.items() if v is not None}}


REGISTRY: dict[str, Claim] = {}


def register(claim: Claim) -> Claim:
    if claim.id in REGISTRY:
        raise ValueError(f"claim {claim.id!r} registered twice")
    REGISTRY[claim.id] = claim
    return claim


def load_all() -> dict[str, Claim]:
    """Import every module of ``verify.claims`` (each registers its claims; order ``claims.ORDER``) and return
    the registry."""
    from . import claims

    names = [m.name for m in pkgutil.iter_modules(claims.__path__) if m.name != "common"]
    rank = {n: i for i, n in enumerate(claims.ORDER)}
    for name in sorted(names, key=lambda n: (rank.get(n, len(rank)), n)):
        importlib.import_module(f"{claims.__name__}.{name}")
    return REGISTRY


def accepts_mutate(claim: Claim) -> bool:
    """Whether the claim's run takes a ``mutate`` hook (needed by the mutation self-test)."""
    import inspect

    try:
        return "mutate" in inspect.signature(claim.run).parameters
    except (TypeError, ValueError):
        return False


def float64_coverage(checks) -> str:
    """Whether the claim's certificate covers the float64 evaluation of the stored weights over the whole domain
    (a passed ``verify.claims.common.float64_check`` with certified bound + E_fl <= ε), or exact arithmetic only."""
    f64 = [c for c in checks if "float64_covered" in c.detail]
    if f64 and all(c.detail["float64_covered"] for c in f64):
        return ("certificate covers the float64 evaluation over the whole domain ("
                + "; ".join(c.detail["float64_reason"] for c in f64) + ")")
    why = "; ".join(c.detail["float64_reason"] for c in f64 if not c.detail["float64_covered"]) \
        or "no float64 rounding analysis for this claim"
    # a certificate (verify/certify/) bounds the network in exact arithmetic on its stored float64 weights
    return f"certificate: exact arithmetic on the stored weights only (not the float64 evaluation: {why})"


def run_claim(claim: Claim, params: dict | None = None, seed: int = 0, mutate=None) -> Result:
    """Run one claim at ``params`` (defaults filled in) with a reproducible generator; ``mutate`` (a map
    construction -> construction) is handed to runs that accept it (the mutation self-test)."""
    import time

    p = {**claim.defaults(), **(params or {})}
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    if mutate is not None:
        if not accepts_mutate(claim):
            raise ValueError(f"claim {claim.id!r} takes no mutate hook")
        res = claim.run(p, rng, mutate=mutate)
    else:
        res = claim.run(p, rng)
    res.seconds = time.perf_counter() - t0
    res.params = p
    res.growth = res.growth or claim.growth
    if any(c.certified and c.passed is True for c in res.checks) and "certificate" not in res.precision:
        res.precision += "; " + float64_coverage(res.checks)
    return res
