"""Hypothesis strategies for property-testing constructions against the paper's hypotheses (docs/strategies.md).

Public, for users' own tests.  Every strategy draws only inputs that satisfy the stated hypotheses *in
float64 as stored* (norms, gaps and ranges are re-checked on the drawn arrays), and deliberately includes the
tight cases a proof's bound is about (points on the boundary, gaps exactly at the delta).

    boxes(d)                          (lo, hi) with lo < hi, shape (d,)
    points_in_box(lo, hi)             x with lo <= x <= hi (corners, faces and interior)
    points_in_ball(d, R)              x with ‖x‖_2 <= R (a share on the sphere, scaled by 1 - 4 eps64)
    key_query_value_sets(n, d, delta, d_v)
                                      Lemma 3.3's inputs: ‖k_i‖_2, ‖q‖_2 <= 1, ‖v_i‖_∞ <= 1, a unique
                                      argmax i* of s_i = <k_i, q> with s_{i*} - s_i >= delta for i != i*
    copying_sequences(vocab, min_len, max_len)        ⟨BOS⟩ x_1..x_L ⟨COPY⟩, target x
    associative_recall_sequences(vocab, min_pairs, max_pairs)
                                      k_1 v_1 .. k_N v_N q, target the value paired with q
    fnn_perturbations(net, rel)       (mutant FNN, description): one stored nonzero scaled by (1 + r)

Token ids (copying and recall) follow the copying convention of Jelassi et al.: letters 0..V-1, then
BOS = V, COPY = V + 1, EOS = V + 2, PAD = V + 3 (``CopyingFormat``).  Recall: keys in [0, V/2), values in
[V/2, V), distinct keys, the query one of the keys.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from constructions.affine import Affine
from constructions.fnn import FNN
from constructions.validate import EPS64, check_int, check_positive

_SHRINK = 1.0 - 4 * EPS64  # keeps a float64 point whose norm should be R inside the closed ball


def _finite(lo: float, hi: float):
    return st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)


# ----------------------------------------------------------------------------------------------- domains
@st.composite
def boxes(draw, d: int, lo: float = -10.0, hi: float = 10.0, min_width: float = 1e-3):
    """A box [a, b] ⊂ [lo, hi]^d with b - a >= min_width in every coordinate: (a, b) as float64 arrays."""
    d = check_int("d", d, 1)
    if not (hi - lo > min_width > 0):
        raise ValueError(f"need hi - lo > min_width > 0, got lo={lo}, hi={hi}, min_width={min_width}")
    a = np.array(draw(st.lists(_finite(lo, hi - min_width), min_size=d, max_size=d)))
    w = np.array([draw(_finite(min_width, hi - ai)) for ai in a])
    b = np.minimum(a + w, hi)
    return a, b


@st.composite
def points_in_box(draw, lo, hi):
    """x with lo <= x <= hi coordinate-wise; each coordinate is an end (lo_i or hi_i) or interior, so the
    corners and faces of the box are drawn too."""
    lo, hi = np.atleast_1d(np.asarray(lo, float)), np.atleast_1d(np.asarray(hi, float))
    if lo.shape != hi.shape or lo.ndim != 1 or not np.all(np.isfinite(lo) & np.isfinite(hi)) or np.any(lo > hi):
        raise ValueError("points_in_box needs finite lo <= hi of the same shape (d,)")
    x = []
    for a, b in zip(lo, hi):
        x.append(draw(st.one_of(st.sampled_from([float(a), float(b)]), _finite(float(a), float(b)))))
    return np.array(x)


@st.composite
def points_in_ball(draw, d: int, R: float = 1.0, center=None):
    """x with ‖x - center‖_2 <= R (float64 as stored): a direction times a radius; about a third on the
    sphere (radius R (1 - 4 eps64)), the rest inside, the centre included."""
    d = check_int("d", d, 1)
    R = check_positive("R", R)
    c = np.zeros(d) if center is None else np.asarray(center, float)
    if c.shape != (d,):
        raise ValueError(f"center must have shape ({d},), got {c.shape}")
    u = np.array(draw(st.lists(_finite(-1.0, 1.0), min_size=d, max_size=d)))
    n = np.linalg.norm(u)
    if n == 0:
        return c.copy()
    r = draw(st.one_of(st.just(1.0), st.just(0.0), _finite(0.0, 1.0)))
    x = u / n * (r * R * _SHRINK)
    nx = np.linalg.norm(x)
    if nx > R:  # rounding of the direction's normalisation: pull back inside
        x *= R * _SHRINK / nx
    return c + x


# ------------------------------------------------------------------------------------- Lemma 3.3 inputs
@dataclass(frozen=True)
class KQV:
    """One input of Lemma 3.3: keys K (n, d), query q (d,), values V (n, d_v); ``i_star`` the argmax of the
    scores s = K q, ``gap`` = s[i_star] - max_{i != i_star} s_i (>= delta, computed in float64 from K and q)."""

    K: np.ndarray
    q: np.ndarray
    V: np.ndarray
    i_star: int
    gap: float

    @property
    def scores(self) -> np.ndarray:
        return self.K @ self.q

    @property
    def target(self) -> np.ndarray:
        """v_{i*}: what attention with a sharp softmax (and the lemma's construction) must output."""
        return self.V[self.i_star]


def _unit_perp(u: np.ndarray, w: np.ndarray) -> np.ndarray:
    """w minus its component along the unit vector u, normalised (zero if nothing is left)."""
    p = w - (w @ u) * u
    n = np.linalg.norm(p)
    return p / n if n > 1e-12 else np.zeros_like(w)


@st.composite
def key_query_value_sets(draw, n: int, d: int, delta: float, d_v: int = 1, tight: bool | None = None,
                         floor: bool = False):
    """Inputs satisfying Lemma 3.3's hypotheses with margin δ = ``delta``:
    ‖k_i‖_2 <= 1, ‖q‖_2 <= 1, ‖v_i‖_∞ <= 1, i* = argmax_i <k_i, q> unique with <k_{i*}, q> - <k_i, q> >= δ.

    Construction: q = r u with ‖u‖ = 1 and r in [δ/2, 1] (a gap δ needs 2r >= δ, since |<k, q>| <= r);
    scores s_i* in [δ - r, r] and s_i in [-r, s_i* - δ]; k_i = (s_i / r) u + t_i w_i with w_i ⊥ u a unit
    vector and |t_i| <= sqrt(1 - (s_i/r)^2), so <k_i, q> = s_i.  With ``tight`` (None: drawn) one competitor
    sits exactly at s_i* - δ, q and k_i* on the unit sphere where possible.  This is the paper's hypothesis, the
    margin alone (issue 15): nothing bounds s_i* from below but δ - ‖q‖.  ``floor`` draws its extreme: ‖q‖ = 1,
    s_i* = δ - 1 exactly and every other key at -q (every tie at exactly δ), which makes W = (1/N) Σ e^{λ(s_i - 1)}
    smallest, where the sums need the most bits.  The float64 gap is re-checked;
    a competitor that rounding pushed above s_i* - δ is nudged down by ulps until the stored gap is >= δ.
    Needs 0 < δ <= 1.9 (δ <= 2 is necessary; the rest is room for rounding); n >= 1; d >= 1.
    """
    n, d, d_v = check_int("n", n, 1), check_int("d", d, 1), check_int("d_v", d_v, 1)
    delta = check_positive("delta", delta)
    if delta > 1.9:
        raise ValueError(f"delta must be <= 1.9 (scores lie in [-1, 1]; beyond 1.9 float64 rounding leaves no "
                         f"room), got {delta}")
    tight = True if floor else (draw(st.booleans()) if tight is None else bool(tight))
    u = np.array(draw(st.lists(_finite(-1.0, 1.0), min_size=d, max_size=d)))
    if np.linalg.norm(u) < 1e-3:
        u = np.eye(d)[0]
    u = u / np.linalg.norm(u)
    r_min = delta / 2 + (1 - delta / 2) / 8  # slack so that 2‖q‖ >= δ survives rounding
    r = 1.0 if tight else draw(_finite(r_min, 1.0))
    q = u * (r * _SHRINK)
    q /= max(1.0, float(np.linalg.norm(q)) / _SHRINK)
    r = float(np.linalg.norm(q))
    i_star = draw(st.integers(0, n - 1))
    top = (delta - r) if floor else r if tight else draw(_finite(delta - r, r))
    s = np.empty(n)
    s[i_star] = top
    others = [i for i in range(n) if i != i_star]
    for j, i in enumerate(others):
        s[i] = top - delta if (floor or (tight and j == 0)) else draw(_finite(-r, top - delta))
    K = np.empty((n, d))
    for i in range(n):
        a = float(np.clip(s[i] / r, -1.0, 1.0))
        w = _unit_perp(u, np.array(draw(st.lists(_finite(-1.0, 1.0), min_size=d, max_size=d))))
        t = draw(_finite(-1.0, 1.0)) * np.sqrt(max(0.0, 1.0 - a * a)) * _SHRINK
        K[i] = a * u + t * w
        nk = np.linalg.norm(K[i])
        if nk > 1.0:
            K[i] /= nk / _SHRINK
    V = np.array(draw(st.lists(st.lists(st.one_of(st.sampled_from([-1.0, 1.0, 0.0]), _finite(-1.0, 1.0)),
                                        min_size=d_v, max_size=d_v), min_size=n, max_size=n)))
    # the stored (float64) scores decide: restore the gap where rounding ate into it
    sc = K @ q
    for i in others:
        for _ in range(64):
            if sc[i_star] - sc[i] >= delta:
                break
            K[i] = K[i] - (delta - (sc[i_star] - sc[i]) + 4 * EPS64) * q / (r * r)
            K[i] /= max(1.0, np.linalg.norm(K[i]) / _SHRINK)
            sc = K @ q
            if sc[i_star] - sc[i] < delta:  # k_i at the sphere along -q: raise the top key instead
                K[i_star] = K[i_star] + (delta - (sc[i_star] - sc[i]) + 4 * EPS64) * q / (r * r)
                K[i_star] /= max(1.0, np.linalg.norm(K[i_star]) / _SHRINK)
                sc = K @ q
        else:  # pragma: no cover - a few ulps always suffice
            raise AssertionError("could not restore the delta in float64")
    gap = float(sc[i_star] - np.max(np.delete(sc, i_star))) if n > 1 else float("inf")
    return KQV(K, q, V, i_star, gap)


# --------------------------------------------------------------------------------------- token sequences
@dataclass(frozen=True)
class CopyingFormat:
    """Ids of the copying task (Jelassi et al.): letters 0..V-1, BOS = V, COPY = V+1, EOS = V+2, PAD = V+3."""

    vocab: int

    @property
    def BOS(self) -> int:
        return self.vocab

    @property
    def COPY(self) -> int:
        return self.vocab + 1

    @property
    def EOS(self) -> int:
        return self.vocab + 2

    @property
    def PAD(self) -> int:
        return self.vocab + 3

    @property
    def size(self) -> int:
        return self.vocab + 4


@dataclass(frozen=True)
class TaskExample:
    """``tokens``: the model's input (int64 ids); ``target``: what it must output (the continuation for
    copying, one id for recall); ``fmt``: the id convention."""

    tokens: np.ndarray
    target: np.ndarray
    fmt: CopyingFormat


@st.composite
def copying_sequences(draw, vocab: int, min_len: int = 1, max_len: int = 16, repeats: bool | None = None):
    """⟨BOS⟩ x_1 .. x_L ⟨COPY⟩ with x_i in [0, vocab), L in [min_len, max_len]; target x_1 .. x_L.
    ``repeats`` False draws strings without a repeated token (so without a repeated n-gram for any n),
    True forces at least one repeated token (L >= 2, the hard cases for n-gram lookup), None either."""
    vocab, min_len, max_len = check_int("vocab", vocab, 1), check_int("min_len", min_len, 1), check_int("max_len", max_len, 1)
    if max_len < min_len:
        raise ValueError(f"max_len {max_len} < min_len {min_len}")
    fmt = CopyingFormat(vocab)
    if repeats is False:
        if vocab < min_len:
            raise ValueError(f"no string of length >= {min_len} without repeats over {vocab} letters")
        L = draw(st.integers(min_len, min(max_len, vocab)))
        x = draw(st.permutations(range(vocab)))[:L]
    else:
        lo = max(min_len, 2) if repeats else min_len
        if lo > max_len:
            raise ValueError("repeats=True needs max_len >= 2")
        L = draw(st.integers(lo, max_len))
        x = draw(st.lists(st.integers(0, vocab - 1), min_size=L, max_size=L))
        if repeats and len(set(x)) == len(x):
            i, j = draw(st.integers(0, L - 1)), draw(st.integers(0, L - 2))
            j = j if j < i else j + 1
            x[j] = x[i]
    x = np.asarray(x, dtype=np.int64)
    tokens = np.concatenate([[fmt.BOS], x, [fmt.COPY]]).astype(np.int64)
    return TaskExample(tokens, x.copy(), fmt)


@st.composite
def associative_recall_sequences(draw, vocab: int, min_pairs: int = 1, max_pairs: int = 8):
    """k_1 v_1 k_2 v_2 .. k_N v_N q: keys distinct in [0, vocab/2), values in [vocab/2, vocab) (repeats
    allowed), q = k_j for a drawn j; target v_j.  Needs vocab >= 2 and max_pairs <= vocab // 2."""
    vocab = check_int("vocab", vocab, 2)
    min_pairs, max_pairs = check_int("min_pairs", min_pairs, 1), check_int("max_pairs", max_pairs, 1)
    half = vocab // 2
    if max_pairs < min_pairs or min_pairs > half:
        raise ValueError(f"need min_pairs <= max_pairs and min_pairs <= vocab // 2 = {half}")
    N = draw(st.integers(min_pairs, min(max_pairs, half)))
    keys = draw(st.permutations(range(half)))[:N]
    vals = draw(st.lists(st.integers(half, vocab - 1), min_size=N, max_size=N))
    j = draw(st.integers(0, N - 1))
    tokens = np.empty(2 * N + 1, dtype=np.int64)
    tokens[0:2 * N:2] = keys
    tokens[1:2 * N:2] = vals
    tokens[-1] = keys[j]
    return TaskExample(tokens, np.array([vals[j]], dtype=np.int64), CopyingFormat(vocab))


# ------------------------------------------------------------------------------------- weight perturbations
@dataclass(frozen=True)
class Perturbation:
    """Map ``layer`` (0-based), stored entry ``entry`` of its coordinate list (or the bias, ``bias`` True),
    scaled by (1 + ``rel``): ``before`` -> ``after``."""

    layer: int
    entry: int
    bias: bool
    rel: float
    before: float
    after: float


@st.composite
def fnn_perturbations(draw, net: FNN, min_rel: float = 1e-3, max_rel: float = 0.5, bias: bool = True):
    """(mutant, Perturbation): one nonzero weight (or bias) of ``net`` multiplied by (1 ± r), r drawn in
    [min_rel, max_rel] (log-uniform-ish).  A construction whose error bound is tight should FAIL its check on
    most such mutants; use them to test that a check can fail."""
    if not isinstance(net, FNN):
        raise ValueError(f"fnn_perturbations needs an FNN, got {type(net).__name__}")
    min_rel, max_rel = check_positive("min_rel", min_rel), check_positive("max_rel", max_rel)
    if max_rel < min_rel:
        raise ValueError(f"max_rel {max_rel} < min_rel {min_rel}")
    maps = net.affine_maps()
    cands = [(i, False) for i, ((_, _, v), _, _) in enumerate(maps) if np.count_nonzero(v)]
    if bias:
        cands += [(i, True) for i, (_, b, _) in enumerate(maps) if np.count_nonzero(b)]
    if not cands:
        raise ValueError("the network has no nonzero weight to perturb")
    layer, is_bias = draw(st.sampled_from(cands))
    (r, c, v), b, shape = maps[layer]
    v, b = v.copy(), b.copy()
    arr = b if is_bias else v
    k = int(draw(st.sampled_from(np.flatnonzero(arr).tolist())))
    rel = float(np.exp(draw(_finite(np.log(min_rel), np.log(max_rel))))) * draw(st.sampled_from([1.0, -1.0]))
    before = float(arr[k])
    arr[k] = before * (1.0 + rel)
    out = [Affine.from_coo(rr, cc, vv, sh, bb) for (rr, cc, vv), bb, sh in maps]
    out[layer] = Affine.from_coo(r, c, v, shape, b)
    return FNN(out), Perturbation(layer, k, is_bias, rel, before, float(arr[k]))
