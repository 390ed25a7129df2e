"""Counterexample files: a FAIL is saved so that it can be re-run later (``python -m verify replay FILE``).

A claim run is a deterministic function of (claim id, parameters, seed) and the library's code, so the file
records exactly those, plus the failing checks with their counterexamples (the inputs where the bound broke,
as the check reported them) and the library and numpy versions for the record.  Replaying runs the claim
again at the saved parameters and seed: it still fails when the verdict is FAIL again.

File format (JSON, ``format`` = ``ssm-verifier-counterexample``, ``version`` = 1)::

    {"format", "version", "claim", "paper_ref", "params": {...}, "seed": int, "verdict": "FAIL",
     "error": str | null,                      # a crash of the builder or of a check, if that was the failure
     "failing_checks": [{"name", "measured", "bound", "counterexample", "detail"}],
     "library": {"name", "version", "git_commit", "python", "numpy", "platform"},
     "command": "python -m verify --claim ID --seed S --param k=v ..."}
"""

from __future__ import annotations

import hashlib
import json
import platform
from pathlib import Path

import numpy as np

from .result import FAIL, Result

FORMAT = "ssm-verifier-counterexample"
VERSION = 1
DIST = "ssm-token-selection-verifier"


class ReplayError(ValueError):
    """A counterexample file that cannot be read or does not describe a registered claim."""


def library_info() -> dict:
    """Name and version of this library (from the installed distribution, if installed) and its dependencies."""
    try:
        from importlib.metadata import PackageNotFoundError, version
        try:
            v = version(DIST)
        except PackageNotFoundError:
            v = _source_version()
    except ImportError:  # pragma: no cover - Python < 3.8
        v = "unknown"
    return {"name": DIST, "version": v, "git_commit": _git_commit(), "python": platform.python_version(),
            "numpy": np.__version__, "platform": platform.platform()}


def _source_version() -> str:
    """The version in the source tree's setup.cfg (running without installing)."""
    import configparser

    cfg = configparser.ConfigParser()
    try:
        cfg.read(Path(__file__).resolve().parents[1] / "setup.cfg")
        return cfg.get("metadata", "version") + " (source tree)"
    except (configparser.Error, OSError):
        return "unknown (not installed)"


def _git_commit() -> str | None:
    """The commit of the source tree this library runs from (None outside a git checkout)."""
    import subprocess

    try:
        r = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).resolve().parent, capture_output=True,
                           text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() or None if r.returncode == 0 else None


def command_line(claim_id: str, params: dict, seed: int) -> str:
    ps = " ".join(f"--param {k}={v!r}" if isinstance(v, str) else f"--param {k}={v}" for k, v in params.items())
    return f"python -m verify --claim {claim_id} --seed {seed}" + (f" {ps}" if ps else "")


def record(res: Result, seed: int, paper_ref: str = "") -> dict:
    """The counterexample record of a failed run (see the module docstring)."""
    from .report import jsonable

    failing = [{"name": c.name, "measured": c.measured, "bound": c.bound, "counterexample": c.counterexample,
                "detail": c.detail} for c in res.checks if c.status == FAIL]
    return jsonable({"format": FORMAT, "version": VERSION, "claim": res.claim, "paper_ref": paper_ref,
                      "params": res.params, "seed": seed, "verdict": res.verdict, "error": res.error,
                      "failing_checks": failing, "library": library_info(),
                      "command": command_line(res.claim, res.params, seed)})


def file_name(res: Result, seed: int) -> str:
    h = hashlib.sha1(json.dumps(res.params, sort_keys=True, default=str).encode()).hexdigest()[:8]
    return f"{res.claim}-seed{seed}-{h}.json"


def save(res: Result, seed: int, directory, paper_ref: str = "") -> Path:
    """Write the counterexample record of ``res`` into ``directory`` (created if needed); returns its path.
    Raises OSError with a one-line message when the directory cannot be written."""
    d = Path(directory)
    path = d / file_name(res, seed)
    try:
        d.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record(res, seed, paper_ref), indent=1))
    except OSError as e:
        raise OSError(f"cannot write counterexample to {path}: {e.strerror or e}") from None
    return path


def load(path) -> dict:
    """Read and validate a counterexample file; ReplayError with one clear line when it is unusable."""
    p = Path(path)
    try:
        rec = json.loads(p.read_text())
    except FileNotFoundError:
        raise ReplayError(f"no such counterexample file: {p}") from None
    except OSError as e:
        raise ReplayError(f"cannot read {p}: {e.strerror or e}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ReplayError(f"{p} is not a counterexample file (not JSON: {e})") from None
    if not isinstance(rec, dict) or rec.get("format") != FORMAT:
        raise ReplayError(f"{p} is not a counterexample file (format is not {FORMAT!r})")
    if rec.get("version") != VERSION:
        raise ReplayError(f"{p} has counterexample format version {rec.get('version')!r}; this library reads {VERSION}")
    for k, typ in (("claim", str), ("params", dict), ("seed", int)):
        if not isinstance(rec.get(k), typ) or isinstance(rec.get(k), bool):
            raise ReplayError(f"{p}: field {k!r} is missing or not a {typ.__name__}")
    return rec


def replay(rec: dict, registry: dict) -> tuple[Result, list[dict]]:
    """Re-run the saved claim at the saved parameters and seed.  Returns the new result and, for every check
    that failed in the file, {name, then: (measured, bound), now: (status, measured, bound) or None}."""
    from .registry import run_claim

    claim = registry.get(rec["claim"])
    if claim is None:
        raise ReplayError(f"claim {rec['claim']!r} of the counterexample file is not registered in this version")
    unknown = sorted(set(rec["params"]) - set(claim.params) - set(claim.switches))
    if unknown:
        raise ReplayError(f"claim {claim.id} has no parameter(s) {', '.join(unknown)} (saved by another version?)")
    try:
        res = run_claim(claim, rec["params"], seed=rec["seed"])
    except Exception as e:  # a crash is a failure, as in the suite
        res = Result(claim.id, {**claim.params, **rec["params"]}, [], error=f"{type(e).__name__}: {e}")
    now = {c.name: c for c in res.checks}
    cmp = []
    for fc in rec.get("failing_checks", []):
        c = now.get(fc.get("name"))
        cmp.append({"name": fc.get("name"), "then": (fc.get("measured"), fc.get("bound")),
                    "now": None if c is None else (c.status, c.measured, c.bound)})
    return res, cmp
