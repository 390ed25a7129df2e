"""The rank memory of Theorems 3.1/D.2 on PACKED rows: several copy examples per row, the statement restarting
at each reset token (Jelassi et al.'s train rows ``$ x | x . $ x' | x' . ...``; docs/tasks/external.md).

Statement built.  Tokens: data, ``copy`` tokens, ``reset`` tokens, other ``ignore`` tokens (reset tokens are
never data).  A row is cut into segments at the reset tokens (segment 0 precedes the first one; a reset token
opens the segment after it).  For t in a segment, let W be the data tokens of the segment before its first copy
token, a and b the data and copy tokens of the segment up to t, r = a - W + b (the one-copy statement of
``lemmas.copying`` inside the segment), y_1..y_W the segment's data before its first copy token, and A_s the data
tokens of the row before the segment.  If b >= 1, 1 <= r <= W and A_s + W <= Lmax, the output at t decodes to
y_r.  With ``eos``: if b >= 1 and r = W + 1 (the copy is complete), the output decodes to ``eos``.  Exact for
every such input (no probability); without reset tokens it is the one-copy statement.

Why two SSM layers suffice.  A per-segment count needs the count at the last reset, which no fixed delay
reaches.  Here it is read through run indices: the delimiters (copy and reset tokens) cut the row into runs; the
run of t, u_t = Ê_t + B_t (resets + copy tokens up to t), is known after layer 1, and layer 2 sums, for every
u = 0..U, the cumulative counts DC_u = #{data tokens in runs <= u} and C_u = #{resets opening a run <= u}.
C_u rises to Ê at the segment's first run u_s (the run its reset opened; run 0 when Ê = 0), so
[u = u_s] = [C_u = Ê] - [C_{u-1} = Ê] (exact gates on integers); then A_s = DC_{u_s - 1}, W = DC_{u_s} - A_s,
B_s = u_s - Ê (copy tokens before the segment), and the memory, indexed by the row's data count A (every data
token is written, so the index needs no per-segment count), is read at g = A_s + r = A + B - B_s - W.

Network (route "exact"; exact gates of ``task_blocks`` on ±1/√k codes and integers; U = N run indices).
  pre:  c_t; d_t = [x_t data]; κ_t = [x_t copy]; ρ_t = [x_t reset].
  SSM1: c, d, ρ (delay 0); A = Σ d, B = Σ κ, Ê = Σ ρ.
  FNN1: block ℓ (ℓ = 1..Lmax) receives [A = ℓ]·d·c; DC_u (u = 0..U) receives [Ê + B <= u]·d, C_u (u = 1..U)
        receives [Ê + B <= u]·ρ (C_0 = 0: a reset opens a run >= 1); A, B, Ê passed on.
  SSM2: running sums of the blocks, DC and C; A, B, Ê kept.
  FNN2: z_u = [u = u_s] (linear in the gates [C_u = Ê]); P = Σ_u z_u DC_u = A_s + W, Q = Σ_u z_u DC_{u-1} = A_s
        (gated integers); g = A + B + Ê - u_s - P + Q; out = Σ_ℓ [g = ℓ]·block_ℓ; with eos also
        [g - P - 1 = 0]·c(eos) (r = W + 1), the blocks switched off there.
  Dec:  W_Dec = Eᵀ/√k.
Counts (``packed_formula``, exact): D = Lmax·k + 2N + 4; FNN2 has 5 hidden layers (L = 6); S = O(Lmax·k + N).
The memory holds every data token of the row (the copied ones too: their index is the row's data count, the one
index layer 1 knows), so Lmax grows with the row length — up to about N for densely packed rows, against
Lmax = the longest single string for one copy per row.  Every intermediate is an integer <= N or a dyadic code
entry: float64-exact, as the one-copy network.
"""

from __future__ import annotations

import numpy as np

from constructions.circuit import Circuit, Fn
from constructions.model import Embedding, SSMModel
from constructions.ssm import SSMLayer, delay, running_sum

from . import task_blocks as tb
from .base import Construction


def build_packed_rank_memory(V: int, Lmax: int, N: int, copy=(), ignore=(), reset=(), eos: int | None = None,
                             delta: float = 0.5, code_seed: int = 0, route: str = "exact",
                             code=None) -> Construction:
    """The packed-row rank memory (module docstring) for token ids [0, V), rows of length <= N, a memory of the
    row's first Lmax data tokens.  ``code``: a (k, V) code matrix instead of Lemma H.1's draw (mutation tests)."""
    tb.check_route(route)
    V, Lmax, N = int(V), int(Lmax), int(N)
    copy = sorted({int(t) for t in copy})
    reset = sorted({int(t) for t in reset})
    ignore = sorted({int(t) for t in ignore} - set(reset))
    if V < 2 or Lmax < 1 or N < 2:
        raise ValueError(f"need V >= 2, Lmax >= 1 and N >= 2, got V={V}, Lmax={Lmax}, N={N}")
    if not copy:
        raise ValueError("need at least one copy token")
    if set(copy) & (set(ignore) | set(reset)) or any(not 0 <= t < V for t in copy + ignore + reset):
        raise ValueError(f"copy {copy} must be disjoint from ignore {ignore} and reset {reset}, all token ids in "
                         f"[0, {V})")
    if eos is not None and not 0 <= int(eos) < V:
        raise ValueError(f"eos must be a token id in [0, {V}), got {eos}")
    if len(copy) + len(ignore) + len(reset) >= V:
        raise ValueError("no data tokens left")
    vc, E = tb.code_for(V, delta, code_seed, code)
    k = E.shape[0]
    U = N  # run indices 0..U: Ê + B <= t + 1 <= N
    M = N  # bound on every count (gated integer values)
    nb = Lmax * k
    has_eos = eos is not None

    # ---- pre: c, d = [data], κ = [copy], ρ = [reset]
    pre = tb.class_pre(E, delta, [copy, ignore, reset], flagged=(0, 2))

    # ---- SSM1: c, d, ρ (delay 0); A = Σ d, B = Σ κ, Ê = Σ ρ
    rows = list(range(k)) + [k, k + 2, k, k + 1, k + 2]
    chans = [delay(0)] * (k + 2) + [running_sum()] * 3
    W_in = np.zeros((len(rows), pre.d_out))
    W_in[np.arange(len(rows)), rows] = 1.0
    g1 = SSMLayer(tuple(chans), U=N, W_in=W_in)

    # ---- FNN1: memory blocks, cumulative run counts; A, B, Ê passed on
    C = Circuit(g1.d_out)
    x = C.inputs()
    d, rho, A, B, Eh = x[k], x[k + 1], x[k + 2], x[k + 3], x[k + 4]
    hid = [u for i in range(k) for u in (x[i], -x[i])]
    eqA = len(hid)
    for ell in range(1, Lmax + 1):
        hid += tb.eq_units(A, ell)
    le0 = len(hid)
    for u in range(U + 1):
        hid += [(u + 1.0) - Eh - B, float(u) - Eh - B]  # [Ê + B <= u] = ρ(u + 1 - Ê - B) - ρ(u - Ê - B)
    pas = len(hid)
    hid += [d, rho, A, B, Eh]  # non-negative integers: one ReLU unit each
    h = C.layer(hid)
    d1, rho1, A1, B1, E1 = (h[pas + j] for j in range(5))
    le = [h[le0 + 2 * u] - h[le0 + 2 * u + 1] for u in range(U + 1)]
    hid2 = []
    for ell in range(1, Lmax + 1):
        off = (1.0 - tb.eq_of(h[eqA + 3 * (ell - 1):eqA + 3 * ell])) + (1.0 - d1)
        for i in range(k):
            hid2 += tb.gated_pair(h[2 * i] - h[2 * i + 1], off)
    hid2 += [le[u] + d1 - 1.0 for u in range(U + 1)]  # DC_u increments d·[Ê + B <= u]
    hid2 += [le[u] + rho1 - 1.0 for u in range(1, U + 1)]  # C_u increments ρ·[Ê + B <= u] (C_0 = 0)
    hid2 += [A1, B1, E1]
    h2 = C.layer(hid2)
    nD, nC = U + 1, U
    f1 = C.net([h2[2 * j] - h2[2 * j + 1] for j in range(nb)] + [h2[2 * nb + j] for j in range(nD + nC + 3)])

    # ---- SSM2: running sums of the blocks, DC and C; A, B, Ê kept
    g2 = SSMLayer(tuple([running_sum()] * (nb + nD + nC) + [delay(0)] * 3), U=N)

    # ---- FNN2
    C = Circuit(g2.d_out)
    x = C.inputs()
    mem = x[:nb]
    DC = x[nb:nb + nD]
    Cr = [Fn()] + x[nb + nD:nb + nD + nC]
    A, B, Eh = x[nb + nD + nC], x[nb + nD + nC + 1], x[nb + nD + nC + 2]
    hid = []
    for u in range(U + 1):
        hid += [Eh - Cr[u], Eh - Cr[u] - 1.0]  # [C_u = Ê] = 1 - ρ(Ê - C_u) + ρ(Ê - C_u - 1)  (C_u <= Ê)
    pas = len(hid)
    hid += list(DC) + [A, B, Eh]  # non-negative integers
    m0 = len(hid)
    hid += [u for j in range(nb) for u in (mem[j], -mem[j])]
    h = C.layer(hid)
    ge = [1.0 - h[2 * u] + h[2 * u + 1] for u in range(U + 1)]
    z = [ge[0]] + [ge[u] - ge[u - 1] for u in range(1, U + 1)]  # z_u = [u = u_s]
    us = sum((ge[U] - ge[u] for u in range(U)), Fn())  # u_s = Σ_u u z_u = Σ_{u<U} (ge_U - ge_u)
    D1 = h[pas:pas + nD]
    A1, B1, E1 = h[pas + nD], h[pas + nD + 1], h[pas + nD + 2]
    hid2 = [D1[u] - M * (1.0 - z[u]) for u in range(U + 1)]  # P_u = z_u DC_u
    hid2 += [D1[u - 1] - M * (1.0 - z[u]) for u in range(1, U + 1)]  # Q_u = z_u DC_{u-1}
    p2 = len(hid2)
    hid2.append(A1 + B1 + E1 - us)  # A + B - B_s >= 0
    q2 = len(hid2)
    hid2 += [h[m0 + j] for j in range(2 * nb)]
    h2 = C.layer(hid2)
    P = sum((h2[u] for u in range(U + 1)), Fn())  # DC_{u_s} = A_s + W
    Q = sum((h2[U + 1 + j] for j in range(U)), Fn())  # DC_{u_s - 1} = A_s
    g = h2[p2] - P + Q  # A + B - B_s - W = A_s + r >= -N
    cE = 2.0 * N + 1.0  # r - W - 1 >= -2N - 1
    # one unit each for g and r - W - 1 (shifted non-negative), so the Lmax equality gates read one term, not 2N + 2
    hid3 = [g + float(N)] + ([g - P - 1.0 + cE] if has_eos else [])  # r - W - 1 = g - A_s - W - 1 = g - P - 1
    q3 = len(hid3)
    hid3 += [h2[q2 + j] for j in range(2 * nb)]
    h3 = C.layer(hid3)
    hid4 = []
    for ell in range(1, Lmax + 1):
        hid4 += tb.eq_units(h3[0] - float(N), ell)
    e0 = len(hid4)
    if has_eos:
        hid4 += tb.eq_units(h3[1] - cE, 0)
    q4 = len(hid4)
    hid4 += [h3[q3 + j] for j in range(2 * nb)]
    h4 = C.layer(hid4)
    eos_gate = tb.eq_of(h4[e0:e0 + 3]) if has_eos else Fn()
    hid5 = []
    for ell in range(1, Lmax + 1):
        off = 1.0 - tb.eq_of(h4[3 * (ell - 1):3 * ell]) + eos_gate
        for i in range(k):
            j = q4 + 2 * ((ell - 1) * k + i)
            hid5 += tb.gated_pair(h4[j] - h4[j + 1], off)
    if has_eos:
        hid5.append(eos_gate)
    h5 = C.layer(hid5)
    outs = []
    for i in range(k):
        f = Fn({2 * ((ell - 1) * k + i): 1.0 for ell in range(1, Lmax + 1)}
               | {2 * ((ell - 1) * k + i) + 1: -1.0 for ell in range(1, Lmax + 1)})
        if has_eos:
            f = f + h5[2 * nb] * float(E[i, int(eos)])
        outs.append(f)
    f2 = C.net(outs)

    model = SSMModel(Embedding(E), [(g1, f1), (g2, f2)], tb.code_decoding(E), pre=pre)
    params = {"V": V, "Lmax": Lmax, "N": N, "copy": copy, "ignore": ignore, "reset": reset,
              "eos": None if eos is None else int(eos), "delta": float(delta), "code_seed": int(code_seed),
              "route": route, "k": k}
    formula = packed_formula(V, Lmax, N, k, len(copy), len(ignore), len(reset), has_eos, float(delta),
                             int(np.count_nonzero(E[:, int(eos)])) if has_eos else 0)
    notes = {"code": vc, "memory": "indexed by the row's data count: Lmax·k running-sum channels, Lmax up to the "
                                   "row's data tokens (grows with the row length); 2U + 1 run channels, U = N"}
    return Construction(model, formula, params, notes)


def packed_formula(V: int, Lmax: int, N: int, k: int, n_copy: int, n_ignore: int, n_reset: int, eos: bool,
                   delta: float, eos_nnz: int = 0) -> dict:
    """Exact counts of ``build_packed_rank_memory`` (U = N run indices; ``n_ignore`` without the reset tokens;
    ``eos_nnz`` = nonzeros of the eos code column, k for a ±1/√k code)."""
    G = tb.gate_scale(delta)
    U, e = N, int(bool(eos))
    ns = n_copy + n_ignore + n_reset
    nb = Lmax * k
    pre = {"L": 2, "W": 2 * k + ns, "S": 4 * k + ns * (k + 2) + 1 + n_copy + n_reset, "B": float(G)}
    f1 = {"L": 3, "W": max(2 * k + 3 * Lmax + 2 * U + 7, 2 * nb + 2 * U + 4),
          "S": 2 * k + 6 * Lmax + 16 * nb + 16 * U + 20, "B": float(max(Lmax, U) + 1)}
    f2 = {"L": 6, "W": 2 * nb + max(3 * U + 6, 3 * Lmax + 3 * e),
          "S": 22 * U + 18 + 6 * Lmax + 22 * nb + e * (2 * U + 12 + 6 * nb + eos_nnz),
          "B": float(max(N + Lmax + 1, (2 * N + 2) * e))}
    ssm1 = (k + 5) + (k + 2) + 4 * 3  # W_in ones; delay-0 D's; running sums (A, B, C, D = 1)
    ssm2 = 4 * (nb + 2 * U + 1) + 3
    fnn = [pre, f1, f2]
    return {"M": 2, "U": N, "D": nb + 2 * U + 4, "d_in": V, "k": k,
            "L": max(f["L"] for f in fnn), "W": max(f["W"] for f in fnn), "S": max(f["S"] for f in fnn),
            "B": max(f["B"] for f in fnn), "fnn": fnn, "ssm_nnz": [ssm1, ssm2], "state_sizes_total": [3, nb + 2 * U + 1],
            "total_nonzeros": 2 * k * V + sum(f["S"] for f in fnn) + ssm1 + ssm2,
            "paper_growth": "poly-log parameters in L and 1/ε for one copy per row (the paper's route; no packed "
                            "statement in the paper)",
            "growth_of_this_construction": "D = Lmax·k + 2N + 4 with Lmax up to the row's data tokens (grows with "
                                           "the row length N); S = O(Lmax·k + N)"}
