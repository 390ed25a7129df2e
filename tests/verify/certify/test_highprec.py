"""High-precision evaluation (verify/certify/highprec.py): arb enclosures contain the exact rational value; the SSM
layer and model in arb match the float64 paths; the float64 agreement check FAILS on a perturbed weight."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from constructions import algebra, ssm
from constructions.affine import Affine
from constructions.fnn import FNN
from constructions.model import Decoding, Embedding, SSMModel
from lemmas import square as lsq
from verify.certify import highprec as hp
from verify import mutants as mu
from verify.checks import allowance
from verify.claims.foundation import path_tolerance, random_channels


def random_net(rng, d_in=2, depth=3, width=4, d_out=1):
    dims = [d_in] + [int(rng.integers(1, width + 1)) for _ in range(depth - 1)] + [d_out]
    maps = []
    for a, b in zip(dims[:-1], dims[1:]):
        A = rng.normal(size=(b, a)) * (rng.random((b, a)) < 0.8)
        maps.append(Affine.dense(A, rng.normal(size=b)))
    return FNN(maps)


@given(st.integers(0, 2**31), st.integers(1, 3), st.integers(1, 4))
def test_arb_encloses_exact_rational_value(seed, d_in, depth):
    rng = np.random.default_rng(seed)
    net = random_net(rng, d_in, depth)
    X = rng.uniform(-3, 3, (3, d_in))
    lo, hi, mid = hp.fnn_arb(net, X, prec=100)
    for i, x in enumerate(X):
        ex = hp.net_exact(net, x)
        for j, v in enumerate(ex):
            assert Fraction(lo[i, j]) <= v <= Fraction(hi[i, j])
    assert np.max(np.abs(mid - net(X))) <= 1e-12 * (1 + np.max(np.abs(mid)))


def test_float64_agreement_passes_and_fails_on_perturbed_weight():
    c = lsq.build_square(m=8)
    X = np.random.default_rng(0).uniform(0, 1, (300, 1))
    lo, hi, _ = hp.fnn_arb(c.net, X)
    tau = allowance(c.net, 1.0)
    assert hp.float64_agreement("ok", c.net(X), lo, hi, tau, X).passed is True
    bad = mu.perturb_weight(c.net, 2, 0, 1e-9)  # float64 pass of a different net: deviation ~1e-9 >> tau
    chk = hp.float64_agreement("bad", bad(X), lo, hi, tau, X)
    assert chk.passed is False and chk.counterexample is not None
    # an enclosure wider than the tolerance cannot decide
    assert hp.float64_agreement("wide", c.net(X), lo - 1.0, hi + 1.0, tau).passed is None


def test_ssm_layer_arb_matches_scan_and_definition():
    rng = np.random.default_rng(5)
    chans = tuple(random_channels(rng))
    for U in (1, 4, 40):
        layer = ssm.SSMLayer(chans, U, W_in=rng.normal(size=(len(chans), 3)), W_out=rng.normal(size=(2, len(chans))))
        Z = rng.normal(size=(12, 3))
        y = hp.ssm_layer_arb(layer, Z, prec=120)
        mid = np.array([[float(v.mid()) for v in row] for row in y])
        u = Z @ layer.W_in.T
        assert np.max(np.abs(mid @ np.linalg.pinv(layer.W_out).T - layer(Z, method="scan") @ np.linalg.pinv(layer.W_out).T)) <= 1e3 * path_tolerance(layer, u[None])
        k = hp.ssm_filters_arb(layer, 6)
        np.testing.assert_allclose([[float(v.mid()) for v in r] for r in k], ssm._filters(chans, 6),
                                   rtol=0, atol=1e-12)


def test_model_arb_matches_forward():
    rng = np.random.default_rng(2)
    fs = [FNN([Affine.dense(rng.normal(size=(4, 3)), rng.normal(size=4)), Affine.dense(rng.normal(size=(1, 4)))])
          for _ in range(3)]
    chans = tuple(random_channels(rng))
    g1 = ssm.SSMLayer(chans, 5, W_in=rng.normal(size=(len(chans), 3)), W_out=rng.normal(size=(3, len(chans))))
    g2 = ssm.SSMLayer((ssm.running_sum(), ssm.delay(2), ssm.delay(0)), 50)
    model = SSMModel(Embedding(rng.normal(size=(3, 7)), rng.normal(size=3)),
                     [(g1, algebra.identity(3)), (g2, algebra.parallel(*fs))], Decoding(rng.normal(size=(4, 3))))
    ids = rng.integers(0, 7, 10)
    out = hp.model_arb(model, ids)
    mid = np.array([float(v.mid()) for v in out[0]])
    np.testing.assert_allclose(mid, model(ids), rtol=1e-9, atol=1e-9)
    lo, hi, m2 = hp.arb_eval(model, ids)
    assert np.all(lo <= m2) and np.all(m2 <= hi) and np.allclose(m2[0], model(ids), rtol=1e-9, atol=1e-9)
    g = model.blocks[0][0]
    Z = rng.normal(size=(6, g.d_in))
    lo, hi, m3 = hp.arb_eval(g, Z)
    assert lo.shape == (6, g.d_out) and np.all(lo <= hi)
    assert hp.float64_agreement("ssm", g(Z, method="scan"), lo, hi, 1e-9).passed is True
    assert hp.float64_agreement("ssm mutant", g(Z[:, ::-1].copy() if g.d_in > 1 else Z + 1, method="scan"),
                                lo, hi, 1e-9).passed is False
    with pytest.raises(TypeError):
        hp.arb_eval(object(), Z)
    full = hp.model_arb(model, ids, decode=False)
    np.testing.assert_allclose([[float(v.mid()) for v in r] for r in full], model.forward(ids), rtol=1e-9, atol=1e-9)


def test_bad_inputs():
    net = random_net(np.random.default_rng(0))
    with pytest.raises(ValueError):
        hp.fnn_arb(net, np.zeros((2, 3)))
    with pytest.raises(ValueError):
        hp.fnn_arb(net, [np.nan, 0.0])
    with pytest.raises(ValueError):
        hp.fnn_arb(net, [0.0, 0.0], prec=10)
    with pytest.raises(ValueError):
        hp.ssm_layer_arb(ssm.SSMLayer((ssm.running_sum(),), 3), np.zeros((4, 2)))
