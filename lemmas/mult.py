"""Lemma F.3 (mult): products by polarisation of sawtooth squares, and d-fold products by a binary tree
(Oko et al. 2023, Lemma F.6; the squaring engine is ``lemmas.square``).

The pairwise block on [-1, 1]^2 (``Circuit`` level, m >= 2 sawtooth levels).  For inputs given as affine
functionals a, b of the current layer it clips both to [-1, 1] and returns

    φ_m(a, b) = 2 [ f_m(|ca + cb| / 2) - f_m(|ca| / 2) - f_m(|cb| / 2) ],     ca = clip(a; -1, 1), cb = clip(b; -1, 1),

with f_m the sawtooth square of ``lemmas.square``.  Since xy = 2[((x+y)/2)^2 - (x/2)^2 - (y/2)^2] and
0 <= f_m(t) - t^2 <= 2^{-2m-2} on [0, 1],
    φ_m(a, b) - ca cb = 2 (e_s - e_a - e_b) ∈ [-4 · 2^{-2m-2}, 2 · 2^{-2m-2}],   so |φ_m - ca cb| <= 2^{-2m},
attained (= -2^{-2m}) at ca = cb = 2^{-m}, where |ca|/2, |cb|/2 are grid midpoints and |ca + cb|/2 a grid point.
If ca = 0 the first and third squares are the same function of the same number and the second is f_m(0) = 0:
φ_m(0, b) = 0 exactly (in exact arithmetic; in float64 when the arithmetic is exact, e.g. dyadic inputs).
Layers of the block (m + 1 hidden layers; a value that is only carried along uses one unit per layer):
    clip  (4 units): ρ(a + 1), ρ(a - 1), ρ(b + 1), ρ(b - 1)                ca = P_1 - P_2 - 1, cb = P_3 - P_4 - 1;
    rq    (8 units): ρ(±u_s), ρ(±u_s - 1/2) with u_s = (ca + cb)/2, and ρ(±u_a), ρ(±u_b) with u = c/2
          (|u_a|, |u_b| <= 1/2, so ρ(|u| - 1/2) = 0 is not emitted).  Sawtooth state 1 of each channel:
          α_1 = ρ(u) + ρ(-u) = |u|, β_1 = ρ(u - 1/2) + ρ(-u - 1/2) = ρ(|u| - 1/2) (0 for a, b), γ_1 = α_1;
    m - 1 sawtooth transitions (9 units, ``lemmas.square.sawtooth_step``); output functional
          2 (y_s - y_a - y_b), y = γ_m - (2α_m - 4β_m)/4^m: 9 nonzero coefficients (2, ∓4/4^m, ±8/4^m), no bias.
    A carried value v: clip layer ρ(v + 1), ρ(v - 1); then w = ρ(P_1 - P_2) = clip(v) + 1 ∈ [0, 2], then ρ(w) per
    layer; output functional w - 1 = clip(v; -1, 1).
Nonzeros of one level with p pairs and o carries (m >= 2): clip layer Σ over the inputs of
    c(f) = 2 k_f + [b_f + 1 != 0] + [b_f - 1 != 0]    (k_f nonzero weights, b_f the bias of the input functional),
rq layer 32 p + 2 o (u_s units 5 nonzeros each, u_a, u_b units 3 each), first transition 27 p + o
(s channel 4 + 5 + 4, a and b channels 2 + 3 + 2 each), every later transition 24 p + o; in all
    S_level = Σ c(f) + (24 m + 11) p + (m + 1) o,     widths 2n (clip), 8p + o (rq), 9p + o (transitions).
c(pair output) = 2·9 + 2 = 20, c(carry output w - 1) = 1 + 2 = 3.
The first level of a product tree reads the network inputs, which may be any floats up to the largest: the clip
above, ρ(f + 1) - ρ(f - 1) merged into the rq layer, cancels in float64 for huge f (issue 15, item 7).  That
level uses the float-robust clip of ``lemmas.clip`` instead (``level(..., robust=C)``): per leaf x two layers
p = ρ(x/C + 1), q = ρ(2 - p), cx = 1 - q for C >= 1, and p = ρ(x + C), q = ρ(2C - p), cx = (C - q)/C for C < 1
(2 + 2 nonzeros; no weight above 1 touches x, so nothing overflows at the largest float; affine on [-C, C], which
the separable certificates need); the rq layer then reads one unit per input (u_s units 3 nonzeros each, u_a,
u_b units 2 each; a carried w = cx + 1: 2): 20 p + 2 o instead of 32 p + 2 o.  So a robust first level has
12 p_1 fewer nonzeros and one more hidden layer than the plain one.

Statement verified (``lemma-F.3-prod``, ``lemma-F.3-mult`` is d = 2, C = M).  For d >= 2, C > 0, 0 < ε:
the tree network φ (leaves x_i / C, ⌈log2 d⌉ levels of pairwise blocks, an odd value carried, output C^d times
the root) satisfies, for every x ∈ [-C, C]^d and every x' ∈ R^d,

    |φ(x') - Π_i x_i| <= C^d (2^k - 1) 2^{-2m} + d C^{d-1} ‖x' - x‖_∞ <= ε + d C^{d-1} ‖x' - x‖_∞,   k = ⌈log2 d⌉,

and φ(x) = 0 exactly when some x_i = 0 (in exact arithmetic when C >= 1 or C is a power of two; in float64 always).  Proof: the first layer clips, so φ(x') = φ(clip(x'; -C, C)); on the box
a node whose children err by <= E_{j-1} (true values in [-1, 1], clipping 1-Lipschitz) errs by
<= 2^{-2m} + 2 E_{j-1}, so E_k <= (2^k - 1) 2^{-2m}; and |Π c - Π x| <= d C^{d-1} ‖c - x‖_∞ <= d C^{d-1} ‖x' - x‖_∞.
m is the smallest integer >= 2 with C^d (2^k - 1) 2^{-2m} <= ε.
Counts (n_1 = d, n_{j+1} = ⌈n_j / 2⌉, p_j = ⌊n_j / 2⌋, o_j = n_j mod 2, j = 1..k):
    L = k (m + 1) + 2,   W = 9 ⌊d/2⌋ + (d mod 2),   B = max(4, 1/(2C) (d even) or 1/C (d odd), 2 C^d)
    (the weight 1/C of the spec's leaf x/C now multiplies bounded clip units: halved in u = (cx + cy)/2),
    S = 4d + Σ_{j>=2} (20 p_{j-1} + 3 o_{j-1}) + Σ_j ((24m + 11) p_j + (m + 1) o_j) + 9 - 12 p_1
(the - 12 p_1 and the + 2 in L: the robust first level),
For d = 2, C = M (``build_mult``): L = m + 3, W = 9, S = 24 m + 16, B = max(4, 1/(2M), 2M^2), and
|φ(x', y') - xy| <= M^2 2^{-2m} + 2M ‖(x', y') - (x, y)‖_∞ with the first term attained at x = y = M 2^{-m}.
d = 1: φ = clip(x; -C, C) (``lemmas.clip``), exact.
Float64: values are O(C^d); rounding error is a few hundred eps C^d (measured), so ε >= 1e-12 C^d is resolvable
(``min_eps_float64``).
"""

from __future__ import annotations

import math

import numpy as np

from constructions.affine import Affine
from constructions.circuit import Circuit, Fn
from constructions.fnn import FNN
from constructions.validate import check_eps, check_positive

from .base import Construction
from .clip import build_clip
from .square import sawtooth_out, sawtooth_step

MIN_REL_EPS = 1e-12  # ε / C^d below this is not resolvable in float64 (rounding ~ 1e-13 C^d measured)


def clip_cost(f: Fn) -> int:
    """Nonzeros of the two clip units ρ(f + 1), ρ(f - 1) of one input functional f."""
    k = len(f.w)
    return 2 * k + (f.b + 1.0 != 0.0) + (f.b - 1.0 != 0.0)


def _robust_clip_layers(c: Circuit, fs: list[Fn], C: float) -> list[Fn]:
    """clip(f/C; -1, 1) of every functional f by the float-robust clip of ``lemmas.clip`` (two layers, one unit
    each per input), nothing unbounded reaching the next layer (no cancellation in float64 however large f is):
      C >= 1:  p = ρ(f/C + 1), q = ρ(2 - p), clip = 1 - q          (weight 1/C <= 1 on f: no overflow);
      C < 1:   p = ρ(f + C),   q = ρ(2C - p), clip = (C - q)/C    (weight 1 on f: no overflow at the largest float).
    Both are affine on the box |f| <= C (every pre-activation >= 0 there), f = 0 gives exactly 0 in float64 (and in
    exact arithmetic when C >= 1 or C is a power of two)."""
    if C >= 1.0:
        P = c.layer([f * (1.0 / C) + 1.0 for f in fs])
        Q = c.layer([2.0 - p for p in P])
        return [1.0 - q for q in Q]
    P = c.layer([f + C for f in fs])
    Q = c.layer([2.0 * C - p for p in P])
    return [(C - q) * (1.0 / C) for q in Q]


def _sawtooth_level(c: Circuit, ops: list[tuple], m: int, channels, combine, robust: float | None = None
                    ) -> list[Fn]:
    """One level of products by polarisation, squares and carried values (m + 1 hidden layers): the clip layer
    ρ(f ± 1) of every input, then per product the sawtooth channels of ``channels(ca, cb)`` (pairs (u, full):
    units ρ(±u), ρ(±u - 1/2) when ``full``, else ρ(±u) for |u| <= 1/2), m - 1 transitions, and the output
    ``combine([y per channel])``; per square ("square", a) the one channel u = ca and the output y = f_m(|ca|)
    (0 <= y - ca^2 <= 2^{-2m-2}); a carried value as in the module docstring.  ``robust = C``: the inputs are
    raw values clipped to [-C, C] and scaled by 1/C by the float-robust two-layer clip (``_robust_clip_layers``,
    m + 2 hidden layers); for a level that reads unbounded network inputs."""
    if m < 2:
        raise ValueError("a product level needs m >= 2")
    if robust is not None:
        cl = _robust_clip_layers(c, [f for op in ops for f in op[1:]], float(robust))
        P = []
        for v in cl:  # the functionals P_i - P_{i+1} - 1 = v of the plain clip below: P_i = v + 1, P_{i+1} = 0
            P += [v + 1.0, Fn()]
    else:
        clip_units = []
        for op in ops:
            for f in op[1:]:
                clip_units += [f + 1.0, f - 1.0]
        P = c.layer(clip_units)
    rq, states, i = [], [], 0
    for op in ops:
        if op[0] == "mult":
            ca, cb = P[i] - P[i + 1] - 1.0, P[i + 2] - P[i + 3] - 1.0
            chs = []
            for u, full in channels(ca, cb):
                chs.append((len(rq), full))
                rq += [u, -u, u - 0.5, -u - 0.5] if full else [u, -u]
            states.append(("mult", chs))
            i += 4
        elif op[0] == "square":
            ca = P[i] - P[i + 1] - 1.0
            states.append(("square", [(len(rq), True)]))
            rq += [ca, -ca, ca - 0.5, -ca - 0.5]
            i += 2
        else:
            rq.append(P[i] - P[i + 1])
            states.append(("carry", len(rq) - 1))
            i += 2
    U = c.layer(rq)
    chans = []
    for kind, j in states:
        if kind in ("mult", "square"):
            chans.append([(U[q] + U[q + 1], U[q + 2] + U[q + 3], U[q] + U[q + 1]) if full
                          else (U[q] + U[q + 1], Fn(), U[q] + U[q + 1]) for q, full in j])
        else:
            chans.append(U[j])
    for k in range(1, m):
        units, where = [], []
        for ch in chans:
            where.append(len(units))
            if isinstance(ch, Fn):
                units.append(ch)
            else:
                for st in ch:
                    units += sawtooth_step(*st, k)
        V = c.layer(units)
        chans = [V[j] if isinstance(ch, Fn) else [tuple(V[j + 3 * q: j + 3 * q + 3]) for q in range(len(ch))]
                 for ch, j in zip(chans, where)]
    return [ch - 1.0 if isinstance(ch, Fn) else sawtooth_out(*ch[0], m) if op[0] == "square"
            else combine([sawtooth_out(*st, m) for st in ch]) for ch, op in zip(chans, ops)]


def level(c: Circuit, ops: list[tuple], m: int, robust: float | None = None) -> list[Fn]:
    """Emit one level (m + 1 hidden layers) of pairwise products and carried values; ``ops`` holds
    ("mult", a, b) or ("carry", v) with functionals of the current layer; returns the output functionals
    (three squares: 2[f_m(|u_s|) - f_m(|u_a|) - f_m(|u_b|)], module docstring).  ``robust = C``: raw inputs,
    clipped to [-C, C] and divided by C by the float-robust clip (m + 2 hidden layers)."""
    return _sawtooth_level(c, ops, m, lambda ca, cb: [((ca + cb) * 0.5, True), (ca * 0.5, False), (cb * 0.5, False)],
                           lambda ys: (ys[0] - ys[1] - ys[2]) * 2.0, robust)


def pair_level(c: Circuit, ops: list[tuple], m: int) -> list[Fn]:
    """One level of two-square products, squares and carried values (m + 1 hidden layers; ``lemmas.attention``,
    "Networks"): φ(a, b) = f_m(|u_+|) - f_m(|u_-|), u_± = (ca ± cb)/2, ca, cb the inputs clipped to [-1, 1], error
    in [-2^{-2m-2}, 2^{-2m-2}]; ("square", a): f_m(|ca|), error in [0, 2^{-2m-2}], one channel instead of two;
    clip(v; -1, 1) for a carried v."""
    return _sawtooth_level(c, ops, m, lambda ca, cb: [((ca + cb) * 0.5, True), ((ca - cb) * 0.5, True)],
                           lambda ys: ys[0] - ys[1])


def tree_shape(d: int) -> list[int]:
    """n_1 = d, n_{j+1} = ⌈n_j / 2⌉ until 1: the number of values entering each level."""
    n, out = d, []
    while n > 1:
        out.append(n)
        n = (n + 1) // 2
    return out


def prod_m(d: int, C: float, eps: float) -> int:
    """The smallest m >= 2 with C^d (2^k - 1) 2^{-2m} <= ε, k = ⌈log2 d⌉."""
    k = len(tree_shape(d))
    m = 2
    while float(C) ** d * (2 ** k - 1) * 2.0 ** (-2 * m) > eps:
        m += 1
    return m


def prod_formula(d: int, C: float, m: int, robust: bool = True) -> dict:
    ns = tree_shape(d)
    k = len(ns)
    S = 4 * d + 9  # the levels' products and carries, and the joins between levels
    for j, n in enumerate(ns):
        p, o = n // 2, n % 2
        if j > 0:
            S += 20 * (ns[j - 1] // 2) + 3 * (ns[j - 1] % 2)
        S += (24 * m + 11) * p + (m + 1) * o
    if not robust:  # the spec's one-layer clip pairs at the leaves (for leaves that are bounded already)
        return {"L": k * (m + 1) + 1, "W": 9 * (d // 2) + d % 2, "S": S,
                "B": max(4.0, 1.0 / C, 2.0 * (float(C) ** d))}
    S -= 12 * (d // 2)  # - 12 p_1: the float-robust clip of the first level
    return {"L": k * (m + 1) + 2, "W": 9 * (d // 2) + d % 2, "S": S,
            "B": max(4.0, (1.0 if d % 2 else 0.5) / C, 2.0 * (float(C) ** d))}


def prod_error_bound(d: int, C: float, m: int) -> float:
    """C^d (2^k - 1) 2^{-2m}: the network's error on [-C, C]^d (exact arithmetic)."""
    return float(C) ** d * (2 ** len(tree_shape(d)) - 1) * 2.0 ** (-2 * m)




def build_prod(d: int, C: float, eps: float, m: int | None = None, robust: bool = True) -> Construction:
    """φ(x) ≈ Π_i x_i on [-C, C]^d with error <= ε and the perturbed-input form (module docstring);
    ``m`` overrides the sawtooth depth chosen from ε (for experiments; the bound is then prod_error_bound).
    ``robust=False``: the leaves are clipped by the spec's one-layer pairs ρ(x/C ± 1) (one layer fewer), for
    callers whose leaves are bounded already (a float-robust clip in front; ``lemmas.gauss_kernel_net``)."""
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
        raise ValueError(f"d must be a positive integer, got {d!r}")
    d, C, eps = int(d), check_positive("C", C), check_eps(eps)
    if d == 1 and not robust:  # clip(x; -C, C) = ρ(x + C) - ρ(x - C) - C, the spec's pair (bounded inputs only)
        net = FNN([Affine.dense(np.array([[1.0], [1.0]]), np.array([C, -C])),
                   Affine.dense(np.array([[1.0, -1.0]]), np.array([-C]))])
        return Construction(net, {"L": 2, "W": 2, "S": 7, "B": max(1.0, C)}, {"d": 1, "C": C, "eps": eps},
                            {"exact": True, "error_bound": 0.0, "lipschitz": 1.0})
    if d == 1:
        cl = build_clip(1, -C, C)
        return Construction(cl.net, cl.formula, {"d": 1, "C": C, "eps": eps},
                            {**cl.notes, "error_bound": 0.0, "lipschitz": 1.0})
    Cd = C ** d
    if not math.isfinite(Cd) or Cd > 1e150 or Cd < 1e-150:
        raise ValueError(f"C^d = {C}^{d} is outside the float64 range this builder supports")
    if eps < MIN_REL_EPS * Cd:
        raise ValueError(f"eps={eps} is below what float64 can verify here ({MIN_REL_EPS} C^d = {MIN_REL_EPS * Cd:.3g})")
    if m is None:
        m = prod_m(d, C, eps)
    elif isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 2:
        raise ValueError(f"m must be an integer >= 2, got {m!r}")
    m = int(m)
    c = Circuit(d)
    vals = c.inputs() if robust else [x * (1.0 / C) for x in c.inputs()]
    first = robust
    while len(vals) > 1:
        ops = [("mult", vals[i], vals[i + 1]) for i in range(0, len(vals) - 1, 2)]
        if len(vals) % 2:
            ops.append(("carry", vals[-1]))
        vals = level(c, ops, m, robust=C if first else None)  # the first level reads x: float-robust clip
        first = False
    net = c.net([vals[0] * Cd])
    bound = prod_error_bound(d, C, m)
    return Construction(net, prod_formula(d, C, m, robust), {"d": d, "C": C, "eps": eps, "m": m},
                        {"error_bound": bound, "lipschitz": d * C ** (d - 1),
                         "min_eps_float64": MIN_REL_EPS * Cd,
                         "claimed": "L = O(log d (log 1/ε + d log C)), W = 48d, S = O(d log 1/ε + d log C), B = C^d"})


def mult_formula(M: float, m: int) -> dict:
    return {"L": m + 3, "W": 9, "S": 24 * m + 16, "B": max(4.0, 0.5 / M, 2.0 * M * M)}


def build_mult(M: float, eps: float, m: int | None = None) -> Construction:
    """φ(x, y) ≈ xy on [-M, M]^2: |φ(x', y') - xy| <= M^2 2^{-2m} + 2M ‖(x', y') - (x, y)‖_∞ with
    M^2 2^{-2m} <= ε (m the smallest >= 2), φ(0, y) = φ(x, 0) = 0; the d = 2 case of ``build_prod``."""
    M = check_positive("M", M)
    c = build_prod(2, M, eps, m)
    return Construction(c.net, mult_formula(M, c.params["m"]), {"M": M, "eps": c.params["eps"], "m": c.params["m"]},
                        {**c.notes, "error_bound": M * M * 2.0 ** (-2 * c.params["m"]),
                         "attained_at": (M * 2.0 ** (-c.params["m"]), M * 2.0 ** (-c.params["m"]))})
