import json
from pathlib import Path

import numpy as np
import pytest

from verify.tasks import generate
from verify.tasks.cli import describe, load_task, main_tasks
from verify.tasks.formats import jelassi, load_meta, module, s4, safari, zoology

REPO = Path(__file__).resolve().parents[3]
EXTERNAL = REPO.parent / "shared" / "external-tasks"
PREFIX = {"jelassi_": "jelassi", "zoology_": "zoology", "safari_": "safari", "s4_": "s4", "mamba_": "s4"}


def generated_cases():
    return [(jelassi, jelassi.from_copying(generate.copying(30, 7, seed=0))),
            (zoology, zoology.from_recall(generate.recall(30, 4, n_keys=8, n_values=9, seed=0))),
            (safari, safari.from_generated(generate.induction(30, 12, vocab=14, seed=0))),
            (safari, safari.from_generated(generate.recall(30, 4, seed=0), "assoc_recall")),
            (s4, s4.from_selective_copying(generate.selective_copying(30, 12, 4, seed=0)))]


def same_task(a, b):
    return (np.array_equal(a.tokens, b.tokens) and np.array_equal(a.targets, b.targets)
            and np.array_equal(a.scored, b.scored) and a.metric == b.metric and a.vocab == b.vocab)


@pytest.mark.parametrize("i", range(5))
def test_generated_round_trip_and_native_scores(i):
    mod, t = generated_cases()[i]
    nat = mod.to_native(t)
    t2 = mod.from_native(nat, load_meta(nat))
    assert same_task(t, t2)
    nat2 = mod.to_native(t2)
    assert all(np.array_equal(nat[k], nat2[k]) for k in nat if k != "meta_json")
    rng = np.random.default_rng(i)
    for P in (t.oracle(), t.shifted_oracle(), np.where(rng.random(t.tokens.shape) < 0.2, 0, t.oracle())):
        assert mod.score_native(nat, load_meta(nat), mod.native_predictions(t, P)) == pytest.approx(t.score(P))
    assert t.score(t.oracle()) == 1.0 and t.score(t.shifted_oracle()) < 0.5


def test_s4_paper_form():
    t = s4.from_selective_copying(generate.selective_copying(10, 12, 4, seed=0))
    p = s4.to_paper_form(t)
    assert p.alignment == "next_token" and p.score(p.oracle()) == 1.0
    assert np.array_equal(p.tokens[:, -4:], t.targets[:, -4:])


def test_bad_inputs_are_rejected(tmp_path):
    t = jelassi.from_copying(generate.copying(5, 4))
    nat = jelassi.to_native(t)
    meta = load_meta(nat)
    with pytest.raises(ValueError, match="mismatched vocabulary"):
        jelassi.from_native(nat, dict(meta, bos_id=3))
    with pytest.raises(ValueError, match="missing"):
        zoology.from_native(nat, meta)
    sn = safari.to_native(safari.from_generated(generate.induction(5, 8, vocab=12)))
    sm = load_meta(sn)
    sm["vocab"]["id_to_token"] = [str(i) for i in range(12)] + [".", "=>"]  # numeric order: not Safari's
    with pytest.raises(ValueError, match="mismatched vocabulary"):
        safari.from_native(sn, sm)
    with pytest.raises(ValueError, match="unknown format"):
        module("hf")
    np.savez(tmp_path / "j.npz", **nat)
    assert main_tasks(["jelassi", str(tmp_path / "j.npz")]) == 0
    assert main_tasks(["jelassi", str(tmp_path / "j.npz"), "--vocab", "9"]) == 2
    assert main_tasks(["s4", str(tmp_path / "j.npz")]) == 2
    assert main_tasks(["nope", str(tmp_path / "j.npz")]) == 2
    (tmp_path / "bad.npz").write_text("not a zip")
    assert main_tasks(["zoology", str(tmp_path / "bad.npz")]) == 2
    assert main_tasks(["zoology", str(tmp_path / "missing.npz")]) == 2


def external_files():
    return sorted(EXTERNAL.glob("*.npz")) if EXTERNAL.is_dir() else []


def fmt_of(path):
    return next(v for k, v in PREFIX.items() if path.name.startswith(k))


def test_external_folder_present_or_skip():
    if not EXTERNAL.is_dir():
        pytest.skip(f"{EXTERNAL} absent (a user's checkout has no ../shared); generated data covers the formats")
    assert external_files()


@pytest.mark.parametrize("path", external_files(), ids=lambda p: p.name)
def test_external_file(path):
    fmt = fmt_of(path)
    mod = module(fmt)
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    meta = load_meta(arrays)
    task, _, _ = load_task(fmt, path)
    nat = mod.to_native(task)
    assert set(nat) == set(arrays)
    assert all(np.array_equal(nat[k], arrays[k]) for k in arrays if k != "meta_json")
    assert json.loads(nat["meta_json"]) == meta
    s = describe(fmt, path)
    assert s["oracle_native"] == 1.0 and s["oracle"] == 1.0
    assert s["shifted_oracle_native"] < 0.2
    assert s["shifted_oracle"] == pytest.approx(s["shifted_oracle_native"])
    if fmt == "safari":
        tr, _, _ = load_task(fmt, path, "train")
        assert tr.score(tr.oracle()) == 1.0
        assert safari.score_native(arrays, meta, safari.native_predictions(tr, tr.oracle()), split="train") == 1.0
