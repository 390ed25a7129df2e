"""Lemma 3.3 block (FNN -> SSM -> FNN) against dense softmax attention, on the same inputs, as ratios.

For N = 2^10 .. 2^16 the block of ``lemmas.attention`` is built for (d, d_v, N, δ, ε, τ) and run on one sequence
meeting the hypotheses (``verify.claims.attention.sample_sequence``).  Timed, best of ``--repeats``:
  * block, all positions: f_1 and f_2 on every token, g by its exact O(N) path (what a causal layer computes);
  * block, last token: f_1 and g on every token, f_2 on the last token only (what Lemma 3.3 states);
  * dense causal softmax attention with the same λ at every position (``verify.reference.attention_causal``:
    the N x N scores in row chunks of 256, never the whole matrix), up to --max-dense-log2n;
  * the same with the masked upper triangle skipped (``attention_causal_tri`` below: row chunk [s0, s1) scores
    only keys < s1, about half the work; checked equal to the reference on every run), a fairer dense baseline;
  * attention for the last query only (O(N d), for scale);
  * with --split, the all-positions block stage by stage (f_1, g, f_2 on every token; f_2 = the product /
    read-out part + the F.4 ratio nets), to see where the time goes.
The ratios printed are dense-attention time / block time on the same sequence ("all" and "last" against the
reference causal attention, "tri all" against the triangular one); the block's last output is compared with
attention's (|diff| <= ε/2 is the lemma's side-by-side bound).  The block's FNNs run single-threaded (the
evaluation plan of ``constructions.plan`` keeps its BLAS calls below OpenBLAS's threading size) unless
``--threads k`` lets the plan run token chunks on k threads (same numbers); the dense baselines use whatever
threads numpy's BLAS takes for their matrix products.

    python benchmarks/bench_attention.py [--d 1] [--max-log2n 16] [--max-dense-log2n 16] [--repeats 1]
                                         [--split] [--threads 1]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from constructions import plan
from lemmas import attention as la
from verify import reference as ref
from verify.claims.attention import sample_sequence


def attention_causal_tri(K, V, Q, lam: float, chunk: int = 256) -> np.ndarray:
    """Causal softmax attention at every position, row chunk [s0, s1) against the keys < s1 only (the masked
    upper triangle of ``verify.reference.attention_causal`` is not computed); same max-shift and formula."""
    N = K.shape[0]
    out = np.empty((N, V.shape[1]))
    for s0 in range(0, N, chunk):
        s1 = min(N, s0 + chunk)
        S = lam * (Q[s0:s1] @ K[:s1].T)
        r = np.arange(s0, s1)
        S[:, s0:][np.arange(s0, s1)[None, :] > r[:, None]] = -np.inf
        S -= np.max(S, axis=1, keepdims=True)
        np.exp(S, out=S)
        out[s0:s1] = (S @ V[:s1]) / np.sum(S, axis=1, keepdims=True)
    return out


def best_of(fn, repeats):
    ts, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t)
    return min(ts), out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--d", type=int, default=1)
    ap.add_argument("--d-v", type=int, default=1)
    ap.add_argument("--delta", type=float, default=1.0)
    ap.add_argument("--eps", type=float, default=0.1)
    ap.add_argument("--route", default="chebyshev", choices=la.ROUTES)
    ap.add_argument("--min-log2n", type=int, default=10)
    ap.add_argument("--max-log2n", type=int, default=16)
    ap.add_argument("--max-dense-log2n", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--split", action="store_true", help="also time f_1, g, f_2 (all positions) separately")
    ap.add_argument("--threads", type=int, default=1, help="threads of the block's FNN evaluation (token chunks)")
    a = ap.parse_args(argv)
    plan.set_plan_threads(a.threads)
    d, d_v = a.d, a.d_v
    print(f"Lemma 3.3 block vs dense softmax attention: d={d}, d_v={d_v}, δ={a.delta}, ε={a.eps}, τ=1, "
          f"route={a.route}; times in s (best of {a.repeats}), ratio = dense / block; block FNNs on {a.threads} "
          f"thread(s)")
    hdr = (f"{'N':>7} {'n':>3} {'m':>3} {'prec':>7} {'S1':>7} {'S2':>7} {'block all':>10} {'block last':>10} {'dense':>9} "
           f"{'dense tri':>9} {'attn last':>9} {'ratio all':>9} {'ratio last':>10} {'tri all':>8} {'|F_N-Attn|':>10}")
    print(hdr)
    rng = np.random.default_rng(0)
    for lg in range(a.min_log2n, a.max_log2n + 1):
        N = 1 << lg
        c = la.build_attention(d, d_v, N, a.delta, a.eps, 1.0, a.route)
        blk = c.net
        X, _ = sample_sequence(rng, N, d, d_v, a.delta, 1.0, "random")
        K, V, Q = X[:, :d], X[:, d:d + d_v], X[:, d + d_v:]
        lam = c.notes["lam"]
        t_all, y_all = best_of(lambda: blk.forward(X, "exact"), a.repeats)
        t_last, y_last = best_of(lambda: blk.last(X, "exact"), a.repeats)
        t_al, att_last = best_of(lambda: ref.attention_last(K, V, Q[-1], lam), a.repeats)
        if lg <= a.max_dense_log2n:
            t_dense, att = best_of(lambda: ref.attention_causal(K, V, Q, lam), a.repeats)
            t_tri, att_tri = best_of(lambda: attention_causal_tri(K, V, Q, lam), a.repeats)
            assert np.allclose(att[-1], att_last, atol=1e-12) and np.allclose(att_tri, att, rtol=0, atol=1e-12)
            r_all, r_last, r_tri = t_dense / t_all, t_dense / t_last, t_tri / t_all
            dense_s = f"{t_dense:9.3f} {t_tri:9.3f}"
        else:
            r_all = r_last = r_tri = float("nan")
            dense_s = f"{'-':>9} {'-':>9}"
        diff = float(np.max(np.abs(y_last - att_last)))
        cnt = blk.counts()
        prec = "f64" if c.notes["float64"] else f"{c.notes['precision_bits']}b"
        print(f"{N:>7} {c.notes['n']:>3} {c.notes['m']:>3} {prec:>7} {cnt['f1']['S']:>7} {cnt['f2']['S']:>7} {t_all:10.3f} "
              f"{t_last:10.3f} {dense_s} {t_al:9.4f} {r_all:9.2f} {r_last:10.2f} {r_tri:8.2f} {diff:10.2e}", flush=True)
        if a.split:
            t1, Z = best_of(lambda: blk.f1(X), a.repeats)
            tg, G = best_of(lambda: blk.g(Z, method="exact"), a.repeats)
            t2, _ = best_of(lambda: blk.f2(G), a.repeats)
            tr, _ = best_of(lambda: blk.readout(G), a.repeats)
            print(f"{'':>7} split (s): f1 {t1:.3f} (S {cnt['f1']['S']}), g {tg:.3f}, f2 {t2:.3f} (S {cnt['f2']['S']}; "
                  f"product/read-out part alone {tr:.3f}, ratio nets ~{t2 - tr:.3f})", flush=True)
        assert diff <= a.eps / 2 and np.allclose(y_all[-1], y_last, atol=1e-12)


if __name__ == "__main__":
    main()
