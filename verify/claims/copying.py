"""Theorems 3.1 (input copying) and D.2 (selective copying): probabilistic claims on the rank-memory network of
``lemmas/copying.py`` (docs/tasks/constructions.md, verification.md), and (switch ``route``) on the paper's route
of ``lemmas/copying_attention.py`` (docs/tasks/paper-route-copying.md).

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
from lemmas import copying_attention as lca
from lemmas import ngram as ln

from ..certify.lemma_ngram_attention import bits_needed, certify_rows
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
    if "reset" in params:
        raise ValueError("reset tokens (the packed-row network) need the token sets given directly (V, copy, ...)")
    A = int(params["alphabet"])
    if task == "copy":
        return {"V": A + 2, "copy": [A + 1], "ignore": [A], "Lmax": int(params["L"]), "N": 2 * int(params["L"]) + 2}
    m, T = int(params["m"]), int(params["T"])
    return {"V": A + 3, "copy": [A + 2], "ignore": [A, A + 1], "Lmax": m, "N": T + m + 2}


def build(params: dict, task: str, code=None, Lmax: int | None = None):
    """The rank memory of the claim's parameters; ``reset`` (token ids) and ``eos`` (a token id) give the packed-row
    network of ``lemmas/copying_packed.py`` (Jelassi's packed train rows, ``python -m verify tasks run``: the
    statement restarts at each reset token; the paper states no packed-row theorem, so no claim runs it)."""
    t = _tokens(params, task)
    return lc.build_rank_memory(t["V"], t["Lmax"] if Lmax is None else Lmax, t["N"], t["copy"], t["ignore"],
                                float(params["delta"]), int(params["code_seed"]), params.get("route", "exact"),
                                code=code, reset=tuple(params.get("reset", ())), eos=params.get("eos"))


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


# ---------------------------------------------------------------------------------------------- the paper's route
PAPER_PRECISION = ("float64 for the answers (every gate exact on dyadic codes and integer counts; the kernel weights "
                   "are not dyadic); a sound P-bit fixed-point enclosure (verify/certify/fixedpoint.py) of the "
                   "logits on the certified prompts; statistical over rows (99% Clopper–Pearson)")


def jelassi_n(A: int, L: int, eps: float) -> int:
    """n = ⌈log_A(L²/ε)⌉ (Jelassi et al. Thm 2.3: P(repeated n-gram) < L² A^-n <= ε), at least 1."""
    return max(1, math.ceil(math.log(L * L / eps, A) - 1e-12))


def paper_params(params: dict, task: str) -> dict:
    """The paper-route sizes of a claim run (switches paper_*; n = 0 means Jelassi's n)."""
    A, eps = int(params["paper_alphabet"]), float(params["paper_eps"])
    if not 0 < eps < 1:
        raise ValueError(f"paper_eps must lie in (0, 1), got {eps}")
    L = int(params["paper_L"]) if task == "copy" else int(params["paper_m"])
    nJ = jelassi_n(A, L, eps)
    n = int(params["paper_n"]) or nJ
    out = {"A": A, "L": L, "eps": eps, "n": n, "jelassi_n": nJ, "rows": int(params["paper_rows"]),
           "delta": float(params["delta"]), "code_seed": int(params["code_seed"])}
    if task != "copy":
        out["T"] = int(params["paper_T"])
        out["w"] = int(params["paper_w"]) or None
    return out


def build_paper(pp: dict, task: str, **kw):
    if task == "copy":
        return lca.build_copy_paper(pp["A"], pp["L"], kw.pop("n", pp["n"]), pp["delta"], code_seed=pp["code_seed"],
                                    **kw)
    return lca.build_selective_copy_paper(pp["A"], pp["T"], pp["L"], kw.pop("n", pp["n"]), pp["w"], pp["delta"],
                                          code_seed=pp["code_seed"], **kw)


def _prefix_prompts(X, scored, rows) -> tuple[list, list, list]:
    """Prompts ending at every scored position of the given rows: (prompts, targets, (row, position))."""
    P, T, where = [], [], []
    for r in rows:
        for t in np.flatnonzero(scored[r]):
            P.append(X[r, :t + 1])
            T.append(int(X[r, t + 1]))
            where.append((int(r), int(t)))
    return P, T, where


def paper_route(task: str, params: dict, rng: np.random.Generator, mutate=None) -> tuple[list, dict, dict]:
    """The paper's-route checks (lemmas/copying_attention.py): counts = formula, H.1 code, ‖W_Dec‖, the failure
    rate against ε (Clopper–Pearson), failures ⊆ the repeated-n-gram event (D.2: or a broken slot window), and the
    sound P-bit enclosure agreeing with float64 on the prompts of the certified rows."""
    pp = paper_params(params, task)
    con = mutated(build_paper(pp, task), mutate)
    rows, A, n, eps = pp["rows"] or samples_needed(pp["eps"]), pp["A"], pp["n"], pp["eps"]
    seed = int(rng.integers(2 ** 31))
    if task == "copy":
        T = gen.copying(rows, pp["L"], A, seed=seed)
        data = T.tokens[:, 1:pp["L"] + 1]
        event = repeated_rows(data, n)
        ev_name = f"a repeated {n}-gram in x"
        broken_window = np.zeros(rows, bool)
    else:
        T = gen.selective_copying(rows, pp["T"], pp["L"], alphabet=A, seed=seed)
        data = T.tokens[:, pp["T"] + 2:]  # the data tokens y in order (the copy half holds them)
        PAD = A
        w = con.params["w"]
        broken_window = np.array([not lca.window_ok(x, n, w, PAD, (A + 1, A + 2)) for x in T.tokens])
        rep = repeated_rows(data, n)
        event = rep | broken_window
        ev_name = f"a repeated {n}-gram in the data tokens y, or a PAD run breaking the slot window w = {w}"
    pred = teacher_forced_predictions(con.net, T.tokens, method="exact")
    fail = ~np.all((pred == T.targets) | ~T.scored, axis=1)
    checks = []
    cc, _got = tc.counts_check(con)
    checks += [cc, tc.code_check(con.net, pp["delta"]), tc.decoding_check(con.net)]
    rep_rate = float(repeated_rows(data, n).mean())
    bound = math.comb(pp["L"] - n + 1, 2) * float(A) ** -n if pp["L"] >= n + 1 else 0.0
    checks.append(stat_check(f"paper route: P(output != the {'string' if task == 'copy' else 'data tokens'}) <= ε "
                             f"(99% Clopper–Pearson; n = {n}, Jelassi's n = {pp['jelassi_n']})", int(fail.sum()),
                             rows, eps, measured_failure_rate=float(fail.mean()), repeated_ngram_rate=rep_rate,
                             union_bound_C_L_n_2_A_minus_n=bound))
    outside = np.flatnonzero(fail & ~event)
    checks.append(Check(f"paper route: failures happen only on rows with {ev_name}", outside.size == 0,
                        int(outside.size), 0, {"failures": int(fail.sum()), "event_rows": int(event.sum()),
                                               "broken_window_rows": int(broken_window.sum())},
                        None if not outside.size else {"row": int(outside[0]),
                                                      "tokens": T.tokens[outside[0]].tolist()}))
    # sound P-bit enclosure on every prefix prompt of some rows (a failing row first, if any)
    P = int(params["paper_P"])
    pick = [int(r) for r in np.flatnonzero(fail)[:1]] + [int(r) for r in
                                                         np.flatnonzero(~fail)[:int(params["paper_cert_rows"])]]
    prompts, targets, where = _prefix_prompts(T.tokens, T.scored, pick)
    f64_right = np.array([bool(pred[r, t] == y) for (r, t), y in zip(where, targets)])
    cert, margin = certify_rows(con.net, prompts, targets, P) if prompts else (np.zeros(0, bool), np.zeros(0))
    disagree = np.flatnonzero(cert != f64_right)
    checks.append(Check(f"paper route: the sound {P}-bit enclosure certifies the target on exactly the prompts where "
                        "float64 is right", disagree.size == 0, int(disagree.size), 0,
                        {"prompts": len(prompts), "rows": [int(r) for r in pick], "certified": int(cert.sum()),
                         "float64_right": int(f64_right.sum()),
                         "min_certified_margin": float(margin[cert].min()) if cert.any() else None},
                        None if not disagree.size else {"row_position": where[disagree[0]],
                                                        "certified": bool(cert[disagree[0]])}))
    bits = None
    if int(params["paper_bits"]) and f64_right.any():
        ok = np.flatnonzero(f64_right)
        bits = bits_needed(con.net, [prompts[i] for i in ok], [targets[i] for i in ok])
    f = con.formula
    counts = {"route": "paper", "n": n, "jelassi_n": pp["jelassi_n"], "alphabet": A, "L_or_m": pp["L"],
              "eps": eps, "rows": rows, "failures": int(fail.sum()), "failure_rate": float(fail.mean()),
              "repeated_ngram_rate": rep_rate, "broken_window_rate": float(broken_window.mean()),
              "union_bound": bound, "jelassi_bound_L2_A_minus_n": pp["L"] ** 2 * float(A) ** -n,
              "k": f["k"], "lam": con.notes["lam"], "kappa": con.notes["kappa"], "delta_c": con.notes["delta_c"],
              "key_patterns": f["key_patterns"], "slot_window": f["slot_window"], "D": f["D"], "L": f["L"],
              "W": f["W"], "S": f["S"], "B": f["B"], "state_size": f["state_total"],
              "total_nonzeros": f["total_nonzeros"], "P_certified": P, "bits_needed": bits,
              "info_lower_bound_bits": pp["L"] * math.log2(A)}
    if task != "copy":
        counts["T"] = pp["T"]
    return checks, counts, con.formula


def paper_mutants(task: str):
    """Broken paper-route networks: each makes a check FAIL (tests/verify/claims/test_copying_paper_route.py)."""
    def mutants(params):
        pp = paper_params(params, task)
        return [
            ("every delay-1 channel of SSM layer 1 becomes delay 2", "wrong delay", tc.wrong_delay_mutant(1)),
            ("decoding rows of tokens 0 and 1 swapped", "swap decoding", tc.swap_decoding_rows_mutant(0, 1)),
            (f"undersized window n - 1 = {max(1, pp['n'] - 1)}", "undersized",
             tc.rebuilt_mutant(lambda p: build_paper(pp, task, n=max(1, pp["n"] - 1)))),
            ("⟨BOS⟩ and ⟨COPY⟩ given different classes (codes)", "violated margin",
             tc.rebuilt_mutant(lambda p: build_paper(pp, task, merge_cut=False))),
        ]
    return mutants


def run_task(task: str, cid: str, params: dict, rng: np.random.Generator, mutate=None) -> Result:
    if params.get("route", "exact") == "paper":
        checks, counts, formula = paper_route(task, params, rng, mutate)
        return Result(cid, params, checks, counts=counts, formula=formula, precision=PAPER_PRECISION)
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
    if int(params["paper_rows"]) > 0:  # the paper's route at its own (small) sizes, unmutated
        pchecks, counts["paper_route"], _ = paper_route(task, params, rng)
        checks += pchecks
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


TYPES = {"alphabet": int, "eps": float, "delta": float, "code_seed": int, "rows": int, "route": ("exact", "paper"),
         "paper_alphabet": int, "paper_eps": float, "paper_n": int, "paper_rows": int, "paper_cert_rows": int,
         "paper_P": int, "paper_bits": int}
# the paper's route (lemmas/copying_attention.py) at its own sizes: run beside the rank memory by default
# (paper_rows = 0 turns it off), alone with route=paper; paper_n = 0 takes Jelassi's n = ⌈log_A(L²/ε)⌉
PAPER_COMMON = {"paper_alphabet": 4, "paper_eps": 0.25, "paper_n": 0, "paper_rows": 64, "paper_cert_rows": 1,
                "paper_P": 53, "paper_bits": 0}


COPY_SWITCHES = {"rows": 0, "route": "exact", "ngram_n": 2, "ngram_rows": 16, "paper_L": 8, **PAPER_COMMON}
SELECT_SWITCHES = {"rows": 0, "route": "exact", "paper_T": 16, "paper_m": 6, "paper_w": 0, **PAPER_COMMON}


def by_route(task: str, exact, paper):
    """The claim's mutants / builder for the route its params select."""
    return lambda p: (paper if p.get("route", "exact") == "paper" else exact)(p)
GROWTH = ("paper: poly-log parameters in L and 1/ε; this baseline: D = Lmax·k + 3 with k = O(log|V|), B = Lmax + 1, "
          "bits O(log L)")

register(Claim(
    id="thm-3.1",
    paper_ref="Theorem 3.1 (Section 3); Jelassi et al. 2024, Thm 2.3",
    statement=("Copying: for x_1..x_L i.i.d. uniform over the alphabet, the emitted network (H.1 embedding, "
               "FNN + SSM + FNN twice, ‖W_Dec‖∞ <= 1) fed ⟨BOS⟩ x ⟨COPY⟩ generates x with error <= ε (99% "
               "Clopper–Pearson over sampled rows); the rank memory is exact for every L <= Lmax.  Paper's route "
               "(paper_* sizes; route=paper alone): error <= ε with n = ⌈log_A(L²/ε)⌉, failures only on strings with "
               "a repeated n-gram, float64 = the sound P-bit enclosure on the certified prompts."),
    params={"alphabet": 14, "L": 32, "eps": 0.05, "delta": 0.5, "code_seed": 0},
    switches=COPY_SWITCHES,
    sweep=({"alphabet": 14, "L": 64, "eps": 0.01, "delta": 0.5, "code_seed": 0, "rows": 0, "ngram_n": 3,
            "ngram_rows": 64, "paper_alphabet": 8, "paper_L": 16, "paper_eps": 0.25, "paper_n": 3,
            "paper_rows": 200, "paper_bits": 1},
           {"alphabet": 62, "L": 64, "eps": 0.02, "delta": 0.5, "code_seed": 0, "rows": 0, "ngram_n": 2,
            "ngram_rows": 64, "paper_alphabet": 4, "paper_L": 12, "paper_eps": 0.25, "paper_rows": 400,
            "paper_bits": 1}),
    run=lambda p, rng, mutate=None: run_task("copy", "thm-3.1", p, rng, mutate),
    build=by_route("copy", lambda p: build(p, "copy"), lambda p: build_paper(paper_params({**COPY_SWITCHES, **p}, "copy"), "copy")),
    growth=GROWTH, doc="docs/tasks/constructions.md",
    param_types={"L": int, "ngram_n": int, "ngram_rows": int, "paper_L": int, **TYPES},
    mutants=by_route("copy", rank_mutants("copy"), paper_mutants("copy")), cost=2.0,
))

register(Claim(
    id="thm-D.2",
    paper_ref="Theorem D.2 (Appendix D)",
    statement=("Selective copying: for ⟨BOS⟩ z_1..z_T ⟨COPY⟩ with m data tokens uniform over the alphabet at "
               "uniform positions among ⟨PAD⟩s, the emitted network generates the data tokens in order with error "
               "<= ε (99% Clopper–Pearson); exact for every input with at most Lmax = m data tokens.  Paper's route "
               "(paper_* sizes; route=paper alone): error <= ε, failures only on rows whose data tokens repeat an "
               "n-gram or whose PAD runs break the slot window w (docs/tasks/paper-route-copying.md)."),
    params={"alphabet": 13, "T": 48, "m": 16, "eps": 0.05, "delta": 0.5, "code_seed": 0},
    switches=SELECT_SWITCHES,
    sweep=({"alphabet": 13, "T": 256, "m": 32, "eps": 0.01, "delta": 0.5, "code_seed": 0, "rows": 0,
            "paper_alphabet": 8, "paper_T": 32, "paper_m": 8, "paper_eps": 0.1, "paper_n": 3, "paper_rows": 200,
            "paper_bits": 1},
           {"alphabet": 13, "T": 48, "m": 16, "eps": 0.05, "delta": 0.5, "code_seed": 0, "rows": 0,
            "paper_alphabet": 4, "paper_T": 64, "paper_m": 8, "paper_eps": 0.25, "paper_rows": 200,
            "paper_bits": 1}),
    run=lambda p, rng, mutate=None: run_task("select", "thm-D.2", p, rng, mutate),
    build=by_route("select", lambda p: build(p, "select"),
                   lambda p: build_paper(paper_params({**SELECT_SWITCHES, **p}, "select"), "select")),
    growth=GROWTH, doc="docs/tasks/constructions.md",
    param_types={"T": int, "m": int, "paper_T": int, "paper_m": int, "paper_w": int, **TYPES},
    mutants=by_route("select", rank_mutants("select"), paper_mutants("select")), cost=1.5,
))
