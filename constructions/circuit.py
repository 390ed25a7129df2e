"""The shared building layer of the hand-built networks: ``Fn`` (an affine functional of the units of one layer)
and ``Circuit`` (a ReLU network built layer by layer from such functionals).

Every builder that emits a network unit by unit (the Appendix F nets, the Lemma 3.3 block) writes it with these
two classes, so the emitted maps hold exactly the nonzero coefficients written and the counts (L, W, S, B) read
from them equal the builder's closed-form formulas.  The combinators of ``constructions.algebra`` (composition,
parallel stacking, sums) act on the ``FNN`` that ``Circuit.net`` returns.
"""

from __future__ import annotations

import numpy as np

from .affine import Affine
from .fnn import FNN


class Fn:
    """An affine functional Σ_j w_j u_j + b of the units u of one layer (exact zeros dropped)."""

    __slots__ = ("w", "b")

    def __init__(self, w: dict | None = None, b: float = 0.0):
        self.w = {int(k): float(v) for k, v in (w or {}).items() if v != 0.0}
        self.b = float(b)

    @staticmethod
    def unit(j: int) -> "Fn":
        return Fn({j: 1.0})

    def __add__(self, o) -> "Fn":
        if not isinstance(o, Fn):
            return Fn(self.w, self.b + float(o))
        w = dict(self.w)
        for k, v in o.w.items():
            w[k] = w.get(k, 0.0) + v
        return Fn(w, self.b + o.b)

    __radd__ = __add__

    def __neg__(self) -> "Fn":
        return Fn({k: -v for k, v in self.w.items()}, -self.b)

    def __sub__(self, o) -> "Fn":
        return self + (-o if isinstance(o, Fn) else -float(o))

    def __rsub__(self, o) -> "Fn":
        return (-self) + o

    def __mul__(self, a: float) -> "Fn":
        a = float(a)
        return Fn({k: v * a for k, v in self.w.items()}, self.b * a)

    __rmul__ = __mul__

    @property
    def nnz(self) -> int:
        return len(self.w) + (self.b != 0.0)


class Circuit:
    """A ReLU network built layer by layer: ``layer(units)`` appends the map and ReLU that compute the given
    functionals of the previous layer and returns the new units as functionals; ``net(outputs)`` closes with
    the affine output map.  The emitted maps hold exactly the nonzero coefficients of the functionals."""

    def __init__(self, d_in: int):
        self.d_in = d_in
        self.width = d_in
        self.layers: list[Affine] = []

    def inputs(self) -> list[Fn]:
        return [Fn.unit(i) for i in range(self.d_in)]

    def _map(self, fns: list[Fn]) -> Affine:
        rows, cols, vals = [], [], []
        for r, f in enumerate(fns):
            for c, v in sorted(f.w.items()):
                rows.append(r)
                cols.append(c)
                vals.append(v)
        return Affine.from_coo(rows, cols, vals, (len(fns), self.width), np.array([f.b for f in fns]))

    def layer(self, units: list[Fn]) -> list[Fn]:
        self.layers.append(self._map(units))
        self.width = len(units)
        return [Fn.unit(j) for j in range(self.width)]

    def net(self, outputs: list[Fn]) -> FNN:
        return FNN(self.layers + [self._map(outputs)])
