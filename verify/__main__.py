"""Command line: ``python -m verify`` runs every registered claim and prints a table of verdicts.

    python -m verify                      default suite (every claim at modest sizes); exit 1 if any claim FAILs
    python -m verify --list               list the claims
    python -m verify --claim ID [...]     run selected claims (repeatable)
    python -m verify --full               also run each claim's parameter sweep
    python -m verify --param N=512        override a parameter of the selected claims (repeatable)
    python -m verify --seed 3             reproduce a run
    python -m verify --json PATH --markdown PATH --plots DIR
    python -m verify --counterexamples DIR   where FAILs are saved (default ./verify-counterexamples)
    python -m verify --quiet              no progress lines on stderr
    python -m verify --full --jobs 4      run claims and sweep points in 4 worker processes (same report)
    python -m verify --full --scheduler tcp://HOST:8786   run them on a Dask cluster (pip install -e '.[dask]')

    python -m verify replay FILE          re-run a saved counterexample; exit 1 if it still fails
    python -m verify inspect CLAIM [--param k=v ...] [--export PATH [--format npz|onnx|safetensors] [--vnnlib]]
                                          [--heatmap PATH]
                                          architecture of the emitted weights; export .npz + JSON; draw them
    python -m verify tasks FORMAT FILE    a task file (jelassi, zoology, safari, s4, neutral) in the neutral
                                          format, with its oracle scores (docs/tasks/)
    python -m verify tasks run FORMAT FILE   a claim's task network on the file: accuracy in its original metric,
                                          positions inside/outside the theorem's hypotheses (docs/tasks/external.md)
    python -m verify docs-status REPORT.json [--full FULL.json] [--index docs/index.md]
                                          regenerate the status table of the docs index from JSON reports

Exit codes: 0 no claim failed, 1 some claim failed (or a replayed counterexample still fails), 2 bad usage
(unknown claim, parameter out of range, unreadable file, unwritable path): one line on stderr, no traceback.
Verdicts other than FAIL (PASS, HYPOTHESIS VIOLATED, INCONCLUSIVE, and any other a claim reports) do not
make the exit code non-zero.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from . import replay as rp
from . import report, runner
from .registry import Claim, load_all
from .result import FAIL

# Parameters that are positive by the paper's conventions (ε, sizes, counts, margins, radii, temperatures);
# any other parameter (e.g. clip's ends a, b) may be any finite number.  N must be >= 1 (an integer).
POSITIVE = frozenset({"eps", "N", "d", "n", "m", "M", "C", "R", "K", "U", "D", "V", "lam", "delta",
                      "trials", "samples", "p", "L", "W", "S", "B", "vocab", "k"})
DEFAULT_CE_DIR = "verify-counterexamples"


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one clear line and exit code 2, no traceback
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m verify", description="Verify the paper's claims on explicit, hand-built weights. "
                "Subcommands: 'replay FILE' re-runs a saved counterexample; 'inspect CLAIM' prints and exports "
                "the emitted weights.")
    p.add_argument("--list", action="store_true", help="list the registered claims and exit")
    p.add_argument("--claim", action="append", metavar="ID", help="run only this claim (repeatable)")
    p.add_argument("--full", action="store_true", help="also run each claim's parameter sweep")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="override a parameter of the selected claims (repeatable)")
    p.add_argument("--json", metavar="PATH", help="write the full report as JSON")
    p.add_argument("--markdown", metavar="PATH", help="write the table as Markdown")
    p.add_argument("--plots", metavar="DIR", help="draw error and growth plots (needs matplotlib)")
    p.add_argument("--counterexamples", metavar="DIR", default=DEFAULT_CE_DIR,
                   help=f"directory for the files of failed runs (default ./{DEFAULT_CE_DIR})")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="run claims and sweep points in N worker processes (default: one per core, at most one per "
                        "job; 1: serially in this process); docs/parallel.md")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run them on the Dask cluster whose scheduler is at ADDRESS (pip install -e '.[dask]')")
    p.add_argument("--mutants", action="store_true",
                   help="after the suite, run the mutation self-test on the selected claims (docs/mutants.md)")
    return p


def _inspect_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m verify inspect", description="Print the architecture of a claim's emitted weights.")
    p.add_argument("claim", metavar="CLAIM")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="override a parameter")
    p.add_argument("--export", metavar="PATH", help="write PATH.npz and PATH.json (docs/weights-format.md)")
    p.add_argument("--format", choices=("npz", "onnx", "safetensors"), default="npz",
                   help="export format (onnx, safetensors: docs/interop.md; default npz)")
    p.add_argument("--vnnlib", action="store_true", help="with --format onnx: write the claim's VNN-LIB properties")
    p.add_argument("--heatmap", metavar="PATH", help="draw the weight matrices into PATH (.png; needs matplotlib)")
    return p


def _replay_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m verify replay", description="Re-run a saved counterexample.")
    p.add_argument("file", metavar="FILE")
    return p


# ------------------------------------------------------------------------------------------- parameters
def _param_type(name: str, claims: list[Claim]):
    for c in claims:
        if name in c.params or name in c.switches:
            t = c.param_types.get(name)
            if t is not None:
                return t
            d = c.params.get(name, c.switches.get(name))
            if isinstance(d, str):
                return str
            if isinstance(d, int) and not isinstance(d, bool):
                return int
    return float


def parse_params(items: list[str], claims: list[Claim]) -> dict:
    """``--param NAME=VALUE`` for the paper's parameters and the run switches of the selected claims."""
    out = {}
    for it in items:
        if "=" not in it:
            raise UsageError(f"--param expects NAME=VALUE, got {it!r}")
        k, v = (s.strip() for s in it.split("=", 1))
        if not any(k in c.params or k in c.switches for c in claims):
            raise UsageError(f"no selected claim has a parameter {k!r}")
        typ = _param_type(k, claims)
        if typ is str or isinstance(typ, tuple):
            if isinstance(typ, tuple) and v not in typ:
                raise UsageError(f"parameter {k} must be one of {', '.join(typ)}, got {v!r}")
            out[k] = v
            continue
        try:
            num = float(v)
        except ValueError:
            raise UsageError(f"parameter {k} must be a number, got {v!r}") from None
        if not math.isfinite(num):
            raise UsageError(f"parameter {k} must be finite, got {v!r}")
        if typ is int and num != int(num):
            raise UsageError(f"parameter {k} must be an integer, got {v!r}")
        if k in POSITIVE and num <= 0:
            raise UsageError(f"parameter {k} must be positive, got {v!r}" + (" (N >= 1)" if k == "N" else ""))
        out[k] = int(num) if typ is int else num
    return out


def _check_buildable(c: Claim, params: dict) -> None:
    """Let the claim's builder judge the parameters (it raises ValueError on violated hypotheses)."""
    if c.build is None or not params:
        return
    try:
        c.build({**c.params, **params})
    except (ValueError, TypeError) as e:
        raise UsageError(f"{c.id}: parameters {report.params_line(params)} rejected: {e}") from None


def _check_writable(path: str, what: str) -> None:
    """Fail before running anything when an output file cannot be written."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise UsageError(f"cannot write {what} {path}: it is a directory")
    if not parent.is_dir():
        raise UsageError(f"cannot write {what} {path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise UsageError(f"cannot write {what} {path}: permission denied")


def _write(path: str, text: str) -> None:
    try:
        with open(path, "w") as fh:
            fh.write(text)
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror}") from None


# ------------------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "replay":
            return _replay(argv[1:])
        if argv and argv[0] == "inspect":
            return _inspect(argv[1:])
        if argv[:2] == ["tasks", "run"]:
            from .taskrun import main_run
            return main_run(argv[2:])
        if argv and argv[0] == "tasks":
            from .tasks.cli import main_tasks
            return main_tasks(argv[1:])
        if argv and argv[0] == "docs-status":
            return _docs_status(argv[1:])
        return _main(argv)
    except UsageError as e:
        print(f"verify: error: {e}", file=sys.stderr)
        return 2


def _select(registry: dict, ids: list[str]) -> list[Claim]:
    unknown = [i for i in ids if i not in registry]
    if unknown:
        raise UsageError(f"unknown claim id(s): {', '.join(unknown)} (see python -m verify --list)")
    return [registry[i] for i in ids]


def _main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
    if args.scheduler is not None and args.jobs is not None and args.jobs > 1:
        raise UsageError("--scheduler and --jobs N > 1 exclude each other (the cluster's workers run the jobs)")
    registry = load_all()
    if args.list:
        for c in registry.values():
            print(f"{c.id:28s} {c.paper_ref}")
        return 0
    claims = _select(registry, args.claim or list(registry))
    overrides = parse_params(args.param, claims)
    for path, what in ((args.json, "JSON report"), (args.markdown, "Markdown report")):
        if path:
            _check_writable(path, what)
    if args.plots:
        from . import plots
        if not plots.available():
            raise UsageError("--plots needs matplotlib, which is not installed: pip install -e '.[plot]'")
        try:
            Path(args.plots).mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UsageError(f"cannot create plot directory {args.plots}: {e.strerror or e}") from None
    jobs = []
    for c in claims:
        own = {k: v for k, v in overrides.items() if k in c.params or k in c.switches}
        _check_buildable(c, own)
        jobs.append((c, own))
        if args.full:
            jobs += [(c, {**s, **own}) for s in c.sweep]
    if args.jobs is None:  # both cores (all of them), never more workers than jobs; claims registered outside
        # verify.claims (e.g. by a script or a test) exist only in this process: those runs stay serial
        local = any(not getattr(c.run, "__module__", "").startswith("verify.claims") for c, _ in jobs)
        args.jobs = 1 if args.scheduler is not None or local else max(1, min(os.cpu_count() or 1, len(jobs)))
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i][0].cost)  # long jobs first; results stay in job order
    t0 = time.perf_counter()
    try:
        with runner.executor_for(args.jobs, args.scheduler) as ex:
            results = runner.run_jobs([(c.id, p) for c, p in jobs], args.seed, executor=ex,
                                      progress=None if args.quiet else runner.StderrProgress(), order=order)
    except runner.RunnerError as e:
        raise UsageError(str(e)) from None
    wall = time.perf_counter() - t0
    print(report.table(results))
    files: list = [None] * len(results)
    for i, (res, (c, _)) in enumerate(zip(results, jobs)):
        if res.verdict == FAIL:
            try:
                files[i] = rp.save(res, args.seed, args.counterexamples, c.paper_ref)
            except OSError as e:
                raise UsageError(str(e)) from None
    saved = [f for f in files if f is not None]
    if saved:
        print("\nFAIL counterexamples saved (re-run with: python -m verify replay FILE):")
        for f in saved:
            print(f"  {f}")
    n_fail = sum(r.verdict == FAIL for r in results)
    print(f"\n{report.summary(results)}; {n_fail} failed; wall time {wall:.1f} s (seed {args.seed})")
    mut = None
    if args.mutants:
        from . import selftest
        say = None if args.quiet else (lambda msg: print(f"  mutant {msg}", file=sys.stderr, flush=True))
        mut = selftest.run_mutants([c.id for c in claims], seed=args.seed, progress=say)
        print("\nmutation self-test (each mutant run under the default checks):")
        print(selftest.format_mutants(mut))
    meta = {"seed": args.seed, "full": args.full, "jobs": args.jobs, "scheduler": args.scheduler,
            "wall_seconds": wall, "python": platform.python_version(), "numpy": np.__version__,
            "library": rp.library_info()["version"], "argv": argv}
    if args.json:
        _write(args.json, report.to_json(results, meta, files, mut))
    if args.markdown:
        _write(args.markdown, report.markdown(results))
    if args.plots:
        from . import plots
        n = 0
        for r in results:
            try:
                n += len(plots.plot_result(r, args.plots))
            except OSError as e:
                raise UsageError(str(e)) from None
        print(f"plots: {n} files in {args.plots}")
    return 1 if n_fail else 0


# ------------------------------------------------------------------------------------------- docs-status
def _docs_status(argv: list[str]) -> int:
    from . import docs_status as ds
    p = _Parser(prog="python -m verify docs-status", description="Regenerate the status table of the docs index.")
    p.add_argument("report", metavar="REPORT.json", help="JSON report of the default run")
    p.add_argument("--full", metavar="FULL.json", help="JSON report of a --full run")
    p.add_argument("--index", default="docs/index.md", metavar="PATH", help="the index to rewrite")
    args = p.parse_args(argv)
    try:
        default = ds.load_report(args.report)
        full = ds.load_report(args.full) if args.full else None
        ds.update_index(args.index, default, full)
    except ds.StatusError as e:
        raise UsageError(str(e)) from None
    print(f"status table of {args.index} regenerated from {args.report}" + (f" and {args.full}" if args.full else ""))
    return 0


# ----------------------------------------------------------------------------------------------- replay
def _replay(argv: list[str]) -> int:
    args = _replay_parser().parse_args(argv)
    try:
        rec = rp.load(args.file)
        res, cmp = rp.replay(rec, load_all())
    except rp.ReplayError as e:
        raise UsageError(str(e)) from None
    print(f"replaying {rec['claim']} at {report.params_line(rec['params'])}, seed {rec['seed']} "
          f"(saved by {rec.get('library', {}).get('version', '?')})")
    print(report.table([res]))
    for x in cmp:
        then = f"measured {report.fmt_value(x['then'][0])}, bound {report.fmt_value(x['then'][1])}"
        now = "check not run now" if x["now"] is None else \
            f"{x['now'][0]}, measured {report.fmt_value(x['now'][1])}, bound {report.fmt_value(x['now'][2])}"
        print(f"  {x['name']}: saved FAIL ({then}); now {now}")
    if res.error:
        print(f"  error now: {res.error}")
    if res.verdict == FAIL:
        print("still fails")
        return 1
    print(f"no longer fails (verdict {res.verdict})")
    return 0


# ---------------------------------------------------------------------------------------------- inspect
def _inspect(argv: list[str]) -> int:
    args = _inspect_parser().parse_args(argv)
    registry = load_all()
    (c,) = _select(registry, [args.claim])
    if c.build is None:
        raise UsageError(f"claim {c.id} emits no weights to inspect (it is a statement about functions)")
    params = {**c.params, **parse_params(args.param, [c])}
    if args.export:
        base = Path(args.export)
        base = base.with_suffix("") if base.suffix in (".npz", ".json") else base
    if args.heatmap:
        from . import plots
        if not plots.available():
            raise UsageError("--heatmap needs matplotlib, which is not installed: pip install -e '.[plot]'")
        _check_writable(args.heatmap, "heatmap")
    try:
        obj = c.build(params)
    except (ValueError, TypeError) as e:
        raise UsageError(f"{c.id}: parameters {report.params_line(params)} rejected: {e}") from None
    print(f"{c.id} ({c.paper_ref}) at {report.params_line(params)}")
    print(report.describe(obj))
    net = obj.net if hasattr(obj, "net") and hasattr(obj, "formula") else obj
    if type(net).__name__ not in ("FNN", "SSMLayer", "SSMModel") and callable(getattr(net, "as_model", None)):
        net = net.as_model()  # a block object (e.g. thm-4.5's selection model) exports as its SSMModel
    if args.vnnlib and (args.format != "onnx" or not args.export):
        raise UsageError("--vnnlib needs --export PATH --format onnx")
    if args.export and args.format != "npz":
        from .interop import formats
        try:
            for line in formats.export(net, base, args.format, c.id, params, args.vnnlib):
                print(line)
        except (ImportError, ValueError, TypeError, OSError) as e:
            raise UsageError(f"cannot export {c.id} as {args.format}: {e}") from None
    elif args.export:
        from constructions import export
        try:
            npz, js = export.save(net, args.export)
        except TypeError:
            raise UsageError(f"cannot export {c.id}: it emits a {type(net).__name__}, not an FNN, SSM layer "
                             f"or model") from None
        except OSError as e:
            raise UsageError(str(e)) from None
        same = _roundtrip_identical(net, export.load(npz))
        print(f"exported {npz} and {js}; reloaded outputs bit-identical on random inputs: {same}")
        if not same:
            return 1
    if args.heatmap:
        from . import plots
        try:
            p = plots.plot_weight_heatmap(obj, args.heatmap, f"{c.id} at {report.params_line(params)}")
        except plots.PlotUnavailable as e:
            raise UsageError(str(e)) from None
        except (OSError, ValueError) as e:
            raise UsageError(f"cannot draw {c.id}: {e}") from None
        print(f"heatmap written to {p}")
    return 0


def _roundtrip_identical(net, back) -> bool:
    from constructions.fnn import FNN
    from constructions.model import SSMModel

    rng = np.random.default_rng(0)
    if isinstance(net, FNN):
        x = rng.normal(size=(64, net.d_in))
    elif isinstance(net, SSMModel) and net.embedding is not None and net.embedding.kind == "onehot":
        x = rng.integers(0, net.embedding.E.shape[1], size=(2, 32))
    else:
        d = net.d_in
        x = rng.normal(size=(2, 32, d))
    return bool(np.array_equal(net(x), back(x)))


if __name__ == "__main__":
    try:
        rc = main()
        sys.stdout.flush()
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly, as shell tools do (128 + SIGPIPE)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        rc = 141
    sys.exit(rc)
