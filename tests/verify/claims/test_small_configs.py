"""Every claim end to end at a small configuration: the same checks as the default run (counts, sampled errors,
adversarial points, certificates, growth), seconds instead of minutes.  The default-parameter runs are the
``slow`` tests of each claim's test module (CI runs them, and ``python -m verify`` runs the defaults).

For each claim: the small run passes, its report describes the object ``inspect --export`` writes (same counts,
reloaded from the export), and a broken construction at the same configuration FAILs."""

from __future__ import annotations

import pytest

from constructions import export
from constructions.fnn import FNN
from verify.claims import attention as cl
from verify.mutants import weight_mutant
from verify.registry import accepts_mutate, load_all, run_claim

REG = load_all()
SMALL = {
    "lemma-F.3-mult": {"eps": 1e-2}, "lemma-F.3-prod": {"eps": 1e-2, "d": 3},
    "lemma-F.3-exp": {"eps": 1e-2, "samples": 2000}, "lemma-F.3-rec": {"eps": 0.1, "samples": 500},
    "lemma-F.3-cos": {"eps": 1e-2, "samples": 2000}, "lemma-F.4-quotient": {"eps": 1e-2, "samples": 1000},
    "lemma-F.4-ratio": {"eps": 1e-2, "samples": 1000, "range_growth": 0},
    "lemma-F.5-network": {"eps": 1e-2, "samples": 100, "item": 0, "growth_eps": 1e-2, "rounding": 1},
    "lemma-F.6-network": {"eps": 1e-1, "samples": 100, "item": 0, "growth_eps": 1e-1},
    "lemma-3.3": {"N": 64, "d_v": 1, "random": 1, "with_d2": 0, "cert_f1": 1, "route": "both"},
    "thm-I.2": {"eps": 0.2, "samples": 200, "growth_eps": (0.2, 0.1), "build_above": 0.1},
    "thm-4.5": {"N": 4, "eps": 0.2, "samples": 120, "growth_eps": (0.3, 0.2)},
    # both routes on the same inputs: the exact memory and the paper's route (lemmas/ngram_attention.py)
    "lemma-H.3": {"N": 16, "rows": 8, "route": "both"}, "thm-D.1": {"N": 24, "rows": 8, "route": "both"},
    "thm-3.2": {"pairs": 6, "rows": 16, "route": "both"},
}
# a mutant each small configuration must catch (a weight x(1 + rel) of one map; Lemma 3.3: its dominant term dropped)
MUTANT = {
    "lemma-F.3-mult": weight_mutant("middle", 1e-2), "lemma-F.3-prod": weight_mutant("middle", 1e-2),
    # exp: a 1 % change of the largest middle weight is certified harmless (within ε) since the float-robust clip
    # shifted the layers; the last map's is not
    "lemma-F.3-exp": weight_mutant("last", 1e-2), "lemma-F.3-rec": weight_mutant("first", 5e-2),
    "lemma-F.3-cos": weight_mutant("last", 1e-2), "lemma-F.4-quotient": weight_mutant("last", 1e-2),
    "lemma-F.4-ratio": weight_mutant("middle", 1e-2), "lemma-F.5-network": weight_mutant("last", 1e-2),  # middle: caught too, by
    # the certificate after ~20 s of branch-and-bound (the float-robust clip moved the layers); last: by sampling
    "lemma-F.6-network": weight_mutant("last", 1e-2), "lemma-3.3": cl.drop_term_mutant("dominant"),
}
PASSING = ("PASS", "CERTIFIED")
KEYS = ("M", "D", "U", "L", "W", "S", "B", "total_nonzeros", "channels")
_RUNS: dict = {}


def small_run(cid):
    if cid not in _RUNS:
        _RUNS[cid] = run_claim(REG[cid], SMALL.get(cid, {}), seed=0)
    return _RUNS[cid]


def exported_counts(obj, tmp_path) -> dict | None:
    net = obj.net if hasattr(obj, "net") and hasattr(obj, "formula") else obj
    try:
        npz, _ = export.save(net, tmp_path / "w")
    except TypeError:
        return None
    back = export.load(npz)
    c = back.counts()
    return c.as_dict() if isinstance(back, FNN) else c


@pytest.mark.parametrize("cid", sorted(REG))
def test_small_configuration_passes(cid):
    res = small_run(cid)
    assert res.error is None, res.error
    assert res.verdict in PASSING, [(c.name, c.status) for c in res.checks if c.status not in PASSING]
    assert res.checks


@pytest.mark.parametrize("cid", sorted(c.id for c in REG.values() if c.build is not None))
def test_report_counts_equal_the_exported_weights(cid, tmp_path):
    c = REG[cid]
    res = small_run(cid)
    exp = exported_counts(c.build(res.params), tmp_path)
    if exp is None:
        pytest.skip(f"{cid} emits no FNN, SSM layer or model (nothing to export)")
    if not res.counts:
        pytest.skip(f"{cid} reports no counts (its statement is about the combinators on random nets)")
    shared = [k for k in KEYS if k in res.counts and k in exp]
    assert shared, f"{cid}: the report has none of {KEYS}"
    assert {k: res.counts[k] for k in shared} == {k: exp[k] for k in shared}


@pytest.mark.parametrize("cid", ("lemma-H.3", "thm-D.1", "thm-3.2"))
def test_paper_route_counts_equal_the_exported_weights(cid, tmp_path):
    """route=both reports the paper route's counts under ``route_paper``: they describe what route=paper exports."""
    res = small_run(cid)
    exp = exported_counts(REG[cid].build({**res.params, "route": "paper"}), tmp_path)
    rp = res.counts["route_paper"]
    shared = [k for k in KEYS if k in rp and k in exp]
    assert len(shared) >= 6 and {k: rp[k] for k in shared} == {k: exp[k] for k in shared}


@pytest.mark.parametrize("cid", sorted(MUTANT))
def test_small_configuration_catches_a_broken_construction(cid):
    assert accepts_mutate(REG[cid])
    res = run_claim(REG[cid], SMALL[cid], seed=0, mutate=MUTANT[cid])
    assert res.verdict == "FAIL", [(c.name, c.status) for c in res.checks]


def test_the_comparison_sees_an_extra_layer(tmp_path):
    """The old Lemma 3.3 export (an identity SSM layer in front of f_1) would differ from its report."""
    from constructions.model import SSMModel
    from constructions.ssm import SSMLayer, delay
    from lemmas import attention as la

    b = la.build_attention(1, 1, 64, 0.5, 0.1, 1.0, "chebyshev").net
    old = SSMModel(None, [(SSMLayer(tuple(delay(0) for _ in range(b.f1.d_in)), U=b.g.U), b.f1), (b.g, b.f2)])
    new = exported_counts(b.as_model(), tmp_path)
    assert new["M"] == b.counts()["M"] and new["total_nonzeros"] == b.counts()["total_nonzeros"]
    assert exported_counts(old, tmp_path)["M"] != b.counts()["M"]


@pytest.mark.parametrize("cid", sorted(REG))
def test_the_report_says_which_arithmetic_a_certificate_covers(cid):
    res = small_run(cid)
    certified = any(c.certified and c.passed is True for c in res.checks)
    assert ("certificate" in res.precision) == certified
    if certified:  # which arithmetic: the float64 evaluation (certified bound + E_fl <= ε) or exact only
        f64 = [c for c in res.checks if "float64_covered" in c.detail]
        covered = bool(f64) and all(c.detail["float64_covered"] for c in f64)
        assert ("covers the float64 evaluation" in res.precision) == covered
        assert ("exact arithmetic on the stored weights only" in res.precision) == (not covered)


# lemma-3.3's third route (route=positive, verify/claims/attention_positive.py) at its own small configuration
POSITIVE = {"route": "positive", "N": 64, "d_v": 1, "random": 1}


def test_small_configuration_positive_route(tmp_path):
    """route=positive passes at N = 64 in float64, its report's counts are the exported weights', and a broken
    construction (quadrature node t = 0 dropped) FAILs."""
    from verify.claims import attention_positive as cp

    c = REG["lemma-3.3"]
    res = run_claim(c, POSITIVE, seed=0)
    assert res.error is None and res.verdict in PASSING, [(k.name, k.status) for k in res.checks]
    exp = exported_counts(c.build(res.params), tmp_path)
    shared = [k for k in KEYS if k in res.counts and k in exp]
    assert shared and {k: res.counts[k] for k in shared} == {k: exp[k] for k in shared}
    assert run_claim(c, POSITIVE, seed=0, mutate=cp.drop_node_mutant()).verdict == "FAIL"
