"""A report and an export of the same claim describe the same object: the counts in the claim's Result equal the
counts of the weights that ``python -m verify inspect ID --export`` writes and reloads (every claim with weights)."""

from __future__ import annotations

import pytest

from constructions import export
from constructions.fnn import FNN
from verify.registry import load_all, run_claim

REG = load_all()
# small configurations of each claim (same code paths, seconds instead of minutes)
SMALL = {
    "lemma-F.3-mult": {"eps": 1e-2}, "lemma-F.3-prod": {"eps": 1e-2, "d": 3},
    "lemma-F.3-exp": {"eps": 1e-2, "samples": 2000}, "lemma-F.3-rec": {"eps": 0.1, "samples": 500},
    "lemma-F.3-cos": {"eps": 1e-2, "samples": 2000}, "lemma-F.4-quotient": {"eps": 1e-2, "samples": 1000},
    "lemma-F.4-ratio": {"eps": 1e-2, "samples": 1000, "range_growth": 0},
    "lemma-F.5-network": {"eps": 1e-2, "samples": 100, "item": 1, "growth_eps": 1e-2, "rounding": 0},
    "lemma-F.6-network": {"eps": 1e-1, "samples": 100, "item": 1, "growth_eps": 1e-1},
    "lemma-3.3": {"N": 64, "random": 1, "with_d2": 0, "cert_f1": 0, "route": "chebyshev"},
}
KEYS = ("M", "D", "U", "L", "W", "S", "B", "total_nonzeros", "channels")


def exported_counts(obj, tmp_path) -> dict | None:
    net = obj.net if hasattr(obj, "net") and hasattr(obj, "formula") else obj
    try:
        npz, _ = export.save(net, tmp_path / "w")
    except TypeError:
        return None
    back = export.load(npz)
    c = back.counts()
    return c.as_dict() if isinstance(back, FNN) else c


@pytest.mark.parametrize("cid", sorted(c.id for c in REG.values() if c.build is not None))
def test_report_counts_equal_the_exported_weights(cid, tmp_path):
    c = REG[cid]
    res = run_claim(c, SMALL.get(cid, {}), seed=0)
    assert res.error is None, res.error
    exp = exported_counts(c.build(res.params), tmp_path)
    if exp is None:
        pytest.skip(f"{cid} emits no FNN, SSM layer or model (nothing to export)")
    if not res.counts:
        pytest.skip(f"{cid} reports no counts (its statement is about the combinators on random nets)")
    shared = [k for k in KEYS if k in res.counts and k in exp]
    assert shared, f"{cid}: the report has none of {KEYS}"
    assert {k: res.counts[k] for k in shared} == {k: exp[k] for k in shared}


def test_the_comparison_sees_an_extra_layer(tmp_path):
    """The old Lemma 3.3 export (an identity SSM layer in front of f_1) would differ from its report."""
    from constructions.model import SSMModel
    from constructions.ssm import SSMLayer, delay
    from lemmas import attention as la

    c = la.build_attention(1, 1, 64, 0.5, 0.1, 1.0, "chebyshev")
    b = c.net
    old = SSMModel(None, [(SSMLayer(tuple(delay(0) for _ in range(b.f1.d_in)), U=b.g.U), b.f1), (b.g, b.f2)])
    new = exported_counts(b.as_model(), tmp_path)
    assert new["M"] == b.counts()["M"] and new["total_nonzeros"] == b.counts()["total_nonzeros"]
    assert exported_counts(old, tmp_path)["M"] != b.counts()["M"]
