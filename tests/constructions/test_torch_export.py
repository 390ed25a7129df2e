"""PyTorch export: forward equals ours in float64; weights load from safetensors under the ONNX names."""
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is the optional extra .[torch] (not installed here)")
pytest.importorskip("safetensors", reason="safetensors is part of the extras .[torch] / .[onnx]")

from constructions.export import to_torch  # noqa: E402
from constructions.safetensors_export import save_safetensors  # noqa: E402
from verify.interop.formats import sample_input  # noqa: E402
from verify.registry import load_all  # noqa: E402

REG = load_all()
# lemma-3.3's default (the margin hypothesis) is a block beyond float64: 33 sawtooth levels amplify rounding by
# ~2^33, so two float64 runtimes that sum in different orders disagree by ~1e-6 (its verdict is on P-bit
# enclosures).  Comparing float64 runtimes is meaningful for its float64-sound special case, τ = 1.
FLOAT64_SOUND = {"lemma-3.3": {"hypothesis": "tau"}}


@pytest.mark.parametrize("cid", ["lemma-F.3-mult", "ssm-evaluation-paths", "lemma-3.3"])
def test_forward_equals_ours(cid, tmp_path):
    c = REG[cid]
    o = c.build({**c.params, **FLOAT64_SOUND.get(cid, {})})
    net = o.net if hasattr(o, "formula") else o
    x = sample_input(net, np.random.default_rng(0), N=200)
    m = to_torch(net)
    y = m(torch.from_numpy(x)).numpy()
    assert np.max(np.abs(y - net(x))) <= 1e-9 * max(1.0, np.max(np.abs(net(x))))
    p = save_safetensors(net, tmp_path / "w")
    assert np.array_equal(to_torch(p)(torch.from_numpy(x)).numpy(), y)
