"""(Selective) copying in the format of ``state-spaces/s4`` (``src/dataloaders/datasets/copying.py``, used by Mamba).

Native arrays: ``inputs`` (rows, L + 2M), ``targets`` (rows, M), ``data_positions`` (rows, M).  Token 0 is
noise, A-1 the marker, data tokens lie in 1..A-2 at sorted random positions of the first L + M slots
(``classic``/variable=false: all at the front), then M markers; no BOS.  The model's output at input position
L + M + i is scored against targets[:, i] (no next-token shift; ``in_place``); micro accuracy.

Differences from the paper (Theorem D.2): the paper's ⟨BOS⟩ z ⟨COPY⟩ feeds each generated token back and the
model generates the non-PAD tokens one by one; s4/Mamba instead read the answers at M identical markers (no
feedback of outputs), so a model must count markers.  ``to_paper_form`` builds the paper's form of the same
rows (⟨BOS⟩ z ⟨COPY⟩ y with ⟨PAD⟩ = the noise token); the model, not the data, differs between the two.
"""

from __future__ import annotations

import json

import numpy as np

from ..data import IGNORE, TaskData, Vocab
from . import require


def from_native(arrays, meta: dict) -> TaskData:
    require(arrays, ("inputs", "targets"), "s4")
    x = np.asarray(arrays["inputs"]).astype(np.int64)
    y = np.asarray(arrays["targets"]).astype(np.int64)
    if x.ndim != 2 or y.ndim != 2 or y.shape[0] != x.shape[0]:
        raise ValueError(f"inputs {x.shape} and targets {y.shape} must be 2-D with one row count")
    M = y.shape[1]
    A = int(meta.get("n_tokens", 0)) or int(x.max() + 1)
    marker = int(meta.get("marker_id", A - 1))
    if marker != A - 1 or int(meta.get("noise_id", 0)) != 0:
        raise ValueError(f"mismatched vocabulary: marker {marker} (needs {A - 1}), noise {meta.get('noise_id')}")
    if x.min() < 0 or x.max() >= A or y.min() < 1 or y.max() > A - 2:
        raise ValueError(f"mismatched vocabulary: ids outside [0, {A}) or targets outside [1, {A - 2}]")
    if M > x.shape[1] or np.any(x[:, -M:] != marker):
        raise ValueError(f"the last {M} inputs of every row must be the marker {marker}")
    sc = np.zeros(x.shape, bool)
    sc[:, -M:] = True
    tgt = np.full(x.shape, IGNORE, np.int64)
    tgt[:, -M:] = y
    extras = {k: np.asarray(arrays[k]) for k in arrays if k not in ("inputs", "targets", "meta_json")}
    return TaskData("selective_copying_markers", x, tgt, sc, Vocab(A, {"NOISE": 0, "MARKER": marker}),
                    "micro_accuracy", "in_place", extras=extras, meta=dict(meta, n_tokens=A))


def to_native(task: TaskData) -> dict:
    M = int(task.scored[0].sum())
    out = {"inputs": task.tokens.copy(), "targets": task.targets[:, -M:].copy()}
    for k, v in task.extras.items():
        out.setdefault(k, v)
    out["meta_json"] = json.dumps(dict(task.meta))
    return out


def to_paper_form(task: TaskData) -> TaskData:
    """⟨BOS⟩ z_1..z_{L+M} ⟨COPY⟩ y_1..y_M (Theorem D.2, ⟨PAD⟩ = noise 0): BOS = A, COPY = A + 1; next_token."""
    A = task.vocab.size
    M = int(task.scored[0].sum())
    rows = task.rows
    z = task.tokens[:, :-M]
    y = task.targets[:, -M:]
    tok = np.concatenate([np.full((rows, 1), A), z, np.full((rows, 1), A + 1), y], axis=1)
    sc = np.zeros(tok.shape, bool)
    sc[:, z.shape[1] + 1:z.shape[1] + 1 + M] = True
    tgt = np.where(sc, np.concatenate([tok[:, 1:], np.zeros((rows, 1), np.int64)], axis=1), IGNORE)
    return TaskData("selective_copying", tok, tgt, sc,
                    Vocab(A + 2, {"PAD": 0, "MARKER": A - 1, "BOS": A, "COPY": A + 1}),
                    "exact_match_per_row", "next_token", meta={"from": "s4", "M": M})


def native_predictions(task: TaskData, predictions) -> np.ndarray:
    return np.asarray(predictions)


def score_native(arrays, meta: dict, predictions) -> float:
    """s4's accuracy: outputs at the last M positions against targets[:, i], micro-averaged."""
    y = np.asarray(arrays["targets"])
    M = y.shape[1]
    return float(np.mean(np.asarray(predictions)[:, -M:] == y))


def from_selective_copying(task: TaskData) -> TaskData:
    """generate.selective_copying rows (⟨BOS⟩ z ⟨COPY⟩ y, alphabet a) in s4's layout: drop ⟨BOS⟩, ⟨PAD⟩ -> 0,
    data d -> d + 1, then M = m markers A - 1 (A = a + 2) in place of ⟨COPY⟩ y; targets y + 1."""
    if task.task != "selective_copying" or "PAD" not in task.vocab.special:
        raise ValueError("from_selective_copying needs a task from generate.selective_copying")
    a = task.vocab.special["PAD"]
    M = int(task.meta["m"])
    T = int(task.meta["T"])
    z = task.tokens[:, 1:T + 1]
    z = np.where(z == a, 0, z + 1)
    A = a + 2
    x = np.concatenate([z, np.full((task.rows, M), A - 1)], axis=1)
    y = task.tokens[:, T + 2:T + 2 + M] + 1
    sc = np.zeros(x.shape, bool)
    sc[:, -M:] = True
    tgt = np.full(x.shape, IGNORE, np.int64)
    tgt[:, -M:] = y
    meta = {"n_tokens": A, "marker_id": A - 1, "noise_id": 0, "format": "s4_copying", "from": "generate"}
    return TaskData("selective_copying_markers", x, tgt, sc, Vocab(A, {"NOISE": 0, "MARKER": A - 1}),
                    "micro_accuracy", "in_place", meta=meta)
