"""Tables and machine-readable reports of verdicts."""

from __future__ import annotations

import json
import math

import numpy as np

from .result import Result


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return str(v)
        return f"{v:.3g}"
    return str(v)


def _counts_line(counts: dict) -> str:
    keys = [k for k in ("M", "U", "D", "L", "W", "S", "B", "terms", "channels") if k in counts]
    return " ".join(f"{k}={_fmt(counts[k])}" for k in keys) or "-"


def _params_line(params: dict) -> str:
    return ", ".join(f"{k}={_fmt(v)}" for k, v in params.items())


def _headline(res: Result) -> tuple[str, str]:
    """The check whose measured/bound ratio is largest: the tightest (or failing) one."""
    best, ratio = None, -1.0
    for c in res.checks:
        if c.measured is None or c.bound is None:
            continue
        r = math.inf if c.status == "FAIL" else (c.measured / c.bound if c.bound > 0 else (0.0 if c.measured == 0 else math.inf))
        if r > ratio:
            best, ratio = c, r
    if best is None:
        return "-", "-"
    return _fmt(best.bound), _fmt(best.measured)


def rows(results: list[Result]) -> list[list[str]]:
    out = []
    for r in results:
        bound, measured = _headline(r)
        n_ok = sum(c.status == "PASS" for c in r.checks)
        out.append([r.claim, _params_line(r.params), bound, measured, _counts_line(r.counts),
                    f"{n_ok}/{len(r.checks)}", r.verdict])
    return out


HEADER = ["claim", "parameters", "bound", "measured", "counts", "checks", "verdict"]


def table(results: list[Result]) -> str:
    body = rows(results)
    w = [max(len(HEADER[i]), *(len(r[i]) for r in body)) if body else len(HEADER[i]) for i in range(len(HEADER))]
    w[1] = min(w[1], 48)
    w[4] = min(w[4], 48)

    def line(cells):
        return "  ".join(str(c)[:w[i]].ljust(w[i]) for i, c in enumerate(cells))

    return "\n".join([line(HEADER), line(["-" * x for x in w])] + [line(r) for r in body])


def markdown(results: list[Result]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows(results)]
    for r in results:
        bad = [c for c in r.checks if c.status != "PASS"]
        if bad or r.error:
            lines.append(f"\n**{r.claim}**: {r.verdict}" + (f" — {r.error}" if r.error else ""))
            lines += [f"- {c.name}: {c.status}, measured {_fmt(c.measured)}, bound {_fmt(c.bound)}" for c in bad]
    return "\n".join(lines) + "\n"


def _jsonable(o):
    if isinstance(o, dict):
        return {str(k): _jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_jsonable(v) for v in o]
    if isinstance(o, np.ndarray):
        return _jsonable(o.tolist())
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating, float)):
        f = float(o)
        return f if math.isfinite(f) else str(f)
    if isinstance(o, (np.bool_,)):
        return bool(o)
    return o


def to_json(results: list[Result], meta: dict) -> str:
    return json.dumps(_jsonable({"meta": meta, "results": [r.to_json() for r in results]}), indent=1)
