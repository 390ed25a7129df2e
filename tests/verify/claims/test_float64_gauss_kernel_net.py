"""Float64 evaluation of the F.5 / F.6 feature nets over all of R^d (issue 15, item 7): E_fl per output, the
certificate composed with δ_α + E_α, and the not-covered / FAIL outcomes on broken constructions."""

import dataclasses

import numpy as np

from constructions import algebra
from constructions.affine import Affine
from constructions.fnn import FNN
from lemmas import gauss_kernel_net as gn
from verify.claims import gauss_kernel_net as g
from verify.result import Check


def cancelling_clip(d: int, R: float) -> FNN:
    """The spec's clip ρ(x + R) - ρ(x - R) - R (a difference of two unbounded ramps), coordinate-wise."""
    eye = np.eye(d)
    return FNN([Affine.dense(np.vstack([eye, eye]), np.concatenate([np.full(d, R), np.full(d, -R)])),
                Affine.dense(np.hstack([eye, -eye]), np.full(d, -R))])


def _net_and_cert(d, R, eps, item=1):
    c = gn.build_kernel_features(d, R, eps, item)
    f = g.float64_features(c)
    cert = g.certificate_check(c, "", slack=f["E_fl"])
    return c, f, cert


def test_F6_small_is_covered_in_float64():
    c, f, cert = _net_and_cert(2, 1.0, 1e-2)
    assert f["reduction"].proved and len(f["per_output"]) == c.net.d_out
    assert 0.0 < f["E_fl"] < 1e-5
    chk = g.float64_kernel_check(c, cert, "", f)
    assert chk.passed is True and chk.measured == 0.0  # F_fl(x) = F_fl(clip x) exactly at the extremes
    assert chk.detail["float64_covered"], chk.detail["float64_reason"]
    assert chk.detail["float64_kernel_bound"] >= cert.measured  # δ + E composes to a larger bound


def test_F5_small_item3_certifies_below_eta_minus_E_fl():
    c, f, cert = _net_and_cert(1, 1.0, 1e-2, item=3)
    assert cert.certified
    assert max(cert.detail["factor_bounds_delta_alpha"]) <= c.notes["eta"] - f["E_fl"]
    chk = g.float64_kernel_check(c, cert, "", f)
    assert chk.passed and chk.detail["float64_covered"]


def test_certificate_without_slack_reads_not_covered():
    c, f, cert = _net_and_cert(2, 1.0, 1e-2)
    eta = c.notes["eta"]
    tight = Check(cert.name, True, cert.measured, cert.bound, {**cert.detail,
                  "factor_bounds_delta_alpha": [eta] * c.net.d_out})
    tight.certified = True
    chk = g.float64_kernel_check(c, tight, "", f)
    assert not chk.detail["float64_covered"] and "> η" in chk.detail["float64_reason"]
    none = g.float64_kernel_check(c, None, "", f)
    assert not none.detail["float64_covered"] and "no certificate" in none.detail["float64_reason"]


def test_cancelling_clip_inside_the_F6_net_fails():
    c = gn.build_kernel_features(2, 1.0, 1e-2, 1)
    bad = dataclasses.replace(c, net=algebra.compose(c.net, cancelling_clip(2, 1.0)))
    chk = g.float64_kernel_check(bad, None, "")
    assert chk.passed is False  # F_fl(1e18, .) is the feature of -R, not R
    assert not chk.detail["tail_reduction"] and not chk.detail["float64_covered"]
    assert "covers [-R, R]^2 only" in chk.detail["float64_reason"]


def test_overflowing_weight_inside_the_F5_net_is_not_covered():
    c = gn.build_kernel_features(1, 1.0, 1e-2, 1)
    s = 2.0 ** 1000  # x -> s x -> x / s: the same function in exact arithmetic, inf at huge x in float64
    pre = algebra.compose(algebra.linear(algebra.identity(1, 2), np.array([[1.0 / s]])),
                          algebra.linear(algebra.identity(1, 2), np.array([[s]])))
    bad = dataclasses.replace(c, net=algebra.compose(c.net, pre))
    X = np.array([[0.5], [-0.25]])
    assert np.allclose(bad.net(X), c.net(X), atol=1e-12, rtol=0)
    chk = g.float64_kernel_check(bad, None, "")
    assert chk.passed is False  # s * 1e18 overflows: F_fl(1e18) is not finite
    assert not chk.detail["float64_covered"]
    assert not chk.detail["tail_reduction"]
