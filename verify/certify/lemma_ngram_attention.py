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

from .fixedpoint import model_fixed


def certify_rows(model, prompts, targets, P: int) -> tuple[np.ndarray, np.ndarray]:
    """(certified per row, certified margin per row in units of the logits: lo[target] - max_{w≠target} hi[w])."""
    ok, margin = [], []
    for x, t in zip(prompts, targets):
        lo, hi = model_fixed(model, np.asarray(x, dtype=np.int64), P)
        lo_t = int(lo[t])
        hi_o = max(int(h) for w, h in enumerate(hi) if w != t)
        m = (lo_t - hi_o) / 2.0 ** P
        ok.append(m > 0)
        margin.append(m)
    return np.array(ok), np.array(margin)


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
