"""Copying in the format of ``sjelassi/transformers_ssm_copy`` (Jelassi et al. 2024).

Native arrays: ``input_ids`` (rows, context), ``mask`` (1 on the second copy and its EOS), ``len1``; eval rows
add ``derived_labels`` (-100 except the compared positions), ``derived_score_start`` and ``derived_answer_len``.
Layout: letters are ids 0..V-1 (**id 0 is the letter a, not padding**), ``$`` = V (BOS), ``|`` = V+1 (COPY),
``.`` = V+2 (EOS), ``*`` = V+3 (PAD, right padding in eval rows).  A string is ``$ x | x .``.

Scoring in the original: teacher forced, pred[t] = argmax at t predicts token t+1.  Eval rows
(``jelassi_eval_rows``): str_acc = 1 iff every answer token is right (the EOS is not compared) →
``exact_match_per_row``.  Train rows (``jelassi_train_packed``, examples packed back to back): the loss mask is
mask[:, 1:] against input_ids[:, 1:]; the original reports no accuracy on them, we score token accuracy on the
masked positions (``micro_accuracy``; the EOS is in the mask there).

Differences from the paper (Theorem 3.1): the same copy task (⟨BOS⟩ x ⟨COPY⟩ then L generated tokens) with
lengths uniform in a range instead of one L, scored by teacher forcing (equal to greedy generation for exact
match, docs/tasks/scoring.md); the train rows pack several examples per row and add an EOS target.
"""

from __future__ import annotations

import json

import numpy as np

from ..data import IGNORE, TaskData, Vocab
from . import require

NATIVE_IGNORE = -100


def _vocab(meta: dict) -> Vocab:
    V = int(meta["vocab_size"])
    ids = meta.get("token_ids") or {}
    bos, sep, eos, pad = V, V + 1, V + 2, V + 3
    for ch, want in (("$", bos), ("|", sep), (".", eos), ("*", pad)):
        if ch in ids and int(ids[ch]) != want:
            raise ValueError(f"mismatched vocabulary: {ch!r} has id {ids[ch]}, the layout needs {want}")
    for key, want in (("bos_id", bos), ("copy_sep_id", sep), ("eos_id", eos), ("pad_id", pad)):
        if key in meta and int(meta[key]) != want:
            raise ValueError(f"mismatched vocabulary: {key} = {meta[key]}, the layout needs {want}")
    letters = [chr(ord("a") + i) if i < 26 else f"<{i}>" for i in range(V)]
    return Vocab(V + 4, {"BOS": bos, "COPY": sep, "EOS": eos, "PAD": pad}, tuple(letters + ["$", "|", ".", "*"]))


def from_native(arrays, meta: dict) -> TaskData:
    require(arrays, ("input_ids", "mask"), "jelassi")
    if "vocab_size" not in meta:
        raise ValueError("not a jelassi file: meta_json lacks vocab_size")
    vocab = _vocab(meta)
    ids = np.asarray(arrays["input_ids"]).astype(np.int64)
    mask = np.asarray(arrays["mask"]).astype(np.int64)
    if ids.ndim != 2 or mask.shape != ids.shape:
        raise ValueError(f"input_ids {ids.shape} and mask {mask.shape} must be matching 2-D arrays")
    if ids.size and (ids.min() < 0 or ids.max() >= vocab.size):
        raise ValueError(f"mismatched vocabulary: ids in [{ids.min()}, {ids.max()}], vocabulary has {vocab.size}")
    eval_rows = meta.get("format") == "jelassi_eval_rows" or "derived_labels" in arrays
    sc = np.zeros(ids.shape, bool)
    sc[:, :-1] = mask[:, 1:] == 1
    if eval_rows:
        sc[:, :-1] &= ids[:, 1:] != vocab.special["EOS"]
        if "derived_labels" in arrays:
            lab = np.asarray(arrays["derived_labels"])
            if not np.array_equal(lab != NATIVE_IGNORE, sc):
                raise ValueError("derived_labels disagree with mask (the scored positions differ)")
    tgt = np.full(ids.shape, IGNORE, np.int64)
    tgt[:, :-1] = np.where(sc[:, :-1], ids[:, 1:], IGNORE)
    extras = {k: np.asarray(arrays[k]) for k in arrays if k not in ("input_ids", "mask", "meta_json")}
    return TaskData("copying", ids, tgt, sc, vocab, "exact_match_per_row" if eval_rows else "micro_accuracy",
                    "next_token", extras=extras, meta=dict(meta))


def to_native(task: TaskData) -> dict:
    V = task.vocab.size - 4
    eos = task.vocab.special["EOS"]
    mask = np.zeros(task.tokens.shape, np.int64)
    mask[:, 1:] = task.scored[:, :-1]
    eval_rows = task.metric == "exact_match_per_row"
    if eval_rows:  # the EOS after the answer is in the mask but not compared
        after = np.zeros(task.tokens.shape, bool)
        after[:, 1:] = mask[:, :-1].astype(bool) & (task.tokens[:, 1:] == eos)
        mask[after] = 1
    out = {"input_ids": task.tokens.copy(), "mask": mask}
    if eval_rows:
        lab = np.where(task.scored, task.targets, NATIVE_IGNORE)
        out["derived_labels"] = lab
        has = task.scored.any(axis=1)
        out["derived_score_start"] = np.where(has, np.argmax(task.scored, axis=1), -1)
        out["derived_answer_len"] = task.scored.sum(axis=1)
    for k, v in task.extras.items():
        out.setdefault(k, v)
    meta = dict(task.meta)
    meta.setdefault("vocab_size", V)
    meta.setdefault("format", "jelassi_eval_rows" if eval_rows else "jelassi_train_packed")
    out["meta_json"] = json.dumps(meta)
    return out


def native_predictions(task: TaskData, predictions) -> np.ndarray:
    return np.asarray(predictions)


def score_native(arrays, meta: dict, predictions) -> float:
    """The original metric from the native arrays: eval rows str_acc over the answer span (EOS excluded);
    train rows token accuracy of pred[:, :-1] against input_ids[:, 1:] on mask[:, 1:]."""
    ids = np.asarray(arrays["input_ids"])
    P = np.asarray(predictions)
    if "derived_score_start" in arrays:
        s, n = np.asarray(arrays["derived_score_start"]), np.asarray(arrays["derived_answer_len"])
        acc = []
        for r in range(ids.shape[0]):
            span = slice(int(s[r]), int(s[r]) + int(n[r]))
            acc.append(np.array_equal(P[r, span], ids[r, int(s[r]) + 1:int(s[r]) + int(n[r]) + 1]))
        return float(np.mean(acc))
    m = np.asarray(arrays["mask"])[:, 1:] == 1
    return float(np.mean((P[:, :-1] == ids[:, 1:])[m]))


def from_copying(task: TaskData) -> TaskData:
    """The paper's copy rows (generate.copying: ⟨BOS⟩ x ⟨COPY⟩ x) as Jelassi eval rows: ``$ x | x .`` with the
    alphabet's ids kept, BOS/COPY renumbered to V/V+1, EOS = V+2 appended, PAD = V+3 (none needed: one L)."""
    if task.task != "copying" or "BOS" not in task.vocab.special:
        raise ValueError("from_copying needs a task from generate.copying")
    V = task.vocab.size - 2
    tok = task.tokens.copy()  # BOS = V and COPY = V+1 already
    tok = np.concatenate([tok, np.full((task.rows, 1), V + 2)], axis=1)
    sc = np.concatenate([task.scored, np.zeros((task.rows, 1), bool)], axis=1)
    tgt = np.full(tok.shape, IGNORE, np.int64)
    tgt[:, :-1] = np.where(sc[:, :-1], tok[:, 1:], IGNORE)
    meta = {"vocab_size": V, "format": "jelassi_eval_rows", "from": "generate.copying"}
    return TaskData("copying", tok, tgt, sc, _vocab(meta), "exact_match_per_row", "next_token", meta=meta)


def packed_train_rows(rows: int, context: int, alphabet: int = 26, min_len: int = 5, max_len: int = 20,
                      seed: int = 0) -> dict:
    """Native arrays of Jelassi-style packed train rows from our generator: examples ``$ x | x .`` (|x| uniform in
    [min_len, max_len], letters i.i.d. uniform) back to back, cut at ``context`` tokens; mask 1 on the second copy
    and its EOS (the original's train loss mask)."""
    if rows < 1 or context < 4 or not 1 <= min_len <= max_len or alphabet < 2:
        raise ValueError(f"bad packed-row sizes: rows={rows}, context={context}, lengths [{min_len}, {max_len}], "
                         f"alphabet={alphabet}")
    rng = np.random.default_rng(seed)
    bos, sep, eos = alphabet, alphabet + 1, alphabet + 2
    ids = np.zeros((rows, context), np.int64)
    mask = np.zeros((rows, context), np.int64)
    for r in range(rows):
        tok, m = [], []
        while len(tok) < context:
            x = rng.integers(0, alphabet, int(rng.integers(min_len, max_len + 1))).tolist()
            tok += [bos] + x + [sep] + x + [eos]
            m += [0] * (len(x) + 2) + [1] * (len(x) + 1)
        ids[r], mask[r] = tok[:context], m[:context]
    meta = {"vocab_size": alphabet, "format": "jelassi_train_packed", "bos_id": bos, "copy_sep_id": sep,
            "eos_id": eos, "pad_id": alphabet + 3, "min_train_len": min_len, "max_train_len": max_len,
            "context_len": context, "seed": seed, "from": "verify.tasks.formats.jelassi.packed_train_rows"}
    return {"input_ids": ids, "mask": mask, "meta_json": json.dumps(meta)}
