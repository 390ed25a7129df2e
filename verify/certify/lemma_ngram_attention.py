"""P-bit evaluation of the paper's-route n-gram lookup (``lemmas.ngram_attention``; issue 17, item 2).

``certify_rows`` runs the sound fixed-point evaluator (``verify.certify.fixedpoint.model_fixed``) on each prompt
and certifies the argmax when the target logit's lower end exceeds every other logit's upper end: a statement
about exact arithmetic on the stored float64 weights at precision P.  ``bits_needed`` is a P at which every given prompt
is certified while at P - 1 one is not (bisection; certification was monotone in P in every run we made): the
precision the construction needs, measured.
``de_bruijn_prompts`` gives the longest prompts the hypothesis allows (every n-gram once, N = |V|^n + 2n - 1).
"""

from __future__ import annotations

import numpy as np

from verify.tasks.generate import ngram_ok

from .fixedpoint import FixedFNN, from_limbs, model_fixed, ssm_last_fixed


def last_logits_fixed(model, x, P: int, chunk: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) integer logit ends at scale 2^-P at the last token of one prompt x, streamed: Emb and g_1 (delays of
    one-hot code columns: copies, exact in float64, checked against the shifted code columns), then
    ``ssm_last_fixed`` (f_1 on token chunks, g_2 at the last token), f_2 and W_Dec on limbs.  Same soundness as
    ``model_fixed`` without its (N, D) limb arrays."""
    (g1, f1), (g2, f2) = model.blocks
    if any(ch.family != "delay" for ch in g1.channels):
        raise ValueError("the streamed path needs a first SSM layer of delays only")
    x = np.asarray(x, dtype=np.int64)
    C = model.embedding.E[:, x].T  # (N, k): the code columns, exactly
    Y = g1(C[None], method="exact")[0]
    ref = np.zeros_like(Y)
    for h, ch in enumerate(g1.channels):  # channel h copies input coordinate argmax W_in[h] delayed by ell
        src = int(np.flatnonzero(g1.W_in[h])[0])
        if ch.ell < len(x):
            ref[ch.ell:, h] = C[:len(x) - ch.ell, src] * g1.W_in[h, src]
    if not np.array_equal(Y, ref):
        raise ValueError("g_1's float64 output is not the exact shifted code (not a pure delay layer)")
    Z = ssm_last_fixed(FixedFNN.of(f1), g2, Y, P, chunk)
    Z = FixedFNN.of(f2)(Z, P)
    lo, hi = from_limbs(FixedFNN.linear(model.decoding.W_dec)(Z, P))
    return lo[:, 0], hi[:, 0]


def row_enclosures(model, prompts, P: int, streamed: bool = True) -> list[tuple[list[int], list[int]]]:
    """Per prompt, the integer logit ends (lo, hi) at scale 2^-P at the last token; ``streamed``:
    ``last_logits_fixed``, else ``model_fixed`` on the whole model."""
    out = []
    for x in prompts:
        x = np.asarray(x, dtype=np.int64)
        lo, hi = last_logits_fixed(model, x, P) if streamed else model_fixed(model, x, P)
        out.append(([int(v) for v in lo], [int(v) for v in hi]))
    return out


def certified_margin(lo, hi, t: int, P: int) -> float:
    """lo[t] - max_{w≠t} hi[w] in units of the logits (> 0: the enclosure puts t strictly on top)."""
    return (int(lo[t]) - max(int(h) for w, h in enumerate(hi) if w != t)) / 2.0 ** P


def enclosure_top(lo, hi) -> int | None:
    """The token the enclosure puts strictly on top (its lo above every other hi), None if it separates none."""
    t = max(range(len(lo)), key=lambda w: int(lo[w]))
    return t if certified_margin(lo, hi, t, 0) > 0 else None


def certify_rows(model, prompts, targets, P: int, streamed: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(certified per row, certified margin per row in units of the logits: lo[target] - max_{w≠target} hi[w]);
    ``streamed``: ``last_logits_fixed``, else ``model_fixed`` on the whole model."""
    margin = [certified_margin(lo, hi, int(t), P)
              for (lo, hi), t in zip(row_enclosures(model, prompts, P, streamed), targets)]
    return np.array([m > 0 for m in margin]), np.array(margin)


def bits_needed(model, prompts, targets, P_lo: int = 2, P_hi: int = 80) -> int | None:
    """A P in (P_lo, P_hi] at which every prompt is certified while at P - 1 some prompt is not (bisection between
    a failing P_lo and a certifying P_hi, both evaluated); P_lo if it already certifies, None if P_hi does not."""
    def ok(P):
        return bool(certify_rows(model, prompts, targets, P)[0].all())

    if ok(P_lo):
        return P_lo
    if not ok(P_hi):
        return None
    lo, hi = P_lo, P_hi  # ok(lo) is False, ok(hi) is True
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def de_bruijn(V: int, n: int) -> list[int]:
    """The lexicographically least de Bruijn sequence B(V, n) (cyclic, length V^n; every n-gram once)."""
    a = [0] * (V * n)
    seq: list[int] = []

    def db(t, p):
        if t > n:
            if n % p == 0:
                seq.extend(a[1:p + 1])
        else:
            a[t] = a[t - p]
            db(t + 1, p)
            for j in range(a[t - p] + 1, V):
                a[t] = j
                db(t + 1, t)

    db(1, 1)
    return seq


def de_bruijn_prompts(V: int, n: int, rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Prompts of length |V|^n + 2n - 1: a rotated de Bruijn sequence, linearised (every n-gram exactly once),
    then an earlier n-gram as the query (redrawn until Lemma H.3's hypothesis holds); (prompts, answers)."""
    rng = np.random.default_rng(seed)
    base = np.array(de_bruijn(V, n), dtype=np.int64)
    P, T = [], []
    while len(P) < rows:
        r = int(rng.integers(0, len(base)))
        s = np.roll(base, -r)
        s = np.concatenate([s, s[:n - 1]])
        i = int(rng.integers(n - 1, len(s) - 1))
        x = np.concatenate([s, s[i - n + 1:i + 1]])
        ok, ans = ngram_ok(x, n)
        if ok:
            P.append(x)
            T.append(ans)
    return np.array(P), np.array(T)
