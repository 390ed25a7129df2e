"""Pieces shared by the float64-exact task networks (Lemma H.3, Theorems 3.1, 3.2, D.1, D.2; docs/tasks/).

* ``task_code``: Lemma H.1's code E ∈ {±1/√k}^{k×m} (``lemmas.jl.vocab_code``, margin checked on the integer
  Gram) with k a power of 4, so 1/√k = 2^-j and every entry, inner product and sum below is a dyadic rational
  computed without rounding in float64 (docs/tasks/constructions.md, "Why float64 is exact here").
* Exact gates on codes, written as ``constructions.circuit.Fn`` functionals:
  - token identity: [x = σ] = 2^r ρ(⟨c_σ, c_x⟩ - δ) with 1 - δ = 2^-r: 1 at ⟨c_σ, c_x⟩ = 1, 0 at <= δ (the
    margin 1 - δ of Lemma H.1);
  - integer equality: [z = ℓ] = ρ(z - ℓ + 1) - 2ρ(z - ℓ) + ρ(z - ℓ - 1) for integer z;
  - gated value: g·v = ρ(v - M(1 - g)) - ρ(-v - M(1 - g)) for g ∈ {0, 1}, |v| <= M;
  - product of two code entries a ∈ {±s}, b ∈ {±s, 0} (s = 2^-j): ab = s(ρ(a + b) + ρ(-a - b)) - s².
* ``code_decoding``: W_Dec = Eᵀ/√k, whose rows have ℓ1 norm 1 (so ‖W_Dec‖∞ <= 1 as a row-sum norm, and as a
  max entry); the logit of the right token is 1/√k, every other <= δ/√k.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from constructions.circuit import Circuit, Fn
from constructions.fnn import FNN
from constructions.model import Decoding

from . import jl

ROUTES = ("exact",)


def check_route(route: str) -> str:
    if route not in ROUTES:
        raise ValueError(f"unknown route {route!r}; available: {', '.join(ROUTES)}")
    return route


def gate_scale(delta: float) -> int:
    """2^r with 1 - δ = 2^-r (δ = 1/2: 2); other δ would make the identity gate inexact in float64."""
    d = Fraction(float(delta))
    if not 0 < d < 1:
        raise ValueError(f"delta must lie in (0, 1), got {delta!r}")
    inv = 1 / (1 - d)
    if inv.denominator != 1 or int(inv) & (int(inv) - 1):
        raise ValueError(f"1 - delta must be a power of 2 (delta = 1/2, 3/4, ...) for exact gates, got {delta!r}")
    return int(inv)


def task_code(m: int, delta: float, seed: int = 0) -> jl.VocabCode:
    """Lemma H.1's code for m symbols with k = 4^j: the smallest power of 4 (from 4) at which a draw meets the
    margin (``jl.vocab_code`` with k given draws up to ``jl.MAX_DRAWS`` matrices)."""
    if int(m) < 2:
        raise ValueError(f"need at least 2 symbols, got {m}")
    gate_scale(delta)
    k = 4
    while True:
        try:
            return jl.vocab_code(int(m), float(delta), seed=int(seed), k=k)
        except RuntimeError:
            k *= 4
            if k > 1 << 16:
                raise



def code_for(m: int, delta: float, code_seed: int = 0, code=None) -> tuple:
    """(VocabCode or None, E): the H.1 code ``task_code(m, delta, code_seed)``, or a given code matrix E with m
    columns (then no VocabCode)."""
    if code is None:
        vc = task_code(m, delta, code_seed)
        return vc, vc.E
    E = np.asarray(code, dtype=np.float64)
    if E.ndim != 2 or E.shape[1] != m:
        raise ValueError(f"code must have {m} columns, got {E.shape}")
    return None, E

def code_step(code_or_k) -> float:
    """s = 1/√k = 2^-j (exact: k is a power of 4)."""
    k = code_or_k if isinstance(code_or_k, int) else int(code_or_k.shape[0])
    j = round(math.log2(k)) // 2
    if 4 ** j != k:
        raise ValueError(f"k must be a power of 4 for exact arithmetic, got {k}")
    return 2.0 ** -j


# ---------------------------------------------------------------------------------------------- gates (Fn)
def identity_pre(c: list[Fn], col: np.ndarray, delta: float) -> Fn:
    """Pre-activation of the identity gate: ⟨c_σ, c_x⟩ - δ (its ReLU times ``gate_scale(δ)`` is [x = σ])."""
    out = Fn(b=-float(delta))
    for i, v in enumerate(col):
        if v != 0:
            out = out + c[i] * float(v)
    return out


def eq_units(z: Fn, ell: int) -> list[Fn]:
    """The three pre-activations whose ReLUs combine (1, -2, 1) to [z = ℓ] for integer z."""
    return [z - (ell - 1), z - ell, z - (ell + 1)]


def eq_of(u: list[Fn]) -> Fn:
    """[z = ℓ] from the three units of ``eq_units`` (after their ReLU)."""
    return u[0] - 2 * u[1] + u[2]


def gated_pair(v: Fn, off: Fn) -> list[Fn]:
    """The two pre-activations ρ(v - off), ρ(-v - off) whose difference is v when off = 0 and 0 when off >= |v|."""
    return [v - off, -v - off]


def product_pair(a: Fn, b: Fn) -> list[Fn]:
    """ρ(a + b), ρ(-a - b): s·(sum of their ReLUs) - s² is ab for a ∈ {±s}, b ∈ {±s, 0}."""
    return [a + b, -a - b]


def class_pre(E: np.ndarray, delta: float, classes: list, flagged: tuple) -> FNN:
    """The token-wise pre-network of the rank memories (``lemmas.copying``, ``lemmas.copying_packed``): from the
    code c_t (k coordinates) to (c_t, [x_t is data], then [x_t ∈ classes[i]] for i in ``flagged``), a data token
    being in no class; exact identity gates (``identity_pre``, times ``gate_scale(δ)``), one hidden unit per
    special token in the order of ``classes``, c_t carried as ρ(c) - ρ(-c)."""
    G = gate_scale(delta)
    k = E.shape[0]
    specials = [t for cl in classes for t in cl]
    C = Circuit(k)
    x = C.inputs()
    hid = [u for i in range(k) for u in (x[i], -x[i])]
    hid += [identity_pre(x, E[:, t], delta) for t in specials]
    h = C.layer(hid)
    gates = {t: h[2 * k + j] for j, t in enumerate(specials)}
    out = [h[2 * i] - h[2 * i + 1] for i in range(k)]
    out.append(Fn(b=1.0) - sum((gates[t] * G for t in specials), Fn()))
    out += [sum((gates[t] * G for t in classes[i]), Fn()) for i in flagged]
    return C.net(out)


def code_decoding(E_tokens: np.ndarray) -> Decoding:
    """W_Dec = Eᵀ/√k for the code columns of the tokens (k, V): exact dyadic entries s², row ℓ1 norm 1."""
    s = code_step(E_tokens.shape[0])
    return Decoding(E_tokens.T * s)
