"""The task claims (lemma-H.3, thm-D.1, thm-3.2, thm-3.1, thm-D.2): they pass at small configurations and FAIL
on broken networks (a wrong delay, swapped decoding rows, an undersized memory, a code with a violated margin)
through the check of the answers themselves, not only through the counts; the dyadic exactness profile."""

from __future__ import annotations

import numpy as np
import pytest

from constructions.affine import Affine
from constructions.fnn import FNN
from constructions.model import Decoding, Embedding, SSMModel
from constructions.ssm import SSMLayer, running_sum
from verify.certify.dyadic import dyadic_profile, grid_exp
from verify.registry import load_all, run_claim
from verify.tasks import hypotheses as hyp

REG = load_all()
# the lookup claims' exact route here; route=paper and route=both: test_ngram_routes.py, test_small_configs.py
SMALL = {"lemma-H.3": {"N": 16, "rows": 8, "route": "exact"}, "thm-D.1": {"N": 24, "rows": 8, "route": "exact"},
         "thm-3.2": {"pairs": 6, "rows": 16, "route": "exact"},
         "thm-3.1": {"L": 12, "eps": 0.1}, "thm-D.2": {"T": 24, "m": 8, "eps": 0.1}}
ANSWER_CHECK = {"lemma-H.3": "the output decodes", "thm-D.1": "the output decodes", "thm-3.2": "the output decodes",
                "thm-3.1": "exact on every", "thm-D.2": "exact on every"}


@pytest.mark.parametrize("cid", sorted(SMALL))
def test_small_configuration_passes_and_reports_precision(cid):
    res = run_claim(REG[cid], SMALL[cid], seed=1)
    assert res.error is None and res.verdict == "PASS", [(c.name, c.status) for c in res.checks]
    assert res.counts["bits_needed"] <= 53 and res.counts["state_size"] > 0
    for k in ("D", "L", "W", "S", "B", "state_size", "bits_needed", "info_lower_bound_bits"):
        assert k in res.counts


@pytest.mark.parametrize("cid,i", [(c, i) for c in sorted(SMALL) for i in range(4)])
def test_each_mutant_fails_on_the_answers(cid, i):
    claim = REG[cid]
    name, _kind, mutate = claim.mutants(claim.defaults())[i]
    res = run_claim(claim, SMALL[cid], seed=1, mutate=mutate)
    assert res.verdict == "FAIL", name
    failed = [c.name for c in res.checks if c.status == "FAIL"]
    assert any(f.startswith(ANSWER_CHECK[cid]) for f in failed), (name, failed)


def test_probabilistic_claims_report_the_repeated_ngram_rate():
    res = run_claim(REG["thm-3.1"], {"L": 12, "eps": 0.1, "alphabet": 2}, seed=0)
    assert res.verdict == "PASS"
    assert res.counts["failures"] == 0 and res.counts["repeated_ngram_rate"]["n=2"] > 0.9


def test_grid_exp():
    assert grid_exp([0.5, 0.25, 3.0]) == 2 and grid_exp([0.0, 4.0]) == 0
    assert grid_exp([2.0 ** -60]) == 60 and grid_exp([1 / 3]) > 53


def test_dyadic_profile_flags_a_non_dyadic_weight():
    emb = Embedding(np.array([[1.0, 0.5]]))
    f = FNN([Affine.dense(np.array([[1 / 3]]))])
    model = SSMModel(emb, [(SSMLayer((running_sum(),), U=8), f)], Decoding(np.ones((2, 1))))
    prof = dyadic_profile(model, np.array([[0, 1, 0]]))
    assert not prof["exact_in_float64"] and prof["bits_needed"] > 53
    ok = SSMModel(emb, [(SSMLayer((running_sum(),), U=8), FNN([Affine.dense(np.array([[0.25]]))]))],
                  Decoding(np.ones((2, 1))))
    assert dyadic_profile(ok, np.array([[0, 1, 0]]))["exact_in_float64"]


def test_reference_hypotheses():
    x = np.array([3, 1, 2, 3, 1, 4, 3, 1])
    assert hyp.lookup_status(x, 7, 2) == ("ambiguous", 2)  # (3, 1) followed by 2, then by 4
    assert hyp.lookup_status(x, 7, 3) == ("no_occurrence", -1)
    assert hyp.lookup_status(np.array([5, 6, 7, 5]), 3, 1) == ("ok", 6)
    assert hyp.window(np.array([9, 1, 2]), 2, 3, frozenset({9})) == (2, 1, "CUT")
    assert hyp.window(np.array([1, 9, 2]), 2, 3, frozenset({9})) == (2, "CUT", None)
    assert hyp.rank_status([7, 1, 2, 8, 1], 4, frozenset({8}), frozenset({7})) == ("ok", 2)
    assert hyp.rank_status([7, 1, 2, 8], 3, frozenset({8}), frozenset({7}), Lmax=1)[0] == "too_long"
