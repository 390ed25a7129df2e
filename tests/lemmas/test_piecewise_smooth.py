"""lemmas.piecewise_smooth (Theorem 4.5 instance): embedding, counts, error split, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lemmas import piecewise_smooth as lps


def build(**kw):
    args = {"d": 2, "N": 4, "w": [0.5, 0.5], "u": [1.0, 0.5], "delta_mu": 0.375, "eps": 0.2, "mu_tau": 0.75}
    args.update(kw)
    return lps.build_piecewise_smooth(**args)


def test_embedding_keys_and_budget_split():
    c = build()
    n = c.notes
    assert n["delta"] == pytest.approx(0.75) and n["tau"] == pytest.approx(0.5)
    assert n["eps_phi"] + 2 * math.pi * n["u1"] * n["eps_A"] == pytest.approx(0.2)
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.5, 0.25]])
    Z = c.net.embedding(X)
    assert np.allclose(Z[:, 0], [-1.0, 1.0, -0.25]) and np.allclose(Z[:, 1:3], X) and np.all(Z[:, 3] == 1.0)


def test_counts_equal_formula_and_picks_the_top_token():
    c = build()
    assert c.net.counts() == c.formula
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (50, 4, 2)) * 0.2  # μ <= 0.2
    X[:, 2] = [0.9, 0.8]  # μ = 0.85 >= 0.75, margin >= 0.65
    F = c.net.last(X)
    assert np.max(np.abs(F - np.sin(2 * np.pi * (0.9 + 0.4)))) <= 0.2
    assert np.max(np.abs(c.net.picked(X) - [0.9, 0.8])) <= c.notes["eps_A"]


def test_bad_input():
    with pytest.raises(ValueError):
        build(w=[0.0, 0.0])
    with pytest.raises(ValueError):
        build(u=[0.0, 0.0])
    with pytest.raises(ValueError):
        build(delta_mu=2.0)  # above the range R = 1
    with pytest.raises(ValueError):
        build(mu_tau=0.2)  # τ = -0.6 < δ - 1
    with pytest.raises(ValueError):
        build(eps=1.5)
    with pytest.raises(ValueError):
        build(w=[0.5])
    with pytest.raises(ValueError, match="bits"):
        build(N=8, delta_mu=0.25, mu_tau=None, eps=0.12)  # the block would need more than float64
