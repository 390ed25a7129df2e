"""Theorem 4.5, a concrete instance (the paper's Appendix C regression setup, continuous variant): the SSM picks the
most important token with the Lemma 3.3 block and an FNN applies a smooth f to it.

Target (``verify.gamma_smooth.selection_target``): tokens x_1..x_N ∈ [0, 1]^d, importance μ(x) = <w, x>,
i* = argmax_i μ(x_i), and

    F*(X) = f(x_{i*}) = sin(2π <u, x_{i*}>)      (a piecewise γ-smooth function: f ∘ Π with Π sorting by μ).

Input class (the hypotheses): a unique top token with margin μ(x_{i*}) - μ(x_i) >= δ_μ (i ≠ i*) and, optionally,
μ(x_{i*}) >= μ_τ.  Statement verified (``thm-4.5``): for 0 < ε < 1 the model F below satisfies |F(X)_N - F*(X)| <= ε on
that class.

Construction.  μ ranges over [μ_lo, μ_hi] = [Σ_l min(w_l, 0), Σ_l max(w_l, 0)] on [0, 1]^d, R = μ_hi - μ_lo > 0.
  * Emb (token-wise affine, R^d -> R^{1 + d + 1}): key k = (2μ(x) - μ_lo - μ_hi)/R ∈ [-1, 1], value v = x ∈ [0, 1]^d,
    constant query q = 1 (a bias).  Scores s_i = k_i q = k_i, so the margin is δ = 2δ_μ/R and the top score is
    >= τ = (2μ_τ - μ_lo - μ_hi)/R; without μ_τ, τ = δ - 1 (the margin alone implies it: s_{i*} >= s_i + δ >= -1 + δ).
  * The Lemma 3.3 block (``lemmas.attention.build_attention(1, d, N, δ, ε_A, τ)``: f_1, g (window U = N), f_2) under
    its hypotheses as they stand (‖k‖, |q| <= 1, ‖v‖_∞ <= 1, margin δ, top score >= τ): ‖v̂ - x_{i*}‖_∞ <= ε_A.  The
    hypothesis τ matters for the cost and the precision: the block's sums must be accurate relative to
    w_min = e^{-λ(1 - τ)}/N, so a top score far below 1 (τ = δ - 1) costs degree and depth and can leave float64
    (the builder then reports the bits it needs and this builder refuses: ``float64`` must hold).  Keys scaled so that
    the important token's score is near 1 (μ_τ close to μ_hi) keep the block in float64.
  * f_3 (token-wise, on the last token): y = <u, v̂> - c, c = (y_lo + y_hi)/2 ([y_lo, y_hi] = the range of <u, x> on
    [0, 1]^d), then the F.3 net φ ≈ sin(2π y' + 2π c) on [-D, D], D = (y_hi - y_lo)/2 + ‖u‖_1 ε_A (``lemmas.cos``;
    the affine map merged into φ's first layer).
Error budget (exact split):  |F - F*| <= |φ(ŷ') - sin(2π(ŷ' + c))| + |sin(2π<u, v̂>) - sin(2π<u, x_{i*}>)|
    <= ε_φ + 2π ‖u‖_1 ε_A,   ε_φ = ε/4,   ε_A = 3ε / (8π ‖u‖_1)   (so the two shares are ε/4 + 3ε/4 = ε).
Counts (exact): the block's formula (``lemmas.attention.block_formula``: f_1, f_2, g, D, state, total nonzeros);
  f_3: the F.3 formula (``lemmas.cos.cos_formula``) at the merged first bias β - α c, with S + 2(nnz(u) - 1) (each
  of the two first-layer units ρ(±(2t - 1)) of the float-robust tooth reads nnz(u) values) and W = max(W_φ, d),
  B = max(B_φ, 2|α| max|u_l|, |2β - 1|); Emb: nnz(w) + d + [μ_lo + μ_hi ≠ 0] + 1.  In the paper's class f_2 and f_3 are one FNN
  (``constructions.algebra.concat``: L = L_2 + L_3, S = S_2 + S_3 + S(last map of f_2) + nnz(first map of f_3)); we
  report them separately.
Growth: the block's counts are poly-logarithmic in N/ε_A for fixed d and polynomial in 1/δ (Lemma 3.3), φ adds
O(log² 1/ε); no ε^{-1/a†} factor appears because f has finitely many frequencies (one band) — the paper's
Theorem 4.5 count is ε^{-1/a†} poly-log(1/ε) for the whole class, the Transformers' count (Takakura & Suzuki 2023).
Theorem 4.6 (the estimation rate of the ERM estimator) needs training and is not checked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from constructions import algebra, export
from constructions.circuit import Circuit
from constructions.fnn import FNN
from constructions.model import Embedding, SSMModel
from constructions.validate import check_eps, check_int, check_real

from .attention import AttentionBlock, build_attention
from .base import Construction
from .cos import build_sin, cos_formula, cos_params, emit_cos

PHI_SHARE = 0.25  # ε_φ = ε/4; the block gets the rest through the Lipschitz constant 2π‖u‖_1


@dataclass(frozen=True)
class SelectionModel:
    """F = f_3 ∘ (f_2 ∘ g ∘ f_1) ∘ Emb on token rows X (..., N, d); ``last`` evaluates the last position.
    ``digest`` is the SHA-256 fingerprint of ``as_model()`` (bit identity of all weights; set at construction)."""

    embedding: Embedding
    block: AttentionBlock
    f3: FNN
    digest: tuple = field(default=(), compare=False)

    def __post_init__(self):
        object.__setattr__(self, "digest", (export.fingerprint(self.as_model()),))

    def as_model(self) -> SSMModel:
        """The same function as one ``SSMModel`` (export, inspection): Emb, f_1, then (g, f_3 ∘ f_2) with f_2 and f_3
        joined by sparse concatenation (``constructions.algebra.concat``: depth L_2 + L_3)."""
        b = self.block
        return SSMModel(self.embedding, [(b.g, algebra.concat(self.f3, b.f2))], pre=b.f1)

    def picked(self, X, method: str = "auto") -> np.ndarray:
        """v̂ = the block's output at the last token (≈ x_{i*}), shape (..., d)."""
        return self.block.last(self.embedding(np.asarray(X, dtype=np.float64)), method)

    def last(self, X, method: str = "auto") -> np.ndarray:
        """F(X)_N, shape (...)."""
        return self.f3(self.picked(X, method))[..., 0]

    def counts(self) -> dict:
        b = self.block.counts()
        c3 = self.f3.counts()
        emb = int(np.count_nonzero(self.embedding.E)) + int(np.count_nonzero(self.embedding.b))
        return {"f1": b["f1"], "f2": b["f2"], "f3": {"L": c3.L, "W": c3.W, "S": c3.S, "B": c3.B},
                "U": b["U"], "D": b["D"], "state_total": b["state_total"], "largest_state": b["state_max"],
                "ssm_nnz": b["ssm_nnz"], "emb_nnz": emb, "total_nonzeros": b["total_nonzeros"] + c3.S + emb}


def selection_params(d: int, w, u, delta_mu: float, mu_tau, eps: float) -> dict:
    """The numbers of the module docstring (ranges, δ, τ, ε_A, ε_φ, c, D)."""
    w = np.asarray(w, dtype=np.float64)
    u = np.asarray(u, dtype=np.float64)
    if w.shape != (d,) or u.shape != (d,) or not (np.all(np.isfinite(w)) and np.all(np.isfinite(u))):
        raise ValueError(f"w and u must be finite vectors of length d = {d}")
    mu_lo, mu_hi = float(np.sum(np.minimum(w, 0))), float(np.sum(np.maximum(w, 0)))
    R = mu_hi - mu_lo
    if not R > 0:
        raise ValueError("the importance μ = <w, x> must not be constant (w = 0)")
    if not np.any(u != 0):
        raise ValueError("u = 0 gives a constant target")
    delta = 2.0 * delta_mu / R
    if not 0 < delta <= 2:
        raise ValueError(f"the margin δ_μ = {delta_mu} must lie in (0, R = {R:.6g}]")
    tau = None if mu_tau is None else (2.0 * mu_tau - mu_lo - mu_hi) / R
    u1 = float(np.sum(np.abs(u)))
    eps_A = (1.0 - PHI_SHARE) * eps / (2.0 * math.pi * u1)
    eps_phi = PHI_SHARE * eps
    y_lo, y_hi = float(np.sum(np.minimum(u, 0))), float(np.sum(np.maximum(u, 0)))
    c = (y_lo + y_hi) / 2.0
    D = (y_hi - y_lo) / 2.0 + u1 * eps_A
    return {"mu_lo": mu_lo, "mu_hi": mu_hi, "R": R, "delta": delta, "tau": tau, "u1": u1, "eps_A": eps_A,
            "eps_phi": eps_phi, "y_lo": y_lo, "y_hi": y_hi, "c": c, "D": D}


def head_params(pr: dict) -> dict:
    """cos_params of φ ≈ sin(2π y' + 2π c) = cos(2π y' - (-2π c - π/2)) on [-D, D] (as ``build_sin``)."""
    return cos_params(2.0 * math.pi, -2.0 * math.pi * pr["c"] + math.pi / 2, pr["D"], pr["eps_phi"])


def build_head(u, pr: dict) -> Construction:
    """f_3(v̂) = φ(<u, v̂> - c) (module docstring)."""
    u = np.asarray(u, dtype=np.float64)
    build_sin(2.0 * math.pi, -2.0 * math.pi * pr["c"], pr["D"], pr["eps_phi"])  # validates ε_φ (float64 floor)
    ph = head_params(pr)
    circ = Circuit(len(u))
    xs = circ.inputs()
    y = sum((x * float(ul) for x, ul in zip(xs, u) if ul != 0), 0.0 * xs[0]) - pr["c"]
    net = circ.net([emit_cos(circ, y, ph)])
    return Construction(net, head_formula(u, ph, pr), {"u": u.tolist(), "c": pr["c"], "D": pr["D"],
                                                        "eps": pr["eps_phi"]},
                        {"error_bound": ph["bound"], "V": 2.0 ** ph["s"]})


def head_formula(u: np.ndarray, ph: dict, pr: dict) -> dict:
    nu = int(np.count_nonzero(u))
    alpha = ph["alpha"]
    beta = (-pr["c"]) * alpha + ph["beta"]  # the merged bias, formed as in emit_cos (Fn arithmetic)
    F = cos_formula({**ph, "beta": beta})
    first = [abs(2.0 * alpha * float(x)) for x in u if x != 0] + [abs(2.0 * beta - 1.0)]  # ρ(±(2t - 1)) rows
    return {"L": F["L"], "W": max(F["W"], len(u)), "S": F["S"] + 2 * (nu - 1), "B": max([8.0] + first)}


def build_piecewise_smooth(d: int, N: int, w, u, delta_mu: float, eps: float, mu_tau: float | None = None,
                           route: str = "chebyshev") -> Construction:
    """The model of the module docstring."""
    d, N = check_int("d", d, 1), check_int("N", N, 2)
    eps = check_eps(eps)
    if not eps < 1:
        raise ValueError(f"ε must be < 1, got {eps}")
    delta_mu = check_real("delta_mu", delta_mu, 0.0, 1e6)
    pr = selection_params(d, w, u, delta_mu, mu_tau, eps)
    if pr["tau"] is not None and not (pr["delta"] - 1.0 <= pr["tau"] <= 1.0):
        raise ValueError(f"μ_τ = {mu_tau} gives τ = {pr['tau']:.6g} outside [δ - 1, 1] = [{pr['delta'] - 1:.6g}, 1]")
    att = build_attention(1, d, N, pr["delta"], pr["eps_A"], pr["tau"], route)
    if not att.notes["float64"]:
        raise ValueError(f"the Lemma 3.3 block needs {att.notes['precision_bits']} bits here (float64 not enough): "
                         f"raise μ_τ (the top score), the margin δ_μ or ε")
    w = np.asarray(w, dtype=np.float64)
    E = np.vstack([2.0 * w[None, :] / pr["R"], np.eye(d), np.zeros((1, d))])
    b = np.zeros(d + 2)
    b[0] = -(pr["mu_lo"] + pr["mu_hi"]) / pr["R"]
    b[-1] = 1.0
    emb = Embedding(E, b, kind="vector")
    head = build_head(u, pr)
    model = SelectionModel(emb, att.net, head.net)
    af = att.formula
    emb_nnz = int(np.count_nonzero(w)) + d + int(b[0] != 0) + 1
    formula = {"f1": af["f1"], "f2": af["f2"], "f3": head.formula, "U": af["U"], "D": af["D"],
               "state_total": af["state_total"], "largest_state": af["state_max"], "ssm_nnz": af["ssm_nnz"],
               "emb_nnz": emb_nnz, "total_nonzeros": af["total_nonzeros"] + head.formula["S"] + emb_nnz}
    notes = {**pr, "attention": {k: att.notes[k] for k in ("lam", "n", "m", "m2", "T", "E", "w_min", "float64")},
             "phi_error_bound": head.notes["error_bound"],
             "error_bound": head.notes["error_bound"] + 2.0 * math.pi * pr["u1"] * pr["eps_A"],
             "claimed": "Theorem 4.5: parameter count ~ ε^{-1/a†} poly-log(1/ε) (Transformers, Takakura & Suzuki 2023); "
                        "Lemma 3.3 block: poly-log in N/ε, polynomial in 1/δ",
             "precision": "float64"}
    params = {"d": d, "N": N, "w": [float(x) for x in w], "u": [float(x) for x in np.asarray(u, dtype=float)],
              "delta_mu": delta_mu, "mu_tau": mu_tau, "eps": eps, "route": route}
    return Construction(model, formula, params, notes)
