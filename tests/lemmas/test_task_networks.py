"""The float64-exact task networks (lemmas/ngram.py, lemmas/copying.py, lemmas/task_blocks.py): exact count
formulas, exact answers on generated tasks, the cut convention, errors on bad input."""

from __future__ import annotations

import numpy as np
import pytest

from lemmas import copying as lc
from lemmas import ngram as ln
from lemmas import task_blocks as tb
from verify.claims.taskchecks import model_counts
from verify.tasks import generate as gen
from verify.tasks import hypotheses as hyp
from verify.tasks.formats import s4
from verify.tasks.scoring import greedy_row_correct, score_model, teacher_forced_predictions


@pytest.mark.parametrize("V,n,N,cut,nb", [(16, 1, 8, (), None), (16, 2, 8, (), 5), (10, 3, 12, (), None),
                                           (16, 2, 9, (14, 15), None), (12, 3, 7, (0,), 3), (12, 1, 7, (3,), None)])
def test_lookup_counts_equal_formula(V, n, N, cut, nb):
    c = ln.build_lookup(V, n, N, cut=cut, n_blocks=nb)
    got = model_counts(c.net)
    assert {k: got[k] for k in got} == {k: c.formula[k] for k in got}


@pytest.mark.parametrize("V,L,N,cp,ig", [(18, 8, 20, (17,), (16,)), (11, 5, 30, (10,), (8, 9)),
                                          (20, 12, 40, (17,), (16, 18, 19))])
def test_rank_counts_equal_formula(V, L, N, cp, ig):
    c = lc.build_rank_memory(V, L, N, cp, ig)
    got = model_counts(c.net)
    assert {k: got[k] for k in got} == {k: c.formula[k] for k in got}


def test_code_is_a_power_of_four_with_margin():
    for m in (5, 16, 18):
        vc = tb.task_code(m, 0.5)
        assert vc.k in (4, 16, 64, 256) and vc.max_abs_gram <= vc.margin
        assert tb.code_step(vc.k) == 2.0 ** -(int(np.log2(vc.k)) // 2)


def test_lookup_is_exact_on_generated_tasks():
    T = gen.ngram(16, 24, n=2, vocab=16, seed=3)
    assert score_model(ln.build_lookup(16, 2, 25).net, T, method="exact") == 1.0
    T = gen.induction(16, 24, vocab=16, seed=4)
    assert score_model(ln.build_lookup(16, 1, 25).net, T, method="exact") == 1.0
    T = gen.recall(16, 6, 8, 8, seed=5)
    assert score_model(ln.build_lookup(16, 1, 14).net, T, method="exact") == 1.0


def test_rank_memory_copies_in_both_forms():
    T = gen.copying(16, 12, 14, seed=1)
    net = lc.build_rank_memory(16, 12, T.length, [15], [14]).net
    assert score_model(net, T, method="exact") == 1.0
    assert greedy_row_correct(net, gen.copying(3, 12, 14, seed=2)).all()
    S = gen.selective_copying(16, 30, 9, alphabet=8, seed=2)  # PAD 8, BOS 9, COPY 10
    assert score_model(lc.build_rank_memory(11, 9, S.length, [10], [8, 9]).net, S, method="exact") == 1.0
    M = s4.from_selective_copying(S)  # s4's marker form: no feedback, read index = number of markers
    assert score_model(lc.build_rank_memory(M.vocab.size, 9, M.length, [M.vocab.special["MARKER"]], [0]).net, M,
                       method="exact") == 1.0


def test_cut_convention_matches_the_reference_on_copy_rows():
    """⟨BOS⟩ and ⟨COPY⟩ share a code and windows are cut there: the n-gram lookup copies wherever the reference
    says the window is unambiguous, and answers the first occurrence elsewhere."""
    T = gen.copying(12, 10, 4, seed=7)  # a small alphabet: repeated bigrams happen
    net = ln.build_lookup(6, 2, T.length, cut=(4, 5)).net
    P = teacher_forced_predictions(net, T.tokens, method="exact")
    n_ok = n_amb = 0
    for r, t in zip(*np.nonzero(T.scored)):
        st, a = hyp.lookup_status(T.tokens[r], int(t), 2, frozenset({4, 5}))
        assert st in ("ok", "ambiguous")
        assert P[r, t] == a  # the first occurrence's successor
        n_ok += st == "ok"
        n_amb += st == "ambiguous"
        if st == "ok":
            assert a == T.targets[r, t]
    assert n_ok and n_amb


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="power of 2"):
        ln.build_lookup(8, 1, 8, delta=0.3)
    with pytest.raises(ValueError, match="route"):
        ln.build_lookup(8, 1, 8, route="paper")
    with pytest.raises(ValueError, match="n_blocks"):
        ln.build_lookup(8, 1, 8, n_blocks=8)
    with pytest.raises(ValueError, match="copy token"):
        lc.build_rank_memory(8, 4, 10, [], [1])
    with pytest.raises(ValueError, match="disjoint"):
        lc.build_rank_memory(8, 4, 10, [1], [1])
    with pytest.raises(ValueError, match="k must be a power of 4"):
        tb.code_step(8)
