"""VNN-LIB properties: soundness of the box enclosures, the file round trip, and a too-small ε caught exactly."""
from fractions import Fraction

import numpy as np
import pytest

from lemmas.square import build_square
from verify.interop import vnnlib


def test_enclosures_hold_and_files_read_back(tmp_path):
    spec = vnnlib.spec_for("lemma-F.3-square", {"m": 4})
    idx = vnnlib.write_properties(spec, 1, tmp_path / "p", params={"m": 4})
    assert idx["boxes"] >= 1 and idx["max_enclosure_width"] <= spec.eps / 64
    rng = np.random.default_rng(0)
    for k, b in enumerate(vnnlib.boxes(spec)):
        lo, hi, dis = vnnlib.read_property(tmp_path / "p" / idx["files"][k])
        assert np.array_equal(lo, b.lo) and np.array_equal(hi, b.hi) and len(dis) == 2
        o, S, m, h_lo, h_hi = b.rows[0]
        for x in rng.uniform(b.lo, b.hi, size=(5, 1)):
            g = Fraction(float(x[0])) ** 2
            lin = Fraction(float(S[0])) * (Fraction(float(x[0])) - Fraction(float(m[0])))
            assert lin + Fraction(h_lo) <= g <= lin + Fraction(h_hi)


def test_clip_splits_at_kinks_exactly():
    spec = vnnlib.spec_for("lemma-F.2-clip", {"d": 2, "a": -0.5, "b": 1.25})
    bs = vnnlib.boxes(spec)
    assert len(bs) == 9 and max(b.width for b in bs) == 0.0


def test_too_small_eps_gives_real_violation():
    """At ε below the exact sup 2^-10 of f_4 - x^2 the property holds a point that re-checks as a real violation."""
    net = build_square(m=4).net
    spec = vnnlib.spec_for("lemma-F.3-square", {"m": 4}, eps=2.0 ** -10 * 0.9)
    x = np.array([3 / 32])  # a dyadic midpoint: f_4 - x^2 = 2^-10 exactly
    b = next(b for b in vnnlib.boxes(spec) if b.lo[0] <= x[0] <= b.hi[0])
    r = vnnlib.recheck(net, spec, b.lo, b.hi, vnnlib.violations(b, spec.eps), x)
    assert r["inside_box"] and r["violates_property"] and r["violates_claim"]
    ok = vnnlib.spec_for("lemma-F.3-square", {"m": 4}, eps=2.0 ** -10 * 1.1)
    b = next(b for b in vnnlib.boxes(ok) if b.lo[0] <= x[0] <= b.hi[0])
    assert not vnnlib.recheck(net, ok, b.lo, b.hi, vnnlib.violations(b, ok.eps), x)["violates_claim"]


def test_a_box_whose_enclosure_is_nan_is_never_accepted():
    """A NaN enclosure width (arb ball arithmetic on a wide box) is bisected, never silently dropped."""
    spec = vnnlib.spec_for("lemma-F.3-rec", {"eps": 0.1, "x_min": 0.0, "x_max": 0.0}, piece=((1.0,), (2.0,)))
    bs = vnnlib.boxes(spec)
    assert bs and all(b.width <= spec.eps / 64 for b in bs)
    assert min(b.lo[0] for b in bs) == 1.0 and max(b.hi[0] for b in bs) == 2.0
    assert sum(b.hi[0] - b.lo[0] for b in bs) == 1.0  # the boxes cover the piece


def test_bad_inputs():
    with pytest.raises(ValueError, match="no VNN-LIB target"):
        vnnlib.spec_for("lemma-F.3-prod", {})
    with pytest.raises(ValueError, match="positive"):
        vnnlib.spec_for("lemma-F.3-square", {"m": 4}, eps=-1)
    with pytest.raises(ValueError, match="piece"):
        vnnlib.spec_for("lemma-F.3-square", {"m": 4}, piece=((0.5,), (2.0,)))


@pytest.mark.parametrize("cid, params, piece, g", [
    ("lemma-F.3-rec", {"eps": 0.1, "x_min": 0.0, "x_max": 0.0}, ((1.0,), (2.0,)), lambda x: 1 / x[0]),
    ("lemma-F.3-cos", {"a": 3.0, "b": 0.5, "D": 2.0, "eps": 1e-2}, None, lambda x: np.cos(3.0 * x[0] - 0.5)),
])
def test_rec_cos_enclosures_hold_and_the_claims_net_is_inside(cid, params, piece, g, tmp_path):
    """The new targets: every box's linear enclosure holds at sampled points (float64 values, which sit far
    inside the width checked), the exact re-check bounds contain g, and the claim's own net violates no property
    at those points (the certificate says so for the whole domain)."""
    from verify.registry import load_all

    c = load_all()[cid]
    p = {**c.params, **params}
    net = c.build(p).net
    spec = vnnlib.spec_for(cid, p, piece=piece)
    idx = vnnlib.write_properties(spec, net.d_out, tmp_path / "p", params=params)
    assert idx["boxes"] >= 1
    rng = np.random.default_rng(1)
    for b in vnnlib.boxes(spec)[::max(1, idx["boxes"] // 40)]:
        o, S, m, h_lo, h_hi = b.rows[0]
        for x in rng.uniform(b.lo, b.hi, size=(3, len(b.lo))):
            lin = float(np.dot(S, x - m))
            assert lin + h_lo - 1e-12 <= g(x) <= lin + h_hi + 1e-12
            lo_hi = spec.exact([Fraction(float(v)) for v in x])[0]
            assert float(lo_hi[0]) - 1e-15 <= g(x) <= float(lo_hi[1]) + 1e-15
            r = vnnlib.recheck(net, spec, b.lo, b.hi, vnnlib.violations(b, spec.eps), x)
            assert r["inside_box"] and not r["violates_claim"]


def test_ratio_wedge_boxes_halfspaces_and_recheck(tmp_path):
    """F.4 ratio on its wedge |a| <= C b: boxes wholly outside the wedge are dropped, the boxes kept cover the wedge,
    the two linear input constraints are written and read back, and a point outside the wedge is not 'inside'."""
    from verify.registry import load_all

    c = load_all()["lemma-F.4-ratio"]
    p = {**c.params, "eps": 0.1, "C": 1.0, "b_min": 0.5, "b_max": 1.0}
    net = c.build(p).net
    spec = vnnlib.spec_for("lemma-F.4-ratio", p)
    idx = vnnlib.write_properties(spec, 1, tmp_path / "r", params=p)
    bs = vnnlib.boxes(spec)
    assert idx["boxes"] == len(bs) and idx["max_enclosure_width"] <= spec.eps / 64
    # every box meets the wedge, and wedge points are covered
    assert vnnlib.in_halfspaces(spec, np.array([b.lo for b in bs]), np.array([b.hi for b in bs])).all()
    rng = np.random.default_rng(3)
    bb = rng.uniform(0.5, 1.0, 200)
    pts = np.column_stack([rng.uniform(-1, 1, 200) * bb, bb])
    assert all(any(np.all(b.lo <= x) and np.all(x <= b.hi) for b in bs) for x in pts)
    full = vnnlib.spec_for("lemma-F.4-ratio", p)
    full.halfspaces = []
    assert len(bs) < 0.75 * len(vnnlib.boxes(full))  # the corners outside the wedge were cut
    hs = vnnlib.read_halfspaces(tmp_path / "r" / idx["files"][0])
    assert [(list(cv), r) for cv, r in hs] == [([1.0, -1.0], 0.0), ([-1.0, -1.0], 0.0)]
    # the claim's net satisfies no disjunct at wedge points (exact re-check), and an outside point is flagged
    for x in pts[:20]:
        b = next(b for b in bs if np.all(b.lo <= x) and np.all(x <= b.hi))
        r = vnnlib.recheck(net, spec, b.lo, b.hi, vnnlib.violations(b, spec.eps), x)
        assert r["inside_box"] and not r["violates_property"] and not r["violates_claim"]
    b = next(b for b in bs if b.hi[0] > b.lo[1])  # a box that sticks out of the wedge
    x = np.array([b.hi[0], b.lo[1]])
    assert not vnnlib.recheck(net, spec, b.lo, b.hi, vnnlib.violations(b, spec.eps), x)["inside_box"]


def test_quotient_property_fails_when_eps_is_too_small():
    """At ε below the quotient net's real error, the exact re-check finds a real violation on some box."""
    from verify.registry import load_all

    c = load_all()["lemma-F.4-quotient"]
    p = {**c.params, "eps": 0.1, "A": 1.0, "b_min": 0.5, "b_max": 1.0}
    net = c.build(p).net
    rng = np.random.default_rng(4)
    X = np.column_stack([rng.uniform(-1, 1, 4000), rng.uniform(0.5, 1.0, 4000)])
    err = np.abs(net(X)[:, 0] - X[:, 0] / X[:, 1])
    x = X[np.argmax(err)]
    spec = vnnlib.spec_for("lemma-F.4-quotient", p, eps=float(err.max()) * 0.5, piece=(x - 1e-3, x + 1e-3))
    b = next(b for b in vnnlib.boxes(spec) if np.all(b.lo <= x) and np.all(x <= b.hi))
    r = vnnlib.recheck(net, spec, b.lo, b.hi, vnnlib.violations(b, spec.eps), x)
    assert r["inside_box"] and r["violates_property"] and r["violates_claim"]
