"""Lemma 3.3, the whole block certified (verify/certify/lemma_attention.py ``certify_block``, the claim's
``block_certificate_check``; issue 15, item 5): certified at a small margin-only configuration, above every sampled
error, and not certified on broken blocks; the two mutants the self-test did not catch before."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from constructions.affine import Affine, ExactTail
from constructions.fnn import FNN
from lemmas import attention as la
from verify import mutants as mu
from verify.claims import attention as ca

N, DELTA, EPS = 64, 0.5, 0.1
TAU = DELTA - 1.0  # the margin-only hypothesis


@pytest.fixture(scope="module")
def block():
    return la.build_attention(1, 1, N, DELTA, EPS, None, "chebyshev")


@pytest.fixture(scope="module")
def good(block):
    return ca.block_certificate_check(block, None)


def test_block_certified_and_above_every_sampled_error(block, good):
    assert good.passed is True and good.certified
    d = good.detail
    assert good.measured == d["bound"] <= EPS and d["bound_attention"] <= EPS / 2
    # every term is reported and the parts add up (rounded up)
    assert d["bound"] >= d["eps_q"] + d["quotient_chain"] + d["temperature"] * (1 - 1e-12)
    assert 0 < d["E_trunc"] < d["E_W"] and d["domain"] and all(d["domain"].values())
    # the certificate holds where the P-bit enclosures measure: bound >= the sampled errors (random, tight, floor)
    rng = np.random.default_rng(0)
    sets = ca.input_sets(rng, N, 1, 1, DELTA, TAU, 1, False, pooled=True)
    _, rows = ca.error_checks(block, sets, DELTA, TAU)
    assert rows and all(r["block-v*"] <= d["bound"] and r["block-attn"] <= d["bound_attention"] for r in rows)
    assert all(r["|Ŵ-W|,|Â-A|"] <= max(d["E_W"], d["E_A"]) for r in rows)


def test_coefficient_mutant_is_proven_harmless(block, good):
    """``largest coefficient x(1+1e-3)`` (verify/mutants.py) changes ``AttentionBlock.coef``, which no evaluation
    reads: the stored weights are untouched, and the certificate (which reads the weights) certifies the mutant
    with the same bound."""
    m = mu.coefficient_mutant(1e-3)(block)
    assert not np.array_equal(m.net.coef, block.net.coef)
    chk = ca.block_certificate_check(m, None)
    assert chk.passed is True and chk.certified and chk.measured == good.measured


def test_f2_first_map_mutant_is_caught(block):
    """``f_2 weight x(1+1e-2), first map`` (the claim's own mutant): the clip pair of M_0 becomes ρ(1.01 G + 1),
    so Ŵ gains 0.01 c_0, far beyond E: the certificate refuses the broken clip, and the sampled checks FAIL."""
    m = ca._perturb("f2", 0, 1e-2)(block)
    chk = ca.block_certificate_check(m, None)
    assert chk.passed is None and not chk.certified and "clip" in chk.detail["reason"]
    rng = np.random.default_rng(1)
    sets = ca.input_sets(rng, N, 1, 1, DELTA, TAU, 1, False, pooled=True)
    checks, _ = ca.error_checks(m, sets, DELTA, TAU)
    assert any(c.passed is False for c in checks)


def _scale_readout_row(blk, out: int, k: float):
    """f_2 with read-out output ``out`` (0..d_v-1: Â_c, d_v: Ŵ) scaled by k at the concatenation junction (both
    rows of the [A; -A] pair, exact tails included): every coefficient c̃_α of that output times k."""
    j = blk.readout.depth - 1
    lay = blk.f2.layers[j]
    r, c, parts, bp = lay.exact_parts()
    h = lay.d_out // 2
    sel = (r == out) | (r == out + h)
    parts = parts.copy()
    parts[:, sel] *= k
    bp = bp.copy()
    bp[:, [out, out + h]] *= k
    new = Affine.from_coo(r, c, parts[0], (lay.d_out, lay.d_in), bp[0])
    if parts.shape[0] > 1:
        new = new.with_tail(ExactTail(r, c, parts[1:], bp[1:]))
    f2 = FNN(blk.f2.layers[:j] + (new,) + blk.f2.layers[j + 1:])
    return dataclasses.replace(blk, f2=f2)


def test_read_out_coefficients_are_compared_exactly(block, good):
    """Ŵ's read-out scaled by 1 + 2^-20: the structure is intact, the coefficient term Σ|c̃_α - c_α| grows far
    beyond E and the certificate no longer certifies (not a proof of failure: the quotient is nearly scale
    invariant; the verdict is INCONCLUSIVE, never CERTIFIED)."""
    m = dataclasses.replace(block, net=_scale_readout_row(block.net, 1, 1 + 2.0 ** -20))
    chk = ca.block_certificate_check(m, None)
    assert chk.passed is None and not chk.certified
    assert "domain" in chk.detail["reason"] and chk.detail["E_W"] > 1e3 * good.detail["E_W"]


@pytest.mark.parametrize("name", ["swap", "drop term", "f1 sawtooth"])
def test_broken_blocks_are_not_certified(block, name):
    mut = {"swap": ca._swap_dominant, "drop term": ca.drop_term_mutant("dominant"),
           "f1 sawtooth": ca._perturb("f1", 3, 1e-3)}[name]
    chk = ca.block_certificate_check(mut(block), None)
    assert chk.passed is None and not chk.certified and chk.detail["reason"].startswith("not certified")


def test_kernel_coefficients_in_arb_match_the_builder():
    """The exact c_α (arb) of both routes agree with the builder's stored expansions within the builder's own
    truncation + rounding bound, and the arb truncation bound matches its mpmath one."""
    from verify.certify.lemma_attention import kernel_exact
    for route in la.ROUTES:
        lam = la.lam_for(256, EPS, DELTA)
        al, P, bound, _ = la.exact_terms(route, lam, 20, 2, 2)
        cx, trunc = kernel_exact(route, lam, al)
        stored = P.sum(axis=0)
        diff = max(abs(float((cx[i] - float(P[0, i]) - float(P[1, i])).mid())) for i in range(len(al)))
        assert diff <= bound
        assert abs(float(trunc.mid()) - float(la.truncation_tails(route, lam, 20)[20])) <= 1e-6 * bound + 1e-300
        assert stored.shape == (len(al),)


def test_tau_case_certified_and_only_under_its_own_hypothesis():
    """The τ special case (top score >= τ = 1) certifies under its hypothesis; the same block is not certified
    for the margin alone (its ratio net's wedge starts at w_min(τ = 1) = 1/N, far above e^{-λ(2-δ)}/N)."""
    c = la.build_attention(1, 1, N, DELTA, EPS, 1.0, "gauss")
    chk = ca.block_certificate_check(c, 1.0)
    assert chk.passed is True and chk.certified and chk.measured <= EPS
    weak = ca.block_certificate_check(c, None)
    assert weak.passed is None and not weak.certified and "domain" in weak.detail["reason"]


def test_split_at_the_concatenation_is_checked_exactly(block):
    """f_2 = Q ∘ R only where the junction is an exact [A; -A] / [B, -B] pair layer: one entry of it perturbed
    (either map) is refused."""
    from verify.certify.lemma_attention import BlockNotCertified, split_f2
    blk = block.net
    j = blk.readout.depth - 1
    R, Q = split_f2(blk.f2, blk.readout.depth)
    assert R.depth == blk.readout.depth and Q.depth == blk.f2.depth - R.depth
    for layer in (j, j + 1):
        with pytest.raises(BlockNotCertified):
            split_f2(mu.perturb_weight(blk.f2, layer, None, 1e-6), blk.readout.depth)
