"""Mutation operators: maps construction -> construction that break emitted weights a little (docs/mutants.md).

One weight multiplied by (1 + rel), one bias, rows of a map zeroed, one expansion term dropped or one coefficient
perturbed, two SSM channels swapped, an SSM window shortened.  A claim applies them through the ``mutate`` hook of
its run; claim-specific mutants (``Claim.mutants``) are built from the same operators.  A mutant that does not
apply to a construction (a weight mutant on an expansion) raises ``NotApplicable``.  The runner that counts the
mutants the checks catch is ``verify.selftest``; this module imports nothing of ``verify``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from constructions.affine import Affine
from constructions.fnn import FNN

class NotApplicable(Exception):
    """The mutant has nothing to change in this kind of construction."""


# ------------------------------------------------------------------------------------------ FNN weights
def perturb_weight(net: FNN, layer: int, k: int | None = 0, rel: float = 1e-2) -> FNN:
    """A mutant: the k-th stored nonzero of map ``layer`` (k None: the largest in magnitude) multiplied by
    (1 + rel)."""
    maps = []
    for i, ((r, c, v), b, shape) in enumerate(net.affine_maps()):
        v = v.copy()
        if i == layer % net.depth:
            nz = np.flatnonzero(v)
            if nz.size == 0:
                raise NotApplicable(f"map {i} has no nonzero weight")
            j = nz[int(np.argmax(np.abs(v[nz])))] if k is None else nz[k % nz.size]
            v[j] *= 1.0 + rel
        maps.append(Affine.from_coo(r, c, v, shape, b))
    return FNN(maps)


def perturb_bias(net: FNN, layer: int, rel: float = 1e-2) -> FNN:
    """A mutant: the largest bias of map ``layer`` multiplied by (1 + rel)."""
    maps = []
    for i, ((r, c, v), b, shape) in enumerate(net.affine_maps()):
        b = np.array(b, dtype=np.float64)
        if i == layer % net.depth:
            if not np.any(b):
                raise NotApplicable(f"map {i} has no nonzero bias")
            j = int(np.argmax(np.abs(b)))
            b[j] *= 1.0 + rel
        maps.append(Affine.from_coo(r, c, v, shape, b))
    return FNN(maps)


def zero_rows(net: FNN, rows, layer: int = -1) -> FNN:
    """A mutant: the given output rows of map ``layer`` (weights and biases) set to zero."""
    rows = np.asarray(rows, dtype=np.int64)
    maps = []
    for i, ((r, c, v), b, shape) in enumerate(net.affine_maps()):
        if i == layer % net.depth:
            keep = ~np.isin(r, rows)
            r, c, v = r[keep], c[keep], v[keep]
            b = np.array(b, dtype=np.float64)
            b[rows] = 0.0
        maps.append(Affine.from_coo(r, c, v, shape, b))
    return FNN(maps)


def with_net(c, net):
    """The construction ``c`` with its emitted weights replaced by ``net`` (formula and parameters kept)."""
    return dataclasses.replace(c, net=net)


def _layer_at(net: FNN, where: str) -> int:
    return {"first": 0, "middle": net.depth // 2, "last": net.depth - 1}[where]


def weight_mutant(where: str, rel: float, k: int | None = None):
    """Mutator: perturb the largest (k None) or k-th weight of the first/middle/last map of an FNN."""
    def mutate(c):
        if not isinstance(c.net, FNN):
            raise NotApplicable(f"{type(c.net).__name__} is not an FNN")
        return with_net(c, perturb_weight(c.net, _layer_at(c.net, where), k, rel))
    return mutate


def bias_mutant(where: str, rel: float):
    def mutate(c):
        if not isinstance(c.net, FNN):
            raise NotApplicable(f"{type(c.net).__name__} is not an FNN")
        return with_net(c, perturb_bias(c.net, _layer_at(c.net, where), rel))
    return mutate


# ---------------------------------------------------------------------------------------- expansions
def drop_term_mutant(which: str):
    """Mutator: drop the first / last (highest degree) term of an expansion with ``without(i)`` and ``alphas``."""
    def mutate(c):
        net = c.net
        if not (hasattr(net, "without") and hasattr(net, "alphas")):
            raise NotApplicable(f"{type(net).__name__} has no expansion terms")
        n = len(net.alphas)
        return with_net(c, net.without(0 if which == "first" else n - 1))
    return mutate


def coefficient_mutant(rel: float):
    """Mutator: multiply the largest expansion coefficient by (1 + rel)."""
    def mutate(c):
        net = c.net
        if not (hasattr(net, "coef") and hasattr(net, "alphas")):
            raise NotApplicable(f"{type(net).__name__} has no expansion coefficients")
        coef = np.array(net.coef, dtype=np.float64)
        coef[int(np.argmax(np.abs(coef)))] *= 1.0 + rel
        return with_net(c, dataclasses.replace(net, coef=coef))
    return mutate


# ------------------------------------------------------------------------------------------- SSM layers
def swap_channels(layer, i: int = 0, j: int = 1):
    """An SSM layer with channels i and j swapped (W_in, W_out kept): a different filter on each coordinate
    unless the two channels are equal."""
    from constructions.ssm import SSMLayer

    ch = list(layer.channels)
    if len(ch) < 2:
        raise NotApplicable("a one-channel layer has nothing to swap")
    i, j = i % len(ch), j % len(ch)
    ch[i], ch[j] = ch[j], ch[i]
    return SSMLayer(tuple(ch), layer.U, layer.W_in, layer.W_out)


def shorten_window(layer, by: int = 1):
    """An SSM layer with window U - by (at least 1)."""
    from constructions.ssm import SSMLayer

    if layer.U <= 1:
        raise NotApplicable("window U = 1 cannot be shortened")
    return SSMLayer(layer.channels, max(1, layer.U - by), layer.W_in, layer.W_out)


def _map_ssm(c, fn):
    """Apply ``fn`` to the SSM layer of a construction (an SSMLayer, or the first block of an SSMModel whose
    layer ``fn`` changes)."""
    from constructions.model import SSMModel
    from constructions.ssm import SSMLayer

    net = c.net
    if isinstance(net, SSMLayer):
        return with_net(c, fn(net))
    if isinstance(net, SSMModel):
        blocks = list(net.blocks)
        for b, (g, f) in enumerate(blocks):
            try:
                blocks[b] = (fn(g), f)
            except NotApplicable:
                continue
            return with_net(c, dataclasses.replace(net, blocks=tuple(blocks)))
        raise NotApplicable("no SSM layer of the model can be mutated this way")
    raise NotApplicable(f"{type(net).__name__} has no SSM layer")


def swap_channels_mutant(i: int = 0, j: int = -1):
    def mutate(c):
        return _map_ssm(c, lambda g: _distinct_swap(g, i, j))
    return mutate


def _same_channel(a, b) -> bool:
    return (a.D == b.D and a.A.shape == b.A.shape and np.array_equal(a.A, b.A) and np.array_equal(a.B, b.B)
            and np.array_equal(a.C, b.C))


def _distinct_swap(g, i, j):
    n = len(g.channels)
    if n < 2 or _same_channel(g.channels[i % n], g.channels[j % n]):
        raise NotApplicable("the swapped channels are identical")
    return swap_channels(g, i, j)


def shorten_window_mutant(by: int = 1):
    def mutate(c):
        return _map_ssm(c, lambda g: shorten_window(g, by))
    return mutate


def generic_mutants() -> list[tuple[str, str, object]]:
    """The mutants every claim is tried with: (name, kind, mutate)."""
    return [
        ("weight x(1+1e-3), first map, largest entry", "perturb weight", weight_mutant("first", 1e-3)),
        ("weight x(1+1e-3), middle map, largest entry", "perturb weight", weight_mutant("middle", 1e-3)),
        ("weight x(1+1e-3), last map, largest entry", "perturb weight", weight_mutant("last", 1e-3)),
        ("weight x(1+1e-2), middle map, first entry", "perturb weight", weight_mutant("middle", 1e-2, 0)),
        ("weight x(1+1e-9), middle map, largest entry", "perturb weight", weight_mutant("middle", 1e-9)),
        ("bias x(1+1e-3), first map, largest", "perturb weight", bias_mutant("first", 1e-3)),
        ("drop the first expansion term", "drop term", drop_term_mutant("first")),
        ("drop the last expansion term", "drop term", drop_term_mutant("last")),
        ("largest coefficient x(1+1e-3)", "perturb weight", coefficient_mutant(1e-3)),
        ("swap the first and last SSM channels", "swap channels", swap_channels_mutant(0, -1)),
        ("shorten the SSM window by 1", "shorten window", shorten_window_mutant(1)),
    ]
