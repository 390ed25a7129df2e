"""P-bit sound evaluation of the Lemma 3.3 block against its float64 evaluation, as ratios (issue 15).

For N = 2^10, 2^12, 2^14 the block of ``lemmas.attention`` is built at the claim's default (d = 1, d_v = 2,
δ = 0.5, ε = 0.1, τ = 1, chebyshev) and run on one sequence meeting the hypotheses
(``verify.claims.attention.sample_sequence``).  Timed in one run, best of ``--repeats``:
  * float64: ``AttentionBlock.last`` (f_1 and g on every token, f_2 on the last token; the compiled plan);
  * P-bit: ``verify.certify.lemma_attention.block_fixed`` at P = 64, 128, 256, 512 (the int64-limb path of
    ``verify.certify.fixedpoint``: f_1 streamed over token chunks, g at the last token, f_2 and the read-out on
    the last token); the FNNs are compiled (``FixedFNN.of``) before the timing;
  * the earlier Python-integer evaluator (``fnn_fixed_objects`` / ``ssm_fixed_objects``) at N <= --old-max-n.
Printed: seconds, ratio to float64, the enclosure's largest width and whether it contains the float64 value's
neighbourhood (for the record only; the enclosure is the sound one).

    python benchmarks/bench_fixedpoint.py [--log2n 10 12 14] [--bits 64 128 256 512] [--repeats 1]
                                          [--old-max-n 1024]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from lemmas import attention as la
from verify.certify.fixedpoint import FixedFNN, fnn_fixed_objects, scaled, ssm_fixed_objects
from verify.certify.lemma_attention import block_fixed
from verify.claims.attention import sample_sequence


def old_block(block, X, P):
    lo, hi = scaled(X.T.copy(), P, False), scaled(X.T.copy(), P, True)
    zl, zu = fnn_fixed_objects(block.f1, lo, hi, P)
    gl, gu = ssm_fixed_objects(block.g, zl, zu)
    return fnn_fixed_objects(block.f2, gl[:, -1:], gu[:, -1:], P)


def best(fn, repeats):
    t = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        t = min(t, time.perf_counter() - t0)
    return t, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log2n", type=int, nargs="+", default=[10, 12, 14])
    ap.add_argument("--bits", type=int, nargs="+", default=[64, 128, 256, 512])
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--old-max-n", type=int, default=1024)
    a = ap.parse_args()
    print("| N | float64 s | " + " | ".join(f"P={P} s (ratio)" for P in a.bits) + " | old evaluator P=128 s (ratio) |")
    print("|---|---|" + "---|" * len(a.bits) + "---|")
    for lg in a.log2n:
        N = 1 << lg
        c = la.build_attention(1, 2, N, 0.5, 0.1, 1.0, "chebyshev")
        X, _ = sample_sequence(np.random.default_rng(0), N, 1, 2, 0.5, 1.0, "random")
        for f in (c.net.f1, c.net.f2, c.net.readout):
            FixedFNN.of(f)
        c.net.last(X)
        t64, y64 = best(lambda: c.net.last(X), a.repeats)
        cells, widths = [], []
        for P in a.bits:
            block_fixed(c.net, X[:8], P)  # limb matrices for this width built outside the timing
            t, (y, _) = best(lambda: block_fixed(c.net, X, P), a.repeats)
            widths.append(max(float(hi - lo) for lo, hi in y))
            cells.append(f"{t:.2f} ({t / t64:.0f}x)")
        if N <= a.old_max_n:
            t_old, _ = best(lambda: old_block(c.net, X, 128), 1)
            old = f"{t_old:.1f} ({t_old / t64:.0f}x)"
        else:
            old = "-"
        print(f"| 2^{lg} | {t64:.3f} | " + " | ".join(cells) + f" | {old} |", flush=True)
        print(f"<!-- N=2^{lg}: max enclosure width per P {dict(zip(a.bits, (f'{w:.2e}' for w in widths)))}; "
              f"float64 F_N = {np.round(y64, 6).tolist()} -->", flush=True)


if __name__ == "__main__":
    main()
