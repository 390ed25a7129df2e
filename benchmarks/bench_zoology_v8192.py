"""Theorem 3.2's network on Zoology's reference-sweep files at |V| = 8192 (docs/tasks/external.md).

Runs ``python -m verify tasks run zoology FILE`` (through ``verify.taskrun.run_file``) on each
``zoology_mqar_original_test_v8192_*`` file of ../shared/external-tasks, one file per child process so that the
peak memory (ru_maxrss) is the file's own, and prints per file: rows, accuracy in Zoology's metric, the positions
inside / outside the hypotheses, the unscored fake queries, k, D, build and run seconds (wall), the child's
CPU seconds (user + system: the honest number on a shared machine), peak memory.
The network: H.1 code with k = 256 (the blocked Gram search of ``lemmas.jl``), N = 64, (N - 1)·2·k memory channels.

    PYTHONPATH=. python benchmarks/bench_zoology_v8192.py [--rows R] [--json] [FILE ...]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXT = ROOT.parent / "shared" / "external-tasks"


def one(path: str, rows: int | None) -> dict:
    sys.path.insert(0, str(ROOT))
    from verify.taskrun import run_file

    t = time.perf_counter()
    out = run_file("zoology", path, rows=rows)
    return {"file": Path(path).stem, "rows": out["rows"], "N": out["length"], "vocab": out["vocab"], "k": out["k"],
            "D": out["D"], "accuracy_native": out["accuracy_native"], "scored": out["scored_positions"],
            "inside": out["inside_hypotheses"], "outside": out["outside_hypotheses"],
            "unscored_fake_queries": out["unscored_fake_queries"], "seconds": out["seconds"],
            "seconds_total": round(time.perf_counter() - t, 1),
            "cpu_seconds": round(resource.getrusage(resource.RUSAGE_SELF).ru_utime
                                 + resource.getrusage(resource.RUSAGE_SELF).ru_stime, 1),
            "peak_rss_MiB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="*", help="default: every zoology_mqar_original_test_v8192_*.npz")
    ap.add_argument("--rows", type=int, help="only the first R rows (default: all)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.one:
        print(json.dumps(one(a.one, a.rows)))
        return 0
    files = a.files or sorted(str(p) for p in EXT.glob("zoology_mqar_original_test_v8192_*.npz"))
    if not files:
        print(f"no v8192 files under {EXT}", file=sys.stderr)
        return 2
    bad = 0
    for f in files:
        cmd = [sys.executable, __file__, "--one", f] + (["--rows", str(a.rows)] if a.rows else [])
        res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
        bad += res["inside"]["accuracy"] not in (None, 1.0)
        if a.json:
            print(json.dumps(res))
            continue
        out = ", ".join(f"{s}: {v['positions']} ({100 * v['accuracy']:.1f}% right)" for s, v in res["outside"].items())
        print(f"{res['file']}: {res['rows']} rows x {res['N']}, |V| = {res['vocab']}, k = {res['k']}, D = {res['D']}; "
              f"accuracy {100 * res['accuracy_native']:.2f}%; inside {res['inside']['positions']} at "
              f"{100 * res['inside']['accuracy']:.1f}%; outside {out or 0}; fake queries {res['unscored_fake_queries']}; "
              f"build {res['seconds']['build']} s, run {res['seconds']['run']} s (wall), {res['cpu_seconds']} CPU-s in all; "
              f"peak {res['peak_rss_MiB']} MiB")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
