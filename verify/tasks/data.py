"""The neutral task format (docs/tasks/index.md).

A ``TaskData`` holds ``rows`` sequences of one ``length``:

* ``tokens`` int64 (rows, length): the token ids, in [0, vocab.size);
* ``targets`` int64 (rows, length): at a scored position t, the token the model's output at t must be
  (``IGNORE`` = -1 elsewhere);
* ``scored`` bool (rows, length): the positions that count;
* ``metric``: ``exact_match_per_row`` (a row counts 1 iff every scored position is right; the mean over rows
  with at least one scored position), ``micro_accuracy`` (right scored positions / all scored positions) or
  ``per_example_mean`` (accuracy within each row with a scored position, then the mean over those rows);
* ``alignment``: the model's output at t is always computed from tokens[..t] (causal) and compared with
  targets[t].  ``next_token`` means the answers are also fed back: targets[t] == tokens[t+1] at every scored
  t (teacher forcing; then exact match equals greedy generation, docs/tasks/scoring.md).  ``in_place``: the
  answer is not in the tokens (Zoology's queries, s4's markers).
* ``vocab``: size, named special tokens, optional id -> string table.
* ``extras``/``meta``: arrays and facts of a native format kept for a lossless round trip.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

IGNORE = -1
METRICS = ("exact_match_per_row", "micro_accuracy", "per_example_mean")
ALIGNMENTS = ("next_token", "in_place")


@dataclass(frozen=True)
class Vocab:
    size: int
    special: dict = field(default_factory=dict)  # name -> id
    id_to_token: tuple | None = None

    def __post_init__(self):
        if isinstance(self.size, bool) or int(self.size) != self.size or self.size < 1:
            raise ValueError(f"vocabulary size must be a positive integer, got {self.size!r}")
        object.__setattr__(self, "size", int(self.size))
        sp = {str(k): int(v) for k, v in dict(self.special).items()}
        for name, i in sp.items():
            if not 0 <= i < self.size:
                raise ValueError(f"special token {name!r} has id {i} outside [0, {self.size})")
        object.__setattr__(self, "special", sp)
        if self.id_to_token is not None:
            t = tuple(str(s) for s in self.id_to_token)
            if len(t) != self.size:
                raise ValueError(f"id_to_token has {len(t)} entries for a vocabulary of {self.size}")
            object.__setattr__(self, "id_to_token", t)


def _int_array(name: str, a, ndim: int) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {a.shape}")
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or not np.all(a == np.round(a)):
            raise ValueError(f"{name} must hold integers (got NaN, inf or fractions)")
    elif a.dtype.kind not in "iub":
        raise ValueError(f"{name} must hold integers, got dtype {a.dtype}")
    return a.astype(np.int64)


@dataclass(frozen=True)
class TaskData:
    task: str
    tokens: np.ndarray
    targets: np.ndarray
    scored: np.ndarray
    vocab: Vocab
    metric: str
    alignment: str
    extras: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        tok = _int_array("tokens", self.tokens, 2)
        tgt = _int_array("targets", self.targets, 2)
        sc = np.asarray(self.scored)
        if sc.dtype != bool:
            if sc.dtype.kind not in "iu" or not np.all((sc == 0) | (sc == 1)):
                raise ValueError("scored must be a boolean mask")
            sc = sc.astype(bool)
        if tgt.shape != tok.shape or sc.shape != tok.shape:
            raise ValueError(f"tokens {tok.shape}, targets {tgt.shape} and scored {sc.shape} must have one shape")
        if not isinstance(self.vocab, Vocab):
            raise TypeError("vocab must be a Vocab")
        V = self.vocab.size
        if tok.size and (tok.min() < 0 or tok.max() >= V):
            raise ValueError(f"token ids must lie in [0, {V}), got range [{tok.min()}, {tok.max()}]")
        ts = tgt[sc]
        if ts.size and (ts.min() < 0 or ts.max() >= V):
            raise ValueError(f"scored targets must lie in [0, {V}), got range [{ts.min()}, {ts.max()}]")
        if np.any(tgt[~sc] != IGNORE):
            raise ValueError(f"targets must be {IGNORE} at unscored positions")
        if self.metric not in METRICS:
            raise ValueError(f"unknown metric {self.metric!r}; expected one of {METRICS}")
        if self.alignment not in ALIGNMENTS:
            raise ValueError(f"unknown alignment {self.alignment!r}; expected one of {ALIGNMENTS}")
        if self.alignment == "next_token":
            if sc[:, -1].any():
                raise ValueError("next_token alignment: the last position cannot be scored (no next token)")
            if np.any(tgt[:, :-1][sc[:, :-1]] != tok[:, 1:][sc[:, :-1]]):
                raise ValueError("next_token alignment: targets[t] must equal tokens[t+1] at scored positions")
        for a in (tok, tgt, sc):
            a.setflags(write=False)
        object.__setattr__(self, "tokens", tok)
        object.__setattr__(self, "targets", tgt)
        object.__setattr__(self, "scored", sc)

    @property
    def rows(self) -> int:
        return self.tokens.shape[0]

    @property
    def length(self) -> int:
        return self.tokens.shape[1]

    def score(self, predictions) -> float:
        """The metric of ``predictions`` (rows, length) of token ids (the argmax at every position)."""
        return score_arrays(predictions, self.targets, self.scored, self.metric)

    def per_row_correct(self, predictions) -> np.ndarray:
        """Per row: every scored position right (rows without scored positions count as correct)."""
        P = _check_predictions(predictions, self.tokens.shape)
        return np.all((P == self.targets) | ~self.scored, axis=1)

    def oracle(self) -> np.ndarray:
        """Predictions read from the data: the target at scored positions, the next token (or 0) elsewhere."""
        nxt = np.concatenate([self.tokens[:, 1:], np.zeros((self.rows, 1), np.int64)], axis=1)
        return np.where(self.scored, self.targets, nxt)

    def shifted_oracle(self) -> np.ndarray:
        """The oracle off by one position: the prediction at t is the oracle's at t - 1 (0 at t = 0)."""
        o = self.oracle()
        return np.concatenate([np.zeros((self.rows, 1), np.int64), o[:, :-1]], axis=1)

    def summary(self) -> dict:
        n_sc = self.scored.sum(axis=1)
        return {"task": self.task, "rows": self.rows, "length": self.length, "vocab_size": self.vocab.size,
                "special": dict(self.vocab.special), "scored_positions": int(n_sc.sum()),
                "scored_per_row": [int(n_sc.min()), int(n_sc.max())] if self.rows else [0, 0],
                "metric": self.metric, "alignment": self.alignment}


def _check_predictions(predictions, shape) -> np.ndarray:
    P = _int_array("predictions", predictions, 2)
    if P.shape != tuple(shape):
        raise ValueError(f"predictions must have shape {tuple(shape)}, got {P.shape}")
    return P


def score_arrays(predictions, targets, scored, metric: str) -> float:
    """Metric of predictions against targets on the scored positions (see the module docstring)."""
    P = _check_predictions(predictions, np.shape(targets))
    right = (P == targets) & scored
    has = scored.any(axis=1)
    if not has.any():
        raise ValueError("no scored positions")
    if metric == "micro_accuracy":
        return float(right.sum() / scored.sum())
    if metric == "exact_match_per_row":
        return float(np.mean(np.all(right | ~scored, axis=1)[has]))
    if metric == "per_example_mean":
        return float(np.mean(right.sum(axis=1)[has] / scored.sum(axis=1)[has]))
    raise ValueError(f"unknown metric {metric!r}")


def save_npz(task: TaskData, path) -> None:
    """The neutral format on disk: tokens, targets, scored, meta_json (vocab, metric, alignment, task)."""
    import json

    meta = {"format": "neutral", "task": task.task, "metric": task.metric, "alignment": task.alignment,
            "vocab": {"size": task.vocab.size, "special": task.vocab.special,
                      "id_to_token": list(task.vocab.id_to_token) if task.vocab.id_to_token else None}}
    np.savez(path, tokens=task.tokens, targets=task.targets, scored=task.scored, meta_json=json.dumps(meta))


def from_neutral(arrays, meta: dict | None = None) -> TaskData:
    """Read the arrays of ``save_npz`` (a mapping with tokens, targets, scored, meta_json)."""
    import json

    for k in ("tokens", "targets", "scored", "meta_json"):
        if k not in arrays:
            raise ValueError(f"not a neutral task file: missing array {k!r}")
    m = json.loads(str(arrays["meta_json"])) if meta is None else meta
    if m.get("format") != "neutral":
        raise ValueError(f"not a neutral task file: format {m.get('format')!r}")
    v = m["vocab"]
    return TaskData(m["task"], arrays["tokens"], arrays["targets"], arrays["scored"],
                    Vocab(v["size"], v.get("special") or {}, v.get("id_to_token")), m["metric"], m["alignment"])
