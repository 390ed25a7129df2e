"""``python -m verify tasks run jelassi`` on packed train rows (several ``$ x | x .`` per row): the packed-row
network (a reset at ``$``, the EOS predicted) scores 100% with every scored position inside its hypotheses, on
rows from our generator and on a slice of Jelassi's train file (skipped where ../shared/external-tasks is absent);
the verb's Lmax counts the row's data tokens."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from verify.taskrun import run_file
from verify.tasks.formats import jelassi

EXT = Path(__file__).resolve().parents[3].parent / "shared" / "external-tasks"
TRAIN = EXT / "jelassi_copy_train_default.npz"


def _check_all_inside(out):
    assert out["network"]["reset"] == [out["vocab"] - 4] and out["network"]["eos"] == out["vocab"] - 2
    assert out["inside_hypotheses"]["positions"] == out["scored_positions"] > 0  # the EOS targets too
    assert out["outside_hypotheses"] == {}
    assert out["inside_hypotheses"]["accuracy"] == 1.0 and out["accuracy_native"] == 1.0
    assert out["inside_hypotheses"]["reference_agrees_with_labels"]


def test_generated_packed_rows_score_100_percent(tmp_path):
    p = tmp_path / "packed.npz"
    np.savez(p, **jelassi.packed_train_rows(8, 48, alphabet=6, min_len=1, max_len=5, seed=3))
    out = run_file("jelassi", p)
    _check_all_inside(out)
    assert out["metric"] == "micro_accuracy"
    X = np.load(p)["input_ids"]
    assert out["network"]["Lmax"] == max(int(np.sum(r[:np.flatnonzero(r == 7)[-1]] < 6)) for r in X)


@pytest.mark.skipif(not TRAIN.is_file(), reason=f"external task file not present ({TRAIN})")
def test_slice_of_jelassi_train_file_scores_100_percent(tmp_path):
    """The first 3 rows, cut at 80 tokens (the mask cut with them): several packed examples per row."""
    d = np.load(TRAIN)
    p = tmp_path / "slice.npz"
    np.savez(p, input_ids=d["input_ids"][:3, :80], mask=d["mask"][:3, :80], meta_json=str(d["meta_json"]))
    assert json.loads(str(d["meta_json"]))["format"] == "jelassi_train_packed"
    out = run_file("jelassi", p)
    _check_all_inside(out)
    assert np.sum(d["input_ids"][:3, :80] == 26) >= 9  # several examples per row


@pytest.mark.skipif(not TRAIN.is_file(), reason=f"external task file not present ({TRAIN})")
def test_reset_disabled_mutant_drops_below_100_percent_on_the_train_slice(tmp_path):
    """The same network without the reset at ``$`` (eos kept), scored against the packed hypotheses."""
    from lemmas.copying import build_rank_memory
    from verify.taskrun import classify, network_params
    from verify.tasks.cli import load_task
    from verify.tasks.scoring import teacher_forced_predictions

    d = np.load(TRAIN)
    path = tmp_path / "slice.npz"
    np.savez(path, input_ids=d["input_ids"][:3, :80], mask=d["mask"][:3, :80], meta_json=str(d["meta_json"]))
    task, _, _ = load_task("jelassi", path, None)
    p, h = network_params("thm-3.1", "jelassi", task)
    masks, ref = classify(task, h)
    inside = masks["ok"]
    mutant = build_rank_memory(p["V"], p["Lmax"], p["N"], p["copy"], p["ignore"], eos=p["eos"])  # no reset
    P = teacher_forced_predictions(mutant.net, task.tokens, method="exact")
    assert inside.sum() > 50 and np.mean(P[inside] == ref[inside]) < 0.9
