"""Lemma 3.3 by positive features (``lemmas.attention_positive``): the pieces of ``route=positive`` of the
``lemma-3.3`` claim (registered in ``verify.claims.attention``, which calls this module; it registers nothing).
Page: docs/lemmas/lemma-3.3-positive-route.md.

The route's block carries relative, not absolute, error (every sum is of positive terms), so it is evaluated in
float64 under the paper's margin-only hypothesis.  ``verify.claims.attention`` runs on it the checks of the other
routes (counts = ``positive_formula``, SSM paths, block vs v* and vs Attn_λ on random / tight / floor sets, the
adversarial 3-row search), all in float64, with this module's
  * ``chain``: the budget the proof rests on, relative here: |Ŵ - W| <= ρ_W W, |Â⁺_c - A⁺_c| <= ρ_A W
    (A⁺ = (W + A)/2, the sums of v⁺ = (1 + v)/2), each bound widened by the builder's float64 estimate float_bound;
  * ``enclosure_checks``: the same block in sound P-bit fixed-point interval arithmetic
    (``verify.certify.lemma_attention.block_fixed``, exact arithmetic on the stored float64 weights) on every
    checked sequence with at most ``ENC_MAX_ROWS`` distinct token rows (tight, floor, the adversarial worst case;
    cost per distinct row): the lemma's bounds decided on the enclosure (so they hold for the exact-arithmetic
    net on those inputs), and the float64 output within 2·float_bound of the enclosure (the float64 evaluation
    agrees with exact arithmetic as the builder's standard-model estimate says); where the fixed-point evaluator
    refuses the block (d = 2: too many terms per row for its int64 limbs) the report says float64 only;
  * ``positive_mutants``: breakages the claim must FAIL on (one quadrature node dropped, the quadrature weight c
    off by 1 %, f_1's exp knot coefficients off by 1 %, the final exp's knots moved by half a segment; the claim's λ mutant, built for margin 4δ, applies to every route);
  * ``route_row``: the route table's row from ``positive_formula`` (no evaluation), or the exponent-range
    refusal (λ(1 - τ) + ln(N/μ) > 700: the floors leave float64's normal range) as a row and as an INCONCLUSIVE
    check, never a crash.
"""

from __future__ import annotations

import dataclasses

import mpmath
import numpy as np

from constructions.affine import Affine
from constructions.fnn import FNN
from lemmas import attention_positive as ap

from .. import reference as ref
from ..certify.lemma_attention import block_fixed
from ..mutants import NotApplicable, zero_rows
from ..result import Check

ENC_P = 128  # fractional bits of the fixed-point enclosure (widened by 64 while an enclosure is wider than ENC_WIDTH)
ENC_WIDTH = 1e-12
ENC_MAX_ROWS = 64  # sequences with more distinct token rows are checked in float64 only (P-bit cost is per row)
REFUSAL = "exponent range"  # the builder's refusal message names float64's exponent range


def is_positive(c) -> bool:
    return isinstance(c.net, ap.PositiveAttentionBlock)


def build(params: dict, tau_b):
    """The positive block at the claim's parameters (τ = None: the margin-only hypothesis)."""
    return ap.build_attention_positive(int(params["d"]), int(params["d_v"]), int(params["N"]),
                                       float(params["delta"]), float(params["eps"]), tau_b)


def refusal(exc: ValueError) -> Check | None:
    """The exponent-range refusal as an INCONCLUSIVE check (None: another ValueError, to be raised)."""
    if REFUSAL not in str(exc):
        return None
    return Check("positive: block built (float64 exponent range)", None,
                 detail={"reason": f"refused by the builder, not a failure of the lemma: {exc}",
                         "precision": "float64 exponent range (mantissa bits would not help)"})


# ------------------------------------------------------------------------------------------ checks
def chain(c, R, W, A):
    """(ratios to the bound, 1, label, absolute errors) of the relative budget chain (module docstring)."""
    n = c.notes
    fb = n["float_bound"]
    Wh, Ah = R[:, -1], R[:, :-1]
    Ap = 0.5 * (W[:, None] + A)
    eW = np.abs(Wh - W) / W
    eA = np.max(np.abs(Ah - Ap), axis=1) / W
    ratio = np.maximum(eW / (n["rho_W"] + fb), eA / (n["rho_A"] + fb))
    absolute = np.maximum(np.abs(Wh - W), np.max(np.abs(Ah - Ap), axis=1))
    return ratio, 1.0, "|Ŵ - W| <= ρ_W W, |Â⁺ - A⁺| <= ρ_A W (worst ratio to its bound)", absolute


def distinct_rows(X) -> int:
    return int(np.unique(np.asarray(X), axis=0).shape[0])


def exact_references(X, i_star: int, d: int, d_v: int, lam: float, dps: int = 50):
    """(v*, Attn_λ(X)_N) in mpmath at ``dps`` digits (``verify.reference.attention_sums_mp``)."""
    K, V, q = X[:, :d], X[:, d:d + d_v], X[-1, d + d_v:]
    with mpmath.workdps(dps):
        Wm, Am = ref.attention_sums_mp(K, V, q, lam, dps)
        att = [a / Wm for a in Am]
    return [mpmath.mpf(float(V[i_star, cc])) for cc in range(d_v)], att


def enclosure_errors(c, X, i_star: int) -> dict:
    """Sound sup errors of the exact-arithmetic block on one sequence, and the float64 output's distance from the
    enclosure."""
    d, d_v, lam = c.params["d"], c.params["d_v"], c.notes["lam"]
    P = ENC_P
    for _ in range(3):
        y, _ = block_fixed(c.net, X, P)
        width = max(float(hi - lo) for lo, hi in y)
        if width <= ENC_WIDTH:
            break
        P += 64
    vstar, att = exact_references(X, i_star, d, d_v, lam)
    y64 = c.net.last(X[None])[0]
    with mpmath.workdps(50):
        ends = [(mpmath.mpf(lo.numerator) / lo.denominator, mpmath.mpf(hi.numerator) / hi.denominator) for lo, hi in y]
        e_v = max(max(abs(a - r), abs(b - r)) for (a, b), r in zip(ends, vstar))
        e_att = max(max(abs(a - r), abs(b - r)) for (a, b), r in zip(ends, att))
        off = max(max(mpmath.mpf(0), a - mpmath.mpf(float(f)), mpmath.mpf(float(f)) - b)
                  for (a, b), f in zip(ends, y64))
    up = 1 + 1e-12  # the mpmath differences are correct to ~1e-50; round the reported sups up
    return {"block-v*": float(e_v) * up, "block-attn": float(e_att) * up, "float64-off": float(off) * up,
            "width": width, "bits": P}


def enclosure_checks(c, seqs: list, label: str) -> tuple[list[Check], str]:
    """The lemma's two bounds decided on P-bit enclosures of the exact-arithmetic block, and the float64 output
    within 2·float_bound of them, on the sequences (X, i*) with <= ENC_MAX_ROWS distinct rows; and a line saying
    which arithmetic the route's verdict covers.  Where no sequence qualifies, or the fixed-point evaluator refuses
    the block (its int64 limb products bound the terms per row: d = 2's Ŵ row has ~4.5e5), no check is added and
    the line says float64 only, with the reason."""
    eps, fb = c.params["eps"], c.notes["float_bound"]
    take = [(X, i) for X, i in seqs if distinct_rows(X) <= ENC_MAX_ROWS]
    f64 = "float64 evaluation of the stored weights (every check)"
    if not take:
        return [], f"{f64} only; no P-bit enclosure: no sequence with <= {ENC_MAX_ROWS} distinct token rows"
    try:
        rows = [enclosure_errors(c, X, i) for X, i in take]
    except ValueError as exc:
        return [], f"{f64} only; no P-bit enclosure: the fixed-point evaluator refused the block ({exc})"
    prec = (f"exact arithmetic on the stored float64 weights: fixed-point interval enclosures at P = "
            f"{max(r['bits'] for r in rows)} bits (verify/certify/lemma_attention.py::block_fixed), max width "
            f"{max(r['width'] for r in rows):.3g}, on {len(rows)} of {len(seqs)} sequences (those with <= "
            f"{ENC_MAX_ROWS} distinct token rows)")
    out = []
    for key, bound, what in (("block-v*", eps, "‖F_N - v*‖∞ <= ε"), ("block-attn", eps / 2, "‖F_N - Attn_λ‖∞ <= ε/2"),
                             ("float64-off", 2 * fb, "float64 output within 2·float_bound of the exact block")):
        err = np.array([r[key] for r in rows])
        k = int(np.argmax(err))
        ok = bool(np.all(np.isfinite(err)) and err.max() <= bound)
        det = {"n": len(rows), "precision": prec}
        if key == "float64-off":
            det["float_bound"] = "the builder's standard-model estimate of float64's rounding on r̂ (output 2r̂ - 1)"
        out.append(Check(f"positive / {label}, exact arithmetic (P-bit enclosures): {what}", ok, float(err.max()),
                         float(bound), det, None if ok else {"sequence": k, "i_star": int(take[k][1]),
                                                             "error": float(err[k])}))
    return out, (f"{f64}, and exact arithmetic on them on {len(rows)} of {len(seqs)} sequences (P-bit enclosures, "
                 f"P = {max(r['bits'] for r in rows)})")


# ------------------------------------------------------------------------------------------ report
def counts_entry(c, tau: float, arithmetic: str) -> dict:
    """The route's columns of the report (the same keys as the paper's routes; bits: float64 throughout);
    ``arithmetic``: what the verdict covers (``enclosure_checks``)."""
    n = c.notes
    return {**c.net.counts(), "arithmetic": arithmetic, "n": None, "T": n["J"], "J": n["J"], "m": None, "lam": n["lam"], "Gamma": None,
            "precision": "float64", "tau": tau, "w_min": n["w_min"], "coef_bits_needed": 53, "coef_bits_stored": 53,
            "eval_bits_needed": 53, "eval_bits_used": 53, "rho": n["rho"], "float_bound": n["float_bound"],
            "bound_attn_exact": 2 * n["bound_r"], "knot_counts": n["knot_counts"],
            "bits_why": ("positive route: every summed term is positive and every map well conditioned, so the sums "
                         "carry relative error (~N·2^-53) whatever w_min is; the floors ~μ·w_min need float64's "
                         "exponent range, not more mantissa bits")}


def route_row(d, d_v, N, delta, eps, tau) -> dict:
    """The route table's row from ``positive_formula`` and the budget (nothing evaluated)."""
    try:
        b = ap.budget(N, d, d_v, delta, eps, tau)
        f = ap.positive_formula(N, d, d_v, delta, eps, tau)
    except ValueError as exc:
        if REFUSAL not in str(exc):
            raise
        return {"route": "positive", "precision": f"refused: {exc}"}
    return {"route": "positive", "lam": b["lam"], "degree n": None, "terms T": b["J"], "Gamma": None, "m": None,
            "eta_p": None, "f1.S": f["f1"]["S"], "f1.L": f["f1"]["L"], "f2.S": f["f2"]["S"], "f2.B": f["f2"]["B"],
            "D": f["D"], "total": f["total_nonzeros"], "coef_bits_needed": 53, "eval_bits_needed": 53,
            "precision": "float64", "quadrature nodes J": b["J"], "rho": b["rho"]}


# ------------------------------------------------------------------------------------------ mutants
def _need_positive(c):
    if not is_positive(c):
        raise NotApplicable(f"{type(c.net).__name__} is not the positive-route block")


def drop_node_mutant(which: str = "centre"):
    """Quadrature node t = 0 (the grid's centre; ``"first"``: the corner node) dropped: f_1's output rows of F_t/N
    and F_t v⁺_c/N zeroed, so its running sums vanish and f_2 reads them at its ln floor."""
    def mut(c):
        _need_positive(c)
        J, d_v = len(c.net.nodes), c.params["d_v"]
        j = J // 2 if which == "centre" else 0
        rows = [j] + [J + j * d_v + cc for cc in range(d_v)]
        return dataclasses.replace(c, net=dataclasses.replace(c.net, f1=zero_rows(c.net.f1, rows)))
    return mut


def _scale_map(net: FNN, layer: int, factor: float) -> FNN:
    maps = [Affine.from_coo(r, cc, v * factor if i == layer else v, shape, b * factor if i == layer else b)
            for i, ((r, cc, v), b, shape) in enumerate(net.affine_maps())]
    return FNN(maps)


QUAD_MAP = 3  # f_2's (and the read-out's) map forming Ŵ = c Σ_t ..., Â⁺_c: every weight and bias carries c


def quadrature_weight_mutant(rel: float = 1e-2):
    """The quadrature weight c times (1 + rel): f_2's and the read-out's map QUAD_MAP scaled (the quotient Â⁺/Ŵ
    is unchanged; the budget chain |Ŵ - W| <= ρ_W W is not)."""
    def mut(c):
        _need_positive(c)
        blk = c.net
        return dataclasses.replace(c, net=dataclasses.replace(blk, f2=_scale_map(blk.f2, QUAD_MAP, 1 + rel),
                                                              readout=_scale_map(blk.readout, QUAD_MAP, 1 + rel)))
    return mut


EXP3_UNITS = 6  # f_2's map forming the final exp's knot units ρ(z - y_k) (bias -y_k)
EXP1_OUT = 3  # f_1's output map: the exp knot coefficients (times 1/N) of every piece, rows < J (1 + d_v)


def exp_shift_mutant(shift: float = 0.5):
    """f_2's final exp with every knot moved down by ``shift`` segment widths h_e (the biases of its knot units):
    r̂ becomes ~ e^{shift·h_e} r̂, the output 2r̂ - 1 is off by ~ shift·h_e where r̂ ~ 1."""
    def mut(c):
        _need_positive(c)
        maps = []
        for i, ((r, cc, v), b, shape) in enumerate(c.net.f2.affine_maps()):
            if i == EXP3_UNITS:
                b = np.asarray(b, dtype=np.float64) + shift * c.notes["h_e"]
            maps.append(Affine.from_coo(r, cc, v, shape, b))
        return dataclasses.replace(c, net=dataclasses.replace(c.net, f2=FNN(maps)))
    return mut


def exp_coefficient_mutant(rel: float = 1e-2):
    """f_1's exp pieces: every knot coefficient (and the floor term) times (1 + rel), so every F̂_t and F̂_t v⁺ is
    rel too large (the quotient keeps, the budget chain |Ŵ - W| <= ρ_W W does not)."""
    def mut(c):
        _need_positive(c)
        P = c.net.g.H - c.net.d
        maps = []
        for i, ((r, cc, v), b, shape) in enumerate(c.net.f1.affine_maps()):
            if i == EXP1_OUT:
                v = np.where(r < P, v * (1 + rel), v)
                b = np.where(np.arange(len(b)) < P, np.asarray(b) * (1 + rel), b)
            maps.append(Affine.from_coo(r, cc, v, shape, b))
        return dataclasses.replace(c, net=dataclasses.replace(c.net, f1=FNN(maps)))
    return mut


def positive_mutants() -> list:
    return [("positive: quadrature node t = 0 dropped (its f_1 rows zeroed)", "drop term", drop_node_mutant()),
            ("positive: quadrature weight c x(1+1e-2)", "perturb weight", quadrature_weight_mutant(1e-2)),
            ("positive: f_1's exp knot coefficients x(1+1e-2)", "perturb weight", exp_coefficient_mutant(1e-2)),
            ("positive: f_2's final exp, knots moved by half a segment", "perturb weight", exp_shift_mutant(0.5))]
