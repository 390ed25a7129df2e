"""``python -m verify tasks run FORMAT FILE``: a claim's network on a task file of another project
(docs/tasks/external.md).

    python -m verify tasks run FORMAT FILE [--claim ID] [--split test|train] [--rows R] [--json] [--set route=paper]

The network is built through the claim registry, sized for the file (vocabulary, length, special tokens), and
run teacher-forced on every row; the accuracy is printed in the file's original metric and in the neutral one.
Every scored position is classified by the reference hypotheses (``verify.tasks.hypotheses``): inside the
theorem's hypotheses (where an exact construction must be right: 100%), or outside them, counted per reason
and scored all the same (never dropped).  Zoology's unlabelled fake queries (a filler token equal to a context
key) are counted too.

Default claims: zoology → thm-3.2; safari induction → thm-D.1 (induction_len 1) or lemma-H.3 with n =
induction_len and windows cut at the trigger "=>" (the spec's ⟨BOS⟩/⟨COPY⟩ convention); safari recall →
thm-3.2; jelassi → thm-3.1; s4 → thm-D.2 (s4's marker form: the read index is the number of markers).
Jelassi's packed train rows get thm-3.1's packed-row network (``verify.claims.copying.build`` with ``reset`` and
``eos``: the statement restarts at each ``$``, and the EOS after a complete copy is predicted), with the matching
hypotheses.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from .registry import load_all
from .tasks import hypotheses as hyp
from .tasks.cli import load_task
from .tasks.formats import module
from .tasks.scoring import teacher_forced_predictions

LOOKUP = ("lemma-H.3", "thm-D.1", "thm-3.2")
RANK = ("thm-3.1", "thm-D.2")
COMMON = {"delta": 0.5, "code_seed": 0, "route": "exact"}


class _Err(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise _Err(message)


def default_claim(fmt: str, task) -> str:
    if fmt == "zoology":
        return "thm-3.2"
    if fmt == "safari":
        if task.task == "recall":
            return "thm-3.2"
        return "thm-D.1" if int(task.meta.get("config", {}).get("induction_len", 1)) == 1 else "lemma-H.3"
    if fmt == "jelassi":
        return "thm-3.1"
    if fmt == "s4":
        return "thm-D.2"
    raise ValueError(f"no default claim for format {fmt!r}; pass --claim")


def packed_rows(fmt: str, task) -> bool:
    """Jelassi's train rows: several ``$ x | x .`` examples per row (the packed-row network, a reset at ``$``)."""
    return fmt == "jelassi" and task.meta.get("format") == "jelassi_train_packed"


def network_params(cid: str, fmt: str, task) -> tuple[dict, dict]:
    """(the claim build's params sized for the file, the hypothesis settings: kind, n, cut, copy, ignore, Lmax)."""
    V, N = task.vocab.size, task.length
    sp = task.vocab.special
    if cid in LOOKUP:
        n, cut = 1, ()
        if fmt == "safari" and task.task == "induction":
            n = int(task.meta.get("config", {}).get("induction_len", 1))
            cut = (sp["TRIGGER"],) if cid == "lemma-H.3" else ()
        if cid == "thm-3.2":
            p = {"n_keys": V - V // 2, "n_values": V // 2, "pairs": max(1, (N - 1) // 2), "N": N, **COMMON}
        elif cid == "thm-D.1":
            p = {"V": V, "N": N, **COMMON}
        else:
            p = {"V": V, "n": n, "N": N, "cut": list(cut), **COMMON}
        return p, {"kind": "lookup", "n": 1 if cid != "lemma-H.3" else n, "cut": frozenset(cut)}
    if cid in RANK:
        if fmt == "jelassi":
            copy, ignore = [sp["COPY"]], [sp["BOS"], sp["EOS"], sp["PAD"]]
        elif fmt == "s4":
            copy, ignore = [sp["MARKER"]], [sp["NOISE"]]
        else:
            copy = [sp["COPY"]]
            ignore = [sp[k] for k in ("BOS", "PAD", "EOS") if k in sp]
        spec = set(copy) | set(ignore)
        if packed_rows(fmt, task):
            # the memory holds the row's data tokens up to the last segment's first run: count them before the
            # row's last copy token
            last = [np.flatnonzero(np.isin(r, copy)) for r in task.tokens]
            Lmax = max([int(np.sum(~np.isin(r[:f[-1]], list(spec)))) if f.size else 0
                        for r, f in zip(task.tokens, last)] + [1])
            reset, eos = [sp["BOS"]], sp["EOS"]
            p = {"V": V, "copy": copy, "ignore": ignore, "reset": reset, "eos": eos, "Lmax": Lmax, "N": N,
                 "alphabet": V, **COMMON}
            return p, {"kind": "rank", "copy": frozenset(copy), "ignore": frozenset(ignore), "Lmax": Lmax,
                       "reset": frozenset(reset), "eos": eos}
        first = [np.flatnonzero(np.isin(r, copy)) for r in task.tokens]
        Lmax = max([int(np.sum(~np.isin(r[:f[0]], list(spec)))) if f.size else 0 for r, f in zip(task.tokens, first)]
                   + [1])
        p = {"V": V, "copy": copy, "ignore": ignore, "Lmax": Lmax, "N": N, "alphabet": V, **COMMON}
        return p, {"kind": "rank", "copy": frozenset(copy), "ignore": frozenset(ignore), "Lmax": Lmax}
    raise ValueError(f"claim {cid!r} has no task network; expected one of {', '.join(LOOKUP + RANK)}")


def classify(task, h: dict) -> tuple[dict, np.ndarray]:
    """Per scored position: a mask per hypothesis status ('ok' = inside), and the reference answer."""
    ref = np.full(task.tokens.shape, -1, np.int64)
    if h["kind"] == "lookup":
        def fn(x, t):
            return hyp.lookup_status(x, t, h["n"], h["cut"])
    else:
        def fn(x, t):
            return hyp.rank_status(x, t, h["copy"], h["ignore"], h["Lmax"], h.get("reset", frozenset()),
                                   h.get("eos"))
    masks: dict = {"ok": np.zeros(task.tokens.shape, bool)}
    for r, t in zip(*np.nonzero(task.scored)):
        st, a = fn(task.tokens[r], int(t))
        masks.setdefault(st, np.zeros(task.tokens.shape, bool))[r, t] = True
        ref[r, t] = a
    return masks, ref


def fake_queries(task) -> int:
    """Zoology: unlabelled positions after the context whose token equals a context key (not scored)."""
    if "keys" not in task.extras:
        return 0
    keys = np.asarray(task.extras["keys"])
    ctx = 2 * keys.shape[1]
    X = task.tokens[:, ctx:]
    return int(np.sum(np.any(X[:, :, None] == keys[:, None, :], axis=2) & ~task.scored[:, ctx:]))


SETTABLE = {"route": ("exact", "paper")}  # ``--set NAME=VALUE``: network parameters a run may override


def parse_set(items) -> dict:
    """``--set route=paper`` (lookup claims: the paper's route, lemmas/ngram_attention.py) into a dict."""
    out = {}
    for it in items or ():
        name, eq, value = str(it).partition("=")
        if not eq or name not in SETTABLE:
            raise ValueError(f"--set takes NAME=VALUE with NAME in {sorted(SETTABLE)}, got {it!r}")
        if value not in SETTABLE[name]:
            raise ValueError(f"--set {name}= must be one of {SETTABLE[name]}, got {value!r}")
        out[name] = value
    return out


def run_file(fmt: str, path, claim: str | None = None, split: str | None = None, rows: int | None = None,
             chunk: int = 16, overrides: dict | None = None) -> dict:
    task, arrays, meta = load_task(fmt, path, split)
    if rows is not None:
        if rows < 1:
            raise ValueError("--rows must be >= 1")
        arrays = {k: (v[:rows] if isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[0] == task.rows else v)
                  for k, v in arrays.items()}
        if fmt == "safari":
            s = task.meta.get("split", "test")
            arrays = {**arrays, f"{s}_inputs": arrays[f"{s}_inputs"][:rows], f"{s}_targets": arrays[f"{s}_targets"][:rows]}
        task = type(task)(task.task, task.tokens[:rows], task.targets[:rows], task.scored[:rows], task.vocab,
                          task.metric, task.alignment, {k: (v[:rows] if np.ndim(v) >= 1 and len(v) == task.rows
                                                            else v) for k, v in task.extras.items()}, task.meta)
    cid = claim or default_claim(fmt, task)
    reg = load_all()
    if cid not in reg:
        raise ValueError(f"unknown claim {cid!r}")
    params, h = network_params(cid, fmt, task)
    if overrides:
        if cid not in LOOKUP:
            raise ValueError(f"--set route applies to the lookup claims {', '.join(LOOKUP)}, not {cid}")
        params = {**params, **overrides}
    t0 = time.perf_counter()
    con = reg[cid].build(params)
    t1 = time.perf_counter()
    P = teacher_forced_predictions(con.net, task.tokens, chunk=chunk, method="exact")
    t2 = time.perf_counter()
    masks, ref = classify(task, h)
    inside = masks["ok"]
    right = (P == task.targets) & task.scored
    out = {"format": fmt, "file": str(path), "claim": cid, "task": task.task, "rows": task.rows,
           "length": task.length, "vocab": task.vocab.size, "network": {k: v for k, v in params.items()
                                                                       if k not in COMMON or v != COMMON[k]},
           "D": con.net.counts()["D"], "k": int(con.net.embedding.E.shape[0]),
           "scored_positions": int(task.scored.sum()), "metric": task.metric,
           "accuracy_neutral": task.score(P),
           "inside_hypotheses": {"positions": int(inside.sum()),
                                 "accuracy": float(right[inside].mean()) if inside.any() else None,
                                 "reference_agrees_with_labels": bool(np.all(ref[inside] == task.targets[inside]))},
           "outside_hypotheses": {st: {"positions": int(m.sum()), "accuracy": float(right[m].mean())}
                                  for st, m in masks.items() if st != "ok"},
           "seconds": {"build": round(t1 - t0, 3), "run": round(t2 - t1, 3)}}
    if fmt != "neutral":
        mod = module(fmt)
        kw = {"split": task.meta.get("split", "test")} if fmt == "safari" else {}
        out["accuracy_native"] = mod.score_native(arrays, meta, mod.native_predictions(task, P), **kw)
    if fmt == "zoology":
        out["unscored_fake_queries"] = fake_queries(task)
    return out


def main_run(argv: list[str]) -> int:
    p = _Parser(prog="python -m verify tasks run", description="Run a claim's network on a task file.")
    p.add_argument("format", metavar="FORMAT", help="jelassi, zoology, safari, s4 or neutral")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--claim", help=f"one of {', '.join(LOOKUP + RANK)} (default: by format)")
    p.add_argument("--split", choices=("test", "train"), help="safari: which split (default test)")
    p.add_argument("--rows", type=int, help="only the first R rows")
    p.add_argument("--json", action="store_true")
    p.add_argument("--set", action="append", metavar="NAME=VALUE",
                   help="network parameter: route=exact (default) or route=paper (lookup claims)")
    try:
        args = p.parse_args(argv)
        out = run_file(args.format, args.file, args.claim, args.split, args.rows, overrides=parse_set(args.set))
    except (_Err, ValueError, KeyError) as e:
        print(f"verify: error: {str(e).splitlines()[0] if str(e) else type(e).__name__}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(out))
        return 0
    for k in ("format", "file", "claim", "task", "rows", "length", "vocab", "network", "D", "k", "scored_positions",
              "metric", "accuracy_native", "accuracy_neutral", "inside_hypotheses", "outside_hypotheses",
              "unscored_fake_queries", "seconds"):
        if k in out:
            v = out[k]
            print(f"{k:20s} {v:.4f}" if isinstance(v, float) else f"{k:20s} {v}")
    ok = out["inside_hypotheses"]["accuracy"]
    return 0 if ok in (None, 1.0) else 1
