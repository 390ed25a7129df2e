"""Theorem 3.2's network on Zoology's |V| = 8192 reference-sweep files (H.1 code with k = 256): a slice of rows.
The whole files: ``benchmarks/bench_zoology_v8192.py`` (docs/tasks/external.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from verify.taskrun import run_file

EXT = Path(__file__).resolve().parents[3].parent / "shared" / "external-tasks"
FILES = sorted(EXT.glob("zoology_mqar_original_test_v8192_*.npz")) if EXT.is_dir() else []


@pytest.mark.slow
@pytest.mark.skipif(not FILES, reason=f"no zoology_mqar_original_test_v8192_* files under {EXT}")
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_v8192_slice_scores_100_percent_inside_the_hypotheses(path):
    out = run_file("zoology", path, rows=6)
    assert out["vocab"] == 8192 and out["k"] == 256
    assert out["inside_hypotheses"]["positions"] > 0 and out["inside_hypotheses"]["accuracy"] == 1.0
    assert out["inside_hypotheses"]["reference_agrees_with_labels"]
    total = out["inside_hypotheses"]["positions"] + sum(v["positions"] for v in out["outside_hypotheses"].values())
    assert total == out["scored_positions"]
