"""thm-3.1 and thm-D.2 with route=paper (lemmas/copying_attention.py): they pass at small sizes with the measured
failure rate inside the repeated-n-gram event, and each broken network (a wrong delay, swapped decoding rows, an
undersized n, ⟨BOS⟩/⟨COPY⟩ in different classes) FAILs through the answers, not only through the counts."""

from __future__ import annotations

import pytest

from verify.registry import load_all, run_claim

REG = load_all()
SMALL = {"thm-3.1": {"route": "paper", "paper_rows": 48}, "thm-D.2": {"route": "paper", "paper_rows": 48}}
ANSWERS = ("paper route: P(output", "paper route: failures happen only")


@pytest.mark.parametrize("cid", sorted(SMALL))
def test_paper_route_passes(cid):
    res = run_claim(REG[cid], SMALL[cid], seed=2)
    assert res.error is None and res.verdict == "PASS", [(c.name, c.status) for c in res.checks]
    c = res.counts
    assert c["route"] == "paper" and c["n"] == c["jelassi_n"] >= 1
    assert c["failure_rate"] <= c["repeated_ngram_rate"] + c["broken_window_rate"]
    assert c["key_patterns"] > 0 and c["state_size"] > 0 and c["S"] == res.formula["S"]


def test_default_run_includes_the_paper_route():
    res = run_claim(REG["thm-3.1"], {"L": 8, "eps": 0.2, "paper_rows": 24}, seed=0)
    assert res.verdict == "PASS"
    assert res.counts["paper_route"]["route"] == "paper"
    assert any(ch.name.startswith("paper route:") for ch in res.checks)


@pytest.mark.parametrize("cid,i", [(c, i) for c in sorted(SMALL) for i in range(4)])
def test_each_paper_mutant_fails_on_the_answers(cid, i):
    claim = REG[cid]
    name, _kind, mutate = claim.mutants({**claim.defaults(), **SMALL[cid]})[i]
    res = run_claim(claim, SMALL[cid], seed=2, mutate=mutate)
    assert res.verdict == "FAIL", name
    failed = [c.name for c in res.checks if c.status == "FAIL"]
    assert any(f.startswith(ANSWERS) for f in failed), (name, failed)


@pytest.mark.parametrize("A,L,eps", [(4, 8, 0.25), (8, 16, 0.1), (16, 8, 0.25), (2, 5, 0.5)])
def test_jelassi_n_is_the_smallest_n_with_L2_A_minus_n_below_eps(A, L, eps):
    from verify.claims.copying import jelassi_n
    n = jelassi_n(A, L, eps)
    assert L * L * float(A) ** -n <= eps * (1 + 1e-12)
    assert n == 1 or L * L * float(A) ** -(n - 1) > eps
