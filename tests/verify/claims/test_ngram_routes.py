"""The route switch of the lookup claims (lemma-H.3, thm-D.1, thm-3.2): route=paper runs the paper's-route builder
(lemmas/ngram_attention.py) with its own precision verdict (the sound P-bit enclosure on every row), route=both
(the default) runs both routes on the same inputs; each paper-route mutant (a wrong key delay, swapped decoding
rows, λ too small, a code violating the margin the network was designed for) FAILs the claim on the answers;
``tasks run --set route=paper``."""

from __future__ import annotations

import numpy as np
import pytest

from lemmas import ngram_attention as na
from verify.__main__ import main
from verify.claims import ngram as cn
from verify.claims import taskchecks as tc
from verify.registry import load_all, run_claim
from verify.taskrun import parse_set, run_file
from verify.tasks import generate as gen
from verify.tasks.formats import safari, zoology

REG = load_all()
LOOKUP = ("lemma-H.3", "thm-D.1", "thm-3.2")
SMALL = {"lemma-H.3": {"N": 16, "rows": 8}, "thm-D.1": {"N": 24, "rows": 8}, "thm-3.2": {"pairs": 6, "rows": 16}}
PAPER_ANSWERS = cn.PAPER_PREFIX + "the output decodes"
PAPER_PBIT = cn.PAPER_PREFIX + "sound P-bit fixed-point enclosure"


def _paper(cid):
    return {**SMALL[cid], "route": "paper"}


@pytest.mark.parametrize("cid", LOOKUP)
def test_paper_route_passes_with_its_own_precision_verdict(cid):
    res = run_claim(REG[cid], _paper(cid), seed=1)
    assert res.error is None and res.verdict == "PASS", [(c.name, c.status) for c in res.checks]
    names = [c.name for c in res.checks]
    assert all(n.startswith(cn.PAPER_PREFIX) for n in names)
    assert any(n.startswith(PAPER_PBIT) for n in names) and any(n.startswith(PAPER_ANSWERS) for n in names)
    assert not any("dyadic grid" in n for n in names)  # the exact route's proof is not claimed for this route
    assert "P = 53" in res.precision and res.precision.startswith("route=paper")
    c = res.counts
    assert c["bits_evaluated"] == 53 and 1 < c["bits_needed"] <= 53
    assert c["state_capacity_bits"] > 0 and c["key_features"] == REG[cid].build(res.params).formula["key_features"]
    if cid == "thm-3.2":  # the recall bound (distinct keys); H.3 and D.1 derive none
        assert c["state_capacity_bits"] >= c["info_lower_bound_bits"] > 0
    else:
        assert c["info_lower_bound_bits"] is None
    # the adversarial rows ran on this route too
    assert sum(v for k, v in c["rows"].items() if k != "random") >= 3


def test_both_routes_run_on_the_same_inputs():
    res = run_claim(REG["thm-3.2"], {**SMALL["thm-3.2"], "route": "both"}, seed=1)
    assert res.verdict == "PASS"
    exact = [c.name for c in res.checks if not c.name.startswith(cn.PAPER_PREFIX)]
    paper = [c.name for c in res.checks if c.name.startswith(cn.PAPER_PREFIX)]
    assert any("dyadic grid" in n for n in exact) and any(n.startswith(PAPER_PBIT) for n in paper)
    rp = res.counts["route_paper"]
    assert rp["rows"] == res.counts["rows"] and rp["formula"]["key_features"] == 8 + 8  # |V|^1, V = n_keys + n_values
    assert "route=exact" in res.precision and "route=paper" in res.precision
    assert res.formula == REG["thm-3.2"].build(res.params).formula  # top level: the exact route


# n = 1 (D.1, 3.2) by default; H.3 (n = 2, |V|^n = 256 key features) in the slow run
MUTANT_CASES = [pytest.param(c, i, marks=pytest.mark.slow) if c == "lemma-H.3" else (c, i)
                for c in LOOKUP for i in range(4)]


@pytest.mark.parametrize("cid,i", MUTANT_CASES)
def test_each_paper_mutant_fails_on_the_answers(cid, i):
    claim = REG[cid]
    p = _paper(cid)
    name, kind, mutate = claim.mutants({**claim.defaults(), **p})[i]
    res = run_claim(claim, p, seed=1, mutate=mutate)
    assert res.error is None, res.error
    failed = [c.name for c in res.checks if c.status == "FAIL"]
    assert res.verdict == "FAIL", name
    assert any(f.startswith(PAPER_ANSWERS) for f in failed), (kind, failed)
    if kind != "swap decoding":  # a swapped decoding is certified wrong, and the enclosure says so too
        assert any(f.startswith(PAPER_PBIT) for f in failed), (kind, failed)


def test_violated_margin_is_refused_without_the_test_hook():
    con = cn.build_paper(16, 1, 12, 0.5, 0.1, 0)  # k = 16: the violated pair has ⟨c_a, c_b⟩ = 1 - 2/16 > δ
    a, b = tc.closest_pair(con.net, range(16))
    E = tc.violated_code(con.net.embedding.E, a, b)
    with pytest.raises(ValueError, match="eps"):
        cn.build_paper(16, 1, 12, 0.5, 0.1, 0, code=E)
    broken = cn.build_paper(16, 1, 12, 0.5, 0.1, 0, code=E, assume_margin=0.5)
    assert broken.params["assume_margin"] == 0.5


def test_paper_route_refuses_cut_windows_and_unknown_routes():
    with pytest.raises(ValueError, match="cut"):
        cn.build({"V": 8, "n": 2, "N": 12, "delta": 0.5, "code_seed": 0, "cut": [3], "route": "paper"})
    with pytest.raises(ValueError, match="route"):
        cn.build({"V": 8, "n": 2, "N": 12, "delta": 0.5, "code_seed": 0, "route": "fast"})


def test_precision_check_fails_when_float64_and_the_enclosure_disagree():
    con = cn.build_paper(8, 1, 12, 0.5, 0.1, 0)
    T = gen.induction(4, 12, vocab=8, seed=3)
    X, A = T.tokens[:, :12], T.tokens[:, 12]
    F = na.last_logits(con.net, X)
    ok, _ = tc.route_precision_checks(con, "paper", X, A, np.arange(2), F)
    assert all(c.passed for c in ok)
    bad = F.copy()
    bad[0, (A[0] + 1) % 8] = 10.0  # a float64 run that put another token on top of row 0
    checks, _ = tc.route_precision_checks(con, "paper", X, A, np.arange(2), bad)
    agree = next(c for c in checks if c.name.startswith("float64 argmax"))
    assert agree.passed is False and agree.counterexample["row"] == 0
    wrong = (A + 1) % 8  # reference answers the enclosure does not put on top
    checks, _ = tc.route_precision_checks(con, "paper", X, wrong, np.arange(2), F)
    assert [c.passed for c in checks[:2]] == [False, False]


@pytest.mark.parametrize("fmt,make", [
    ("zoology", lambda: zoology.to_native(zoology.from_recall(gen.recall(8, 5, 8, 8, seed=1)))),
    ("safari", lambda: safari.to_native(safari.from_generated(gen.induction(8, 16, vocab=8, seed=2)))),
])
def test_tasks_run_with_the_paper_route(tmp_path, fmt, make):
    p = tmp_path / f"{fmt}.npz"
    np.savez(p, **make())
    out = run_file(fmt, p, overrides={"route": "paper"})
    assert out["network"]["route"] == "paper"
    assert out["inside_hypotheses"]["positions"] == out["scored_positions"] > 0
    assert out["inside_hypotheses"]["accuracy"] == 1.0 and out["accuracy_native"] == 1.0
    assert main(["tasks", "run", fmt, str(p), "--set", "route=paper"]) == 0


def test_set_parsing(tmp_path, capsys):
    assert parse_set(["route=paper"]) == {"route": "paper"} and parse_set(None) == {}
    for bad in (["route=fast"], ["eps=0.1"], ["route"]):
        with pytest.raises(ValueError):
            parse_set(bad)
    p = tmp_path / "s.npz"
    np.savez(p, **safari.to_native(safari.from_generated(gen.induction(4, 12, vocab=8, seed=2))))
    assert main(["tasks", "run", "safari", str(p), "--set", "route=fast"]) == 2
    assert main(["tasks", "run", "safari", str(p), "--claim", "thm-3.1", "--set", "route=paper"]) == 2
    assert "verify: error:" in capsys.readouterr().err


def test_shortened_first_window_fails_the_paper_route_with_a_reason():
    """The generic 'shorten the SSM window by 1' mutant (uncaught by the exact route of H.3: one position of
    slack) drops the paper route's key slot: wrong answers, and the P-bit check FAILs with the evaluator's reason."""
    from verify.mutants import generic_mutants

    mutate = next(m for name, _k, m in generic_mutants() if "window" in name)
    res = run_claim(REG["thm-D.1"], _paper("thm-D.1"), seed=1, mutate=mutate)
    failed = {c.name: c for c in res.checks if c.status == "FAIL"}
    assert res.error is None and any(n.startswith(PAPER_ANSWERS) for n in failed)
    pbit = next(c for n, c in failed.items() if n.startswith(PAPER_PBIT))
    assert pbit.detail["reason"].startswith("no enclosure")
