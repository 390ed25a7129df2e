"""VNN-LIB properties for scalar claims (docs/interop.md): "unsat on every box => the claim".

For a claim |f_o(x) - g_o(x)| <= ε on a box domain, the domain is split into sub-boxes; on each a sound slope-form
enclosure of the target (``verify.certify.enclosures``) gives floats S, m, h_lo <= h_hi with

    S·(x - m) + h_lo  <=  g_o(x)  <=  S·(x - m) + h_hi        for every x in the box.

The property of a box asserts the input box and the disjunction over outputs o of

    Y_o - S·X >= c_up := ε + h_lo - S·m   (rounded down)     or     Y_o - S·X <= c_lo := h_hi - S·m - ε  (rounded up),

the negation of the claimed bound with the target replaced by its linear enclosure.  If it is unsat then
f_o - g_o <= f_o - S·(x - m) - h_lo < ε and g_o - f_o < ε on the box: unsat on every box implies the claim with
bound ε.  The converse needs slack: the property is unsat only if sup |f - g| < ε - w, w = max (h_hi - h_lo) the
enclosure width (reported per claim, split until w <= ``max_width``), and a floating-point solver needs a
further margin above its tolerance.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np
from flint import arb, ctx

from ..certify import (enclose_clip, enclose_exp_neg, enclose_product, enclose_quotient, enclose_square,
                       enclose_taylor_arb)
from ..certify.highprec import net_exact
from ..certify.interval import box_centre


@dataclass
class Spec:
    """A scalar claim as a property: domain box, claimed ε, one target enclosure per output, split points."""

    claim: str
    eps: float
    lo: np.ndarray
    hi: np.ndarray
    outputs: list  # [(enc(lo, hi) -> (h_lo, h_hi, s) slope form with s of shape (n, d_o), columns)] per output
    exact: Callable  # x (list of Fraction) -> [(lo, hi)] sound bounds (Fraction or float) on every g_o(x)
    splits: list = field(default_factory=list)  # per input dimension: points where the target is not smooth
    note: str = ""
    halfspaces: list = field(default_factory=list)  # [(c (d,), r)]: the domain is the box ∩ {c·x <= r}


def in_halfspaces(spec: Spec, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Which boxes meet every half-space of the domain (exactly: min over the box of c·x <= r, in rationals)."""
    keep = np.ones(len(lo), bool)
    for c, r in spec.halfspaces:
        for i in range(len(lo)):
            mn = sum((Fraction(float(cj)) * Fraction(float(lo[i, j] if cj >= 0 else hi[i, j]))
                      for j, cj in enumerate(c)), Fraction(0))
            keep[i] &= mn <= Fraction(float(r))
    return keep


def _frac_bounds(v):
    return v, v


def _spec_clip(p, eps):
    d, a, b = int(p["d"]), float(p["a"]), float(p["b"])
    w = (b - a) / 2
    lo, hi = np.full(d, a - w), np.full(d, b + w)
    enc = enclose_clip(a, b)
    outs = [(enc, [i]) for i in range(d)]
    fa, fb = Fraction(a), Fraction(b)
    return Spec("lemma-F.2-clip", eps, lo, hi, outs,
                lambda x: [_frac_bounds(min(max(xi, fa), fb)) for xi in x], [[a, b]] * d,
                "the claim is exactness; ε is a stated slack above the solver's tolerance")


def _spec_square(p, eps):
    return Spec("lemma-F.3-square", eps, np.zeros(1), np.ones(1), [(enclose_square, [0])],
                lambda x: [_frac_bounds(x[0] * x[0])])


def _spec_mult(p, eps):
    M = float(p["M"])
    return Spec("lemma-F.3-mult", eps, np.full(2, -M), np.full(2, M), [(enclose_product, [0, 1])],
                lambda x: [_frac_bounds(x[0] * x[1])])


def _spec_quotient(p, eps):
    A, b_min, b_max = float(p["A"]), float(p["b_min"]), float(p["b_max"])
    return Spec("lemma-F.4-quotient", eps, np.array([-A, b_min]), np.array([A, b_max]), [(enclose_quotient, [0, 1])],
                lambda x: [_frac_bounds(x[0] / x[1])])


def _spec_ratio(p, eps):
    C, b_min, b_max = float(p["C"]), float(p["b_min"]), float(p["b_max"])
    return Spec("lemma-F.4-ratio", eps, np.array([-C * b_max, b_min]), np.array([C * b_max, b_max]),
                [(enclose_quotient, [0, 1])], lambda x: [_frac_bounds(x[0] / x[1])],
                halfspaces=[(np.array([1.0, -C]), 0.0), (np.array([-1.0, -C]), 0.0)],
                note="the domain is the wedge |a| <= C b: the box with two linear input constraints (nothing is "
                     "claimed outside it)")


def _arb_exact(fn):
    """x (one Fraction) -> [sound (lo, hi) bounds of fn(x)], fn an arb expression evaluated at 128 bits."""
    def exact(x):
        old = ctx.prec
        ctx.prec = 128
        try:
            v = fn(arb(x[0].numerator) / arb(x[0].denominator))
            return [(Fraction(float(v.lower())), Fraction(float(v.upper())))]
        finally:
            ctx.prec = old
    return exact


_exp_exact = _arb_exact(lambda t: (-t).exp())


def _spec_exp(p, eps):
    from lemmas.exp import exp_params  # the domain [0, A] of the claim

    A = exp_params(float(p["eps"]))["A"]
    return Spec("lemma-F.3-exp", eps, np.zeros(1), np.full(1, A), [(enclose_exp_neg, [0])], _exp_exact)


def _spec_rec(p, eps):
    x_min, x_max = float(p.get("x_min", 0.0)), float(p.get("x_max", 0.0))
    if not (x_min > 0 and x_max > 0):
        x_min, x_max = eps, 1.0 / eps  # the default domain [ε, 1/ε]
    enc = enclose_taylor_arb(lambda x: 1 / x, lambda x: -1 / (x * x), lambda x: 2 / (x * x * x))
    return Spec("lemma-F.3-rec", eps, np.full(1, x_min), np.full(1, x_max), [(enc, [0])],
                lambda x: [_frac_bounds(1 / x[0])])


def _spec_cos(p, eps):
    a, b, D = float(p["a"]), float(p["b"]), float(p["D"])
    A, B = arb(a), arb(b)
    enc = enclose_taylor_arb(lambda x: (A * x - B).cos(), lambda x: -A * (A * x - B).sin(),
                             lambda x: -A * A * (A * x - B).cos())
    return Spec("lemma-F.3-cos", eps, np.full(1, -D), np.full(1, D), [(enc, [0])], _arb_exact(lambda t: (A * t - B).cos()),
                note="the cos net of the claim (its sin net is the same construction with b + π/2)")


# claim id -> (spec builder, the claimed ε at params); the claims without an entry have no VNN-LIB target yet
# (prod, d >= 3: its corner enclosure has no slope form, so its width shrinks only linearly with the box and the
# sub-boxes needed for a width of ε/64 exceed any practical count; F.5/F.6 networks: vector outputs composed into a
# kernel bound, open).  quotient and ratio: a/b by a second-order Taylor enclosure; at their default ε the boxes
# needed exceed ``max_boxes`` near small b (width O(r²/b³)): write them at a coarser ε or for a piece.
SPECS = {
    "lemma-F.2-clip": (_spec_clip, lambda p: 1e-7),
    "lemma-F.3-square": (_spec_square, lambda p: 2.0 ** (-2 * int(p["m"]) - 2)),
    "lemma-F.3-mult": (_spec_mult, lambda p: float(p["eps"])),
    "lemma-F.3-exp": (_spec_exp, lambda p: float(p["eps"])),
    "lemma-F.3-rec": (_spec_rec, lambda p: float(p["eps"])),
    "lemma-F.3-cos": (_spec_cos, lambda p: float(p["eps"])),
    "lemma-F.4-quotient": (_spec_quotient, lambda p: float(p["eps"])),
    "lemma-F.4-ratio": (_spec_ratio, lambda p: float(p["eps"])),
}


def spec_for(claim_id: str, params: dict, eps: float | None = None, piece=None) -> Spec:
    """The property spec of a claim at ``params``; ``eps`` overrides the claimed bound, ``piece`` = (lo, hi)
    restricts the domain to a sub-box of it (one piece of a larger domain)."""
    if claim_id not in SPECS:
        raise ValueError(f"no VNN-LIB target for claim {claim_id} (supported: {', '.join(SPECS)})")
    build, claimed = SPECS[claim_id]
    e = claimed(params) if eps is None else float(eps)
    if not (np.isfinite(e) and e > 0):
        raise ValueError(f"the bound ε must be a positive number, got {eps!r}")
    s = build(params, e)
    if piece is not None:
        plo, phi = (np.broadcast_to(np.asarray(v, float), s.lo.shape) for v in piece)
        if np.any(plo < s.lo) or np.any(phi > s.hi) or np.any(plo >= phi):
            raise ValueError(f"piece {piece} is not a box inside the domain [{s.lo}, {s.hi}]")
        s.lo, s.hi = plo.copy(), phi.copy()
    return s


# ------------------------------------------------------------------------------------------------- boxes
@dataclass
class Box:
    lo: np.ndarray
    hi: np.ndarray
    rows: list  # per output: (o, S (d,), m (d,), h_lo, h_hi)

    @property
    def width(self) -> float:
        return max(r[4] - r[3] for r in self.rows)


def _enclose(spec: Spec, lo: np.ndarray, hi: np.ndarray) -> list[Box]:
    n, d = lo.shape
    m = box_centre(lo, hi)
    per = []
    for enc, cols in spec.outputs:
        r = enc(lo[:, cols], hi[:, cols])
        S = np.zeros((n, d))
        if len(r) == 3:
            h_lo, h_hi, s = r
            S[:, cols] = np.asarray(s, float).reshape(n, len(cols))
        else:
            h_lo, h_hi = r
        per.append((np.asarray(h_lo, float).reshape(n), np.asarray(h_hi, float).reshape(n), S))
    return [Box(lo[i].copy(), hi[i].copy(), [(o, per[o][2][i], m[i], float(per[o][0][i]), float(per[o][1][i]))
                                             for o in range(len(per))]) for i in range(n)]


def boxes(spec: Spec, max_width: float | None = None, max_boxes: int = 4096) -> list[Box]:
    """Sub-boxes of the domain, split first at the target's kinks, then bisected along the widest side until the
    enclosure width is at most ``max_width`` (default ε/64)."""
    w_max = spec.eps / 64 if max_width is None else float(max_width)
    edges = []
    for j in range(len(spec.lo)):
        pts = [spec.lo[j]] + sorted(v for v in (spec.splits[j] if spec.splits else []) if spec.lo[j] < v < spec.hi[j])
        edges.append(pts + [spec.hi[j]])
    grid = np.array(np.meshgrid(*[np.arange(len(e) - 1) for e in edges], indexing="ij")).reshape(len(edges), -1).T
    lo = np.array([[edges[j][k] for j, k in enumerate(row)] for row in grid], float)
    hi = np.array([[edges[j][k + 1] for j, k in enumerate(row)] for row in grid], float)
    keep = in_halfspaces(spec, lo, hi)
    lo, hi = lo[keep], hi[keep]
    done: list[Box] = []
    todo = _enclose(spec, lo, hi) if len(lo) else []
    while todo:
        if len(done) + len(todo) > max_boxes:
            raise ValueError(f"more than {max_boxes} boxes needed for enclosure width {w_max:g}; raise max_width")
        wide = [b for b in todo if not b.width <= w_max]  # NaN widths are never accepted
        done += [b for b in todo if b.width <= w_max]
        if not wide:
            break
        nlo, nhi = [], []
        for b in wide:
            j = int(np.argmax(b.hi - b.lo))
            mid = b.lo[j] + (b.hi[j] - b.lo[j]) / 2
            h1, l2 = b.hi.copy(), b.lo.copy()
            h1[j], l2[j] = mid, mid
            nlo += [b.lo, l2]
            nhi += [h1, b.hi]
        nlo, nhi = np.array(nlo), np.array(nhi)
        keep = in_halfspaces(spec, nlo, nhi)  # halves wholly outside the domain are not part of the claim
        todo = _enclose(spec, nlo[keep], nhi[keep]) if keep.any() else []
    done.sort(key=lambda b: tuple(b.lo))
    return done


# ----------------------------------------------------------------------------------------- constraints
def _down(q: Fraction) -> float:
    f = float(q)
    return f if Fraction(f) <= q else float(np.nextafter(f, -np.inf))


def _up(q: Fraction) -> float:
    f = float(q)
    return f if Fraction(f) >= q else float(np.nextafter(f, np.inf))


def violations(box: Box, eps: float) -> list[tuple]:
    """The disjuncts of the negated bound on ``box``: (o, S, sense, c) meaning Y_o - S·X >= c (sense '>=') or
    Y_o - S·X <= c (sense '<='), constants rounded so that the property is at least as strong as stated."""
    out = []
    for o, S, m, h_lo, h_hi in box.rows:
        Sm = sum((Fraction(float(s)) * Fraction(float(c)) for s, c in zip(S, m)), Fraction(0))
        out.append((o, S, ">=", _down(Fraction(eps) + Fraction(h_lo) - Sm)))
        out.append((o, S, "<=", _up(Fraction(h_hi) - Sm - Fraction(eps))))
    return out


def _term(o: int, S) -> str:
    t = f"Y_{o}"
    for j, s in enumerate(S):
        if s:
            t = f"(- {t} (* {float(s)!r} X_{j}))"
    return t


def property_text(spec: Spec, box: Box, index: int, total: int, d_out: int) -> str:
    d = len(box.lo)
    lines = [f"; {spec.claim}: box {index + 1} of {total}, claimed |f_o - g_o| <= eps = {spec.eps!r}",
             f"; target enclosure width on this box {box.width!r}; unsat => |f - g| < eps on the box",
             *(f"(declare-const X_{j} Real)" for j in range(d)),
             *(f"(declare-const Y_{o} Real)" for o in range(d_out))]
    for j in range(d):
        lines += [f"(assert (>= X_{j} {float(box.lo[j])!r}))", f"(assert (<= X_{j} {float(box.hi[j])!r}))"]
    for c, r in spec.halfspaces:  # linear input constraints of a non-box domain
        terms = " ".join(f"(* {float(cj)!r} X_{j})" for j, cj in enumerate(c) if cj)
        lines.append(f"(assert (<= (+ {terms}) {float(r)!r}))")
    lines.append("(assert (or")
    for o, S, sense, c in violations(box, spec.eps):
        lines.append(f"  (and ({sense} {_term(o, S)} {c!r}))")
    lines.append("))")
    return "\n".join(lines) + "\n"


def write_properties(spec: Spec, d_out: int, directory, max_width: float | None = None, params=None) -> dict:
    """Write ``directory/box_<k>.vnnlib`` for every sub-box and ``directory/index.json``; returns the index."""
    bs = boxes(spec, max_width)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = []
    for k, b in enumerate(bs):
        p = directory / f"box_{k:04d}.vnnlib"
        p.write_text(property_text(spec, b, k, len(bs), d_out))
        files.append(p.name)
    index = {"claim": spec.claim, "params": params, "eps": spec.eps, "boxes": len(bs), "max_enclosure_width": max(b.width for b in bs),
             "domain": [spec.lo.tolist(), spec.hi.tolist()], "files": files,
             "implication": "unsat on every box => |f_o(x) - g_o(x)| < eps for all x in the domain",
             "note": spec.note}
    (directory / "index.json").write_text(json.dumps(index, indent=1))
    return index


# ------------------------------------------------------------------------------------------- read back
_BOUND = re.compile(r"\(assert \((>=|<=) X_(\d+) (\S+)\)\)")
_DISJ = re.compile(r"\(and \((>=|<=) (.*) (\S+)\)\)")
_HALF = re.compile(r"\(assert \(<= \(\+ ((?:\(\* \S+ X_\d+\) ?)+)\) (\S+)\)\)")


def read_halfspaces(path) -> list[tuple[np.ndarray, float]]:
    """The linear input constraints c·X <= r of a file written by ``property_text`` (empty for a box domain)."""
    text = Path(path).read_text()
    d = 1 + max(int(j) for j in re.findall(r"declare-const X_(\d+)", text))
    out = []
    for terms, r in _HALF.findall(text):
        c = np.zeros(d)
        for v, j in re.findall(r"\(\* (\S+) X_(\d+)\)", terms):
            c[int(j)] = float(v)
        out.append((c, float(r)))
    return out


def read_property(path) -> tuple[np.ndarray, np.ndarray, list[tuple]]:
    """(lo, hi, disjuncts) of a file written by ``property_text``; disjuncts as in ``violations``; the linear
    input constraints of a non-box domain are read by ``read_halfspaces``."""
    text = Path(path).read_text()
    b = {}
    for sense, j, v in _BOUND.findall(text):
        b[(sense, int(j))] = float(v)
    d = 1 + max(j for _, j in b)
    lo = np.array([b[(">=", j)] for j in range(d)])
    hi = np.array([b[("<=", j)] for j in range(d)])
    out = []
    for sense, term, c in _DISJ.findall(text):
        S = np.zeros(d)
        for s, j in re.findall(r"\(\* (\S+) X_(\d+)\)", term):
            S[int(j)] = float(s)
        out.append((int(re.search(r"Y_(\d+)", term).group(1)), S, sense, float(c)))
    return lo, hi, out


# ------------------------------------------------------------------------------------------- re-check
def recheck(net, spec: Spec, lo, hi, disjuncts, x) -> dict:
    """Re-check a point a solver reports as SAT in exact rational arithmetic on the stored float64 weights: is it
    in the box, does it satisfy a disjunct of the property, does it violate the claimed bound |f - g| <= ε?"""
    xq = [Fraction(float(v)) for v in np.ravel(x)]
    inside = all(Fraction(float(a)) <= v <= Fraction(float(b)) for v, a, b in zip(xq, lo, hi)) and \
        all(sum((Fraction(float(cj)) * v for cj, v in zip(c, xq)), Fraction(0)) <= Fraction(float(r))
            for c, r in spec.halfspaces)
    fx = net_exact(net, xq)
    prop = False
    for o, S, sense, c in disjuncts:
        lhs = fx[o] - sum((Fraction(float(s)) * v for s, v in zip(S, xq)), Fraction(0))
        prop |= lhs >= Fraction(c) if sense == ">=" else lhs <= Fraction(c)
    g = spec.exact(xq)
    e = Fraction(spec.eps)
    claim = any(fx[o] - Fraction(ghi) > e or Fraction(glo) - fx[o] > e for o, (glo, ghi) in enumerate(g))
    err = max(float(max(fx[o] - Fraction(glo), Fraction(ghi) - fx[o])) for o, (glo, ghi) in enumerate(g))
    return {"x": [float(v) for v in xq], "inside_box": inside, "violates_property": bool(prop),
            "violates_claim": bool(inside and claim), "error_upper": err}
