"""``route=positive`` of the lemma-3.3 claim (verify/claims/attention_positive.py, docs/lemmas/lemma-3.3-positive-route.md):
the run passes at the margin-only hypothesis in float64, its report carries the same columns as the paper's routes,
the route table's row comes from ``positive_formula``, the exponent-range refusal is a clear INCONCLUSIVE, and every
positive-route mutant makes the claim FAIL through an error check (not only through the counts)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lemmas import attention as la
from lemmas import attention_positive as ap
from verify import mutants as mu
from verify.claims import attention as cl
from verify.claims import attention_positive as cp
from verify.registry import load_all, run_claim

REG = load_all()
SMALL = {"route": "positive", "N": 64, "d_v": 1, "random": 1}


def _run(params, mutate=None):
    return run_claim(REG["lemma-3.3"], {**SMALL, **params}, seed=0, mutate=mutate)


def _bad(r):
    return [(c.name, c.status, c.measured, c.bound) for c in r.checks if c.status != "PASS"]


@pytest.fixture(scope="module")
def small():
    return _run({})


def test_small_positive_run_passes_in_float64(small):
    r = small
    assert r.error is None and r.verdict == "PASS", _bad(r)
    names = [c.name for c in r.checks]
    assert all(n.startswith("positive") for n in names)
    for part in ("counts = formula", "SSM paths", "‖F_N - v*‖∞ <= ε", "‖F_N - Attn_λ‖∞ <= ε/2", "ρ_W W",
                 "adversarial search", "P-bit enclosures"):
        assert any(part in n for n in names), part
    assert {row["set"] for row in r.counts["table"]} == {"random", "tight", "floor"}
    assert all(row["precision"] == "float64" and row["bits_used"] == 53 for row in r.counts["table"])
    assert "positive route" in r.precision and "float64 evaluation" in r.precision
    assert "exact arithmetic on them" in r.counts["routes"]["positive"]["arithmetic"]
    assert "d=2" not in r.counts  # with_d2 is the paper's chebyshev route: not run with route=positive


def test_report_columns_equal_the_emitted_block(small):
    row = small.counts["routes"]["positive"]
    c = ap.build_attention_positive(1, 1, 64, 0.5, 0.1)
    got = c.net.counts()
    assert row["total_nonzeros"] == got["total_nonzeros"] == c.formula["total_nonzeros"]
    assert row["B"] == got["B"] and row["f2"] == c.formula["f2"] and row["f1"] == c.formula["f1"]
    assert row["precision"] == "float64" and row["eval_bits_needed"] == 53 and row["coef_bits_needed"] == 53
    assert row["T"] == row["J"] == c.formula["J"]
    assert small.counts["S"] == got["S"] and small.counts["terms"] == c.formula["J"]


def test_route_table_row_is_the_positive_formula(small):
    side = {r["route"]: r for r in small.counts["routes_side_by_side"]}
    assert set(side) == {*la.ROUTES, "positive"}
    f = ap.positive_formula(64, 1, 1, 0.5, 0.1, None)
    assert side["positive"]["total"] == f["total_nonzeros"] and side["positive"]["f2.B"] == f["f2"]["B"]
    assert side["positive"]["precision"] == "float64"


def test_exponent_range_is_a_clear_refusal():
    """δ = 0.02, N = 1024: λ(1 - τ) ≈ 1050 > 700; the run is INCONCLUSIVE with the reason, not an error, and the
    route table says so too."""
    r = _run({"N": 1024, "delta": 0.02, "d_v": 2, "side": 0})
    assert r.error is None and r.verdict == "INCONCLUSIVE"
    (chk,) = r.checks
    assert chk.passed is None and "exponent range" in chk.detail["reason"]
    assert cp.route_row(1, 2, 1024, 0.02, 0.1, None)["precision"].startswith("refused")
    with pytest.raises(ValueError, match="exponent range"):
        REG["lemma-3.3"].build({**REG["lemma-3.3"].defaults(), "route": "positive", "delta": 0.02})


def test_routes_switch():
    assert cl.routes("all") == (*la.ROUTES, "positive")
    assert cl.routes("both") == la.ROUTES and cl.routes("positive") == ("positive",)
    with pytest.raises(ValueError, match="route must be one of"):
        cl.routes("taylor")
    assert REG["lemma-3.3"].defaults()["route"] == "all"


# ------------------------------------------------------------------------------------------------ mutants
POSITIVE_MUTANTS = [m for m in cl.own_mutants({"route": "positive", "delta": 0.5})
                    if m[0].startswith("positive") or m[0].startswith("λ")]


@pytest.mark.parametrize("name,kind,mutate", POSITIVE_MUTANTS, ids=[m[0] for m in POSITIVE_MUTANTS])
def test_positive_mutant_fails(name, kind, mutate):
    """Each mutant of the positive route FAILs at N = 64, and an error check (not only the counts) sees it."""
    r = _run({}, mutate)
    assert r.verdict == "FAIL", _bad(r)
    assert any(c.status == "FAIL" and "counts" not in c.name for c in r.checks), _bad(r)


def test_own_mutants_lists_the_positive_ones():
    names = [m[0] for m in cl.own_mutants({"route": "all", "delta": 0.5})]
    assert sum(n.startswith("positive") for n in names) == len(cp.positive_mutants()) == 4
    assert "dominant kernel term dropped from the read-out" in names
    pos = [m[0] for m in cl.own_mutants({"route": "positive", "delta": 0.5})]
    assert "dominant kernel term dropped from the read-out" not in pos
    assert not any(n.startswith("positive") for n in (m[0] for m in cl.own_mutants({"route": "both", "delta": 0.5})))


def test_mutants_say_not_applicable_on_the_other_route():
    """The self-test applies every mutant to every block of a route=all run: the paper's term mutants skip the
    positive block and the positive mutants skip the paper's block (NotApplicable, not an AttributeError)."""
    pos = ap.build_attention_positive(1, 1, 16, 0.5, 0.2)
    paper = la.build_attention(1, 1, 16, 0.5, 0.2, 1.0, "chebyshev")
    for name, _, mut in cl.own_mutants({"route": "both", "delta": 0.5}):
        try:
            out = mut(pos)
        except mu.NotApplicable:
            assert "kernel" in name or "dominant" in name, name
            continue
        assert cp.is_positive(out), name  # the λ and weight mutants apply to every route
    for _, _, mut in cp.positive_mutants():
        with pytest.raises(mu.NotApplicable):
            mut(paper)


def test_chain_sees_a_wrong_denominator():
    """The relative chain: Ŵ 2 % high (ρ_W ≈ 0.8 %) is a ratio above 1; the exact sums give a ratio near 0."""
    c = ap.build_attention_positive(1, 1, 64, 0.5, 0.1)
    W, A = np.array([1e-10, 2e-3]), np.array([[3e-11], [-1e-3]])
    Ap = 0.5 * (W[:, None] + A)
    ok, bound, _, _ = cp.chain(c, np.concatenate([Ap, W[:, None]], axis=1), W, A)
    assert bound == 1.0 and np.all(ok < 1e-9)
    bad, _, _, _ = cp.chain(c, np.concatenate([Ap, 1.02 * W[:, None]], axis=1), W, A)
    assert np.all(bad > 1.0)


def test_float64_against_enclosure_can_fail():
    """The float64-vs-exact check compares with the builder's float_bound: at float_bound = 0 the float64 output
    (which rounds) lies outside the tight enclosure, and the check FAILs."""
    c = ap.build_attention_positive(1, 1, 64, 0.5, 0.1)
    X, i = cl.sample_sequence(np.random.default_rng(1), 64, 1, 1, 0.5, -0.5, "tight", 0)
    good, line = cp.enclosure_checks(c, [(X, i)], "t")
    assert all(ch.passed for ch in good) and "exact arithmetic on them on 1 of 1" in line
    off = good[-1].measured
    assert 0 < off < 1e-12
    zero = dataclasses.replace(c, notes={**c.notes, "float_bound": off / 4})
    assert cp.enclosure_checks(zero, [(X, i)], "t")[0][-1].passed is False


def test_enclosure_contains_the_float64_output_and_is_sound_on_a_tiny_block():
    """On a 2-row sequence the P-bit enclosure of the exact block is tight and holds the float64 value within
    float_bound; a sequence with more distinct rows than ENC_MAX_ROWS is not enclosed, and the report line says
    float64 only."""
    c = ap.build_attention_positive(1, 1, 128, 0.5, 0.1)
    X, i = cl.sample_sequence(np.random.default_rng(2), 128, 1, 1, 0.5, -0.5, "floor", 127)
    e = cp.enclosure_errors(c, X, i)
    assert e["width"] <= cp.ENC_WIDTH and e["float64-off"] <= 2 * c.notes["float_bound"]
    Xr, ir = cl.sample_sequence(np.random.default_rng(2), 128, 1, 1, 0.5, -0.5, "random")
    checks, line = cp.enclosure_checks(c, [(Xr, ir)], "random")
    assert checks == [] and "float64 evaluation" in line and "only" in line and "distinct token rows" in line


@pytest.mark.slow
def test_default_positive_config_passes_and_catches_its_mutants():
    """d = 1, d_v = 2, N = 1024, δ = 0.5, ε = 0.1, margin only: PASS; every positive mutant FAILs."""
    r = run_claim(REG["lemma-3.3"], {"route": "positive"}, seed=0)
    assert r.verdict == "PASS", _bad(r)
    for name, _, mut in POSITIVE_MUTANTS:
        assert run_claim(REG["lemma-3.3"], {"route": "positive"}, seed=0, mutate=mut).verdict == "FAIL", name


def test_enclosure_refused_by_the_evaluator_says_float64_only(monkeypatch):
    """d = 2's Ŵ row has more terms than the int64 limb product allows: no check, and the line says why."""
    c = ap.build_attention_positive(1, 1, 16, 0.5, 0.2)
    X, i = cl.sample_sequence(np.random.default_rng(3), 16, 1, 1, 0.5, -0.5, "tight", 0)

    def refuse(*a, **k):
        raise ValueError("a row of the limb product has 448497 terms > 32767: int64 could overflow")
    monkeypatch.setattr(cp, "block_fixed", refuse)
    checks, line = cp.enclosure_checks(c, [(X, i)], "t")
    assert checks == [] and "only" in line and "refused" in line and "448497" in line


def test_route_all_runs_the_three_routes():
    """route=all (the default) at N = 64 (τ = 1: the paper's routes in float64, cheap): the three routes, each with its
    own rows."""
    r = run_claim(REG["lemma-3.3"], {"route": "all", "N": 64, "d_v": 1, "random": 1, "with_d2": 0, "cert_f1": 0,
                                     "adv": 0, "side": 0, "hypothesis": "tau", "tau": 1.0, "cert_block": 0}, seed=0)
    assert r.verdict == "PASS", _bad(r)
    assert {row["route"] for row in r.counts["table"]} == {*la.ROUTES, "positive"}
    assert set(r.counts["routes"]) == {*la.ROUTES, "positive"}
    assert any(c.name.startswith("positive / ") for c in r.checks) and any(c.name.startswith("gauss / ") for c in r.checks)
