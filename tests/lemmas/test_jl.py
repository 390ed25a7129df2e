import math
from fractions import Fraction

import numpy as np
import pytest

from lemmas import jl


def test_bound_formulas():
    # the exact formulas, recomputed independently
    assert jl.k_achlioptas(1000, 0.5, 1.0) == math.ceil(6 / (0.125 - 0.125 / 3) * math.log(1000))
    kh = jl.k_hoeffding(1000, 0.5)
    assert 1000 * 999 * math.exp(-kh * 0.25 / 2) < 1 <= 1000 * 999 * math.exp(-(kh - 1) * 0.25 / 2)
    ku = jl.k_union_exact(50, 0.5)
    assert Fraction(50 * 49 // 2) * jl.pair_tail_exact(ku, 0.5) < 1
    assert ku <= jl.k_hoeffding(50, 0.5)


def test_pair_tail_matches_enumeration():
    k, delta = 7, 0.4  # floor(2.8) = 2: |sum| in {3, 5, 7} is bad
    sums = [sum(1 if (m >> j) & 1 else -1 for j in range(k)) for m in range(2 ** k)]
    assert jl.pair_tail_exact(k, delta) == Fraction(sum(abs(s) > 2 for s in sums), 2 ** k)


def test_margin_is_exact_at_the_boundary():
    # δk an exact integer: |G| = δk is allowed, δk + 1 is not; 0.1 * 30 is 3.0000000000000004 in floats
    assert jl.margin_int(0.5, 84) == 42
    assert jl.margin_int(0.1, 30) == 3 and jl.margin_int(0.3, 10) == 2  # 0.3 < 3/10 as a double


def test_vocab_code_properties():
    c = jl.vocab_code(200, 0.5, seed=3)
    G = c.signs.T @ c.signs
    assert np.all(np.diag(G) == c.k)
    off = np.abs(G - np.diag(np.diag(G)))
    assert off.max() <= math.floor(0.5 * c.k) == c.margin
    assert np.array_equal(jl.draw_signs(3, c.draw, (c.k, 200)), c.signs)
    assert np.allclose(c.E, c.signs / math.sqrt(c.k))
    assert c.k <= c.k_hoeffding < c.k_achlioptas


def test_vocab_code_fixed_k_and_bad_inputs():
    c = jl.vocab_code(64, 0.5, seed=1, k=120)
    assert c.k == 120
    for bad in (0.0, 1.0, float("nan"), -0.2):
        with pytest.raises(ValueError):
            jl.vocab_code(64, bad)
    with pytest.raises(ValueError):
        jl.vocab_code(1, 0.5)
    with pytest.raises(ValueError):
        jl.vocab_code(64, 0.5, k=0)
    with pytest.raises(RuntimeError):
        jl.vocab_code(400, 0.1, k=4)  # no 4-dim sign code with margin 0.1 exists


def test_code_ok_detects_violation():
    S = jl.draw_signs(0, 0, (100, 30))
    assert jl.code_ok(S, 0.6)[0]
    S2 = S.copy()
    S2[:, 5] = S2[:, 7]  # two equal columns: inner product 1
    ok, m = jl.code_ok(S2, 0.6)
    assert not ok and m == 100


def test_point_embedding_exact():
    rng = np.random.default_rng(0)
    X = rng.integers(-2, 3, size=(20, 6))
    emb = jl.point_embedding(X, 5, 0.3, seed=2)
    P = X / 5
    err = np.abs((P @ emb.R.T) @ (P @ emb.R.T).T - P @ P.T).max()
    assert err <= 0.3 + 1e-12
    assert emb.max_err_int <= emb.allowed_int
    with pytest.raises(ValueError):
        jl.point_embedding(np.array([[3, 4]]), 4, 0.3)  # norm 5 > scale 4
    with pytest.raises(ValueError):
        jl.point_embedding(np.array([[0.5, 0.0]]), 1, 0.3)


def test_distance_distortion_exact():
    X = np.array([[0, 0], [1, 0], [0, 1]])
    S = np.array([[1, 1], [1, -1]])  # R/√2 is orthogonal: distances preserved exactly
    assert jl.distance_distortion_ok(S, X, 0.01)
    S_bad = np.array([[1, 1], [1, 1]])  # collapses (1,0) and (0,1)
    assert not jl.distance_distortion_ok(S_bad, X, 0.5)
    assert not jl.distance_distortion_ok(np.array([[1, 0], [1, 0], [1, 0]]), X, 0.5, sparse=True)


def test_sparse_distribution_frequencies():
    S = jl.draw_signs(0, 0, (300, 200), "sparse")
    f = np.mean(S == 0)
    assert abs(f - 2 / 3) < 0.01 and abs(np.mean(S == 1) - 1 / 6) < 0.01
    with pytest.raises(ValueError):
        jl.draw_signs(0, 0, (2, 2), "gauss")
