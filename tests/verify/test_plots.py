"""verify.plots on synthetic data: the token heatmap, growth/error plots read from growth-check tables, the
weight heatmap; bad input raises ValueError.  Skipped without matplotlib."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from lemmas import square  # noqa: E402
from verify import plots  # noqa: E402
from verify.checks import growth_check  # noqa: E402
from verify.result import Check, Result  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def _png(p):
    assert p.exists() and p.read_bytes()[:8] == PNG and p.stat().st_size > 2000
    return p


def test_token_heatmap(tmp_path):
    N = 40
    scores = -np.abs(np.arange(N) - 17.0)
    attn = np.exp(3 * scores) / np.exp(3 * scores).sum()
    contrib = attn + 1e-3 * np.random.default_rng(0).random(N)
    _png(plots.plot_token_heatmap(contrib, attn, tmp_path / "one.png", "synthetic: token 17 selected"))
    _png(plots.plot_token_heatmap(np.stack([contrib, contrib[::-1]]), np.stack([attn, attn[::-1]]),
                                  tmp_path / "two.png", "two sequences", tokens=list("abcdefghij") * 4))


@pytest.mark.parametrize("c, a", [(np.ones(5), np.ones(6)), (np.ones((2, 5)), np.ones(5)), (np.ones(0), np.ones(0)),
                                  (np.array([1.0, np.nan]), np.ones(2)), (np.ones((1, 1, 2)), np.ones((1, 1, 2)))])
def test_token_heatmap_bad_input(tmp_path, c, a):
    with pytest.raises(ValueError):
        plots.plot_token_heatmap(c, a, tmp_path / "x.png")


def _growth_result():
    chk = growth_check("growth", lambda e: square.build_square(eps=e), (1e-1, 1e-2, 1e-3, 1e-4, 1e-6),
                       {"L": 1.0, "W": 0.0, "S": 1.0},
                       lambda c, e: float(np.max(np.abs(c.net(np.linspace(0, 1, 257)[:, None])[:, 0]
                                                        - np.linspace(0, 1, 257) ** 2))),
                       lambda c: 1.0, 1e-13)
    return Result("lemma-F.3-square", {"m": 4}, [Check("other", True), chk])


def test_growth_and_error_plots_from_growth_tables(tmp_path):
    res = _growth_result()
    (name, detail), = plots.growth_tables(res)
    ser = plots._series(detail["table"])
    assert set(ser) == {"L", "W", "S", "log B"}
    assert plots._claimed(detail, ser) == {"L": 1.0, "W": 0.0, "S": 1.0}
    files = plots.plot_result(res, tmp_path)
    assert sorted(f.name for f in files) == ["lemma-F.3-square-m4-error.png", "lemma-F.3-square-m4-growth.png"]
    for f in files:
        _png(f)


def test_growth_plot_n_sweep_and_scalar_claim(tmp_path):
    rows = [{"N": n, "terms": int(3 * np.log(n) ** 2), "K": int(np.log(n))} for n in (16, 64, 256, 1024)]
    detail = {"table": rows, "claimed_exponent": 2, "fitted_exponent_terms_vs_log(N)": 1.9}
    assert plots._claimed(detail, {"terms": 0, "K": 0}) == {"terms": 2.0}
    _png(plots.plot_growth(rows, detail, tmp_path / "n.png", "N sweep"))
    rows = [{"delta": m, "L": int(4 / m), "S": int(30 / m ** 2)} for m in (0.5, 0.25, 0.1)]
    _png(plots.plot_growth(rows, {"claimed_exponent": {"L": 1, "S": 2}}, tmp_path / "m.png", "margin sweep"))
    res = Result("x", {}, [Check("g", True, detail=detail)])
    assert [f.name for f in plots.plot_result(res, tmp_path)] == ["x-growth.png"]  # no errors: no error plot


def test_weight_heatmap(tmp_path):
    _png(plots.plot_weight_heatmap(square.build_square(m=3), tmp_path / "w.png", "square m=3"))
    with pytest.raises(ValueError):
        plots.plot_weight_heatmap(object(), tmp_path / "x.png")
