"""Numbers of the positive-feature route of Lemma 3.3 (``lemmas.attention_positive``), for
docs/lemmas/lemma-3.3-positive-route.md: quadrature sizes (Gauss–Hermite against the uniform grid the builder
uses), the cost of the Appendix F exp net at the relative accuracy the route needs, and the block's counts.

    python benchmarks/positive_route_numbers.py [--delta 0.5] [--eps 0.1] [--counts]

(a) Quadrature of e^{λ<k,q>} over ‖k‖, ‖q‖ <= 1, relative error target μ (the builder's quadrature share):
    * Gauss–Hermite (probabilists'), E_w e^{√λ<w,k+q>} = e^{λ‖k+q‖²/2}: per coordinate the relative error is
      one-sided and <= P[Poisson(a²/2) >= n], a = √λ (k_l + q_l), |a| <= 2√λ; n_GH = the smallest n with
      P[Poisson(2λ) >= n] <= μ/(2d) (a loose bound), n_meas the smallest n whose measured error is <= μ/(2d)
      (tensor rule: J = n_meas^d nodes); measured: the worst relative error of numpy's hermegauss rule at a = 2√λ
      (d = 1) and over a grid of directions (d = 2); the largest node w_max and the dynamic range of the key
      feature e^{√λ w k - λk²/2} over the nodes, e^{√λ w_max + λ/2} (k = ±1).
    * the uniform grid of the builder: J_0 = ⌈(1+R)/h⌉ per coordinate, measured worst relative error over a grid of
      (k, q) (d = 1: 401 x 401 points; d = 2: 2000 random pairs on the unit sphere and inside).
(b) The F.3 exp net (``lemmas.exp``) with absolute error ρ e^{-X_1} (what relative accuracy ρ on [e^{-X_1}, 1]
    needs): its (L, S, B) by ``lemmas.exp.exp_formula``; float64 resolves only ε >= ``lemmas.exp.MIN_EPS``.
"""

from __future__ import annotations

import argparse
import math

import mpmath
import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from lemmas import attention_positive as ap
from lemmas.exp import MIN_EPS, exp_formula


def poisson_upper_tail(mean: float, n: int) -> float:
    """P[Poisson(mean) >= n] (mpmath)."""
    with mpmath.workdps(30):
        m = mpmath.mpf(mean)
        return float(1 - mpmath.exp(-m) * mpmath.fsum(m ** j / mpmath.factorial(j) for j in range(n)))


def n_gauss_hermite(lam: float, target: float) -> int:
    n = 2
    while poisson_upper_tail(2 * lam, n) > target:
        n += 1
    return n


def n_gauss_hermite_measured(lam: float, target: float, d: int, start: int = 4) -> int:
    """The smallest n whose measured worst error (``gh_rel_error``) is <= target."""
    n = start
    while gh_rel_error(lam, n, d) > target:
        n += 1
    return n


def gh_rel_error(lam: float, n: int, d: int) -> float:
    """Worst measured |Q/I - 1| of the n^d tensor Gauss–Hermite rule for E e^{√λ<w, k+q>} (worst case ‖k+q‖ = 2)."""
    w, om = hermegauss(n)
    om = om / math.sqrt(2 * math.pi)
    worst = 0.0
    angles = [0.0] if d == 1 else np.linspace(0, math.pi / 4, 9)
    for th in angles:
        a = 2 * math.sqrt(lam) * (np.array([1.0]) if d == 1 else np.array([math.cos(th), math.sin(th)]))
        with mpmath.workdps(40):
            Q = mpmath.mpf(1)
            for al in a:
                Q *= mpmath.fsum(mpmath.mpf(float(o)) * mpmath.exp(mpmath.mpf(float(al)) * mpmath.mpf(float(x)))
                                 for o, x in zip(om, w)) / mpmath.exp(mpmath.mpf(float(al)) ** 2 / 2)
            worst = max(worst, abs(float(Q) - 1))
    return worst


def grid_rel_error(b: dict, d: int, rng) -> float:
    """Worst measured |Σ_t c F_t(k) H_t(q) / e^{λ(<k,q> - 1)} - 1| of the builder's grid (float64 features)."""
    lam, t, c = b["lam"], ap.nodes(b), b["c"]
    if d == 1:
        g = np.linspace(-1, 1, 401)
        K, Q = np.repeat(g, len(g))[:, None], np.tile(g, len(g))[:, None]
    else:
        K = rng.normal(size=(2000, 2))
        K /= np.linalg.norm(K, axis=1, keepdims=True)
        K[1000:] *= rng.random((1000, 1))
        Q = rng.normal(size=(2000, 2))
        Q /= np.linalg.norm(Q, axis=1, keepdims=True)
        Q[1000:] *= rng.random((1000, 1))
    lF = lam * np.sum(K * K, 1)[:, None] / 2 - lam * np.sum((K[:, None, :] - t[None]) ** 2, -1) - lam / 2
    lH = lam * np.sum(Q * Q, 1)[:, None] / 2 - lam * np.sum((Q[:, None, :] - t[None]) ** 2, -1) - lam / 2
    s = np.sum(K * Q, 1)
    approx = c * np.sum(np.exp(lF + lH - lam * (s[:, None] - 1)), 1)
    return float(np.max(np.abs(approx - 1)))


def main() -> None:
    ap_ = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap_.add_argument("--delta", type=float, default=0.5)
    ap_.add_argument("--eps", type=float, default=0.1)
    ap_.add_argument("--counts", action="store_true", help="also the block's exact counts (formula only)")
    ap_.add_argument("--search", type=int, default=0, help="random + perturbed-tight sequences for the built block")
    ap_.add_argument("--N", type=int, default=1024)
    ap_.add_argument("--d", type=int, default=1)
    a = ap_.parse_args()
    rng = np.random.default_rng(0)
    if a.search:
        search(a.N, a.d, 1, a.delta, a.eps, a.search, rng)
        return
    print("(a) quadrature, relative-error share μ/(2d) per coordinate")
    print("  d  log2N  λ      μ        n_GH(bound) n_meas  GH nodes  GH rel.err  w_max  range(ln)  J0  grid nodes  "
          "grid rel.err")
    for d in (1, 2):
        for k in range(6, 15, 2):
            N = 2 ** k
            b = ap.budget(N, d, 1, a.delta, a.eps, None)
            lam, mu = b["lam"], b["mu"]
            nb = n_gauss_hermite(lam, mu / (2 * d))
            n = n_gauss_hermite_measured(lam, mu / (2 * d), d, start=max(4, nb // 3))
            wmax = float(np.max(hermegauss(n)[0]))
            rng_ln = math.sqrt(lam) * wmax + lam / 2
            print(f"  {d}  {k:5d}  {lam:6.2f} {mu:.2e}  {nb:4d}        {n:4d}  {n ** d:8d}  {gh_rel_error(lam, n, d):.2e}   "
                  f"{wmax:5.2f}  {rng_ln:8.1f}  {b['J0']:3d}  {b['J']:10d}  {grid_rel_error(b, d, rng):.2e}")
    print("(b) F.3 exp net at absolute error ρ e^{-X_1} (relative ρ down to e^{-X_1}); float64 floor", MIN_EPS)
    print("  log2N  ρ        X_1    eps_abs    L      S        B     | PWL exp knots (one hidden layer)")
    for k in range(6, 15, 2):
        N = 2 ** k
        b = ap.budget(N, 1, 1, a.delta, a.eps, None)
        e = b["rho"] * math.exp(-b["X1"])
        f = exp_formula(e)
        print(f"  {k:5d}  {b['rho']:.2e} {b['X1']:6.2f} {e:.2e}  {f['L']:5d}  {f['S']:7d}  {f['B']:6.1f} | "
              f"{len(b['knots']['exp1']) - 1}")
    if a.counts:
        print("(c) block counts (exact formula), margin-only τ = δ - 1")
        for d, dv in ((1, 2), (2, 1)):
            for k in range(6, 15, 2):
                N = 2 ** k
                f = ap.positive_formula(N, d, dv, a.delta, a.eps, None)
                b = ap.budget(N, d, dv, a.delta, a.eps, None)
                print(f"  d={d} d_v={dv} N=2^{k}: J={f['J']} S1={f['f1']['S']} S2={f['f2']['S']} "
                      f"total={f['total_nonzeros']} L=({f['f1']['L']},{f['f2']['L']}) W={max(f['f1']['W'], f['f2']['W'])} "
                      f"log2 B={math.log2(max(f['f1']['B'], f['f2']['B'])):.1f} bound_r={b['bound_r']:.3g} "
                      f"float_bound={b['float_bound']:.2g}")


def sequence(rng, N, d, d_v, delta, kind):
    """A sequence meeting the margin-only hypothesis: q with ‖q‖ ∈ [δ/2, 1], top score s* ∈ [max(δ-1, -‖q‖+δ), ‖q‖],
    the others in [-‖q‖, s* - δ] ('random'), all at s* - δ ('tight'), or within 0.01 of it ('near')."""
    nq = rng.uniform(delta / 2, 1.0) if kind == "random" else 1.0
    q = rng.normal(size=d)
    q *= nq / np.linalg.norm(q)
    lo = max(delta - 1.0, -nq + delta)
    s_top = rng.uniform(lo, nq) if kind == "random" else lo
    s = {"random": lambda: rng.uniform(-nq, s_top - delta, N),
         "tight": lambda: np.full(N, s_top - delta),
         "near": lambda: s_top - delta - 0.01 * rng.random(N)}[kind]()
    pos = int(rng.integers(N))
    s[pos] = s_top
    u = q / nq
    par = (s / nq)[:, None] * u[None]
    if d == 1:
        K = par
    else:
        w = rng.normal(size=(N, d))
        w -= np.outer(w @ u, u)
        w /= np.linalg.norm(w, axis=1, keepdims=True)
        K = par + np.sqrt(np.maximum(0, 1 - (s / nq) ** 2))[:, None] * w * rng.random((N, 1)) ** (kind == "random")
    V = rng.uniform(-1, 1, (N, d_v)) if kind == "random" else np.tile(rng.choice([-1.0, 1.0], d_v), (N, 1))
    if kind != "random":
        V[pos] = -V[pos]
    return np.concatenate([K, V, np.tile(q, (N, 1))], 1), pos


def search(N, d, d_v, delta, eps, count, rng) -> None:
    c = ap.build_attention_positive(d, d_v, N, delta, eps)
    lam = c.notes["lam"]
    worst = {}
    for i in range(count):
        for kind in ("random", "tight", "near"):
            X, pos = sequence(rng, N, d, d_v, delta, kind)
            Kk, V, q = X[:, :d], X[:, d:d + d_v], X[-1, d + d_v:]
            sc = Kk @ q
            assert np.argmax(sc) == pos and np.sort(sc)[-1] - np.sort(sc)[-2] >= delta - 1e-12
            w = np.exp(lam * (sc - sc.max()))
            out = c.net.last(X)
            e_att = float(np.max(np.abs(out - w @ V / w.sum())))
            e_v = float(np.max(np.abs(out - V[pos])))
            a, b = worst.get(kind, (0.0, 0.0))
            worst[kind] = (max(a, e_att), max(b, e_v))
    print(f"(d) search N={N} d={d} d_v={d_v}: {count} sequences per kind; bound on |F-Attn| "
          f"{2 * (c.notes['bound_r'] + c.notes['float_bound']):.4f}, eps {eps}")
    for kind, (a, b) in worst.items():
        print(f"  {kind:6s}  max |F - Attn| = {a:.4g}   max |F - v*| = {b:.4g}")


if __name__ == "__main__":
    main()
