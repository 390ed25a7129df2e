"""Teacher-forced scoring of a causal ``SSMModel`` (docs/tasks/scoring.md).

``teacher_forced_predictions`` runs one forward pass per chunk of rows over the whole sequences and takes the
argmax of W_Dec · output at **every** position; the SSM layers convolve along the sequence (FFT or O(N) exact
paths), so no N × N matrix is ever built and memory is O(chunk · N · D).

Why this decides greedy generation for exact-match metrics (``alignment = "next_token"``, scored positions
t_0 < t_1 < ... contiguous): the model is causal, so its output at t depends on tokens[..t] only.  Greedy
generation feeds the prompt tokens[..t_0] and then its own outputs.  If teacher forcing is right at every
scored position, then by induction greedy generation's prefix at each step equals tokens[..t_j] and it emits
the same (right) token.  If teacher forcing is first wrong at t_j, greedy's prefix up to t_j is the data's
(every earlier output was right), so greedy emits the same wrong token at t_j.  Hence "row exactly right"
is the same event under both.  Per-token metrics are not equal: after the first error greedy continues from a
wrong prefix.  Argmax ties are broken to the lowest id in both (numpy's argmax); both use the same arithmetic
path only if ``method`` is the same and the causal outputs at t do not depend on N (exact for the 'exact' and
'scan' paths; the FFT path may differ by round-off between lengths).
"""

from __future__ import annotations

import numpy as np

from .data import TaskData

DEFAULT_CHUNK = 512


def teacher_forced_predictions(model, tokens, chunk: int = DEFAULT_CHUNK, method: str = "auto") -> np.ndarray:
    """argmax_v (W_Dec · model output)_v at every position of every row, shape (rows, N), int64."""
    if model.decoding is None:
        raise ValueError("teacher-forced scoring needs a model with a decoding layer")
    X = np.asarray(tokens)
    if X.ndim != 2:
        raise ValueError(f"tokens must have shape (rows, N), got {X.shape}")
    if int(chunk) < 1:
        raise ValueError("chunk must be >= 1")
    out = np.empty(X.shape, np.int64)
    for s in range(0, X.shape[0], int(chunk)):
        Z = model.forward(X[s:s + chunk], method=method)
        out[s:s + chunk] = model.decoding.predict(Z, all_positions=True)
    return out


def score_model(model, task: TaskData, chunk: int = DEFAULT_CHUNK, method: str = "auto") -> float:
    """The task's metric of the model's teacher-forced predictions."""
    if model.embedding is not None and model.embedding.d_in != task.vocab.size:
        raise ValueError(f"mismatched vocabulary: the model embeds {model.embedding.d_in} tokens, the task has "
                         f"{task.vocab.size}")
    return task.score(teacher_forced_predictions(model, task.tokens, chunk, method))


def greedy_generate(model, prompt, steps: int, method: str = "exact") -> np.ndarray:
    """Plain token-by-token generation: feed ``prompt`` (1-D ids), append the argmax at the last position,
    repeat ``steps`` times; returns the generated ids.  One full forward pass per step (tests only)."""
    seq = [int(t) for t in np.asarray(prompt).ravel()]
    out = []
    for _ in range(int(steps)):
        logits = model(np.array([seq], np.int64), method=method)  # decoding on the last token
        nxt = int(np.argmax(logits[0]))
        out.append(nxt)
        seq.append(nxt)
    return np.array(out, np.int64)


def greedy_row_correct(model, task: TaskData, method: str = "exact") -> np.ndarray:
    """Per row: greedy generation from tokens[..t_0] produces targets[t_0..t_last] exactly (next_token tasks with
    one contiguous scored span per row)."""
    if task.alignment != "next_token":
        raise ValueError("greedy generation needs next_token alignment (answers fed back)")
    ok = np.empty(task.rows, bool)
    for r in range(task.rows):
        pos = np.flatnonzero(task.scored[r])
        if pos.size == 0:
            ok[r] = True
            continue
        if np.any(np.diff(pos) != 1):
            raise ValueError(f"row {r}: scored positions are not contiguous")
        gen = greedy_generate(model, task.tokens[r, :pos[0] + 1], pos.size, method)
        ok[r] = np.array_equal(gen, task.targets[r, pos])
    return ok


def score_file(fmt: str, path, predict, split: str | None = None) -> dict:
    """Hook for running a task network on a file: ``predict(tokens) -> predictions`` (rows, N) (e.g.
    ``lambda X: teacher_forced_predictions(model, X)``); returns the neutral and the native scores."""
    from .cli import load_task
    from .formats import module

    task, arrays, meta = load_task(fmt, path, split)
    P = np.asarray(predict(task.tokens))
    out = {"neutral": task.score(P), "metric": task.metric}
    if fmt != "neutral":
        mod = module(fmt)
        kw = {"split": task.meta.get("split", "test")} if fmt == "safari" else {}
        out["native"] = mod.score_native(arrays, meta, mod.native_predictions(task, P), **kw)
    return out
