"""Mutants of emitted weights, for the self-test that every check can fail (issue 6)."""

from __future__ import annotations

import numpy as np

from constructions.affine import Affine
from constructions.fnn import FNN


def perturb_weight(net: FNN, layer: int, k: int | None = 0, rel: float = 1e-2) -> FNN:
    """A mutant: the k-th stored nonzero of map ``layer`` (k None: the largest in magnitude) multiplied by
    (1 + rel)."""
    maps = []
    for i, ((r, c, v), b, shape) in enumerate(net.affine_maps()):
        v = v.copy()
        if i == layer % net.depth:
            nz = np.flatnonzero(v)
            j = nz[int(np.argmax(np.abs(v[nz])))] if k is None else nz[k % nz.size]
            v[j] *= 1.0 + rel
        maps.append(Affine.from_coo(r, c, v, shape, b))
    return FNN(maps)


