"""verify.certify.lemma_fixed_positions: the block split is exact and refuses a non-separable net; the delay
model certifies; broken models do not."""

from __future__ import annotations

import numpy as np
import pytest

from constructions import algebra
from constructions.model import SSMModel
from constructions.ssm import SSMLayer, delay
from lemmas import fixed_positions as lfp
from verify.certify import lemma_fixed_positions as L
from verify.mutants import perturb_weight


def model(eps=0.2):
    return lfp.build_fixed_positions(1.0, 2.0, eps, "delay")


def test_split_is_exact_and_refuses_cross_terms():
    c = model()
    U, f = c.params["U"], c.net.blocks[0][1]
    parts = L.split_parallel(f, U)
    Y = np.random.default_rng(0).uniform(0, 1, (40, U))
    assert np.allclose(sum(parts[j](Y[:, j:j + 1])[:, 0] for j in range(U)), f(Y)[:, 0], atol=1e-14)
    mixed = algebra.compose(f, algebra.affine(np.eye(U) + np.eye(U, k=1)))  # block j reads y_j + y_{j+1}
    with pytest.raises(ValueError):
        L.split_parallel(mixed, U)


def eps_parts(c):
    return lfp.coefficients(1.0, 2.0, c.params["U"]) * c.notes["eps_phi"]


def test_delay_model_certifies():
    c = model()
    r = L.certify_delay_model(c.net, 1.0, 2.0, eps_parts(c))
    assert r["certified"] and r["bound"] <= 0.2
    assert r["tail_upper"] >= float(lfp.tail(1.0, 2.0, c.params["U"]))


def test_broken_models_are_not_certified():
    c = model()
    g, f = c.net.blocks[0]
    ch = list(g.channels)
    ch[1] = delay(2)
    wrong = SSMModel(c.net.embedding, [(SSMLayer(tuple(ch), g.U), f)])
    assert not L.certify_delay_model(wrong, 1.0, 2.0, eps_parts(c))["certified"]
    bent = SSMModel(c.net.embedding, [(g, perturb_weight(f, 0, None, 5e-2))])
    assert not L.certify_delay_model(bent, 1.0, 2.0, eps_parts(c))["certified"]
