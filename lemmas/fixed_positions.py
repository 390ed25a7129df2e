"""Theorem I.2 (Appendix I.1), a concrete instance: an SSM that approximates a γ-smooth target whose important
features sit at fixed positions.

Target (``verify.gamma_smooth``): scalar tokens x_t ∈ [0, 1] (t <= 0; zero before the sequence's start),

    f(X) = Σ_{j>=0} c_j sin(2π x_{-j}),     c_j = c_0 (j + 1)^{-p},   0 < c_0 <= 1,  p > 1.

Statement verified (``thm-I.2``).  For 0 < ε < 1 the model F = f ∘ g ∘ Emb built below satisfies
|F(X)_0 - f(X)| <= ε for every sequence X ∈ [0, 1]^{Z<=0} (the last position 0 reads only the window U).

Construction (the proof of Theorem I.2 with the FNN of Lemma I.3 replaced by the exact sum structure of f):
  * Emb: x ↦ (x, ..., x) ∈ R^U (E = 1_U, no bias): one channel per important position j < U.
  * g: one SSM layer, window U, channel j picks position -j:  y_j = Σ_{s<U} k^{(j)}_s x_{-s}.  Filters (``filter``):
      - ``cosine`` (the paper's way, Lemma F.5 item 2 as a filter): k^{(j)}_s = cos^n(π (s - j) / U), a Gaussian-like
        bump at s = j (cos^n θ ≈ e^{-nθ²/2}), written as a sum of cosines by the power-reduction formula
        cos^n θ = 2^{-n} Σ_k C(n, k) cos((n - 2k) θ) (n even).  At integer s the frequencies (n - 2k)π/U alias modulo
        2π, so the terms fold exactly onto θ_i = 2π i / U, i = 0..⌊U/2⌋ (weights β_i = sums of 2^{-n} C(n, k) over
        n - 2k ≡ ±2i (mod 2U), computed as a U-point cosine transform, ``folded_weights``): J = ⌊U/2⌋ + 1 rotation
        blocks, state 2J per channel.  k^{(j)}_j = Σ β = 1 and for
        s ≠ j, |s - j| <= U - 1 gives π|s - j|/U ∈ [π/U, π - π/U], so 0 <= k^{(j)}_s <= η := cos^n(π/U).  n is the
        smallest even number with η <= η_0 = ρ / (U - 1), ρ the feature budget below.  (As n → ∞ the weights tend to
        1/U, 2/U: the exact DFT indicator, ``dft``.)
      - ``dft``: k^{(j)}_s = (1/U) Σ_{i<U} cos(2π i (s - j)/U) = 1{s = j} exactly (folded: β_0 = 1/U, β_i = 2/U,
        β_{U/2} = 1/U for even U), the same J rotation blocks, η = 0.
      - ``delay``: exact shift registers (``constructions.ssm.delay``), state j, η = 0.
    Feature error (x ∈ [0, 1]): |y_j - x_{-j}| <= Σ_{s≠j} k^{(j)}_s <= (U - 1) η =: ρ_U <= ρ.
  * f: token-wise FNN on the last token, F = Σ_{j<U} c_j φ(y_j - 1/2), φ the F.3 net (``lemmas.cos``) for
    sin(2π x' + π) = sin(2π (x' + 1/2)) on x' ∈ [-D, D], D = 1/2 + ρ_U (so y_j ∈ [-ρ_U, 1 + ρ_U] is covered); the U
    copies in parallel, the read-out Σ c_j merged into their last map.
Error budget (exact split; C_U = Σ_{j<U} c_j):
    |F - f| <= Σ_{j>=U} c_j  +  C_U (ε_φ + 2π ρ_U)          (sin is 2π-Lipschitz),
  tail:    U the smallest with c_0 ζ(p, U + 1) <= ε/2 (Hurwitz zeta, mpmath; the sup of the tail, attained at
           x_{-j} = 1/4 for every j >= U);
  network: cosine: ε_φ = ε/(4 C_U), ρ = ε/(8π C_U);  dft, delay: ε_φ = ε/(2 C_U), ρ = 0.
Counts (exact; s, K, m of the F.3 net for sin(2π x' + π) on [-D, D] at ε_φ, i.e. ``lemmas.cos.build_sin(2π, -π, D, ε_φ)``):
    Emb: U nonzeros.   g: U channels, window U;  state per channel 2J (cosine, dft) or j (delay);
        nonzeros: delay 1 + Σ_{1<=j<U} (j + 1) = U(U + 1)/2 (channel 0: D = 1; channel j >= 1: j - 1 in A, B, C),
        cosine/dft <= U (7J + 1) (a 2x2 block, two B and one C entries per term, D; exact zeros of the float
        rotations are not predicted: reported as the bound ``ssm_nnz_max``).
    f: L = L_φ, W = U W_φ, S = U S_φ (the last map of φ has no bias; the read-out rescales its 9 weights by c_j),
       B = B_φ = max(8, |α|) (the read-out weights are <= 4 c_0 <= 4), with (L_φ, W_φ, S_φ) = ``lemmas.cos.cos_formula``
       at the shifted first bias β - α/2 (the input x' = y - 1/2 enters the first layer).
Growth: U ~ (2 c_0 / ((p - 1) ε))^{1/(p - 1)} (the number of important features: the analogue of the ε^{-1/a†} of
Takakura & Suzuki's count), L_φ = O(log² 1/ε), so S = Θ(U log² 1/ε) and the SSM state is Θ(U²) (all three filters)
— polynomial in 1/ε with exponent 1/(p - 1), as the paper's ε^{-1/a†} count (poly-log times a power of 1/ε).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

from constructions import algebra
from constructions.circuit import Circuit
from constructions.model import Embedding, SSMModel
from constructions.ssm import SSMLayer, cosine, delay
from constructions.validate import check_eps, check_real

from .base import Construction
from .cos import build_sin, cos_formula, cos_params, emit_cos

FILTERS = ("cosine", "dft", "delay")
MAX_U = 4096


def coefficients(c0: float, p: float, U: int) -> np.ndarray:
    """c_j = c_0 (j + 1)^{-p}, j < U."""
    return c0 * (np.arange(U, dtype=np.float64) + 1.0) ** (-p)


def tail(c0: float, p: float, U: int):
    """Σ_{j>=U} c_j = c_0 ζ(p, U + 1) (mpmath, 30 digits)."""
    with mpmath.workdps(30):
        return mpmath.mpf(c0) * mpmath.zeta(mpmath.mpf(p), U + 1)


def window_for(c0: float, p: float, eps_tail: float) -> int:
    """The smallest U >= 1 with c_0 ζ(p, U + 1) <= eps_tail (bracketed by the integral bounds
    U^{1-p}/(p-1) >= ζ(p, U+1)/c_0 >= (U+1)^{1-p}/(p-1), then bisection)."""
    log_hi = (math.log(c0) - math.log((p - 1.0) * eps_tail)) / (p - 1.0)
    if log_hi > math.log(MAX_U):
        raise ValueError(f"window U = e^{log_hi:.4g} needed (above {MAX_U}): ε too small for p = {p}")
    hi = max(1, math.ceil(math.exp(log_hi)))
    if hi > MAX_U:
        raise ValueError(f"window U = {hi} needed (above {MAX_U}): ε too small for p = {p}")
    lo = 1
    while tail(c0, p, hi) > eps_tail:  # the integral bound guarantees this does not loop; kept for rounding
        hi += 1
    while lo < hi:
        mid = (lo + hi) // 2
        if tail(c0, p, mid) <= eps_tail:
            hi = mid
        else:
            lo = mid + 1
    return lo


def folded_weights(U: int, n: int | None) -> np.ndarray:
    """β_0..β_{⌊U/2⌋} of the folded filter: n even -> cos^n(π t / U) at integer t; None -> the DFT indicator
    1{t ≡ 0 mod U}.  Both are U-periodic in t (n even: cos^n(π(t + U)/U) = cos^n(π t/U)), so β is their U-point
    cosine transform, β_i = (c_i / U) Σ_{t<U} k(t) cos(2π i t / U), c_i = 1 for i = 0 and i = U/2, else 2
    (float64; equal to the folded power-reduction weights 2^{-n} Σ C(n, k) of the module docstring)."""
    J = U // 2 + 1
    i = np.arange(J)
    ci = np.where((i == 0) | (2 * i == U), 1.0, 2.0)
    if n is None:
        return ci / U
    t = np.arange(U)
    with np.errstate(divide="ignore"):
        v = np.exp(n * np.log(np.abs(np.cos(np.pi * t / U))))
    return ci / U * (np.cos(2.0 * np.pi * np.outer(i, t) / U) @ v)


def degree_for(U: int, eta0: float) -> int:
    """The smallest even n >= 2 with cos^n(π/U) <= η_0 (mpmath)."""
    if U == 1:
        return 2
    with mpmath.workdps(30):
        cq = mpmath.cos(mpmath.pi / U)
        n = max(2, 2 * math.floor(float(mpmath.log(eta0) / mpmath.log(cq)) / 2))
        while cq ** n > eta0:
            n += 2
        while n > 2 and cq ** (n - 2) <= eta0:
            n -= 2
        return n


def filter_channel(kind: str, U: int, j: int, n: int | None):
    if kind == "delay":
        return delay(j)
    beta = folded_weights(U, n if kind == "cosine" else None)
    i = np.arange(len(beta))
    theta = 2.0 * math.pi * i / U
    phi = -2.0 * math.pi * ((i * j) % U) / U
    return cosine(beta, theta, phi)


def fixed_params(c0: float, p: float, eps: float, filt: str, U: int | None = None) -> dict:
    """Every budget of the module docstring as numbers."""
    if U is None:
        U = window_for(c0, p, eps / 2)
    cU = math.fsum(coefficients(c0, p, U))
    if filt == "cosine":
        eps_phi, rho = eps / (4.0 * cU), eps / (8.0 * math.pi * cU)
        n = degree_for(U, rho / (U - 1)) if U > 1 else 2
        with mpmath.workdps(30):
            eta = float(mpmath.cos(mpmath.pi / U) ** n) if U > 1 else 0.0
    else:
        eps_phi, rho, n, eta = eps / (2.0 * cU), 0.0, None, 0.0
    rho_U = (U - 1) * eta
    D = 0.5 + rho_U
    return {"U": U, "C_U": cU, "eps_phi": eps_phi, "rho": rho, "rho_U": rho_U, "n": n, "eta": eta, "D": D,
            "J": U // 2 + 1, "tail": float(tail(c0, p, U))}


def features(model: SSMModel, X, method: str = "auto") -> np.ndarray:
    """y_j at every position for scalar sequences X (..., N): g(Emb(X))."""
    X = np.asarray(X, dtype=np.float64)
    g = model.blocks[0][0]
    return g(model.embedding(X[..., None]), method=method)


def last(model: SSMModel, X, method: str = "auto") -> np.ndarray:
    """F(X)_0 (shape (...)): the FNN on the last token only (the same numbers as ``model(X[..., None])[..., -1, 0]``)."""
    return model.blocks[0][1](features(model, X, method)[..., -1, :])[..., 0]


def model_counts(model: SSMModel) -> dict:
    """The counts of the formula, read from the emitted weights."""
    c = model.counts()
    g = c["ssm"][0]
    return {"L": c["L"], "W": c["W"], "S": c["S"], "B": c["B"], "U": g["U"], "D": g["channels"],
            "state_total": g["state_total"], "largest_state": g["state_max"], "ssm_nnz": g["nnz"],
            "emb_nnz": int(np.count_nonzero(model.embedding.E)), "total_nonzeros": c["total_nonzeros"]}


def phi_params(eps_phi: float, D: float) -> dict:
    """cos_params of the F.3 net φ ≈ sin(2π x' + π) = cos(2π x' + π/2) on [-D, D] (b = -π + π/2, as ``build_sin``)."""
    return cos_params(2.0 * math.pi, -math.pi + math.pi / 2, D, eps_phi)


def build_phi(eps_phi: float, D: float) -> Construction:
    """φ(y) ≈ sin(2π y) for y - 1/2 ∈ [-D, D]: the F.3 net for sin(2π x' + π) at x' = y - 1/2 (one input y)."""
    build_sin(2.0 * math.pi, -math.pi, D, eps_phi)  # validates ε_φ against the float64 floor of φ
    ph = phi_params(eps_phi, D)
    circ = Circuit(1)
    (x,) = circ.inputs()
    net = circ.net([emit_cos(circ, x - 0.5, ph)])
    return Construction(net, cos_formula({**ph, "beta": -0.5 * ph["alpha"] + ph["beta"]}),
                        {"eps": eps_phi, "D": D, "s": ph["s"], "K": ph["K"], "m": ph["m"]},
                        {"error_bound": ph["bound"], "V": 2.0 ** ph["s"]})


def fixed_formula(c0: float, p: float, eps: float, filt: str, pr: dict) -> dict:
    U = pr["U"]
    ph = phi_params(pr["eps_phi"], pr["D"])
    fp = cos_formula({**ph, "beta": -0.5 * ph["alpha"] + ph["beta"]})
    if filt == "delay":
        state, smax, nnz = U * (U - 1) // 2, U - 1, {"ssm_nnz": U * (U + 1) // 2}
    else:
        J = pr["J"]
        state, smax, nnz = 2 * J * U, 2 * J, {"ssm_nnz_max": U * (7 * J + 1)}
    out = {"L": fp["L"], "W": U * fp["W"], "S": U * fp["S"], "B": fp["B"], "U": U, "D": U,
           "state_total": state, "largest_state": smax, "emb_nnz": U, **nnz}
    if filt == "delay":
        out["total_nonzeros"] = U + out["S"] + nnz["ssm_nnz"]
    return out


def build_fixed_positions(c0: float, p: float, eps: float, filt: str = "cosine", U: int | None = None) -> Construction:
    """The model of the module docstring; ``U`` overrides the window (tests: an undersized window)."""
    c0 = check_real("c0", c0, 0.0, 1.0)
    p = check_real("p", p, 1.0, 20.0)
    eps = check_eps(eps)
    if not eps < 1:
        raise ValueError(f"ε must be < 1, got {eps}")
    if filt not in FILTERS:
        raise ValueError(f"filter must be one of {FILTERS}, got {filt!r}")
    if U is not None and (isinstance(U, bool) or int(U) != U or U < 1):
        raise ValueError(f"U must be a positive integer, got {U!r}")
    pr = fixed_params(c0, p, eps, filt, None if U is None else int(U))
    U = pr["U"]
    ph = phi_params(pr["eps_phi"], pr["D"])
    phi = build_phi(pr["eps_phi"], pr["D"]).net
    c = coefficients(c0, p, U)
    f = algebra.linear(algebra.parallel(*([phi] * U), shared_input=False), c[None, :])
    g = SSMLayer(tuple(filter_channel(filt, U, j, pr["n"]) for j in range(U)), U=U)
    emb = Embedding(np.ones((U, 1)), kind="vector")
    model = SSMModel(emb, [(g, f)])
    sin_bound = ph["bound"]
    notes = {**pr, "phi_error_bound": sin_bound, "phi": {"s": ph["s"], "K": ph["K"], "m": ph["m"]},
             "error_bound": pr["tail"] + pr["C_U"] * (sin_bound + 2 * math.pi * pr["rho_U"]),
             "claimed": "parameter count ~ ε^{-1/a†} poly-log(1/ε), as Transformers (Takakura & Suzuki 2023); here "
                        "U ~ ε^{-1/(p-1)} important positions",
             "precision": "float64"}
    return Construction(model, fixed_formula(c0, p, eps, filt, pr),
                        {"c0": c0, "p": p, "eps": eps, "filter": filt, "U": U, "n": pr["n"]}, notes)
