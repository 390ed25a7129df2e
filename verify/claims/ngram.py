"""Lemma H.3 (n-gram lookup), Theorem D.1 (induction heads), Theorem 3.2 (associative recall): exact claims on the
position-indexed lookup network of ``lemmas/ngram.py`` (docs/tasks/constructions.md, verification.md).

Each claim runs the emitted network on random inputs from ``verify.tasks.generate`` and on adversarial ones
(the occurrence at the first possible position, at the last one, windows differing from the query by the token
whose code is closest, answers equal to the query token or closest to it in code, repeated consistent
occurrences, maximal length), with the expected answer from the reference ``verify.tasks.hypotheses`` (not
from the network's own rule), and FAILs on any wrong answer.  It also checks the counts, the code's margin,
‖W_Dec‖∞ and that the float64 evaluation was exact (bits needed <= 53), and reports the precision columns.
"""

from __future__ import annotations

import math

import numpy as np

from lemmas import ngram as ln

from ..registry import Claim, register
from ..result import Check, Result
from ..tasks import generate as gen
from ..tasks import hypotheses as hyp
from . import taskchecks as tc
from .common import mutated

PRECISION = ("float64, proved exact on the inputs run: every partial sum is a dyadic rational within 53 bits "
             "(verify/certify/dyadic.py)")


def build(params: dict, code=None):
    """The lookup network of the claim's parameters (``cut``: token ids the windows are cut at, for files that
    mark the start of a copy, ``python -m verify tasks run``)."""
    return ln.build_lookup(int(params["V"]), int(params["n"]), int(params["N"]), float(params["delta"]),
                           int(params["code_seed"]), tuple(params.get("cut", ())), params.get("route", "exact"),
                           code=code)


def _reference(prompts, n) -> tuple[np.ndarray, list]:
    ans, st = [], []
    for x in prompts:
        s, a = hyp.lookup_status(x, len(x) - 1, n)
        st.append(s)
        ans.append(a)
    return np.array(ans, np.int64), st


def _common_checks(con, prompts, labels, n, delta, info_bits, info_formula, extra_counts):
    answers, status = _reference(prompts, n)
    bad = [i for i, s in enumerate(status) if s != "ok"]
    checks = []
    cc, got = tc.counts_check(con)
    checks.append(cc)
    checks.append(tc.code_check(con.net, delta))
    checks.append(tc.decoding_check(con.net))
    checks.append(Check("every test input satisfies the hypothesis (reference: verify/tasks/hypotheses.py)",
                        not bad, len(bad), 0, {"statuses": {s: status.count(s) for s in set(status)}},
                        None if not bad else {"row": bad[0], "tokens": prompts[bad[0]].tolist()}))
    ok_rows = np.array([s == "ok" for s in status])
    chk, _ = tc.last_position_check("the output decodes to the reference answer on every random and adversarial "
                                    "input (exact claim)", con.net, prompts[ok_rows], answers[ok_rows],
                                    [lab for lab, o in zip(labels, ok_rows) if o])
    checks.append(chk)
    adv = np.array([lab != "random" for lab in labels])
    sub = np.concatenate([prompts[adv], prompts[~adv][:4]])
    pc, prof = tc.precision_check(con.net, sub)
    checks.append(pc)
    prec = tc.precision_counts(got, prof["bits_needed"], info_bits, info_formula)
    if info_bits is not None:
        checks.append(tc.info_check(prec))
    counts = {**got, **prec, **extra_counts, "rows": {k: labels.count(k) for k in set(labels)}}
    return checks, counts


# ---------------------------------------------------------------------------------------------- inputs
def _close(con, among, c):
    return tc.closest_to(con.net, c, among)


def ngram_adversarial(con, V: int, n: int, N: int, rng) -> tuple[list, list]:
    rows, labels = [], []

    def accept(x, label, tries=400):
        for _ in range(tries):
            xx = x()
            if hyp.lookup_status(xx, N - 1, n)[0] == "ok":
                rows.append(xx)
                labels.append(label)
                return
        raise RuntimeError(f"no {label} row met the hypothesis")

    def first():
        x = rng.integers(0, V, N)
        x[N - n:] = x[:n]
        return x
    accept(first, "occurrence at the first position")

    c = int(rng.integers(1, V))  # not 0: an empty memory decodes to the lowest id

    def run():
        x = rng.integers(0, V - 1, N)
        x = x + (x >= c)
        x[N - n - 1:] = c
        return x
    accept(run, "occurrence ending at N-2 (answer = the query token)")
    a, b = tc.closest_pair(con.net, range(V))  # the pair sharing the most code bits
    u = int(rng.choice([t for t in range(V) if t not in (a, b)]))
    ans = _close(con, [t for t in range(1, V) if t not in (u, a)], b)  # not 0: an empty memory decodes to 0

    def near():
        x = rng.integers(0, V, N)
        others = [t for t in range(V) if t not in (u, a, b)]
        x = np.array(others)[rng.integers(0, len(others), N)]
        step = n + 1
        for s in range(0, N - n - step, step):
            x[s:s + n - 1] = u
            x[s + n - 1] = b
        s = step * ((N - n - step - 1) // step)  # the true block after every near miss (first match)
        x[s:s + n - 1] = u
        x[s + n - 1] = a
        x[s + n] = ans
        x[N - n:N - 1] = u
        x[N - 1] = a
        return x
    accept(near, "near misses: the query's last token replaced by the closest code")

    def twice():
        x = rng.integers(0, V, N)
        q, nxt = x[:n].copy(), x[n]
        s = int(rng.integers(n + 1, N - 2 * n - 1))
        x[s:s + n], x[s + n] = q, nxt
        x[N - n:] = q
        return x
    accept(twice, "two earlier occurrences followed by the same token")
    return rows, labels


def induction_adversarial(con, V: int, N: int, rng) -> tuple[list, list]:
    rows, labels = [], []
    c = int(rng.integers(1, V))  # not 0: an empty memory decodes to the lowest id
    others = [t for t in range(V) if t != c]
    x = np.array(others)[rng.integers(0, V - 1, N)]
    x[0], x[N - 1] = c, c
    rows.append(x)
    labels.append("occurrence at position 0")
    x = np.array(others)[rng.integers(0, V - 1, N)]
    x[N - 2], x[N - 1] = c, c
    rows.append(x)
    labels.append("occurrence at N-2 (answer = the query token)")
    c, b = tc.closest_pair(con.net, range(V))  # the query and the filler share the most code bits
    a = _close(con, [t for t in range(V) if t != b], c)
    x = np.full(N, b)
    i = int(rng.integers(0, N - 2))
    x[i], x[i + 1], x[N - 1] = c, a, c
    rows.append(x)
    labels.append("filler = the closest code to the query, answer = the next closest")
    return rows, labels


def recall_adversarial(con, K: int, Vv: int, P: int, rng) -> tuple[list, list]:
    rows, labels = [], []

    def row(keys, vals, q):
        x = np.empty(2 * P + 1, np.int64)
        x[0:2 * P:2], x[1:2 * P:2], x[2 * P] = keys, vals, q
        return x
    keys = rng.permutation(K)[:P]
    vals = K + rng.integers(0, Vv, P)
    rows += [row(keys, vals, keys[0]), row(keys, vals, keys[-1])]
    labels += ["query = the first key", "query = the last key"]
    a, b = tc.closest_pair(con.net, range(K))
    ks = [a, b] + [t for t in rng.permutation(K).tolist() if t not in (a, b)][:P - 2]
    rows.append(row(ks, vals, a))
    labels.append("the two keys with the closest codes adjacent, query one of them")
    rows.append(row(keys, np.full(P, K + int(rng.integers(Vv))), keys[P // 2]))
    labels.append("all values equal")
    q = int(keys[1 % P])
    v = _close(con, range(K, K + Vv), q)
    vv = vals.copy()
    vv[1 % P] = v
    rows.append(row(keys, vv, q))
    labels.append("value with the code closest to the query key's")
    return rows, labels


def _stack(random_prompts, adv_rows, adv_labels):
    X = np.concatenate([np.asarray(random_prompts), np.array(adv_rows, np.int64)])
    return X, ["random"] * len(random_prompts) + adv_labels


# ---------------------------------------------------------------------------------------------- runs
def run_h3(params: dict, rng: np.random.Generator, mutate=None) -> Result:
    V, n, N, rows = int(params["V"]), int(params["n"]), int(params["N"]), int(params["rows"])
    con = mutated(build(params), mutate)
    T = gen.ngram(rows, N, n=n, vocab=V, seed=int(rng.integers(2 ** 31)))
    adv, labels = ngram_adversarial(con, V, n, N, rng)
    X, labels = _stack(T.tokens[:, :N], adv, labels)
    checks, counts = _common_checks(con, X, labels, n, float(params["delta"]), None,
                                    "not derived here (H.3 is a lookup primitive)", {})
    return Result("lemma-H.3", params, checks, counts=counts, formula=con.formula, precision=PRECISION)


def run_d1(params: dict, rng: np.random.Generator, mutate=None) -> Result:
    V, N, rows = int(params["V"]), int(params["N"]), int(params["rows"])
    con = mutated(build({**params, "n": 1}), mutate)
    T = gen.induction(rows, N, vocab=V, seed=int(rng.integers(2 ** 31)))
    adv, labels = induction_adversarial(con, V, N, rng)
    X, labels = _stack(T.tokens[:, :N], adv, labels)
    checks, counts = _common_checks(con, X, labels, 1, float(params["delta"]), None,
                                    "not derived here", {})
    return Result("thm-D.1", params, checks, counts=counts, formula=con.formula, precision=PRECISION)


def build_recall(params: dict, code=None):
    """The n = 1 lookup network over K + V_v token ids, length 2N + 1 (or ``N`` given: a file's length)."""
    K, Vv, P = int(params["n_keys"]), int(params["n_values"]), int(params["pairs"])
    return ln.build_lookup(K + Vv, 1, int(params.get("N", 2 * P + 1)), float(params["delta"]),
                           int(params["code_seed"]), (), params.get("route", "exact"), code=code)


def run_32(params: dict, rng: np.random.Generator, mutate=None) -> Result:
    K, Vv, P, rows = int(params["n_keys"]), int(params["n_values"]), int(params["pairs"]), int(params["rows"])
    if P > K:
        raise ValueError(f"pairs = {P} distinct keys need n_keys >= {P}")
    con = mutated(build_recall(params), mutate)
    T = gen.recall(rows, P, K, Vv, seed=int(rng.integers(2 ** 31)))
    adv, labels = recall_adversarial(con, K, Vv, P, rng)
    X, labels = _stack(T.tokens[:, :2 * P + 1], adv, labels)
    info = P * math.log2((K + Vv) / 2)
    checks, counts = _common_checks(con, X, labels, 1, float(params["delta"]), info, "N log2(|V|/2)",
                                    {"pairs": P})
    return Result("thm-3.2", params, checks, counts=counts, formula=con.formula, precision=PRECISION)


# ---------------------------------------------------------------------------------------------- mutants
def _rebuild(p: dict, **kw):
    return ln.build_lookup(p["V"], p["n"], p["N"], p["delta"], p["code_seed"], tuple(p["cut"]), p["route"], **kw)


def lookup_mutants(params, short: int = 1) -> list:
    """A wrong delay, swapped decoding rows, a memory ``short`` needed blocks short, a code with a violated
    margin."""
    def pair(con):
        return tc.closest_pair(con.net, range(con.net.embedding.E.shape[1]))
    return [
        ("every delay-1 channel of SSM layer 1 becomes delay 2", "wrong delay", tc.wrong_delay_mutant(1)),
        ("decoding rows of the last two tokens swapped", "swap decoding", tc.swap_decoding_rows_mutant(-1, -2)),
        (f"memory {short} block(s) short (N - 1 - {short} blocks)", "undersized",
         tc.rebuilt_mutant(lambda p: _rebuild(p, n_blocks=p["N"] - 1 - short))),
        ("code with a violated margin on the closest pair", "violated margin",
         tc.margin_mutant(lambda p, E: _rebuild(p, code=E), pair)),
    ]


COMMON_TYPES = {"delta": float, "code_seed": int, "rows": int, "route": ("exact",)}
GROWTH = "paper: poly-log parameters; this baseline: D = N(n+1)k + nk with k = O(log|V|), B = N + 1, bits O(log N)"

register(Claim(
    id="lemma-H.3",
    paper_ref="Lemma H.3 (Appendix H)",
    statement=("If the last n tokens of x_0..x_{N-1} occur earlier as a block ending at i <= N-2 and every earlier "
               "occurrence is followed by one token x_{i+1}, the emitted two-layer SSM network (H.1 embedding, "
               "FNN + SSM + FNN twice, ‖W_Dec‖∞ <= 1) outputs x_{i+1} at the last position, exactly, for every such "
               "input of length <= N (float64-exact position-indexed lookup; the paper's Lemma 3.3 route is "
               "another module)."),
    params={"V": 16, "n": 2, "N": 32, "delta": 0.5, "code_seed": 0},
    switches={"rows": 24, "route": "exact"},
    sweep=({"V": 16, "n": 3, "N": 64, "delta": 0.5, "code_seed": 0, "rows": 64},
           {"V": 64, "n": 2, "N": 64, "delta": 0.5, "code_seed": 0, "rows": 64}),
    run=run_h3, build=build, growth=GROWTH, doc="docs/tasks/constructions.md",
    param_types={"V": int, "n": int, "N": int, **COMMON_TYPES},
    mutants=lookup_mutants, cost=1.0,
))

register(Claim(
    id="thm-D.1",
    paper_ref="Theorem D.1 (Appendix D)",
    statement=("Induction heads: if the last token of x_0..x_{N-1} occurs exactly once before, at i, the emitted "
               "network outputs x_{i+1}, exactly, for every such input of length <= N (the lookup network with "
               "n = 1)."),
    params={"V": 16, "N": 64, "delta": 0.5, "code_seed": 0},
    switches={"rows": 24, "route": "exact"},
    sweep=({"V": 64, "N": 128, "delta": 0.5, "code_seed": 0, "rows": 64},),
    run=run_d1, build=lambda p, code=None: build({**p, "n": 1}, code), growth=GROWTH,
    doc="docs/tasks/constructions.md",
    param_types={"V": int, "N": int, **COMMON_TYPES},
    mutants=lookup_mutants, cost=2.0,
))

register(Claim(
    id="thm-3.2",
    paper_ref="Theorem 3.2 (Section 3)",
    statement=("Associative recall: on every input k_1 v_1 .. k_N v_N q with distinct keys from the first n_keys "
               "ids, values from the next n_values and q one of the keys, the emitted network outputs the value "
               "paired with q, exactly (the lookup network with n = 1 and 2N + 1 blocks)."),
    params={"n_keys": 8, "n_values": 8, "pairs": 8, "delta": 0.5, "code_seed": 0},
    switches={"rows": 48, "route": "exact"},
    sweep=({"n_keys": 32, "n_values": 32, "pairs": 32, "delta": 0.5, "code_seed": 0, "rows": 128},),
    run=run_32, build=build_recall, growth=GROWTH, doc="docs/tasks/constructions.md",
    param_types={"n_keys": int, "n_values": int, "pairs": int, **COMMON_TYPES},
    # the last block (written at q, key = v_N) is never read in recall: the undersized mutant drops two
    mutants=lambda p: lookup_mutants(p, short=2), cost=0.5,
))
