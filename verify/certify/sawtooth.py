"""Certificate of a sawtooth product level in O(m) work, not O(2^m) (issue 15, item 5; docs/certification.md,
method 12).

Reference semantics (written here: ``verify/certify`` does not import ``lemmas``).  The tooth g(a) = 2a - 4ρ(a - 1/2)
is the tent 1 - |2a - 1| on [0, 1] and maps [0, 1] onto [0, 1]; g_s = g∘...∘g (s times), and

    f_m(t) = t - Σ_{s=1}^m g_s(t) / 4^s,     0 <= f_m(t) - t^2 <= η_m := 2^{-2m-2}   for t ∈ [0, 1].     (I)

Proof of (I) (Yarotsky 2017, Prop. 2).  Let I_m be the linear interpolant of t^2 on the grid 2^{-m} Z ∩ [0, 1];
I_0(t) = t.  I_{m-1} - I_m is piecewise linear on the grid h = 2^{-m}, zero on the coarse grid 2h Z, and at a fine
midpoint x + h (x ∈ 2h Z) it is (x^2 + (x + 2h)^2)/2 - (x + h)^2 = h^2.  g_m is also piecewise linear on the grid h,
0 on 2h Z and 1 at the odd multiples of h (g_1 is the tent; g_m = g_{m-1}∘g doubles the teeth), so
I_{m-1} - I_m = g_m / 4^m and I_m = t - Σ_{s<=m} g_s/4^s = f_m.  On a cell [a, a + h] the chord lies above t^2 by
(t - a)(a + h - t) ∈ [0, h^2/4] = [0, 2^{-2m-2}].  ∎

The network pattern (the sawtooth chain of ``lemmas.square`` / ``lemmas.mult.pair_level``, recognised from the
stored weights, nothing assumed):
  * first hidden layer: per *channel* c the four units ρ(u), ρ(-u), ρ(u - 1/2), ρ(-u - 1/2) of an affine form
    u = u_c(y) of the stage inputs with |u| <= 1 on the input box (or the two units ρ(±u) with |u| <= 1/2); state 1
    is α_1 = ρ(u) + ρ(-u) = |u| =: t, β_1 = ρ(u - 1/2) + ρ(-u - 1/2) = ρ(t - 1/2), γ_1 = α_1;
  * each later hidden layer j + 1 holds, per channel, units whose pre-activations are EXACTLY (fmpq comparison of
    the weights and the bias) 2α_j - 4β_j, 2α_j - 4β_j - 1/2 and γ_j - (2α_j - 4β_j)/4^j in terms of the channel's
    units of layer j.  Since α_j = g_{j-1}(t) ∈ [0, 1] and β_j = ρ(α_j - 1/2), these are g_j(t) ∈ [0, 1]
    (ReLU = identity), ρ(g_j - 1/2) = β_{j+1}, and γ_j - g_j/4^j = f_j(t) >= t^2 >= 0 (ReLU = identity, by (I)):
    the invariant α_{j+1} = g_j(t), β_{j+1} = ρ(g_j(t) - 1/2), γ_{j+1} = f_j(t) holds for every t ∈ [0, 1].  The
    three forms are affine in (α, ρ(α - 1/2), γ), which are linearly independent functions, so comparing the
    coefficients is comparing the piecewise-linear maps;
  * other units must be affine on the box (a carried value ρ(L(y)) with L >= 0 there, or read only such units) or
    dead (pre-activation <= 0 on the box); anything else and the net is not recognised (the caller falls back);
  * the output map reads each channel c only through a multiple s_c (γ_j - (2α_j - 4β_j)/4^j) = s_c f_j(|u_c|).
Hence on the whole box, for every output o,

    net_o(y) = Σ_c s_{o,c} f_{j_c}(|u_c(y)|) + L_o(y) + b_o,      net_o - Q_o ∈ [Σ_{s<0} s η_{j_c}, Σ_{s>0} s η_{j_c}],
    Q_o(y) = Σ_c s_{o,c} u_c(y)^2 + L_o(y) + b_o                  (an exact quadratic polynomial of y),

the work being one pass over the units (O(m) per channel).  ``stage_error`` compares Q with the cascade's target
exactly (for a product level of ``pair_level`` Q is the target itself: (u_+^2 - u_-^2) = ca cb).
"""

from __future__ import annotations

from dataclasses import dataclass

from flint import fmpq

from .fixedpoint import exact_ints
from .rational import to_fmpq

ZERO, ONE, HALF = fmpq(0), fmpq(1), fmpq(1, 2)


def eta(j: int) -> fmpq:
    """η_j = 2^{-2j-2}: the sup of f_j(t) - t^2 on [0, 1] (attained at the grid midpoints)."""
    return fmpq(1, 4 ** (j + 1))


def _rows(r, c, weights, biases, n_rows: int) -> tuple[list[dict], list[fmpq]]:
    rows = [{} for _ in range(n_rows)]
    for i, j, w in zip(r.tolist(), c.tolist(), weights):
        if w != 0:
            rows[i][j] = w
    return rows, list(biases)


def exact_layers(net) -> list[tuple[list[dict], list[fmpq]]]:
    """The maps of an FNN as exact rationals: per map (row dicts {col: weight}, biases), the float64 arrays plus
    their exact tails (``FNN.exact_maps``) summed exactly (``fixedpoint.exact_ints``)."""
    out = []
    for (r, c, parts), bparts, shape in net.exact_maps():
        V, K = exact_ints(parts)
        Vb, Kb = exact_ints(bparts)
        out.append(_rows(r, c, [fmpq(v, 1 << K) for v in V], [fmpq(v, 1 << Kb) for v in Vb], shape[0]))
    return out


def coo_layers(maps) -> list[tuple[list[dict], list[fmpq]]]:
    """``exact_layers`` of float64 maps given as an ``affine_maps`` list (no exact tails)."""
    return [_rows(r, c, [to_fmpq(w) for w in v.tolist()], [to_fmpq(float(x)) for x in b], shape[0])
            for (r, c, v), b, shape in maps]


class NotSawtooth(ValueError):
    """The net is not a sawtooth level (the reason says where the pattern breaks)."""


@dataclass
class SawtoothForm:
    """net_o(y) = Σ_c s[o][c] f_{level[c]}(|u_c(y)|) + Σ_i lin[o][i] y_i + const[o] on the box (module docstring);
    u_c(y) = Σ_i uw[c][i] y_i + ub[c]."""

    uw: list  # per channel: {input: fmpq}
    ub: list  # per channel: fmpq
    level: list  # per channel: j (the output reads f_j)
    s: list  # per output: {channel: fmpq}
    lin: list  # per output: {input: fmpq}
    const: list  # per output: fmpq
    layers: int

    def error_range(self, o: int) -> tuple[fmpq, fmpq]:
        """[lo, hi] ∋ net_o - Q_o on the box: Σ_c s η over the negative / positive s."""
        lo = hi = ZERO
        for c, sc in self.s[o].items():
            if sc > 0:
                hi += sc * eta(self.level[c])
            else:
                lo += sc * eta(self.level[c])
        return lo, hi

    def quadratic(self, o: int, shift=None) -> dict:
        """Q_o as {monomial: coefficient}, monomials () / (i,) / (i, j) with i <= j, in the variables y_i - shift[i]
        (shift None: y itself)."""
        shift = shift or {}
        poly: dict = {}

        def add(k, v):
            if v != 0:
                poly[k] = poly.get(k, ZERO) + v

        for c, sc in self.s[o].items():
            w = self.uw[c]
            b = self.ub[c] + sum((wi * shift.get(i, ZERO) for i, wi in w.items()), ZERO)
            items = sorted(w.items())
            for a, (i, wi) in enumerate(items):
                add((i, i), sc * wi * wi)
                for j, wj in items[a + 1:]:
                    add((i, j), 2 * sc * wi * wj)
                add((i,), 2 * sc * wi * b)
            add((), sc * b * b)
        for i, li in self.lin[o].items():
            add((i,), li)
            add((), li * shift.get(i, ZERO))
        add((), self.const[o])
        return {k: v for k, v in poly.items() if v != 0}


def _affine_range(w: dict, b: fmpq, lo: list, hi: list) -> tuple[fmpq, fmpq]:
    mn = mx = b
    for i, wi in w.items():
        if wi > 0:
            mn += wi * lo[i]
            mx += wi * hi[i]
        else:
            mn += wi * hi[i]
            mx += wi * lo[i]
    return mn, mx


def _key(w: dict) -> tuple:
    return tuple(sorted((i, v) for i, v in w.items()))


def _neg(w: dict) -> dict:
    return {i: -v for i, v in w.items()}


def recognise(layers, lo: list, hi: list, allow_affine: bool = False) -> SawtoothForm:
    """The sawtooth form of a net given by ``exact_layers`` on the box Π [lo_i, hi_i] (fmpq), or NotSawtooth.
    ``allow_affine``: a net without channels (every unit affine or dead on the box, e.g. a carried value) is
    returned as the affine form it is (no channel, no η)."""
    if len(layers) == 1 and allow_affine:  # an affine map (no hidden layer)
        rows, bias = layers[0]
        return SawtoothForm([], [], [], [{} for _ in rows], [dict(r) for r in rows], list(bias), 1)
    if len(layers) < 2:
        raise NotSawtooth("a sawtooth level has at least one hidden layer")
    rows0, b0 = layers[0]
    n_units = len(rows0)
    # --- first hidden layer: channels by their pattern, the rest affine or dead on the box
    by_key: dict = {}
    for r in range(n_units):
        if rows0[r]:
            by_key.setdefault(_key(rows0[r]), []).append(r)
    used = [False] * n_units
    uw, ub, chan_units = [], [], []

    def take(key, bias):
        for r in by_key.get(key, ()):
            if not used[r] and b0[r] == bias:
                return r
        return None

    for r in range(n_units):
        if used[r] or not rows0[r]:
            continue
        k, nk, b = _key(rows0[r]), _key(_neg(rows0[r])), b0[r]
        rn = take(nk, -b)
        if rn is None or rn == r:
            continue
        rb = take(k, b - HALF)
        rnb = take(nk, -b - HALF)
        mn, mx = _affine_range(rows0[r], b, lo, hi)
        if rb is not None and rnb is not None and rb != rnb and -1 <= mn and mx <= 1:
            units = (r, rn, rb, rnb)
        elif -HALF <= mn and mx <= HALF:
            units = (r, rn)
        else:
            continue
        for u in units:
            used[u] = True
        uw.append(dict(rows0[r]))
        ub.append(b)
        chan_units.append(units)
    if not uw and not allow_affine:
        raise NotSawtooth("no sawtooth channel (ρ(±u), ρ(±u - 1/2), |u| <= 1) in the first hidden layer")
    # unit kinds: ("ch", c) | ("lin", w, b) | ("dead",)
    kinds: list = [None] * n_units
    state = []  # per channel: (level j, α, β, γ) as {unit: fmpq}
    for c, units in enumerate(chan_units):
        for u in units:
            kinds[u] = ("ch", c)
        al = {units[0]: ONE, units[1]: ONE}
        be = {units[2]: ONE, units[3]: ONE} if len(units) == 4 else {}
        state.append((1, al, be, dict(al)))
    for r in range(n_units):
        if kinds[r] is None:
            kinds[r] = _plain(rows0[r], b0[r], lo, hi, r)
    # --- transitions
    for li in range(1, len(layers) - 1):
        rows, bias = layers[li]
        forms = [_forms(st) for st in state]
        new_kinds, roles = [], [{} for _ in state]
        for r, row in enumerate(rows):
            chans = {kinds[u][1] for u in row if kinds[u][0] == "ch"}
            if not chans:
                w, b = _compose_lin(row, bias[r], kinds)
                new_kinds.append(_plain(w, b, lo, hi, r, li))
                continue
            if len(chans) > 1 or any(kinds[u][0] == "lin" for u in row):
                raise NotSawtooth(f"layer {li}, unit {r}: reads several channels or mixes a channel with other units")
            c = chans.pop()
            got = {u: v for u, v in row.items() if kinds[u][0] == "ch"}
            for name, (f, fb) in forms[c].items():
                if got == f and bias[r] == fb:
                    if name in roles[c]:
                        raise NotSawtooth(f"layer {li}: channel {c} has two units {name}")
                    roles[c][name] = r
                    new_kinds.append(("ch", c))
                    break
            else:
                raise NotSawtooth(f"layer {li}, unit {r}: not a sawtooth transition of channel {c} (exact weights)")
        new_state = []
        for c, st in enumerate(state):
            if not roles[c]:
                new_state.append(None)  # the channel ends here (nothing may read it later)
                continue
            if set(roles[c]) != {"A", "B", "C"}:
                raise NotSawtooth(f"layer {li}: channel {c} has only {sorted(roles[c])} of its three units")
            j = st[0]
            new_state.append((j + 1, {roles[c]["A"]: ONE}, {roles[c]["B"]: ONE}, {roles[c]["C"]: ONE}))
        state = [s if s is not None else (0, {}, {}, {}) for s in new_state]
        kinds = new_kinds
    # --- output map
    rows, bias = layers[-1]
    S, LIN, CONST = [], [], []
    for r, row in enumerate(rows):
        sc: dict = {}
        for c in {kinds[u][1] for u in row if kinds[u][0] == "ch"}:
            j, al, be, ga = state[c]
            if j == 0:
                raise NotSawtooth(f"output {r} reads channel {c} after it ended")
            y = _lincomb([(ga, ONE), (al, -fmpq(2, 4 ** j)), (be, fmpq(4, 4 ** j))])
            got = {u: v for u, v in row.items() if kinds[u] == ("ch", c)}
            u0 = next(iter(y))
            s = got.get(u0, ZERO) / y[u0]
            if s == 0 or got != {u: s * v for u, v in y.items()}:
                raise NotSawtooth(f"output {r}: channel {c} is not read as a multiple of y_j = γ - (2α - 4β)/4^j")
            sc[c] = s
        plain = {u: v for u, v in row.items() if kinds[u][0] != "ch"}
        w, b = _compose_lin(plain, bias[r], kinds)
        S.append(sc)
        LIN.append(w)
        CONST.append(b)
    level = [st[0] for st in state]
    return SawtoothForm(uw, ub, level, S, LIN, CONST, len(layers))


def _forms(st) -> dict:
    j, al, be, ga = st
    if j == 0:
        return {}
    g = _lincomb([(al, fmpq(2)), (be, fmpq(-4))])
    return {"A": (g, ZERO), "B": (g, -HALF), "C": (_lincomb([(ga, ONE), (g, -fmpq(1, 4 ** j))]), ZERO)}


def _lincomb(terms) -> dict:
    out: dict = {}
    for d, k in terms:
        for u, v in d.items():
            out[u] = out.get(u, ZERO) + k * v
    return {u: v for u, v in out.items() if v != 0}


def _compose_lin(row: dict, b: fmpq, kinds) -> tuple[dict, fmpq]:
    """A row over affine / dead units as an affine form of the inputs."""
    w: dict = {}
    for u, v in row.items():
        k = kinds[u]
        if k[0] == "lin":
            for i, x in k[1].items():
                w[i] = w.get(i, ZERO) + v * x
            b = b + v * k[2]
        elif k[0] != "dead":
            raise NotSawtooth("an affine unit reads a sawtooth channel")
    return {i: x for i, x in w.items() if x != 0}, b


def _plain(w: dict, b: fmpq, lo, hi, r: int, li: int = 0):
    mn, mx = _affine_range(w, b, lo, hi)
    if mn >= 0:
        return ("lin", dict(w), b)
    if mx <= 0:
        return ("dead",)
    raise NotSawtooth(f"layer {li}, unit {r}: neither a sawtooth unit nor affine on the box (its pre-activation "
                      f"changes sign)")


def poly_range(poly: dict, lo: list, hi: list) -> tuple[fmpq, fmpq]:
    """An enclosure [a, b] of a polynomial of degree <= 2 ({monomial: coefficient}) on the box (exact interval
    arithmetic, sound, not tight)."""
    a = b = ZERO
    for k, v in poly.items():
        if len(k) == 0:
            m_lo = m_hi = ONE
        elif len(k) == 1:
            m_lo, m_hi = lo[k[0]], hi[k[0]]
        elif k[0] == k[1]:
            x0, x1 = lo[k[0]], hi[k[0]]
            m_hi = max(x0 * x0, x1 * x1)
            m_lo = ZERO if x0 <= 0 <= x1 else min(x0 * x0, x1 * x1)
        else:
            ps = [lo[k[0]] * lo[k[1]], lo[k[0]] * hi[k[1]], hi[k[0]] * lo[k[1]], hi[k[0]] * hi[k[1]]]
            m_lo, m_hi = min(ps), max(ps)
        if v > 0:
            a += v * m_lo
            b += v * m_hi
        else:
            a += v * m_hi
            b += v * m_lo
    return a, b


def poly_sub(p: dict, q: dict) -> dict:
    out = dict(p)
    for k, v in q.items():
        out[k] = out.get(k, ZERO) - v
    return {k: v for k, v in out.items() if v != 0}


def stage_error(layers, lo: list, hi: list, target) -> tuple[fmpq, dict]:
    """E >= sup over the box of |net(y) - target(y)| for a one-output sawtooth stage given by its exact layers
    (``exact_layers`` / ``coo_layers``) and a target polynomial of degree <= 2 ({monomial: coefficient} in y; or a
    function of the recognised form returning it, None to refuse): E = the η range of the channels plus an
    enclosure of Q - target (0 when the quadratic is the target exactly, as for an unperturbed product level, or
    for a carried value through affine units)."""
    form = recognise(layers, lo, hi, allow_affine=callable(target))
    if callable(target):
        target = target(form)
        if target is None:
            raise NotSawtooth("no target for this form")
    if len(form.s) != 1:
        raise NotSawtooth(f"a stage has one output, got {len(form.s)}")
    e_lo, e_hi = form.error_range(0)
    diff = poly_sub(form.quadratic(0), target)
    d_lo, d_hi = poly_range(diff, lo, hi) if diff else (ZERO, ZERO)
    E = max(abs(e_lo + d_lo), abs(e_hi + d_hi))
    return E, {"pieces": 0, "method": "sawtooth chain (exact transitions, interpolation bound)",
               "channels": len(form.uw), "levels": max(form.level, default=0), "exact_quadratic": not diff}
