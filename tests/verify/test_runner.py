"""Parallel and distributed runs (verify/runner.py, docs/parallel.md): ``--jobs N`` and ``--scheduler ADDRESS``
give the same verdicts and the same report as a serial run (timings aside); results come back in job order;
a crashing claim is a FAIL with its error wherever it runs; bad usage exits 2 with one line."""

import concurrent.futures as cf
import contextlib
import io
import json
import re
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from verify import __main__ as cli
from verify import registry, runner
from verify.result import PASS, Check, Result

# cheap claims whose --full sweeps are short (15 jobs: 3 + 2 + 10, a few seconds serially)
CLAIMS = ["ssm-evaluation-paths", "algebra-counts", "lemma-F.2-clip"]
ARGS = [a for c in CLAIMS for a in ("--claim", c)] + ["--full", "--seed", "2"]
TIMING_META = ("wall_seconds", "argv", "jobs", "scheduler")


def _strip_seconds(o):
    if isinstance(o, dict):
        return {k: _strip_seconds(v) for k, v in o.items() if k != "seconds"}
    if isinstance(o, list):
        return [_strip_seconds(x) for x in o]
    return o


def _comparable(path) -> dict:
    """The JSON report without what may differ between equal runs: timings, argv and the executor."""
    doc = json.loads(path.read_text())
    for k in TIMING_META:
        doc["meta"].pop(k)
    return _strip_seconds(doc)


def _table(stdout: str) -> list[str]:
    """The printed table and summary, without the wall time."""
    return [re.sub(r"wall time [0-9.]+ s", "wall time", ln) for ln in stdout.splitlines()]


def _run_cli(capsys, path, *extra):
    rc = cli.main([*ARGS, "--json", str(path), "--counterexamples", str(path.parent / "ce"), *extra])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    path = tmp_path_factory.mktemp("serial") / "r.json"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = cli.main([*ARGS, "--json", str(path), "--quiet", "--counterexamples", str(path.parent / "ce"),
                       "--jobs", "1"])
    doc = json.loads(path.read_text())
    assert doc["meta"]["jobs"] == 1 and doc["meta"]["scheduler"] is None
    return rc, path, out.getvalue()


def _assert_same_as_serial(serial, rc, path, out, err):
    rc0, path0, out0 = serial
    assert rc == rc0
    assert _table(out) == _table(out0)  # the printed table: same rows in the same order
    got, want = _comparable(path), _comparable(path0)
    assert len(want["results"]) == 15
    assert [r["verdict"] for r in got["results"]] == [r["verdict"] for r in want["results"]]
    assert got == want
    # one progress line per job, as each finishes: "[i/n] claim ... VERDICT (x s)"
    lines = [ln for ln in err.splitlines() if ln.startswith("[")]
    assert len(lines) == 15
    pat = re.compile(r"\[(\d+)/15\] (\S+) \.\.\. (.+) \([0-9.]+ s\)$")
    parsed = [pat.match(ln) for ln in lines]
    assert all(parsed), lines
    assert [int(m[1]) for m in parsed] == list(range(1, 16))
    assert sorted((m[2], m[3]) for m in parsed) == sorted((r["claim"], r["verdict"]) for r in want["results"])


def test_jobs_2_same_report_as_serial(serial, tmp_path, capsys):
    path = tmp_path / "r.json"
    rc, out, err = _run_cli(capsys, path, "--jobs", "2")
    meta = json.loads(path.read_text())["meta"]
    assert meta["jobs"] == 2 and meta["scheduler"] is None
    _assert_same_as_serial(serial, rc, path, out, err)


@pytest.mark.slow  # the same report as serial: test_jobs_2_same_report_as_serial in the default run
def test_default_runs_on_every_core_with_the_serial_report(serial, tmp_path, capsys, monkeypatch):
    """No --jobs: one worker per core (here 2, pinned for the test), long jobs submitted first, same report."""
    monkeypatch.setattr(cli.os, "cpu_count", lambda: 2)
    path = tmp_path / "r.json"
    rc, out, err = _run_cli(capsys, path)
    assert json.loads(path.read_text())["meta"]["jobs"] == 2
    _assert_same_as_serial(serial, rc, path, out, err)


def test_order_must_be_a_permutation():
    with pytest.raises(ValueError):
        runner.run_jobs([("algebra-counts", {})], 0, executor=cf.ThreadPoolExecutor(1), order=[0, 0])


@pytest.mark.slow  # a dask LocalCluster takes ~6 s to start; the executor interface is covered by the jobs tests
def test_dask_local_cluster_same_report_as_serial(serial, tmp_path, capsys):
    distributed = pytest.importorskip("distributed", reason="dask's distributed is not installed (.[dask] extra)")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cl:
        # the workers run this checkout's package, with one BLAS thread each (set by Dask's nanny)
        with distributed.Client(cl.scheduler_address) as client:
            info = client.run(runner.worker_info)
        assert len(info) == 2
        assert all(i["verify"] == runner.worker_info()["verify"] for i in info.values())
        assert all(set(i["env"].values()) == {"1"} for i in info.values()), info
        path = tmp_path / "r.json"
        rc, out, err = _run_cli(capsys, path, "--scheduler", cl.scheduler_address)
    meta = json.loads(path.read_text())["meta"]
    assert meta["scheduler"] == cl.scheduler_address and meta["jobs"] == 1
    _assert_same_as_serial(serial, rc, path, out, err)


# ------------------------------------------------------------------------------------------- bad usage
@pytest.mark.parametrize("n", ["0", "-3", "two"])
def test_bad_jobs_exit_2(n, tmp_path, capsys):
    rc = cli.main(["--claim", "algebra-counts", "--jobs", n, "--json", str(tmp_path / "r.json"),
                   "--plots", str(tmp_path / "plots")])
    cap = capsys.readouterr()
    assert rc == 2 and cap.out == ""
    assert len(cap.err.strip().splitlines()) == 1 and cap.err.startswith("verify: error: ") and "--jobs" in cap.err
    assert not (tmp_path / "r.json").exists() and not (tmp_path / "plots").exists()  # rejected before any effect


def test_scheduler_without_distributed_exit_2(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` raises ImportError
    rc = cli.main(["--claim", "algebra-counts", "--scheduler", "tcp://127.0.0.1:8786"])
    cap = capsys.readouterr()
    assert rc == 2 and cap.out == ""
    assert len(cap.err.strip().splitlines()) == 1 and cap.err.startswith("verify: error: ")
    assert "pip install -e '.[dask]'" in cap.err


def test_scheduler_and_jobs_exclude_each_other(capsys):
    rc = cli.main(["--claim", "algebra-counts", "--jobs", "2", "--scheduler", "tcp://127.0.0.1:8786"])
    cap = capsys.readouterr()
    assert rc == 2 and cap.out == "" and len(cap.err.strip().splitlines()) == 1
    assert "--scheduler" in cap.err and "--jobs" in cap.err


def test_unreachable_scheduler_exit_2(capsys):
    pytest.importorskip("distributed", reason="dask's distributed is not installed (.[dask] extra)")
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        rc = cli.main(["--claim", "algebra-counts", "--scheduler", "tcp://127.0.0.1:1"])  # nothing listens there
    cap = capsys.readouterr()
    assert rc == 2 and cap.out == "" and len(cap.err.strip().splitlines()) == 1
    assert cap.err.startswith("verify: error: cannot connect to the Dask scheduler at tcp://127.0.0.1:1")


def test_run_jobs_unknown_claim():
    with pytest.raises(ValueError, match="no-such-claim"):
        runner.run_jobs([("algebra-counts", {}), ("no-such-claim", {})], seed=0)


# --------------------------------------------------------------------------------- order and crashes
def test_crash_in_worker_process_is_the_serial_fail():
    """A claim that raises in a worker process is a FAIL Result with the same error as serially, and its
    neighbours are unaffected."""
    jobs = [("lemma-F.2-clip", {"d": "x"}), ("algebra-counts", {})]  # d="x": the builder raises ValueError
    ser = runner.run_jobs(jobs, seed=0)
    events = []
    with runner.executor_for(jobs=2) as ex:
        par = runner.run_jobs(jobs, seed=0, executor=ex, progress=events.append)
    assert [r.verdict for r in par] == [r.verdict for r in ser] == ["FAIL", PASS]
    assert par[0].error == ser[0].error and par[0].error.startswith("ValueError: ")
    assert par[0].params == ser[0].params == {"d": "x", "a": -0.5, "b": 1.25}
    crash = [e for e in events if e.index == 0]
    assert len(crash) == 1 and "Traceback" in crash[0].traceback and "ValueError" in crash[0].traceback


def _test_claims(monkeypatch, gate: threading.Event):
    def wait(params, rng):  # finishes only after "signal" ran: completes after a later job
        ok = gate.wait(timeout=60)
        return Result("test-wait", params, [Check("gate opened", ok)])

    def signal(params, rng):
        gate.set()
        return Result("test-signal", params, [Check("set", True)])

    def crash(params, rng):
        raise RuntimeError("boom")

    for cid, run in (("test-wait", wait), ("test-signal", signal), ("test-crash", crash)):
        monkeypatch.setitem(registry.REGISTRY, cid, registry.Claim(cid, "test", "test", {"k": 1}, run))


def test_results_in_job_order_whatever_the_completion_order(monkeypatch):
    """An executor finishes job 1 before job 0 (job 0 waits for job 1); results still come in job order,
    and a job whose future raises (here: the claim, on a thread) is a FAIL with its error."""
    gate = threading.Event()
    _test_claims(monkeypatch, gate)
    jobs = [("test-wait", {}), ("test-signal", {"k": 2}), ("test-crash", {})]
    events = []
    with ThreadPoolExecutor(max_workers=2) as ex:
        res = runner.run_jobs(jobs, seed=0, executor=ex, progress=events.append)
    assert [r.claim for r in res] == ["test-wait", "test-signal", "test-crash"]
    assert [r.verdict for r in res] == [PASS, PASS, "FAIL"]
    assert res[1].params == {"k": 2} and res[2].error == "RuntimeError: boom"
    assert events[0].index == 1 and events[0].done == 1  # job 1 finished first
    assert [e.done for e in events] == [1, 2, 3] and sorted(e.index for e in events) == [0, 1, 2]
    # serially (the gate is open now): the same verdicts, and start/finish events around each job
    ser_events = []
    ser = runner.run_jobs(jobs, seed=0, progress=ser_events.append)
    assert [(r.claim, r.verdict, r.params, r.error) for r in ser] == [(r.claim, r.verdict, r.params, r.error)
                                                                      for r in res]
    assert [(e.index, e.result is None) for e in ser_events] == [(0, True), (0, False), (1, True), (1, False),
                                                                 (2, True), (2, False)]


def test_worker_processes_use_one_blas_thread():
    """--jobs workers are spawned and pin BLAS to one thread before numpy is imported."""
    with runner.process_executor(1) as ex:
        info = ex.submit(runner.worker_info).result(timeout=120)
    assert info["env"] == {v: "1" for v in runner.BLAS_THREAD_VARS}
    assert info["numpy_before_init"] is False
