"""Run claims and sweep points, serially or on an executor: worker processes (``--jobs N``) or a Dask cluster
(``--scheduler ADDRESS``); docs/parallel.md.

A job is ``(claim id, params)``.  Workers receive only the claim id, the parameter overrides and the seed
(plain, picklable data, never a ``Claim``, whose ``run``/``build`` may be closures) and call ``run_job``,
which loads the registry in the worker and runs ``registry.run_claim``.  Every job gets the run's seed, as in a
serial run, so the verdicts and the report are the same whatever runs them; only the timings differ.

Process start: ``--jobs N`` uses the "spawn" context on every platform.  Forking a parent that has already
started BLAS (or other) thread pools can copy locks held by threads that do not exist in the child; spawn
starts a fresh interpreter, which also lets the initializer pin BLAS to one thread *before* numpy is imported
(this module imports nothing heavy at module level for that reason): ``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS`` and ``MKL_NUM_THREADS`` are set to 1 in the worker's environment, and if
``threadpoolctl`` is installed its limit is applied as well.  Dask's nanny sets the same variables in the
worker processes it starts (``distributed.nanny.pre-spawn-environ``).

This module has no scheduler of its own: it submits to a ``concurrent.futures`` executor (a
``ProcessPoolExecutor``, or the executor of a ``distributed.Client``) and collects with ``as_completed``.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .result import Result

BLAS_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
DASK_HINT = "pip install -e '.[dask]'"


class RunnerError(Exception):
    """The executor asked for cannot be made (``distributed`` missing, scheduler unreachable, bad --jobs)."""


@dataclass
class Progress:
    """One progress event: ``result`` is None when a serial run starts job ``index`` (0-based), else the job
    finished (``done`` of ``total`` finished so far) and ``traceback`` is the crash's traceback, if any."""

    done: int
    total: int
    index: int
    claim: str
    result: Result | None = None
    traceback: str | None = None


# ------------------------------------------------------------------------------------------------ worker
_NUMPY_BEFORE_INIT: bool | None = None  # set by the process-pool initializer (worker_info)


def init_worker() -> None:
    """Initializer of ``--jobs`` worker processes: one BLAS thread per worker (see the module docstring)."""
    global _NUMPY_BEFORE_INIT
    _NUMPY_BEFORE_INIT = "numpy" in sys.modules
    for var in BLAS_THREAD_VARS:
        os.environ[var] = "1"
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # the variables above act when numpy loads BLAS, which (under spawn) is after this
        return
    threadpool_limits(1)


def worker_info() -> dict:
    """What a worker sees: its BLAS thread variables, whether numpy was loaded before the initializer ran
    (None: no initializer ran, e.g. a Dask worker) and the ``verify`` package it imports."""
    import verify

    return {"env": {v: os.environ.get(v) for v in BLAS_THREAD_VARS}, "numpy_before_init": _NUMPY_BEFORE_INIT,
            "pid": os.getpid(), "verify": os.path.dirname(os.path.abspath(verify.__file__))}


def run_job(claim_id: str, params: dict, seed: int) -> tuple[Result, str | None]:
    """Run one job where it is called (this process or a worker): the claim's Result and, if the claim
    raised, the traceback text; a raising claim is a FAIL Result carrying the error, as in a serial run."""
    from .registry import load_all, run_claim
    from .result import Result

    c = load_all()[claim_id]
    try:
        return run_claim(c, params, seed=seed), None
    except Exception as e:  # noqa: BLE001 -- a crashing builder is a failed claim, reported with its reason
        return Result(c.id, {**c.params, **params}, [], error=f"{type(e).__name__}: {e}"), traceback.format_exc()


# -------------------------------------------------------------------------------------------------- run
def run_jobs(jobs: list[tuple[str, dict]], seed: int, executor: cf.Executor | None = None,
             progress: Callable[[Progress], None] | None = None, order: list[int] | None = None) -> list[Result]:
    """Run ``jobs`` (claim id, parameter overrides) with ``seed`` each; results in job order.

    ``executor``: None runs them here, one after the other; else any ``concurrent.futures.Executor`` whose
    workers can import this package (``process_executor``, ``distributed.Client(...).get_executor()``).
    ``progress`` is called with a ``Progress`` as each job finishes (and, serially, as each starts).  A job
    whose worker fails (raises, dies, cannot send its result back) becomes a FAIL Result with the error.
    ``order``: the indices of ``jobs`` in the order they are submitted to the executor (e.g. the longest first,
    so that two workers finish together); the results stay in job order."""
    from .registry import load_all
    from .result import Result

    registry = load_all()
    unknown = sorted({cid for cid, _ in jobs if cid not in registry})
    if unknown:
        raise ValueError(f"unknown claim id(s): {', '.join(unknown)}")
    n = len(jobs)
    out: list = [None] * n
    if executor is None:
        for i, (cid, params) in enumerate(jobs):
            if progress:
                progress(Progress(i, n, i, cid))
            out[i], tb = run_job(cid, params, seed)
            if progress:
                progress(Progress(i + 1, n, i, cid, out[i], tb))
        return out
    sub = list(range(n)) if order is None else list(order)
    if sorted(sub) != list(range(n)):
        raise ValueError("order must be a permutation of the job indices")
    futures = {executor.submit(run_job, *jobs[i], seed): i for i in sub}
    try:
        for done, fut in enumerate(cf.as_completed(futures), 1):
            i = futures[fut]
            cid, params = jobs[i]
            try:
                out[i], tb = fut.result()
            except Exception as e:  # noqa: BLE001 -- the worker, not the claim, failed (e.g. a killed process)
                tb = "".join(traceback.format_exception(e))
                out[i] = Result(cid, {**registry[cid].params, **params}, [], error=f"{type(e).__name__}: {e}")
            if progress:
                progress(Progress(done, n, i, cid, out[i], tb))
    finally:
        for fut in futures:
            fut.cancel()
    return out


class StderrProgress:
    """Progress lines on a stream: ``[i/n] claim ... VERDICT (x s)``, and a crashed claim's traceback.
    Serially the line starts when the job starts (i = its position); on an executor it is written whole
    when the job finishes (i = how many have finished)."""

    def __init__(self, stream=None):
        self.stream = stream
        self._open = None  # index of the job whose line was started and not finished

    def __call__(self, ev: Progress) -> None:
        s = self.stream or sys.stderr
        if ev.result is None:
            print(f"[{ev.index + 1}/{ev.total}] {ev.claim} ...", end="", file=s, flush=True)
            self._open = ev.index
            return
        if self._open != ev.index:
            print(f"[{ev.done}/{ev.total}] {ev.claim} ...", end="", file=s)
        self._open = None
        if ev.traceback:
            print(file=s)
            print(ev.traceback, end="", file=s)
        print(f" {ev.result.verdict} ({ev.result.seconds:.1f} s)", file=s, flush=True)


# ------------------------------------------------------------------------------------------- executors
def process_executor(n: int) -> cf.ProcessPoolExecutor:
    """``n`` worker processes, started with "spawn", one BLAS thread each (module docstring)."""
    import multiprocessing

    return cf.ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                                  initializer=init_worker)


@contextlib.contextmanager
def executor_for(jobs: int = 1, scheduler: str | None = None) -> Iterator[cf.Executor | None]:
    """The executor for ``--jobs``/``--scheduler``: None (serial) for jobs == 1 and no scheduler, worker
    processes for jobs >= 2, a Dask client's executor for a scheduler address; closed on exit."""
    if not isinstance(jobs, int) or jobs < 1:
        raise RunnerError(f"--jobs must be an integer >= 1, got {jobs!r}")
    if scheduler is not None and jobs > 1:
        raise RunnerError("--scheduler and --jobs N > 1 exclude each other (the cluster's workers run the jobs)")
    if scheduler is not None:
        try:
            from distributed import Client
        except ImportError:
            raise RunnerError(f"--scheduler needs dask's distributed, which is not installed: {DASK_HINT}") from None
        try:
            client = Client(scheduler)
        except (OSError, TimeoutError, ValueError, TypeError) as e:
            raise RunnerError(f"cannot connect to the Dask scheduler at {scheduler}: {e}") from None
        try:
            yield client.get_executor(pure=False)  # pure=False: equal jobs run as often as listed, as serially
        finally:
            client.close()
    elif jobs > 1:
        ex = process_executor(jobs)
        try:
            yield ex
        finally:
            ex.shutdown(wait=True, cancel_futures=True)
    else:
        yield None
