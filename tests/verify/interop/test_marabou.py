"""Marabou in the loop (optional: pytest -m external; needs maraboupy, onnx)."""
import pytest

pytestmark = pytest.mark.external
pytest.importorskip("maraboupy", reason="Marabou is the optional extra .[external]")
pytest.importorskip("onnx", reason="the ONNX export needs the optional extra .[onnx]")

from constructions.onnx_export import save_onnx  # noqa: E402
from verify.interop import marabou, vnnlib  # noqa: E402
from verify.registry import load_all  # noqa: E402

REG = load_all()


def _run(tmp_path, cid, params, eps=None, piece=None, width=None):
    c = REG[cid]
    p = {**c.params, **params}
    net = c.build(p).net
    onnx_path = save_onnx(net, tmp_path / "net")
    spec = vnnlib.spec_for(cid, p, eps, piece)
    vnnlib.write_properties(spec, net.d_out, tmp_path / "props", width, params=params)
    return marabou.check_claim(net, onnx_path, spec, tmp_path / "props", timeout=60)


def test_clip_unsat(tmp_path):
    r = _run(tmp_path, "lemma-F.2-clip", {"d": 1})
    assert r["verdict"] == "unsat"


def test_square_brackets_the_exact_sup(tmp_path):
    """Our certificate: sup |f_4 - x^2| = 2^-10 exactly.  Marabou: unsat at 17/16 of it, and at 15/16 SAT points
    that re-check in exact arithmetic as real violations."""
    assert _run(tmp_path / "a", "lemma-F.3-square", {"m": 4}, 2.0 ** -10 * 17 / 16)["verdict"] == "unsat"
    r = _run(tmp_path / "b", "lemma-F.3-square", {"m": 4}, 2.0 ** -10 * 15 / 16)
    assert r["verdict"] == "sat" and r["real_claim_violations"] > 0


def test_exp_piece_unsat(tmp_path):
    r = _run(tmp_path, "lemma-F.3-exp", {"eps": 1e-2}, piece=((0.0,), (0.25,)))
    assert r["verdict"] == "unsat"


def test_ratio_piece_on_the_wedge_unsat(tmp_path):
    """F.4 ratio (a 2-D target on the wedge |a| <= C b): the wedge's two linear input constraints go to Marabou."""
    r = _run(tmp_path, "lemma-F.4-ratio", {"eps": 0.1, "C": 1.0, "b_min": 0.5, "b_max": 1.0},
             piece=((0.0, 0.875), (0.125, 1.0)))
    assert r["verdict"] == "unsat" and r["queries"] == 18
