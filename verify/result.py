"""Check results and verdicts (docs/reading-a-verdict.md, docs/certification.md).

Verdicts: FAIL (some check failed, or the run raised), HYPOTHESIS VIOLATED, INCONCLUSIVE (some check could
not decide), CERTIFIED (all checks passed and one of them is a certificate: a sound bound over the whole
domain, ``Check.certified``), PASS (all checks passed).  CERTIFIED counts as a pass for the exit code."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

PASS, FAIL, VIOLATED, INCONCLUSIVE = "PASS", "FAIL", "HYPOTHESIS VIOLATED", "INCONCLUSIVE"
CERTIFIED = "CERTIFIED"  # every check passed and one is a sound certificate of the claim (counts as a pass)


@dataclass
class Check:
    """One check: ``passed`` is True, False, or None (could not decide); ``violated`` marks inputs outside
    the claim's hypotheses.  ``measured`` and ``bound`` are the compared numbers; ``detail`` holds the rest
    (where the maximum occurred, sample counts, ...); ``counterexample`` the input that failed.
    ``certified`` marks a passed check that is a sound proof of the claim's sup-norm error bound at the
    claim's parameters over the whole domain, for exact arithmetic on the stored weights (verify/certify/),
    not a sample.  Other clauses of a statement (perturbed inputs, exact zeros, counts) keep their own checks."""

    name: str
    passed: bool | None
    measured: float | None = None
    bound: float | None = None
    detail: dict = field(default_factory=dict)
    counterexample: dict | None = None
    violated: bool = False
    certified: bool = False

    @property
    def status(self) -> str:
        if self.violated:
            return VIOLATED
        return {True: PASS, False: FAIL, None: INCONCLUSIVE}[self.passed]


@dataclass
class Result:
    """Everything a verdict reports for one claim at one parameter set."""

    claim: str
    params: dict
    checks: list[Check]
    counts: dict = field(default_factory=dict)
    formula: dict = field(default_factory=dict)
    growth: str = ""
    precision: str = "float64"
    seconds: float = 0.0
    error: str | None = None

    @property
    def verdict(self) -> str:
        if self.error is not None:
            return FAIL
        st = [c.status for c in self.checks]
        if FAIL in st:
            return FAIL
        if VIOLATED in st:
            return VIOLATED
        if INCONCLUSIVE in st or not st:
            return INCONCLUSIVE
        if any(c.certified and c.passed is True for c in self.checks):
            return CERTIFIED
        return PASS

    def to_json(self) -> dict:
        d = asdict(self)
        d["verdict"] = self.verdict
        for c, cj in zip(self.checks, d["checks"]):
            cj["status"] = c.status
        return d
