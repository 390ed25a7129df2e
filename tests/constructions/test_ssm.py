"""SSM layers: scan = FFT = exact on random stable SSMs, windows and lengths; families; model; bad input."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from constructions import algebra, ssm
from constructions.model import Decoding, Embedding, SSMModel
from verify.claims.foundation import path_tolerance, random_channels


@given(st.integers(0, 2**31), st.integers(1, 200), st.integers(1, 300))
def test_scan_equals_fft_random_stable(seed, N, U):
    rng = np.random.default_rng(seed)
    layer = ssm.SSMLayer(tuple(random_channels(rng)), U)
    u = rng.normal(size=(2, N, layer.H))
    scan = layer(u, method="scan")
    tol = path_tolerance(layer, u)
    assert np.max(np.abs(layer(u, method="fft") - scan)) <= tol
    assert np.max(np.abs(layer(u, method="auto") - scan)) <= tol


@given(st.integers(0, 2**31), st.integers(1, 300), st.integers(1, 400), st.integers(0, 20))
def test_exact_paths_match_definition(seed, N, U, ell):
    rng = np.random.default_rng(seed)
    u = rng.integers(-9, 10, size=(N, 2)).astype(float)
    layer = ssm.SSMLayer((ssm.running_sum(), ssm.delay(ell)), U)
    y = layer(u, method="exact")
    ref_sum = np.array([u[max(0, t - U + 1):t + 1, 0].sum() for t in range(N)])
    ref_delay = np.array([u[t - ell, 1] if (ell < U and t >= ell) else 0.0 for t in range(N)])
    assert np.array_equal(y[:, 0], ref_sum)
    assert np.array_equal(y[:, 1], ref_delay)
    assert np.array_equal(layer(u, method="scan"), y)  # integer data: the scan is exact too


def test_filters_of_families():
    assert np.array_equal(ssm.running_sum().filter(6), np.ones(6))
    assert np.array_equal(ssm.delay(3).filter(6), [0, 0, 0, 1, 0, 0])
    assert np.array_equal(ssm.delay(0).filter(4), [1, 0, 0, 0])
    assert ssm.delay(0).m == 0 and ssm.delay(5).m == 5 and ssm.running_sum().m == 1
    c = ssm.cosine([0.5, -1.0], [0.3, 2.0], [0.1, 0.0], [0.9, 1.0])
    s = np.arange(40)
    ref = 0.5 * 0.9 ** s * np.cos(0.3 * s + 0.1) - np.cos(2.0 * s)
    np.testing.assert_allclose(c.filter(40), ref, rtol=0, atol=1e-13)
    assert c.m == 4


def test_window_longer_and_shorter_than_sequence():
    rng = np.random.default_rng(3)
    chans = tuple(random_channels(rng))
    u = rng.normal(size=(1, 64, len(chans)))
    for U in (1, 5, 64, 1000):
        layer = ssm.SSMLayer(chans, U)
        k = layer.filters(64)
        assert k.shape[1] == min(U, 64)
        # direct definition y_t = Σ_{s<U} k_s u_{t-s}, tested at a few positions
        for t in (0, 7, 63):
            ref = sum(k[:, s] * u[0, t - s] for s in range(min(U, t + 1)))
            np.testing.assert_allclose(layer(u, "fft")[0, t], ref, atol=1e-12)


def test_in_out_maps_and_model_forward():
    rng = np.random.default_rng(4)
    g = ssm.SSMLayer((ssm.running_sum(), ssm.delay(1), ssm.delay(0)), 10, W_in=rng.normal(size=(3, 4)),
                     W_out=rng.normal(size=(2, 3)))
    f = algebra.identity(2)
    m = SSMModel(Embedding(rng.normal(size=(4, 7))), [(g, f)], Decoding(rng.normal(size=(7, 2))))
    X = rng.integers(0, 7, size=(3, 12))
    Z = m.embedding(X)
    np.testing.assert_allclose(m.forward(X), f(g(Z)), atol=1e-14)
    assert m(X).shape == (3, 7)
    assert m.decoding.predict(m.forward(X)).shape == (3,)
    c = m.counts()
    assert c["M"] == 1 and c["U"] == 10 and c["D"] == 4 and c["state_sizes"] == [[1, 1, 0]]
    assert c["total_nonzeros"] == (np.count_nonzero(m.embedding.E) + np.count_nonzero(m.decoding.W_dec)
                                   + f.counts().S + g.counts()["nnz"])


def test_fft_long_sequence_within_roundoff_bound():
    """N = 2^16 runs through rfft of length ~2N (an N x N matrix would need 32 GiB); error within the bound."""
    layer = ssm.SSMLayer((ssm.running_sum(),), 1 << 16)
    u = np.ones((1 << 16, 1))
    err = np.max(np.abs(layer(u, method="fft")[:, 0] - np.arange(1, (1 << 16) + 1)))
    assert err <= path_tolerance(layer, u)
    assert np.array_equal(layer(u, method="exact")[:, 0], np.arange(1, (1 << 16) + 1))


@pytest.mark.parametrize("bad", [
    lambda: ssm.SSMLayer((ssm.running_sum(),), 0),
    lambda: ssm.SSMLayer((ssm.running_sum(),), -3),
    lambda: ssm.SSMLayer((), 4),
    lambda: ssm.delay(-1),
    lambda: ssm.SSMChannel(np.ones((2, 3)), np.ones(2), np.ones(2), 0.0),
    lambda: ssm.SSMChannel(np.ones((2, 2)), np.ones(3), np.ones(2), 0.0),
    lambda: ssm.SSMChannel(np.array([[np.nan]]), np.ones(1), np.ones(1), 0.0),
    lambda: ssm.SSMLayer((ssm.running_sum(),), 4, W_in=np.ones((2, 3))),
    lambda: ssm.SSMLayer((ssm.running_sum(),), 4)(np.ones((5, 2))),
    lambda: ssm.SSMLayer((ssm.running_sum(),), 4)(np.array([[np.nan]])),
    lambda: ssm.SSMLayer((ssm.running_sum(),), 4)(np.ones((5, 1)), method="magic"),
    lambda: ssm.SSMLayer((ssm.cosine(1.0, 0.5),), 4)(np.ones((5, 1)), method="exact"),
    lambda: Embedding(np.ones((3, 4)))(np.array([0, 4])),
    lambda: Embedding(np.ones((3, 4)))(np.array([0.5])),
    lambda: SSMModel(None, [(ssm.SSMLayer((ssm.running_sum(),), 3), algebra.identity(2))]),
])
def test_bad_input_raises(bad):
    with pytest.raises(ValueError):
        bad()
