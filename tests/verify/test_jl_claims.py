import dataclasses

import numpy as np

from lemmas import jl
from verify.claims import jl as cj
from verify.registry import load_all, run_claim


def test_claims_pass_at_defaults_and_report_numbers():
    reg = load_all()
    r1 = run_claim(reg["lemma-H.1"])
    assert r1.verdict == "PASS", [(c.name, c.status) for c in r1.checks]
    c = r1.counts
    assert c["k"] <= c["k_hoeffding_union"] < c["k_achlioptas_beta0"]
    assert r1.precision.startswith("exact")
    r2 = run_claim(reg["prop-H.2"])
    assert r2.verdict == "PASS"
    for v in r2.counts["clopper_pearson"].values():
        assert v["upper"] < r2.counts["rate_n^-beta"]
    assert r2.to_json()["counts"]["k"] == jl.k_achlioptas(32, 0.5, 1.0)


def test_lemma_h1_fails_on_violated_margin():
    code = jl.vocab_code(100, 0.5, seed=0)
    S = code.signs.copy()
    S[:, 3] = S[:, 4]
    bad = dataclasses.replace(code, signs=S, E=S / np.sqrt(code.k))
    checks = cj.check_vocab_code(bad)
    failed = [ch for ch in checks if ch.status == "FAIL"]
    assert any("for all v ≠ w" in ch.name for ch in failed)
    assert {failed[0].counterexample["v"], failed[0].counterexample["w"]} == {3, 4} or len(failed) > 1
    S2 = code.signs.copy()
    S2[0, 0] = 0  # not a sign matrix, column norm wrong
    checks = cj.check_vocab_code(dataclasses.replace(code, signs=S2, E=S2 / np.sqrt(code.k)))
    assert sum(ch.status == "FAIL" for ch in checks) >= 2


def test_prop_h2_fails_for_a_broken_sampler():
    rng = np.random.default_rng(0)
    X = rng.integers(-8, 9, size=(16, 8))

    def constant_rows(seed, draw, shape, dist):  # every row the same: rank one, distances collapse
        s = jl.draw_signs(seed, draw, (1, shape[1]), dist)
        return np.repeat(s, shape[0], axis=0)

    checks = cj.h2_checks(X, 0.5, 1.0, 50, 0, sampler=constant_rows)
    assert all(c.status == "FAIL" for c in checks)
    assert all(c.detail["lower"] > c.bound for c in checks)


def test_prop_h2_small_k_is_not_a_pass():
    rng = np.random.default_rng(1)
    X = rng.integers(-8, 9, size=(16, 8))
    checks = cj.h2_checks(X, 0.5, 1.0, 60, 0, k=4)
    assert all(c.status != "PASS" for c in checks)
