"""The O(m) sawtooth-level certificate (verify/certify/sawtooth.py): agrees with the piecewise certificate where
that one can run (small m), is sound, and refuses or widens on perturbed weights."""

from __future__ import annotations

import importlib
from fractions import Fraction

import numpy as np
import pytest
from flint import fmpq

from constructions.circuit import Circuit
from lemmas.mult import level, pair_level
from verify import mutants as mu
from verify.certify import sawtooth
from verify.certify.highprec import net_exact

cascade = importlib.import_module("verify.certify.cascade")


def pair_net(m: int, square: bool = False, three: bool = False):
    c = Circuit(1 if square else 2)
    x = c.inputs()
    op = ("square", x[0]) if square else ("mult", x[0], x[1])
    out = (level if three else pair_level)(c, [op], m)
    return c.net(out)


def leaves(n):
    return [cascade.Value(fmpq(0), 0, -1.0, 1.0, fmpq(1), tuple(int(i == t) for t in range(n))) for i in range(n)]


def cascade_without_sawtooth(net, lv, scale, monkeypatch):
    with monkeypatch.context() as mp:
        mp.setattr(cascade, "sawtooth_stage", lambda *a: None)
        cascade._CACHE.clear()
        return cascade.certify_cascade(net, lv, scale)


@pytest.mark.parametrize("m,square,three", [(2, False, False), (5, False, False), (9, False, False),
                                            (4, True, False), (8, True, False), (6, False, True)])
def test_agrees_with_the_piecewise_certificate_at_small_m(m, square, three, monkeypatch):
    net = pair_net(m, square, three)
    lv = leaves(net.d_in)
    cascade._CACHE.clear()
    new = cascade.certify_cascade(net, lv, fmpq(1))
    old = cascade_without_sawtooth(net, lv, fmpq(1), monkeypatch)
    # the sawtooth path ran: only the leaves' clip rows (affine, 2 pieces) were enumerated, against ~2^m before
    assert new["pieces"] <= 2 < 2 ** m <= old["pieces"]
    assert new["delta"] == old["delta"]  # the same exact bound: the piecewise sup is attained, so is (I)'s
    # a product of pair_level errs by exactly η_m = 2^{-2m-2}; a square likewise; three squares (mult.level) 2^{-2m}
    expect = fmpq(1, 4 ** m) if three else sawtooth.eta(m)
    assert new["last_stage_error"] == expect


def test_interpolation_bound_is_attained_and_sound():
    m = 6
    net = pair_net(m)
    h = 2.0 ** (-m - 1)
    # ca = cb = 2^{-m-1}: u_+ a grid midpoint, u_- = 0: error exactly +η_m (exact evaluation)
    y = net_exact(net, np.array([h, h]))[0]
    assert y - Fraction(h) * Fraction(h) == Fraction(1, 4 ** (m + 1))
    rng = np.random.default_rng(3)
    for x in rng.uniform(-1, 1, (200, 2)):
        e = net_exact(net, x)[0] - Fraction(float(x[0])) * Fraction(float(x[1]))
        assert abs(e) <= Fraction(1, 4 ** (m + 1))


def test_deep_levels_cost_no_pieces():
    """m = 40 (2^40 linear pieces per channel): certified exactly as η_m through the whole cascade."""
    net = pair_net(40)
    res = cascade.certify_cascade(net, leaves(2), fmpq(1))
    assert res["delta"] == sawtooth.eta(40) and res["pieces"] <= 2


def test_perturbed_transition_is_refused_and_perturbed_output_widens():
    m = 6
    net = pair_net(m)
    lv = leaves(2)
    y_box = ([fmpq(0), fmpq(0)], [fmpq(2), fmpq(2)])
    target = {(0, 1): fmpq(1), (0,): fmpq(-1), (1,): fmpq(-1), (): fmpq(1)}  # (y_a - 1)(y_b - 1)
    # a transition weight (map 3: the second sawtooth step) x(1 + 1e-3): not a sawtooth chain any more
    bad = mu.perturb_weight(net, 3, None, 1e-3)
    with pytest.raises(sawtooth.NotSawtooth):
        sawtooth.recognise(sawtooth.coo_layers(_after_clip(bad)), *y_box)
    # the cascade falls back to the piecewise certificate, which still bounds the mutant soundly
    cascade._CACHE.clear()
    res = cascade.certify_cascade(bad, lv, fmpq(1))
    assert res["pieces"] > 0
    # one output weight x(1 + 1e-3): a channel no longer read as a multiple of f_m: refused as well
    with pytest.raises(sawtooth.NotSawtooth):
        sawtooth.recognise(sawtooth.coo_layers(_after_clip(mu.perturb_weight(net, -1, None, 1e-3))), *y_box)
    # the whole output map x(1 + 1e-3) (every weight of the product's read-out): still a sawtooth form, Q is no
    # longer the target, the bound grows by the exact enclosure of Q - target and stays sound
    bad_out = _scaled_output(net, 1 + 2.0 ** -10)
    E_good, _ = sawtooth.stage_error(sawtooth.coo_layers(_after_clip(net)), *y_box, target)
    E_bad, det = sawtooth.stage_error(sawtooth.coo_layers(_after_clip(bad_out)), *y_box, target)
    assert E_good == sawtooth.eta(m) and E_bad > E_good and not det["exact_quadratic"]
    rng = np.random.default_rng(0)  # sound for the mutant
    for x in rng.uniform(-1, 1, (100, 2)):
        e = net_exact(bad_out, x)[0] - Fraction(float(x[0])) * Fraction(float(x[1]))
        assert abs(e) <= Fraction(int(E_bad.p), int(E_bad.q))


def _scaled_output(net, k: float):
    from constructions.affine import Affine
    from constructions.fnn import FNN
    maps = net.affine_maps()
    (r, c, v), b, shape = maps[-1]
    return FNN([Affine.from_coo(*mp[0], mp[2], mp[1]) for mp in maps[:-1]] + [Affine.from_coo(r, c, v * k, shape, b * k)])


def _after_clip(net):
    """The maps after the clip layer of a one-level net, reading y_g = clip(x_g) + 1 (one column per pair)."""
    maps = net.affine_maps()
    groups, _ = cascade.cut_kinds(net, 0, maps)
    (rr, cc, vv), b1, shape1 = maps[1]
    rep = {grp[0][0]: g for g, grp in enumerate(groups)}
    keep = np.array([int(c) in rep for c in cc])
    first = ((rr[keep], np.array([rep[int(c)] for c in cc[keep]], dtype=np.int64), vv[keep]), b1,
             (shape1[0], len(groups)))
    return [first] + maps[2:]
