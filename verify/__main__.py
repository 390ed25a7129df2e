"""Command line: ``python -m verify`` runs every registered claim and prints a table of verdicts.

    python -m verify                      default suite (modest sizes); exit 1 if any claim FAILs
    python -m verify --list               list the claims
    python -m verify --claim ID [...]     run selected claims (repeatable)
    python -m verify --full               also run each claim's parameter sweep
    python -m verify --param N=512        override a parameter of the selected claims
    python -m verify --seed 3             reproduce a run
    python -m verify --json PATH --markdown PATH

Exit codes: 0 no claim failed, 1 some claim failed, 2 bad usage.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import traceback

import numpy as np

from . import report
from .registry import Claim, load_all, run_claim
from .result import FAIL, Result


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one clear line and exit code 2, no traceback
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m verify", description="Verify the paper's claims on explicit, hand-built weights.")
    p.add_argument("--list", action="store_true", help="list the registered claims and exit")
    p.add_argument("--claim", action="append", metavar="ID", help="run only this claim (repeatable)")
    p.add_argument("--full", action="store_true", help="also run each claim's parameter sweep")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="override a parameter of the selected claims (repeatable)")
    p.add_argument("--json", metavar="PATH", help="write the full report as JSON")
    p.add_argument("--markdown", metavar="PATH", help="write the table as Markdown")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


def _parse_params(items: list[str], claims: list[Claim]) -> dict:
    out = {}
    for it in items:
        if "=" not in it:
            raise UsageError(f"--param expects NAME=VALUE, got {it!r}")
        k, v = it.split("=", 1)
        types = {c.param_types.get(k) for c in claims if k in c.params}
        if not types:
            raise UsageError(f"no selected claim has a parameter {k!r}")
        typ = next(iter(t for t in types if t is not None), float)
        try:
            num = float(v)
        except ValueError:
            raise UsageError(f"parameter {k} must be a number, got {v!r}") from None
        if not np.isfinite(num) or num <= 0:
            raise UsageError(f"parameter {k} must be positive and finite, got {v!r}")
        if typ is int and num != int(num):
            raise UsageError(f"parameter {k} must be an integer, got {v!r}")
        val = int(num) if typ is int else num
        out[k] = val
    return out


def _write(path: str, text: str) -> None:
    try:
        with open(path, "w") as fh:
            fh.write(text)
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror}") from None


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except UsageError as e:
        print(f"verify: error: {e}", file=sys.stderr)
        return 2


def _main(argv) -> int:
    args = _parser().parse_args(argv)
    registry = load_all()
    if args.list:
        for c in registry.values():
            print(f"{c.id:28s} {c.paper_ref}")
        return 0
    ids = args.claim or list(registry)
    unknown = [i for i in ids if i not in registry]
    if unknown:
        raise UsageError(f"unknown claim id(s): {', '.join(unknown)} (see --list)")
    claims = [registry[i] for i in ids]
    overrides = _parse_params(args.param, claims)
    jobs = []
    for c in claims:
        own = {k: v for k, v in overrides.items() if k in c.params}
        jobs.append((c, own))
        if args.full:
            jobs += [(c, {**s, **own}) for s in c.sweep]
    results: list[Result] = []
    t0 = time.perf_counter()
    for i, (c, params) in enumerate(jobs, 1):
        if not args.quiet:
            print(f"[{i}/{len(jobs)}] {c.id} ...", end="", file=sys.stderr, flush=True)
        try:
            res = run_claim(c, params, seed=args.seed)
        except Exception as e:  # a crashing builder is a failed claim, reported with its reason
            res = Result(c.id, {**c.params, **params}, [], error=f"{type(e).__name__}: {e}")
            if not args.quiet:
                traceback.print_exc(file=sys.stderr)
        results.append(res)
        if not args.quiet:
            print(f" {res.verdict} ({res.seconds:.1f} s)", file=sys.stderr, flush=True)
    wall = time.perf_counter() - t0
    print(report.table(results))
    n_fail = sum(r.verdict == FAIL for r in results)
    print(f"\n{len(results)} runs, {n_fail} failed; wall time {wall:.1f} s (seed {args.seed})")
    meta = {"seed": args.seed, "full": args.full, "wall_seconds": wall, "python": platform.python_version(),
            "numpy": np.__version__, "argv": sys.argv[1:] if argv is None else argv}
    if args.json:
        _write(args.json, report.to_json(results, meta))
    if args.markdown:
        _write(args.markdown, report.markdown(results))
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
