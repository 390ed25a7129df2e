"""Marabou in the loop (docs/interop.md): the VNN-LIB properties of a claim, query by query, in a worker process.

Marabou 2.0 (``pip install maraboupy``) reads the ONNX file; its VNN-LIB reader rejects terms mixing X and Y, so
each disjunct Y_o - S·X >= c (or <= c) of a property file (``vnnlib.read_property``) is one query through the
Python API: input bounds of the box, one linear inequality.  A property is unsat iff all its disjuncts are.
Every query runs in a worker process with a hard time limit (Marabou's own timeout is not always honoured); a
worker that overruns is killed and the query is reported TIMEOUT; a worker whose parent dies (even by SIGKILL) dies
with it (``die_with_parent``), so no orphaned solver is left running.  Every SAT point is re-checked in exact
rational arithmetic on the stored float64 weights (``vnnlib.recheck``).

    python -m verify.interop.marabou NET.onnx PROPS_DIR [--timeout S]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

import numpy as np

from . import vnnlib


def available() -> bool:
    try:
        import maraboupy  # noqa: F401
    except ImportError:
        return False
    return True


def _solve_one(onnx_path: str, lo, hi, o: int, S, sense: str, c: float, timeout: float, halfspaces=()):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from maraboupy import Marabou
    net = Marabou.read_onnx(onnx_path)
    X = np.asarray(net.inputVars[0]).ravel()
    Y = np.asarray(net.outputVars[0]).ravel()
    for j, v in enumerate(X):
        net.setLowerBound(int(v), float(lo[j]))
        net.setUpperBound(int(v), float(hi[j]))
    for cv, r in halfspaces:  # linear input constraints of a non-box domain: c·X <= r
        js = [j for j in range(len(X)) if cv[j]]
        net.addInequality([int(X[j]) for j in js], [float(cv[j]) for j in js], float(r))
    vars_ = [int(Y[o])] + [int(X[j]) for j in range(len(X)) if S[j]]
    coef = [1.0] + [-float(S[j]) for j in range(len(X)) if S[j]]
    if sense == ">=":  # Y - S·X >= c  <=>  -Y + S·X <= -c
        net.addInequality(vars_, [-a for a in coef], -c)
    else:
        net.addInequality(vars_, coef, c)
    opts = Marabou.createOptions(verbosity=0, timeoutInSeconds=max(1, int(timeout)))
    verdict, vals, _ = net.solve(options=opts, verbose=False)
    x = [float(vals[int(v)]) for v in X] if verdict == "sat" else None
    return verdict, x


def die_with_parent(parent_pid: int) -> None:
    """Make this process end when ``parent_pid`` ends, even by SIGKILL (Linux ``prctl(PR_SET_PDEATHSIG)``), so no
    orphaned solver keeps a core busy after its parent was killed.  Elsewhere (no prctl), the worker still stops
    at its next query because its pipe closes; a solve in progress then runs until Marabou's own timeout."""
    import ctypes
    import os
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        raise SystemExit(1)


def _worker(conn, onnx_path: str, parent_pid: int | None = None):
    import os

    if parent_pid is not None:
        die_with_parent(parent_pid)
    devnull = os.open(os.devnull, os.O_WRONLY)  # Marabou prints from C++
    os.dup2(devnull, 1)
    while True:
        try:
            job = conn.recv()
        except EOFError:  # the parent closed the pipe (or died): stop
            return
        if job is None:
            return
        t0 = time.perf_counter()
        try:
            verdict, x = _solve_one(onnx_path, *job)
        except Exception as e:  # a solver error is a result to report
            verdict, x = f"error: {e}", None
        conn.send((verdict, x, time.perf_counter() - t0))


def run_queries(onnx_path, queries: list, timeout: float = 30.0) -> list[dict]:
    """queries: [(lo, hi, (o, S, sense, c)[, halfspaces])]; each gets {verdict, x, seconds}; hard limit ``timeout``
    + 5 s each."""
    ctx = mp.get_context("spawn")
    results, proc, conn = [], None, None
    try:
        for q in queries:
            lo, hi, (o, S, sense, c) = q[:3]
            hs = [(list(map(float, cv)), float(r)) for cv, r in (q[3] if len(q) > 3 else ())]
            if proc is None:
                conn, child = ctx.Pipe()
                proc = ctx.Process(target=_worker, args=(child, str(onnx_path), os.getpid()), daemon=True)
                proc.start()
            t0 = time.perf_counter()
            conn.send((list(map(float, lo)), list(map(float, hi)), o, list(map(float, S)), sense, float(c), timeout, hs))
            if conn.poll(timeout + 5 + (10 if not results else 0)):
                verdict, x, sec = conn.recv()
            else:
                proc.kill()
                proc.join()
                proc = None
                verdict, x, sec = "TIMEOUT (killed)", None, time.perf_counter() - t0
            results.append({"verdict": verdict, "x": x, "seconds": sec})
    finally:
        if proc is not None and proc.is_alive():
            conn.send(None)
            proc.join(5)
            if proc.is_alive():
                proc.kill()
    return results


def check_claim(net, onnx_path, spec, prop_dir, timeout: float = 30.0) -> dict:
    """Run every property file in ``prop_dir`` against ``onnx_path``; re-check SAT points exactly."""
    files = sorted(Path(prop_dir).glob("box_*.vnnlib"))
    if not files:
        raise ValueError(f"no box_*.vnnlib files in {prop_dir}")
    queries, owner = [], []
    for f in files:
        lo, hi, dis = vnnlib.read_property(f)
        hs = vnnlib.read_halfspaces(f)
        for d in dis:
            queries.append((lo, hi, d, hs))
            owner.append((f.name, lo, hi, dis))
    t0 = time.perf_counter()
    res = run_queries(onnx_path, queries, timeout)
    wall = time.perf_counter() - t0
    counts: dict[str, int] = {}
    sats = []
    for r, (name, lo, hi, dis) in zip(res, owner):
        v = r["verdict"] if r["verdict"] in ("sat", "unsat") else "other"
        counts[v] = counts.get(v, 0) + 1
        if r["verdict"] == "sat":
            sats.append({"file": name, **vnnlib.recheck(net, spec, lo, hi, dis, r["x"])})
    verdict = "unsat" if counts.get("unsat", 0) == len(res) else ("sat" if sats else "unknown")
    return {"verdict": verdict, "real_claim_violations": sum(s["violates_claim"] for s in sats),
            "real_property_violations": sum(s["violates_property"] and s["inside_box"] for s in sats),
            "spurious_sats": sum(not (s["violates_property"] and s["inside_box"]) for s in sats), "queries": len(res), "counts": counts, "sat_points": sats, "wall_seconds": wall,
            "solver_seconds": sum(r["seconds"] for r in res), "files": len(files)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m verify.interop.marabou",
                                description="Run Marabou on the VNN-LIB properties written by 'verify inspect --vnnlib'.")
    p.add_argument("onnx")
    p.add_argument("props", help="the PATH.vnnlib directory (box_*.vnnlib and index.json)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per query (hard limit + 5 s)")
    a = p.parse_args(argv)
    if not available():
        print("verify: error: Marabou is not installed: pip install -e '.[external]'", file=sys.stderr)
        return 2
    try:
        index = json.loads((Path(a.props) / "index.json").read_text())
    except (OSError, ValueError) as e:
        print(f"verify: error: cannot read {a.props}/index.json: {e}", file=sys.stderr)
        return 2
    from ..registry import load_all

    c = load_all()[index["claim"]]
    params = {**c.params, **(index.get("params") or {})}
    obj = c.build(params)
    net = obj.net if hasattr(obj, "net") else obj
    spec = vnnlib.spec_for(c.id, params, index["eps"])
    r = check_claim(net, a.onnx, spec, a.props, a.timeout)
    real = sum(s["violates_claim"] for s in r["sat_points"])
    print(f"{c.id}: Marabou {r['verdict']} on {r['files']} boxes ({r['queries']} queries, {r['counts']}), "
          f"{r['wall_seconds']:.2f} s; eps = {index['eps']!r}; SAT points re-checked exactly: "
          f"{len(r['sat_points'])}, real violations of the claim: {real}")
    if r["verdict"] == "unsat":
        print("unsat on every box => the claim holds with this eps (docs/interop.md)")
    return 0 if r["verdict"] == "unsat" else 1


if __name__ == "__main__":
    sys.exit(main())
