"""Claims thm-I.2 and thm-4.5 (docs/regression.md): small configurations pass, broken constructions FAIL."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from constructions.model import SSMModel
from constructions.ssm import SSMLayer, delay
from lemmas import attention as la
from lemmas import fixed_positions as lfp
from lemmas import piecewise_smooth as lps
from verify.mutants import perturb_weight
from verify.registry import load_all, run_claim

REG = load_all()
SMALL_I2 = {"eps": 0.2, "samples": 200, "growth_eps": (0.2, 0.1), "build_above": 0.1}
SMALL_45 = {"N": 4, "eps": 0.2, "samples": 120, "growth_eps": (0.3, 0.2)}
OK = ("PASS", "CERTIFIED")


def failing(res):
    return [c.name for c in res.checks if c.status == "FAIL"]


def run(cid, params, mutate=None):
    return run_claim(REG[cid], params, seed=0, mutate=mutate)


# ------------------------------------------------------------------------------------------- thm-I.2
@pytest.mark.parametrize("filt", lfp.FILTERS)
def test_i2_small_passes(filt):
    res = run("thm-I.2", {**SMALL_I2, "filter": filt})
    assert res.error is None and res.verdict in OK, failing(res)
    assert res.counts["U"] == lfp.window_for(1.0, 2.0, 0.1)


def with_model(c, g=None, f=None):
    g0, f0 = c.net.blocks[0]
    return dataclasses.replace(c, net=SSMModel(c.net.embedding, [(g or g0, f or f0)]))


def test_i2_fails_on_a_perturbed_weight():
    def mutate(c):
        if not isinstance(c.net, SSMModel):
            return c
        f = c.net.blocks[0][1]
        return with_model(c, f=perturb_weight(f, 0, None, 5e-2))
    res = run("thm-I.2", SMALL_I2, mutate)
    assert res.verdict == "FAIL"
    assert any("|F(X)_0 - f(X)|" in n for n in failing(res))


def test_i2_fails_on_a_wrong_delay():
    def mutate(c):
        if not isinstance(c.net, SSMModel):
            return c
        g = c.net.blocks[0][0]
        ch = list(g.channels)
        ch[2] = delay(3)  # channel 2 reads position -3
        return with_model(c, g=SSMLayer(tuple(ch), g.U))
    res = run("thm-I.2", {**SMALL_I2, "filter": "delay"}, mutate)
    bad = failing(res)
    assert res.verdict == "FAIL" and any("filters pick the positions" in n for n in bad)
    assert any("window part" in n for n in bad)


def test_i2_fails_on_an_undersized_window():
    def mutate(c):
        if not isinstance(c.net, SSMModel):
            return c
        p = c.params
        return lfp.build_fixed_positions(p["c0"], p["p"], p["eps"], p["filter"], U=p["U"] - 1)
    res = run("thm-I.2", SMALL_I2, mutate)
    bad = failing(res)
    assert any("window U minimal" in n for n in bad) and any("measured tail part" in n for n in bad)


def test_i2_fails_on_a_too_flat_cosine_filter():
    def mutate(c):
        if not isinstance(c.net, SSMModel) or c.params["filter"] != "cosine":
            return c
        U, n = c.params["U"], c.params["n"]
        flat = SSMLayer(tuple(lfp.filter_channel("cosine", U, j, max(2, n // 8 // 2 * 2)) for j in range(U)), U)
        return with_model(c, g=flat)
    res = run("thm-I.2", SMALL_I2, mutate)
    assert any("filters pick the positions" in n for n in failing(res))


# ------------------------------------------------------------------------------------------- thm-4.5
def test_45_small_passes():
    res = run("thm-4.5", SMALL_45)
    assert res.error is None and res.verdict in OK, failing(res)
    assert res.counts["U"] == 4


def test_45_fails_on_a_too_small_lambda():
    """The block built for a twice larger margin (λ = ln(4(N-1)/ε_A)/δ halved), run on the true class."""
    def mutate(c):
        if not isinstance(c.net, lps.SelectionModel):
            return c
        n = c.notes
        wrong = la.build_attention(1, c.params["d"], c.params["N"], 2 * n["delta"], n["eps_A"], n["tau"])
        assert wrong.notes["lam"] == pytest.approx(c.notes["attention"]["lam"] / 2)
        return dataclasses.replace(c, net=dataclasses.replace(c.net, block=wrong.net))
    res = run("thm-4.5", SMALL_45, mutate)
    bad = failing(res)
    assert res.verdict == "FAIL" and any("ties at the margin" in n and "block part" in n for n in bad)


def test_45_fails_on_a_perturbed_head_weight():
    def mutate(c):
        if not isinstance(c.net, lps.SelectionModel):
            return c
        return dataclasses.replace(c, net=dataclasses.replace(c.net, f3=perturb_weight(c.net.f3, 0, None, 5e-2)))
    res = run("thm-4.5", SMALL_45, mutate)
    assert res.verdict == "FAIL" and any("head part" in n for n in failing(res))


def test_45_hypothesis_check_sees_a_bad_embedding():
    """Keys scaled by 1/2 (margin δ/2): the embedded-keys check FAILs."""
    def mutate(c):
        if not isinstance(c.net, lps.SelectionModel):
            return c
        e = c.net.embedding
        E, b = e.E.copy(), e.b.copy()
        E[0] *= 0.5
        b[0] *= 0.5
        return dataclasses.replace(c, net=dataclasses.replace(c.net, embedding=type(e)(E, b, kind="vector")))
    res = run("thm-4.5", SMALL_45, mutate)
    assert any("hypotheses" in n for n in failing(res))


def test_45_counts_formula_detects_a_changed_net():
    c = lps.build_piecewise_smooth(2, 4, [0.5, 0.5], [1.0, 0.5], 0.375, 0.2, 0.75)
    f3 = c.net.f3
    cut = perturb_weight(f3, 0, None, -1.0)  # the largest first-layer weight set to zero
    assert dataclasses.replace(c.net, f3=cut).counts()["f3"] != c.formula["f3"]
    assert np.isfinite(c.notes["error_bound"])
