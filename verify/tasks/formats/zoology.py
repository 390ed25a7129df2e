"""Multi-query associative recall in the format of ``HazyResearch/zoology`` (``zoology/data/multiquery_ar.py``).

Native arrays: ``inputs``, ``labels`` (rows, L) and the generator's ``keys``, ``values``, ``gaps``.  Keys lie in
[1, V/2), values in [V/2, V), both distinct within a row; positions 0..2N-1 hold k_1 v_1 .. k_N v_N; each key
appears once more as a query at position 2N + 2·gap; ``labels`` is -100 except at the query positions, where it
holds the paired value **at the query position itself** (the next-token shift is already applied; the value is
not repeated after the query).  Scored: labels != -100.  Metric: accuracy within each example, then averaged
over examples (``per_example_mean``); alignment ``in_place``.

Differences from the paper (Theorem 3.2): several queries per row instead of one final query; the values are
distinct per row (the paper allows any); filler between the context and the queries — with
``random_non_queries`` (Zoology's default) the filler is uniform over the vocabulary and can equal a context
key (an unlabelled "fake query": a model is not scored there); with it off the filler is 0.  Requires V > L.
"""

from __future__ import annotations

import json

import numpy as np

from ..data import IGNORE, TaskData, Vocab
from . import require

NATIVE_IGNORE = -100


def from_native(arrays, meta: dict) -> TaskData:
    require(arrays, ("inputs", "labels"), "zoology")
    x = np.asarray(arrays["inputs"]).astype(np.int64)
    lab = np.asarray(arrays["labels"]).astype(np.int64)
    if x.ndim != 2 or lab.shape != x.shape:
        raise ValueError(f"inputs {x.shape} and labels {lab.shape} must be matching 2-D arrays")
    V = int(meta.get("vocab_size", 0)) or int(max(x.max(), lab.max()) + 1)
    if x.max() >= V or lab.max() >= V or x.min() < 0:
        raise ValueError(f"mismatched vocabulary: ids up to {max(x.max(), lab.max())} with vocab_size {V}")
    sc = lab != NATIVE_IGNORE
    if np.any(lab[sc] < V // 2):
        raise ValueError("labels must be values in [V/2, V) at the query positions")
    extras = {k: np.asarray(arrays[k]) for k in arrays if k not in ("inputs", "labels", "meta_json")}
    return TaskData("mqar", x, np.where(sc, lab, IGNORE), sc, Vocab(V, {"ZERO": 0}), "per_example_mean",
                    "in_place", extras=extras, meta=dict(meta, vocab_size=V))


def to_native(task: TaskData) -> dict:
    out = {"inputs": task.tokens.copy(), "labels": np.where(task.scored, task.targets, NATIVE_IGNORE)}
    for k, v in task.extras.items():
        out.setdefault(k, v)
    out["meta_json"] = json.dumps(dict(task.meta, vocab_size=task.vocab.size))
    return out


def from_recall(task: TaskData) -> TaskData:
    """The paper's single-query recall (generate.recall, keys 0..K-1, values K..) as a Zoology row: ids shifted
    by 1 so keys lie in [1, V/2) and values in [V/2, V) with V = 2(K+1); the query's value is dropped from the
    tokens (Zoology does not feed it back) and the label sits at the query position."""
    K = int(task.meta["n_keys"])
    if task.task != "recall" or task.vocab.size - K > K + 1:
        raise ValueError("from_recall needs a recall task with at most n_keys + 1 values")
    V = 2 * (K + 1)
    tok = task.tokens[:, :-1] + 1
    tok = np.where(tok > K, tok - K - 1 + V // 2, tok)
    sc = task.scored[:, :-1]
    tgt = np.where(sc, np.where(task.targets[:, :-1] + 1 > K, task.targets[:, :-1] - K + V // 2, IGNORE), IGNORE)
    return TaskData("mqar", tok, tgt, sc, Vocab(V, {"ZERO": 0}), "per_example_mean", "in_place",
                    meta={"vocab_size": V, "from": "generate.recall"})


def native_predictions(task: TaskData, predictions) -> np.ndarray:
    return np.asarray(predictions)


def score_native(arrays, meta: dict, predictions) -> float:
    """Zoology's accuracy: per example, right / labelled positions; mean over examples."""
    lab = np.asarray(arrays["labels"])
    m = lab != NATIVE_IGNORE
    right = (np.asarray(predictions) == lab) & m
    has = m.any(axis=1)
    return float(np.mean(right.sum(axis=1)[has] / m.sum(axis=1)[has]))
