"""lemmas.fixed_positions (Theorem I.2 instance): window, filters, counts, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lemmas import fixed_positions as lfp


def test_window_is_minimal_for_the_tail():
    for c0, p, e in ((1.0, 2.0, 0.05), (0.5, 3.0, 1e-3), (1.0, 1.5, 0.2)):
        U = lfp.window_for(c0, p, e)
        assert lfp.tail(c0, p, U) <= e < (lfp.tail(c0, p, U - 1) if U > 1 else math.inf)
        # brute force: the partial sum up to a large J plus its integral tail bound
        j = np.arange(U, 200000)
        assert float(lfp.tail(c0, p, U)) == pytest.approx(c0 * np.sum((j + 1.0) ** -p) + c0 * 200000.0 ** (1 - p)
                                                          / (p - 1), rel=1e-4)


@pytest.mark.parametrize("U", [1, 2, 5, 8, 13])
def test_folded_cosine_filter_equals_cos_power_and_dft_is_exact(U):
    n = 40
    t = np.arange(-(U - 1), U)
    beta = lfp.folded_weights(U, n)
    i = np.arange(len(beta))
    k = np.cos(2 * np.pi * np.outer(t, i) / U) @ beta
    assert np.allclose(k, np.cos(np.pi * t / U) ** n, atol=1e-13)
    kd = np.cos(2 * np.pi * np.outer(t, i) / U) @ lfp.folded_weights(U, None)
    assert np.allclose(kd, (t == 0).astype(float), atol=1e-13)


def test_degree_for():
    n = lfp.degree_for(10, 1e-4)
    assert n % 2 == 0 and math.cos(math.pi / 10) ** n <= 1e-4 < math.cos(math.pi / 10) ** (n - 2)


@pytest.mark.parametrize("filt", lfp.FILTERS)
def test_counts_equal_formula_and_error(filt):
    c = lfp.build_fixed_positions(1.0, 3.0, 0.05, filt)
    m = lfp.model_counts(c.net)
    for k, v in c.formula.items():
        if k.endswith("_max"):
            assert m[k[:-4]] <= v
        else:
            assert m[k] == v, k
    assert c.notes["error_bound"] <= 0.05
    U = c.params["U"]
    rng = np.random.default_rng(1)
    X = rng.uniform(0, 1, (200, U))
    f = (np.sin(2 * np.pi * X[:, ::-1]) @ lfp.coefficients(1.0, 3.0, U))
    assert np.max(np.abs(lfp.last(c.net, X) - f)) <= 0.05 / 2  # the window part of the budget
    # the model's own forward pass gives the same last-position numbers
    assert np.allclose(c.net(X[:5, :, None])[:, -1, 0], lfp.last(c.net, X[:5]), atol=1e-12)


def test_bad_input():
    with pytest.raises(ValueError):
        lfp.build_fixed_positions(1.0, 2.0, 0.0)
    with pytest.raises(ValueError):
        lfp.build_fixed_positions(1.0, 1.0, 0.1)  # p must be > 1
    with pytest.raises(ValueError):
        lfp.build_fixed_positions(2.0, 2.0, 0.1)  # c0 <= 1
    with pytest.raises(ValueError):
        lfp.build_fixed_positions(1.0, 2.0, 0.1, "gauss")
    with pytest.raises(ValueError):
        lfp.build_fixed_positions(1.0, 2.0, float("nan"))
    with pytest.raises(ValueError):
        lfp.build_fixed_positions(1.0, 1.01, 1e-3)  # window above MAX_U
