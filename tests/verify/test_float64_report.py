"""The report says per claim whether the certificate covers the float64 evaluation (issue 15, item 7)."""

from verify import report
from verify.registry import float64_coverage
from verify.result import Check, Result


def _checks(covered: bool):
    cert = Check("certified", True, 1e-7, 1e-6, certified=True)
    f64 = Check("float64 net", True, 1e-9, 1e-6, {"float64_covered": covered, "E_fl": 3e-9,
                                                  "float64_reason": "certified bound 1e-07 + E_fl 3e-09 <= ε = 1e-06"
                                                  if covered else "certified bound 1e-06 + E_fl 3e-09 > ε"})
    return [cert, f64]


def test_precision_text_and_markdown_say_which():
    assert float64_coverage(_checks(True)).startswith("certificate covers the float64 evaluation")
    assert "exact arithmetic on the stored weights only" in float64_coverage(_checks(False))
    assert "no float64 rounding analysis" in float64_coverage(_checks(True)[:1])
    md = report.markdown([Result("a", {}, _checks(True)), Result("b", {}, _checks(False))])
    assert "- a: float64 evaluation covered" in md and "- b: exact arithmetic only" in md
