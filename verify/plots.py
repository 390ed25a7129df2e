"""Plots of verdicts (``python -m verify --plots DIR``) and of emitted weights (``verify inspect --heatmap``).

Needs matplotlib (``pip install -e '.[plot]'``); importing this module works without it, and every drawing
function raises ``PlotUnavailable`` (a RuntimeError with one clear line) when it is missing.

What is drawn, and from where:
  * ``plot_result``: for every growth table in a result (a check whose ``detail`` holds ``table``, a list of
    rows keyed by the swept parameter ``eps`` or ``N``, as ``verify.checks.growth_check`` and the kernel
    claims store them; also ``V`` or ``delta``, see ``X_AXES``):
      - ``<claim>-error.png``: the measured error against ε on log-log axes with the bound error = ε drawn
        (rows with an ``error`` entry); rows the check left undecided (below the float64 floor) are marked;
      - ``<claim>-growth.png``: L, W, S, log B (or terms, K, ...) against log(1/ε) (log N, log|V|, 1/δ) on log-log
        axes, so that a count growing like log^k(1/ε) is a line of slope k; the claimed growth
        c · log^k(1/ε), with k from the check's ``claimed_exponent`` and c fixed by the row at the
        smallest ε (the end the claim is about), is drawn dashed next to each series.
  * ``plot_weight_heatmap``: every weight matrix of an FNN (signed, symmetric-log colour scale), or the
    filters k_s of an SSM layer, one panel per map.
  * ``plot_token_heatmap(contrib, attn, path, title)``: for one sequence (or a few, one row each), how much
    each input token contributes to the last output, next to softmax attention's weights on the same tokens.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

COUNT_KEYS = ("L", "W", "S", "log B", "terms", "K", "D", "U", "M", "state")
# swept parameter -> (axis label, abscissa): counts that grow like (log 1/ε)^k, (log N)^k, (log |V|)^k or (1/δ)^k
# are straight lines of slope k on the log-log growth plot
X_AXES = {"eps": ("log(1/ε)", lambda v: math.log(1.0 / v)), "N": ("log N", math.log), "V": ("log |V|", math.log),
          "delta": ("1/δ", lambda v: 1.0 / v)}
X_KEYS = tuple(X_AXES)


class PlotUnavailable(RuntimeError):
    pass


def _plt():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise PlotUnavailable("matplotlib is not installed; install it with pip install -e '.[plot]'") from None
    return plt


def available() -> bool:
    try:
        _plt()
        return True
    except PlotUnavailable:
        return False


# ------------------------------------------------------------------------------------------ growth tables
def growth_tables(result) -> list[tuple[str, dict]]:
    """(check name, check detail) of every check of ``result`` that carries a growth table (rows with a
    swept ``eps`` or ``N``)."""
    out = []
    for c in result.checks:
        t = c.detail.get("table") if isinstance(c.detail, dict) else None
        if isinstance(t, list) and t and isinstance(t[0], dict) and any(k in t[0] for k in X_KEYS):
            out.append((c.name, c.detail))
    return out


def _xkey(rows: list[dict]) -> str:
    return next(k for k in X_KEYS if k in rows[0])


def _xval(key: str, v: float) -> float:
    """The abscissa of the growth plot (``X_AXES``): log(1/ε) for ε, log N for N, ..."""
    return X_AXES[key][1](v)


def _series(rows: list[dict]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """count name -> (swept values, counts) over the rows that have the count; log B computed from B."""
    key = _xkey(rows)
    out = {}
    for k in COUNT_KEYS:
        src = "B" if k == "log B" else k
        pts = [(r[key], float(r[src])) for r in rows if isinstance(r.get(src), (int, float)) and not isinstance(r.get(src), bool)]
        if k == "log B":
            pts = [(x, math.log(b)) for x, b in pts if b > 0]
        pts = [(x, y) for x, y in pts if y > 0 and x > 0 and _xval(key, x) > 0]
        if len(pts) >= 2:
            out[k] = (np.array([p[0] for p in pts], float), np.array([p[1] for p in pts], float))
    return out


def _claimed(detail: dict, names) -> dict[str, float]:
    """count name -> claimed exponent, from ``claimed_exponent`` (a dict, or one number for the count the
    check fitted: the ``<count>`` of a ``fitted_exponent_<count>_vs_...`` key, else every count)."""
    ce = detail.get("claimed_exponent")
    if isinstance(ce, dict):
        return {k: float(v) for k, v in ce.items() if isinstance(v, (int, float))}
    if isinstance(ce, (int, float)):
        fitted = [k[len("fitted_exponent_"):].split("_vs_")[0] for k in detail if k.startswith("fitted_exponent_")
                  and "_vs_" in k]
        targets = [k for k in names if k in fitted] or list(names)
        return {k: float(ce) for k in targets}
    return {}


def _fitted(detail: dict, k: str):
    """The fitted exponent of count k stored by the check, if any."""
    for key, v in detail.items():
        if key.startswith("fitted_exponent"):
            if isinstance(v, dict) and isinstance(v.get(k), (int, float)) and math.isfinite(v[k]):
                return float(v[k])
            if isinstance(v, (int, float)) and key.startswith(f"fitted_exponent_{k}_vs_"):
                return float(v)
    return None


def _wrap(title: str, width: int = 72) -> str:
    import textwrap
    return "\n".join(textwrap.wrap(title, width)) or title


def plot_growth(rows: list[dict], detail: dict, path, title: str) -> Path:
    plt = _plt()
    key = _xkey(rows)
    ser = _series(rows)
    if not ser:
        raise ValueError(f"no counts to plot in the growth table of {title!r}")
    claimed = _claimed(detail, ser)
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (k, (xs, ys)) in enumerate(ser.items()):
        col = colors[i % len(colors)]
        X = np.array([_xval(key, x) for x in xs])
        fit = _fitted(detail, k)
        ax.plot(X, ys, "o-", color=col, label=k + ("" if fit is None else f" (fitted exponent {fit:.2f})"))
        if k in claimed:
            e = claimed[k]
            j = int(np.argmax(X))  # anchor the claimed curve at the smallest ε (largest N)
            xx = np.linspace(X.min(), X.max(), 50)
            ax.plot(xx, ys[j] * (xx / X[j]) ** e, "--", color=col, alpha=0.7,
                    label=f"claimed {k} ∝ ({X_AXES[key][0]})^{e:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(X_AXES[key][0])
    ax.set_ylabel("count")
    ax.set_title(_wrap(title), fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2, loc="best", framealpha=0.7)
    fig.tight_layout()
    return _save(fig, plt, path)


def plot_error(rows: list[dict], path, title: str) -> Path:
    """Measured error against ε, log-log, with the bound error = ε; undecided rows as marks on the axis."""
    plt = _plt()
    pts = [(r["eps"], r["error"]) for r in rows if isinstance(r.get("error"), (int, float)) and "eps" in r]
    if not pts:
        raise ValueError(f"no errors to plot in the growth table of {title!r}")
    eps = np.array([p[0] for p in pts], float)
    err = np.array([p[1] for p in pts], float)
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    allx = np.array([r["eps"] for r in rows], float)
    xx = np.geomspace(allx.min(), allx.max(), 50)
    ax.plot(xx, xx, "k--", label="bound: error = ε")
    pos = err > 0
    ax.plot(eps[pos], err[pos], "o-", color="C0", label="measured max error")
    if (~pos).any():
        ax.plot(eps[~pos], np.full((~pos).sum(), xx.min() * 1e-3), "v", color="C0", label="measured error 0")
    bad = [r for r in rows if r.get("status") == "FAIL" and "error" in r]
    if bad:
        ax.plot([r["eps"] for r in bad], [max(r["error"], 1e-300) for r in bad], "x", color="red", ms=10,
                label="FAIL")
    und = [r["eps"] for r in rows if r.get("status") == "INCONCLUSIVE"]
    for i, e in enumerate(und):
        ax.axvline(e, color="0.6", ls=":", label="undecided (below float64 floor)" if i == 0 else None)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.invert_xaxis()
    ax.set_xlabel("ε")
    ax.set_ylabel("max error")
    ax.set_title(_wrap(title), fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return _save(fig, plt, path)


def plot_result(result, directory) -> list[Path]:
    """Every plot of one result's growth tables into ``directory``; returns the files written."""
    d = Path(directory)
    out = []
    tag = result.claim + _param_tag(result.params)
    for i, (name, detail) in enumerate(growth_tables(result)):
        rows = detail["table"]
        suffix = "" if i == 0 else f"-{i + 1}"
        title = f"{result.claim}: {name}"
        if any("error" in r for r in rows) and "eps" in rows[0]:
            out.append(plot_error(rows, d / f"{tag}-error{suffix}.png", title))
        if _series(rows):
            out.append(plot_growth(rows, detail, d / f"{tag}-growth{suffix}.png", title))
    heat = (result.counts or {}).get("token_heatmap")
    if heat:
        out.append(plot_token_heatmap(heat["contrib"], heat["attn"], d / f"{tag}-tokens.png",
                                      f"{result.claim} ({heat['route']}): each token's weight in the last output "
                                      f"(top) vs softmax attention, λ = {heat['lam']:.3g} (bottom); i* = {heat['i_star']}"))
    return out


def _param_tag(params: dict) -> str:
    s = "_".join(f"{k}{v:g}" if isinstance(v, float) else f"{k}{v}" for k, v in params.items()
                 if isinstance(v, (int, float)) and k != "samples")
    return ("-" + "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in s)) if s else ""


# ------------------------------------------------------------------------------------------- weights
def plot_weight_heatmap(obj, path, title: str = "", max_panels: int = 48) -> Path:
    """Draw the weight matrices of an FNN (or a lemma Construction holding one), or the filters of an SSM
    layer, or both for each block of an SSM model; one panel per map (at most ``max_panels``)."""
    from constructions.fnn import FNN
    from constructions.model import SSMModel
    from constructions.ssm import SSMLayer

    net = obj.net if hasattr(obj, "net") and hasattr(obj, "formula") else obj
    panels: list[tuple[str, np.ndarray]] = []

    def add_fnn(f, pre=""):
        for i, lay in enumerate(f.layers):
            if lay.d_out * lay.d_in > 1 << 20:
                raise ValueError(f"map {pre}A_{i + 1} is {lay.d_out}x{lay.d_in}: too large to draw")
            panels.append((f"{pre}A_{i + 1} ({lay.d_out}x{lay.d_in})", np.column_stack([lay.to_dense(), lay.b])))

    def add_ssm(g, pre=""):
        n = min(g.U, 64)
        panels.append((f"{pre}filters k_s, s < {n} ({g.H} channels)", g.filters(n)))

    if isinstance(net, FNN):
        add_fnn(net)
    elif isinstance(net, SSMLayer):
        add_ssm(net)
    elif isinstance(net, SSMModel):
        if net.pre is not None:
            add_fnn(net.pre, "first ")
        for i, (g, f) in enumerate(net.blocks, 1):
            add_ssm(g, f"block {i} ")
            add_fnn(f, f"block {i} ")
    else:
        raise ValueError(f"{type(net).__name__} has no weight matrices to draw")
    plt = _plt()
    from matplotlib.colors import SymLogNorm

    total = len(panels)
    panels = panels[:max_panels]
    vmax = max(float(np.max(np.abs(a))) for _, a in panels) or 1.0
    nz = [np.abs(a[a != 0]) for _, a in panels]
    vmin = min((float(x.min()) for x in nz if x.size), default=1.0)
    norm = SymLogNorm(linthresh=max(vmin, vmax * 1e-6), vmin=-vmax, vmax=vmax, base=10)
    ncol = min(8, len(panels))
    nrow = math.ceil(len(panels) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(2.1 * ncol + 1, 2.3 * nrow + 0.8), squeeze=False,
                             gridspec_kw={"hspace": 0.55})
    im = None
    for ax, (name, a) in zip(axes.flat, panels):
        im = ax.imshow(np.ma.masked_equal(a, 0.0), cmap="RdBu_r", norm=norm, aspect="auto", interpolation="nearest")
        ax.set_title(name, fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_facecolor("0.93")
        if "filters" in name:
            ax.set_xlabel("s", fontsize=7)
            ax.set_ylabel("channel", fontsize=7)
        else:
            ax.set_xlabel("input (last column: bias)", fontsize=6)
            ax.set_ylabel("output", fontsize=6)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    lt = norm.linthresh
    dec = [10.0 ** k for k in range(math.ceil(math.log10(lt)), math.floor(math.log10(vmax)) + 1)]
    dec = dec[::max(1, math.ceil(len(dec) / 3))]
    ticks = sorted({0.0, vmax, -vmax, *dec, *(-x for x in dec)})
    ticks = [t for t in ticks if t == 0 or abs(t) >= 10 * lt or abs(t) == vmax]
    cb = fig.colorbar(im, ax=axes, shrink=0.8, fraction=0.03, ticks=ticks)
    cb.ax.set_yticklabels([f"{t:.2g}" for t in ticks], fontsize=7)
    cb.set_label("weight (symmetric log scale; grey = 0)", fontsize=7)
    more = f" (first {len(panels)} of {total} maps)" if total > len(panels) else ""
    fig.suptitle((title or type(net).__name__) + more, fontsize=9)
    return _save(fig, plt, path)


# ------------------------------------------------------------------------------------------- tokens
def plot_token_heatmap(contrib, attn, path, title: str = "", tokens=None) -> Path:
    """Two aligned heatmaps over token positions: ``contrib`` (how much each input token contributes to the
    last output, e.g. |∂ out_N / ∂ x_i| or the output change when token i is removed) above ``attn``
    (softmax attention's weights of the last query on the same tokens).

    contrib, attn: arrays of shape (N,) for one sequence or (R, N) for R sequences (one row each), finite.
    ``tokens``: optional N labels for the x axis (shown when N <= 64).  Each panel has its own colour scale
    from 0 to its largest |value|.
    """
    c = np.asarray(contrib, dtype=np.float64)
    a = np.asarray(attn, dtype=np.float64)
    if c.ndim == 1:
        c = c[None, :]
    if a.ndim == 1:
        a = a[None, :]
    if c.ndim != 2 or a.ndim != 2 or c.shape != a.shape or c.size == 0:
        raise ValueError(f"contrib and attn must have the same shape (N,) or (R, N); got {np.shape(contrib)} "
                         f"and {np.shape(attn)}")
    if not (np.all(np.isfinite(c)) and np.all(np.isfinite(a))):
        raise ValueError("contrib and attn must be finite")
    R, N = c.shape
    if tokens is not None and len(tokens) != N:
        raise ValueError(f"tokens has {len(tokens)} labels for {N} positions")
    plt = _plt()
    fig, axes = plt.subplots(2, 1, figsize=(min(16.0, 3 + 0.18 * N), 1.6 + 0.9 * R), sharex=True, squeeze=True)
    for ax, m, lab, cmap in ((axes[0], np.abs(c), "contribution to last output", "viridis"),
                             (axes[1], a, "softmax attention weight", "magma")):
        vmax = float(np.max(np.abs(m))) or 1.0
        im = ax.imshow(m, aspect="auto", cmap=cmap, vmin=0.0 if m.min() >= 0 else -vmax, vmax=vmax,
                       interpolation="nearest", extent=(-0.5, N - 0.5, R - 0.5, -0.5))
        ax.set_ylabel(lab, fontsize=7, rotation=0, ha="right", va="center")
        ax.set_yticks(range(R) if R > 1 else [])
        fig.colorbar(im, ax=ax, pad=0.01)
    if tokens is not None and N <= 64:
        axes[1].set_xticks(range(N))
        axes[1].set_xticklabels([str(t) for t in tokens], fontsize=7, rotation=90 if N > 24 else 0)
    axes[1].set_xlabel("token position")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, plt, path)


def _save(fig, plt, path) -> Path:
    p = Path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(p, dpi=110)
    except OSError as e:
        raise OSError(f"cannot write plot {p}: {e.strerror or e}") from None
    finally:
        plt.close(fig)
    return p
