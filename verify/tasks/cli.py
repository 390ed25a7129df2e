"""``python -m verify tasks FORMAT FILE``: what a task file holds in the neutral format.

    python -m verify tasks FORMAT FILE [--split test|train] [--vocab V] [--json]

FORMAT is one of jelassi, zoology, safari, s4, neutral.  Prints rows, length, vocabulary, special tokens,
scored positions, metric and alignment, and the original metric of a perfect oracle (answers read from the
data) and of the oracle shifted by one position.  ``--vocab V`` checks the file against a model's vocabulary
size.  ``python -m verify tasks run FORMAT FILE`` (``verify/taskrun.py``, dispatched by the CLI) runs a claim's
task network on the file.  Exit 2 with one line
``verify: error: ...`` for a bad file, an unknown format or a mismatched vocabulary.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile

import numpy as np

from . import data
from .formats import FORMATS, load_meta, module


class _Err(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise _Err(message)


def load_task(fmt: str, path, split: str | None = None):
    """(TaskData, native arrays, meta) of a file; ValueError with one line on any problem."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except FileNotFoundError:
        raise ValueError(f"no such file: {path}") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise ValueError(f"cannot read {path} as .npz: {e}") from None
    meta = load_meta(arrays)
    if fmt == "neutral":
        return data.from_neutral(arrays), arrays, meta
    mod = module(fmt)
    try:
        task = mod.from_native(arrays, meta, split=split or "test") if fmt == "safari" else mod.from_native(arrays,
                                                                                                              meta)
    except (KeyError, TypeError, IndexError) as e:
        raise ValueError(f"not a {fmt} file: {type(e).__name__}: {e}") from None
    if split not in (None, "test") and fmt != "safari":
        raise ValueError("--split applies to safari files only")
    return task, arrays, meta


def describe(fmt: str, path, split: str | None = None, vocab: int | None = None) -> dict:
    task, arrays, meta = load_task(fmt, path, split)
    if vocab is not None and vocab != task.vocab.size:
        raise ValueError(f"mismatched vocabulary: the file has {task.vocab.size} tokens, --vocab says {vocab}")
    s = task.summary()
    s["format"] = fmt
    s["oracle"] = task.score(task.oracle())
    s["shifted_oracle"] = task.score(task.shifted_oracle())
    if fmt != "neutral":
        mod = module(fmt)
        kw = {"split": task.meta.get("split", "test")} if fmt == "safari" else {}
        s["oracle_native"] = mod.score_native(arrays, meta, mod.native_predictions(task, task.oracle()), **kw)
        s["shifted_oracle_native"] = mod.score_native(arrays, meta,
                                                      mod.native_predictions(task, task.shifted_oracle()), **kw)
    return s


def main_tasks(argv: list[str]) -> int:
    p = _Parser(prog="python -m verify tasks", description="Show a task file in the neutral format.")
    p.add_argument("format", metavar="FORMAT", help=f"one of {', '.join(FORMATS)}")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--split", choices=("test", "train"), help="safari: which split (default test)")
    p.add_argument("--vocab", type=int, help="check the file against a model vocabulary of this size")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    try:
        args = p.parse_args(argv)
        s = describe(args.format, args.file, args.split, args.vocab)
    except (_Err, ValueError) as e:
        print(f"verify: error: {str(e).splitlines()[0] if str(e) else type(e).__name__}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(s))
        return 0
    for k in ("format", "task", "rows", "length", "vocab_size", "special", "scored_positions", "scored_per_row",
              "metric", "alignment", "oracle", "shifted_oracle", "oracle_native", "shifted_oracle_native"):
        if k in s:
            v = s[k]
            print(f"{k:22s} {v:.4f}" if isinstance(v, float) else f"{k:22s} {v}")
    return 0
