"""verify.strategies: every draw satisfies the stated hypotheses in float64, the tight cases are drawn, bad
arguments raise ValueError, and a too-strong bound is caught on the drawn inputs (the strategies find it)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from lemmas import clip as lclip
from verify import strategies as vs

FAST = settings(derandomize=True, deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.integers(1, 4), st.data())
def test_points_in_box(d, data):
    lo, hi = data.draw(vs.boxes(d, -3.0, 5.0))
    assert lo.shape == hi.shape == (d,) and np.all(hi - lo >= 1e-3 - 1e-12) and np.all(lo >= -3) and np.all(hi <= 5)
    x = data.draw(vs.points_in_box(lo, hi))
    assert x.shape == (d,) and np.all(lo <= x) and np.all(x <= hi)


def test_points_in_box_draws_corners():
    corner = find(vs.points_in_box([0.0, -1.0], [1.0, 2.0]), lambda x: x[0] == 1.0 and x[1] == -1.0,
                  settings=settings(derandomize=True, database=None))
    assert corner.tolist() == [1.0, -1.0]


@FAST
@given(st.integers(1, 6), st.floats(0.1, 10.0), st.data())
def test_points_in_ball(d, R, data):
    x = data.draw(vs.points_in_ball(d, R))
    assert x.shape == (d,) and np.linalg.norm(x) <= R


def test_points_in_ball_draws_the_sphere():
    x = find(vs.points_in_ball(3, 2.0), lambda x: np.linalg.norm(x) >= 2.0 * (1 - 1e-12),
             settings=settings(derandomize=True, database=None))
    assert np.linalg.norm(x) <= 2.0


@FAST
@given(st.integers(1, 8), st.integers(1, 5), st.floats(1e-3, 1.9), st.integers(1, 3), st.data())
def test_kqv_satisfy_lemma_3_3_hypotheses(n, d, delta, d_v, data):
    x = data.draw(vs.key_query_value_sets(n, d, delta, d_v))
    assert x.K.shape == (n, d) and x.q.shape == (d,) and x.V.shape == (n, d_v)
    assert np.all(np.linalg.norm(x.K, axis=1) <= 1) and np.linalg.norm(x.q) <= 1 and np.all(np.abs(x.V) <= 1)
    s = x.K @ x.q
    if n > 1:
        assert int(np.argmax(s)) == x.i_star
        assert np.all(s[x.i_star] - np.delete(s, x.i_star) >= delta) and x.gap >= delta
    np.testing.assert_array_equal(x.target, x.V[x.i_star])


@FAST
@given(st.sampled_from([0.05, 0.5, 1.0, 1.9]), st.integers(2, 6), st.integers(1, 4), st.data())
def test_kqv_tight_cases_are_drawn(delta, n, d, data):
    """tight=True puts a competitor at the delta: the stored gap equals δ to a few ulps."""
    x = data.draw(vs.key_query_value_sets(n, d, delta, tight=True))
    assert delta <= x.gap <= delta + 1e-12


@FAST
@given(st.integers(1, 6), st.integers(1, 4), st.integers(4, 12), st.data())
def test_copying_sequences(vocab, lo, hi, data):
    ex = data.draw(vs.copying_sequences(vocab, lo, hi))
    f = ex.fmt
    assert ex.tokens[0] == f.BOS and ex.tokens[-1] == f.COPY and ex.tokens.dtype == np.int64
    np.testing.assert_array_equal(ex.tokens[1:-1], ex.target)
    assert lo <= len(ex.target) <= hi and np.all((0 <= ex.target) & (ex.target < vocab))
    if vocab >= lo:
        nr = data.draw(vs.copying_sequences(vocab, lo, hi, repeats=False))
        assert len(set(nr.target.tolist())) == len(nr.target)
    r = data.draw(vs.copying_sequences(vocab, lo, hi, repeats=True))
    assert len(set(r.target.tolist())) < len(r.target)


@FAST
@given(st.integers(2, 40), st.data())
def test_associative_recall_sequences(vocab, data):
    ex = data.draw(vs.associative_recall_sequences(vocab, 1, 10))
    t = ex.tokens
    keys, vals, q = t[0:-1:2], t[1:-1:2], t[-1]
    assert len(t) % 2 == 1 and len(set(keys.tolist())) == len(keys)
    assert np.all(keys < vocab // 2) and np.all((vals >= vocab // 2) & (vals < vocab))
    assert q in keys and ex.target.tolist() == [vals[keys.tolist().index(q)]]


@FAST
@given(st.data())
def test_fnn_perturbations_change_one_entry_and_break_exactness(data):
    c = lclip.build_clip(2, -0.5, 1.25)
    mutant, p = data.draw(vs.fnn_perturbations(c.net, 1e-3, 0.5))
    diffs = sum(int(np.count_nonzero(a[0] != b[0])) + int(np.count_nonzero(a[1] != b[1]))
                for a, b in zip(c.net.dense_maps(), mutant.dense_maps()))
    assert diffs == 1 and p.after == p.before * (1 + p.rel) and 1e-3 <= abs(p.rel) <= 0.5 * (1 + 1e-12)
    # clip is exact: any perturbed weight shows on a grid (the check an exact claim runs would fail)
    x = np.repeat(np.linspace(-3, 3, 601)[:, None], 2, axis=1)
    assert np.max(np.abs(mutant(x) - np.clip(x, -0.5, 1.25))) > 1e-6


@pytest.mark.parametrize("make", [
    lambda: vs.points_in_ball(0, 1.0), lambda: vs.points_in_ball(2, -1.0), lambda: vs.points_in_ball(2.5, 1.0),
    lambda: vs.key_query_value_sets(3, 2, 0.0), lambda: vs.key_query_value_sets(3, 2, 2.5),
    lambda: vs.key_query_value_sets(0, 2, 0.5), lambda: vs.copying_sequences(4, 5, 3),
    lambda: vs.copying_sequences(3, 5, 8, repeats=False), lambda: vs.associative_recall_sequences(1),
    lambda: vs.points_in_box([0.0, 1.0], [1.0, 0.0]), lambda: vs.fnn_perturbations("not a net"),
    lambda: vs.boxes(2, 1.0, 0.0),
])
def test_bad_arguments_raise(make):
    @settings(max_examples=1, derandomize=True, database=None)
    @given(make())
    def draw(x):
        pass

    with pytest.raises(ValueError):
        draw()


def test_docs_example_runs():
    """The example of docs/strategies.md, run as written: Lemma F.1's concentration holds on every draw of
    key_query_value_sets, and a bound too strong by e^{-λδ/2} is broken on a draw near the margin (the
    strategy reaches the configurations the bound is about)."""
    import pathlib
    import re

    src = (pathlib.Path(__file__).parents[2] / "docs" / "strategies.md").read_text()
    ns: dict = {}
    exec(re.search(r"```python\n(.*?)```", src, re.S).group(1), ns)
    ns["test_softmax_concentrates"]()
    ns["test_too_strong_bound_is_caught"]()
