"""Tables and machine-readable reports of verdicts, and the architecture printout of ``verify inspect``.

JSON report schema (``to_json``; ``schema`` = ``verify-report/1``)::

    {"schema": "verify-report/1",
     "meta": {"seed", "full", "jobs", "scheduler", "wall_seconds", "python", "numpy", "library", "argv",
              "verdicts": {verdict: n}},
     "results": [{"claim", "params", "verdict", "counts", "formula", "growth", "precision", "seconds", "error",
                  "checks": [{"name", "status", "passed", "measured", "bound", "detail", "counterexample",
                              "violated"}],
                  "counterexample_file": path | null}]}

Verdict strings other than the four of ``verify.result`` (e.g. a later CERTIFIED) are reported as they are;
only FAIL counts as a failure.
"""

from __future__ import annotations

import json
import math

import numpy as np

from .result import Result


def fmt_value(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return str(v)
        return f"{v:.3g}"
    return str(v)


def _counts_line(counts: dict) -> str:
    keys = [k for k in ("M", "U", "D", "L", "W", "S", "B", "terms", "channels") if k in counts]
    return " ".join(f"{k}={fmt_value(counts[k])}" for k in keys) or "-"


def params_line(params: dict) -> str:
    return ", ".join(f"{k}={fmt_value(v)}" for k, v in params.items())


def headline(checks) -> tuple:
    """(measured, bound) of the check whose measured/bound ratio is largest: the tightest (or failing) one, or
    (None, None).  ``checks``: (status, measured, bound) triples, from Check objects or a JSON report alike."""
    best, ratio = (None, None), -1.0
    for status, m, b in checks:
        if m is None or b is None:
            continue
        r = math.inf if status == "FAIL" else (m / b if b > 0 else (0.0 if m == 0 else math.inf))
        if r > ratio:
            best, ratio = (m, b), r
    return best


def _headline(res: Result) -> tuple[str, str]:
    m, b = headline((c.status, c.measured, c.bound) for c in res.checks)
    return ("-", "-") if m is None else (fmt_value(b), fmt_value(m))


def rows(results: list[Result]) -> list[list[str]]:
    out = []
    for r in results:
        bound, measured = _headline(r)
        n_ok = sum(c.status == "PASS" for c in r.checks)
        out.append([r.claim, params_line(r.params), bound, measured, _counts_line(r.counts),
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


def float64_coverage_lines(results: list[Result]) -> list[str]:
    """Per claim with a float64 rounding analysis (``verify.claims.common.float64_check``): whether its certificate
    covers the float64 evaluation over the whole domain (certified bound + E_fl <= ε) or exact arithmetic only."""
    out = []
    for r in results:
        f64 = [c for c in r.checks if "float64_covered" in c.detail]
        if not f64:
            continue
        ok = all(c.detail["float64_covered"] for c in f64)
        why = "; ".join(c.detail["float64_reason"] for c in f64)
        E = max(c.detail["E_fl"] for c in f64)
        out.append(f"- {r.claim}: {'float64 evaluation covered' if ok else 'exact arithmetic only'} "
                   f"(E_fl = {fmt_value(E)}; {why})")
    return out


def markdown(results: list[Result]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows(results)]
    cov = float64_coverage_lines(results)
    if cov:
        lines += ["", "Float64 evaluation (docs/certification.md):"] + cov
    for r in results:
        bad = [c for c in r.checks if c.status != "PASS"]
        if bad or r.error:
            lines.append(f"\n**{r.claim}**: {r.verdict}" + (f" — {r.error}" if r.error else ""))
            lines += [f"- {c.name}: {c.status}, measured {fmt_value(c.measured)}, bound {fmt_value(c.bound)}" for c in bad]
    return "\n".join(lines) + "\n"


def jsonable(o):
    if isinstance(o, dict):
        return {str(k): jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [jsonable(v) for v in o]
    if isinstance(o, np.ndarray):
        return jsonable(o.tolist())
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating, float)):
        f = float(o)
        return f if math.isfinite(f) else str(f)
    if isinstance(o, (np.bool_,)):
        return bool(o)
    return o


SCHEMA = "verify-report/1"


def verdict_counts(results: list[Result]) -> dict:
    out: dict[str, int] = {}
    for r in results:
        out[r.verdict] = out.get(r.verdict, 0) + 1
    return out


def summary(results: list[Result]) -> str:
    """'12 runs: 11 PASS, 1 FAIL'."""
    vc = verdict_counts(results)
    return f"{len(results)} runs: " + (", ".join(f"{n} {v}" for v, n in vc.items()) or "none")


def to_json(results: list[Result], meta: dict, files: list | None = None, mutants: dict | None = None) -> str:
    """The report as JSON (schema in the module docstring); ``files[i]``: counterexample file of results[i];
    ``mutants``: the mutation self-test's report (``verify.selftest.run_mutants``), under the key "mutants"."""
    out = []
    for i, r in enumerate(results):
        d = r.to_json()
        d["counterexample_file"] = None if files is None or files[i] is None else str(files[i])
        out.append(d)
    meta = {**meta, "verdicts": verdict_counts(results)}
    doc = {"schema": SCHEMA, "meta": meta, "results": out}
    if mutants is not None:
        doc["mutants"] = mutants
    return json.dumps(jsonable(doc), indent=1)


# ------------------------------------------------------------------------------ architecture (inspect)
def _num(v) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def describe_fnn(f, indent: str = "") -> list[str]:
    """One line per affine map: kind, shape, nonzeros of A and b, max |entry|, block structure."""
    c = f.counts()
    lines = [f"{indent}FNN  d_in={f.d_in}  d_out={f.d_out}  L={c.L}  W={c.W}  S={c.S}  B={_num(c.B)}  "
             f"(dense entries {c.dense})",
             f"{indent}  {'map':9s} {'kind':12s} {'shape':>11s} {'nnz(A)':>7s} {'nnz(b)':>7s} {'max|entry|':>11s}  blocks"]
    rows = []
    for i, lay in enumerate(f.layers):
        kind = "affine+ReLU" if i < f.depth - 1 else "affine"
        blocks = ", ".join(f"{g.W.shape[0]}x({g.W.shape[1]}x{g.W.shape[2]})" for g in lay.groups) or "-"
        rows.append(f"{kind:12s} {f'{lay.d_out}x{lay.d_in}':>11s} {lay.nnz_A:7d} {lay.nnz_b:7d} "
                    f"{lay.max_abs:11.4g}  {blocks}")
    i = 0
    while i < len(rows):  # consecutive maps with identical rows are printed once: "A_5-A_16"
        j = i
        while j + 1 < len(rows) and rows[j + 1] == rows[i]:
            j += 1
        name = f"A_{i + 1}" if j == i else f"A_{i + 1}-{j + 1}"
        lines.append(f"{indent}  {name:9s} {rows[i]}" + (f"  (x{j - i + 1})" if j > i else ""))
        i = j + 1
    return lines


def describe_ssm(g, indent: str = "") -> list[str]:
    """The layer's window, maps, nonzeros, max |entry|, filter families and state sizes."""
    c = g.counts()
    fam = ", ".join(f"{k} x{n}" for k, n in c["families"].items())
    lines = [f"{indent}SSM layer  d_in={c['d_in']}  d_out={c['d_out']}  channels={c['channels']}  U={c['U']}  "
             f"nnz={c['nnz']}  max|entry|={c['B']:.4g}",
             f"{indent}  filter families: {fam}",
             f"{indent}  state sizes: total {c['state_total']}, max {c['state_max']}; per channel "
             + _short([ch.m for ch in g.channels])]
    delays = [ch.ell for ch in g.channels if ch.family == "delay"]
    if delays:
        lines.append(f"{indent}  delays ℓ: " + _short(delays))
    for name, W in (("W_in", g.W_in), ("W_out", g.W_out)):
        if W is not None:
            lines.append(f"{indent}  {name}: {W.shape[0]}x{W.shape[1]}, nnz {int(np.count_nonzero(W))}, "
                         f"max|entry| {float(np.max(np.abs(W))):.4g}")
    return lines


def _short(xs: list, n: int = 16) -> str:
    s = ", ".join(str(x) for x in xs[:n])
    return f"[{s}{', ...' if len(xs) > n else ''}] ({len(xs)})"


def describe(obj) -> str:
    """Architecture printout of emitted weights: a lemma Construction, FNN, SSMLayer, SSMModel, or any object
    with ``counts()`` (described by its counts only)."""
    from constructions.fnn import FNN
    from constructions.model import SSMModel
    from constructions.ssm import SSMLayer

    lines: list[str] = []
    net = obj
    if hasattr(obj, "net") and hasattr(obj, "formula"):  # lemmas.base.Construction
        net = obj.net
        lines.append("built for: " + params_line({k: v for k, v in obj.params.items() if v is not None}))
    if isinstance(net, FNN):
        lines += describe_fnn(net)
    elif isinstance(net, SSMLayer):
        lines += describe_ssm(net)
    elif isinstance(net, SSMModel):
        c = net.counts()
        lines.append(f"SSM model  M={c['M']}  U={c['U']}  D={c['D']}  L={c['L']}  W={c['W']}  S={c['S']}  "
                     f"B={_num(c['B'])}  total nonzeros={c['total_nonzeros']}")
        if net.embedding is not None:
            E = net.embedding.E
            lines.append(f"  embedding ({net.embedding.kind}): {E.shape[0]}x{E.shape[1]}, nnz {int(np.count_nonzero(E))}, "
                         f"max|entry| {float(np.max(np.abs(E))):.4g}")
        if net.pre is not None:
            lines.append("  first FNN (token-wise, before the first SSM layer):")
            lines += describe_fnn(net.pre, "    ")
        for i, (g, f) in enumerate(net.blocks, 1):
            lines.append(f"  block {i}:")
            lines += describe_ssm(g, "    ") + describe_fnn(f, "    ")
        if net.decoding is not None:
            W = net.decoding.W_dec
            lines.append(f"  decoding: {W.shape[0]}x{W.shape[1]}, max|entry| {float(np.max(np.abs(W))):.4g}")
    elif hasattr(net, "counts"):
        lines.append(f"{type(net).__name__} (not a network of this library's classes): counts {net.counts()}")
    else:
        lines.append(f"{type(net).__name__}: no architecture to describe")
    if net is not obj:
        lines.append("formula: " + ", ".join(f"{k}={_num(v)}" for k, v in obj.formula.items()))
    return "\n".join(lines)
