"""The command line end to end: table, JSON schema, exit codes (0 all pass, 1 a FAIL, 2 bad usage), saved
counterexamples and their replay, inspect and export, plots."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from verify import __main__ as cli
from verify import registry
from verify.result import Check, Result

CHECK_KEYS = {"name", "status", "passed", "measured", "bound", "detail", "counterexample", "violated", "certified"}
RESULT_KEYS = {"claim", "params", "verdict", "counts", "formula", "growth", "precision", "seconds", "error",
               "checks", "counterexample_file"}


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "verify", *args], capture_output=True, text=True, timeout=600,
                          cwd=cwd)


def test_list_and_selected_run(tmp_path):
    r = run("--list")
    assert r.returncode == 0 and "ssm-evaluation-paths" in r.stdout and "algebra-counts" in r.stdout
    out = tmp_path / "r.json"
    md = tmp_path / "r.md"
    r = run("--claim", "algebra-counts", "--claim", "ssm-evaluation-paths", "--claim", "lemma-F.2-clip",
            "--param", "N=64", "--param", "a=-2", "--seed", "3", "--json", str(out), "--markdown", str(md))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["claim", "parameters", "bound", "measured", "counts", "checks", "verdict"]
    rows = {ln.split()[0]: ln for ln in lines[2:5]}
    assert set(rows) == {"algebra-counts", "ssm-evaluation-paths", "lemma-F.2-clip"}
    # clip is certified exactly (verify/certify/, certify_pl_exact): CERTIFIED, a pass
    want = {"algebra-counts": "PASS", "ssm-evaluation-paths": "PASS", "lemma-F.2-clip": "CERTIFIED"}
    assert all(ln.rstrip().endswith(want[k]) for k, ln in rows.items())
    assert "a=-2" in rows["lemma-F.2-clip"] and "L=3 W=3 S=18" in rows["lemma-F.2-clip"]
    assert "wall time" in r.stdout and "3 runs: 2 PASS, 1 CERTIFIED" in r.stdout
    assert re.search(r"^\[[123]/3\] algebra-counts \.\.\. PASS", r.stderr, re.M)  # progress on stderr
    rep = json.loads(out.read_text())
    assert rep["schema"] == "verify-report/1"
    assert {"seed", "full", "wall_seconds", "python", "numpy", "library", "argv", "verdicts"} <= set(rep["meta"])
    assert rep["meta"]["seed"] == 3 and rep["meta"]["verdicts"] == {"PASS": 2, "CERTIFIED": 1}
    for x in rep["results"]:
        assert set(x) == RESULT_KEYS
        assert x["verdict"] == want[x["claim"]] and x["counterexample_file"] is None and x["checks"]
        assert all(set(c) == CHECK_KEYS for c in x["checks"])
    res = {x["claim"]: x for x in rep["results"]}
    assert res["ssm-evaluation-paths"]["params"]["N"] == 64 and res["lemma-F.2-clip"]["params"]["a"] == -2.0
    assert res["lemma-F.2-clip"]["counts"] == {"L": 3, "W": 3, "S": 18, "B": 3.25}
    assert md.read_text().startswith("| claim |")
    r = run("--claim", "algebra-counts", "--quiet")
    assert r.returncode == 0 and r.stderr == ""


@pytest.mark.parametrize("args", [
    ["--claim", "no-such-claim"],
    ["--param", "N=-1", "--claim", "ssm-evaluation-paths"],
    ["--param", "N=0", "--claim", "ssm-evaluation-paths"],
    ["--param", "eps=0", "--claim", "lemma-F.3-exp"],
    ["--param", "eps=nan", "--claim", "lemma-F.3-exp"],
    ["--param", "eps=2", "--claim", "lemma-F.3-exp"],  # builder's hypothesis 0 < ε < 1
    ["--param", "d=2.5", "--claim", "lemma-F.3-prod"],
    ["--param", "a=3", "--claim", "lemma-F.2-clip"],  # a < b violated, the builder says so
    ["--param", "N=abc"], ["--param", "nonsense"], ["--bogus-flag"],
    ["--claim", "algebra-counts", "--json", "/nonexistent-dir/x.json"],
    ["replay", "/nonexistent/file.json"],
    ["inspect", "no-such-claim"],
    ["inspect", "lemma-F.1-swish"],  # a statement about functions: no weights
    ["inspect", "lemma-F.3-square", "--param", "m=0"],
    ["inspect", "lemma-F.6-expansion", "--export", "/tmp/x"],  # not a network: cannot export
    ["inspect", "lemma-F.3-square", "--export", "/proc/no/such/dir/w"],
])
def test_bad_usage_exits_2(args, capsys):
    """In-process (``verify.__main__.main``: the same code path as the command, without a new interpreter per
    case); an exception other than the usage error would propagate and fail the test."""
    from verify.__main__ import main

    try:
        rc = main(list(args))
    except SystemExit as e:  # argparse's own usage errors
        rc = e.code
    err = capsys.readouterr().err
    assert rc == 2, (args, err)
    assert "Traceback" not in err and "error" in err
    assert len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("args", [["--claim", "no-such-claim"], ["--bogus-flag"]])
def test_bad_usage_exits_2_as_a_command(args):
    r = run(*args)
    assert r.returncode == 2, (args, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and "error" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


# ----------------------------------------------------------------------------- a test-only failing claim
STATE = {"broken": True}


def _run_test_claim(p, rng):
    x = rng.uniform(-1, 1, (100, 2))
    err = np.abs(x[:, 0] * x[:, 1] - (x[:, 0] * x[:, 1] + (p["shift"] if STATE["broken"] else 0.0)))
    i = int(np.argmax(err))
    ok = bool(err[i] <= p["eps"])
    return Result("test-claim", p, [Check("max error <= eps", ok, float(err[i]), p["eps"], {"n": 100},
                                          None if ok else {"x": x[i].tolist(), "error": float(err[i])}),
                                    Check("always fine", True, 0.0, 1.0)], counts={"L": 1})


@pytest.fixture
def test_claim(monkeypatch):
    registry.load_all()
    c = registry.Claim("test-claim", "test only", "xy within eps", {"eps": 0.01, "shift": 0.5}, _run_test_claim,
                       param_types={"eps": float, "shift": float})
    monkeypatch.setitem(registry.REGISTRY, c.id, c)
    STATE["broken"] = True
    yield c
    STATE["broken"] = True


def test_fail_saves_counterexample_and_replays(test_claim, tmp_path, capsys):
    js = tmp_path / "r.json"
    ce = tmp_path / "ce"
    assert cli.main(["--claim", "test-claim", "--claim", "algebra-counts", "--seed", "5", "--param", "shift=0.25",
                     "--quiet", "--counterexamples", str(ce), "--json", str(js)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "replay" in out
    files = sorted(ce.iterdir())
    assert len(files) == 1  # only the failing run
    rec = json.loads(files[0].read_text())
    assert rec["format"] == "ssm-verifier-counterexample" and rec["claim"] == "test-claim"
    assert rec["params"] == {"eps": 0.01, "shift": 0.25} and rec["seed"] == 5 and rec["verdict"] == "FAIL"
    (fc,) = rec["failing_checks"]
    assert fc["name"] == "max error <= eps" and fc["measured"] == pytest.approx(0.25) and len(fc["counterexample"]["x"]) == 2
    assert {"name", "version", "python", "numpy"} <= set(rec["library"])
    assert "--seed 5" in rec["command"] and "--param shift=0.25" in rec["command"]
    rep = json.loads(js.read_text())
    byid = {x["claim"]: x for x in rep["results"]}
    assert byid["test-claim"]["counterexample_file"] == str(files[0])
    assert byid["algebra-counts"]["counterexample_file"] is None
    assert rep["meta"]["verdicts"] == {"FAIL": 1, "PASS": 1}
    # replay: still failing -> 1, with the same counterexample (same seed, same params)
    assert cli.main(["replay", str(files[0])]) == 1
    out = capsys.readouterr().out
    assert "still fails" in out and "measured 0.25" in out
    # fixed -> 0
    STATE["broken"] = False
    assert cli.main(["replay", str(files[0])]) == 0
    assert "no longer fails (verdict PASS)" in capsys.readouterr().out


def test_replay_bad_files(test_claim, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    for text in ("not json {", json.dumps({"format": "other"}), json.dumps([1, 2]),
                 json.dumps({"format": "ssm-verifier-counterexample", "version": 1, "claim": "test-claim",
                             "params": {}, "seed": "x"}),
                 json.dumps({"format": "ssm-verifier-counterexample", "version": 1, "claim": "gone",
                             "params": {}, "seed": 0}),
                 json.dumps({"format": "ssm-verifier-counterexample", "version": 1, "claim": "test-claim",
                             "params": {"zzz": 1}, "seed": 0})):
        bad.write_text(text)
        assert cli.main(["replay", str(bad)]) == 2, text
        err = capsys.readouterr().err
        assert err.startswith("verify: error:") and len(err.strip().splitlines()) == 1
    assert cli.main(["replay", str(tmp_path)]) == 2  # a directory


def test_unknown_verdicts_do_not_fail(monkeypatch, capsys):
    class Certified(Result):
        @property
        def verdict(self):
            return "CERTIFIED"

    registry.load_all()
    for cid, res in (("certified-test", Certified("certified-test", {}, [Check("sup bound", True, 0.1, 1.0)])),
                     ("violated-test", Result("violated-test", {}, [Check("h", None, violated=True)])),
                     ("inconclusive-test", Result("inconclusive-test", {}, [Check("h", None)]))):
        monkeypatch.setitem(registry.REGISTRY, cid, registry.Claim(cid, "-", "-", {}, lambda p, rng, r=res: r))
    assert cli.main(["--claim", "certified-test", "--claim", "violated-test", "--claim", "inconclusive-test",
                     "--quiet", "--counterexamples", "/nonexistent/never-written"]) == 0
    out = capsys.readouterr().out
    assert "CERTIFIED" in out and "HYPOTHESIS VIOLATED" in out and "INCONCLUSIVE" in out


def test_crashing_claim_is_a_fail(monkeypatch, tmp_path, capsys):
    registry.load_all()

    def boom(p, rng):
        raise RuntimeError("builder exploded")

    monkeypatch.setitem(registry.REGISTRY, "crash-test", registry.Claim("crash-test", "-", "-", {}, boom))
    assert cli.main(["--claim", "crash-test", "--quiet", "--counterexamples", str(tmp_path)]) == 1
    (f,) = tmp_path.iterdir()
    assert json.loads(f.read_text())["error"] == "RuntimeError: builder exploded"


# ----------------------------------------------------------------------------------------------- inspect
def test_inspect_and_export(tmp_path):
    r = run("inspect", "lemma-F.3-square", "--param", "m=3", "--export", str(tmp_path / "sq"))
    assert r.returncode == 0, r.stderr
    assert "L=5  W=3  S=24  B=4" in r.stdout  # L = m + 2, S = 8m (the float-robust clip)
    assert "A_1" in r.stdout and "affine+ReLU" in r.stdout and "bit-identical on random inputs: True" in r.stdout
    from constructions import export
    from lemmas import square
    net = export.load(tmp_path / "sq")
    x = np.linspace(-1, 2, 101)[:, None]
    assert np.array_equal(net(x), square.build_square(m=3).net(x))
    r = run("inspect", "ssm-evaluation-paths", "--param", "N=32", "--export", str(tmp_path / "g"))
    assert r.returncode == 0, r.stderr
    assert "filter families" in r.stdout and "state sizes" in r.stdout and "U=32" in r.stdout
    assert (tmp_path / "g.npz").exists() and json.loads((tmp_path / "g.json").read_text())["architecture"]["kind"] == "ssm"


def test_inspect_heatmap_and_plots(tmp_path):
    pytest.importorskip("matplotlib")
    r = run("inspect", "lemma-F.3-mult", "--heatmap", str(tmp_path / "w.png"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "w.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = run("--claim", "lemma-F.3-square", "--quiet", "--plots", str(tmp_path / "p"))
    assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in (tmp_path / "p").iterdir())
    assert names == ["lemma-F.3-square-m8-error.png", "lemma-F.3-square-m8-growth.png"]


def test_docs_index_lists_every_claim():
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "index.md").read_text()
    missing = [cid for cid in registry.load_all() if f"`{cid}`" not in text]
    assert not missing, f"docs/index.md does not list {missing}"


def test_inspect_a_model_claim(monkeypatch, tmp_path, capsys):
    """A claim whose builder emits a whole SSM model (embedding, blocks, decoding): printout and export."""
    from constructions import algebra, ssm
    from constructions.model import Decoding, Embedding, SSMModel

    def build(p):
        g = ssm.SSMLayer((ssm.running_sum(), ssm.delay(0), ssm.delay(2)), U=int(p["N"]))
        f = algebra.parallel(algebra.identity(3, 2), algebra.affine(np.ones((1, 3))))
        return SSMModel(Embedding(np.eye(3)), [(g, f)], Decoding(np.ones((2, 4))))

    registry.load_all()
    c = registry.Claim("model-test", "-", "-", {"N": 8}, lambda p, rng: Result("model-test", p, []), build=build)
    monkeypatch.setitem(registry.REGISTRY, c.id, c)
    assert cli.main(["inspect", "model-test", "--param", "N=16", "--export", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out
    assert "SSM model  M=1  U=16  D=3" in out and "block 1:" in out and "delays ℓ: [0, 2]" in out
    assert "decoding: 2x4" in out and "bit-identical on random inputs: True" in out
    assert cli.main(["inspect", "model-test", "--export", str(tmp_path / "m.v2")]) == 0  # dotted names keep every part
    assert (tmp_path / "m.v2.npz").exists() and (tmp_path / "m.v2.json").exists()


def test_mutants_flag_reports_catch_rate_in_table_and_json(tmp_path, capsys):
    out = tmp_path / "m.json"
    assert cli.main(["--claim", "lemma-F.2-clip", "--mutants", "--quiet", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "mutation self-test" in text and "lemma-F.2-clip" in text and "mutants caught" in text
    rep = json.loads(out.read_text())["mutants"]
    entry = rep["claims"]["lemma-F.2-clip"]
    assert entry["supported"] and entry["total"] >= 3 and entry["caught"] == entry["total"]
    assert rep["rate"] == 1.0 and rep["uncaught"] == []


def test_inspect_exports_a_block_object_as_its_model(tmp_path, capsys):
    """thm-4.5 emits a selection-model object; inspect exports its SSMModel (as_model) and the reload agrees."""
    assert cli.main(["inspect", "thm-4.5", "--export", str(tmp_path / "t45")]) == 0
    assert "bit-identical on random inputs: True" in capsys.readouterr().out
