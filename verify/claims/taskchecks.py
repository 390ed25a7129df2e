"""Checks shared by the task-network claims (``ngram``: lemma-H.3, thm-D.1, thm-3.2; ``copying``: thm-3.1,
thm-D.2), docs/tasks/verification.md.  Registers no claim.

Every task claim checks: the counts read from the emitted model equal the builder's formula; the embedding is
Lemma H.1's code (±1/√k with k = 4^j, margin on the integer Gram); ‖W_Dec‖∞ <= 1; the predictions on random and
adversarial inputs; and the precision (``route_precision_checks``): that the float64 evaluation was exact on those
inputs (``certify.dyadic``), or, for the lookup claims' paper route, the sound P-bit enclosure on every input
(``certify.lemma_ngram_attention``); with the bits needed next to the information lower bound.  The mutants (a wrong delay, swapped decoding rows, an
undersized memory, a code with a violated margin) are here too.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from constructions.model import Decoding
from constructions.ssm import SSMLayer, delay
from lemmas import jl
from lemmas import task_blocks as tb

from ..certify.dyadic import MANT, dyadic_profile
from ..certify.lemma_ngram_attention import bits_needed, certified_margin, enclosure_top, row_enclosures
from ..result import Check

COUNT_KEYS = ("M", "U", "D", "d_in", "k", "L", "W", "S", "B", "fnn", "ssm_nnz", "state_sizes_total",
              "total_nonzeros")


def model_counts(model) -> dict:
    c = model.counts()
    return {"M": c["M"], "U": c["U"], "D": c["D"], "d_in": c["d_in"], "k": int(model.embedding.E.shape[0]),
            "L": c["L"], "W": c["W"], "S": c["S"], "B": c["B"],
            "fnn": [{key: f[key] for key in ("L", "W", "S", "B")} for f in c["fnn"]],
            "ssm_nnz": [s["nnz"] for s in c["ssm"]], "state_sizes_total": [sum(s) for s in c["state_sizes"]],
            "total_nonzeros": c["total_nonzeros"]}


def counts_check(con) -> tuple[Check, dict]:
    got = model_counts(con.net)
    want = {k: con.formula[k] for k in COUNT_KEYS}
    bad = {k: {"emitted": got[k], "formula": want[k]} for k in COUNT_KEYS if got[k] != want[k]}
    return Check("counts read from the emitted model equal the exact formula", not bad,
                 detail={"mismatch": bad} if bad else {}), got


def code_check(model, delta: float) -> Check:
    """The embedding's columns (distinct symbols) are ±1/√k with k = 4^j and |G_vw| <= floor(δk)."""
    E = model.embedding.E
    k = E.shape[0]
    try:
        s = tb.code_step(k)
    except ValueError as e:
        return Check("embedding is Lemma H.1's code (±1/√k, k = 4^j, margin δ on the integer Gram)", False,
                     detail={"reason": str(e)})
    S = E / s
    signs_ok = bool(np.all(np.abs(S) == 1))
    U = np.unique(S.astype(np.int64), axis=1)
    ok, m = jl.code_ok(U, delta) if signs_ok else (False, None)
    return Check("embedding is Lemma H.1's code (±1/√k, k = 4^j, margin δ on the integer Gram)", bool(ok),
                 None if m is None else m / k, delta,
                 {"k": k, "symbols": U.shape[1], "max_abs_gram": m, "floor_delta_k": jl.margin_int(delta, k)})


def decoding_check(model) -> Check:
    W = model.decoding.W_dec
    row = float(np.max(np.sum(np.abs(W), axis=1)))
    return Check("‖W_Dec‖∞ <= 1 (max row ℓ1 norm; entries <= 1)", row <= 1.0 and float(np.max(np.abs(W))) <= 1.0,
                 row, 1.0)


def closest_pair(model, among) -> tuple[int, int]:
    """The two tokens of ``among`` whose embedding columns have the largest |inner product| (distinct codes)."""
    E = model.embedding.E[:, list(among)]
    G = np.abs(E.T @ E)
    np.fill_diagonal(G, -1)
    same = np.isclose(G, 1.0)
    G[same] = -1
    i, j = np.unravel_index(int(np.argmax(G)), G.shape)
    return int(list(among)[i]), int(list(among)[j])


def closest_to(model, c: int, among) -> int:
    """The token of ``among`` (not c) whose code has the largest inner product with c's."""
    E = model.embedding.E
    among = [t for t in among if t != c]
    return among[int(np.argmax([float(E[:, t] @ E[:, c]) for t in among]))]


CHUNK_ENTRIES = 1 << 23  # rows per chunk: at most this many (token x channel) floats per SSM output


def last_logits(model, X: np.ndarray, chunk: int = 64) -> np.ndarray:
    """W_Dec times the model output at the last position (the final FNN evaluated there only: the model is causal
    and token-wise after its last SSM layer, so this is the same function as the full forward pass).  Rows in
    chunks of at most ``chunk``, fewer where the widest SSM layer would exceed ``CHUNK_ENTRIES`` floats."""
    width = max(max(g.H, g.d_out) for g, _ in model.blocks)
    chunk = max(1, min(chunk, CHUNK_ENTRIES // max(1, X.shape[1] * width)))
    out = []
    for s in range(0, len(X), chunk):
        Z = model.embedding(X[s:s + chunk])
        if model.pre is not None:
            Z = model.pre(Z)
        for b, (g, f) in enumerate(model.blocks):
            Z = g(Z, method="exact")
            Z = f(Z[:, -1:, :] if b == len(model.blocks) - 1 else Z)
        out.append(model.decoding.logits(Z))
    return np.concatenate(out)


def last_position_check(name: str, model, prompts: np.ndarray, answers: np.ndarray, labels: list,
                        logits: np.ndarray | None = None) -> tuple:
    """Predictions at the last prompt position against the answers, every row; FAIL with the first wrong row
    (``logits``: the float64 last-position logits, when already computed)."""
    P = np.argmax(last_logits(model, prompts) if logits is None else logits, axis=-1)
    wrong = np.flatnonzero(P != answers)
    ce = None
    if wrong.size:
        r = int(wrong[0])
        ce = {"row": r, "kind": labels[r], "tokens": prompts[r].tolist(), "predicted": int(P[r]),
              "expected": int(answers[r])}
    by_kind = {}
    for lab, ok in zip(labels, P == answers):
        by_kind.setdefault(lab, [0, 0])
        by_kind[lab][0] += int(not ok)
        by_kind[lab][1] += 1
    return Check(name, wrong.size == 0, int(wrong.size), 0,
                 {"rows": len(answers), "failures_by_kind": {k: {"failures": v[0], "rows": v[1]}
                                                                 for k, v in by_kind.items()}}, ce), P


def precision_check(model, X: np.ndarray) -> tuple[Check, dict]:
    prof = dyadic_profile(model, X)
    worst = max(prof["stages"], key=lambda s: s["bits"])
    chk = Check("float64 evaluation is exact arithmetic on these inputs (every partial sum on its dyadic grid "
                "within 53 bits)", prof["exact_in_float64"], prof["bits_needed"], MANT,
                {"bits_needed": prof["bits_needed"], "widest_stage": worst["stage"], "rows_profiled": len(X),
                 "stages": [{k: s[k] for k in ("stage", "bits", "max_partial_sum")} for s in prof["stages"]]})
    return chk, prof


def route_precision_checks(con, route: str, X: np.ndarray, answers: np.ndarray, profile: np.ndarray,
                           logits: np.ndarray | None = None, bits_rows: int = 3) -> tuple[list[Check], dict]:
    """The precision verdict of a task network, by route (docs/tasks/verification.md).

    route=exact: the dyadic proof that float64 evaluated exact arithmetic on the rows ``profile`` (indices).
    route=paper (``lemmas.ngram_attention``: non-dyadic weights e^{λ(G-1)} and a ratio net, so no such proof):
    the sound P-bit fixed-point enclosure of the last-position logits at the builder's bits P
    (``notes['bits']``) on EVERY row, each putting its reference answer strictly on top; ``bits_needed`` on the
    first ``bits_rows`` rows of ``profile``; and the float64 argmax equal to the enclosure's top token on every
    row.  Returns (checks, {"bits_needed", "bits_evaluated", ...})."""
    if route == "exact":
        chk, prof = precision_check(con.net, X[profile])
        return [chk], {"bits_needed": prof["bits_needed"], "bits_evaluated": MANT}
    if route != "paper":
        raise ValueError(f"unknown route {route!r}; expected 'exact' or 'paper'")
    model, P = con.net, int(con.notes["bits"])
    name = (f"sound P-bit fixed-point enclosure (P = {P}, exact arithmetic on the stored weights) of the "
            "last-position logits puts the reference answer strictly on top, every row")
    try:
        enc = row_enclosures(model, X, P)
    except ValueError as e:  # the evaluator refuses the network (e.g. a first layer that is not pure delays)
        return [Check(name, False, detail={"reason": f"no enclosure: {e}"})], {"bits_needed": None,
                                                                               "bits_evaluated": P}
    margin = np.array([certified_margin(lo, hi, int(t), P) for (lo, hi), t in zip(enc, answers)])
    bad = np.flatnonzero(margin <= 0)
    ce = None if not bad.size else {"row": int(bad[0]), "tokens": X[bad[0]].tolist(), "expected": int(answers[bad[0]]),
                                    "certified_margin": float(margin[bad[0]])}
    checks = [Check(name, not bad.size, int(bad.size), 0,
                    {"rows": len(X), "P": P, "min_certified_margin": float(margin.min())}, ce)]
    few = np.asarray(profile)[:bits_rows]
    need = bits_needed(model, X[few], answers[few], P_lo=2, P_hi=P)
    checks.append(Check(f"bits needed (bisection: every one of {len(few)} rows certified at P, not all at P - 1) "
                        f"<= the builder's {P}", need is not None, need, P, {"rows": few.tolist()}))
    F = last_logits(model, X) if logits is None else logits
    top = [enclosure_top(lo, hi) for lo, hi in enc]
    f64 = np.argmax(F, axis=-1)
    dis = [i for i, (t, a) in enumerate(zip(top, f64)) if t is None or t != int(a)]
    mid = np.array([[(int(a) + int(b)) / 2.0 ** (P + 1) for a, b in zip(lo, hi)] for lo, hi in enc])
    checks.append(Check(f"float64 argmax equals the token the P = {P} enclosure puts on top, every row", not dis,
                        len(dis), 0, {"max_abs_f64_minus_enclosure_mid": float(np.max(np.abs(F - mid)))},
                        None if not dis else {"row": dis[0], "float64_argmax": int(f64[dis[0]]),
                                              "enclosure_top": top[dis[0]]}))
    return checks, {"bits_needed": need, "bits_evaluated": P,
                    "min_certified_margin": float(margin.min())}


def precision_counts(counts: dict, bits: int, info_bits: float | None, info_formula: str,
                     capacity_bits: float | None = None) -> dict:
    """The precision columns: D, L, W, S, B, state size, bits needed; the information lower bound;
    ``capacity_bits``: what the state can hold (the paper route: state · log2(N + 1), counts <= N)."""
    state = int(sum(counts["state_sizes_total"]))
    out = {"D": counts["D"], "L": counts["L"], "W": counts["W"], "S": counts["S"], "B": counts["B"],
           "state_size": state, "bits_needed": None if bits is None else int(bits), "bits_float64": MANT,
           "state_bits_used": None if bits is None else state * int(bits), "info_lower_bound_bits": info_bits,
           "info_lower_bound_formula": info_formula}
    if capacity_bits is not None:
        out["state_capacity_bits"] = float(capacity_bits)
        if info_bits:
            out["capacity_over_info"] = float(capacity_bits) / info_bits
    if info_bits is not None:
        out["bits_per_channel_lower_bound_at_this_D"] = info_bits / counts["D"]
        out["bits_per_channel_a_polylog_D_would_need"] = {
            "D = k log2(N)": info_bits / (counts["k"] * max(1.0, math.log2(max(2, counts["U"])))),
            "note": "Jelassi Thm 2.7 / spec 04: D·b >= information; with D poly-log the bits b grow ~linearly"}
    return out


def info_check(prec: dict) -> Check:
    """Consistency with the lower bound: the state our construction carries holds at least the information
    (state × bits needed, or the state's capacity where the route reports one)."""
    ib = prec["info_lower_bound_bits"]
    if "state_capacity_bits" in prec:
        return Check("information lower bound <= state capacity (state size × log2(N + 1): counts <= N; "
                     "consistency with Jelassi Thm 2.7)", ib <= prec["state_capacity_bits"], ib,
                     prec["state_capacity_bits"])
    return Check("information lower bound <= state size × bits needed (consistency with Jelassi Thm 2.7)",
                 ib <= prec["state_bits_used"], ib, prec["state_bits_used"])


# ---------------------------------------------------------------------------------------------- mutants
def _replace_model(con, **kw):
    return dataclasses.replace(con, net=dataclasses.replace(con.net, **kw))


def wrong_delay_mutant(ell: int = 1):
    """Every delay-ℓ channel of SSM layer 1 becomes a delay ℓ + 1 (a wrong delay in the key/query slots)."""
    def mutate(con):
        g, f = con.net.blocks[0]
        hit = [c.family == "delay" and c.ell == ell for c in g.channels]
        ch = tuple(delay(ell + 1) if h else c for h, c in zip(hit, g.channels))
        if not any(hit):
            raise ValueError(f"no delay-{ell} channel to shift")
        return _replace_model(con, blocks=((SSMLayer(ch, g.U, g.W_in, g.W_out), f),) + tuple(con.net.blocks[1:]))
    return mutate


def swap_decoding_rows_mutant(i: int, j: int):
    def mutate(con):
        W = con.net.decoding.W_dec.copy()
        W[[i, j]] = W[[j, i]]
        return _replace_model(con, decoding=Decoding(W))
    return mutate


def rebuilt_mutant(build):
    """The net rebuilt by ``build(params)`` (an undersized memory, a code with a violated margin); the formula
    and params of the original kept, so the checks compare it against the claim's statement."""
    return lambda con: dataclasses.replace(con, net=build(con.params).net)


def violated_code(E: np.ndarray, a: int, b: int) -> np.ndarray:
    """Column b replaced by column a with one sign flipped: ⟨c_a, c_b⟩ = 1 - 2/k > δ (for k > 4)."""
    E = np.array(E)
    E[:, b] = E[:, a]
    E[0, b] = -E[0, b]
    return E


def margin_mutant(build_with_code, pair):
    """Rebuild with a code matrix whose columns ``pair`` violate the margin."""
    def mutate(con):
        E = violated_code(con.net.embedding.E, *pair(con))
        return dataclasses.replace(con, net=build_with_code(con.params, E).net)
    return mutate

