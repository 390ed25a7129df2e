"""Theorems 3.1 (copying) and D.2 (selective copying) by the paper's route: H.1 codes on token CLASSES, delay
channels, exact 0/1 gates for the ⟨BOS⟩/⟨COPY⟩ cut (and, for D.2, for skipping ⟨PAD⟩), and the Lemma 3.3 selection
with the per-slot Gram kernel of ``lemmas.ngram_attention`` (issue 17, item 1; docs/tasks/paper-route-copying.md).

Token classes.  The data tokens are one class each; the cut tokens (⟨BOS⟩, ⟨COPY⟩) form ONE class c (one code
column, one indicator: ``merge_cut=False`` gives each its own class, only to build a broken network); ⟨PAD⟩ (D.2)
is a class that never enters a key; ∅ is the symbol of a slot behind a cut.  The H.1 code (``task_blocks.task_code``,
k = 4^j) is drawn for these m symbols; the embedding maps a token to its class's column, so ⟨BOS⟩ and ⟨COPY⟩ share
one code (the spec's convention) without a repeated column in the code.

Slots.  Key at position j: slots r = 1..n hold the symbols of the n tokens before j (copy: x_{j-1}..x_{j-n}; D.2:
the n nearest NON-PAD tokens before j, found within the w positions j-1..j-w by rank counting), and every slot
behind the nearest cut-class slot holds ∅.  Query at t: slots r = 0..n-1 likewise from x_t backwards (D.2: its
n nearest non-PAD tokens within t..t-w+1).  A key at j matches the query at t iff all n slots agree; the value at
j is x_j.  D.2 keys exist only at non-PAD positions.

Statement built (both tasks; prompts start with a cut token; sequence length <= N).  Let the query at t match the
key of at least one earlier-or-equal position j, and let all matching positions carry the same value y.  Then
argmax of the decoding at t is y.  Copying ⟨BOS⟩ x_1..x_L ⟨COPY⟩ x_1..x_{r-1}: the query (x_{r-1}..x_{r-n}, cut at
⟨COPY⟩) matches the key at x_r's first occurrence; a second match with a different value needs an n-gram of
⟨c⟩ x_1..x_L that occurs twice with different successors.  So the copy fails only on strings with a repeated
n-gram (a window starting at ⟨c⟩ cannot repeat inside x): P(fail) <= P(repeated n-gram in x) <= C(L-n+1, 2)|V|^-n
< L²|V|^-n (Jelassi Thm 2.3).  Selective copying ⟨BOS⟩ z_1..z_T ⟨COPY⟩ y_1..y_{m-1} (y the data tokens of z): with w
the slot window, the network is right on every row where (H1) at every non-PAD position the n nearest non-PAD
tokens before it lie within w positions (``window_ok``; ⟨BOS⟩ counts, so the ⟨PAD⟩ run before y_1 must be shorter
than w), and (H2) the data string y has no repeated n-gram.  So P(fail) <= P(not H1) + P(not
H2), P(not H2) <= C(m-n+1, 2)|V|^-n; with the default w = min(n (T - m + 1), N - 1) H1 always holds.
Where this departs from the paper's D.2: the paper counts n-grams over non-PAD tokens as MULTISETS within windows
of positions and union-bounds two windows sharing n common non-PAD elements; we use the ORDERED n nearest non-PAD
tokens (exact with gates: ranks by counting ⟨PAD⟩s), whose failure event (a repeated n-gram of y) is contained
in the paper's (a shared multiset), so the paper's bound holds for it too.

Network (SSMModel: Emb, [(g_1, f_1), (g_2, f_2)], Dec; no FNN before g_1).
  Emb: the class code (D = k).  g_1: delays 0..w of the code ((w + 1) k channels; copy: w = n).
  f_1 (exact gates on 0/1 values).  L1: u_{d,a} = 1{x_{t-d} ∈ class a} (two ReLUs on ⟨c(a), slot d⟩, θ, α of
       ``ngram_attention.gate_params``), value bits β (slot 0).  D.2 only: L2 PAD counts P_d = Σ_{d'<d} u_{d',PAD}
       and the equality units of [P_d = d - r] (the token at d is the r-th nearest non-PAD); L3 R_{d,r,a} =
       ρ(u_{d,a} + [P_d = d - r] - 1); slot_{r,a} = Σ_d R_{d,r,a}.  Copy: slot_{r,a} = u_{r,a}.  Mask layer:
       s_{r,a} = ρ(slot_{r,a} - g_r), s_{r,∅} = ρ(g_r) - ρ(g_r - 1), g_r = Σ_{r'<r} slot_{r',c} (a cut in a nearer
       slot).  Last layer: key one-hot I_a = ρ(Σ_r s_{r,a_r} [+ np_t] - (n - 1) [- 1]) over the valid patterns a
       (data^i c ∅^{n-i-1}, or data^n; np_t = 1 - u_{0,PAD} in D.2), J_{a,c} (AND with β_c), query indicators q.
  g_2: running sums (window N) of I, J; identity channels for q.
  f_2: n exact contraction stages with the per-slot kernel K_1 = e^{λ(G - 1)} on the symbol code (as in
       ``ngram_attention``), the ratio-form F.4 net, 2φ - 1.  Dec: W_Dec = E_tokᵀ/√k (``task_blocks.code_decoding``:
       entries ±1/k, row ℓ1 norm 1).
Selection budget as in ``ngram_attention``: at most N - 2 non-matching keys, λ = ln(2(N - 2)/η)/(1 - δ_c), ratio net
error η/2, argmax right for η < (1 - δ_c)/4.  Float64: every gate is exact (dyadic codes, integer counts); the
kernel weights are not dyadic, so the P-bit enclosure (``verify.certify.lemma_ngram_attention.certify_rows``)
decides soundness.
"""

from __future__ import annotations

import math
from itertools import product as iproduct

import numpy as np

from constructions.circuit import Circuit, Fn
from constructions.model import Embedding, SSMModel
from constructions.ssm import SSMLayer, delay, running_sum

from . import task_blocks as tb
from .base import Construction
from .ngram_attention import gate_params, lam_for, selection_readout

MAX_PATTERNS = 20_000
EMPTY = "∅"


# ------------------------------------------------------------------------------------------- symbols
def classes(V: int, cut, pad=None, merge_cut: bool = True) -> dict:
    """Token -> symbol map: data tokens 0..A-1 (in id order), the cut class(es), PAD, ∅ (last)."""
    cut = sorted({int(c) for c in cut})
    if not cut:
        raise ValueError("need at least one cut token (⟨BOS⟩/⟨COPY⟩)")
    if any(not 0 <= t < V for t in cut) or (pad is not None and not 0 <= int(pad) < V):
        raise ValueError(f"cut {cut} and pad {pad} must be token ids in [0, {V})")
    if pad is not None and int(pad) in cut:
        raise ValueError("pad must not be a cut token")
    data = [t for t in range(V) if t not in cut and t != pad]
    if len(data) < 1:
        raise ValueError("no data tokens")
    sym = np.empty(V, np.int64)
    for i, t in enumerate(data):
        sym[t] = i
    A = len(data)
    Cc = 1 if merge_cut else len(cut)
    for j, t in enumerate(cut):
        sym[t] = A + (0 if merge_cut else j)
    cut_syms = list(range(A, A + Cc))
    pad_sym = None
    if pad is not None:
        pad_sym = A + Cc
        sym[int(pad)] = pad_sym
    empty = A + Cc + (pad is not None)
    return {"sym": sym, "A": A, "Cc": Cc, "cut_syms": cut_syms, "pad_sym": pad_sym, "empty": empty,
            "m": empty + 1, "data": data, "cut": cut, "pad": pad}


def patterns(A: int, Cc: int, n: int, empty: int) -> list[tuple[int, ...]]:
    """The valid key patterns (slot 1 first): data^n, and data^i c ∅^{n-i-1} for every cut class c (i < n)."""
    out = list(iproduct(range(A), repeat=n))
    for i in range(n):
        for head in iproduct(range(A), repeat=i):
            for c in range(A, A + Cc):
                out.append(head + (c,) + (empty,) * (n - i - 1))
    return out


def pattern_count(A: int, Cc: int, n: int) -> int:
    """|patterns| = A^n + Cc Σ_{i<n} A^i."""
    return A ** n + Cc * sum(A ** i for i in range(n))


def suffix_count(A: int, Cc: int, n: int, ell: int) -> int:
    """Number of distinct length-ell suffixes of the valid patterns (ell = n: the patterns; ell = 0: 1)."""
    if ell == 0:
        return 1
    if ell == n:
        return pattern_count(A, Cc, n)
    return A ** ell + Cc * sum(A ** i for i in range(ell)) + 1  # data^ell, data^i c ∅.., ∅^ell


def window_ok(tokens, n: int, w: int, pad: int, cut=()) -> bool:
    """D.2's slot hypothesis on one sequence: at every non-PAD position t (a key; the scored queries are non-PAD
    too), the slots that are not ∅ — the n nearest non-PAD tokens before t, stopping at the nearest cut token
    (included), or back to the first token — lie within t-w..t-1, and those up to t within t-w+1..t.  PAD
    positions carry no key (gated by np_t) and are never scored."""
    x = np.asarray(tokens)
    npos = np.flatnonzero(x != pad)
    is_cut = np.isin(x[npos], list(cut))

    def far(hi: int) -> int:  # the farthest needed slot among npos[..hi] (inclusive), walking back
        lo = max(0, hi - n + 1)
        c = np.flatnonzero(is_cut[lo:hi + 1])
        return npos[lo + c[-1]] if c.size else npos[lo]

    for i, t in enumerate(npos):
        if i and t - far(i - 1) > w:
            return False
        if t - far(i) > w - 1:
            return False
    return True


def symbol_kernel(E: np.ndarray, lam: float) -> np.ndarray:
    """K_1[a, b] = e^{λ(⟨c(a), c(b)⟩ - 1)} on the symbol code (E (k, m), entries ±1/√k; the Gram is computed on
    the integer signs, so the diagonal is e^0 = 1 exactly)."""
    k = E.shape[0]
    S = np.rint(E * math.sqrt(k))
    G = S.T @ S
    return np.exp(lam * (G / k - 1.0))


# ------------------------------------------------------------------------------------------- builder
def build_paper_copy_net(V: int, n: int, N: int, cut, pad=None, w: int | None = None, delta: float = 0.5,
                         eta: float = 0.05, code_seed: int = 0, *, merge_cut: bool = True,
                         lam: float | None = None, code=None) -> Construction:
    """The network of the module docstring.  ``cut``: the ⟨BOS⟩/⟨COPY⟩ token ids; ``pad``: ⟨PAD⟩'s id (D.2) or
    None (copying, w = n); ``w``: D.2's slot window; ``eta``: the selection + ratio accuracy (< (1 - δ_c)/4);
    ``merge_cut``/``lam``/``code`` only to build broken networks (mutation tests)."""
    V, n, N = int(V), int(n), int(N)
    if V < 3 or n < 1 or N < n + 2:
        raise ValueError(f"need V >= 3, n >= 1, N >= n + 2; got V={V}, n={n}, N={N}")
    eta = float(eta)
    if not (math.isfinite(eta) and eta > 0):
        raise ValueError(f"eta must be positive, got {eta}")
    cl = classes(V, cut, pad, merge_cut)
    sel_mode = pad is not None
    w = n if not sel_mode else int(w if w is not None else n)
    if w < n:
        raise ValueError(f"the slot window w = {w} must be >= n = {n}")
    A, Cc, empty, m = cl["A"], cl["Cc"], cl["empty"], cl["m"]
    pats = patterns(A, Cc, n, empty)
    if len(pats) > MAX_PATTERNS:
        raise ValueError(f"{len(pats)} key patterns exceed {MAX_PATTERNS}")
    vc, Esym = tb.code_for(m, delta, code_seed, code)
    k = Esym.shape[0]
    S = np.rint(Esym * math.sqrt(k))
    dc = float(np.max(np.abs((S.T @ S) - k * np.eye(m)))) / k
    if not dc < 1.0:
        raise ValueError(f"the symbol code has a repeated column (margin δ_c = {dc})")
    if not eta < (1.0 - dc) / 4.0:
        raise ValueError(f"eta = {eta} must be below (1 - δ_c)/4 = {(1.0 - dc) / 4.0:.4g} for the argmax")
    lam_ = lam_for(N, eta, dc) if lam is None else float(lam)
    K1 = symbol_kernel(Esym, lam_)
    off = K1 - np.diag(np.diag(K1))
    kappa = float(off.max())
    sel = max(N - 2, 0) * kappa
    theta, alpha, Mb = gate_params(dc, k)
    tok_syms = list(range(A + Cc)) + ([cl["pad_sym"]] if sel_mode else [])  # gated in L1
    nonpad = list(range(A + Cc))
    cuts = cl["cut_syms"]
    Z = 2.0 * N

    # ---- g_1: delays 0..w of the code
    chans, Win = [], np.zeros(((w + 1) * k, k))
    for d in range(w + 1):
        for i in range(k):
            chans.append(delay(d))
            Win[d * k + i, i] = 1.0
    g1 = SSMLayer(tuple(chans), U=w + 1, W_in=Win)

    # ---- f_1, L1: class gates u_{d,a}, value bits β
    c1 = Circuit((w + 1) * k)
    units = []
    for d in range(w + 1):
        for a in tok_syms:
            t = Fn({d * k + i: alpha * Esym[i, a] for i in range(k)})
            units += [t - alpha * theta, t - (alpha * theta + 1.0)]
    for i in range(k):
        units += [Fn({i: Mb}, 0.5), Fn({i: Mb}, -0.5)]
    h = c1.layer(units)
    gi = {(d, a): j for j, (d, a) in enumerate((d, a) for d in range(w + 1) for a in tok_syms)}
    u = {key: h[2 * j] - h[2 * j + 1] for key, j in gi.items()}
    nb = 2 * len(gi)
    beta = [h[nb + 2 * i] - h[nb + 2 * i + 1] for i in range(k)]
    extra = list(beta)  # carried 0/1 values (β, then np_t in D.2)
    if not sel_mode:
        slotK = {(r, a): u[r, a] for r in range(1, n + 1) for a in nonpad}
        slotQ = {(r, a): u[r, a] for r in range(n) for a in nonpad}
    else:
        ps = cl["pad_sym"]
        extra.append(1.0 - u[0, ps])  # np_t
        # L2: pass u (non-PAD), rank equality units, carried values
        lay, pos = [], {}
        for d in range(w + 1):
            for a in nonpad:
                pos["u", d, a] = len(lay)
                lay.append(u[d, a])
        ranks = [("K", d, r) for d in range(1, w + 1) for r in range(1, min(n, d) + 1)]
        ranks += [("Q", d, r) for d in range(w) for r in range(min(n - 1, d) + 1)]
        for kind, d, r in ranks:
            # key rank r (1-based) at d: the non-PADs at 1..d-1 number r - 1, so the PADs there d - r;
            # query rank r (0-based) at d: the non-PADs at 0..d-1 number r, the PADs d - r
            lo, x = (1 if kind == "K" else 0), d - r
            if d == lo:
                continue  # no nearer positions: the rank is the first one, [P = 0] = 1
            Pd = Fn()
            for dd in range(lo, d):
                Pd = Pd + u[dd, ps]
            pos[kind, d, r] = len(lay)
            lay += tb.eq_units(Pd, x)
        pos["extra"] = len(lay)
        lay += extra
        h2 = c1.layer(lay)
        # L3: R_{d,r,a}
        lay3, pos3 = [], {}
        for kind, d, r in ranks:
            for a in nonpad:
                pos3[kind, d, r, a] = len(lay3)
                if (kind, d, r) in pos:
                    e = tb.eq_of(h2[pos[kind, d, r]:pos[kind, d, r] + 3])
                    lay3.append(h2[pos["u", d, a]] + e - 1.0)
                else:
                    lay3.append(h2[pos["u", d, a]])
        e0 = len(lay3)
        lay3 += [h2[pos["extra"] + i] for i in range(len(extra))]
        h3 = c1.layer(lay3)
        slotK = {(r, a): sum((h3[pos3["K", d, r, a]] for d in range(max(r, 1), w + 1)), Fn())
                 for r in range(1, n + 1) for a in nonpad}
        slotQ = {(r, a): sum((h3[pos3["Q", d, r, a]] for d in range(r, w)), Fn())
                 for r in range(n) for a in nonpad}
        extra = [h3[e0 + i] for i in range(len(extra))]
    # mask layer
    lay, mp = [], {}
    for kind, slots, rs in (("K", slotK, range(1, n + 1)), ("Q", slotQ, range(n))):
        first = rs[0]
        for r in rs:
            g = Fn()
            for rr in range(first, r):
                for c in cuts:
                    g = g + slots[rr, c]
            for a in nonpad:
                mp[kind, r, a] = len(lay)
                lay.append(slots[r, a] - g)
            if r > first:
                mp[kind, r, "e"] = len(lay)
                lay += [g, g - 1.0]
    me = len(lay)
    lay += extra
    hm = c1.layer(lay)

    def s(kind, r, a):
        if a == empty:
            j = mp[kind, r, "e"]
            return hm[j] - hm[j + 1]
        return hm[mp[kind, r, a]]

    beta_m = [hm[me + i] for i in range(k)]
    npt = hm[me + k] if sel_mode else None
    off_I = (n - 1) + (1 if sel_mode else 0)
    last = []
    for a in pats:
        f = sum((s("K", r, a[r - 1]) for r in range(1, n + 1)), Fn())
        last.append((f + npt if sel_mode else f) - off_I)
    for a in pats:
        f = sum((s("K", r, a[r - 1]) for r in range(1, n + 1)), Fn())
        f = f + npt if sel_mode else f
        last += [f + beta_m[i] - (off_I + 1) for i in range(k)]
    qsyms = {r: nonpad + ([empty] if r > 0 else []) for r in range(n)}
    for r in range(n):
        last += [s("Q", r, b) for b in qsyms[r]]
    hl = c1.layer(last)
    f1 = c1.net(hl)

    # ---- g_2
    NP = len(pats)
    n_rs = NP * (1 + k)
    nq = sum(len(qsyms[r]) for r in range(n))
    g2 = SSMLayer(tuple([running_sum()] * n_rs + [delay(0)] * nq), U=N)

    # ---- f_2: contraction stages over the pattern suffixes, ratio nets, 2φ - 1
    c2 = Circuit(n_rs + nq)
    x = c2.inputs()
    pidx = {a: i for i, a in enumerate(pats)}
    T = [{a: x[pidx[a]] for a in pats}] + [{a: x[NP + pidx[a] * k + i] for a in pats} for i in range(k)]
    qi, off_q = {}, n_rs
    for r in range(n):
        for b in qsyms[r]:
            qi[r, b] = x[off_q]
            off_q += 1
    q = qi
    for st in range(1, n + 1):
        prev = list(T[0].keys())
        rests = sorted({a[1:] for a in prev})
        pre = {}
        for a in prev:
            pre.setdefault(a[1:], []).append(a[0])
        lay, keys = [], []
        for ch in range(1 + k):
            for b in qsyms[st - 1]:
                for rest in rests:
                    wd: dict = {}
                    for a_s in pre[rest]:
                        kab = float(K1[a_s, b])
                        for j, v in T[ch][(a_s,) + rest].w.items():
                            wd[j] = wd.get(j, 0.0) + v * kab
                    for j, v in q[st - 1, b].w.items():
                        wd[j] = wd.get(j, 0.0) + v * Z
                    lay.append(Fn(wd, -Z))
                    keys.append((ch, rest))
        carry = [(r, b) for r in range(st, n) for b in qsyms[r]]
        lay += [q[rb] for rb in carry]
        out = c2.layer(lay)
        acc: list[dict] = [{} for _ in range(1 + k)]
        for i, (ch, rest) in enumerate(keys):
            acc[ch].setdefault(rest, {})[i] = 1.0
        T = [{r: Fn(wd) for r, wd in a.items()} for a in acc]
        q = {rb: out[len(keys) + i] for i, rb in enumerate(carry)}
    f2, qb, P2 = selection_readout(c2, T, k, sel, eta / 2.0)

    Etok = Esym[:, cl["sym"]]
    model = SSMModel(Embedding(Etok.copy()), [(g1, f1), (g2, f2)], tb.code_decoding(Etok))
    formula = paper_copy_formula(V, n, N, w, k, A, Cc, sel_mode, K1, qb, (theta, alpha, Mb))
    notes = {"k": k, "delta_c": dc, "lam": lam_, "kappa": kappa, "selection_bound": sel,
             "ratio_error_bound": qb.notes["error_bound"], "error_bound": sel + qb.notes["error_bound"],
             "guarantee": bool(sel <= eta / 2.0 * (1 + 1e-9) and qb.notes["error_bound"] <= eta / 2.0),
             "theta": theta, "alpha": alpha, "M_bits": Mb, "Z": Z, "classes": cl, "code": vc,
             "patterns": NP, "w": w,
             "state_capacity_bits": formula["state_total"] * math.log2(N + 1),
             "bits_needed": "measured by the claims (thm-3.1/thm-D.2, route=paper, paper_bits=1): 4 to 6 "
                            "fractional bits at the sizes of docs/tasks/paper-route-copying.md",
             "claimed": "paper: poly-log parameters (Theorems 3.1, D.2); here (A^n + Σ_{i<n} A^i)(1 + k) running "
                        "sums: exponential in n = ⌈log_A(L²/ε)⌉, i.e. polynomial (≈ L²/ε) in L and 1/ε"}
    params = {"V": V, "n": n, "N": N, "cut": cl["cut"], "pad": pad, "w": w, "delta": float(delta), "eta": eta,
              "code_seed": int(code_seed), "merge_cut": bool(merge_cut), "lam": lam_, "k": k}
    return Construction(model, formula, params, notes)


def build_copy_paper(alphabet: int, L: int, n: int, delta: float = 0.5, eta: float = 0.05, code_seed: int = 0,
                     **kw) -> Construction:
    """Theorem 3.1's network for ``verify.tasks.generate.copying`` rows: tokens 0..A-1 data, A = ⟨BOS⟩,
    A + 1 = ⟨COPY⟩, sequences ⟨BOS⟩ x_1..x_L ⟨COPY⟩ x_1..x_L (N = 2L + 2)."""
    A = int(alphabet)
    con = build_paper_copy_net(A + 2, n, 2 * int(L) + 2, (A, A + 1), None, None, delta, eta, code_seed, **kw)
    con.notes["info_lower_bound_bits"] = int(L) * math.log2(A)  # L uniform tokens (spec 04's constraint)
    return con


def build_selective_copy_paper(alphabet: int, T: int, m: int, n: int, w: int | None = None, delta: float = 0.5,
                               eta: float = 0.05, code_seed: int = 0, **kw) -> Construction:
    """Theorem D.2's network for ``verify.tasks.generate.selective_copying`` rows: data 0..A-1, ⟨PAD⟩ = A,
    ⟨BOS⟩ = A + 1, ⟨COPY⟩ = A + 2, sequences ⟨BOS⟩ z_1..z_T ⟨COPY⟩ y_1..y_m (N = T + m + 2); w (default
    min(n (T - m + 1), N - 1)) the slot window: with it no PAD run can break the slots."""
    A, T, m = int(alphabet), int(T), int(m)
    w = min(n * (T - m + 1), T + m + 1) if w is None else int(w)
    con = build_paper_copy_net(A + 3, n, T + m + 2, (A + 1, A + 2), A, w, delta, eta, code_seed, **kw)
    con.notes["info_lower_bound_bits"] = m * math.log2(A)
    return con


# ------------------------------------------------------------------------------------------- counts
def paper_copy_formula(V, n, N, w, k, A, Cc, sel_mode, K1, qb: Construction, gates) -> dict:
    """The exact counts of ``build_paper_copy_net``'s model, per part (module docstring)."""
    theta, alpha, Mb = gates
    nonpad = A + Cc
    sig = nonpad + (1 if sel_mode else 0)  # gated symbols
    NP = pattern_count(A, Cc, n)
    ne = k + (1 if sel_mode else 0)  # carried values
    Sf, widths = 0, [(w + 1) * k]
    # L1: gate pairs (k weights + nonzero bias), β pairs (1 weight + bias)
    Sf += 2 * (w + 1) * sig * (k + 1) + 4 * k
    widths.append(2 * (w + 1) * sig + 2 * k)
    if not sel_mode:
        nzK = {r: 2 for r in range(1, n + 1)}  # nnz of slot_{r,a}: u = h0 - h1
        nzQ = {r: 2 for r in range(n)}
    else:
        # L2: u pass (2), eq units (2 per PAD term, biases -(x-1), -x, -(x+1)), extra: β (2), np_t (2 + bias 1)
        ranksK = [(d, r) for d in range(1, w + 1) for r in range(1, min(n, d) + 1)]
        ranksQ = [(d, r) for d in range(w) for r in range(min(n - 1, d) + 1)]
        S2 = (w + 1) * nonpad * 2 + 2 * k + 3
        n_eq = 0
        for lo, rk in ((1, ranksK), (0, ranksQ)):
            for d, r in rk:
                if d == lo:
                    continue
                x = d - r
                n_eq += 1
                S2 += 3 * 2 * (d - lo) + (x - 1 != 0) + (x != 0) + 1
        Sf += S2
        widths.append((w + 1) * nonpad + 3 * n_eq + ne)
        # L3: R units (u + 3 eq weights + bias -1, or u alone), carried (1)
        n_r = len(ranksK) + len(ranksQ)
        Sf += nonpad * (5 * n_eq + 1 * (n_r - n_eq)) + ne
        widths.append(nonpad * n_r + ne)
        nzK = {r: w - r + 1 for r in range(1, n + 1)}
        nzQ = {r: w - r for r in range(n)}
    # mask layer: s_{r,a} (slot + earlier cut slots), ∅ pairs (earlier cut slots, bias 0 / -1), carried (1)
    Sm, wm = 0, 0
    for nz, rs in ((nzK, range(1, n + 1)), (nzQ, range(n))):
        first = rs[0]
        for r in rs:
            gnz = Cc * sum(nz[rr] for rr in range(first, r))
            Sm += nonpad * (nz[r] + gnz)
            wm += nonpad
            if r > first:
                Sm += 2 * gnz + 1
                wm += 2
    Sf += Sm + ne * (1 if sel_mode else 2)  # carried: one unit (D.2) or h0 - h1 of L1 (copy)
    widths.append(wm + ne)
    # last layer: I_a, J_{a,c}, q
    n_empty = sum(A ** i * Cc * (n - i - 1) for i in range(n))  # Σ over patterns of their ∅ slots
    slot_terms = NP * n + n_empty  # Σ_a Σ_r (1, or 2 for ∅)
    bI = (n - 1) + (1 if sel_mode else 0)
    SI = slot_terms + NP * ((1 if sel_mode else 0) + (bI != 0))
    SJ = k * (slot_terms + NP * ((1 if sel_mode else 0) + 2))
    nq = n * nonpad + (n - 1)
    Sq = n * nonpad + 2 * (n - 1)
    D2 = NP * (1 + k) + nq
    Sf += SI + SJ + Sq + D2  # + the identity output map
    widths.append(D2)
    widths.append(D2)
    f1 = {"L": len(widths) - 1, "W": max(widths[1:-1] + [widths[0], D2]), "S": Sf,
          "B": max(theta * alpha + 1.0, alpha / math.sqrt(k), Mb, float(bI + 1), float(w) if sel_mode else 1.0)}
    # f_2: contraction stages
    qsz = {r: nonpad + (1 if r > 0 else 0) for r in range(n)}
    S2, w2 = 0, [D2]
    for st in range(1, n + 1):
        Sprev = suffix_count(A, Cc, n, n - st + 1)
        Ss = suffix_count(A, Cc, n, n - st)
        fan = 1 if st == 1 else qsz[st - 2]
        S2 += (1 + k) * qsz[st - 1] * (Sprev * fan + 2 * Ss)
        carried = sum(qsz[r] for r in range(st, n))
        S2 += carried
        w2.append((1 + k) * qsz[st - 1] * Ss + carried)
    S2 += 2 * (k + 1) * qsz[n - 1]  # P2's read-out: k + 1 sums of |Q_{n-1}| units, doubled by concat
    qn = qb.net
    q_out = qn.layers[-1]
    S2 += k * (qb.formula["S"] + qn.layers[0].nnz_A)
    S2 += k * (1 if q_out.nnz_b == 0 else 0)
    w2 += [2 * (k + 1)] + [k * x for x in qn.widths[1:]]
    B2 = max([2 * N, 1.0, float(np.max(K1)), 2.0 * q_out.max_abs, qb.formula["B"]])
    f2 = {"L": n + 1 + qn.depth, "W": max(w2), "S": S2, "B": B2}
    g1_nnz = k * (1 + sum(d + 1 for d in range(1, w + 1))) + (w + 1) * k
    g2_nnz = 4 * NP * (1 + k) + nq
    state1 = k * w * (w + 1) // 2
    state2 = NP * (1 + k)
    return {"M": 2, "U": max(w + 1, N), "d_in": V, "fnn": [f1, f2], "state_sizes_total": [state1, state2],
            "f1": f1, "f2": f2, "L": max(f1["L"], f2["L"]), "W": max(f1["W"], f2["W"]), "S": max(Sf, S2),
            "B": max(f1["B"], B2), "D": max(k, D2), "k": k, "key_patterns": NP, "slot_window": w,
            "running_sum_channels": NP * (1 + k), "identity_channels": nq, "delay_channels": (w + 1) * k,
            "state_sizes": [state1, state2], "state_total": state1 + state2, "ssm_nnz": [g1_nnz, g2_nnz],
            "total_nonzeros": 2 * k * V + Sf + S2 + g1_nnz + g2_nnz,
            "paper_growth": "poly-log in L and 1/ε (the paper's claim)",
            "growth_of_this_construction": "key patterns A^n + Σ_{i<n} A^i with n = ⌈log_A(L²/ε)⌉: ≈ L²/ε·A "
                                           "running sums times (1 + k), k = O(log A)"}
