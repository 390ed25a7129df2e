"""Seeded generators of the paper's tasks in the neutral format (docs/tasks/index.md).

Every row is a full teacher-forcing sequence: the answer is appended to the prompt and the positions that
predict it are scored (``alignment = "next_token"``), so exact match over a row is the event "greedy
generation from the prompt produces the answer" (docs/tasks/scoring.md).

* ``copying`` (Theorem 3.1): ⟨BOS⟩ x_1..x_L ⟨COPY⟩ x_1..x_L, x_i i.i.d. uniform over the alphabet; positions
  L+1 .. 2L scored (⟨COPY⟩ predicts x_1, ..., x_{L-1} predicts x_L); exact match per row.
* ``recall`` (Theorem 3.2): k_1 v_1 .. k_N v_N q v_q with distinct keys from the first half of the vocabulary
  and values (i.i.d., repeats allowed) from the second; q uniform among the keys; position 2N scored.
* ``induction`` (Theorem D.1): a sequence whose last token c occurs exactly once before, at i <= length - 3;
  the answer is the token after that occurrence; the last prompt position scored.
* ``selective_copying`` (Theorem D.2): ⟨BOS⟩ z_1..z_T ⟨COPY⟩ y_1..y_m: z holds m data tokens at sorted uniform
  positions among ⟨PAD⟩s and y lists them in order; positions T+1 .. T+m scored.  The paper's ⟨PAD⟩ is i.i.d.
  with some probability; we fix the count m (as s4/Mamba do) so that rows have one length.
* ``ngram`` (Lemma H.3): random tokens whose last n tokens occur earlier as a block, every earlier occurrence
  followed by the same token x_{i+1} (rows violating this are redrawn); answer x_{i+1}.
"""

from __future__ import annotations

import numpy as np

from .data import IGNORE, TaskData, Vocab


def _pos_int(name, v, lo=1):
    if isinstance(v, bool) or int(v) != v or v < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    return int(v)


def _next_token_task(task, tokens, scored, vocab, metric="exact_match_per_row", meta=None) -> TaskData:
    targets = np.full(tokens.shape, IGNORE, np.int64)
    targets[:, :-1] = np.where(scored[:, :-1], tokens[:, 1:], IGNORE)
    return TaskData(task, tokens, targets, scored, vocab, metric, "next_token", meta=meta or {})


def copying(rows: int, L: int, alphabet: int = 26, seed: int = 0) -> TaskData:
    rows, L, A = _pos_int("rows", rows), _pos_int("L", L), _pos_int("alphabet", alphabet, 2)
    rng = np.random.default_rng(seed)
    x = rng.integers(0, A, size=(rows, L))
    BOS, COPY = A, A + 1
    tok = np.concatenate([np.full((rows, 1), BOS), x, np.full((rows, 1), COPY), x], axis=1)
    sc = np.zeros(tok.shape, bool)
    sc[:, L + 1:2 * L + 1] = True
    return _next_token_task("copying", tok, sc, Vocab(A + 2, {"BOS": BOS, "COPY": COPY}),
                            meta={"L": L, "alphabet": A, "seed": seed})


def recall(rows: int, N: int, n_keys: int = 16, n_values: int = 16, seed: int = 0) -> TaskData:
    rows, N = _pos_int("rows", rows), _pos_int("N", N)
    K, Vv = _pos_int("n_keys", n_keys), _pos_int("n_values", n_values)
    if N > K:
        raise ValueError(f"N = {N} distinct keys need n_keys >= N, got {K}")
    rng = np.random.default_rng(seed)
    keys = np.argsort(rng.random((rows, K)), axis=1)[:, :N]
    vals = K + rng.integers(0, Vv, size=(rows, N))
    j = rng.integers(0, N, size=rows)
    r = np.arange(rows)
    tok = np.empty((rows, 2 * N + 2), np.int64)
    tok[:, 0:2 * N:2], tok[:, 1:2 * N:2] = keys, vals
    tok[:, 2 * N], tok[:, 2 * N + 1] = keys[r, j], vals[r, j]
    sc = np.zeros(tok.shape, bool)
    sc[:, 2 * N] = True
    return _next_token_task("recall", tok, sc, Vocab(K + Vv), meta={"N": N, "n_keys": K, "n_values": Vv,
                                                                      "seed": seed})


def induction(rows: int, length: int, vocab: int = 16, seed: int = 0) -> TaskData:
    rows, n, V = _pos_int("rows", rows), _pos_int("length", length, 4), _pos_int("vocab", vocab, 3)
    rng = np.random.default_rng(seed)
    c = rng.integers(0, V, size=rows)
    body = rng.integers(0, V - 1, size=(rows, n - 2))  # prompt positions 0..n-3 except the occurrence
    body = body + (body >= c[:, None])  # skip c: uniform over the other V - 1 tokens
    i = rng.integers(0, n - 2, size=rows)  # occurrence at i <= n - 3, so that i + 1 <= n - 2 is in the prompt
    prompt = np.empty((rows, n - 1), np.int64)
    idx = np.arange(n - 1)[None, :]
    src = idx - (idx > i[:, None])
    prompt[:] = np.take_along_axis(body, np.minimum(src, n - 3), axis=1)
    prompt[np.arange(rows), i] = c
    r = np.arange(rows)
    ans = prompt[r, i + 1]
    tok = np.concatenate([prompt, c[:, None], ans[:, None]], axis=1)
    sc = np.zeros(tok.shape, bool)
    sc[:, n - 1] = True
    return _next_token_task("induction", tok, sc, Vocab(V), meta={"length": n, "vocab": V, "seed": seed})


def selective_copying(rows: int, T: int, m: int, alphabet: int = 8, seed: int = 0) -> TaskData:
    rows, T, m, A = _pos_int("rows", rows), _pos_int("T", T), _pos_int("m", m), _pos_int("alphabet", alphabet)
    if m > T:
        raise ValueError(f"m = {m} data tokens do not fit in T = {T} slots")
    rng = np.random.default_rng(seed)
    PAD, BOS, COPY = A, A + 1, A + 2
    pos = np.sort(np.argsort(rng.random((rows, T)), axis=1)[:, :m], axis=1)
    data = rng.integers(0, A, size=(rows, m))
    z = np.full((rows, T), PAD, np.int64)
    np.put_along_axis(z, pos, data, axis=1)
    tok = np.concatenate([np.full((rows, 1), BOS), z, np.full((rows, 1), COPY), data], axis=1)
    sc = np.zeros(tok.shape, bool)
    sc[:, T + 1:T + 1 + m] = True
    return _next_token_task("selective_copying", tok, sc, Vocab(A + 3, {"PAD": PAD, "BOS": BOS, "COPY": COPY}),
                            meta={"T": T, "m": m, "alphabet": A, "seed": seed})


def ngram_ok(x: np.ndarray, n: int) -> tuple[bool, int]:
    """Lemma H.3's hypothesis on one prompt x: its last n tokens occur earlier as a block and every earlier
    occurrence (ending at i <= len - 2) is followed by one token; returns (holds, that token or -1)."""
    L = len(x)
    if L < n + 2:
        return False, -1
    win = np.lib.stride_tricks.sliding_window_view(x[:L - 1], n)  # blocks ending at i = n-1 .. L-2
    hit = np.flatnonzero(np.all(win == x[L - n:], axis=1)) + n - 1
    if hit.size == 0:
        return False, -1
    nxt = x[hit + 1]
    return bool(np.all(nxt == nxt[0])), int(nxt[0])


def ngram(rows: int, length: int, n: int = 2, vocab: int = 16, seed: int = 0, max_tries: int = 1000) -> TaskData:
    rows, L, n, V = (_pos_int("rows", rows), _pos_int("length", length, 4), _pos_int("n", n),
                     _pos_int("vocab", vocab, 2))
    if L < 2 * n + 2:
        raise ValueError(f"length {L} too short for an earlier {n}-gram and a query")
    rng = np.random.default_rng(seed)
    out = np.empty((rows, L + 1), np.int64)
    for r in range(rows):
        for _ in range(max_tries):
            x = rng.integers(0, V, size=L)
            i = int(rng.integers(n - 1, L - n - 1))  # block x[i-n+1..i] with i + 1 < L - n
            x[L - n:] = x[i - n + 1:i + 1]
            ok, ans = ngram_ok(x, n)
            if ok:
                out[r, :L], out[r, L] = x, ans
                break
        else:
            raise RuntimeError(f"no row met the n-gram hypothesis in {max_tries} draws")
    sc = np.zeros(out.shape, bool)
    sc[:, L - 1] = True
    return _next_token_task("ngram", out, sc, Vocab(V), meta={"length": L, "n": n, "vocab": V, "seed": seed})


GENERATORS = {"copying": copying, "recall": recall, "induction": induction,
              "selective_copying": selective_copying, "ngram": ngram}
