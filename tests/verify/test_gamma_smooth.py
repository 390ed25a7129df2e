"""verify.gamma_smooth: the trigonometric basis, bands, γ and the norm of a finite-coefficient target."""

from __future__ import annotations

import math

import numpy as np
import pytest

from verify import gamma_smooth as gs


def test_basis_is_orthonormal_on_a_grid():
    x = (np.arange(4096) + 0.5) / 4096  # midpoint rule: exact for trigonometric polynomials of degree < 4096
    ks = [-3, -1, 0, 1, 2, 5]
    G = np.array([[np.mean(gs.psi(a, x) * gs.psi(b, x)) for b in ks] for a in ks])
    assert np.allclose(G, np.eye(len(ks)), atol=1e-12)


def test_bands_and_gamma():
    assert [gs.band(k) for k in (0, 1, -1, 2, 3, -4, 7, 8)] == [0, 1, 1, 2, 2, 3, 3, 4]
    assert gs.gamma((1, 2), (0.5, 3.0), "mixed") == 6.5
    assert gs.gamma((1, 2), (0.5, 3.0), "anisotropic") == 6.0
    with pytest.raises(ValueError):
        gs.gamma((1,), (1.0,), "isotropic")


def test_norm_p2_is_parseval_and_matches_quadrature():
    coef = {(1, 0): 0.3, (-2, 0): -0.2, (3, -1): 0.1, (0, 0): 0.05}
    a = (1.0, 2.0)
    # bands: (1,0): 0.3; (2,0): 0.2 (κ = -2 -> band 2); (2,1): 0.1 (κ_1 = 3 -> band 2); (0,0): 0.05
    expect = math.sqrt((2 ** 1 * 0.3) ** 2 + (2 ** 2 * 0.2) ** 2 + (2 ** 4 * 0.1) ** 2 + 0.05 ** 2)
    assert gs.gamma_norm(coef, a, "mixed") == pytest.approx(expect, rel=1e-14)
    # the band norm from a quadrature of δ_s f itself
    x = (np.arange(256) + 0.5) / 256
    X = np.stack(np.meshgrid(x, x, indexing="ij"), -1)
    band = gs.evaluate({(-2, 0): -0.2}, X)
    assert math.sqrt(np.mean(band ** 2)) == pytest.approx(0.2, rel=1e-12)
    # anisotropic and θ = ∞
    assert gs.gamma_norm(coef, a, "anisotropic", theta=math.inf) == pytest.approx(max(2 * .3, 4 * .2, 2 ** 2 * .1, .05))
    with pytest.raises(ValueError):
        gs.gamma_norm(coef, a, "mixed", p=1)
    with pytest.raises(ValueError):
        gs.gamma_norm(coef, (1.0, -1.0), "mixed")


def test_pinf_is_an_upper_bound():
    coef = {(1, 0): 0.3, (-1, 0): 0.4}
    x = np.linspace(0, 1, 20001)[:, None]
    sup = np.max(np.abs(gs.evaluate(coef, np.concatenate([x, x], 1))))
    assert sup <= gs.band_norm([((1, 0), 0.3), ((-1, 0), 0.4)], math.inf) + 1e-12


def test_fixed_target_in_the_basis_and_its_norm():
    c = gs.fixed_coefficients(1.0, 2.0, 6)
    coef = gs.fixed_as_coefficients(c)
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (50, 6))
    # coordinate j of the basis = position -j: X[..., ::-1] puts position 0 first
    assert np.allclose(gs.evaluate(coef, X[:, ::-1]), gs.fixed_target(X, 1.0, 2.0), atol=1e-14)
    r = 0.5
    a = np.log2(np.arange(1, 7)) * r + 1e-12  # a_j = r log2(j + 1) (> 0)
    finite = gs.gamma_norm(coef, a, "mixed")
    assert finite < gs.fixed_target_norm(1.0, 2.0, r)  # partial sums increase to the closed form
    assert gs.fixed_target_norm(1.0, 2.0, 1.6) == math.inf  # θ(p - r) = 0.8 <= 1
    # the exact infinite tail: x = 1/4 everywhere beyond the window
    assert gs.fixed_target(np.full((1, 3), 0.25), 1.0, 2.0, tail_value=0.25)[0] == pytest.approx(math.pi ** 2 / 6, rel=1e-14)


def test_selection_target():
    X = np.array([[[0.1, 0.2], [0.9, 0.3], [0.2, 0.2]]])
    f, i = gs.selection_target(X, [1.0, 1.0], [1.0, 0.0])
    assert i[0] == 1 and f[0] == pytest.approx(math.sin(2 * math.pi * 0.9))
    m, top = gs.margin(X, [1.0, 1.0])
    assert m[0] == pytest.approx(0.8) and top[0] == pytest.approx(1.2)
