"""Certified errors of the Lemma 3.3 block's token features f_1 (issue 6: "the Lemma 3.3 kernel features";
docs/certification.md, method 11).

f_1 maps a token (k, v, q) ∈ [-1, 1]^{2d + d_v} to M_α = k^α / N, A_{α,c} = k^α v_c / N and ψ_α = q^α
(``lemmas.attention.channel_layout``).  Each output is a product tree of the clipped input coordinates (the powers
by doubling share sub-products, so a stage may multiply a value by itself), certified by the product-tree
cascade (``verify.certify.cascade``) on the box [-1, 1]^{2d + d_v} ⊇ the hypotheses' inputs (‖k‖, ‖q‖ <= 1, ‖v‖_∞ <= 1):
sup |f̂_j - f_j| <= δ_j for the exact-arithmetic net on the stored weights, together with a structural check that
the cascade's product is the claimed monomial (the exponents of the leaves, counted along the tree).  The
constant M_0 = 1/N is compared exactly.  The block's own bound then rests on these δ_j through the budget
E_net <= Γ_1 η of ``lemmas.attention`` (each feature within its share), which the check compares.
"""

from __future__ import annotations

import time
from fractions import Fraction

import numpy as np
from flint import fmpq

from constructions.algebra import restrict

from .cascade import Value, certify_cascade_multi
from .fixedpoint import FixedFNN, from_limbs, ssm_last_fixed, ssm_last_fixed_unique
from .rational import fmpq_float_up, to_fmpq
from .twostage import NotSplittable


def feature_targets(alphas, d: int, d_v: int, N: int) -> list[tuple]:
    """Per f_1 output: (name, exponent vector over the 2d + d_v inputs, scale), in the order of
    ``lemmas.attention.channel_layout``."""
    out = []
    for a in alphas:
        out.append((f"M_{tuple(a)}", tuple(list(a) + [0] * (d_v + d)), fmpq(1, N)))
    for a in alphas:
        for c in range(d_v):
            v = [0] * d_v
            v[c] = 1
            out.append((f"A_{tuple(a)},{c}", tuple(list(a) + v + [0] * d), fmpq(1, N)))
    for a in alphas:
        if any(a):
            out.append((f"psi_{tuple(a)}", tuple([0] * (d + d_v) + list(a)), fmpq(1)))
    return out


def reached_outputs(net) -> np.ndarray:
    """Which outputs some input reaches along a path of nonzero weights (one forward pass; the others are
    constants)."""
    reach = np.ones(net.d_in, dtype=bool)
    for (r, c, v), _, shape in net.affine_maps():
        nxt = np.zeros(shape[0], dtype=bool)
        sel = (v != 0) & reach[c]
        nxt[r[sel]] = True
        reach = nxt
    return reach


def certify_features(f1, alphas, d: int, d_v: int, N: int) -> dict:
    """δ_j for every output of f_1 (module docstring)."""
    t0 = time.perf_counter()
    n_in = 2 * d + d_v
    targets = feature_targets(alphas, d, d_v, N)
    out = {"method": "product-tree cascade per f_1 output (verify/certify/cascade.py) on [-1, 1]^(2d + d_v)"}
    try:
        if f1.d_in != n_in or f1.d_out != len(targets):
            raise NotSplittable(f"f_1 maps R^{f1.d_in} -> R^{f1.d_out}, expected R^{n_in} -> R^{len(targets)}")
        # the constant outputs (M_0 = 1/N: no path from any input) are compared exactly; the rest are certified
        # together by one cascade over f_1's aligned levels
        deltas = [None] * len(targets)
        live = []
        reached = reached_outputs(f1)
        for j, (name, mono, scale) in enumerate(targets):
            if reached[j]:
                live.append(j)
                continue
            b = to_fmpq(float(f1.affine_maps()[-1][1][j]))
            if any(mono):
                raise NotSplittable(f"{name}: expected a monomial, got a constant")
            deltas[j] = abs(b - scale)
        leaves = [Value(fmpq(0), 0, -1.0, 1.0, fmpq(1), tuple(int(i == t) for t in range(n_in))) for i in range(n_in)]
        res = certify_cascade_multi(restrict(f1, live, list(range(n_in))), leaves, [targets[j][2] for j in live])
        for j, r in zip(live, res):
            if tuple(r["mono"]) != targets[j][1]:
                raise NotSplittable(f"{targets[j][0]}: the tree computes the exponents {list(r['mono'])}, "
                                    f"not {list(targets[j][1])}")
            deltas[j] = r["delta"]
        out.update(proved=True, deltas=[fmpq_float_up(x) for x in deltas], names=[t[0] for t in targets])
    except NotSplittable as exc:
        out.update(proved=False, reason=str(exc))
    out["seconds"] = time.perf_counter() - t0
    return out


def block_fixed(block, X: np.ndarray, P: int):
    """(F(X)_N, readout (Â, Ŵ) at N) of the Lemma 3.3 block as exact-rational intervals [lo, hi] (Fractions) at P
    fractional bits, X of shape (N, 2d + d_v) (``fixedpoint``: sound for exact arithmetic on the stored weights).
    f_1 and g run on every token, streamed over token chunks (g at the last token only: running sums and
    identity channels); f_2 and the read-out on the last token.  Sequences with repeated token rows are evaluated
    once per distinct row (``ssm_last_fixed_unique``: the same enclosure).  The nets' exact parts (the kernel
    coefficients' float64 expansions, ``constructions.affine.ExactTail``) are evaluated exactly."""
    if np.unique(np.asarray(X), axis=0).shape[0] < X.shape[0]:
        G = ssm_last_fixed_unique(FixedFNN.of(block.f1), block.g, X, P)
    else:
        G = ssm_last_fixed(FixedFNN.of(block.f1), block.g, X, P)
    yl, yu = from_limbs(FixedFNN.of(block.f2)(G, P))
    rl, ru = from_limbs(FixedFNN.of(block.readout)(G, P))
    sc = Fraction(1, 2 ** P)
    return ([(Fraction(a) * sc, Fraction(b) * sc) for a, b in zip(yl[:, 0], yu[:, 0])],
            [(Fraction(a) * sc, Fraction(b) * sc) for a, b in zip(rl[:, 0], ru[:, 0])])
