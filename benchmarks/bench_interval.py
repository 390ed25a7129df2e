"""Sound interval propagation (verify/certify/interval.py) against the plain float64 forward pass, as ratios.

On the pieces of a deep 1-D Appendix F net (its float64 breakpoints, as the certificates use them), timed best
of ``--repeats`` in one run:
  * the float64 forward pass of the net at the piece centres (the baseline);
  * ``IntervalNet.propagate`` on the same pieces (affine forms, row-group errors, outward rounding);
  * the outward rounding alone: ``verify.certify.interval.round_up`` against ``np.nextafter(x, +inf)`` on one array.
It prints the cost of a sound bound per box as a multiple of a float64 evaluation, and the width of the bound
on the pieces (the exact function varies by |slope| x width there; the rest is the error radius).

    python benchmarks/bench_interval.py [--net exp|cos] [--eps 1e-6] [--boxes 32768] [--repeats 3]
"""

from __future__ import annotations

import argparse

import numpy as np
from bench_attention import best_of  # (time, result) of the fastest of `repeats` calls

from lemmas import cos as lcos
from lemmas import exp as lexp
from verify.certify.piecewise import pl_breakpoints
from verify.certify.interval import IntervalNet, round_up


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--net", choices=("exp", "cos"), default="exp")
    ap.add_argument("--eps", type=float, default=1e-6)
    ap.add_argument("--boxes", type=int, default=32768)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args(argv)
    if a.net == "exp":
        c = lexp.build_exp(a.eps)
        lo, hi = 0.0, 64 * c.params["A"]
    else:
        c = lcos.build_cos(3.0, 0.5, 2.0, a.eps)
        lo, hi = -2.0, 2.0
    pts = pl_breakpoints(c.net, lo, hi)
    n = min(a.boxes, len(pts) - 1)
    b_lo, b_hi = pts[:n, None], pts[1:n + 1, None]
    centres = 0.5 * (b_lo + b_hi)
    inet = IntervalNet(c.net)
    cnt = c.net.counts()
    print(f"{a.net} ε = {a.eps:g}: L = {cnt.L}, W = {cnt.W}, S = {cnt.S}; {len(pts) - 1} pieces, timing {n}")
    t_f, _ = best_of(lambda: c.net(centres), a.repeats)
    t_i, (lb, ub) = best_of(lambda: [np.concatenate(z) for z in zip(*[
        inet.propagate(b_lo[i:i + 8192], b_hi[i:i + 8192]) for i in range(0, n, 8192)])], a.repeats)
    x = np.random.default_rng(0).normal(size=4_000_000)
    t_u, _ = best_of(lambda: round_up(x), a.repeats)
    t_n, _ = best_of(lambda: np.nextafter(x, np.inf), a.repeats)
    w = (ub - lb)[:, 0]
    print(f"float64 forward  {t_f:8.3f} s  ({1e6 * t_f / n:.2f} us per point)   baseline")
    print(f"interval bounds  {t_i:8.3f} s  ({1e6 * t_i / n:.2f} us per box)     ratio {t_i / t_f:.1f}x")
    print(f"bound width on the pieces: median {np.median(w):.3g}, max {np.max(w):.3g}")
    print(f"outward rounding on 4e6 floats: round_up {t_u:.4f} s, np.nextafter {t_n:.4f} s: nextafter / round_up = "
          f"{t_n / t_u:.1f}x")


if __name__ == "__main__":
    main()
