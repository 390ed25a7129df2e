"""PyTorch export: forward equals ours in float64 for every claim's default net (random and adversarial inputs);
weights load from safetensors under the ONNX names; a perturbed weight is seen; the README example runs."""
import re
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is the optional extra .[torch] (not installed here)")
pytest.importorskip("safetensors", reason="safetensors is part of the extras .[torch] / .[onnx]")

from constructions.export import to_torch  # noqa: E402
from constructions.safetensors_export import save_safetensors  # noqa: E402
from verify.interop.formats import sample_input  # noqa: E402
from verify.registry import load_all  # noqa: E402

REG = load_all()
TOL = 1e-9  # relative to max(1, max|ours|): float64 on both sides, only the summation order differs
NETTYPES = ("FNN", "SSMLayer", "SSMModel")
# lemma-3.3's default (the margin hypothesis) is a block beyond float64: 33 sawtooth levels amplify rounding by
# ~2^33, so two float64 runtimes that sum in different orders disagree by ~1e-6 (its verdict is on P-bit
# enclosures).  Comparing float64 runtimes is meaningful for its float64-sound special case, τ = 1.
FLOAT64_SOUND = {"lemma-3.3": {"hypothesis": "tau"}}


def _net(cid):
    c = REG[cid]
    o = c.build({**c.defaults(), **FLOAT64_SOUND.get(cid, {})})
    return o.net if hasattr(o, "formula") else o


def _claims_with_nets():
    out = []
    for cid, c in REG.items():
        if c.build is None:
            continue
        if type(_net(cid)).__name__ in NETTYPES:
            out.append(cid)
    return out


def _rel(y, ref):
    return float(np.max(np.abs(y - ref)) / max(1.0, float(np.max(np.abs(ref)))))


def _adversarial(net, c, rng):
    """FNNs: the domain ends, one ulp outside, the midpoint and +-1e6; sequences: large and tiny token values."""
    if type(net).__name__ != "FNN":
        x = sample_input(net, rng, N=64)
        return x if np.issubdtype(x.dtype, np.integer) else np.concatenate([x * 1e3, x * 1e-3])
    lo, hi = (np.broadcast_to(np.asarray(v, float).ravel(), (net.d_in,)) for v in c.domain(c.params)) \
        if c.domain else (-np.ones(net.d_in), np.ones(net.d_in))
    return np.array([lo, hi, (lo + hi) / 2, np.nextafter(lo, -np.inf), np.nextafter(hi, np.inf),
                     1e6 * np.ones(net.d_in), -1e6 * np.ones(net.d_in)])


@pytest.mark.parametrize("cid", _claims_with_nets())
def test_forward_equals_ours(cid, tmp_path):
    net = _net(cid)
    rng = np.random.default_rng(0)
    m = to_torch(net)
    for x in (sample_input(net, rng, N=200), _adversarial(net, REG[cid], rng)):
        y = m(torch.from_numpy(x)).numpy()
        assert y.dtype == np.float64
        assert _rel(y, net(x)) <= TOL
    p = save_safetensors(net, tmp_path / "w")
    assert np.array_equal(to_torch(p)(torch.from_numpy(x)).numpy(), m(torch.from_numpy(x)).numpy())


def test_perturbed_weight_is_seen(tmp_path):
    net = _net("lemma-F.3-mult")
    m = to_torch(net)
    x = sample_input(net, np.random.default_rng(4))
    w = m.w("fnn/A2")
    w.view(-1)[torch.nonzero(w.view(-1))[0, 0]] *= 1 + 1e-6
    assert _rel(m(torch.from_numpy(x)).numpy(), net(x)) > 100 * TOL


def test_readme_example_runs():
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = re.search(r"## PyTorch.*?```python\n(.*?)```", text, re.S)
    assert block, "README has no PyTorch example"
    ns: dict = {}
    exec(compile(block.group(1), "README.md", "exec"), ns)
    assert tuple(ns["y"].shape)[0] == 8 and torch.isfinite(ns["y"]).all()
