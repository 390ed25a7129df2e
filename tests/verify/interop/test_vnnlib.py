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


def test_bad_inputs():
    with pytest.raises(ValueError, match="no VNN-LIB target"):
        vnnlib.spec_for("lemma-F.3-rec", {})
    with pytest.raises(ValueError, match="positive"):
        vnnlib.spec_for("lemma-F.3-square", {"m": 4}, eps=-1)
    with pytest.raises(ValueError, match="piece"):
        vnnlib.spec_for("lemma-F.3-square", {"m": 4}, piece=((0.5,), (2.0,)))
