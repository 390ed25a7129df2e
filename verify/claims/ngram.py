"""Lemma H.3 (n-gram lookup), Theorem D.1 (induction heads), Theorem 3.2 (associative recall): exact claims on two
routes (docs/tasks/constructions.md, verification.md, paper-route.md), switch ``route``:

* ``exact``: the float64-exact position-indexed lookup of ``lemmas/ngram.py``;
* ``paper``: the paper's route, ``lemmas/ngram_attention.py`` (delay keys and queries, Lemma 3.3's exponentially
  weighted running sums and a ratio, with exact finite-alphabet kernel features), on the same H.1 code;
* ``both`` (default): both on the same inputs; the report's top-level counts are the exact route's, the paper
  route's are under ``counts['route_paper']`` and its checks are prefixed ``route=paper:``.

Each route runs the emitted network on random inputs from ``verify.tasks.generate`` and on adversarial ones
(the occurrence at the first possible position, at the last one, windows differing from the query by the token
whose code is closest, answers equal to the query token or closest to it in code, repeated consistent
occurrences, maximal length), with the expected answer from the reference ``verify.tasks.hypotheses`` (not
from the network's own rule), and FAILs on any wrong answer.  It also checks the counts against the builder's
exact formula, the code's margin, ‖W_Dec‖∞ and the precision (``taskchecks.route_precision_checks``: the dyadic
exactness proof of the float64 run for ``exact``; the sound P-bit enclosure on every row for ``paper``), and
reports the precision columns.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from lemmas import ngram as ln
from lemmas import ngram_attention as na
from lemmas import task_blocks as tb

from ..registry import Claim, register
from ..result import Check, Result
from ..tasks import generate as gen
from ..tasks import hypotheses as hyp
from . import taskchecks as tc
from .common import mutated

PRECISION = ("float64, proved exact on the inputs run: every partial sum is a dyadic rational within 53 bits "
             "(verify/certify/dyadic.py)")  # route=exact (verify/claims/copying.py reuses it)
PRECISION_PAPER = ("exact arithmetic on the stored float64 weights, enclosed soundly at P = 53 bits of fixed point "
                   "(verify/certify/lemma_ngram_attention.py) on every input run; the float64 run agrees in argmax on "
                   "every input (not proved exact: the weights e^{λ(G-1)} and the ratio net are not dyadic)")
ROUTES = ("exact", "paper")
PAPER_PREFIX = "route=paper: "


def routes(params: dict) -> tuple[str, ...]:
    """The routes a run checks: ``both`` (default) or one of ``ROUTES``."""
    r = params.get("route", "both")
    if r == "both":
        return ROUTES
    if r not in ROUTES:
        raise ValueError(f"route must be 'both' or one of {ROUTES}, got {r!r}")
    return (r,)


def paper_code(V: int, delta: float, code_seed: int, code=None):
    """The H.1 code of the exact route (``task_blocks.task_code``: k = 4^j), or a given (k, V) code matrix as a
    ``VocabCode`` (its recorded margin recomputed; mutation tests)."""
    vc = tb.task_code(V, delta, code_seed)
    if code is None:
        return vc
    E = np.asarray(code, dtype=np.float64)
    if E.shape != vc.E.shape:
        raise ValueError(f"code must be a {vc.E.shape} matrix, got {E.shape}")
    S = np.rint(E * math.sqrt(vc.k)).astype(np.int64)
    return dataclasses.replace(vc, E=E, signs=S, max_abs_gram=na.off_diagonal_max(na.int_gram(S)))


def build_paper(V: int, n: int, N: int, delta: float, eps: float, code_seed: int, cut=(), code=None, **hooks):
    """The paper's-route lookup network (``lemmas.ngram_attention``) on the exact route's H.1 code.  ``hooks``:
    the builder's test hooks (``lam``, ``key_delay_shift``, ``assume_margin``) for broken networks."""
    if tuple(cut):
        raise ValueError("route=paper has no cut windows (the ⟨BOS⟩/⟨COPY⟩ convention): use route=exact")
    return na.build_ngram_lookup_paper(int(V), int(n), int(N), float(delta), float(eps), int(code_seed),
                                       code=paper_code(int(V), float(delta), int(code_seed), code), **hooks)


def _eps(params: dict) -> float:
    return float(params.get("eps", 0.1))


def build(params: dict, code=None):
    """The lookup network of the claim's parameters: route ``paper`` the paper's route, else (``exact``, ``both``)
    the position-indexed one (``cut``: token ids the windows are cut at, for files that mark the start of a
    copy, ``python -m verify tasks run``; route=exact only)."""
    if params.get("route", "both") == "paper":
        return build_paper(params["V"], params["n"], params["N"], params["delta"], _eps(params),
                           params["code_seed"], tuple(params.get("cut", ())), code=code)
    routes(params)
    return ln.build_lookup(int(params["V"]), int(params["n"]), int(params["N"]), float(params["delta"]),
                           int(params["code_seed"]), tuple(params.get("cut", ())), "exact", code=code)


def _reference(prompts, n) -> tuple[np.ndarray, list]:
    ans, st = [], []
    for x in prompts:
        s, a = hyp.lookup_status(x, len(x) - 1, n)
        st.append(s)
        ans.append(a)
    return np.array(ans, np.int64), st


def _prefixed(c: Check, prefix: str) -> Check:
    return dataclasses.replace(c, name=prefix + c.name) if prefix else c


def _common_checks(con, route, prompts, labels, n, delta, info_bits, info_formula, extra_counts):
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
    Xok, Aok = prompts[ok_rows], answers[ok_rows]
    logits = tc.last_logits(con.net, Xok)
    chk, _ = tc.last_position_check("the output decodes to the reference answer on every random and adversarial "
                                    "input (exact claim)", con.net, Xok, Aok,
                                    [lab for lab, o in zip(labels, ok_rows) if o], logits)
    checks.append(chk)
    adv = np.array([lab != "random" for lab, o in zip(labels, ok_rows) if o], bool)
    profile = np.concatenate([np.flatnonzero(adv), np.flatnonzero(~adv)[:4]])
    pcs, prof = tc.route_precision_checks(con, route, Xok, Aok, profile, logits)
    checks += pcs
    # the paper route's state capacity (every running sum a count <= N); H.3 / D.1 keep "not derived": the recall
    # bound N log2(|V|/2) the builder notes holds for N distinct keys only (D.1 at |V| = 16, N = 1024 is answered
    # exactly by a state of capacity 2881 bits < 1024 log2 8 = 3072, so it is no lower bound there)
    cap = con.notes["state_capacity_bits"] if route == "paper" else None
    prec = tc.precision_counts(got, prof["bits_needed"], info_bits, info_formula, cap)
    prec["bits_evaluated"] = prof["bits_evaluated"]
    if info_bits is not None:
        checks.append(tc.info_check(prec))
    counts = {**got, **prec, **extra_counts, "rows": {k: labels.count(k) for k in set(labels)}}
    if route == "paper":
        counts.update({key: con.notes[key] for key in ("lam", "kappa", "delta_c", "error_bound")})
        counts["eps"] = con.params["eps"]
        counts["key_features"] = con.formula["key_features"]
    return checks, counts


def _result(cid, params, cons: dict, X, labels, n, info_bits, info_formula, extra_counts) -> Result:
    """Checks of every route on the same inputs; the first route's counts and formula on top."""
    checks, out, formula, prec = [], {}, {}, []
    for i, (route, con) in enumerate(cons.items()):
        ch, cnt = _common_checks(con, route, X, labels, n, float(params["delta"]), info_bits, info_formula,
                                 extra_counts)
        pre = PAPER_PREFIX if route == "paper" else ""
        checks += [_prefixed(c, pre) for c in ch]
        if i == 0:
            out, formula = cnt, dict(con.formula)
        else:
            out[f"route_{route}"] = {**cnt, "formula": con.formula}
        prec.append(f"route={route}: {PRECISION if route == 'exact' else PRECISION_PAPER}")
    return Result(cid, params, checks, counts=out, formula=formula, precision="; ".join(prec))


def _constructions(params: dict, mutate, builder) -> dict:
    return {r: mutated(builder({**params, "route": r}), mutate) for r in routes(params)}


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
    cons = _constructions(params, mutate, build)
    T = gen.ngram(rows, N, n=n, vocab=V, seed=int(rng.integers(2 ** 31)))
    adv, labels = ngram_adversarial(next(iter(cons.values())), V, n, N, rng)
    X, labels = _stack(T.tokens[:, :N], adv, labels)
    return _result("lemma-H.3", params, cons, X, labels, n, None,
                   "not derived here (H.3 is a lookup primitive)", {})


def build_d1(params: dict, code=None):
    return build({**params, "n": 1}, code)


def run_d1(params: dict, rng: np.random.Generator, mutate=None) -> Result:
    V, N, rows = int(params["V"]), int(params["N"]), int(params["rows"])
    cons = _constructions(params, mutate, build_d1)
    T = gen.induction(rows, N, vocab=V, seed=int(rng.integers(2 ** 31)))
    adv, labels = induction_adversarial(next(iter(cons.values())), V, N, rng)
    X, labels = _stack(T.tokens[:, :N], adv, labels)
    return _result("thm-D.1", params, cons, X, labels, 1, None, "not derived here", {})


def build_recall(params: dict, code=None):
    """The n = 1 lookup network over K + V_v token ids, length 2N + 1 (or ``N`` given: a file's length)."""
    K, Vv, P = int(params["n_keys"]), int(params["n_values"]), int(params["pairs"])
    N = int(params.get("N", 2 * P + 1))
    if params.get("route", "both") == "paper":
        return build_paper(K + Vv, 1, N, params["delta"], _eps(params), params["code_seed"], code=code)
    routes(params)
    return ln.build_lookup(K + Vv, 1, N, float(params["delta"]), int(params["code_seed"]), (), "exact", code=code)


def run_32(params: dict, rng: np.random.Generator, mutate=None) -> Result:
    K, Vv, P, rows = int(params["n_keys"]), int(params["n_values"]), int(params["pairs"]), int(params["rows"])
    if P > K:
        raise ValueError(f"pairs = {P} distinct keys need n_keys >= {P}")
    cons = _constructions(params, mutate, build_recall)
    T = gen.recall(rows, P, K, Vv, seed=int(rng.integers(2 ** 31)))
    adv, labels = recall_adversarial(next(iter(cons.values())), K, Vv, P, rng)
    X, labels = _stack(T.tokens[:, :2 * P + 1], adv, labels)
    info = P * math.log2((K + Vv) / 2)
    return _result("thm-3.2", params, cons, X, labels, 1, info, "N log2(|V|/2)", {"pairs": P})


# ---------------------------------------------------------------------------------------------- mutants
def is_paper(con) -> bool:
    return con.params.get("route") == "paper"


def _rebuild(p: dict, **kw):
    return ln.build_lookup(p["V"], p["n"], p["N"], p["delta"], p["code_seed"], tuple(p["cut"]), p["route"], **kw)


def _rebuild_paper(p: dict, code=None, **hooks):
    """The paper-route construction ``p`` (its own params) rebuilt with test hooks."""
    return build_paper(p["V"], p["n"], p["N"], p["delta"], p["eps"], p["seed"], code=code, **hooks)


def per_route(exact, paper):
    """A mutant that applies ``paper`` to a paper-route construction and ``exact`` to the others."""
    return lambda con: paper(con) if is_paper(con) else exact(con)


LAM_BROKEN = 0.5  # λ far below ln(2(N - 2)/ε)/(1 - δ_c): the non-matching keys' weights e^{-λ(n - s)} stay near 1


def lookup_mutants(params, short: int = 1) -> list:
    """A wrong delay, swapped decoding rows, a memory ``short`` needed blocks short (route=exact) or λ too small
    (route=paper), a code with a violated margin; each acts on the route(s) the run checks."""
    def pair(con):
        return tc.closest_pair(con.net, range(con.net.embedding.E.shape[1]))

    def paper_margin(con):  # the violated code, gates and λ still designed for the claimed margin δ
        E = tc.violated_code(con.net.embedding.E, *pair(con))
        p = con.params
        return dataclasses.replace(con, net=_rebuild_paper(p, code=E, assume_margin=p["delta"]).net)

    shift = tc.rebuilt_mutant(lambda p: _rebuild_paper(p, key_delay_shift=1))
    small_lam = tc.rebuilt_mutant(lambda p: _rebuild_paper(p, lam=LAM_BROKEN))
    return [
        (("every delay-1 channel of SSM layer 1 becomes delay 2 (exact); every key slot delayed by one more "
         "(paper, key_delay_shift = 1)"), "wrong delay", per_route(tc.wrong_delay_mutant(1), shift)),
        ("decoding rows of the last two tokens swapped", "swap decoding", tc.swap_decoding_rows_mutant(-1, -2)),
        (f"memory {short} block(s) short (N - 1 - {short} blocks; exact); λ = {LAM_BROKEN} (paper)", "undersized",
         per_route(tc.rebuilt_mutant(lambda p: _rebuild(p, n_blocks=p["N"] - 1 - short)), small_lam)),
        ("code with a violated margin on the closest pair (paper: the network still designed for δ)",
         "violated margin", per_route(tc.margin_mutant(lambda p, E: _rebuild(p, code=E), pair), paper_margin)),
    ]


COMMON_TYPES = {"delta": float, "code_seed": int, "rows": int, "route": ("both", *ROUTES), "eps": float}
GROWTH = ("paper: poly-log parameters; exact route: D = N(n+1)k + nk with k = O(log|V|), B = N + 1, bits O(log N); "
          "paper route: D = |V|^n (1 + k) + n|V| (independent of N, >= the exact kernel's rank ≈ |V|^n), B = 2N, "
          "4-5 bits with the k = 4^j code")

register(Claim(
    id="lemma-H.3",
    paper_ref="Lemma H.3 (Appendix H)",
    statement=("If the last n tokens of x_0..x_{N-1} occur earlier as a block ending at i <= N-2 and every earlier "
               "occurrence is followed by one token x_{i+1}, the emitted two-layer SSM network (H.1 embedding, "
               "FNN + SSM + FNN twice, ‖W_Dec‖∞ <= 1) outputs x_{i+1} at the last position, exactly, for every such "
               "input of length <= N; route=exact: the float64-exact position-indexed lookup; route=paper: the "
               "paper's Lemma 3.3 route (delay keys, exponentially weighted running sums and a ratio, ε = eps), "
               "its argmax certified by a sound 53-bit enclosure; both by default)."),
    params={"V": 16, "n": 2, "N": 32, "delta": 0.5, "code_seed": 0},
    switches={"rows": 24, "route": "both", "eps": 0.1},
    # route=paper at |V|^n = 4096 would carry |V|^n (1 + k) = 7e4 (V = 16, n = 3) and 2.7e5 (V = 64, n = 2) running
    # sums: minutes per row on 2 cores, so those two points run route=exact; the paper route's larger N is its own
    sweep=({"V": 16, "n": 3, "N": 64, "delta": 0.5, "code_seed": 0, "rows": 64, "route": "exact"},
           {"V": 64, "n": 2, "N": 64, "delta": 0.5, "code_seed": 0, "rows": 64, "route": "exact"},
           {"V": 16, "n": 2, "N": 256, "delta": 0.5, "code_seed": 0, "rows": 64, "route": "paper"}),
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
    switches={"rows": 24, "route": "both", "eps": 0.1},
    sweep=({"V": 64, "N": 128, "delta": 0.5, "code_seed": 0, "rows": 64},
           {"V": 16, "N": 1024, "delta": 0.5, "code_seed": 0, "rows": 32, "route": "paper"}),
    run=run_d1, build=build_d1, growth=GROWTH,
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
    switches={"rows": 48, "route": "both", "eps": 0.1},
    sweep=({"n_keys": 32, "n_values": 32, "pairs": 32, "delta": 0.5, "code_seed": 0, "rows": 128},
           {"n_keys": 64, "n_values": 64, "pairs": 64, "delta": 0.5, "code_seed": 0, "rows": 32, "route": "paper"}),
    run=run_32, build=build_recall, growth=GROWTH, doc="docs/tasks/constructions.md",
    param_types={"n_keys": int, "n_values": int, "pairs": int, **COMMON_TYPES},
    # the last block (written at q, key = v_N) is never read in recall: the undersized mutant drops two
    mutants=lambda p: lookup_mutants(p, short=2), cost=0.5,
))
