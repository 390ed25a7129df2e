"""Lemma H.3 / recall / induction by the paper's route (``lemmas.ngram_attention``): counts, precision, float64.

For each size (|V|, n) the model is built for the longest prompts the hypothesis allows and run on
  * n = 1: associative-recall prompts with |V|/2 distinct keys (``verify.tasks.generate.recall``, length |V| + 1);
  * n >= 2: de Bruijn prompts (every n-gram once, length |V|^n + 2n - 1, ``de_bruijn_prompts``);
in float64 (``last_logits``: accuracy, smallest logit margin) and in sound P-bit fixed point
(``last_logits_fixed``: ``verify.certify.fixedpoint`` streamed over token chunks): certified at P = 53 and at --P-high, ``bits_needed`` (the smallest P
certifying every row), and the largest |float64 logit - exact enclosure midpoint| (the float64 run's own error,
beside the margin it must stay below).  Printed with the counts (D, L, W, S, B, state), the information lower bound
N log2(|V|/2) bits, the state capacity (state size x log2(N + 1) bits: each running sum is a count <= N), and the
term counts of the other kernel expansions (2^{nk} sign-multilinear, C(deg + nk, nk) generic Lemma 3.3).

    python benchmarks/bench_ngram_paper.py [--rows 8] [--fixed-rows 2] [--P-high 120] [--sizes 8:1,16:1,4:2]
                                           [--fixed-max-N 2000] [--json out.json]
"fixed_over_f64" is the P-bit certification time (all its runs) over the float64 run's, measured together.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np

from lemmas.ngram_attention import build_ngram_lookup_paper, generic_route, last_logits
from verify.certify.lemma_ngram_attention import bits_needed, certify_rows, de_bruijn_prompts, last_logits_fixed
from verify.tasks import generate as gen

DEFAULT_SIZES = "8:1,16:1,32:1,64:1,128:1,4:2,8:2,16:2,4:3,32:2"


def prompts_for(V: int, n: int, rows: int, seed: int = 0):
    if n == 1:
        t = gen.recall(rows, V // 2, n_keys=V // 2, n_values=V - V // 2, seed=seed)
        return t.tokens[:, :V + 1], t.tokens[:, V + 1]
    return de_bruijn_prompts(V, n, rows, seed)


def run(V: int, n: int, rows: int, fixed_rows: int, P_high: int, delta: float, eps: float,
        fixed_max_N: int = 1 << 30) -> dict:
    X, T = prompts_for(V, n, rows)
    N = X.shape[1]
    t0 = time.perf_counter()
    c = build_ngram_lookup_paper(V, n, N, delta, eps)
    t_build = time.perf_counter() - t0
    f, nt = c.formula, c.notes
    t0 = time.perf_counter()
    L64 = last_logits(c.net, X)
    t_f64 = time.perf_counter() - t0
    top = L64[np.arange(len(T)), T]
    margin64 = float(np.min(top - np.where(np.arange(V)[None] == T[:, None], -np.inf, L64).max(-1)))
    Xf, Tf = X[:fixed_rows], T[:fixed_rows]
    t0 = time.perf_counter()
    ok53 = okH = P_need = dev = None
    if N <= fixed_max_N:
        ok53 = bool(certify_rows(c.net, Xf, Tf, 53)[0].all())
        okH = bool(certify_rows(c.net, Xf, Tf, P_high)[0].all())
        dev = 0.0
        for x, l64 in zip(Xf, L64[:fixed_rows]):
            lo, hi = last_logits_fixed(c.net, x, P_high)
            mid = np.array([(int(a) + int(b)) / 2.0 ** (P_high + 1) for a, b in zip(lo, hi)])
            dev = max(dev, float(np.max(np.abs(mid - l64))))
        P_need = bits_needed(c.net, Xf, Tf, P_lo=4, P_hi=P_high)
    t_fixed = time.perf_counter() - t0
    gr = generic_route(V, n, nt["k"], N, nt["delta_c"], eps)
    return {"V": V, "n": n, "N": N, "k": nt["k"], "delta_c": round(nt["delta_c"], 4), "lam": round(nt["lam"], 3),
            "kappa": nt["kappa"], "error_bound": nt["error_bound"],
            "D": f["D"], "L": f["L"], "W": f["W"], "S": f["S"], "B": f["B"], "state": f["state_total"],
            "total_nonzeros": f["total_nonzeros"], "key_features": f["key_features"],
            "acc_f64": float(np.mean(L64.argmax(-1) == T)), "rows": len(T), "margin_f64": margin64,
            "f64_dev_vs_exact": dev, "cert_P53": ok53, "cert_P_high": okH, "P_high": P_high,
            "bits_needed": P_need, "info_bound_bits": round(N * math.log2(V / 2), 1),
            "state_capacity_bits": round(nt["state_capacity_bits"], 1),
            "sign_multilinear_features": f"2^{n * nt['k']}", "generic_degree": gr.get("degree"),
            "generic_terms": f"{gr['generic_terms']:.3g}" if gr.get("generic_terms") else None,
            "t_build_s": round(t_build, 2), "t_f64_s": round(t_f64, 2), "t_fixed_s": round(t_fixed, 2),
            "fixed_over_f64": round(t_fixed / max(t_f64, 1e-9), 1) if P_need is not None else None}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=8)
    ap.add_argument("--fixed-rows", type=int, default=2)
    ap.add_argument("--P-high", type=int, default=120)
    ap.add_argument("--delta", type=float, default=0.5)
    ap.add_argument("--eps", type=float, default=0.1)
    ap.add_argument("--sizes", default=DEFAULT_SIZES)
    ap.add_argument("--json", default=None)
    ap.add_argument("--fixed-max-N", type=int, default=1 << 30, help="skip the P-bit runs above this length")
    a = ap.parse_args()
    out = []
    for s in a.sizes.split(","):
        V, n = map(int, s.split(":"))
        r = run(V, n, a.rows, a.fixed_rows, a.P_high, a.delta, a.eps, a.fixed_max_N)
        print(json.dumps(r), flush=True)
        out.append(r)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
