"""The faster certificate paths (docs/certification.md, "Cost"): ``IntervalNet.propagate`` against
``propagate_reference`` and exact values, its sub-chunks, the in-place outward rounding, ``pl_breakpoints``'
in-order insertion, the lazily refined tight enclosure of ``bnb.certify_fnn`` and the cascade's shared maps."""

from fractions import Fraction

import numpy as np
import pytest

from constructions.affine import Affine
from constructions.fnn import FNN
from lemmas import cos as lcos
from lemmas import square as lsq
from verify import certify as cf
from verify.certify import highprec as hp
from verify.certify import interval as iv
from verify.certify.cascade import cut_kinds, pre_row
from verify.certify.enclosures import with_tight
from verify.certify.piecewise import certify_pl_exact, pl_breakpoints, square_piece_error
from verify.claims.cos import trig_enclosure, trig_enclosure_fast


def test_ru_pos_is_at_least_nextafter():
    rng = np.random.default_rng(0)
    x = np.concatenate([[0.0, 5e-324, 2.0 ** -1022, 1.0, np.nextafter(2.0, 0), 2.0, 1e300],
                        np.abs(rng.normal(size=1000)) * 10.0 ** rng.integers(-300, 300, 1000)])
    up = iv._ru_pos(x.copy())
    assert np.all(up >= np.nextafter(x, np.inf))
    assert np.all(up <= np.nextafter(np.nextafter(x, np.inf), np.inf) + 2 * iv.TINY)  # at most ~2 ulp wider


def _cos_pieces(n):
    c = lcos.build_cos(3.0, 0.5, 2.0, 1e-4)
    pts = pl_breakpoints(c.net, -2.0, 2.0)
    i0 = len(pts) // 3
    return c.net, pts[i0:i0 + n, None], pts[i0 + 1:i0 + n + 1, None]


def test_propagate_matches_reference_and_contains_exact_values_on_pieces():
    net, lo, hi = _cos_pieces(3000)
    inet = iv.IntervalNet(net)
    lb, ub, (a, c, e, m, r) = inet.propagate(lo, hi, return_forms=True)
    lb0, ub0 = inet.propagate_reference(lo, hi)
    w, w0 = (ub - lb)[:, 0], (ub0 - lb0)[:, 0]
    # the same rules: widths agree up to the summation order of the products (and the order of rounding)
    assert np.allclose(w, w0, rtol=1e-9, atol=1e-15)
    assert np.all(lb <= ub)
    for i in np.random.default_rng(1).choice(len(lo), 12, replace=False):
        for x in (lo[i], hi[i]):
            v = hp.net_exact(net, x)[0]
            assert Fraction(lb[i, 0]) <= v <= Fraction(ub[i, 0])


def test_propagate_sub_chunks_equal_one_pass(monkeypatch):
    net, lo, hi = _cos_pieces(1000)
    inet = iv.IntervalNet(net)
    whole = inet.propagate(lo, hi, return_forms=True)
    monkeypatch.setattr(iv, "SUB_CHUNK", 128)
    parts = inet.propagate(lo, hi, return_forms=True)
    for x, y in zip(whole[:2] + whole[2], parts[:2] + parts[2]):
        assert np.array_equal(x, y)


def test_propagate_relaxes_and_kills_units_soundly_on_wide_boxes():
    # wide boxes: many units unstable or dead; the exact values at ends and inner points stay inside
    rng = np.random.default_rng(3)
    dims = [1, 6, 6, 6, 1]
    net = FNN([Affine.dense(rng.normal(size=(b, a)), rng.normal(size=b)) for a, b in zip(dims[:-1], dims[1:])])
    lo = rng.uniform(-3, 3, (40, 1))
    hi = lo + rng.uniform(0, 2, (40, 1))
    lb, ub = iv.IntervalNet(net).propagate(lo, hi)
    for i in range(40):
        for x in np.linspace(lo[i, 0], hi[i, 0], 7):
            v = hp.net_exact(net, [x])[0]
            assert Fraction(lb[i, 0]) <= v <= Fraction(ub[i, 0])


def test_breakpoints_are_the_exact_kinks_of_a_square_net():
    c = lsq.build_square(m=5)
    pts = pl_breakpoints(c.net, 0.0, 1.0)
    assert pts[0] == 0.0 and pts[-1] == 1.0 and np.all(np.diff(pts) > 0)
    # seeded with them, the exact certificate needs no refinement: every piece is affine
    res = certify_pl_exact(c.net, square_piece_error, 0.0, 1.0, pts)
    assert res.proved and res.refinements == 0
    assert np.allclose(pts, np.arange(33) / 32, atol=1e-15)


def test_lazy_tight_enclosure_gives_the_tight_bound_with_few_tight_boxes():
    c = lcos.build_cos(3.0, 0.5, 2.0, 1e-4)
    seed = pl_breakpoints(c.net, -0.5, 0.5)
    calls = []
    tight = trig_enclosure(3.0, 0.5, "cos")

    def counted(b_lo, b_hi):
        calls.append(len(b_lo))
        return tight(b_lo, b_hi)
    fast = trig_enclosure_fast(3.0, 0.5, "cos", -0.5, 0.5)
    enc = with_tight(fast, counted)
    r_tight = cf.certify_fnn(c.net, tight, [-0.5], [0.5], 1e-4, seed_points=seed)
    r_lazy = cf.certify_fnn(c.net, enc, [-0.5], [0.5], 1e-4, seed_points=seed)
    assert r_tight.certified and r_lazy.certified and r_lazy.boxes == r_tight.boxes
    assert r_lazy.bound <= r_tight.bound
    assert sum(calls) < r_lazy.boxes / 10


def test_lazy_tight_enclosure_never_hides_a_failure():
    # a fast enclosure that is far too loose: every box falls back to the tight one, and a broken net still fails
    c = lsq.build_square(m=4)
    loose = lambda lo, hi: (lambda h: (h[0] - 1.0, h[1] + 1.0, h[2]))(cf.enclose_square(lo, hi))  # noqa: E731
    res = cf.certify_fnn(c.net, with_tight(loose, cf.enclose_square), [0.0], [1.0], 2.0 ** -10)
    ref = cf.certify_fnn(c.net, cf.enclose_square, [0.0], [1.0], 2.0 ** -10)
    assert res.certified == ref.certified and res.bound <= ref.bound
    bad = lsq.build_square(m=2)
    res = cf.certify_fnn(bad.net, with_tight(loose, cf.enclose_square), [0.0], [1.0], 2.0 ** -10)
    assert not res.certified


@pytest.mark.parametrize("k", [0, 1, 2])
def test_cascade_helpers_with_shared_maps_equal_fresh_reads(k):
    c = lsq.build_square(m=3)
    net = c.net
    maps = net.affine_maps()
    assert cut_kinds(net, k, maps) == cut_kinds(net, k) or (cut_kinds(net, k) is None
                                                            and cut_kinds(net, k, maps) is None)
    z0, z1 = pre_row(net, k, 0), pre_row(net, k, 0, maps)
    x = np.linspace(-1, 2, 101)[:, None]
    assert np.array_equal(z0(x), z1(x))
