"""Property tests of the FNN algebra: semantics of every combinator and its counting rule."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from constructions import algebra, rules
from constructions.affine import Affine
from constructions.fnn import FNN


def dense_ref(f: FNN, x):
    """Reference forward pass from the dense (A_i, b_i) list."""
    h = x
    maps = f.dense_maps()
    for i, (A, b) in enumerate(maps):
        h = h @ A.T + b
        if i < len(maps) - 1:
            h = np.maximum(h, 0)
    return h


@st.composite
def nets(draw, d_in=None, d_out=None, max_depth=4, integer=False):
    L = draw(st.integers(1, max_depth))
    w = [draw(st.integers(1, 5)) for _ in range(L + 1)]
    if d_in is not None:
        w[0] = d_in
    if d_out is not None:
        w[-1] = d_out
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    layers = []
    for i in range(1, L + 1):
        if integer:
            A = rng.integers(-2, 3, size=(w[i], w[i - 1])).astype(float)
            b = rng.integers(-2, 3, size=w[i]).astype(float)
        else:
            A = rng.normal(size=(w[i], w[i - 1])) * (rng.random((w[i], w[i - 1])) < 0.7)
            b = rng.normal(size=w[i]) * (rng.random(w[i]) < 0.7)
        layers.append(Affine.dense(A, b))
    return FNN(layers)


def points(d, n=32, seed=0, integer=False):
    rng = np.random.default_rng(seed)
    return rng.integers(-4, 5, size=(n, d)).astype(float) if integer else rng.normal(size=(n, d))


def assert_counts(net, pred):
    c, p = net.counts(), pred.counts()
    assert c == p, (c, p)
    assert tuple(net.widths) == pred.widths


@given(nets())
def test_forward_matches_dense_reference(f):
    x = points(f.d_in)
    np.testing.assert_allclose(f(x), dense_ref(f, x), rtol=1e-12, atol=1e-12)


@given(st.data())
def test_compose_and_concat_are_composition(data):
    g = data.draw(nets(integer=True))
    f = data.draw(nets(d_in=g.d_out, integer=True))
    x = points(g.d_in, integer=True)
    # integer weights and inputs: every float64 operation is exact, so equality is exact
    assert np.array_equal(algebra.compose(f, g)(x), f(g(x)))
    assert np.array_equal(algebra.concat(f, g)(x), f(g(x)))
    assert_counts(algebra.compose(f, g), rules.compose(f, g))
    assert_counts(algebra.concat(f, g), rules.concat(f, g))
    assert algebra.compose(f, g).depth == f.depth + g.depth - 1
    assert algebra.concat(f, g).depth == f.depth + g.depth


@given(st.data())
def test_compose_real_weights(data):
    g = data.draw(nets())
    f = data.draw(nets(d_in=g.d_out))
    x = points(g.d_in, seed=1)
    np.testing.assert_allclose(algebra.compose(f, g)(x), f(g(x)), rtol=1e-10, atol=1e-10)


@given(st.integers(1, 6), st.integers(1, 6))
def test_identity_exact_and_counted(d, L):
    I = algebra.identity(d, L)
    x = points(d, seed=d + L)
    assert np.array_equal(I(x), x)
    c = I.counts()
    assert (c.L, c.S, c.B) == (L, 2 * d * L if L > 1 else d, 1.0)
    assert c.W == (2 * d if L > 1 else d)
    assert_counts(I, rules.identity(d, L))


@given(nets(integer=True), st.integers(0, 3))
def test_pad_depth(f, extra):
    g = algebra.pad_depth(f, f.depth + extra)
    x = points(f.d_in, integer=True)
    assert np.array_equal(g(x), f(x))
    assert g.depth == f.depth + extra
    assert_counts(g, rules.pad_depth(f, f.depth + extra))


@given(st.data())
def test_parallel_shared_and_separate(data):
    k = data.draw(st.integers(1, 4))
    d = data.draw(st.integers(1, 4))
    fs = [data.draw(nets(d_in=d, integer=True)) for _ in range(k)]
    x = points(d, integer=True)
    P = algebra.parallel(*fs)
    assert np.array_equal(P(x), np.concatenate([f(x) for f in fs], axis=-1))
    assert_counts(P, rules.parallel(fs))
    gs = [data.draw(nets(integer=True)) for _ in range(k)]
    xs = [points(g.d_in, seed=i, integer=True) for i, g in enumerate(gs)]
    Q = algebra.parallel(*gs, shared_input=False)
    assert np.array_equal(Q(np.concatenate(xs, axis=-1)), np.concatenate([g(xi) for g, xi in zip(gs, xs)], axis=-1))
    assert_counts(Q, rules.parallel(gs, shared_input=False))


@given(st.data())
def test_sum_linear_scale(data):
    f = data.draw(nets(d_in=3, d_out=2, integer=True))
    g = data.draw(nets(d_in=3, d_out=2, integer=True))
    x = points(3, integer=True)
    assert np.array_equal(algebra.sum_nets(f, g)(x), f(x) + g(x))
    M = np.array([[1.0, -2.0], [0.0, 3.0], [2.0, 2.0]])
    assert np.array_equal(algebra.linear(f, M, np.array([1.0, 0.0, -1.0]))(x), f(x) @ M.T + [1.0, 0.0, -1.0])
    assert np.array_equal(algebra.scale(f, -2.0)(x), -2.0 * f(x))


def test_many_small_nets_keep_block_structure():
    rng = np.random.default_rng(0)
    fs = [FNN([Affine.dense(rng.normal(size=(4, 3)), rng.normal(size=4)), Affine.dense(rng.normal(size=(1, 4)))])
          for _ in range(300)]
    P = algebra.parallel(*fs)
    # one group of 300 blocks per layer instead of a 1200 x 1200 mostly-zero matrix
    assert [len(l.groups) for l in P.layers] == [1, 1]
    assert P.layers[0].groups[0].W.shape == (300, 4, 3)
    x = rng.normal(size=(50, 3))
    np.testing.assert_allclose(P(x), np.concatenate([f(x) for f in fs], -1), rtol=1e-13, atol=1e-13)
    assert P.counts().S == sum(f.counts().S for f in fs)


def test_token_wise_on_sequences():
    rng = np.random.default_rng(1)
    f = FNN([Affine.dense(rng.normal(size=(5, 3)), rng.normal(size=5)), Affine.dense(rng.normal(size=(2, 5)))])
    X = rng.normal(size=(4, 7, 3))
    np.testing.assert_allclose(f(X), np.stack([f(X[i]) for i in range(4)]), rtol=0, atol=0)


def test_coo_is_what_forward_uses():
    rng = np.random.default_rng(2)
    r = np.array([0, 0, 2, 5, 5, 5])
    c = np.array([1, 3, 0, 1, 2, 3])
    v = rng.normal(size=6)
    A = Affine.from_coo(r, c, v, (6, 4), rng.normal(size=6))
    D = np.zeros((6, 4))
    D[r, c] = v
    assert np.array_equal(A.to_dense(), D)
    x = rng.normal(size=(9, 4))
    np.testing.assert_allclose(A(x), x @ D.T + A.b, rtol=1e-14, atol=1e-14)
    assert A.nnz_A == 6


@pytest.mark.parametrize("bad", [
    lambda: Affine.dense(np.array([[1.0, np.nan]])),
    lambda: Affine.dense(np.ones((2, 2)), np.ones(3)),
    lambda: Affine.dense(np.ones(3)),
    lambda: FNN([Affine.dense(np.ones((2, 3))), Affine.dense(np.ones((2, 3)))]),
    lambda: FNN([]),
    lambda: algebra.identity(0, 2),
    lambda: algebra.identity(2, -1),
    lambda: algebra.compose(algebra.identity(3), algebra.identity(2)),
    lambda: algebra.parallel(algebra.identity(3), algebra.identity(2)),
    lambda: algebra.pad_depth(algebra.identity(2, 4), 2),
    lambda: algebra.linear(algebra.identity(2), np.ones((1, 3))),
    lambda: Affine.from_coo([0], [5], [1.0], (2, 2)),
])
def test_bad_construction_raises(bad):
    with pytest.raises(ValueError):
        bad()


@pytest.mark.parametrize("x", [np.ones((3, 4)), np.array([[1.0, np.nan, 0.0]]), np.array([[np.inf, 0.0, 0.0]]),
                               np.float64(1.0)])
def test_bad_input_raises(x):
    f = algebra.identity(3)
    with pytest.raises(ValueError):
        f(x)


def test_restrict_keeps_the_function_of_the_chosen_inputs_and_refuses_cross_reads():
    from constructions.algebra import restrict
    rng = np.random.default_rng(0)
    f = algebra.parallel(FNN([Affine.dense(rng.normal(size=(4, 1))), Affine.dense(rng.normal(size=(1, 4)))]),
                         FNN([Affine.dense(rng.normal(size=(3, 1))), Affine.dense(rng.normal(size=(1, 3)))]),
                         shared_input=False)
    X = rng.normal(size=(50, 2))
    for out, inp in ((0, 0), (1, 1)):
        g = restrict(f, [out], [inp])
        assert g.d_in == 1 and np.allclose(g(X[:, inp:inp + 1])[:, 0], f(X)[:, out], rtol=0, atol=1e-12)
        assert g.counts().S < f.counts().S
    with pytest.raises(ValueError):
        restrict(f, [0], [1])


# ------------------------------------------------------------------ the compiled plan (many tokens)
def per_layer(f: FNN, x):
    """The block-group path (``Affine.apply_T`` layer by layer), whatever the number of tokens."""
    import constructions.fnn as fnn_mod
    saved = fnn_mod._PLAN_MIN_TOKENS
    fnn_mod._PLAN_MIN_TOKENS = 1 << 62
    try:
        return f(x)
    finally:
        fnn_mod._PLAN_MIN_TOKENS = saved


def plan_ops(f: FNN) -> list[str]:
    from constructions.plan import Plan
    return [op[0] for _, ops in Plan(f.layers).steps for op in ops]


@given(nets(integer=True, max_depth=5))
def test_plan_is_exact_on_integer_nets(f):
    from constructions.fnn import _PLAN_MIN_TOKENS
    x = points(f.d_in, n=_PLAN_MIN_TOKENS + 3, integer=True)
    assert np.array_equal(f(x), dense_ref(f, x))


@st.composite
def patterned_nets(draw):
    """Sparse integer nets whose rows repeat a few weight patterns on shifted, repeated or scattered inputs, so
    the plan meets aligned slices, strided slices, gathers, bias-only rows and leftover rows."""
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    L = draw(st.integers(2, 5))
    w = [int(rng.integers(2, 30)) for _ in range(L + 1)]
    layers = []
    for i in range(1, L + 1):
        pats = [rng.integers(-2, 3, size=int(rng.integers(0, 4))) for _ in range(3)]
        rows, cols, vals, b = [], [], [], np.zeros(w[i])
        for r in range(w[i]):
            pat = pats[int(rng.integers(0, 3))]
            kind = int(rng.integers(0, 3))
            start = r if kind == 0 else (2 * r if kind == 1 else int(rng.integers(0, w[i - 1])))
            cs = sorted({(start + j) % w[i - 1] for j in range(len(pat))})
            rows += [r] * len(cs)
            cols += cs
            vals += [float(x) for x in pat[:len(cs)]]
            b[r] = float(rng.integers(-1, 2))
        layers.append(Affine.from_coo(rows, cols, vals, (w[i], w[i - 1]), b))
    return FNN(layers)


@given(patterned_nets())
def test_plan_is_exact_on_patterned_nets(f):
    from constructions.fnn import _PLAN_MIN_TOKENS
    x = points(f.d_in, n=_PLAN_MIN_TOKENS, integer=True)
    assert np.array_equal(f(x), dense_ref(f, x))
    assert np.array_equal(f(x), per_layer(f, x))


def test_plan_on_product_nets_groups_channels_and_agrees():
    """A sawtooth product tree (Lemma F.3): the plan turns its transitions into matrix products over all
    channels and agrees with the per-layer path up to float64 reassociation."""
    from lemmas.mult import build_prod
    f = build_prod(8, 1.0, 1e-9).net
    ops = plan_ops(f)
    assert ops.count("gemm") >= f.depth // 2, ops
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, size=(5000, 8))
    y, y0 = f(x), per_layer(f, x)
    np.testing.assert_allclose(y, y0, rtol=0, atol=1e-13)
    np.testing.assert_allclose(y[:, 0], np.prod(x, axis=1), rtol=0, atol=1e-8)


def test_plan_threads_give_the_same_numbers():
    from constructions import plan as plan_mod
    from lemmas.mult import build_prod
    f = build_prod(4, 1.0, 1e-8).net
    x = np.random.default_rng(5).uniform(-1, 1, size=(9000, 4))
    y1 = f(x)
    prev = plan_mod.set_plan_threads(3)
    try:
        y3 = f(x)
    finally:
        plan_mod.set_plan_threads(prev)
    assert np.array_equal(y1, y3)
    with pytest.raises(ValueError):
        plan_mod.set_plan_threads(0)
