"""Reference semantics of the task theorems' hypotheses, per scored position (docs/tasks/external.md).

Independent of the networks: plain loops over the tokens.

* ``window``: the n tokens ending at t, cut at the most recent ``cut`` token (older slots are None; None for the
  whole window when it reaches before position 0 without a cut): the
  spec's ⟨BOS⟩/⟨COPY⟩ convention; the cut tokens count as one symbol.
* ``lookup_status``: Lemma H.3's hypothesis at t (the window at t occurs as the window at some i <= t - 1 and
  every such occurrence is followed by one token) and that token; D.1 is n = 1 without cuts.
* ``recall_status``: Theorem 3.2's hypothesis at a query position (the query occurred earlier as a key, every
  earlier occurrence followed by the same token) — the same test as n = 1.
* ``rank_status``: Theorems 3.1/D.2 (the rank memory's statement): at t after the first copy token, with r the
  read index, the r-th data token before the first copy token exists and r <= Lmax.
"""

from __future__ import annotations

import numpy as np


def window(x, t: int, n: int, cut=frozenset()):
    out = []
    cut_seen = False
    for r in range(n):
        j = t - r
        if cut_seen:
            out.append(None)
            continue
        if j < 0:
            return None  # before the sequence with no cut in between: zero slots, which match nothing
        v = int(x[j])
        if v in cut:
            out.append("CUT")
            cut_seen = True
        else:
            out.append(v)
    return tuple(out)


def lookup_status(x, t: int, n: int, cut=frozenset()) -> tuple[str, int]:
    """('ok', answer) when H.3's hypothesis holds at t; ('no_occurrence', -1) when the window never occurred
    before; ('ambiguous', -1) when earlier occurrences are followed by different tokens.  The answer is the
    token after the first occurrence (what the first-match network returns)."""
    q = window(x, t, n, cut)
    if q is None:
        return "no_occurrence", -1
    nxt = [int(x[i + 1]) for i in range(t) if window(x, i, n, cut) == q]
    if not nxt:
        return "no_occurrence", -1
    if any(v != nxt[0] for v in nxt):
        return "ambiguous", nxt[0]
    return "ok", nxt[0]


def statuses(tokens, scored, status_fn) -> tuple[dict, np.ndarray]:
    """Apply ``status_fn(row, t) -> (status, answer)`` at every scored position: counts per status and a mask
    (rows, N) of the positions inside the hypotheses."""
    tokens = np.asarray(tokens)
    inside = np.zeros(tokens.shape, bool)
    counts: dict = {}
    for r, t in zip(*np.nonzero(np.asarray(scored))):
        st, _ = status_fn(tokens[r], int(t))
        counts[st] = counts.get(st, 0) + 1
        inside[r, t] = st == "ok"
    return counts, inside


def rank_status(x, t: int, copy=frozenset(), ignore=frozenset(), Lmax: int | None = None, reset=frozenset(),
                eos: int | None = None) -> tuple[str, int]:
    """The rank memory's statement at t: ('ok', y_r) when t is at or after the first copy token and the r-th data
    token before it exists (r = data tokens up to t - data before the first copy + copy tokens up to t).

    Packed rows (``reset`` tokens, lemmas/copying_packed.py): the statement restarts after the last reset token
    at or before t (reset tokens are never data), and Lmax bounds the row's data tokens up to the end of the
    segment's first data run (A_s + W); with ``eos``: ('ok', eos) when the copy is complete (r = W + 1)."""
    x = [int(v) for v in x[:t + 1]]
    if reset or eos is not None:
        return _packed_status(x, copy, set(ignore) | set(reset), Lmax, reset, eos)
    first = next((j for j, v in enumerate(x) if v in copy), None)
    if first is None:
        return "before_copy", -1
    data = [v for v in x[:first] if v not in copy and v not in ignore]
    a = sum(1 for v in x if v not in copy and v not in ignore)
    b = sum(1 for v in x if v in copy)
    r = a - len(data) + b
    if Lmax is not None and len(data) > Lmax:
        return "too_long", -1
    if not 1 <= r <= len(data):
        return "no_such_token", -1
    return "ok", data[r - 1]


def _packed_status(x: list, copy, special, Lmax, reset, eos) -> tuple[str, int]:
    s = max((j for j, v in enumerate(x) if v in reset), default=-1)
    A_s = sum(1 for v in x[:s + 1] if v not in copy and v not in special)
    seg = x[s + 1:]
    first = next((j for j, v in enumerate(seg) if v in copy), None)
    if first is None:
        return "before_copy", -1
    data = [v for v in seg[:first] if v not in special]
    a = sum(1 for v in seg if v not in copy and v not in special)
    b = sum(1 for v in seg if v in copy)
    r = a - len(data) + b
    if Lmax is not None and A_s + len(data) > Lmax:
        return "too_long", -1
    if eos is not None and r == len(data) + 1:
        return "ok", int(eos)
    if not 1 <= r <= len(data):
        return "no_such_token", -1
    return "ok", data[r - 1]
