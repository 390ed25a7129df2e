"""Float64 evaluation of the clip and square nets (issue 15, item 7): the clip is proved exact on every float input
where Sterbenz allows it, otherwise a witness and the bound E_an are reported ("exact arithmetic only"); a
non-robust clip is flagged; square reads "covered in exact arithmetic; float64 within 2^(-2m-2) + E_fl"."""

from fractions import Fraction

import numpy as np
import pytest

from constructions.affine import Affine
from constructions.fnn import FNN
from lemmas import clip as lclip
from lemmas import square as lsq
from verify.claims.clip import clip_exact_certificate, clip_float64_check, clip_float_exactness
from verify.claims.common import FMAX, float64_check
from verify.claims.square import float64_at_midpoints, square_exact_certificate


def _random_floats(rng, a, b, n=20000):
    """Floats of (a, b) with random mantissas over every binade (both signs) and subnormals."""
    e = rng.integers(-1074, 3, n)
    m = rng.integers(2 ** 52, 2 ** 53, n).astype(np.float64)
    x = np.ldexp(m, e - 52) * rng.choice([-1.0, 1.0], n)
    return x[(x > a) & (x < b)]


@pytest.mark.parametrize("a,b", [(1.0, 2.0), (0.75, 1.25), (-3.0, -2.0), (-1.5, -1.0)])
def test_sterbenz_clips_are_proved_exact_and_are(a, b):
    c = lclip.build_clip(1, a, b)
    r = clip_float_exactness(c.net, a, b)
    assert r["exact_proved"] and r["witness_dev"] == 0.0
    X = np.concatenate([_random_floats(np.random.default_rng(1), a, b), [a, b, -FMAX, FMAX, -0.0, 5e-324]])
    assert np.array_equal(c.net(X[:, None])[:, 0], np.clip(X, a, b))
    chk = clip_float64_check(c, a, b, clip_exact_certificate(c.net, a, b))
    assert chk.passed and chk.detail["float64_covered"] and chk.detail["E_fl"] == 0.0


@pytest.mark.parametrize("a,b", [(-0.5, 1.25), (0.0, 1.0), (-1.0, 1.0), (-2.0, 3.0), (-1.0, 0.0)])
def test_non_sterbenz_clips_have_a_witness_below_the_proved_bound(a, b):
    c = lclip.build_clip(1, a, b)
    r = clip_float_exactness(c.net, a, b)
    assert not r["exact_proved"]
    assert 0.0 < r["witness_dev"] <= r["E_an"]
    x = r["witness"]  # the witness really is one: exact rationals
    assert Fraction(float(c.net(np.array([[x]]))[0, 0])) != Fraction(x)
    X = _random_floats(np.random.default_rng(2), a, b)  # and E_an bounds every deviation seen
    dev = np.abs(c.net(X[:, None])[:, 0] - X)
    assert dev.max() <= r["E_an"]
    chk = clip_float64_check(c, a, b, clip_exact_certificate(c.net, a, b))
    assert chk.passed and not chk.detail["float64_covered"]
    assert "exact arithmetic only" in chk.detail["float64_reason"]
    assert chk.detail["E_fl"] <= chk.detail["E_fl_generic"]


def test_undecided_clip_is_not_called_exact():
    a, b = 1.0, 3.0  # exact in fact, but outside the Sterbenz condition proved here
    c = lclip.build_clip(1, a, b)
    r = clip_float_exactness(c.net, a, b)
    assert not r["exact_proved"] and "undecided" in r["reason"]


def test_non_robust_clip_is_flagged():
    a, b = -0.5, 1.25  # the spec's ρ(x - a) - ρ(x - b) + a: cancels at huge x
    net = FNN([Affine.dense(np.array([[1.0], [1.0]]), np.array([-a, -b])),
               Affine.dense(np.array([[1.0, -1.0]]), np.array([a]))])
    c = lclip.build_clip(1, a, b)
    bad = type(c)(net, c.formula, c.params, c.notes)
    r = clip_float_exactness(net, a, b)
    assert r["E_an"] is None and r["structure"] == "not the float-robust clip"
    chk = clip_float64_check(bad, a, b, None)
    assert chk.passed is False and not chk.detail["float64_covered"]
    assert chk.measured > 1.0  # at ±1e18 the two ramps cancel: the output is a, not b


def test_square_reads_covered_in_exact_arithmetic_only():
    m = 6
    c = lsq.build_square(m=m)
    cert = square_exact_certificate(c.net, m)
    bound = lsq.square_error_bound(m)
    chk = float64_check(c, -FMAX, FMAX, (-0.5, 1.5), bound, lambda X: np.clip(X[:, 0], 0.0, 1.0) ** 2, cert,
                        inner=0.5, attained=True)
    assert chk.passed and not chk.detail["float64_covered"]
    assert chk.detail["float64_reason"].startswith("covered in exact arithmetic")
    assert 0.0 < chk.detail["E_fl"] < 1e-13
    mid = float64_at_midpoints(c.net, m)
    assert mid["attained_points"] == 2 ** m
    assert mid["float64_overshoot_at_attained_points"] <= chk.detail["E_fl"]


def test_square_mutant_with_a_smaller_level_is_not_covered_either():
    m = 6
    c = lsq.build_square(m=m - 1)  # sup = 2^(-2m) > 2^(-2m-2): the certificate fails, nothing is covered
    cert = square_exact_certificate(c.net, m)
    assert cert.passed is False
    chk = float64_check(c, -FMAX, FMAX, (-0.5, 1.5), lsq.square_error_bound(m),
                        lambda X: np.clip(X[:, 0], 0.0, 1.0) ** 2, cert, inner=0.5, attained=True)
    assert not chk.detail["float64_covered"] and "no certificate" in chk.detail["float64_reason"]
