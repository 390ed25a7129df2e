"""lemmas/ngram_attention.py: Lemma H.3 by the paper's route (delay keys and queries, exact finite-alphabet kernel
features, running sums and a ratio).  Small sizes only; the P-bit checks are in
tests/verify/certify/test_lemma_ngram_attention.py, the sweep is benchmarks/bench_ngram_paper.py."""

import dataclasses
import math

import numpy as np
import pytest

from lemmas.jl import vocab_code
from lemmas.ngram_attention import build_ngram_lookup_paper, feature_options, gate_params, last_logits, slot_kernel
from verify.tasks import generate as gen


def _ngram_rows(V, n, L, rows, seed=0):
    t = gen.ngram(rows, L, n=n, vocab=V, seed=seed)
    return t.tokens[:, :L], t.tokens[:, L]


@pytest.fixture(scope="module")
def bigram():
    return build_ngram_lookup_paper(8, 2, 24, 0.5, 0.1)


@pytest.mark.parametrize("V,n,L", [(8, 1, 12), (8, 2, 24), (5, 3, 20)])
def test_correct_on_random_ngram_rows(V, n, L):
    c = build_ngram_lookup_paper(V, n, L, 0.5, 0.1, seed=1)
    assert c.notes["guarantee"] and c.notes["error_bound"] <= 0.1
    X, T = _ngram_rows(V, n, L, 40, seed=2)
    assert np.all(last_logits(c.net, X).argmax(-1) == T)


def test_last_logits_equal_full_forward(bigram):
    X, T = _ngram_rows(8, 2, 24, 8)
    full = bigram.net(X)
    assert np.allclose(last_logits(bigram.net, X, chunk=5), full, rtol=0, atol=1e-12)
    assert np.all(full.argmax(-1) == T)
    # the bit outputs are within eps of the target's sign bits (2φ - 1 within 2 eps of σ)
    Y = bigram.net.forward(X)[:, -1, :]
    sig = vocab_code(8, 0.5, 0).signs.T[T]
    assert np.max(np.abs(Y - sig)) <= 2 * bigram.params["eps"]


def test_recall_and_induction_are_n_equal_1():
    t = gen.recall(20, 4, n_keys=4, n_values=4, seed=3)
    X, T = t.tokens[:, :9], t.tokens[:, 9]
    c = build_ngram_lookup_paper(8, 1, 9, 0.5, 0.1)
    assert np.all(last_logits(c.net, X).argmax(-1) == T)
    t = gen.induction(20, 12, vocab=8, seed=4)
    X, T = t.tokens[:, :12], t.tokens[:, 12]  # the prompt ends with the trigger c
    c = build_ngram_lookup_paper(8, 1, 12, 0.5, 0.1)
    assert np.all(last_logits(c.net, X).argmax(-1) == T)


def test_counts_equal_formula(bigram):
    m, f = bigram.net.counts(), bigram.formula
    for i, key in enumerate(("f1", "f2")):
        for q in ("L", "W", "S", "B"):
            assert m["fnn"][i][q] == f[key][q], (key, q)
    assert [s["nnz"] for s in m["ssm"]] == f["ssm_nnz"]
    assert [s["state_total"] for s in m["ssm"]] == f["state_sizes"]
    assert m["total_nonzeros"] == f["total_nonzeros"] and m["D"] == f["D"]
    assert f["key_features"] == 8 ** 2 and f["running_sum_channels"] == 64 * (1 + bigram.notes["k"])
    assert np.max(np.abs(bigram.net.decoding.W_dec)) <= 1.0


def test_feature_options_and_rank_bound():
    code = vocab_code(8, 0.5, 0)
    K1 = slot_kernel(code, 10.0)
    assert np.all(np.diag(K1) == 1.0)
    o = feature_options(8, 2, code.k, K1)
    assert o["per_slot_gram"] == 64 and o["sign_multilinear"] == 2 ** (2 * code.k)
    assert 0.9 * 64 < o["rank_lower_bound"] <= 64  # near-identity kernel: rank ~ |V|^n
    th, al, M = gate_params(0.25, 16)
    assert 0.25 < th < 1 and al * (1 - th) >= 2 and al * (th - 0.25) >= 1 and M == 4.0


def test_broken_wrong_delay_fails():
    c = build_ngram_lookup_paper(8, 2, 24, 0.5, 0.1, key_delay_shift=1)
    X, T = _ngram_rows(8, 2, 24, 40)
    assert np.mean(last_logits(c.net, X).argmax(-1) == T) < 0.5


def test_broken_small_lambda_fails():
    c = build_ngram_lookup_paper(8, 1, 16, 0.5, 0.1, lam=0.5)
    assert not c.notes["guarantee"] and c.notes["selection_bound"] > 0.05
    X, T = _ngram_rows(8, 1, 16, 40)
    assert np.mean(last_logits(c.net, X).argmax(-1) == T) < 0.9


def test_code_with_violated_margin_is_refused():
    code = vocab_code(8, 0.5, 0)
    S = code.signs.copy()
    S[:, 1] = S[:, 0]  # two tokens share a code: margin 1
    bad = dataclasses.replace(code, signs=S, E=S / math.sqrt(code.k))
    with pytest.raises(ValueError):
        build_ngram_lookup_paper(8, 1, 12, 0.5, 0.1, code=bad)
    S = code.signs.copy()
    S[0, 1] = -S[0, 1]  # E no longer signs / sqrt(k)
    with pytest.raises(ValueError):
        build_ngram_lookup_paper(8, 1, 12, 0.5, 0.1, code=dataclasses.replace(code, signs=S))


def test_bad_input():
    with pytest.raises(ValueError):
        build_ngram_lookup_paper(8, 1, 12, 0.5, 0.2)  # eps >= (1 - δ_c)/4
    with pytest.raises(ValueError):
        build_ngram_lookup_paper(8, 1, 2, 0.5, 0.1)  # N < n + 2
    with pytest.raises(ValueError):
        build_ngram_lookup_paper(300, 2, 20, 0.5, 0.01)  # |V|^n too large
    with pytest.raises(ValueError):
        build_ngram_lookup_paper(8, 1, 12, 0.5, float("nan"))
    c = build_ngram_lookup_paper(8, 1, 12, 0.5, 0.1)
    with pytest.raises(ValueError):
        last_logits(c.net, np.zeros((1, 13), np.int64))  # longer than the window
    assert math.isfinite(c.notes["lam"])


def test_teacher_forced_score_on_the_ngram_task():
    from verify.tasks.scoring import score_model
    t = gen.ngram(10, 20, n=2, vocab=6, seed=5)  # rows of length 21: the answer appended
    c = build_ngram_lookup_paper(6, 2, 21, 0.5, 0.1, k=8)
    assert score_model(c.net, t) == 1.0


def test_adversarial_recall_prompts():
    """All |V|/2 keys present (the longest prompt), the query equal to the first key, the last key, and the key
    whose code is closest to another key's (largest |Gram|); values from the second half of the vocabulary."""
    V = 8
    code = vocab_code(V, 0.5, 0)
    c = build_ngram_lookup_paper(V, 1, V + 1, 0.5, 0.1, code=code)
    G = np.abs(code.signs.T @ code.signs)[:V // 2, :V // 2]
    np.fill_diagonal(G, -1)
    close = int(np.unravel_index(np.argmax(G), G.shape)[0])
    rng = np.random.default_rng(7)
    rows, ans = [], []
    for _ in range(6):
        keys = rng.permutation(V // 2)
        vals = V // 2 + rng.integers(0, V // 2, size=V // 2)
        body = np.ravel(np.column_stack([keys, vals]))
        for q in (keys[0], keys[-1], close):
            rows.append(np.append(body, q))
            ans.append(vals[list(keys).index(q)])
    X, T = np.array(rows), np.array(ans)
    assert np.all(last_logits(c.net, X).argmax(-1) == T)
