"""``python -m verify tasks run``: a claim's network on task files in the native formats of other projects.

Files generated here (every environment) and small slices of ../shared/external-tasks (skipped with a reason
where the folder is absent): 100% wherever the hypotheses hold; positions outside them counted, never dropped."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from verify.__main__ import main
from verify.taskrun import run_file
from verify.tasks import generate as gen
from verify.tasks.formats import jelassi, s4, safari, zoology

EXT = Path(__file__).resolve().parents[3].parent / "shared" / "external-tasks"
needs_ext = pytest.mark.skipif(not EXT.is_dir(), reason=f"external task files not present ({EXT})")


def _save(tmp_path, name, arrays) -> Path:
    p = tmp_path / f"{name}.npz"
    np.savez(p, **arrays)
    return p


@pytest.mark.parametrize("fmt,make", [
    ("zoology", lambda: zoology.to_native(zoology.from_recall(gen.recall(12, 5, 8, 8, seed=1)))),
    ("safari", lambda: safari.to_native(safari.from_generated(gen.induction(12, 16, vocab=8, seed=2)))),
    ("jelassi", lambda: jelassi.to_native(jelassi.from_copying(gen.copying(12, 9, 10, seed=3)))),
    ("s4", lambda: s4.to_native(s4.from_selective_copying(gen.selective_copying(12, 20, 6, alphabet=6, seed=4)))),
])
def test_generated_files_score_100_percent(tmp_path, fmt, make):
    out = run_file(fmt, _save(tmp_path, fmt, make()))
    assert out["inside_hypotheses"]["positions"] == out["scored_positions"] > 0
    assert out["inside_hypotheses"]["accuracy"] == 1.0 and out["accuracy_native"] == 1.0


def test_positions_outside_the_hypotheses_are_counted(tmp_path):
    """Induction rows whose last token never occurred before: counted as 'no_occurrence' and scored."""
    T = gen.induction(6, 12, vocab=8, seed=5)
    tok = T.tokens.copy()
    tok[0, :-2] = np.where(tok[0, :-2] == tok[0, -2], (tok[0, -2] + 1) % 8, tok[0, :-2])
    arrays = safari.to_native(safari.from_generated(type(T)(T.task, tok, np.where(T.scored, np.roll(tok, -1, 1), -1),
                                                            T.scored, T.vocab, T.metric, T.alignment)))
    out = run_file("safari", _save(tmp_path, "bad", arrays))
    assert out["outside_hypotheses"]["no_occurrence"]["positions"] == 1
    assert out["inside_hypotheses"]["positions"] == 5 and out["inside_hypotheses"]["accuracy"] == 1.0


def test_cli_errors_and_json(tmp_path, capsys):
    p = _save(tmp_path, "z", zoology.to_native(zoology.from_recall(gen.recall(4, 3, 4, 4, seed=1))))
    assert main(["tasks", "run", "zoology", str(p), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy_native"] == 1.0
    assert main(["tasks", "run", "nope", str(p)]) == 2
    assert main(["tasks", "run", "zoology", str(p), "--claim", "lemma-F.3-exp"]) == 2
    assert "verify: error:" in capsys.readouterr().err


@needs_ext
@pytest.mark.parametrize("fmt,name,claim", [
    ("zoology", "zoology_mqar_v64_L32_kv4", None), ("safari", "safari_induction_default", None),
    ("safari", "safari_induction_v20_L64_len2_trig3", None), ("safari", "safari_assoc_recall_vs10", None),
    ("jelassi", "jelassi_copy_eval_v16_ctx64", None), ("s4", "mamba_selective_copy_small_A16_M8_L48", None),
    ("s4", "s4_copying_default_classic", None),
])
def test_external_slices_score_100_percent_inside_the_hypotheses(fmt, name, claim):
    out = run_file(fmt, EXT / f"{name}.npz", claim, rows=12)
    assert out["inside_hypotheses"]["positions"] > 0
    assert out["inside_hypotheses"]["accuracy"] == 1.0
    assert out["inside_hypotheses"]["reference_agrees_with_labels"]
    total = out["inside_hypotheses"]["positions"] + sum(v["positions"] for v in out["outside_hypotheses"].values())
    assert total == out["scored_positions"]  # nothing dropped


@needs_ext
def test_zoology_fake_queries_are_counted():
    noisy = run_file("zoology", EXT / "zoology_mqar_v64_L32_kv4.npz", rows=20)
    clean = run_file("zoology", EXT / "zoology_mqar_v64_L32_kv4_clean.npz", rows=20)
    assert noisy["unscored_fake_queries"] > 0 and clean["unscored_fake_queries"] == 0
    assert noisy["accuracy_native"] == 1.0

