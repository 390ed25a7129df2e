"""Theorems 3.1 (input copying) and D.2 (selective copying) as a float64-exact two-layer SSM network: the
rank-indexed memory (docs/tasks/constructions.md).

Statement built.  Tokens are split into data tokens, ``copy`` tokens (⟨COPY⟩, or s4's marker) and ``ignore``
tokens (⟨BOS⟩, ⟨PAD⟩/noise, ⟨EOS⟩, ...).  Let the j-th data token before the first copy token be y_j (j <= Lmax).
At a position t at or after the first copy token, with a data tokens and b copy tokens up to t, and W data
tokens before the first copy token, the network's output at t decodes to y_r, r = a - W + b: in the paper's
form ⟨BOS⟩ z ⟨COPY⟩ y_1 .. (answers fed back) r = j + 1 after j generated tokens; in s4's form (M markers, no
feedback) r = the number of markers so far.  Copying (3.1) is the case without ⟨PAD⟩; selective copying (D.2)
ignores ⟨PAD⟩.  Exact for every input with W <= Lmax (no probability needed: the memory is indexed by rank,
so repeated n-grams, which make Jelassi's and the paper's n-gram route fail, do not matter).

Network (route "exact").  Emb: Lemma H.1's code (k = 4^j, δ = 1 - 2^-r).
  pre:  c_t; d_t = [x_t is data]; κ_t = [x_t is a copy token] (exact identity gates on the code).
  SSM1: c_t, d_t, the running counts a_t = Σ d, b_t = Σ κ.
  FNN1: write flag w_t = ρ(d_t - b_t) (data before any copy token); block ℓ (ℓ = 1..Lmax) receives
        [a_t = ℓ]·w_t·c_t (one exact gated product per coordinate); w_t, a_t, b_t passed on.
  SSM2: running sums of the blocks (block ℓ holds c(y_ℓ) exactly) and of w (W_t); a_t, b_t kept.
  FNN2: r = a - W + b; out = Σ_ℓ [r = ℓ]·block_ℓ.
  Dec:  W_Dec = Eᵀ/√k.
The memory has Lmax·k channels: it grows with the length (float64-safe baseline; the paper's poly-log route
needs precision growing with the length, docs/tasks/precision.md).
"""

from __future__ import annotations

import numpy as np

from constructions.circuit import Circuit, Fn
from constructions.model import Embedding, SSMModel
from constructions.ssm import SSMLayer, delay, running_sum

from . import task_blocks as tb
from .base import Construction
from .copying_packed import build_packed_rank_memory


def build_rank_memory(V: int, Lmax: int, N: int, copy=(), ignore=(), delta: float = 0.5, code_seed: int = 0,
                      route: str = "exact", code=None, reset=(), eos: int | None = None) -> Construction:
    """The rank-memory network for token ids [0, V), at most Lmax data tokens before the first copy token, sequences
    of length <= N (the SSM window U = N).
    ``code``: a (k, V) code matrix to use instead of Lemma H.1's draw (mutation tests).
    ``reset`` / ``eos``: the packed-row network (``build_packed_rank_memory``: the statement restarts at each
    reset token; Lmax then bounds the row's data tokens up to the last one read); the defaults build the one-copy
    network above, unchanged."""
    if len(tuple(reset)) or eos is not None:
        return build_packed_rank_memory(V, Lmax, N, copy, ignore, reset, eos, delta, code_seed, route, code)
    tb.check_route(route)
    V, Lmax, N = int(V), int(Lmax), int(N)
    copy = sorted({int(t) for t in copy})
    ignore = sorted({int(t) for t in ignore})
    if V < 2 or Lmax < 1 or N < 2:
        raise ValueError(f"need V >= 2, Lmax >= 1 and N >= 2, got V={V}, Lmax={Lmax}, N={N}")
    if not copy:
        raise ValueError("need at least one copy token")
    if set(copy) & set(ignore) or any(not 0 <= t < V for t in copy + ignore):
        raise ValueError(f"copy {copy} and ignore {ignore} must be disjoint token ids in [0, {V})")
    if len(copy) + len(ignore) >= V:
        raise ValueError("no data tokens left")
    vc, E = tb.code_for(V, delta, code_seed, code)
    k = E.shape[0]

    # ---- pre: c, d = [data], κ = [copy]
    pre = tb.class_pre(E, delta, [copy, ignore], flagged=(0,))

    # ---- SSM1: c, d, a = Σ d, b = Σ κ
    rows = list(range(k)) + [k, k, k + 1]
    chans = [delay(0)] * (k + 1) + [running_sum(), running_sum()]
    W_in = np.zeros((len(rows), pre.d_out))
    W_in[np.arange(len(rows)), rows] = 1.0
    g1 = SSMLayer(tuple(chans), U=N, W_in=W_in)

    # ---- FNN1
    C = Circuit(g1.d_out)
    x = C.inputs()
    d, a, b = x[k], x[k + 1], x[k + 2]
    hid = [u for i in range(k) for u in (x[i], -x[i])]
    eq0 = len(hid)
    for ell in range(1, Lmax + 1):
        hid += tb.eq_units(a, ell)
    hid += [d - b, a, b]
    h = C.layer(hid)
    w, a1, b1 = h[eq0 + 3 * Lmax], h[eq0 + 3 * Lmax + 1], h[eq0 + 3 * Lmax + 2]
    hid2 = []
    for ell in range(1, Lmax + 1):
        off = (1.0 - tb.eq_of(h[eq0 + 3 * (ell - 1):eq0 + 3 * ell])) + (1.0 - w)
        for i in range(k):
            hid2 += tb.gated_pair(h[2 * i] - h[2 * i + 1], off)
    hid2 += [w, a1, b1]
    h2 = C.layer(hid2)
    nb = Lmax * k
    f1 = C.net([h2[2 * j] - h2[2 * j + 1] for j in range(nb)] + [h2[2 * nb], h2[2 * nb + 1], h2[2 * nb + 2]])

    # ---- SSM2: running sums of the blocks and of w; a, b kept
    g2 = SSMLayer(tuple([running_sum()] * (nb + 1) + [delay(0)] * 2), U=N)

    # ---- FNN2: r = a - W + b; out = Σ_ℓ [r = ℓ] block_ℓ
    C = Circuit(g2.d_out)
    x = C.inputs()
    r = x[nb + 1] - x[nb] + x[nb + 2]
    hid = []
    for ell in range(1, Lmax + 1):
        hid += tb.eq_units(r, ell)
    m0 = len(hid)
    hid += [u for j in range(nb) for u in (x[j], -x[j])]
    h = C.layer(hid)
    hid2 = []
    for ell in range(1, Lmax + 1):
        off = 1.0 - tb.eq_of(h[3 * (ell - 1):3 * ell])
        for i in range(k):
            j = m0 + 2 * ((ell - 1) * k + i)
            hid2 += tb.gated_pair(h[j] - h[j + 1], off)
    h2 = C.layer(hid2)
    f2 = C.net([Fn({2 * ((ell - 1) * k + i): 1.0 for ell in range(1, Lmax + 1)}
                   | {2 * ((ell - 1) * k + i) + 1: -1.0 for ell in range(1, Lmax + 1)}) for i in range(k)])

    model = SSMModel(Embedding(E), [(g1, f1), (g2, f2)], tb.code_decoding(E), pre=pre)
    params = {"V": V, "Lmax": Lmax, "N": N, "copy": copy, "ignore": ignore, "delta": float(delta),
              "code_seed": int(code_seed), "route": route, "k": k}
    formula = rank_formula(V, Lmax, N, k, len(copy), len(ignore), float(delta))
    notes = {"code": vc, "memory": "rank-indexed: Lmax·k running-sum channels (grows with the length; "
                                   "float64-safe baseline)"}
    return Construction(model, formula, params, notes)


def rank_formula(V: int, Lmax: int, N: int, k: int, n_copy: int, n_ignore: int, delta: float) -> dict:
    """Exact counts of ``build_rank_memory`` (docs/tasks/constructions.md tallies them layer by layer)."""
    G = tb.gate_scale(delta)
    ns = n_copy + n_ignore
    nb = Lmax * k
    pre = {"L": 2, "W": 2 * k + ns, "S": 2 * k + ns * (k + 1) + 2 * k + 1 + ns + n_copy, "B": float(G)}
    f1 = {"L": 3, "W": max(2 * k + 3 * Lmax + 3, 2 * nb + 3), "S": 2 * k + 6 * Lmax + 16 * nb + 9,
          "B": float(max(Lmax + 1, 2))}
    f2 = {"L": 3, "W": 3 * Lmax + 2 * nb, "S": 16 * nb + 12 * Lmax - 1, "B": float(Lmax + 1)}
    ssm1 = (k + 3) + k + 1 + 4 + 4
    ssm2 = 4 * (nb + 1) + 2
    fnn = [pre, f1, f2]
    return {"M": 2, "U": N, "D": nb + 3, "d_in": V, "k": k,
            "L": 3, "W": max(f["W"] for f in fnn), "S": max(f["S"] for f in fnn), "B": max(f["B"] for f in fnn),
            "fnn": fnn, "ssm_nnz": [ssm1, ssm2], "state_sizes_total": [2, nb + 1],
            "total_nonzeros": 2 * k * V + sum(f["S"] for f in fnn) + ssm1 + ssm2,
            "paper_growth": "poly-log parameters in L and 1/ε (the paper's route; not this baseline)",
            "growth_of_this_construction": "D = Lmax·k + 3, k = O(log|V|) (a power of 4); S = O(Lmax·k)"}
