"""The certificate machinery before and after the cost work (docs/certification.md, "Cost"), as new/old ratios
measured in the same run (CPU seconds, best of ``--repeats``; the machine may be shared, so the CPU time of this
process is what is compared):

  * ``IntervalNet.propagate`` against ``propagate_reference`` (the first implementation, kept callable) on the
    float64 breakpoint pieces of the cos net (a = 3, b = 0.5, D = 2) and the exp net, at ``--eps``;
  * the whole cos certificate of lemma-F.3-cos at ``--eps`` (``bnb.certify_fnn`` seeded with the breakpoints):
    old = reference propagation + the per-box arb Taylor enclosure, new = ``propagate`` + the Taylor-cell
    enclosure with the arb one as lazy fallback; the two certified bounds are printed (new <= old expected).

    python benchmarks/bench_certificates.py [--eps 1e-5] [--boxes 16384] [--repeats 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from lemmas import cos as lcos
from lemmas import exp as lexp
from verify.certify.bnb import certify_fnn
from verify.certify.interval import IntervalNet
from verify.certify.piecewise import pl_breakpoints
from verify.claims.cos import trig_enclosure, trig_enclosure_fast


def cpu_best(fn, repeats: int):
    """(CPU seconds of the fastest of ``repeats`` calls, its result)."""
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.process_time()
        out = fn()
        best = min(best, time.process_time() - t)
    return best, out


class _Reference(IntervalNet):
    """``IntervalNet`` whose ``propagate`` is the reference implementation (the old path)."""

    def propagate(self, lo, hi, return_forms: bool = False):
        return self.propagate_reference(lo, hi, return_forms)


def bench_propagate(name, net, lo, hi, boxes, repeats):
    pts = pl_breakpoints(net, lo, hi)
    n = min(boxes, len(pts) - 1)
    b_lo, b_hi = pts[:n, None], pts[1:n + 1, None]
    inet = IntervalNet(net)
    chunks = range(0, n, 8192)
    t_old, (lb0, ub0) = cpu_best(lambda: [np.concatenate(z) for z in zip(*[
        inet.propagate_reference(b_lo[i:i + 8192], b_hi[i:i + 8192]) for i in chunks])], repeats)
    t_new, (lb1, ub1) = cpu_best(lambda: [np.concatenate(z) for z in zip(*[
        inet.propagate(b_lo[i:i + 8192], b_hi[i:i + 8192]) for i in chunks])], repeats)
    w0, w1 = ub0 - lb0, ub1 - lb1
    print(f"propagate, {name} net ({n} breakpoint pieces): old {t_old:.3f} s, new {t_new:.3f} s, new/old "
          f"{t_new / t_old:.2f}; widths new/old in [{np.min(w1 / w0):.12f}, {np.max(w1 / w0):.12f}]")


def bench_cos_certificate(eps, repeats):
    c = lcos.build_cos(3.0, 0.5, 2.0, eps)
    seed = pl_breakpoints(c.net, -2.0, 2.0)
    budget = max(200_000, 2 * len(seed))
    import verify.certify.bnb as bnb

    def run(old: bool):
        saved = bnb.IntervalNet
        bnb.IntervalNet = _Reference if old else IntervalNet
        try:
            enc = trig_enclosure(3.0, 0.5, "cos") if old else trig_enclosure_fast(3.0, 0.5, "cos", -2.0, 2.0)
            return certify_fnn(c.net, enc, [-2.0], [2.0], eps, budget=budget, seed_points=seed, stop_above=2 * eps)
        finally:
            bnb.IntervalNet = saved
    t_old, r0 = cpu_best(lambda: run(True), repeats)
    t_new, r1 = cpu_best(lambda: run(False), repeats)
    print(f"cos certificate ε = {eps:g} ({len(seed) - 1} pieces): old {t_old:.2f} s (bound {r0.bound!r}, "
          f"{r0.boxes} boxes), new {t_new:.2f} s (bound {r1.bound!r}, {r1.boxes} boxes), new/old {t_new / t_old:.2f}; "
          f"certified {r0.certified} / {r1.certified}, new bound <= old: {r1.bound <= r0.bound}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eps", type=float, default=1e-5)
    ap.add_argument("--boxes", type=int, default=16384)
    ap.add_argument("--repeats", type=int, default=2)
    a = ap.parse_args(argv)
    bench_propagate("cos", lcos.build_cos(3.0, 0.5, 2.0, a.eps).net, -2.0, 2.0, a.boxes, a.repeats)
    ce = lexp.build_exp(a.eps)
    bench_propagate("exp", ce.net, 0.0, 64 * ce.params["A"], a.boxes, a.repeats)
    bench_cos_certificate(a.eps, a.repeats)


if __name__ == "__main__":
    main()
