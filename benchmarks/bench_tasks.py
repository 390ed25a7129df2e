"""Teacher-forced scoring benchmark, reported as ratios against baselines measured in the same run.

A batch of ROWS sequences of length N (default 10^4 x 256) of a copying task goes through a small causal
SSMModel (one-hot embedding, 2|V| delay channels, a linear FNN, decoding) in chunks: one forward pass per
chunk, argmax at every position.  Baselines: (a) the bare numpy embedding lookup E.T[ids] of the same batch;
(b) the token-by-token greedy generation loop on a few rows, scaled to the batch (one forward pass per
generated token).  No N x N matrix is built anywhere.

    PYTHONPATH=. python benchmarks/bench_tasks.py [--rows 10000] [--length 256]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from constructions import ssm
from constructions.affine import Affine
from constructions.fnn import FNN
from constructions.model import Decoding, Embedding, SSMModel
from verify.tasks import generate, scoring


def copy_model(V: int, L: int, N: int) -> SSMModel:
    layer = ssm.SSMLayer(tuple([ssm.delay(L)] * V + [ssm.delay(0)] * V), N, W_in=np.vstack([np.eye(V)] * 2))
    return SSMModel(Embedding(np.eye(V)), [(layer, FNN([Affine.dense(np.eye(2 * V))]))],
                    Decoding(np.hstack([np.eye(V), np.zeros((V, V))])))


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--length", type=int, default=256)
    ap.add_argument("--greedy-rows", type=int, default=4)
    a = ap.parse_args(argv)
    L = (a.length - 2) // 2
    task = generate.copying(a.rows, L, alphabet=8, seed=0)
    m = copy_model(task.vocab.size, L, task.length)
    t = time.perf_counter()
    P = scoring.teacher_forced_predictions(m, task.tokens)
    t_tf = time.perf_counter() - t
    acc = task.score(P)
    t = time.perf_counter()
    _ = m.embedding.E.T[task.tokens]
    t_emb = time.perf_counter() - t
    sub = task.tokens[:a.greedy_rows]
    t = time.perf_counter()
    for r in range(sub.shape[0]):
        scoring.greedy_generate(m, sub[r, :L + 2], L)
    t_greedy = (time.perf_counter() - t) * a.rows / sub.shape[0]
    print(f"teacher-forced scoring: {a.rows} x {task.length} tokens in {t_tf:.2f} s "
          f"({a.rows * task.length / t_tf:.3g} tokens/s), exact-match accuracy {acc:.3f}")
    print(f"ratio to bare embedding lookup of the batch: {t_tf / t_emb:.1f}x")
    print(f"greedy generation loop (scaled from {sub.shape[0]} rows): {t_greedy:.1f} s; "
          f"teacher forcing is {t_greedy / t_tf:.0f}x faster")


if __name__ == "__main__":
    main()
