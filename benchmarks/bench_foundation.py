"""Foundation benchmarks, reported as ratios against baselines measured in the same run.

1. SSM layer FFT path time / bare numpy.fft.rfft + irfft time at the same transform size (N up to 2^20).
2. FNN throughput of a wide parallel stack (k small nets on a shared input) / dense matmul of the same flops,
   and / the dense block-diagonal evaluation it replaces.

    python benchmarks/bench_foundation.py [--max-log2n 20] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from constructions import algebra, ssm
from constructions.affine import Affine
from constructions.fnn import FNN


def best_of(fn, repeats):
    fn()
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return min(ts)


def bench_ssm(max_log2n: int, repeats: int, H: int = 4):
    print(f"SSM layer, {H} cosine channels (FFT path), window U = N, batch 1")
    print(f"{'N':>9} {'nfft':>9} {'layer s':>10} {'rfft+irfft s':>13} {'ratio':>7}")
    rng = np.random.default_rng(0)
    chans = tuple(ssm.cosine(rng.uniform(-1, 1, 2), rng.uniform(0, 3, 2), 0.0, 0.999) for _ in range(H))
    for lg in range(10, max_log2n + 1, 2):
        N = 1 << lg
        layer = ssm.SSMLayer(chans, N)
        u = rng.normal(size=(1, N, H))
        layer.filters(N)  # the filter is materialised once per (layer, N); time the convolution itself
        nfft = ssm.next_fast_len(N + N - 1)
        k = layer.filters(N)

        def bare():
            K = np.fft.rfft(k, n=nfft, axis=1).T
            np.fft.irfft(np.fft.rfft(u, n=nfft, axis=1) * K, n=nfft, axis=1)

        t_layer = best_of(lambda: layer(u, method="fft"), repeats)
        t_bare = best_of(bare, repeats)
        print(f"{N:>9} {nfft:>9} {t_layer:>10.4f} {t_bare:>13.4f} {t_layer / t_bare:>7.2f}")


def bench_fnn(repeats: int, k: int = 512, n: int = 1 << 15):
    rng = np.random.default_rng(1)
    fs = [FNN([Affine.dense(rng.normal(size=(8, 4)), rng.normal(size=8)), Affine.dense(rng.normal(size=(8, 8)),
                                                                                      rng.normal(size=8)),
               Affine.dense(rng.normal(size=(1, 8)))]) for _ in range(k)]
    P = algebra.parallel(*fs)
    x = rng.normal(size=(n, 4))
    S = sum(lay.nnz_A for lay in P.layers)
    flops = 2 * S * n
    side = int(np.sqrt(S))
    A = rng.normal(size=(side, side))
    X = rng.normal(size=(n, side))
    t_stack = best_of(lambda: P(x), repeats)
    t_dense = best_of(lambda: X @ A.T, repeats)
    dense_flops = 2 * side * side * n
    # the same stack as full dense matrices (what block structure avoids), timed on a slice of tokens
    Ds = [(lay.to_dense(), lay.b) for lay in P.layers]
    m = 2048

    def blockdiag():
        h = x[:m]
        for i, (D, b) in enumerate(Ds):
            h = h @ D.T + b
            if i < len(Ds) - 1:
                h = np.maximum(h, 0)

    t_bd = best_of(blockdiag, repeats) * n / m
    print(f"\nFNN: parallel stack of {k} nets 4-8-8-1 on a shared input, {n} tokens, {S} nonzero weights")
    print(f"  stack evaluation       {t_stack:.4f} s   {flops / t_stack / 1e9:.2f} GFLOP/s (useful flops)")
    print(f"  dense matmul baseline  {t_dense:.4f} s   {dense_flops / t_dense / 1e9:.2f} GFLOP/s ({side}x{side} weights)")
    print(f"  throughput ratio stack / dense-same-flops = {(flops / t_stack) / (dense_flops / t_dense):.3f}")
    print(f"  dense block-diagonal evaluation (extrapolated from {m} tokens) {t_bd:.3f} s: "
          f"stack is {t_bd / t_stack:.1f}x faster")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-log2n", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    bench_ssm(a.max_log2n, a.repeats)
    bench_fnn(a.repeats)


if __name__ == "__main__":
    main()
