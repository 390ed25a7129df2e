"""Mutation self-test (verify/mutants.py): mutants change what they claim to change, the self-test catches
the square claim's mutants, an unchanged 'mutant' is reported uncaught with its reason, SSM mutants."""

import numpy as np
import pytest

from constructions import ssm
from lemmas import square as lsq
from lemmas.base import Construction
from verify import mutants as mu
from verify import selftest
from verify.claims.foundation import random_channels
from verify.registry import load_all

REG = load_all()


def test_square_mutants_all_caught():
    rep = selftest.run_mutants(["lemma-F.3-square"], seed=0)
    e = rep["claims"]["lemma-F.3-square"]
    assert e["supported"] and e["total"] >= 6 and e["caught"] == e["total"] and rep["rate"] == 1.0
    kinds = {m["kind"] for m in e["mutants"] if m["status"] == "caught"}
    assert {"perturb weight", "remove level"} <= kinds
    na = [m for m in e["mutants"] if m["status"] == "not applicable"]
    # (the first map of the float-robust clip, ρ(x), has no bias to perturb)
    assert all("expansion" in m["reason"] or "SSM" in m["reason"] or "no nonzero bias" in m["reason"] for m in na)
    text = selftest.format_mutants(rep)
    assert "lemma-F.3-square" in text and "mutants caught" in text


def test_unchanged_mutant_is_uncaught_with_reason(monkeypatch):
    monkeypatch.setattr(mu, "generic_mutants", lambda: [("identity", "none", lambda c: c)])
    rep = selftest.run_mutants(["lemma-F.3-square"], seed=0)
    # the identity 'mutant' passes every check (the claim's own level removal is still caught)
    assert rep["total"] == 2 and rep["caught"] == 1 and len(rep["uncaught"]) == 1
    u = rep["uncaught"][0]
    assert u["mutant"] == "identity" and u["reason"].startswith("certified equivalent")
    assert "identity" in selftest.format_mutants(rep)


def test_weight_mutants_change_the_function():
    c = lsq.build_square(m=6)
    x = np.linspace(0, 1, 1001)[:, None]
    for where in ("first", "middle", "last"):
        m = mu.weight_mutant(where, 1e-3)(c)
        assert isinstance(m, Construction) and np.max(np.abs(m.net(x) - c.net(x))) > 0
    b = mu.bias_mutant("middle", 1e-3)
    with pytest.raises(mu.NotApplicable):
        mu.drop_term_mutant("last")(c)
    with pytest.raises(mu.NotApplicable):  # the float-robust clip's first map ρ(x) has no bias
        mu.bias_mutant("first", 1e-3)(c)
    assert np.max(np.abs(b(c).net(x) - c.net(x))) >= 0  # applies (a middle map has biases)


def test_ssm_mutants():
    rng = np.random.default_rng(4)
    layer = ssm.SSMLayer(tuple(random_channels(rng)), 6)
    u = rng.normal(size=(20, layer.H))
    sw = mu.swap_channels(layer, 0, -1)
    assert np.max(np.abs(sw(u) - layer(u))) > 1e-3
    sh = mu.shorten_window(layer)
    assert sh.U == 5 and np.max(np.abs(sh(u) - layer(u))) > 1e-6
    c = Construction(layer, {}, {})
    assert mu.swap_channels_mutant()(c).net.channels[0] is layer.channels[-1]
    with pytest.raises(mu.NotApplicable):
        mu.shorten_window(ssm.SSMLayer((ssm.running_sum(),), 1))
    with pytest.raises(mu.NotApplicable):
        mu.swap_channels_mutant()(Construction(ssm.SSMLayer((ssm.delay(1), ssm.delay(1)), 3), {}, {}))
    with pytest.raises(mu.NotApplicable):
        mu.weight_mutant("first", 1e-3)(c)


def test_unknown_claim():
    with pytest.raises(ValueError):
        selftest.run_mutants(["no-such-claim"])


def test_max_change_measures_the_mutant_on_the_claims_domain():
    from verify.registry import Claim

    c = lsq.build_square(m=6)
    bumped = mu.perturb_weight(c.net, -1, None, 1e-3)  # the output map's largest weight
    claim = Claim("t", "-", "-", {}, lambda p, rng: None, domain=lambda p: (0.0, 1.0))
    change, n = selftest.max_change(claim, [(c.net, bumped)], seed=0)
    x = np.linspace(0, 1, 2001)[:, None]
    exact = float(np.max(np.abs(bumped(x) - c.net(x))))
    assert n == 4002 and 0.5 * exact <= change <= 1.05 * exact
    assert selftest.max_change(claim, [(c.net, c.net)], seed=0)[0] == 0.0  # identical nets: no change
    nodomain = Claim("t", "-", "-", {}, lambda p, rng: None)
    assert selftest.max_change(nodomain, [(c.net, bumped)], seed=0) is None
