"""Check results and verdicts (docs/reading-a-verdict.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

PASS, FAIL, VIOLATED, INCONCLUSIVE = "PASS", "FAIL", "HYPOTHESIS VIOLATED", "INCONCLUSIVE"


@dataclass
class Check:
    """One check: ``passed`` is True, False, or None (could not decide); ``violated`` marks inputs outside
    the claim's hypotheses.  ``measured`` and ``bound`` are the compared numbers; ``detail`` holds the rest
    (where the maximum occurred, sample counts, ...); ``counterexample`` the input that failed."""

    name: str
    passed: bool | None
    measured: float | None = None
    bound: float | None = None
    detail: dict = field(default_factory=dict)
    counterexample: dict | None = None
    violated: bool = False

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
        return PASS

    def to_json(self) -> dict:
        d = asdict(self)
        d["verdict"] = self.verdict
        for c, cj in zip(self.checks, d["checks"]):
            cj["status"] = c.status
        return d
