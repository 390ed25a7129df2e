"""Claims about the network algebra itself (docs/counting.md, docs/ssm.md).

``ssm-evaluation-paths``: for SSM layers of every filter family, random windows and lengths, the recurrent
scan, the FFT convolution and the exact O(N) paths agree within a stated round-off bound, and each
materialised filter equals its family's closed form.

``algebra-counts``: on random nets with small integer weights and integer inputs (so that every float64
operation is exact), identity, composition (merged and concatenated), depth padding, parallel stacking and
sums compute exactly the composed function (difference 0), and the (L, W, S, B) read from the emitted
matrices equal the counting rules of ``constructions.rules``.
"""

from __future__ import annotations

import math

import numpy as np

from constructions import algebra, rules, ssm
from constructions.affine import Affine
from constructions.fnn import FNN
from constructions.validate import EPS64

from ..checks import agree, counts_match
from ..registry import Claim, register
from ..result import Check, Result


# ---------------------------------------------------------------------------------------------- SSM paths
def random_channels(rng: np.random.Generator, n_general: int = 2) -> list[ssm.SSMChannel]:
    """One of each family plus ``n_general`` random stable (spectral radius <= 0.95) dense SSMs."""
    chans = [ssm.running_sum(), ssm.delay(0), ssm.delay(int(rng.integers(1, 6))),
             ssm.cosine(rng.uniform(-1, 1, 2), rng.uniform(0, np.pi, 2), rng.uniform(-np.pi, np.pi, 2),
                        rng.uniform(0.9, 1.0, 2))]
    for _ in range(n_general):
        m = int(rng.integers(1, 5))
        A = rng.normal(size=(m, m))
        A *= 0.95 / max(1e-12, float(np.max(np.abs(np.linalg.eigvals(A)))))
        chans.append(ssm.SSMChannel(A, rng.normal(size=m), rng.normal(size=m), float(rng.normal())))
    return chans


def family_filter(ch: ssm.SSMChannel, length: int) -> np.ndarray | None:
    """The closed form of a tagged family's filter, computed without the state space parameters' powers."""
    s = np.arange(length)
    if ch.family == "running_sum":
        return np.ones(length)
    if ch.family == "delay":
        return (s == ch.ell).astype(float)
    if ch.family == "cosine" and ch.info:
        beta, theta, phi, rho = (np.asarray(a)[:, None] for a in ch.info)
        return np.sum(beta * rho ** s * np.cos(theta * s + phi), axis=0)
    return None


def path_tolerance(layer: ssm.SSMLayer, u: np.ndarray) -> float:
    """Round-off allowed between scan and FFT outputs of one layer on input u.

    FFT convolution (three length-n transforms): |error| <= 8 eps log2(n) ||k||_1 ||u||_2 per channel
    (Higham 2002, Thm 24.2, with a constant covering the three transforms and the pointwise product);
    the scan accumulates at most (N m + 2) eps Σ_s |k_s| max|u| (Appendix B's subtracted recurrence included).
    """
    N = u.shape[-2]
    k = layer.filters(N)
    n = ssm.next_fast_len(N + k.shape[1] - 1)
    k1 = np.sum(np.abs(k), axis=1)  # (H,)
    u2 = np.sqrt(np.sum(u.reshape(-1, N, layer.H) ** 2, axis=1)).max(axis=0)
    umax = np.abs(u).reshape(-1, layer.H).max(axis=0)
    m = np.array([max(c.m, 1) for c in layer.channels])
    fft = 8 * EPS64 * math.log2(n) * k1 * u2
    scan = (N * m + 2) * EPS64 * k1 * umax
    return float(np.max(fft + scan))


def check_ssm_paths(layer: ssm.SSMLayer, u: np.ndarray) -> list[Check]:
    tol = path_tolerance(layer, u)
    scan = layer(u, method="scan")
    out = [agree(layer(u, method="fft"), scan, tol, "scan = fft", f"N={u.shape[-2]}, U={layer.U}")]
    ex = [i for i, c in enumerate(layer.channels) if c.family in ("running_sum", "delay")]
    if ex:
        sub = ssm.SSMLayer(tuple(layer.channels[i] for i in ex), layer.U)
        out.append(agree(sub(u[..., ex], method="exact"), scan[..., ex], tol, "scan = exact",
                         "running-sum and delay channels"))
    N = u.shape[-2]
    k = layer.filters(N)
    exact_err, cos_err, cos_tol = 0.0, 0.0, 0.0
    for h, ch in enumerate(layer.channels):
        ref = family_filter(ch, k.shape[1])
        if ref is None:
            continue
        e = float(np.max(np.abs(k[h] - ref)))
        if ch.family == "cosine":
            # powers of a rotation by repeated squaring: error grows at most linearly in s
            cos_err = max(cos_err, e)
            cos_tol = max(cos_tol, 16 * EPS64 * k.shape[1] * float(np.sum(np.abs(ch.info[0]))))
        else:
            exact_err = max(exact_err, e)
    out.append(Check("running-sum/delay filter = closed form", exact_err == 0.0, exact_err, 0.0))
    if cos_tol:
        out.append(Check("cosine filter = Σ β ρ^s cos(θ s + φ)", cos_err <= cos_tol, cos_err, cos_tol))
    return out


def run_ssm(params: dict, rng: np.random.Generator) -> Result:
    N, trials = int(params["N"]), int(params["trials"])
    checks: list[Check] = []
    for t in range(trials):
        chans = random_channels(rng)
        U = int([1, rng.integers(2, max(3, N)), N, 2 * N][t % 4])
        layer = ssm.SSMLayer(tuple(chans), U)
        u = rng.normal(size=(2, N, layer.H))
        for c in check_ssm_paths(layer, u):
            c.name = f"{c.name} (trial {t}, U={U})"
            checks.append(c)
    counts = {"channels": len(chans), "state_sizes": [c.m for c in chans]}
    return Result("ssm-evaluation-paths", params, checks, counts=counts, formula={},
                  precision=("float64 evaluation of the three paths (scan, FFT, exact O(N)), compared within a "
                             "stated round-off bound; the closed forms in float64"))


register(Claim(
    id="ssm-evaluation-paths",
    paper_ref="Section 2 (ii), Appendices A and B",
    statement=("For any channels (A, B, C, D), window U >= 1 and length N, the recurrent scan (with Appendix B's "
               "subtracted recurrence for U < N), the FFT convolution with the materialised filter "
               "k_0 = D, k_s = C A^(s-1) B (s < min(U, N)) and, for running-sum and delay channels, the exact O(N) "
               "paths agree within 8 eps log2(n) ||k||_1 ||u||_2 + (N m + 2) eps ||k||_1 max|u|; running-sum and "
               "delay filters equal their closed forms exactly."),
    params={"N": 256},
    switches={"trials": 4},
    sweep=({"N": 1024, "trials": 8}, {"N": 4096, "trials": 4}),
    run=run_ssm,
    build=lambda p: ssm.SSMLayer(tuple(random_channels(np.random.default_rng(0))), int(p["N"])),
    growth="FFT path O(N log N) time, scan O(N m)",
    doc="docs/ssm.md",
    param_types={"N": int, "trials": int},
))


# ---------------------------------------------------------------------------------------------- algebra
def integer_net(rng: np.random.Generator, widths: list[int], lo: int = -2, hi: int = 2) -> FNN:
    """A net with integer weights in [lo, hi] (about a third of them zero) and integer biases."""
    layers = []
    for i in range(1, len(widths)):
        A = rng.integers(lo, hi + 1, size=(widths[i], widths[i - 1])).astype(float)
        A[rng.random(A.shape) < 0.3] = 0.0
        layers.append(Affine.dense(A, rng.integers(lo, hi + 1, size=widths[i]).astype(float)))
    return FNN(layers)


def _widths(rng, d_in=None, d_out=None, max_depth=3):
    L = int(rng.integers(1, max_depth + 1))
    w = [int(rng.integers(1, 5)) for _ in range(L + 1)]
    if d_in is not None:
        w[0] = d_in
    if d_out is not None:
        w[-1] = d_out
    return w


def check_rule(name: str, net: FNN, pred: rules.Prediction, value: np.ndarray, expected: np.ndarray) -> list[Check]:
    """Counts of ``net`` against the rule's prediction, and its values against the composed function (exact)."""
    measured = net.counts().as_dict()
    measured["widths"] = tuple(net.widths)
    predicted = pred.counts().as_dict()
    predicted["widths"] = pred.widths
    diff = float(np.max(np.abs(value - expected))) if value.shape == expected.shape else float("inf")
    return [counts_match(measured, predicted, f"{name}: counts = rule"),
            Check(f"{name}: function exact", diff == 0.0, diff, 0.0, {"n_points": int(value.shape[0])})]


def algebra_cases(rng: np.random.Generator):
    """Yield (name, built net, predicted counts, net(x), reference value) for one random draw of each rule."""
    x = rng.integers(-3, 4, size=(64, 3)).astype(float)
    g = integer_net(rng, _widths(rng, 3))
    f = integer_net(rng, _widths(rng, g.d_out))
    h = integer_net(rng, _widths(rng, 3))
    h2 = integer_net(rng, _widths(rng, 3, h.d_out))
    d, L = int(rng.integers(1, 5)), int(rng.integers(1, 6))
    xi = rng.integers(-5, 6, size=(64, d)).astype(float)
    yield "identity", algebra.identity(d, L), rules.identity(d, L), algebra.identity(d, L)(xi), xi
    yield "compose", algebra.compose(f, g), rules.compose(f, g), algebra.compose(f, g)(x), f(g(x))
    yield "concat", algebra.concat(f, g), rules.concat(f, g), algebra.concat(f, g)(x), f(g(x))
    Lp = g.depth + int(rng.integers(0, 3))
    yield "pad_depth", algebra.pad_depth(g, Lp), rules.pad_depth(g, Lp), algebra.pad_depth(g, Lp)(x), g(x)
    nets = [g, h, integer_net(rng, _widths(rng, 3))]
    P = algebra.parallel(*nets)
    yield "parallel", P, rules.parallel(nets), P(x), np.concatenate([n(x) for n in nets], axis=-1)
    xs = np.concatenate([x, x[:, :2]], axis=1)
    sep = [g, integer_net(rng, _widths(rng, 2))]
    Q = algebra.parallel(*sep, shared_input=False)
    yield ("parallel (separate inputs)", Q, rules.parallel(sep, shared_input=False), Q(xs),
           np.concatenate([g(x), sep[1](x[:, :2])], axis=-1))
    S = algebra.sum_nets(h, h2)
    M = np.hstack([np.eye(h.d_out)] * 2)
    yield "sum", S, rules.compose(algebra.affine(M), algebra.parallel(h, h2)), S(x), h(x) + h2(x)


def run_algebra(params: dict, rng: np.random.Generator) -> Result:
    checks: list[Check] = []
    for t in range(int(params["trials"])):
        for name, net, pred, val, ref in algebra_cases(rng):
            for c in check_rule(name, net, pred, val, ref):
                c.name = f"{c.name} (trial {t})"
                checks.append(c)
    return Result("algebra-counts", params, checks,
                  precision=("exact: small integer weights and inputs, so every float64 operation is exact "
                             "(difference 0); counts are integers"))


register(Claim(
    id="algebra-counts",
    paper_ref="Section 2 (i); Oko et al. 2023 Lemmas F.1-F.3",
    statement=("identity(d, L) has L maps, S = 2dL (L >= 2; S = d for L = 1), W = 2d, B = 1 and is exact; compose merges "
               "A_1^f A_L^g (depth L_f + L_g - 1); concat has depth L_f + L_g and S = S_f + S_g + S(last map of g) "
               "+ nnz(A_1^f); pad_depth adds S(last map) + 2 d_out (L - L_f); parallel pads to the largest depth and "
               "adds nonzeros and layer widths; every combinator computes exactly the composed function (checked on "
               "integer weights and inputs, where float64 arithmetic is exact)."),
    params={},
    switches={"trials": 10},
    sweep=({"trials": 200},),
    run=run_algebra,
    build=lambda p: next(c[1] for c in algebra_cases(np.random.default_rng(0)) if c[0] == "parallel"),
    growth="counting rules are exact identities",
    doc="docs/counting.md",
    param_types={"trials": int},
))
