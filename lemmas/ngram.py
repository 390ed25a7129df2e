"""Lemma H.3 (n-gram lookup), and through it Theorems 3.2 (associative recall) and D.1 (induction heads), as a
float64-exact two-layer SSM network: the position-indexed lookup memory (docs/tasks/constructions.md).

Statement built (H.3, first-match form).  For tokens x_0..x_t (t < N) let the window at position i be the n
tokens x_{i-n+1..i}, cut at the most recent token of ``cut`` (slots older than it hold the symbol ∅; the cut
tokens share one code: the spec's ⟨BOS⟩/⟨COPY⟩ convention).  If the window at t occurs as the window at an
earlier position i <= t - 1, the network's output at t decodes to x_{i+1} for the FIRST such i.  Under H.3's
hypothesis (unique earlier occurrence, or every occurrence followed by one token) that is the lemma's answer;
D.1 is n = 1 (the last token occurs once before); 3.2 is n = 1 on k_1 v_1 .. k_N v_N q (distinct keys).

Network (route "exact").  Emb: Lemma H.1's code, k = 4^j, δ = 1 - 2^-r (``task_blocks``).
  pre:  c_t, the constant 1, cut gate γ_t = [x_t ∈ cut].
  SSM1: delays 0..n of c (the query slots 0..n-1 and the key slots 1..n), a running sum P_t = t + 1 of the
        constant, delays 0..n-1 of γ.
  FNN1: block p (p = 2..N) is written at P_t = p: key slots K_{p,r} = c(x_{t-r}) (r = 1..n, ∅'s code where a
        cut is more recent), value c(x_t); everything else 0 (exact gated products); the masked query slots.
  SSM2: running sums of the N blocks (each written once, so they hold that block exactly); query slots kept.
  FNN2: score_p = Σ_r ⟨q_{r-1}, K_{p,r}⟩ with each coordinate product exact (a, b ∈ {±s, 0});
        match_p = 2^r ρ(score_p - (n - 1 + δ)) ∈ {0, 1} (score n on a match, <= n - 1 + δ otherwise: H.1's
        margin); first_p = ρ(match_p - Σ_{q<p} match_q); out = Σ_p first_p · value_p.
  Dec:  W_Dec = Eᵀ/√k.
The memory grows with N ((N-1)(n+1)k channels; block 1 would hold a key before the sequence, never read): this is
the float64-safe baseline, not the paper's poly-log route (``lemmas/ngram_attention.py`` builds that; the claims run
both with ``route=both``); every intermediate is a dyadic rational with O(log N + log k) bits.
"""

from __future__ import annotations

import numpy as np

from constructions.circuit import Circuit, Fn
from constructions.model import Embedding, SSMModel
from constructions.ssm import SSMLayer, delay, running_sum

from . import task_blocks as tb
from .base import Construction


def _lin(terms: dict, b: float = 0.0) -> Fn:
    return Fn(terms, b)


def symbols(V: int, cut=()) -> tuple[np.ndarray, int, int | None, int | None]:
    """Token -> symbol map (cut tokens merged into one symbol), number of symbols, cut symbol, ∅ symbol."""
    cut = sorted({int(c) for c in cut})
    if any(not 0 <= c < V for c in cut):
        raise ValueError(f"cut tokens must lie in [0, {V}), got {cut}")
    sym = np.empty(V, np.int64)
    nxt = 0
    cut_sym = None
    for v in range(V):
        if v in cut:
            if cut_sym is None:
                cut_sym = nxt
                nxt += 1
            sym[v] = cut_sym
        else:
            sym[v] = nxt
            nxt += 1
    empty = None
    if cut:
        empty = nxt
        nxt += 1
    return sym, nxt, cut_sym, empty


def build_lookup(V: int, n: int, N: int, delta: float = 0.5, code_seed: int = 0, cut=(), route: str = "exact",
                 code=None, n_blocks: int | None = None) -> Construction:
    """The lookup network for vocabulary size V, window n, sequences of length <= N (see the module docstring).
    Blocks p = 2..N (block 1 would be written at t = 0, whose key lies before the sequence: never read);
    ``n_blocks`` (default N - 1) fewer only to build an undersized memory on purpose (mutation tests).
    ``code``: a (k, m) code matrix over the symbols to use instead of Lemma H.1's draw (mutation tests)."""
    tb.check_route(route)
    V, n, N = int(V), int(n), int(N)
    if V < 2 or n < 1 or N < 2:
        raise ValueError(f"need V >= 2, n >= 1, N >= 2; got V={V}, n={n}, N={N}")
    G = tb.gate_scale(delta)
    NB = N - 1 if n_blocks is None else int(n_blocks)
    if not 1 <= NB <= N - 1:
        raise ValueError(f"n_blocks must lie in [1, N - 1], got {NB}")
    blocks = range(2, NB + 2)
    sym, m, cut_sym, empty = symbols(V, cut)
    vc, E0 = tb.code_for(m, delta, code_seed, code)
    k = E0.shape[0]
    s = tb.code_step(k)
    has_cut = cut_sym is not None

    # ---- pre FNN: codes, constant 1, cut gate
    C = Circuit(k)
    x = C.inputs()
    hid = [u for i in range(k) for u in (x[i], -x[i])]
    if has_cut:
        hid.append(tb.identity_pre(x, E0[:, cut_sym], delta))
    h = C.layer(hid)
    out = [h[2 * i] - h[2 * i + 1] for i in range(k)] + [Fn(b=1.0)]
    if has_cut:
        out.append(h[2 * k] * G)
    pre = C.net(out)

    # ---- SSM1: delays 0..n of the code, P_t = t + 1, delays 0..n-1 of the cut gate
    d_pre = pre.d_out
    rows, chans = [], []
    for r in range(n + 1):
        for i in range(k):
            rows.append(i)
            chans.append(delay(r))
    rows.append(k)
    chans.append(running_sum())
    if has_cut:
        for r in range(n):
            rows.append(k + 1)
            chans.append(delay(r))
    W_in = np.zeros((len(rows), d_pre))
    W_in[np.arange(len(rows)), rows] = 1.0
    g1 = SSMLayer(tuple(chans), U=N, W_in=W_in)

    # ---- FNN1
    C = Circuit(g1.d_out)
    x = C.inputs()
    D = lambda r, i: x[r * k + i]
    P = x[(n + 1) * k]
    hid = []
    idx_code = {}
    for r in range(n + 1):
        for i in range(k):
            idx_code[r, i] = len(hid)
            hid += [D(r, i), -D(r, i)]
    idx_eq = {}
    for p in blocks:
        idx_eq[p] = len(hid)
        hid += tb.eq_units(P, p)
    # mask sums: query slot r (r = 1..n-1): cuts at delays 0..r-1; key slot r (r = 2..n): cuts at delays 1..r-1
    idx_mask = {}
    if has_cut:
        for kind, lo, rng_ in (("q", 0, range(1, n)), ("k", 1, range(2, n + 1))):
            for r in rng_:
                mu = _lin({(n + 1) * k + 1 + sd: 1.0 for sd in range(lo, r)})
                idx_mask[kind, r] = len(hid)
                hid += [mu, mu - 1.0]
    h = C.layer(hid)
    code_v = lambda r, i: h[idx_code[r, i]] - h[idx_code[r, i] + 1]
    eq = {p: tb.eq_of(h[idx_eq[p]:idx_eq[p] + 3]) for p in idx_eq}
    mu = {key: h[j] for key, j in idx_mask.items()}
    mu_min1 = {key: h[j] - h[j + 1] for key, j in idx_mask.items()}
    hid2 = []
    key_pairs, key_empty, val_pairs, q_pairs, q_empty = {}, {}, {}, {}, {}
    for p in blocks:
        off_p = 1.0 - eq[p]
        for r in range(1, n + 1):
            off = off_p + mu["k", r] if ("k", r) in mu else off_p
            for i in range(k):
                key_pairs[p, r, i] = len(hid2)
                hid2 += tb.gated_pair(code_v(r, i), off)
            if ("k", r) in mu:
                key_empty[p, r] = len(hid2)
                hid2.append(eq[p] + mu_min1["k", r] - 1.0)
        for i in range(k):
            val_pairs[p, i] = len(hid2)
            hid2 += tb.gated_pair(code_v(0, i), off_p)
    for r in range(n):
        for i in range(k):
            q_pairs[r, i] = len(hid2)
            hid2 += tb.gated_pair(code_v(r, i), mu["q", r]) if ("q", r) in mu else [code_v(r, i), -code_v(r, i)]
        if ("q", r) in mu:
            q_empty[r] = len(hid2)
            hid2.append(mu_min1["q", r])
    h2 = C.layer(hid2)
    pair = lambda j: h2[j] - h2[j + 1]
    out = []
    for p in blocks:
        for r in range(1, n + 1):
            for i in range(k):
                f = pair(key_pairs[p, r, i])
                if (p, r) in key_empty:
                    f = f + h2[key_empty[p, r]] * float(E0[i, empty])
                out.append(f)
        for i in range(k):
            out.append(pair(val_pairs[p, i]))
    for r in range(n):
        for i in range(k):
            f = pair(q_pairs[r, i])
            if r in q_empty:
                f = f + h2[q_empty[r]] * float(E0[i, empty])
            out.append(f)
    f1 = C.net(out)

    # ---- SSM2: running sums of the blocks, identity on the query slots
    n_mem = NB * (n + 1) * k
    g2 = SSMLayer(tuple([running_sum()] * n_mem + [delay(0)] * (n * k)), U=N)

    # ---- FNN2
    C = Circuit(g2.d_out)
    x = C.inputs()
    blk = (n + 1) * k
    Kx = lambda p, r, i: x[(p - 2) * blk + (r - 1) * k + i]
    Vx = lambda p, i: x[(p - 2) * blk + n * k + i]
    Qx = lambda r, i: x[n_mem + r * k + i]
    hid, prod_idx, val_idx = [], {}, {}
    for p in blocks:
        prod_idx[p] = len(hid)
        for r in range(1, n + 1):
            for i in range(k):
                hid += tb.product_pair(Qx(r - 1, i), Kx(p, r, i))
        val_idx[p] = len(hid)
        for i in range(k):
            hid += [Vx(p, i), -Vx(p, i)]
    h = C.layer(hid)
    hid2 = []
    for p in blocks:
        j0 = prod_idx[p]
        hid2.append(_lin({j0 + t: s for t in range(2 * n * k)}, -(2 * n - 1 + float(delta))))
    vpass = len(hid2)
    for p in blocks:
        hid2 += [h[val_idx[p] + t] for t in range(2 * k)]
    h2 = C.layer(hid2)
    hid3 = [_lin({**{q: -float(G) for q in range(b)}, b: float(G)}) for b in range(NB)]
    hid3 += [h2[vpass + t] for t in range(2 * NB * k)]
    h3 = C.layer(hid3)
    hid4 = []
    for b in range(NB):
        off = 1.0 - h3[b]
        for i in range(k):
            j = NB + b * 2 * k + 2 * i
            hid4 += tb.gated_pair(h3[j] - h3[j + 1], off)
    C.layer(hid4)
    out = [_lin({2 * (b * k + i): 1.0 for b in range(NB)} | {2 * (b * k + i) + 1: -1.0 for b in range(NB)})
           for i in range(k)]
    f2 = C.net(out)

    E = E0[:, sym]
    model = SSMModel(Embedding(E), [(g1, f1), (g2, f2)], tb.code_decoding(E), pre=pre)
    params = {"V": V, "n": n, "N": N, "delta": float(delta), "code_seed": int(code_seed), "cut": sorted(cut),
              "route": route, "k": k, "n_blocks": NB}
    formula = lookup_formula(V, n, N, k, float(delta), has_cut, NB)
    notes = {"symbols": m, "cut_symbol": cut_sym, "empty_symbol": empty, "code": vc, "sym": sym,
             "memory": "position-indexed: N(n+1)k running-sum channels (grows with N; float64-safe baseline)"}
    return Construction(model, formula, params, notes)


def delay_nnz(r_max: int) -> int:
    """Nonzeros of delay channels 0..r_max: delay 0 is D = 1 alone, delay r a shift register with r + 1."""
    return 1 + sum(r + 1 for r in range(1, r_max + 1)) if r_max >= 0 else 0


def lookup_formula(V: int, n: int, N: int, k: int, delta: float, cut: bool, NB: int | None = None) -> dict:
    """Exact counts of ``build_lookup`` with NB = N - 1 blocks (docs/tasks/constructions.md tallies them layer by
    layer; below N stands for the number of blocks where it counts blocks, and B = N + 1 is the largest bias)."""
    G = tb.gate_scale(delta)
    c = int(bool(cut))
    U = N
    N = N - 1 if NB is None else NB
    D1 = (n + 1) * k + 1 + c * n
    n_mem = N * (n + 1) * k
    D2 = n_mem + n * k
    pre = {"L": 2, "W": 2 * k + c, "S": 4 * k + 1 + c * (k + 2), "B": float(G if c else 1)}
    u1 = 2 * (n + 1) * k + 3 * N + c * 4 * (n - 1)
    u2 = N * (2 * n * k + c * (n - 1) + 2 * k) + 2 * n * k + c * (n - 1)
    s1 = (2 * (n + 1) * k + 6 * N + c * 2 * (n * n - 1)
          + N * k * 12 * (n + 1) + c * N * (n - 1) * (2 * k + 6) + 4 * n * k + c * (n - 1) * (2 * k + 2)
          + N * (2 * n * k + c * (n - 1) * k + 2 * k) + 2 * n * k + c * (n - 1) * k)
    f1 = {"L": 3, "W": max(D1, u1, u2, D2), "S": s1, "B": float(N + 2)}
    f2 = {"L": 5, "W": max(D2, 2 * N * (n + 1) * k), "S": N * (6 * n * k + 16 * k + 1) + N * (N + 1) // 2,
          "B": float(max(2 * n - 1 + delta, G, 1))}
    ssm1 = D1 + k * delay_nnz(n) + 4 + c * delay_nnz(n - 1)
    ssm2 = 4 * n_mem + n * k
    fnn = [pre, f1, f2]
    return {"M": 2, "U": U, "D": D2, "d_in": V, "k": k,
            "L": max(f["L"] for f in fnn), "W": max(f["W"] for f in fnn), "S": max(f["S"] for f in fnn),
            "B": max(f["B"] for f in fnn), "fnn": fnn, "ssm_nnz": [ssm1, ssm2],
            "state_sizes_total": [k * n * (n + 1) // 2 + 1 + c * n * (n - 1) // 2, n_mem],
            "total_nonzeros": 2 * k * V + sum(f["S"] for f in fnn) + ssm1 + ssm2,
            "paper_growth": "poly-log in N, |V|, 1/ε (the paper's route; not this baseline)",
            "growth_of_this_construction": "D = (N-1)(n+1)k + nk, k = O(log|V|) (a power of 4); S = O(N n k + N²)"}
