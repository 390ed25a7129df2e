"""The packed-row rank memory (lemmas/copying_packed.py): exact counts, exact on every position inside its
statement (random rows with resets, several copy tokens, truncation), the default builder unchanged, and the
mutants (reset or eos disabled, memory short) failing."""

import numpy as np
import pytest

from lemmas.copying import build_rank_memory
from verify.claims import taskchecks as tc
from verify.tasks.hypotheses import rank_status
from verify.tasks.scoring import teacher_forced_predictions

A = 5
BOS, COPY, EOS, PAD = A, A + 1, A + 2, A + 3
V = A + 4


def _random_rows(rows: int, N: int, seed: int) -> np.ndarray:
    p = np.r_[np.full(A, 0.6 / A), [0.1, 0.15, 0.1, 0.05]]
    return np.random.default_rng(seed).choice(V, size=(rows, N), p=p / p.sum())


def _packed_rows(rows: int, N: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(rows):
        r = []
        while len(r) < N:
            x = rng.integers(0, A, int(rng.integers(1, 6))).tolist()
            r += [BOS] + x + [COPY] + x + [EOS]
        out.append(r[:N])
    return np.array(out)


def _inside(X, Lmax, eos, reset=(BOS,)):
    ref = np.full(X.shape, -1)
    for i in range(X.shape[0]):
        for t in range(X.shape[1]):
            st, a = rank_status(X[i], t, {COPY}, {BOS, EOS, PAD}, Lmax, set(reset), eos)
            if st == "ok":
                ref[i, t] = a
    return ref


@pytest.mark.parametrize("eos,Lmax", [(EOS, 25), (None, 25), (EOS, 6)])
def test_exact_inside_the_statement_on_random_rows(eos, Lmax):
    X = _random_rows(40, 30, seed=1)
    con = build_rank_memory(V, Lmax, 30, [COPY], [BOS, EOS, PAD], reset=[BOS], eos=eos)
    P = teacher_forced_predictions(con.net, X, method="exact")
    ref = _inside(X, Lmax, eos)
    inside = ref >= 0
    assert inside.sum() > 60
    assert np.array_equal(P[inside], ref[inside])


@pytest.mark.parametrize("V_,Lmax,N,copy,ignore,reset,eos", [
    (9, 30, 40, [6], [5, 7], [5], 7), (9, 5, 12, [6], [5, 7], [5], None), (12, 7, 20, [7, 9], [6, 8, 10], [6, 11], 8)])
def test_counts_equal_the_formula(V_, Lmax, N, copy, ignore, reset, eos):
    con = build_rank_memory(V_, Lmax, N, copy, ignore, reset=reset, eos=eos)
    chk, got = tc.counts_check(con)
    assert chk.passed, chk.detail
    assert got["D"] == Lmax * got["k"] + 2 * N + 4


def test_default_builder_is_the_one_copy_network():
    a = build_rank_memory(V, 8, 30, [COPY], [BOS, EOS, PAD])
    assert "reset" not in a.params and a.net.counts()["D"] == 8 * a.params["k"] + 3


def test_bad_arguments():
    with pytest.raises(ValueError):
        build_rank_memory(V, 8, 30, [COPY], [BOS], reset=[COPY])  # a copy token cannot reset
    with pytest.raises(ValueError):
        build_rank_memory(V, 8, 30, [COPY], [BOS], reset=[BOS], eos=V)


@pytest.mark.parametrize("mutant", ["reset disabled", "eos disabled", "memory short"])
def test_mutants_drop_below_100_percent_on_packed_rows(mutant):
    N = 40
    X = _packed_rows(12, N, seed=2)
    Lmax = 30
    ref = _inside(X, Lmax, EOS)
    inside = ref >= 0
    kw = {"reset disabled": {"eos": EOS}, "eos disabled": {"reset": [BOS]}, "memory short": {"reset": [BOS], "eos": EOS}}
    con = build_rank_memory(V, Lmax - 20 if mutant == "memory short" else Lmax, N, [COPY], [BOS, EOS, PAD],
                            **kw[mutant])
    P = teacher_forced_predictions(con.net, X, method="exact")
    assert np.mean(P[inside] == ref[inside]) < 1.0


def test_unmutated_network_is_exact_on_the_mutants_rows():
    X = _packed_rows(12, 40, seed=2)
    ref = _inside(X, 30, EOS)
    inside = ref >= 0
    good = build_rank_memory(V, 30, 40, [COPY], [BOS, EOS, PAD], reset=[BOS], eos=EOS)
    assert inside.sum() > 200
    assert np.array_equal(teacher_forced_predictions(good.net, X, method="exact")[inside], ref[inside])
