"""The foundation claims pass on the real constructions and FAIL on broken ones."""

import numpy as np

from constructions import algebra, rules, ssm
from verify.checks import counts_match
from verify.claims import foundation
from verify.registry import load_all, run_claim


def test_foundation_claims_pass():
    reg = load_all()
    for cid in ("ssm-evaluation-paths", "algebra-counts"):
        r = run_claim(reg[cid], seed=0)
        assert r.verdict == "PASS", [(c.name, c.status, c.measured, c.bound) for c in r.checks if c.status != "PASS"]


def _layer(seed=0):
    rng = np.random.default_rng(seed)
    layer = ssm.SSMLayer(tuple(foundation.random_channels(rng)), 40)
    return layer, rng.normal(size=(2, 100, layer.H))


def test_perturbed_filter_is_caught():
    layer, u = _layer()
    k = layer.filters(100).copy()
    k[3, 7] += 1e-9  # one filter tap, as the FFT path sees it; the scan still uses (A, B, C, D)
    layer._cache[k.shape[1]] = k
    checks = {c.name: c for c in foundation.check_ssm_paths(layer, u)}
    assert checks["scan = fft"].status == "FAIL"


def test_wrong_delay_filter_is_caught():
    layer, u = _layer(1)
    chans = list(layer.channels)
    bad = ssm.delay(4)
    chans[2] = ssm.SSMChannel(bad.A, bad.B, bad.C, bad.D, "delay", 3)  # tag says delay 3, parameters delay 4
    broken = ssm.SSMLayer(tuple(chans), layer.U)
    checks = {c.name: c for c in foundation.check_ssm_paths(broken, u)}
    assert checks["running-sum/delay filter = closed form"].status == "FAIL"
    assert checks["scan = exact"].status == "FAIL"


def test_broken_window_is_caught():
    layer, u = _layer(2)
    short = ssm.SSMLayer(layer.channels, layer.U - 1)
    scan = layer(u, method="scan")
    tol = foundation.path_tolerance(layer, u)
    assert np.max(np.abs(short(u, method="fft") - scan)) > tol  # the same check would FAIL


def test_corrupted_count_rule_is_caught():
    rng = np.random.default_rng(0)
    f = foundation.integer_net(rng, [3, 4, 2])
    g = foundation.integer_net(rng, [2, 5, 3])
    pred = rules.concat(f, g)
    bad = rules.Prediction(pred.widths, pred.S - 1, pred.B)  # one nonzero short
    measured = algebra.concat(f, g).counts().as_dict()
    assert counts_match(measured, pred.counts().as_dict()).status == "PASS"
    assert counts_match(measured, bad.counts().as_dict()).status == "FAIL"
    deeper = rules.Prediction(pred.widths + (1,), pred.S, pred.B)  # one layer too many
    assert counts_match(measured, deeper.counts().as_dict()).status == "FAIL"


def test_wrong_function_is_caught():
    rng = np.random.default_rng(1)
    f = foundation.integer_net(rng, [3, 4, 2])
    x = rng.integers(-3, 4, size=(16, 3)).astype(float)
    net = algebra.identity(2, 3)
    # a net whose last bias is off by one: the exactness check must fail
    lay = net.layers[-1]
    from constructions.affine import Affine
    from constructions.fnn import FNN
    broken = FNN(net.layers[:-1] + (Affine(lay.d_in, lay.d_out, lay.groups, lay.b + np.array([0.0, 1.0])),))
    checks = foundation.check_rule("identity", broken, rules.identity(2, 3), broken(f(x)), f(x))
    assert [c.status for c in checks] == ["FAIL", "FAIL"]  # a nonzero bias adds to S and changes the function
