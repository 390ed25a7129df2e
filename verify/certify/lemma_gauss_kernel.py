"""Certificate specific to Lemmas F.5 / F.6 item 2 (``lemmas/gauss_kernel.py``): the sup error of the truncated
Gaussian kernel expansion, in exact arithmetic on the stored coefficients (docs/certification.md)."""

from __future__ import annotations

import time
from fractions import Fraction

import numpy as np
from flint import arb, ctx

from ..result import Check


# ------------------------------------------------------------------------------ Gaussian kernel expansion
def certify_gauss_expansion(expansion, R: float, eps: float, prec: int = 320) -> Check:
    """Certified sup error of a truncated expansion Σ_{α ∈ S} φ_α(x) φ_α(y), φ_α(x) = e^{-‖x‖²} c_α x^α, over
    ‖x‖, ‖y‖ <= R (Lemmas F.5 / F.6 item 2), in exact arithmetic on the STORED coefficients c_α.

    With s = x·y, K = max_{α∈S} |α| + 1 and F_K = {|α| < K}, the multinomial theorem gives
    Σ_{α∈F_K} (2^{|α|}/α!) (x∘y)^α = Σ_{k<K} (2s)^k/k!, hence exactly

        e^{-‖x-y‖²} - Σ_S φ_α(x)φ_α(y) = e^{-‖x‖²-‖y‖²} [ Σ_{k>=K} (2s)^k/k!
                                          + Σ_{α ∈ F_K \\ S} (2^{|α|}/α!) (x∘y)^α + Σ_{α∈S} (2^{|α|}/α! - c_α²) (x∘y)^α ].

    Since ‖x‖² + ‖y‖² >= 2|s|, |s| <= R² and λ -> e^{-λ} Σ_{k>=K} λ^k/k! = P[Poisson(λ) >= K] increases, the first
    part is at most P[Poisson(2R²) >= K] (attained at x = y, ‖x‖ = R).  For the other two, with
    u_i = (x_i² + y_i²)/2 ∈ [0, R²]: |x_i y_i| <= u_i and e^{-‖x‖²-‖y‖²} = Π_i e^{-2u_i}, so
    e^{-‖x‖²-‖y‖²} |(x∘y)^α| <= Π_i max_{0<=u<=R²} e^{-2u} u^{α_i} = Π_i e^{-2u*} u*^{α_i}, u* = min(α_i/2, R²).  The three numbers are computed in arb (``prec`` bits), so the bound is sound; no
    branch-and-bound is needed.  PASS (certified) when the bound is <= ε; otherwise INCONCLUSIVE (an upper
    bound above ε proves nothing; the sampled checks decide FAIL)."""
    if not (R > 0 and np.isfinite(R)) or not (eps > 0 and np.isfinite(eps)):
        raise ValueError(f"need R > 0 and eps > 0, got R={R!r}, eps={eps!r}")
    t0 = time.perf_counter()
    al = np.asarray(expansion.alphas, dtype=np.int64)
    coef = np.asarray(expansion.coef, dtype=np.float64)
    K = int(al.sum(axis=1).max()) + 1 if len(al) else 0
    d = al.shape[1]
    old = ctx.prec
    ctx.prec = prec
    try:
        lam = 2 * arb(float(R)) ** 2
        R2 = arb(float(R)) ** 2
        part = arb(0)
        term = arb(1)
        for k in range(K):
            if k:
                term = term * lam / k
            part += term
        tail = 1 - (-lam).exp() * part  # P[Poisson(2R²) >= K]
        present = {tuple(a) for a in al.tolist()}
        peak = {}

        def weight(a):  # Π_i max_{0<=u<=R²} e^{-2u} u^{a_i}
            w = arb(1)
            for ai in a:
                if ai:
                    if ai not in peak:
                        # the peak of e^{-2u} u^a is at u = a/2; exact comparison with R² (Fractions)
                        u = arb(ai) / 2 if Fraction(ai, 2) <= Fraction(float(R)) ** 2 else R2
                        peak[ai] = (-2 * u).exp() * u ** ai
                    w = w * peak[ai]
            return w
        missing = arb(0)
        # F_K \ S: enumerate F_K (C(K-1+d, d) indices; fine at the sizes the claims use)
        def rec(prefix, left):
            if len(prefix) == d:
                yield tuple(prefix)
                return
            for a in range(left + 1):
                yield from rec(prefix + [a], left - a)
        n_missing = 0
        for a in rec([], K - 1):
            if a not in present:
                n_missing += 1
                w = arb(2) ** sum(a)
                for ai in a:
                    w = w / arb.fac_ui(ai)
                missing += w * weight(a)
        coef_err = arb(0)
        for a, c in zip(al.tolist(), coef.tolist()):
            w = arb(2) ** sum(a)
            for ai in a:
                w = w / arb.fac_ui(ai)
            coef_err += abs(w - arb(c) ** 2) * weight(a)
        total = tail + missing + coef_err
        up = float(np.nextafter(float(total.upper()), np.inf))
        parts = {"tail_P[Poisson(2R^2)>=K]": float(tail.upper()), "missing_terms": float(missing.upper()),
                 "n_missing_terms": n_missing, "coefficient_rounding": float(coef_err.upper())}
        ok = bool(total <= arb(float(eps)))
    finally:
        ctx.prec = old
    det = {"K": K, "d": d, "terms": int(len(al)), **parts, "seconds": time.perf_counter() - t0,
           "method": "multinomial identity + monotone Poisson tail, evaluated in arb (sound); exact arithmetic "
                     "on the stored coefficients", "precision": f"arb {prec} bits"}
    if not ok:
        det["reason"] = f"certified upper bound {up:.6g} > ε = {eps:.6g}: not a proof of failure"
    chk = Check(f"certified: sup over ‖x‖, ‖y‖ <= R of the expansion error <= ε (bound {up:.6g})",
                True if ok else None, up, float(eps), det)
    chk.certified = ok
    return chk
