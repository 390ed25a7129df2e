"""The command line end to end on the foundation claims: table, JSON, exit codes."""

import json
import subprocess
import sys


def run(*args):
    return subprocess.run([sys.executable, "-m", "verify", *args], capture_output=True, text=True, timeout=600)


def test_list_and_selected_run(tmp_path):
    r = run("--list")
    assert r.returncode == 0 and "ssm-evaluation-paths" in r.stdout and "algebra-counts" in r.stdout
    out = tmp_path / "r.json"
    md = tmp_path / "r.md"
    r = run("--claim", "algebra-counts", "--claim", "ssm-evaluation-paths", "--param", "N=64", "--seed", "3",
            "--json", str(out), "--markdown", str(md))
    assert r.returncode == 0, r.stderr
    assert "PASS" in r.stdout and "wall time" in r.stdout
    rep = json.loads(out.read_text())
    assert rep["meta"]["seed"] == 3
    assert {x["claim"] for x in rep["results"]} == {"algebra-counts", "ssm-evaluation-paths"}
    for x in rep["results"]:
        assert x["verdict"] == "PASS" and x["checks"] and all("status" in c for c in x["checks"])
    assert next(x for x in rep["results"] if x["claim"] == "ssm-evaluation-paths")["params"]["N"] == 64
    assert md.read_text().startswith("| claim |")


def test_bad_usage_exits_2():
    for args in (["--claim", "no-such-claim"], ["--param", "N=-1", "--claim", "ssm-evaluation-paths"],
                 ["--param", "N=abc"], ["--param", "nonsense"], ["--bogus-flag"],
                 ["--claim", "algebra-counts", "--json", "/nonexistent-dir/x.json"]):
        r = run(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr and "error" in r.stderr


def test_failing_claim_exits_1(monkeypatch, capsys):
    from verify import __main__ as cli
    from verify import registry
    from verify.result import Check, Result

    registry.load_all()
    c = registry.Claim("broken-for-test", "-", "-", {}, lambda p, rng: Result("broken-for-test", p,
                                                                               [Check("x", False, 1.0, 0.0)]))
    monkeypatch.setitem(registry.REGISTRY, c.id, c)
    assert cli.main(["--claim", c.id, "--quiet"]) == 1
    assert "FAIL" in capsys.readouterr().out
