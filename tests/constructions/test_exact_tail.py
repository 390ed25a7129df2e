"""Weights beyond float64 (constructions.affine.ExactTail, issue 15): a map's exact value is the float64 expansion
A_0 + T_1 + ... (exact dyadic sum); the tails follow concatenation, B reads the exact value, export reloads them
bit-exactly (plain float64 exports unchanged), the P-bit evaluator's enclosure contains the exact rational output
of a net with tails and misses it when the tails are dropped, and merges that would round them are refused."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from constructions import algebra, export
from constructions.affine import Affine, ExactTail
from constructions.fnn import FNN
from verify.certify import fixedpoint as fp


def _tailed_net(seed: int = 0):
    """A 3 -> 4 -> 2 ReLU net whose output map's weights are x + x 2^-60 (+ x 2^-115): not float64 numbers."""
    rng = np.random.default_rng(seed)
    A1 = rng.uniform(-1, 1, (4, 3))
    b1 = rng.uniform(-0.5, 0.5, 4)
    A2 = rng.uniform(-1, 1, (2, 4))
    b2 = np.array([0.25, -0.375])
    r, c = np.nonzero(A2)
    parts = np.stack([A2[r, c] * 2.0 ** -60, A2[r, c] * 2.0 ** -115])
    bp = np.stack([b2 * 2.0 ** -61, np.zeros(2)])
    out = Affine.from_coo(r, c, A2[r, c], A2.shape, b2).with_tail(ExactTail(r, c, parts, bp))
    return FNN([Affine.dense(A1, b1), out])


def _exact(net, x):
    """The exact output (Fractions), every map read as the sum of its parts."""
    h = [Fraction(float(v)) for v in x]
    for i, ((r, c, parts), bp, (d_out, _)) in enumerate(net.exact_maps()):
        y = [sum((Fraction(float(p)) for p in bp[:, j]), Fraction(0)) for j in range(d_out)]
        for k in range(r.size):
            y[r[k]] += sum((Fraction(float(p)) for p in parts[:, k]), Fraction(0)) * h[c[k]]
        h = [max(v, Fraction(0)) for v in y] if i < len(net.layers) - 1 else y
    return h


def test_enclosure_contains_exact_output_with_tails():
    net = _tailed_net()
    X = np.random.default_rng(1).uniform(-1, 1, (5, 3))
    P = 200
    lo, hi = fp.fnn_fixed(net, fp.scaled(X.T, P, False), fp.scaled(X.T, P, True), P)
    s = Fraction(1, 2 ** P)
    plain = FNN([net.layers[0], net.layers[1].with_tail(None)])
    lo0, hi0 = fp.fnn_fixed(plain, fp.scaled(X.T, P, False), fp.scaled(X.T, P, True), P)
    missed = 0
    for t in range(X.shape[0]):
        ex = _exact(net, X[t])
        for j in range(2):
            assert Fraction(int(lo[j, t])) * s <= ex[j] <= Fraction(int(hi[j, t])) * s
            assert (hi[j, t] - lo[j, t]) * s < Fraction(1, 2 ** 150)  # narrow: the tails (2^-60) are resolved
            missed += not (Fraction(int(lo0[j, t])) * s <= ex[j] <= Fraction(int(hi0[j, t])) * s)
    assert missed > 0  # without its tails the same net's enclosure misses the exact output


def test_tail_validation_and_algebra():
    net = _tailed_net()
    lay = net.layers[1]
    r, c, parts, bp = lay.exact_parts()
    assert parts.shape[0] == 3 and np.array_equal(parts[0], lay.coo()[2])
    with pytest.raises(ValueError, match="outside the stored nonzero"):
        Affine.dense(np.array([[1.0, 0.0]])).with_tail(ExactTail(np.array([0]), np.array([1]), np.ones((1, 1)),
                                                                  np.zeros((1, 1))))
    with pytest.raises(ValueError, match="zero bias"):
        Affine.dense(np.array([[1.0, 0.0]])).with_tail(ExactTail(np.array([0]), np.array([0]), np.ones((1, 1)),
                                                                  np.ones((1, 1))))
    with pytest.raises(ValueError, match="float64 product"):
        algebra.compose(algebra.affine(np.eye(2)), net)
    # concatenation keeps them: [A; -A] then [I, -I] is the same exact function
    cat = algebra.concat(algebra.affine(np.eye(2)), net)
    x = np.random.default_rng(2).uniform(-1, 1, 3)
    assert _exact(cat, x) == _exact(net, x)
    assert cat.has_tails and not FNN([net.layers[0]]).has_tails


def test_counts_read_the_exact_value():
    # an entry 1 + 2^-52 - 2^-54 (exact) is stored as 1 + 2^-52 with tail -2^-54: B is the rounding of the exact max
    lay = Affine.dense(np.array([[1.0 + 2.0 ** -52, 0.5]])).with_tail(
        ExactTail(np.array([0]), np.array([0]), np.array([[-(2.0 ** -54)]]), np.zeros((1, 1))))
    assert lay.max_abs == float(Fraction(1) + Fraction(1, 2 ** 52) - Fraction(1, 2 ** 54))
    big = Affine.dense(np.array([[0.5, 1.0]])).with_tail(
        ExactTail(np.array([0]), np.array([1]), np.array([[2.0 ** -40]]), np.zeros((1, 1))))
    assert big.max_abs == 1.0 + 2.0 ** -40


def test_export_round_trip_keeps_tails(tmp_path):
    net = _tailed_net()
    export.save(net, tmp_path / "t")
    back = export.load(tmp_path / "t")
    for a, b in zip(net.layers, back.layers):
        for u, v in zip(a.exact_parts(), b.exact_parts()):
            assert np.array_equal(u, v)
    assert export.fingerprint(back) == export.fingerprint(net)
    plain = FNN([net.layers[0], net.layers[1].with_tail(None)])
    assert export.fingerprint(plain) != export.fingerprint(net)
    arch, arrays = export.to_arrays(plain)
    assert not any("tail" in k for k in arrays)  # a float64 net's export has no tail arrays (format unchanged)
    x = np.random.default_rng(3).uniform(-1, 1, (4, 3))
    assert np.array_equal(back(x), plain(x))  # the float64 path runs the rounded net, bit-identically
