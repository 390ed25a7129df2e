"""The P-bit limb evaluator (verify/certify/fixedpoint.py): its enclosure contains the exact-arithmetic output of
the network on its stored float64 weights (checked against fractions.Fraction), narrows as P grows, agrees with
(is inside) the earlier Python-integer evaluator's, and a wrongly rounded evaluator is caught."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from constructions.affine import Affine
from constructions.fnn import FNN
from constructions.model import Decoding, Embedding, SSMModel
from constructions.ssm import SSMLayer, cosine, delay, running_sum
from verify.certify import fixedpoint as fp


# ------------------------------------------------------------------------------------------ exact references
def fr(x) -> Fraction:
    return Fraction(float(x))


def exact_affine(A, b, h):
    return [sum((fr(A[r, c]) * h[c] for c in range(A.shape[1]) if A[r, c] != 0), Fraction(0)) + fr(b[r])
            for r in range(A.shape[0])]


def exact_fnn(net, h):
    maps = net.dense_maps()
    for i, (A, b) in enumerate(maps):
        h = exact_affine(A, b, h)
        if i < len(maps) - 1:
            h = [max(v, Fraction(0)) for v in h]
    return h


def exact_ssm(layer, Z):
    """Z: list over tokens of lists over channels (Fractions); running sums (window U) and delays."""
    if layer.W_in is not None:
        Z = [exact_affine(layer.W_in, np.zeros(layer.W_in.shape[0]), z) for z in Z]
    N = len(Z)
    out = []
    for t in range(N):
        y = []
        for h, ch in enumerate(layer.channels):
            if ch.family == "running_sum":
                y.append(sum((Z[s][h] for s in range(max(0, t - layer.U + 1), t + 1)), Fraction(0)))
            else:
                y.append(Z[t - ch.ell][h] if ch.ell <= t and ch.ell < layer.U else Fraction(0))
        out.append(y)
    if layer.W_out is not None:
        out = [exact_affine(layer.W_out, np.zeros(layer.W_out.shape[0]), y) for y in out]
    return out


def contains(lo, hi, exact, P) -> bool:
    s = Fraction(1, 2 ** P)
    return all(Fraction(int(a)) * s <= e <= Fraction(int(b)) * s for a, b, e in zip(lo, hi, exact))


# ------------------------------------------------------------------------------------------ random nets
def random_net(rng, widths, spread=(-60, 20), tiny=True):
    """Dense-ish maps whose weights have mixed exponents: 2^-60 .. 2^20, some near the subnormal range, some
    above 2^53, exact zeros."""
    layers = []
    for a, b in zip(widths[:-1], widths[1:]):
        W = rng.normal(size=(b, a)) * 2.0 ** rng.integers(*spread, size=(b, a))
        if tiny:
            W.flat[rng.integers(W.size)] = 3.0 * 2.0 ** -1070  # subnormal
            W.flat[rng.integers(W.size)] = -1.5 * 2.0 ** 60
        W[rng.random((b, a)) < 0.25] = 0.0
        bias = rng.normal(size=b) * 2.0 ** rng.integers(-70, 10, size=b)
        layers.append(Affine.dense(W, bias))
    return FNN(layers)


def fnn_enclosure(net, X, P):
    return fp.fnn_fixed(net, fp.scaled(X, P, False), fp.scaled(X, P, True), P)


@pytest.mark.parametrize("widths", [[3, 4], [3, 5, 2], [4, 6, 5, 3], [2, 7, 7, 7, 2]])
def test_enclosure_contains_exact_output(widths):
    rng = np.random.default_rng(len(widths))
    net = random_net(rng, widths)
    X = rng.normal(size=(widths[0], 5)) * 2.0 ** rng.integers(-30, 30, size=(widths[0], 5))  # negative inputs too
    for P in (16, 64, 200):
        lo, hi = fnn_enclosure(net, X, P)
        for t in range(X.shape[1]):
            assert contains(lo[:, t], hi[:, t], exact_fnn(net, list(map(fr, X[:, t]))), P), (P, t)
        assert np.all(lo <= hi)


def test_width_shrinks_with_P():
    rng = np.random.default_rng(7)
    net = random_net(rng, [3, 6, 6, 2], spread=(-3, 3), tiny=False)
    X = rng.normal(size=(3, 4))
    widths = []
    for P in (20, 40, 80):
        lo, hi = fnn_enclosure(net, X, P)
        widths.append(max(Fraction(int(b - a), 2 ** P) for a, b in zip(lo.ravel(), hi.ravel())))
    assert widths[0] > 0 and widths[1] < widths[0] / 2 ** 10 and widths[2] < widths[1] / 2 ** 10


def test_wrong_rounding_is_caught(monkeypatch):
    """lo rounded up instead of down (the 2^K - 1 ceil offset added to both ends): the containment test fails."""
    rng = np.random.default_rng(3)
    net = random_net(rng, [3, 4], spread=(-8, 2), tiny=False)
    X = rng.normal(size=(3, 6))
    P = 12
    lo, hi = fnn_enclosure(net, X, P)
    ok = [contains(lo[:, t], hi[:, t], exact_fnn(net, list(map(fr, X[:, t]))), P) for t in range(6)]
    assert all(ok)
    real = fp._Map.bias

    def lo_rounded_up(self, P):
        bl = real(self, P).copy()
        bl[:, 0] = bl[:, 1]  # lo gets hi's ceil (and its offset): floor((v + 2^K - 1) / 2^K) = ceil on lo
        return bl
    monkeypatch.setattr(fp._Map, "bias", lo_rounded_up)
    fp._COMPILED.clear()
    lo, hi = fnn_enclosure(net, X, P)
    ok = [contains(lo[:, t], hi[:, t], exact_fnn(net, list(map(fr, X[:, t]))), P) for t in range(6)]
    fp._COMPILED.clear()
    assert not all(ok)


def test_limb_round_trip_and_overflow_guard():
    rng = np.random.default_rng(0)
    vals = [int(v) for v in rng.integers(-2 ** 62, 2 ** 62, size=12)] + [2 ** 300 + 5, -(2 ** 200) - 1, 0, -1]
    a = np.array(vals, dtype=object).reshape(4, 4)
    lo, hi = fp.from_limbs(fp.to_limbs(a, a + 1))
    assert (lo == a).all() and (hi == a + 1).all()
    # a row with more than 2^15 terms is refused, not wrapped
    W = np.ones((1, 40000))
    with pytest.raises(ValueError, match="overflow"):
        fp.FixedFNN.linear(W)(fp.input_limbs(np.ones((40000, 1)), 8), 8)


# ------------------------------------------------------------------------------------------ SSM and model
def small_model(rng, U):
    emb = Embedding(rng.normal(size=(3, 2)), rng.normal(size=3), kind="vector")
    pre = random_net(rng, [3, 5, 4], spread=(-4, 2), tiny=False)
    g = SSMLayer((running_sum(), delay(0), delay(2), running_sum()), U=U)
    f = random_net(rng, [4, 6, 2], spread=(-4, 2), tiny=False)
    g2 = SSMLayer((running_sum(), delay(1)), U=U, W_in=rng.normal(size=(2, 2)), W_out=rng.normal(size=(2, 2)))
    f2 = random_net(rng, [2, 3, 2], spread=(-4, 2), tiny=False)
    return SSMModel(emb, [(g, f), (g2, f2)], pre=pre), emb


def exact_model(model, emb, X, decode=False):
    Z = [exact_affine(emb.E, emb.b, list(map(fr, x))) for x in X]
    Z = [exact_fnn(model.pre, z) for z in Z]
    for g, f in model.blocks:
        Z = [exact_fnn(f, y) for y in exact_ssm(g, Z)]
    if decode:
        return exact_affine(model.decoding.W_dec, np.zeros(model.decoding.W_dec.shape[0]), Z[-1])
    return Z


@pytest.mark.parametrize("U", [3, 50])
def test_model_enclosure_contains_exact_output(U):
    rng = np.random.default_rng(U)
    model, emb = small_model(rng, U)
    X = rng.normal(size=(7, 2))
    P = 40
    lo, hi = fp.model_fixed(model, X, P)
    ex = exact_model(model, emb, X)
    assert lo.shape == (7, 2)
    for t in range(7):
        assert contains(lo[t], hi[t], ex[t], P), t
    lo1, hi1 = fp.model_fixed(model, X, P, last_only=True)
    assert (lo1[0] == lo[-1]).all() and (hi1[0] == hi[-1]).all()
    dec = SSMModel(emb, model.blocks, Decoding(rng.normal(size=(3, 2))), pre=model.pre)
    lo, hi = fp.model_fixed(dec, X, P)
    assert contains(lo, hi, exact_model(dec, emb, X, decode=True), P)


def test_ssm_window_exact_and_streamed_last_token():
    rng = np.random.default_rng(5)
    g = SSMLayer((running_sum(), delay(0), delay(3), running_sum()), U=5)
    Z = rng.integers(-2 ** 40, 2 ** 40, size=(4, 11)).astype(object)
    lo, hi = fp.ssm_fixed(g, Z, Z + 1)
    ex = exact_ssm(g, [[Fraction(int(v)) for v in Z[:, t]] for t in range(11)])
    assert all(lo[h, t] == ex[t][h] for h in range(4) for t in range(11))
    ex1 = exact_ssm(g, [[Fraction(int(v)) + 1 for v in Z[:, t]] for t in range(11)])
    assert all(hi[h, t] == ex1[t][h] for h in range(4) for t in range(11))
    # the streamed last-token path (chunks of 4 tokens) on float inputs = the full path's last column
    X = rng.normal(size=(11, 4))
    P = 30
    last = fp.ssm_last_fixed(None, g, X, P, chunk=4)
    full = fp.ssm_fixed_limbs(g, fp.input_limbs(X.T, P), P)
    a, b = fp.from_limbs(last), fp.from_limbs(full[..., -1:])
    assert (a[0] == b[0]).all() and (a[1] == b[1]).all()


def test_cosine_channel_is_refused():
    g = SSMLayer((running_sum(), cosine([1.0], [0.3])), U=4)
    with pytest.raises(ValueError, match="cosine"):
        fp.ssm_fixed_limbs(g, fp.input_limbs(np.ones((2, 3)), 8), 8)


# ------------------------------------------------------------------------------------------ Lemma 3.3 block
def test_block_agrees_with_the_python_integer_evaluator():
    """At small N the limb path's enclosure lies inside the earlier evaluator's (it rounds once per row, the old
    one once per product), for the high-precision block (τ = -0.3) at a P where rounding shows."""
    from lemmas import attention as la
    from verify.certify.lemma_attention import block_fixed
    from verify.claims.attention import sample_sequence
    N = 16
    c = la.build_attention(1, 1, N, 0.5, 0.2, -0.3, "chebyshev")
    X, _ = sample_sequence(np.random.default_rng(0), N, 1, 1, 0.5, -0.3, "random")
    for P in (60, 160):
        y, _ = block_fixed(c.net, X, P)
        lo, hi = fp.scaled(X.T.copy(), P, False), fp.scaled(X.T.copy(), P, True)
        zl, zu = fp.fnn_fixed_objects(c.net.f1, lo, hi, P)
        gl, gu = fp.ssm_fixed_objects(c.net.g, zl, zu)
        yl, yu = fp.fnn_fixed_objects(c.net.f2, gl[:, -1:], gu[:, -1:], P)
        for (a, b), ol, ou in zip(y, yl[:, 0], yu[:, 0]):
            assert Fraction(int(ol), 2 ** P) <= a <= b <= Fraction(int(ou), 2 ** P)
