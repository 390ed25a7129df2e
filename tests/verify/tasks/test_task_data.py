import numpy as np
import pytest

from verify.tasks import data, generate
from verify.tasks.data import IGNORE, TaskData, Vocab

KW = {"copying": dict(L=7), "recall": dict(N=5), "induction": dict(length=12), "selective_copying": dict(T=12, m=4),
      "ngram": dict(length=16, n=2)}


@pytest.mark.parametrize("name", sorted(KW))
def test_generators_oracle_and_shifted(name):
    t = generate.GENERATORS[name](50, seed=3, **KW[name])
    assert t.alignment == "next_token" and t.score(t.oracle()) == 1.0
    assert t.score(t.shifted_oracle()) < 0.5
    t2 = generate.GENERATORS[name](50, seed=3, **KW[name])
    assert np.array_equal(t.tokens, t2.tokens)  # seeded


def test_task_statements_hold():
    c = generate.copying(30, 5, alphabet=3, seed=0)
    L = 5
    assert np.all(c.tokens[:, 0] == 3) and np.all(c.tokens[:, L + 1] == 4)
    assert np.array_equal(c.tokens[:, 1:L + 1], c.tokens[:, L + 2:])
    r = generate.recall(30, 6, n_keys=8, n_values=8, seed=0)
    keys = r.tokens[:, 0:12:2]
    assert all(len(set(k)) == 6 for k in keys) and keys.max() < 8 <= r.tokens[:, 1:12:2].min()
    for row in r.tokens:
        j = list(row[0:12:2]).index(row[12])
        assert row[13] == row[2 * j + 1]
    ind = generate.induction(30, 10, vocab=5, seed=0)
    for row in ind.tokens:
        prompt, c_ = row[:-1], row[-2]
        occ = np.flatnonzero(prompt[:-1] == c_)
        assert occ.size == 1 and row[-1] == prompt[occ[0] + 1]
    s = generate.selective_copying(30, 10, 3, alphabet=4, seed=0)
    for row in s.tokens:
        z = row[1:11]
        assert np.array_equal(z[z != 4], row[12:])
    g = generate.ngram(30, 14, n=3, vocab=4, seed=0)
    for row in g.tokens:
        ok, ans = generate.ngram_ok(row[:-1], 3)
        assert ok and ans == row[-1]


def test_metrics():
    sc = np.array([[1, 1, 0, 0], [1, 0, 0, 0]], bool)
    tgt = np.where(sc, np.array([[2, 3, 0, 0], [2, 0, 0, 0]]), IGNORE)
    P = np.array([[2, 0, 0, 0], [2, 0, 0, 0]])
    assert data.score_arrays(P, tgt, sc, "micro_accuracy") == pytest.approx(2 / 3)
    assert data.score_arrays(P, tgt, sc, "exact_match_per_row") == 0.5
    assert data.score_arrays(P, tgt, sc, "per_example_mean") == 0.75


def test_validation_errors():
    V = Vocab(5)
    tok = np.zeros((2, 4), np.int64)
    sc = np.zeros((2, 4), bool)
    tgt = np.full((2, 4), IGNORE)
    with pytest.raises(ValueError, match="token ids"):
        TaskData("x", tok + 7, tgt, sc, V, "micro_accuracy", "in_place")
    with pytest.raises(ValueError, match="one shape"):
        TaskData("x", tok, tgt[:, :3], sc, V, "micro_accuracy", "in_place")
    with pytest.raises(ValueError, match="metric"):
        TaskData("x", tok, tgt, sc, V, "bleu", "in_place")
    with pytest.raises(ValueError, match="alignment"):
        TaskData("x", tok, tgt, sc, V, "micro_accuracy", "sideways")
    with pytest.raises(ValueError, match="integers"):
        TaskData("x", tok + np.nan, tgt, sc, V, "micro_accuracy", "in_place")
    sc2 = sc.copy()
    sc2[0, 1] = True
    t2 = tgt.copy()
    t2[0, 1] = 3
    with pytest.raises(ValueError, match="tokens\\[t\\+1\\]"):
        TaskData("x", tok, t2, sc2, V, "micro_accuracy", "next_token")
    with pytest.raises(ValueError, match="IGNORE|unscored"):
        TaskData("x", tok, np.zeros((2, 4)), sc, V, "micro_accuracy", "in_place")
    with pytest.raises(ValueError):
        Vocab(3, {"BOS": 3})
    with pytest.raises(ValueError):
        generate.recall(2, 5, n_keys=4)
    t = generate.copying(2, 3)
    with pytest.raises(ValueError, match="shape"):
        t.score(np.zeros((2, 3)))


def test_neutral_file_round_trip(tmp_path):
    t = generate.selective_copying(5, 8, 3, seed=1)
    data.save_npz(t, tmp_path / "t.npz")
    with np.load(tmp_path / "t.npz") as f:
        t2 = data.from_neutral({k: f[k] for k in f.files})
    assert np.array_equal(t.tokens, t2.tokens) and np.array_equal(t.targets, t2.targets)
    assert t2.vocab == t.vocab and t2.metric == t.metric
