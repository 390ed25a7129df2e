"""Theorems 3.1 (input copying) and D.2 (selective copying): probabilistic claims on the rank-memory network of
``lemmas/copying.py`` (docs/tasks/constructions.md, verification.md).

The theorems say: error <= ε over random inputs.  Each claim samples n rows from ``verify.tasks.generate``,
counts the rows whose teacher-forced answer is not exactly right (the same event as greedy generation failing,
docs/tasks/scoring.md), and decides with the exact one-sided 99% Clopper–Pearson bound against ε.  The rank
memory is in fact exact for every input with at most Lmax data tokens, a stronger statement checked on the same
rows and on adversarial ones (every n-gram repeated, alternating closest codes, data at the ends): any failure
FAILs.  Beside the failure rate the claims report the rate of a repeated n-gram in the sampled strings, which
is what the n-gram routes' failure rate tracks (Jelassi et al. Thm 2.3: err < L²|V|^-n) and ours does not.
"""

from __future__ import annotations

import math

import numpy as np

from lemmas import copying as lc
from lemmas import ngram as ln

from ..registry import Claim, register
from ..result import Check, Result
from ..stats import samples_needed, stat_check
from ..tasks import generate as gen
from ..tasks.scoring import teacher_forced_predictions
from . import taskchecks as tc
from .common import mutated
from .ngram import PRECISION


def _tokens(params: dict, task: str) -> dict:
    """The builder's token sets: from (alphabet, L) or (alphabet, T, m), or given directly (V, copy, ignore, Lmax,
    N: a network sized for an external file, ``python -m verify tasks run``)."""
    if "V" in params:
        return {k: params[k] for k in ("V", "copy", "ignore", "Lmax", "N")}
    A = int(params["alphabet"])
    if task == "copy":
        return {"V": A + 2, "copy": [A + 1], "ignore": [A], "Lmax": int(params["L"]), "N": 2 * int(params["L"]) + 2}
    m, T = int(params["m"]), int(params["T"])
    return {"V": A + 3, "copy": [A + 2], "ignore": [A, A + 1], "Lmax": m, "N": T + m + 2}


def build(params: dict, task: str, code=None, Lmax: int | None = None):
    t = _tokens(params, task)
    return lc.build_rank_memory(t["V"], t["Lmax"] if Lmax is None else Lmax, t["N"], t["copy"], t["ignore"],
                                float(params["delta"]), int(params["code_seed"]), params.get("route", "exact"),
                                code=code)


def repeated_ngram_rate(x: np.ndarray, n: int) -> float:
    """Fraction of rows of x (rows, L) in which some n-gram occurs twice."""
    if x.shape[1] < n + 1:
        return 0.0
    w = np.lib.stride_tricks.sliding_window_view(x, n, axis=1)  # (rows, L-n+1, n)
    hit = 0
    for r in range(x.shape[0]):
        hit += len({tuple(v) for v in w[r]}) < w.shape[1]
    return hit / x.shape[0]


def repeated_rows(x: np.ndarray, n: int) -> np.ndarray:
    """Per row of x (rows, L): some n-gram occurs twice."""
    if x.shape[1] < n + 1:
        return np.zeros(x.shape[0], bool)
    w = np.lib.stride_tricks.sliding_window_view(x, n, axis=1)
    return np.array([len({tuple(v) for v in w[r]}) < w.shape[1] for r in range(x.shape[0])])


def ngram_route_check(T, A: int, L: int, n: int, rows: int) -> tuple[Check, dict]:
    """Jelassi's mechanism for comparison: the n-gram lookup network (lemmas/ngram.py) with ⟨BOS⟩ and ⟨COPY⟩
    sharing a code and windows cut there (spec 04).  It fails only where the string repeats an n-gram; its
    failure rate is measured beside the repeated-n-gram rate it tracks."""
    net = ln.build_lookup(A + 2, n, T.length, cut=(A, A + 1)).net
    X = T.tokens[:rows]
    f = _row_failures(net, X, T.scored[:rows], T.targets[:rows])
    rep = repeated_rows(X[:, 1:L + 1], n)
    info = {"n": n, "rows": int(rows), "failure_rate": float(f.mean()), "repeated_ngram_rate": float(rep.mean()),
            "failures_without_a_repeat": int(np.sum(f & ~rep))}
    return Check(f"comparison: the n-gram lookup route (n = {n}, ⟨BOS⟩≡⟨COPY⟩ cut) fails only on strings with a "
                 "repeated n-gram", bool(np.all(rep | ~f)), float(f.mean()), float(rep.mean()), info), info


def _row_failures(model, tokens, scored, targets) -> np.ndarray:
    P = teacher_forced_predictions(model, tokens, method="exact")
    return ~np.all((P == targets) | ~scored, axis=1)


def _adversarial(con, task: str, params: dict, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """Rows of the same layout as the random ones: (tokens, scored, targets, labels)."""
    t = _tokens(params, task)
    A = int(params["alphabet"])
    a, b = tc.closest_pair(con.net, range(A))
    if task == "copy":
        L = t["Lmax"]
        xs = {"every n-gram repeated (one token)": np.full(L, b),
              "alternating the two closest codes": np.array([a, b] * L)[:L],
              "first token = last token, rest random": np.r_[a, rng.integers(0, A, L - 2), a]}
        rows = [np.r_[A, x, A + 1, x] for x in xs.values()]
        first = L + 1
    else:
        m, T = t["Lmax"], int(params["T"])
        PAD, BOS, COPY = A, A + 1, A + 2
        rows, xs = [], {}
        for label, pos in (("data at the front", np.arange(m)), ("data at the end", np.arange(T - m, T)),
                           ("data spread, one token", np.linspace(0, T - 1, m).astype(int))):
            z = np.full(T, PAD)
            y = np.full(m, b) if "one token" in label else np.array([a, b] * m)[:m]
            z[pos] = y
            rows.append(np.r_[BOS, z, COPY, y])
            xs[label] = y
        first = T + 1
    X = np.array(rows, np.int64)
    sc = np.zeros(X.shape, bool)
    sc[:, first:X.shape[1] - 1] = True
    tg = np.where(sc, np.concatenate([X[:, 1:], np.zeros((len(X), 1), np.int64)], axis=1), -1)
    return X, sc, tg, list(xs)


def run_task(task: str, cid: str, params: dict, rng: np.random.Generator, mutate=None) -> Result:
    eps = float(params["eps"])
    if not 0 < eps < 1:
        raise ValueError(f"eps must lie in (0, 1), got {eps}")
    rows = int(params["rows"]) or samples_needed(eps)
    A = int(params["alphabet"])
    con = mutated(build(params, task), mutate)
    seed = int(rng.integers(2 ** 31))
    if task == "copy":
        L = int(params["L"])
        T = gen.copying(rows, L, A, seed=seed)
        data = T.tokens[:, 1:L + 1]
        info, info_f = L * math.log2(A), "L log2|alphabet|"
    else:
        L = int(params["m"])
        T = gen.selective_copying(rows, int(params["T"]), L, alphabet=A, seed=seed)
        data = T.tokens[:, int(params["T"]) + 2:]
        info, info_f = L * math.log2(A) + math.log2(math.comb(int(params["T"]), L)), \
            "m log2|alphabet| + log2 C(T, m) (tokens and their positions are lost once read)"
    fail = _row_failures(con.net, T.tokens, T.scored, T.targets)
    Xa, sa, ta, labels = _adversarial(con, task, params, rng)
    fail_a = _row_failures(con.net, Xa, sa, ta)
    checks = []
    cc, got = tc.counts_check(con)
    checks += [cc, tc.code_check(con.net, float(params["delta"])), tc.decoding_check(con.net)]
    nJ = max(1, math.ceil(math.log(L * L / eps, A)))
    rep = {f"n={n}": repeated_ngram_rate(data, n) for n in sorted({1, 2, 3, nJ})}
    checks.append(stat_check(f"P(output != the {'string' if task == 'copy' else 'non-PAD tokens'}) <= ε "
                             "(99% Clopper–Pearson over sampled rows)", int(fail.sum()), rows, eps,
                             measured_failure_rate=float(fail.mean()), repeated_ngram_rate=rep,
                             jelassi_n=nJ, jelassi_bound_L2_V_minus_n=L * L * float(A) ** -nJ))
    wrong = np.flatnonzero(np.r_[fail, fail_a])
    Xall = list(T.tokens) + list(Xa)
    checks.append(Check("exact on every sampled and adversarial row (the rank memory's own statement: at most "
                        "Lmax data tokens)", wrong.size == 0, int(wrong.size), 0,
                        {"sampled_failures": int(fail.sum()), "adversarial": dict(zip(labels, map(bool, ~fail_a)))},
                        None if not wrong.size else {"row": int(wrong[0]), "tokens": Xall[wrong[0]].tolist()}))
    route = {}
    if task == "copy" and int(params["ngram_rows"]) > 0:
        chk, route = ngram_route_check(T, A, L, int(params["ngram_n"]), min(rows, int(params["ngram_rows"])))
        checks.append(chk)
    pc, prof = tc.precision_check(con.net, np.concatenate([Xa, T.tokens[:4]]))
    checks.append(pc)
    prec = tc.precision_counts(got, prof["bits_needed"], info, info_f)
    checks.append(tc.info_check(prec))
    counts = {**got, **prec, "rows": rows, "failures": int(fail.sum()), "failure_rate": float(fail.mean()),
              "repeated_ngram_rate": rep, "jelassi_n": nJ, "jelassi_bound_L2_V_minus_n": L * L * float(A) ** -nJ,
              "why_zero": "the memory is indexed by rank, not by n-gram: repeated n-grams do not matter",
              "ngram_route_comparison": route}
    return Result(cid, params, checks, counts=counts, formula=con.formula,
                  precision=PRECISION + "; statistical over rows (99% Clopper–Pearson)")


def rank_mutants(task: str):
    def mutants(params):
        A = int(params["alphabet"])

        def pair(con):  # the copy token and the data token closest to it: the gates need the margin there (the
            # argmax decoding needs distinct codes only, so a violated margin between two data tokens is harmless)
            cp = _tokens(params, task)["copy"][0]
            return cp, tc.closest_to(con.net, cp, range(A))
        return [
            ("every delay-0 channel of SSM layer 1 becomes delay 1", "wrong delay", tc.wrong_delay_mutant(0)),
            ("decoding rows of tokens 0 and 1 swapped", "swap decoding", tc.swap_decoding_rows_mutant(0, 1)),
            ("memory one block short (Lmax - 1)", "undersized",
             lambda con: tc.rebuilt_mutant(lambda p: build(params, task, Lmax=p["Lmax"] - 1))(con)),
            ("code with a violated margin between ⟨COPY⟩ and a data token", "violated margin",
             tc.margin_mutant(lambda p, E: build(params, task, code=E), pair)),
        ]
    return mutants


TYPES = {"alphabet": int, "eps": float, "delta": float, "code_seed": int, "rows": int, "route": ("exact",)}
GROWTH = ("paper: poly-log parameters in L and 1/ε; this baseline: D = Lmax·k + 3 with k = O(log|V|), B = Lmax + 1, "
          "bits O(log L)")

register(Claim(
    id="thm-3.1",
    paper_ref="Theorem 3.1 (Section 3); Jelassi et al. 2024, Thm 2.3",
    statement=("Copying: for x_1..x_L i.i.d. uniform over the alphabet, the emitted network (H.1 embedding, "
               "FNN + SSM + FNN twice, ‖W_Dec‖∞ <= 1) fed ⟨BOS⟩ x ⟨COPY⟩ generates x with error <= ε (99% "
               "Clopper–Pearson over sampled rows); the rank memory is exact for every L <= Lmax."),
    params={"alphabet": 14, "L": 32, "eps": 0.05, "delta": 0.5, "code_seed": 0},
    switches={"rows": 0, "route": "exact", "ngram_n": 2, "ngram_rows": 16},
    sweep=({"alphabet": 14, "L": 64, "eps": 0.01, "delta": 0.5, "code_seed": 0, "rows": 0, "ngram_n": 3,
            "ngram_rows": 64},
           {"alphabet": 62, "L": 64, "eps": 0.02, "delta": 0.5, "code_seed": 0, "rows": 0, "ngram_n": 2,
            "ngram_rows": 64}),
    run=lambda p, rng, mutate=None: run_task("copy", "thm-3.1", p, rng, mutate),
    build=lambda p: build(p, "copy"), growth=GROWTH, doc="docs/tasks/constructions.md",
    param_types={"L": int, "ngram_n": int, "ngram_rows": int, **TYPES}, mutants=rank_mutants("copy"), cost=1.5,
))

register(Claim(
    id="thm-D.2",
    paper_ref="Theorem D.2 (Appendix D)",
    statement=("Selective copying: for ⟨BOS⟩ z_1..z_T ⟨COPY⟩ with m data tokens uniform over the alphabet at "
               "uniform positions among ⟨PAD⟩s, the emitted network generates the data tokens in order with error "
               "<= ε (99% Clopper–Pearson); exact for every input with at most Lmax = m data tokens."),
    params={"alphabet": 13, "T": 48, "m": 16, "eps": 0.05, "delta": 0.5, "code_seed": 0},
    switches={"rows": 0, "route": "exact"},
    sweep=({"alphabet": 13, "T": 256, "m": 32, "eps": 0.01, "delta": 0.5, "code_seed": 0, "rows": 0},),
    run=lambda p, rng, mutate=None: run_task("select", "thm-D.2", p, rng, mutate),
    build=lambda p: build(p, "select"), growth=GROWTH, doc="docs/tasks/constructions.md",
    param_types={"T": int, "m": int, **TYPES}, mutants=rank_mutants("select"), cost=1.0,
))
