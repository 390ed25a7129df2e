"""Certified errors of the Lemma 3.3 block's token features f_1 (issue 6: "the Lemma 3.3 kernel features";
docs/certification.md, method 11).

f_1 maps a token (k, v, q) ∈ [-1, 1]^{2d + d_v} to M_α = k^α / N, A_{α,c} = k^α v_c / N and ψ_α = q^α
(``lemmas.attention.channel_layout``).  Each output is a product tree of the clipped input coordinates (the powers
by doubling share sub-products, so a stage may multiply a value by itself), certified by the product-tree
cascade (``verify.certify.cascade``) on the box [-1, 1]^{2d + d_v} ⊇ the hypotheses' inputs (‖k‖, ‖q‖ <= 1, ‖v‖_∞ <= 1):
sup |f̂_j - f_j| <= δ_j for the exact-arithmetic net on the stored weights, together with a structural check that
the cascade's product is the claimed monomial (the exponents of the leaves, counted along the tree).  The
constant M_0 = 1/N is compared exactly.  The block's own bound then rests on these δ_j through the budget
E_net <= Γ_1 η of ``lemmas.attention`` (each feature within its share), which the check compares.  Sawtooth
stages are certified in O(m) (``verify.certify.sawtooth``, method 12), so the margin default (m = 33) is in reach.

The whole block (issue 15, item 5; docs/certification.md, method 13): ``certify_block`` composes the features, the
running sums (``check_running_sums``), f_2 split at its concatenation (``split_f2``) with its read-out recognised
exactly (``readout_terms``), the kernel coefficients and truncation in arb (``kernel_exact``) and the ratio net's
certificate (``ratio_certificate``) into a sound bound of sup ‖F(X)_N - v*‖_∞ over every input meeting the
hypotheses.
"""

from __future__ import annotations

import time
from fractions import Fraction

import numpy as np
from flint import fmpq

from constructions.algebra import restrict

from . import sawtooth
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


def certify_features(f1, alphas, d: int, d_v: int, N: int, max_piecewise_depth: int | None = None) -> dict:
    """δ_j for every output of f_1 (module docstring); ``max_piecewise_depth`` as in
    ``cascade.certify_cascade_multi``."""
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
        res = certify_cascade_multi(restrict(f1, live, list(range(n_in))), leaves, [targets[j][2] for j in live],
                                    max_piecewise_depth)
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


# ------------------------------------------------------------------------------- the whole block (issue 15, item 5)
PIECEWISE_DEPTH = 12  # inside the block certificate, a broken (non-sawtooth) stage deeper than this is refused at
# once (the piecewise fallback would enumerate ~2^depth pieces; an intact block never needs it)


class BlockNotCertified(ValueError):
    """The block does not have the structure the certificate proves things about (the reason says where)."""


def split_f2(f2, readout_depth: int):
    """f_2 = Q ∘ R split at its sparse concatenation (``constructions.algebra.concat``): hidden layer
    ``readout_depth - 1`` of f_2 holds rows [A; -A] (biases and exact tails negated) read by columns [B, -B], so
    ρ(z) - ρ(-z) = z passes R's output z = A h + b exactly.  Returns (R, Q) as FNNs (R keeps its exact tails);
    BlockNotCertified when the junction is not such a pair layer (checked exactly, tails included)."""
    from constructions.affine import Affine, ExactTail
    from constructions.fnn import FNN

    k = int(readout_depth) - 1
    if not 0 <= k < f2.depth - 1:
        raise BlockNotCertified(f"f_2 has depth {f2.depth}; no junction after map {k}")
    lay, nxt = f2.layers[k], f2.layers[k + 1]
    if lay.d_out % 2:
        raise BlockNotCertified("the junction layer has an odd width")
    h = lay.d_out // 2
    r, c, parts, bp = lay.exact_parts()
    ex = {}
    for i in range(r.size):
        ex[(int(r[i]), int(c[i]))] = sum((to_fmpq(float(x)) for x in parts[:, i]), fmpq(0))
    bex = [sum((to_fmpq(float(x)) for x in bp[:, i]), fmpq(0)) for i in range(lay.d_out)]
    top = {(i, j): v for (i, j), v in ex.items() if i < h}
    bot = {(i - h, j): -v for (i, j), v in ex.items() if i >= h}
    if top != bot or any(bex[i + h] != -bex[i] for i in range(h)):
        raise BlockNotCertified("the junction rows are not [A; -A] with negated biases (exactly)")
    if nxt.tail is not None:
        raise BlockNotCertified("the ratio part of f_2 carries exact tails (not expected)")
    (r2, c2, v2), b2, shape2 = FNN([nxt]).affine_maps()[0]
    left = {(int(a), int(b)): float(x) for a, b, x in zip(r2, c2, v2) if b < h}
    right = {(int(a), int(b) - h): -float(x) for a, b, x in zip(r2, c2, v2) if b >= h}
    if left != right:
        raise BlockNotCertified("the layer after the junction does not read it as [B, -B] (exactly)")
    keep = (r < h) & np.any(parts != 0, axis=0)  # stored entries (a dense block may hold explicit zeros)
    if np.any(parts[0, keep] == 0):
        raise BlockNotCertified("an exact tail sits on a zero float64 entry")
    last = Affine.from_coo(r[keep], c[keep], parts[0, keep], (h, lay.d_in), bp[0, :h])
    if parts.shape[0] > 1:
        last = last.with_tail(ExactTail(r[keep], c[keep], parts[1:, keep], bp[1:, :h]))
    R = FNN(tuple(f2.layers[:k]) + (last,))
    keep2 = c2 < h
    first = Affine.from_coo(r2[keep2], c2[keep2], v2[keep2], (shape2[0], h), b2)
    Q = FNN((first,) + tuple(f2.layers[k + 2:]))
    return R, Q


def check_running_sums(g, T: int, d_v: int, N: int) -> dict:
    """g is exactly T (1 + d_v) running sums (A = B = C = D = 1: k_s = 1 for every s, so with window U >= N its
    output at token N is Σ_{i<=N} of its input) followed by T - 1 identity channels (no state, D = 1), with no
    input/output maps: structural, from the stored parameters."""
    if g.W_in is not None or g.W_out is not None:
        raise BlockNotCertified("the SSM layer has an input or output map (expected none)")
    n_sum, n_id = T * (1 + d_v), T - 1
    if len(g.channels) != n_sum + n_id:
        raise BlockNotCertified(f"the SSM layer has {len(g.channels)} channels, expected {n_sum + n_id}")
    if g.U < N:
        raise BlockNotCertified(f"window U = {g.U} < N = {N}: the running sums do not cover the sequence")
    for h, ch in enumerate(g.channels):
        if h < n_sum:
            ok = (ch.A.shape == (1, 1) and ch.A[0, 0] == 1.0 and ch.B[0] == 1.0 and ch.C[0] == 1.0 and ch.D == 1.0)
        else:
            ok = ch.A.shape == (0, 0) and ch.D == 1.0
        if not ok:
            raise BlockNotCertified(f"SSM channel {h} is not a {'running sum' if h < n_sum else 'identity'}")
    return {"running_sums": n_sum, "identity": n_id, "U": int(g.U)}


def readout_terms(R, T: int, d_v: int) -> dict:
    """The read-out R (f_2's product level and its linear map) as exact quadratics of the clipped inputs
    ca_j = clip(G_j; -1, 1): R_o = Q_o(ca) + e_o with e_o in the sawtooth range (``verify.certify.sawtooth``), and
    Q_o = Σ_{α≠0} c̃_α ca_ψα ca_Xα + c̃_0 ca_X0 (X = M for Ŵ, A_c for Â_c) exactly, else BlockNotCertified.
    Returns per output the coefficients {α index: fmpq} (read from the weights, tails included) and the η bound."""
    layers = sawtooth.exact_layers(R)
    (rows0, b0), (rows1, b1) = layers[0], layers[1]
    n_in = R.d_in
    # clip layer: per input j the units ρ(G_j + 1), ρ(G_j - 1) read as their difference (y_j = clip(G_j) + 1)
    by_in: dict = {}
    for u, row in enumerate(rows0):
        if len(row) != 1 or next(iter(row.values())) != 1:
            raise BlockNotCertified(f"f_2's clip unit {u} does not read one input with weight 1")
        by_in.setdefault(next(iter(row)), []).append(u)
    cols: list = [{} for _ in rows0]
    for r_, row in enumerate(rows1):
        for u, w in row.items():
            cols[u][r_] = w
    rep = {}
    for j, us in by_in.items():  # every op that reads G_j clips it with its own pair
        plus = [u for u in us if b0[u] == 1]
        minus = [u for u in us if b0[u] == -1]
        if len(plus) != len(minus) or len(plus) + len(minus) != len(us):
            raise BlockNotCertified(f"input {j} is not clipped by pairs ρ(G + 1), ρ(G - 1)")
        for p in plus:
            neg = {r_: -w for r_, w in cols[p].items()}
            q = next((q for q in minus if cols[q] == neg), None)
            if q is None:
                raise BlockNotCertified(f"a clip pair of input {j} is not read through its difference")
            minus.remove(q)
            rep[p] = j
    rest_rows = []
    for row in rows1:
        rr: dict = {}
        for u, w in row.items():
            if u in rep:
                rr[rep[u]] = rr.get(rep[u], fmpq(0)) + w
        rest_rows.append({j: w for j, w in rr.items() if w != 0})
    rest1 = (rest_rows, b1)
    form = sawtooth.recognise([rest1] + layers[2:], [fmpq(0)] * n_in, [fmpq(2)] * n_in)
    lay = {"M": list(range(T)), "A": [[T + i * d_v + c for i in range(T)] for c in range(d_v)],
           "psi": [None] + [T + T * d_v + i - 1 for i in range(1, T)]}
    out = []
    for o in range(d_v + 1):
        X = lay["M"] if o == d_v else lay["A"][o]
        poly = form.quadratic(o, {j: fmpq(1) for j in range(n_in)})  # in ca_j = y_j - 1
        expect = {(min(lay["psi"][i], X[i]), max(lay["psi"][i], X[i])): i for i in range(1, T)}
        coef = {}
        for key, v in poly.items():
            if key == (X[0],):
                coef[0] = v
            elif key in expect:
                coef[expect[key]] = v
            else:
                raise BlockNotCertified(f"read-out {o}: a term {key} beyond Σ c_α ψ_α X_α")
        lo, hi = form.error_range(o)
        out.append({"coef": coef, "eta": max(abs(lo), abs(hi)), "levels": max(form.level)})
    return {"outputs": out, "channels": len(form.uw)}


def kernel_exact(route: str, lam: float, alphas, prec: int = 640):
    """(c_α as arb, E_trunc as arb) for the route's degree-n polynomial P_n(t) ≈ e^{λ(t - 1)}, n = max |α|, with λ the
    stored float64 (exact):  gauss p_j = e^{-λ} λ^j / j!, E_trunc = 1 - e^{-λ} Σ_{j<=n} λ^j/j! = P[Poisson(λ) > n];
    chebyshev p_j = e^{-λ} Σ_k (2 - [k = 0]) I_k(λ) [t^j] T_k(t), E_trunc = 1 - e^{-λ} (I_0 + 2 Σ_{1<=k<=n} I_k)
    = 2 e^{-λ} Σ_{k>n} I_k(λ) (e^λ = I_0 + 2 Σ_{k>=1} I_k).  |P_n(t) - e^{λ(t-1)}| <= E_trunc on [-1, 1] (the
    terms beyond n are nonnegative multiples of t^j, resp. of T_k(t) ∈ [-1, 1]); c_α = p_|α| |α|!/α! (multinomial)."""
    import math

    from flint import arb, ctx

    old = ctx.prec
    ctx.prec = prec
    try:
        L = arb(to_fmpq(float(lam)))
        n = max(sum(a) for a in alphas)
        el = (-L).exp()
        if route == "gauss":
            p = [el * L ** j / math.factorial(j) for j in range(n + 1)]
            trunc = 1 - sum(p, arb(0))
        elif route == "chebyshev":
            I = [L.bessel_i(k) for k in range(n + 1)]
            Tk = [[1], [0, 1]]
            for k in range(2, n + 1):
                a = [0] + [2 * x for x in Tk[k - 1]]
                b = Tk[k - 2] + [0] * (len(a) - len(Tk[k - 2]))
                Tk.append([x - y for x, y in zip(a, b)])
            p = [arb(0)] * (n + 1)
            for k in range(n + 1):
                w = el * I[k] * (1 if k == 0 else 2)
                for j, t in enumerate(Tk[k][:n + 1]):
                    if t:
                        p[j] += w * t
            trunc = 1 - el * (I[0] + 2 * sum(I[1:], arb(0)))
        else:
            raise BlockNotCertified(f"unknown route {route!r}")
        c = []
        for a in alphas:
            j = sum(a)
            mult = math.factorial(j)
            for x in a:
                mult //= math.factorial(x)
            c.append(p[j] * mult)
        return c, trunc
    finally:
        ctx.prec = old


_RATIO_CACHE: dict = {}


def ratio_certificate(Q, c: int, d_v: int, C: float, b_min: float, b_max: float, eps_q: float, break_points) -> dict:
    """The ratio net of output c (Q's output c as a function of (Â_c, Ŵ) alone: ``restrict``) certified by
    ``lemma_ratio.certify_ratio`` on the wedge; identical nets (same stored weights and parameters) once."""
    from .lemma_ratio import certify_ratio

    try:
        net = restrict(Q, [c], [c, d_v])
    except ValueError as exc:
        raise BlockNotCertified(f"ratio net {c} reads more than (Â_{c}, Ŵ): {exc}") from exc
    key = (tuple((shape, r.tobytes(), cc.tobytes(), v.tobytes(), b.tobytes())
                 for (r, cc, v), b, shape in net.affine_maps()), C, b_min, b_max, eps_q, tuple(break_points))
    if key not in _RATIO_CACHE:
        if len(_RATIO_CACHE) > 16:
            _RATIO_CACHE.clear()
        _RATIO_CACHE[key] = certify_ratio(net, C, b_min, b_max, eps_q, break_points, off_tol=1e-4)
    return _RATIO_CACHE[key]


def certify_block(block, N: int, delta: float, eps: float, tau: float | None, lam: float, route: str,
                  quotient: dict) -> dict:
    """A sound bound of sup ‖F(X)_N - v_{i*}‖_∞ (and of ‖F(X)_N - Attn_λ(X)_N‖_∞) over EVERY input meeting the
    hypotheses of Lemma 3.3 (‖k_i‖_2, ‖q_N‖_2 <= 1, ‖v_i‖_∞ <= 1, margin δ, top score >= τ; ``tau=None``: the
    margin alone, τ = δ - 1 exactly), for exact arithmetic on the stored weights (docs/certification.md, method 13;
    docs/lemmas/lemma-3.3.md, "The whole block certified").  ``quotient``: C, b_min, b_max, eps_q, break_points
    of the ratio net (the parameters its certificate is checked against; nothing else is taken from the builder).

      1. f_1: every feature δ_j by the cascade (sawtooth stages in O(m)) on [-1, 1]^{2d + d_v};
      2. g: running sums and identities (structural), so |G_α - K_α| <= N δ^M_α, K_α = (1/N) Σ_i k_i^α (same for
         the A-sums) and |ψ̂_α - q^α| <= δ^ψ_α;
      3. f_2 = Q ∘ R split at its concatenation; R's clip layer, sawtooth channels and read-out recognised
         exactly: R_o = Σ_α c̃_α ca_ψα ca_Xα + c̃_0 ca_X0 + e_o, |e_o| <= η_o (the exact read-out coefficients c̃,
         tails included); clipping is 1-Lipschitz and the targets lie in [-1, 1], so
         |ca_ψ ca_X - q^α K_α| <= δ^ψ_α + N δ^X_α, and E_net,o = η_o + Σ_α |c̃_α| (δ^ψ_α + N δ^X_α);
      4. |Σ_α c̃_α k^α q^α - e^{λ(<k,q> - 1)}| <= Σ_α |c̃_α - c_α| + E_trunc (arb, ``kernel_exact``), so
         |Ŵ - W| <= E_W, |Â_c - A_c| <= E_A (W, A_c with the weights e^{λ(s_i - 1)}, λ the stored float64);
      5. with w_min = e^{-λ(1-τ)}/N <= W <= W_max = (1 + (N-1) e^{-λδ})/N and |A_c| <= W: Ŵ ∈ [b_min, b_max] and
         |Â_c| <= C Ŵ are checked (arb), the ratio certificate gives ε_q, |Â/Ŵ - A/W| <= (E_A + E_W)/(w_min - E_W),
         |A/W - v*| <= 2 (N - 1) e^{-λδ}.  The sums are taken in arb and rounded up."""
    from flint import arb, ctx

    t0 = time.perf_counter()
    d, d_v = block.d, block.d_v
    out = {"method": "whole-block certificate: f_1 cascade (sawtooth stages O(m)), exact running sums, f_2 split at "
                     "its concatenation (read-out recognised exactly, tails included), kernel coefficients and "
                     "truncation in arb, ratio net by its two-stage certificate"}
    try:
        alphas = list(block.alphas)
        T = len(alphas)
        if block.f1.has_tails:
            raise BlockNotCertified("f_1 carries exact tails (the cascade reads float64 weights)")
        feats = certify_features(block.f1, alphas, d, d_v, N, PIECEWISE_DEPTH)
        out["features_seconds"] = feats["seconds"]
        if not feats["proved"]:
            raise BlockNotCertified(f"f_1 features: {feats['reason']}")
        dl = [to_fmpq(x) for x in feats["deltas"]]
        dM = dl[:T]
        dA = [[dl[T + i * d_v + c] for i in range(T)] for c in range(d_v)]
        dpsi = [fmpq(0)] + dl[T + T * d_v:]
        out["ssm"] = check_running_sums(block.g, T, d_v, N)
        if block.readout is None:
            raise BlockNotCertified("the block does not say where its read-out ends")
        R, Q = split_f2(block.f2, block.readout.depth)
        if R.d_in != len(block.g.channels) or Q.d_out != d_v or Q.d_in != d_v + 1:
            raise BlockNotCertified(f"f_2 reads {R.d_in} channels (g has {len(block.g.channels)}) and its ratio "
                                    f"part maps R^{Q.d_in} -> R^{Q.d_out} (expected R^{d_v + 1} -> R^{d_v})")
        ro = readout_terms(R, T, d_v)
        cx, trunc = kernel_exact(route, lam, alphas)
        old = ctx.prec
        ctx.prec = 640
        try:
            Nq = fmpq(N)
            E = []
            terms = []
            for o, r in enumerate(ro["outputs"]):
                dX = dM if o == d_v else dA[o]
                ct = [r["coef"].get(i, fmpq(0)) for i in range(T)]
                net = arb(r["eta"]) + arb(abs(ct[0]) * Nq * dX[0])
                for i in range(1, T):
                    net += arb(abs(ct[i]) * (dpsi[i] + Nq * dX[i]))
                coef = sum((abs(arb(ct[i]) - cx[i]) for i in range(T)), arb(0))
                E.append(net + coef + trunc)
                terms.append({"output": "W" if o == d_v else f"A_{o}", "eta": float(r["eta"]),
                              "E_net": float(net.upper()), "E_coef": float(coef.upper()),
                              "E": float((net + coef + trunc).upper())})
            E_W = E[d_v]
            E_A = max((e.upper() for e in E[:d_v]), key=float)
            E_A = arb(E_A)
            lam_a = arb(to_fmpq(float(lam)))
            dq = arb(to_fmpq(float(delta)))
            tq = dq - 1 if tau is None else arb(to_fmpq(float(tau)))  # margin only: s* >= δ - 1 exactly
            w_min = (-lam_a * (1 - tq)).exp() / N
            temp = 2 * (N - 1) * (-lam_a * dq).exp()
            W_max = (1 + temp / 2) / N
            Cq = arb(to_fmpq(float(quotient["C"])))
            b_lo, b_hi = arb(to_fmpq(float(quotient["b_min"]))), arb(to_fmpq(float(quotient["b_max"])))
            dom = {"W_hat >= b_min": bool((w_min - E_W - b_lo).lower() >= 0),
                   "W_hat <= b_max": bool((b_hi - W_max - E_W).lower() >= 0),
                   "|A_hat| <= C W_hat": bool(((Cq - 1) * w_min - E_A - Cq * E_W).lower() >= 0)}
            out.update(E_trunc=float(trunc.upper()), E_W=float(E_W.upper()), E_A=float(E_A.upper()), terms=terms,
                       w_min=float(w_min.lower()), W_max=float(W_max.upper()), temperature=float(temp.upper()),
                       domain=dom, readout_channels=ro["channels"], m2=ro["outputs"][0]["levels"],
                       f2_split=f"f_2 = Q ∘ R at hidden layer {block.readout.depth - 1} (sparse concatenation, "
                                f"checked exactly); R: clip layer, {ro['channels']} sawtooth channels, read-out")
            if not all(dom.values()):
                raise BlockNotCertified(f"the sums leave the ratio net's certified domain: {dom}")
            qs = [ratio_certificate(Q, c, d_v, quotient["C"], quotient["b_min"], quotient["b_max"], quotient["eps_q"],
                                    quotient["break_points"]) for c in range(d_v)]
            bad = [q for q in qs if not q["proved"]]
            if bad:
                raise BlockNotCertified(f"ratio net: {bad[0].get('reason')}")
            eq = max(to_fmpq(q["bound"]) for q in qs)
            chain = (E_A + E_W) / (w_min - E_W)
            b_att = arb(eq) + chain
            b_v = b_att + temp
            out.update(eps_q=float(eq), quotient_chain=float(chain.upper()), ratio_seconds=max(q["seconds"] for q in qs),
                       bound_attention=float(b_att.upper()), bound=float(b_v.upper()), proved=True)
            out["certified"] = bool(b_v.upper() <= arb(to_fmpq(float(eps))).lower()
                                    and b_att.upper() <= arb(to_fmpq(float(eps)) / 2).lower())
        finally:
            ctx.prec = old
    except (BlockNotCertified, NotSplittable, sawtooth.NotSawtooth) as exc:
        out.update(proved=False, certified=False, reason=str(exc))
    out["seconds"] = time.perf_counter() - t0
    return out
