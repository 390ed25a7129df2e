"""High-precision evaluation of emitted networks: mpmath at a chosen precision, exact rationals (issue 6)."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np

from constructions.fnn import FNN


def net_mp(net: FNN, x, dps: int = 60) -> list:
    """The network evaluated in mpmath at ``dps`` digits from its stored coordinates (not its forward pass)."""
    with mpmath.workdps(dps):
        h = [mpmath.mpf(float(v)) for v in np.ravel(x)]
        maps = net.affine_maps()
        for i, ((r, c, v), b, _) in enumerate(maps):
            out = [mpmath.mpf(float(bb)) for bb in b]
            for rr, cc, vv in zip(r.tolist(), c.tolist(), v.tolist()):
                out[rr] += mpmath.mpf(vv) * h[cc]
            h = out if i == len(maps) - 1 else [o if o > 0 else mpmath.mpf(0) for o in out]
        return h


def net_exact(net: FNN, x) -> list[Fraction]:
    """The network evaluated exactly in rational arithmetic (weights and inputs are exact binary rationals)."""
    h = [Fraction(float(v)) for v in np.ravel(x)]
    maps = net.affine_maps()
    for i, ((r, c, v), b, _) in enumerate(maps):
        out = [Fraction(float(bb)) for bb in b]
        for rr, cc, vv in zip(r.tolist(), c.tolist(), v.tolist()):
            if h[cc]:
                out[rr] += Fraction(vv) * h[cc]
        h = out if i == len(maps) - 1 else [o if o > 0 else Fraction(0) for o in out]
    return h


