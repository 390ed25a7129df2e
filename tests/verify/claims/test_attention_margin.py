"""Lemma 3.3 at the paper's own hypothesis (margin only, τ = δ - 1; issue 15): the builder stores the kernel
coefficients at the bits the budget needs (float64 expansions, exact tails on the read-out), names precision, not
degree, when asked for too few bits; the P-bit evaluation passes the block; the same block with its coefficients
rounded to float64 FAILs on the floor family (top score at δ - 1, every other key at -q)."""

from __future__ import annotations

import numpy as np
import pytest

from lemmas import attention as la
from verify.claims import attention as cl

MARGIN = {"d": 1, "d_v": 1, "N": 256, "delta": 0.5, "eps": 0.1, "tau": 1.0, "random": 1, "route": "chebyshev",
          "violate": 0, "with_d2": 0, "d2_N": 256, "d2_delta": 1.5, "growth": 0, "hypothesis": "margin", "side": 0,
          "cert_f1": 0}


def test_bits_needed_and_precision_error():
    b = la.budgets(1024, 1, 2, 0.5, 0.1, None, "chebyshev")
    # the smallest denominator against the coefficients: more bits than float64 holds
    assert b["coef_bits_needed"] > la.FLOAT_BITS and b["coef_bits"] >= b["coef_bits_needed"]
    assert b["w_min"] == pytest.approx(np.exp(-b["lam"] * 1.5) / 1024, rel=1e-12)
    assert "w_min" in b["bits_why"] and str(b["coef_bits_needed"]) in b["bits_why"]
    with pytest.raises(ValueError, match=r"precision: 53 bits asked.*need about \d+ bits") as e:
        la.budgets(1024, 1, 2, 0.5, 0.1, None, "chebyshev", precision=53)
    assert "degree" not in str(e.value)
    # the τ special case (top key = query) stays float64
    assert la.budgets(1024, 1, 2, 0.5, 0.1, 1.0, "chebyshev")["coef_parts"] == 1


def test_margin_block_carries_exact_coefficients():
    c = la.build_attention(1, 1, 256, 0.5, 0.1, None, "chebyshev")
    assert c.notes["coef_parts"] == 2 and c.net.readout.has_tails and c.net.f2.has_tails
    assert not c.net.f1.has_tails  # the sawtooth features are dyadic: nothing beyond float64
    # the stored expansion is the coefficient to the stored bits: tails below 2^-53 of the float64 parts
    _, P, bound, _ = la.exact_terms("chebyshev", c.notes["lam"], c.notes["n"], 1, 2)
    assert np.all(np.abs(P[1]) <= np.abs(P[0]) * 2.0 ** -52)
    assert c.notes["E_trunc"] == bound <= c.notes["E"] / 2


def test_margin_config_passes_with_p_bit_enclosures():
    r = cl.run_attention(dict(MARGIN), np.random.default_rng(0))
    assert r.verdict == "PASS", [(c.name, c.status) for c in r.checks if c.status != "PASS"]
    row = r.counts["routes"]["chebyshev"]
    assert row["coef_bits_stored"] >= row["coef_bits_needed"] > 53 and row["eval_bits_used"] > 53
    assert "exact arithmetic on the stored weights" in r.precision


@pytest.mark.slow
def test_float64_coefficients_fail_at_n1024():
    """The mutant of the issue, at the default size: the same block with its kernel coefficients rounded to float64
    errs by far more than ε on the floor family (1 s per enclosure)."""
    rng = np.random.default_rng(0)
    c = la.build_attention(1, 2, 1024, 0.5, 0.1, None, "chebyshev")
    sets = {"floor": [cl.sample_sequence(rng, 1024, 1, 2, 0.5, -0.5, "floor", p) for p in (0, 1023)]}
    ok, _ = cl.error_checks(c, sets, 0.5, -0.5)
    assert all(ch.passed for ch in ok)
    bad, _ = cl.error_checks(cl.drop_tails(c), sets, 0.5, -0.5)
    assert not any(ch.passed for ch in bad)


def test_float64_coefficients_fail_chain_small():
    """Default-run counterpart: at N = 512, δ = 0.45 (coefficients need > 53 bits) dropping the tails breaks the
    budget chain |Ŵ - W| <= E on the floor family."""
    rng = np.random.default_rng(0)
    c = la.build_attention(1, 1, 512, 0.45, 0.1, None, "gauss")
    assert c.notes["coef_parts"] == 2
    tau = 0.45 - 1
    sets = {"floor": [cl.sample_sequence(rng, 512, 1, 1, 0.45, tau, "floor", p) for p in (0, 511)]}
    ok, _ = cl.error_checks(c, sets, 0.45, tau)
    assert all(ch.passed for ch in ok)
    bad, _ = cl.error_checks(cl.drop_tails(c), sets, 0.45, tau)
    assert any(ch.passed is False and "E" in ch.name for ch in bad)


def test_floor_sequences_meet_the_hypotheses():
    rng = np.random.default_rng(3)
    for d in (1, 2):
        X = np.stack([cl.sample_sequence(rng, 64, d, 2, 0.5, -0.5, "floor", p)[0] for p in (0, 63)])
        h = cl.hypotheses(X, d, 2, 0.5, -0.5)
        assert h["ok_each"].all() and h["min_gap"] == pytest.approx(0.5) and h["min_top"] == pytest.approx(-0.5)
    X, i = cl.sample_sequence(rng, 64, 2, 1, 0.5, -0.5, "pooled")
    assert np.unique(X, axis=0).shape[0] <= cl.POOL + 1 and cl.hypotheses(X[None], 2, 1, 0.5, -0.5)["ok_each"].all()


def test_hypothesis_switch():
    assert cl.hypothesis_tau({"delta": 0.5, "tau": 1.0}) == (None, -0.5)
    assert cl.hypothesis_tau({"delta": 0.5, "tau": 1.0, "hypothesis": "tau"}) == (1.0, 1.0)
    with pytest.raises(ValueError, match="hypothesis"):
        cl.hypothesis_tau({"delta": 0.5, "tau": 1.0, "hypothesis": "both"})


# ------------------------------------------------------------------------ the public margin-only strategy
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from verify import reference as ref  # noqa: E402
from verify.strategies import key_query_value_sets  # noqa: E402

_BLOCK8 = {}


def _block8():
    """The margin-hypothesis block at N = 8, d = 1, δ = 0.5, ε = 0.1 (small enough to be float64-sound)."""
    if not _BLOCK8:
        _BLOCK8["c"] = la.build_attention(1, 1, 8, 0.5, 0.1, None, "gauss")
    return _BLOCK8["c"]


@settings(max_examples=25, deadline=None)
@given(key_query_value_sets(n=8, d=1, delta=0.5, floor=True))
def test_floor_strategy_is_the_extreme(s):
    assert s.gap >= 0.5 and s.scores[s.i_star] == pytest.approx(-0.5, abs=1e-12)
    assert np.allclose(np.delete(s.scores, s.i_star), -1.0, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.one_of(key_query_value_sets(n=8, d=1, delta=0.5), key_query_value_sets(n=8, d=1, delta=0.5, floor=True)))
def test_margin_block_on_strategy_inputs(s):
    """Property test of the margin-only lemma on the public strategy (float64 block: the builder says so)."""
    c = _block8()
    assert c.notes["float64"]
    X = np.concatenate([s.K, s.V, np.tile(s.q, (8, 1))], axis=1)[None]
    y = c.net.last(X)[0]
    att = ref.attention_last(s.K[None], s.V[None], s.q[None], c.notes["lam"])[0]
    assert np.max(np.abs(y - s.target)) <= 0.1
    assert np.max(np.abs(y - att)) <= 0.05
