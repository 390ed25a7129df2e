"""Induction head and associative recall in the format of ``HazyResearch/safari`` (``src/dataloaders/synthetics.py``).

Native arrays: ``test_inputs``, ``test_targets``, ``train_inputs``, ``train_targets``, already shifted
(inputs = ex[:-1], targets = ex[1:]).  Token strings are "0".."V-3", "." and "=>"; **ids are indices in the
lexicographically sorted string list** (``.`` = 0, ``0`` = 1, ``1`` = 2, ``10`` = 3, ..., ``=>`` = V-1), so ids
are not in numeric order; the table is ``meta_json["vocab"]["id_to_token"]``.  Test targets are -100 except
the last position (recall, induction_len 1) or the last ``induction_len`` positions; train targets are full.
Metric: micro accuracy over targets != -100.

Neutral form: tokens = ex = inputs ++ the last target (so the answer is fed back: ``next_token``), scored where
the target is not -100.  One split per TaskData (``split`` = "test" or "train"); the other split travels in
``extras`` for the round trip.

Differences from the paper: induction (Theorem D.1) always uses the trigger ``=>`` followed by the copied
chunk, and the token after ``=>`` need not be unique in the context; recall (Theorem 3.2) draws the key→value
map **with replacement** (keys can share a value), repeats keys consistently in the context (not distinct
keys) and ends ``=> q`` with the marker before the query.
"""

from __future__ import annotations

import json

import numpy as np

from ..data import IGNORE, TaskData, Vocab
from . import require

NATIVE_IGNORE = -100


def _vocab(meta: dict) -> Vocab:
    v = meta.get("vocab") or {}
    table = v.get("id_to_token")
    if not table:
        raise ValueError("not a safari file: meta_json lacks vocab.id_to_token")
    if list(table) != sorted(table):
        raise ValueError("mismatched vocabulary: id_to_token is not in sorted string order")
    V = len(table)
    want = sorted([str(i) for i in range(V - 2)] + [".", "=>"])
    if list(table) != want:
        raise ValueError(f"mismatched vocabulary: id_to_token is not the sorted list of '0'..'{V - 3}', '.', '=>'")
    if "model_vocab_size" in v and int(v["model_vocab_size"]) != V:
        raise ValueError(f"mismatched vocabulary: model_vocab_size {v['model_vocab_size']} vs {V} tokens")
    return Vocab(V, {"NOOP": table.index("."), "TRIGGER": table.index("=>")}, tuple(table))


def from_native(arrays, meta: dict, split: str = "test") -> TaskData:
    if split not in ("test", "train"):
        raise ValueError(f"split must be 'test' or 'train', got {split!r}")
    require(arrays, (f"{split}_inputs", f"{split}_targets"), "safari")
    vocab = _vocab(meta)
    x = np.asarray(arrays[f"{split}_inputs"]).astype(np.int64)
    y = np.asarray(arrays[f"{split}_targets"]).astype(np.int64)
    if x.ndim != 2 or y.shape != x.shape:
        raise ValueError(f"inputs {x.shape} and targets {y.shape} must be matching 2-D arrays")
    if np.any(y[:, -1] == NATIVE_IGNORE):
        raise ValueError("the last target of every row must be scored (safari targets end with the answer)")
    if np.any(x[:, 1:] != np.where(y[:, :-1] == NATIVE_IGNORE, x[:, 1:], y[:, :-1])):
        raise ValueError("targets are not inputs shifted by one")
    tok = np.concatenate([x, y[:, -1:]], axis=1)
    if tok.min() < 0 or tok.max() >= vocab.size:
        raise ValueError(f"mismatched vocabulary: ids in [{tok.min()}, {tok.max()}] with {vocab.size} tokens")
    sc = np.zeros(tok.shape, bool)
    sc[:, :-1] = y != NATIVE_IGNORE
    tgt = np.full(tok.shape, IGNORE, np.int64)
    tgt[:, :-1] = np.where(sc[:, :-1], y, IGNORE)
    extras = {k: np.asarray(arrays[k]) for k in arrays
              if k not in (f"{split}_inputs", f"{split}_targets", "meta_json")}
    task = {"induction_head": "induction", "assoc_recall": "recall"}.get(meta.get("copy_method"), "safari")
    metric = "micro_accuracy"
    return TaskData(task, tok, tgt, sc, vocab, metric, "next_token", extras=extras,
                    meta=dict(meta, split=split))


def to_native(task: TaskData) -> dict:
    split = task.meta.get("split", "test")
    out = {f"{split}_inputs": task.tokens[:, :-1].copy(),
           f"{split}_targets": np.where(task.scored[:, :-1], task.targets[:, :-1], NATIVE_IGNORE)}
    for k, v in task.extras.items():
        out.setdefault(k, v)
    meta = {k: v for k, v in task.meta.items() if k != "split"}
    out["meta_json"] = json.dumps(meta)
    return out


def native_predictions(task: TaskData, predictions) -> np.ndarray:
    """Neutral predictions (rows, L + 1) -> the model's outputs on the native inputs (rows, L)."""
    return np.asarray(predictions)[:, :-1]


def score_native(arrays, meta: dict, predictions, split: str = "test") -> float:
    y = np.asarray(arrays[f"{split}_targets"])
    m = y != NATIVE_IGNORE
    return float(np.mean((np.asarray(predictions) == y)[m]))


def from_generated(task: TaskData, copy_method: str = "induction_head") -> TaskData:
    """A generated task over ids 0..V-1 (no specials) as a Safari test split: token i is the string str(i), ids
    re-indexed by sorted string order in a vocabulary of V + 2 with "." and "=>" (unused here)."""
    if task.vocab.special:
        raise ValueError("from_generated needs a task without special tokens (induction, recall, ngram)")
    V = task.vocab.size + 2
    table = sorted([str(i) for i in range(V - 2)] + [".", "=>"])
    new_id = np.array([table.index(str(i)) for i in range(V - 2)])
    tok = new_id[task.tokens]
    tgt = np.where(task.scored, new_id[np.maximum(task.targets, 0)], IGNORE)
    meta = {"copy_method": copy_method, "split": "test", "format": "safari_icl_synthetics",
            "vocab": {"id_to_token": table, "model_vocab_size": V}}
    return TaskData(task.task, tok, tgt, task.scored, _vocab(meta), "micro_accuracy", "next_token", meta=meta)
