"""lemmas/copying_attention.py: the paper's route for copying (Theorem 3.1) and selective copying (Theorem D.2).
Counts = the exact formula; right on every input meeting the statement's hypotheses; wrong where they fail (a
repeated n-gram with different successors, a PAD run longer than the slot window); bad input rejected."""

from __future__ import annotations

import numpy as np
import pytest

from lemmas import copying_attention as ca
from verify.certify.lemma_ngram_attention import certify_rows
from verify.claims import taskchecks as tc
from verify.tasks.scoring import teacher_forced_predictions


def _formula_matches(con):
    got = tc.model_counts(con.net)
    return {k: (got[k], con.formula[k]) for k in tc.COUNT_KEYS if got[k] != con.formula[k]}


@pytest.mark.parametrize("kw", [{"alphabet": 3, "L": 6, "n": 1}, {"alphabet": 3, "L": 6, "n": 2},
                                {"alphabet": 4, "L": 8, "n": 3}, {"alphabet": 3, "L": 6, "n": 2, "merge_cut": False}])
def test_copy_counts_equal_formula(kw):
    assert _formula_matches(ca.build_copy_paper(**kw)) == {}


@pytest.mark.parametrize("kw", [{"alphabet": 3, "T": 8, "m": 4, "n": 1},
                                {"alphabet": 3, "T": 10, "m": 4, "n": 2, "w": 3},
                                {"alphabet": 4, "T": 12, "m": 5, "n": 3},
                                {"alphabet": 3, "T": 8, "m": 4, "n": 2, "merge_cut": False}])
def test_selective_counts_equal_formula(kw):
    assert _formula_matches(ca.build_selective_copy_paper(**kw)) == {}


@pytest.mark.parametrize("A,Cc,n", [(3, 1, 1), (3, 1, 3), (4, 2, 2), (2, 1, 4)])
def test_pattern_and_suffix_counts(A, Cc, n):
    pats = ca.patterns(A, Cc, n, A + Cc)
    assert len(pats) == len(set(pats)) == ca.pattern_count(A, Cc, n)
    for ell in range(n + 1):
        assert len({p[n - ell:] for p in pats}) == ca.suffix_count(A, Cc, n, ell)


def _copy_rows(x_rows, A):
    return np.array([np.r_[A, x, A + 1, x] for x in x_rows])


def _predict_copy(con, x_rows, A):
    X = _copy_rows(x_rows, A)
    L = X.shape[1] // 2 - 1
    P = teacher_forced_predictions(con.net, X, method="exact")
    return np.all(P[:, L + 1:2 * L + 1] == X[:, L + 2:], axis=1)


def test_copy_right_without_repeated_ngram_and_wrong_with_one():
    A, L, n = 3, 8, 2
    con = ca.build_copy_paper(A, L, n)
    # BOS and COPY share one embedding column (one class); the kernel's diagonal is exactly 1
    E = con.net.embedding.E
    assert np.array_equal(E[:, A], E[:, A + 1])
    K1 = ca.symbol_kernel(ca.tb.code_for(con.notes["classes"]["m"], 0.5)[1], con.notes["lam"])
    assert np.all(np.diag(K1) == 1.0)
    good = [[0, 0, 1, 1, 2, 2, 0, 2], [2, 1, 0, 2, 2, 0, 0, 1]]  # no 2-gram twice
    assert _predict_copy(con, good, A).all()
    bad = [[0, 1, 2, 0, 1, 0, 2, 2]]  # "0 1" followed by 2, then by 0: the copy must fail
    assert not _predict_copy(con, bad, A).any()


def test_copy_first_token_needs_the_merged_class():
    A, L, n = 3, 6, 2
    x = [[0, 1, 2, 2, 1, 0]]
    assert _predict_copy(ca.build_copy_paper(A, L, n), x, A).all()
    assert not _predict_copy(ca.build_copy_paper(A, L, n, merge_cut=False), x, A).any()


def _sel_rows(z_rows, A):
    PAD, BOS, COPY = A, A + 1, A + 2
    out = []
    for z in z_rows:
        y = [t for t in z if t != PAD]
        out.append(np.r_[BOS, z, COPY, y])
    return np.array(out)


def _predict_sel(con, z_rows, A):
    X = _sel_rows(z_rows, A)
    T = len(z_rows[0])
    P = teacher_forced_predictions(con.net, X, method="exact")
    return np.all(P[:, T + 1:X.shape[1] - 1] == X[:, T + 2:], axis=1)


def test_selective_right_under_hypotheses_and_wrong_outside():
    A, T, m, n = 3, 10, 4, 2
    P = A
    z = [[P, 0, P, P, 1, P, 2, P, P, 0], [0, 1, P, P, P, P, P, 2, 2, P], [P, P, P, P, P, P, 0, 1, 1, 2]]
    full = ca.build_selective_copy_paper(A, T, m, n)  # w = min(n (T - m + 1), N - 1): no PAD run breaks it
    assert all(ca.window_ok(x, n, full.params["w"], P, (A + 1, A + 2)) for x in _sel_rows(z, A))
    assert _predict_sel(full, z, A).all()
    # a window too short for the PAD run before the last data tokens: the hypothesis fails and so does the copy
    short = ca.build_selective_copy_paper(A, T, m, n, w=3)
    assert not ca.window_ok(_sel_rows(z[2:], A)[0], n, 3, P, (A + 1, A + 2))
    assert not _predict_sel(short, z[2:], A).any()
    # y = 1 1 1 0: the 2-gram "1 1" is followed by 1 and by 0, the two matches tie and the argmax takes token 0
    assert not _predict_sel(full, [[1, P, 1, P, 1, P, 0, P, P, P]], A).any()


def test_sound_enclosure_certifies_right_answers():
    A, L, n = 3, 6, 2
    con = ca.build_copy_paper(A, L, n)
    X = _copy_rows([[0, 1, 2, 2, 1, 0]], A)[0]
    prompts = [X[:t + 1] for t in range(L + 1, 2 * L + 1)]
    targets = [int(X[t + 1]) for t in range(L + 1, 2 * L + 1)]
    ok, margin = certify_rows(con.net, prompts, targets, 53)
    assert ok.all() and margin.min() > 0


def test_bad_input_rejected():
    with pytest.raises(ValueError):
        ca.build_copy_paper(3, 6, 2, eta=0.0)
    with pytest.raises(ValueError):
        ca.build_copy_paper(3, 6, 2, eta=0.3)  # not below (1 - δ_c)/4
    with pytest.raises(ValueError):
        ca.build_selective_copy_paper(3, 8, 4, 2, w=1)  # w < n
    with pytest.raises(ValueError):
        ca.build_paper_copy_net(5, 2, 10, cut=(3, 4), pad=3)  # pad is a cut token
    with pytest.raises(ValueError):
        ca.build_paper_copy_net(5, 2, 10, cut=())
    with pytest.raises(ValueError):
        ca.build_copy_paper(3, 6, 2, code=np.ones((4, 5)) / 2)  # repeated code column
